"""POST /api/v1/events as a source system (or a person with curl) sees it."""

from __future__ import annotations

import copy
import json
import time

import httpx
import pytest
from contract_world import ALL
from fakesource import FakeClient

from lifecyclegraph import LifecycleGraph
from lifecyclegraph.core.config import Config
from lifecyclegraph.ingest import Journal
from lifecyclegraph.providers.sources import Sources
from lifecyclegraph.server.app import create_app
from lifecyclegraph.server.service import Service
from lifecyclegraph.server.serving import ServerThread

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def service(tmp_path):
    world = copy.deepcopy(ALL)
    config = Config.from_dict(
        {
            "sources": {p: {"url": f"http://{p}.test"} for p in world},
            "server": {"max_request_bytes": 200_000},
        }
    )
    sources = Sources(config, client_factory=lambda platform, _: FakeClient(world[platform]))
    return Service(config, LifecycleGraph.in_memory(), sources, Journal(tmp_path / "j.db"))


@pytest.fixture
def client(service):
    with (
        ServerThread(create_app(service, write_tokens=[TOKEN])) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        yield client


def test_one_event_is_accepted_with_202_and_processed(client, service):
    response = client.post(
        "/api/v1/events",
        headers=AUTH,
        json={"event_type": "model_created", "model_id": "ranking-model"},
    )
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "rejected": []}
    assert service.journal.stats()["events"] == 1


def test_array_with_a_bad_event_accepts_the_rest_and_names_the_bad_one(client, service):
    response = client.post(
        "/api/v1/events",
        headers=AUTH,
        json=[
            {"event_type": "model_created", "model_id": "ranking-model"},
            {"event_type": "model_created"},
        ],
    )
    assert response.status_code == 202
    assert response.json()["rejected"] == [
        {"index": 1, "reason": "missing id field 'model_id' for event type 'model_created'"}
    ]
    assert len(service.journal.dead_letters()) == 1


def test_json_lines_name_each_rejected_line_as_ingest_does(client, service):
    good = json.dumps({"event_type": "model_created", "model_id": "ranking-model"}).encode()
    body = b"\n".join([good, b"", b"{not json", b"\xff\xfe", good + b"\r"]) + b"\n"
    response = client.post(
        "/api/v1/events",
        params={"name": "events.jsonl", "first_line": 41},
        headers={**AUTH, "content-type": "application/x-ndjson"},
        content=body,
    )
    assert response.status_code == 202, response.text
    found = response.json()
    assert found["accepted"] == 2
    assert [(r["index"], r["line"]) for r in found["rejected"]] == [(1, 43), (2, 44)]
    reasons = sorted(letter.reason for letter in service.journal.dead_letters())
    assert [r.split(": ")[0] for r in reasons] == ["events.jsonl:43", "events.jsonl:44"]


def test_json_lines_all_rejected_is_400_listing_them(client):
    response = client.post(
        "/api/v1/events",
        headers={**AUTH, "content-type": "application/x-ndjson"},
        content=b"{not json\n",
    )
    assert response.status_code == 400
    assert [r["line"] for r in response.json()["rejected"]] == [1]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"{not json", 400, "not JSON"),
        (json.dumps({"event_type": "nope", "x": 1}).encode(), 400, "unknown event type 'nope'"),
        (json.dumps([{"event_type": "model_created"}]).encode(), 400, "missing id field"),
        (b"[" + b"1," * 150_000 + b"1]", 413, "limit"),
    ],
)
def test_bad_request_gets_a_problem_document(client, service, body, status, says):
    response = client.post(
        "/api/v1/events", headers={**AUTH, "content-type": "application/json"}, content=body
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and says in problem["detail"]
    if status == 400:
        assert service.journal.dead_letters(), "the bad input is kept as a dead letter"


def test_write_without_token_is_refused(client, service):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        response = client.post(
            "/api/v1/events", headers=headers, json={"event_type": "model_created", "model_id": "m"}
        )
        assert response.status_code == 401
        assert response.json()["title"] == "Unauthorized"
        assert TOKEN not in response.text
    assert service.journal.stats()["events"] == 0


def test_status_reports_queue_and_sources(client):
    client.post(
        "/api/v1/events",
        headers=AUTH,
        json={"event_type": "model_created", "model_id": "ranking-model"},
    )
    status = client.get("/api/v1/status").json()
    assert status["events"] == 1
    assert set(status["sources"]) >= {"registry", "identity"}


def test_status_says_how_far_the_search_index_is_behind_the_store(client, service):
    indexer = service.graph.search_index.indexer
    indexer.pause()  # the index holds its writes: what is stored is not searchable yet
    try:
        client.post(
            "/api/v1/events",
            headers=AUTH,
            json={"event_type": "model_created", "model_id": "ranking-model"},
        )
        deadline = time.monotonic() + 30
        while True:
            status = client.get("/api/v1/status").json()
            if status["queue_depth"] == 0 and status["events_pending"] == 0:
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.05)
        assert status["search"]["pending"] >= 1 and status["search"]["behind"] >= 1
    finally:
        indexer.resume()
    assert service.graph.search_index.flush(10)
    assert client.get("/api/v1/status").json()["search"] == {"pending": 0, "behind": 0}
    hits = client.get("/api/v1/search", params={"q": "ranking"}).json()
    assert hits["total"] >= 1


def test_status_says_when_the_rule_engine_stopped_and_why(tmp_path):
    world = copy.deepcopy(ALL)
    config = Config.from_dict({"sources": {p: {"url": f"http://{p}.test"} for p in world}})
    sources = Sources(config, client_factory=lambda platform, _: FakeClient(world[platform]))
    graph = LifecycleGraph.in_memory(rules=True)
    graph.rules.evaluator.limit = 1  # any new fact goes past it, as a store past its limit
    service = Service(config, graph, sources, Journal(tmp_path / "j.db"))
    with (
        ServerThread(create_app(service, write_tokens=[TOKEN])) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        held = graph.rules.evaluator.size()
        assert client.get("/api/v1/status").json()["rules"] == {
            "running": True,
            "error": None,
            "facts": held,
            "limit": 1,
        }
        events = [{"event_type": "model_created", "model_id": m} for m in world["registry"]]
        client.post("/api/v1/events", headers=AUTH, json=events)
        deadline = time.monotonic() + 60
        while not (rules := client.get("/api/v1/status").json()["rules"])["error"]:
            assert time.monotonic() < deadline, rules
            time.sleep(0.05)
        assert rules["running"] is False
        assert "would derive more than 1 facts (the configured limit)" in rules["error"]
