"""World changes emit the contract's thin events; seed events; sinks."""

from __future__ import annotations

import itertools
import json
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from lifecyclegraph.sandbox import World, run_in_thread
from lifecyclegraph.sandbox.events import HttpSink, JsonLinesSink, MemorySink, perturb

# The contract's event table, copied from the contract (not from the implementation).
CONTRACT = {
    **dict.fromkeys(
        ["model_created", "model_updated", "model_deleted"], ("registry", ["model_id"])
    ),
    **dict.fromkeys(
        [
            "model_instance_created",
            "model_instance_updated",
            "model_instance_deployed",
            "model_instance_deleted",
        ],
        ("registry", ["instance_id"]),
    ),
    **dict.fromkeys(
        ["pipeline_created", "pipeline_updated", "pipeline_deleted"], ("orchestrator", ["pipeline"])
    ),
    **dict.fromkeys(
        ["pipeline_run_started", "pipeline_run_completed", "pipeline_run_failed"],
        ("orchestrator", ["run_id"]),
    ),
    **dict.fromkeys(
        ["ab_test_created", "ab_test_updated", "ab_test_allocation_changed", "ab_test_deleted"],
        ("experimentation", ["test_id"]),
    ),
    **dict.fromkeys(
        ["feature_created", "feature_updated", "feature_deleted"], ("featurestore", ["feature_id"])
    ),
    **dict.fromkeys(
        ["dataset_created", "dataset_updated", "dataset_deleted"], ("datasets", ["dataset_id"])
    ),
    "dataset_version_created": ("datasets", ["dataset_id", "version"]),
    **dict.fromkeys(
        ["user_created", "user_updated", "user_deactivated"], ("identity", ["user_id"])
    ),
    **dict.fromkeys(
        ["team_created", "team_updated", "membership_changed"], ("identity", ["team_id"])
    ),
}
NOW = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)


def assert_contract_event(event: dict[str, Any]) -> None:
    source, fields = CONTRACT[event["event_type"]]
    assert list(event) == ["event_id", "event_type", "source", *fields, "emitted_at"]
    assert event["source"] == source
    assert uuid.UUID(event["event_id"]).version == 4
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["emitted_at"])
    assert all(isinstance(event[f], str) and event[f] for f in fields)


def summary(events: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    return [(e["event_type"], *(e[f] for f in CONTRACT[e["event_type"]][1])) for e in events]


def new_run(world: World) -> list[dict[str, Any]]:
    return world.create(
        "run",
        {
            "run_id": "daily-viewing-etl-20260103",
            "pipeline": "daily-viewing-etl",
            "status": "RUNNING",
        },
    )


# (change, the events it must emit)
CHANGES: dict[str, tuple[Callable[[World], Any], list[tuple[str, ...]]]] = {
    "model created": (
        lambda w: w.create("model", {"id": "watch-next", "name": "Watch next"}),
        [("model_created", "watch-next")],
    ),
    "model updated": (
        lambda w: w.update("model", "search-ranker", {"description": "Ranks search results."}),
        [("model_updated", "search-ranker")],
    ),
    "model deleted with its instances": (
        lambda w: w.delete("model", "churn-predictor"),
        [
            ("model_instance_deleted", "churn-predictor-v1-20251211"),
            ("model_instance_deleted", "churn-predictor-v2-20251230"),
            ("model_deleted", "churn-predictor"),
        ],
    ),
    "instance created": (
        lambda w: w.create(
            "instance", {"id": "churn-predictor-v3", "model_id": "churn-predictor", "version": "3"}
        ),
        [("model_instance_created", "churn-predictor-v3")],
    ),
    "instance promoted": (
        lambda w: w.update("instance", "churn-predictor-v2-20251230", {"state": "RETIRED"}),
        [("model_instance_updated", "churn-predictor-v2-20251230")],
    ),
    "instance deployed": (
        lambda w: w.deploy("search-ranker-v3-20251229", "canary", "us-east-1"),
        [("model_instance_deployed", "search-ranker-v3-20251229")],
    ),
    "current instance deleted": (
        lambda w: w.delete("instance", "search-ranker-v2-20251215"),
        [
            ("model_instance_deleted", "search-ranker-v2-20251215"),
            ("model_updated", "search-ranker"),
        ],
    ),
    "current instance changed": (
        lambda w: w.update(
            "model", "churn-predictor", {"current_instance_id": "churn-predictor-v2-20251230"}
        ),
        [("model_updated", "churn-predictor")],
    ),
    "pipeline created": (
        lambda w: w.create("pipeline", {"name": "watch-next-trainer"}),
        [("pipeline_created", "watch-next-trainer")],
    ),
    "pipeline updated": (
        lambda w: w.update(
            "pipeline",
            "churn-model-trainer",
            {"schedule": {"cron": "0 9 * * MON", "timezone": "UTC"}},
        ),
        [("pipeline_updated", "churn-model-trainer")],
    ),
    "pipeline deleted": (
        lambda w: w.delete("pipeline", "churn-model-trainer"),
        [("pipeline_deleted", "churn-model-trainer")],
    ),
    "run started": (new_run, [("pipeline_run_started", "daily-viewing-etl-20260103")]),
    "run completed with an output": (
        lambda w: w.finish_run(
            "daily-viewing-etl-20260102",
            "SUCCEEDED",
            outputs=[{"dataset_id": "viewing-history", "version": "2026-01-02"}],
        ),
        [
            ("dataset_updated", "viewing-history"),
            ("pipeline_run_completed", "daily-viewing-etl-20260102"),
            ("dataset_version_created", "viewing-history", "2026-01-02"),
        ],
    ),
    "run failed": (
        lambda w: w.finish_run("daily-viewing-etl-20260102", "FAILED"),
        [("pipeline_run_failed", "daily-viewing-etl-20260102")],
    ),
    "test created": (
        lambda w: w.create(
            "test",
            {
                "test_id": "12500",
                "title": "Churn nudges",
                "cells": [{"cell_number": 1, "name": "control", "allocation_pct": 100}],
            },
        ),
        [("ab_test_created", "12500")],
    ),
    "test updated": (
        lambda w: w.update("test", "12400", {"status": "ACTIVE"}),
        [("ab_test_updated", "12400")],
    ),
    "allocation changed": (
        lambda w: w.set_allocation("12400", {1: 50, 2: 50}),
        [("ab_test_allocation_changed", "12400")],
    ),
    "test deleted": (lambda w: w.delete("test", "12400"), [("ab_test_deleted", "12400")]),
    "feature created": (
        lambda w: w.create(
            "feature", {"id": "plays-1d", "name": "plays_1d", "value_type": "INT", "version": "1"}
        ),
        [("feature_created", "plays-1d")],
    ),
    "feature updated": (
        lambda w: w.update("feature", "watch-time-7d", {"version": "4"}),
        [("feature_updated", "watch-time-7d")],
    ),
    "feature deleted": (
        lambda w: w.delete("feature", "member-country"),
        [("feature_deleted", "member-country")],
    ),
    "dataset created": (
        lambda w: w.create("dataset", {"id": "trailer-plays", "name": "trailer_plays"}),
        [("dataset_created", "trailer-plays")],
    ),
    "dataset updated": (
        lambda w: w.update("dataset", "impressions", {"description": "Impressions."}),
        [("dataset_updated", "impressions")],
    ),
    "dataset deleted with its versions": (
        lambda w: w.delete("dataset", "catalog-metadata-legacy-export"),
        [("dataset_deleted", "catalog-metadata-legacy-export")],
    ),
    "dataset version created": (
        lambda w: w.create(
            "dataset_version", {"dataset_id": "impressions", "version": "2026-01-02"}
        ),
        [
            ("dataset_updated", "impressions"),
            ("dataset_version_created", "impressions", "2026-01-02"),
        ],
    ),
    "user created in a team": (
        lambda w: w.create(
            "user",
            {
                "id": "grace",
                "email": "grace@example.com",
                "display_name": "Grace Hopper",
                "teams": ["ml-platform"],
            },
        ),
        [("membership_changed", "ml-platform"), ("user_created", "grace")],
    ),
    "user updated": (
        lambda w: w.update("user", "bob", {"display_name": "Robert Tanaka"}),
        [("user_updated", "bob")],
    ),
    "user deactivated": (lambda w: w.deactivate_user("frank"), [("user_deactivated", "frank")]),
    "team created": (
        lambda w: w.create(
            "team", {"id": "growth", "name": "Growth", "parent_team": "ml-platform"}
        ),
        [("team_created", "growth")],
    ),
    "team updated": (
        lambda w: w.update("team", "search-discovery", {"name": "Search"}),
        [("team_updated", "search-discovery")],
    ),
    "membership changed": (
        lambda w: w.set_members("data-engineering", ["erin"]),
        [("membership_changed", "data-engineering"), ("user_updated", "frank")],
    ),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_world_change_emits_the_contract_events(name):
    change, expected = CHANGES[name]
    world = World.load(clock=lambda: NOW)
    sink = MemorySink()
    world.subscribe(sink.send)
    returned = change(world)
    assert summary(returned) == expected
    assert sink.events == returned
    for event in returned:
        assert_contract_event(event)
        assert event["emitted_at"] == "2026-01-02T09:30:00Z"


def test_every_event_type_of_the_contract_is_emitted_by_some_change():
    emitted = set()
    for change, _ in CHANGES.values():
        emitted |= {e["event_type"] for e in change(World.load())}
    assert emitted == set(CONTRACT)


def test_change_with_emit_false_returns_events_but_sends_none():
    world = World.load()
    sink = MemorySink()
    world.subscribe(sink.send)
    events = world.update("model", "ranking-model", {"description": "x"}, emit=False)
    assert summary(events) == [("model_updated", "ranking-model")]
    assert sink.events == []


def test_changed_model_gets_a_new_updated_at():
    world = World.load(clock=lambda: NOW)
    world.update("model", "ranking-model", {"description": "x"})
    assert world.get("model", "ranking-model")["updated_at"] == "2026-01-02T09:30:00Z"


def test_change_that_changes_nothing_emits_nothing():
    world = World.load()
    assert world.deactivate_user("heidi") == []  # already inactive
    assert world.update("model", "ranking-model", {"name": "Ranking model"}) == []


def test_silent_deletions_have_no_contract_event():
    world = World.load()
    assert world.delete("run", "churn-model-trainer-20251220") == []
    assert world.get("run", "churn-model-trainer-20251220") is None


def test_seed_events_cover_every_object_once():
    world = World.load()
    events = world.seed_events(seed=1, emitted_at="2026-01-02T00:00:00Z")
    for event in events:
        assert_contract_event(event)
    counts = world.counts()
    assert len(events) == sum(counts.values())
    by_kind = Counter(CONTRACT[e["event_type"]][1][0] for e in events)
    assert by_kind["model_id"] == counts["model"]
    assert by_kind["instance_id"] == counts["instance"]
    assert by_kind["run_id"] == counts["run"]
    assert by_kind["user_id"] == counts["user"]
    assert by_kind["team_id"] == counts["team"]
    versions = {
        (e["dataset_id"], e["version"])
        for e in events
        if e["event_type"] == "dataset_version_created"
    }
    assert versions == set(world.keys("dataset_version"))
    ids = {e.get("model_id") or e.get("instance_id") for e in events if e["source"] == "registry"}
    assert ids == set(world.keys("model")) | set(world.keys("instance"))
    assert len({e["event_id"] for e in events}) == len(events)


def test_seed_events_of_runs_follow_their_status():
    events = World.load().seed_events()
    types = {e["run_id"]: e["event_type"] for e in events if "run_id" in e}
    assert types["train-weekly-ranking-20XX0101"] == "pipeline_run_completed"
    assert types["train-weekly-ranking-20XX1218"] == "pipeline_run_failed"
    assert types["daily-viewing-etl-20260102"] == "pipeline_run_started"


def test_seed_events_are_reproducible_with_a_seed():
    world = World.load()
    first = world.seed_events(seed=5, emitted_at="2026-01-02T00:00:00Z")
    assert first == world.seed_events(seed=5, emitted_at="2026-01-02T00:00:00Z")
    assert first != world.seed_events(seed=6, emitted_at="2026-01-02T00:00:00Z")


@pytest.mark.parametrize(
    "options",
    [
        {"shuffle": True},
        {"duplicate": 0.3},
        {"drop": 0.3},
        {"delay": 0.3},
        {"shuffle": True, "duplicate": 0.2, "drop": 0.2},
    ],
)
def test_perturbed_seed_events_are_reproducible_with_a_seed(options):
    events = World.load().seed_events(seed=3, emitted_at="2026-01-02T00:00:00Z")
    first = perturb(events, seed=11, **options)
    assert first == perturb(events, seed=11, **options)
    assert first != perturb(events, seed=12, **options)
    assert first != events


def test_shuffle_keeps_every_event_once():
    events = World.load().seed_events()
    shuffled = perturb(events, seed=2, shuffle=True)
    assert sorted(e["event_id"] for e in shuffled) == sorted(e["event_id"] for e in events)
    assert shuffled != events


def test_duplicates_repeat_the_same_event_later():
    events = World.load().seed_events()
    delivered = perturb(events, seed=2, duplicate=0.25)
    ids = [e["event_id"] for e in delivered]
    twice = [i for i, n in Counter(ids).items() if n == 2]
    assert 0.15 * len(events) < len(twice) < 0.35 * len(events)
    assert set(ids) == {e["event_id"] for e in events}
    # the original delivery stays in its place, in emission order
    assert [i for n, i in enumerate(ids) if i not in ids[:n]] == [e["event_id"] for e in events]


def test_drop_loses_about_that_fraction():
    events = World.load().seed_events()
    delivered = perturb(events, seed=4, drop=0.2)
    assert 0.7 * len(events) < len(delivered) < 0.9 * len(events)
    original = [e["event_id"] for e in events]
    assert [e["event_id"] for e in delivered] == [
        i for i in original if i in {e["event_id"] for e in delivered}
    ]


def test_delay_moves_events_after_later_ones():
    events = World.load().seed_events()
    delivered = perturb(events, seed=4, delay=0.2)
    order = {e["event_id"]: n for n, e in enumerate(events)}
    late = sum(
        1 for a, b in itertools.pairwise(delivered) if order[a["event_id"]] > order[b["event_id"]]
    )
    assert late > 0
    assert sorted(order[e["event_id"]] for e in delivered) == list(range(len(events)))


def test_perturb_rejects_a_fraction_out_of_range():
    with pytest.raises(ValueError, match="drop must be a fraction"):
        perturb([], drop=1.5)


def test_json_lines_sink_appends_one_event_a_line(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path)
    world = World.load()
    world.subscribe(sink.send)
    world.deploy("search-ranker-v3-20251229", "canary", "us-east-1")
    world.deactivate_user("erin")
    sink.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert summary(lines) == [
        ("model_instance_deployed", "search-ranker-v3-20251229"),
        ("user_deactivated", "erin"),
    ]


def test_http_sink_retries_429_and_5xx_then_delivers_in_order():
    answers = iter([503, 429, 200, 200])
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status == 200:
            seen.append(json.loads(request.content))
        return httpx.Response(status, headers={"Retry-After": "0"} if status == 429 else {})

    sink = HttpSink(
        "http://lifecyclegraph.test/api/v1/events",
        backoff=0.01,
        transport=httpx.MockTransport(handler),
    )
    sink.send({"event_type": "model_created", "model_id": "a"})
    sink.send({"event_type": "model_created", "model_id": "b"})
    assert sink.flush(5)
    sink.close()
    assert [e["model_id"] for e in seen] == ["a", "b"]
    assert (sink.delivered, sink.failed) == (2, 0)


def test_http_sink_gives_up_on_a_rejection_without_retrying():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(400, json={"detail": "unknown event type"})

    sink = HttpSink(
        "http://lifecyclegraph.test/api/v1/events",
        backoff=0.01,
        transport=httpx.MockTransport(handler),
    )
    sink.send({"event_type": "nope"})
    sink.close()
    assert (len(calls), sink.delivered, sink.failed) == (1, 0, 1)


def test_http_sink_gives_up_after_its_retries():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500)

    sink = HttpSink(
        "http://lifecyclegraph.test/api/v1/events",
        retries=2,
        backoff=0.01,
        transport=httpx.MockTransport(handler),
    )
    sink.send({"event_type": "model_created", "model_id": "a"})
    sink.close()
    assert (len(calls), sink.failed) == (3, 1)


class Receiver:
    """A tiny HTTP endpoint that records POSTed events; its first answer is a 503."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.first = True
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = 503 if receiver.first else 202
                receiver.first = False
                if status == 202:
                    receiver.events.append(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def test_sandbox_posts_events_to_a_url_over_real_http(receiver):
    sandbox = run_in_thread(events_to=receiver.url)
    try:
        with httpx.Client(base_url=sandbox.url) as client:
            response = client.post("/_sandbox/actions/deactivate", json={"user_id": "erin"})
            assert response.status_code == 200
        sandbox.world.create(
            "feature", {"id": "plays-1d", "name": "plays_1d", "value_type": "INT", "version": "1"}
        )
    finally:
        sandbox.stop()  # delivers what is queued, then closes the sink
    assert summary(receiver.events) == [
        ("user_deactivated", "erin"),
        ("feature_created", "plays-1d"),
    ]


def test_sandbox_appends_events_to_a_file(tmp_path):
    path = tmp_path / "events.jsonl"
    with run_in_thread(events_to=str(path)) as sandbox:
        sandbox.world.set_allocation("12345", {1: 10, 2: 90})
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert summary(lines) == [("ab_test_allocation_changed", "12345")]


def test_control_changes_emit_events_and_record_them(sandbox, client):
    created = client.post(
        "/_sandbox/world/instances",
        json={"id": "churn-predictor-v3", "model_id": "churn-predictor", "version": "3"},
    )
    assert created.status_code == 201
    patched = client.patch(
        "/_sandbox/world/models/churn-predictor", json={"current_instance_id": "churn-predictor-v3"}
    )
    deployed = client.post(
        "/_sandbox/actions/deploy",
        json={"instance_id": "churn-predictor-v3", "env": "production", "region": "us-east-1"},
    )
    members = client.post(
        "/_sandbox/actions/members", json={"team_id": "ml-platform", "members": ["carol"]}
    )
    finished = client.post(
        "/_sandbox/actions/finish-run",
        json={"run_id": "daily-viewing-etl-20260102", "status": "FAILED"},
    )
    deleted = client.delete("/_sandbox/world/versions/viewing-history/2025-12-11")
    replaced = client.put(
        "/_sandbox/world/teams/growth", json={"id": "growth", "name": "Growth", "members": []}
    )
    silent = client.patch(
        "/_sandbox/world/datasets/impressions?emit=false", json={"description": "Shown titles."}
    )
    assert [
        summary(r.json()["events"])
        for r in (created, patched, deployed, members, finished, deleted, replaced, silent)
    ] == [
        [("model_instance_created", "churn-predictor-v3")],
        [("model_updated", "churn-predictor")],
        [
            ("model_instance_deployed", "churn-predictor-v3"),
            ("model_instance_updated", "churn-predictor-v3"),
        ],  # STAGED -> LAUNCHED
        [("membership_changed", "ml-platform"), ("user_updated", "dave")],
        [("pipeline_run_failed", "daily-viewing-etl-20260102")],
        [],
        [("team_created", "growth")],
        [("dataset_updated", "impressions")],
    ]
    recorded = client.get("/_sandbox/events").json()["events"]
    assert len(recorded) == 8  # everything but the silent change
    assert sandbox.world.get("model", "churn-predictor")["current_instance_id"] == (
        "churn-predictor-v3"
    )


def test_control_change_errors_are_problems(sandbox, client):
    duplicate = client.post("/_sandbox/world/models", json={"id": "ranking-model", "name": "x"})
    unknown = client.patch("/_sandbox/world/models/no-such-model", json={"name": "x"})
    invalid = client.post(
        "/_sandbox/world/instances",
        json={"id": "x", "model_id": "ranking-model", "version": "1", "state": "LIVE"},
    )
    typo = client.post("/_sandbox/world/modles", json={"id": "x", "name": "x"})
    mismatch = client.put(
        "/_sandbox/world/teams/growth", json={"id": "other", "name": "x", "members": []}
    )
    not_json = client.post("/_sandbox/world/models", content=b"{nope")
    assert [r.status_code for r in (duplicate, unknown, invalid, typo, mismatch, not_json)] == [
        409,
        404,
        400,
        400,
        400,
        400,
    ]
    assert "did you mean 'models'?" in typo.json()["detail"]
    assert client.get("/_sandbox/events").json()["events"] == []


def test_control_seed_events_publish_to_the_sinks(sandbox, client):
    body = {"seed": 9, "shuffle": True, "drop": 0.1, "emitted_at": "2026-01-02T00:00:00Z"}
    first = client.post("/_sandbox/events/seed", json=body).json()
    client.delete("/_sandbox/events")
    second = client.post("/_sandbox/events/seed", json=body).json()
    assert first == second
    assert first["published"] == len(first["events"]) < sum(sandbox.world.counts().values())
    assert client.get("/_sandbox/events").json()["events"] == second["events"]


def test_server_emits_seed_events_to_its_sinks(tmp_path):
    path = tmp_path / "seed.jsonl"
    with run_in_thread(events_to=str(path)) as sandbox:
        sent = sandbox.emit_seed_events(seed=4, shuffle=True, duplicate=0.1)
        assert sandbox.events.events == sent
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == sent
    assert {e["event_id"] for e in sent} == {
        e["event_id"] for e in World.load().seed_events(seed=4)
    }
