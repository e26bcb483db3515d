"""Forwarding in a cluster (``[cluster]``, docs/scale-out.md), over real HTTP between
two real services and the sandbox: work and stubs of another worker's entities go to
it through ``POST /api/v1/cluster/work``; they are done here only once it took them; a
worker that is down keeps them pending, without a failed attempt, until it is back;
the route refuses what is not work from a peer, saying what and where."""

from __future__ import annotations

import copy
import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecyclegraph import HydrationState, LifecycleGraph
from lifecyclegraph.core.cluster import Partition
from lifecyclegraph.core.config import Config
from lifecyclegraph.ingest import Journal
from lifecyclegraph.sandbox.server import run_in_thread
from lifecyclegraph.sandbox.world import SYSTEMS
from lifecyclegraph.server.app import create_app
from lifecyclegraph.server.service import Service
from lifecyclegraph.server.serving import ServerThread

TOKEN = "cluster-s3cret"
WRITE = "write-t0ken"
WORK = "/api/v1/cluster/work"
AUTH = {"Authorization": f"Bearer {WRITE}"}


@pytest.fixture(scope="module")
def sandbox():
    with run_in_thread() as running:
        yield running


def _config(sandbox, cluster: dict | None, lineage: bool = False, **ingest) -> Config:
    table = {
        "ingest": {"reconcile_interval": 0, "enrich_interval": 0, **ingest},
        "server": {"query_workers": 1, "write_tokens": [WRITE]},
        "sources": {system: {"url": sandbox.base_url(system)} for system in SYSTEMS},
    }
    if lineage:  # a pushed source beside the sandbox's
        table["sources"]["openlineage"] = {}
    if cluster is not None:
        # the graph is handed in (in memory, one each): the remote store is not opened
        table |= {"store": {"url": "http://127.0.0.1:9"}, "cluster": cluster}
    return Config.from_dict(table)


def _service(
    sandbox, tmp_path, cluster: dict | None = None, lineage: bool = False, **ingest
) -> Service:
    journal = Journal(tmp_path / f"journal-{uuid.uuid4().hex[:6]}.db")
    graph = LifecycleGraph.in_memory(rules=False)
    return Service(_config(sandbox, cluster, lineage, **ingest), graph, journal=journal)


class Pair:
    """Two workers of one cluster, each an app on its own port (B bound but not yet
    listening: connections to it are refused until :meth:`start_b`)."""

    def __init__(self, sandbox, tmp_path, lineage: bool = False, **ingest) -> None:
        self.threads: list[ServerThread] = []
        placeholders = [ServerThread(create_app(_idle(sandbox, tmp_path))) for _ in range(2)]
        peers = [t.url for t in placeholders]
        for t in placeholders:
            t.socket.close()
        self.services = [
            _service(
                sandbox, tmp_path, {"peers": peers, "me": me, "token": TOKEN}, lineage, **ingest
            )
            for me in range(2)
        ]
        self.threads = [
            ServerThread(create_app(service), port=int(url.rpartition(":")[2]))
            for service, url in zip(self.services, peers, strict=True)
        ]
        self.urls = peers

    def start_a(self) -> None:
        self.threads[0].start()

    def start_b(self) -> None:
        self.threads[1].start()

    def stop(self) -> None:
        for thread in self.threads:
            if thread.thread.is_alive():
                thread.stop()
            else:
                thread.socket.close()


def _idle(sandbox, tmp_path) -> Service:
    return _service(sandbox, tmp_path)


def _graph(service: Service) -> set[tuple[str, str, str]]:
    """Every entity's state and current facts (what a user would query)."""
    graph = service.graph
    facts = set()
    for uri in graph.entities():
        state = graph.store.state(uri)
        facts.add((uri, "state", state.state.value))
        if state.state is HydrationState.DELETED:
            continue
        for p, o in graph.store.snapshot_pairs(state.current_snapshot):
            facts.add((uri, p.value, str(o)))
    return facts


def _quiet(services: list[Service], timeout: float = 120.0) -> None:
    """Wait until no worker has queued work, twice in a row half a second apart."""
    deadline = time.monotonic() + timeout
    calm = 0
    while calm < 2:
        assert time.monotonic() < deadline, [s.journal.stats() for s in services]
        busy = sum(s.journal.stats()["queue_depth"] for s in services)
        calm = calm + 1 if busy == 0 else 0
        time.sleep(0.5)


def _events(sandbox) -> list[dict]:
    return sandbox.world.seed_events(seed=3, emitted_at="2026-01-02T00:00:00Z")


@pytest.mark.slow
@pytest.mark.parametrize("hydration_process", [False, True], ids=["in-loop", "child-process"])
def test_two_workers_write_their_own_partitions_and_together_the_whole_graph(
    sandbox, tmp_path, hydration_process
):
    events = _events(sandbox)
    alone = _service(sandbox, tmp_path)
    with ServerThread(create_app(alone)):
        alone.submit_events(events)
        _quiet([alone])
        expected = _graph(alone)
    pair = Pair(sandbox, tmp_path, hydration_process=hydration_process)
    try:
        pair.start_a()
        pair.start_b()
        a, b = pair.services
        # every event arrives at A: the half B owns is forwarded to it
        response = httpx.post(
            pair.urls[0] + "/api/v1/events",
            json=events,
            headers={"Authorization": f"Bearer {WRITE}"},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        _quiet(pair.services)
        graphs = [_graph(a), _graph(b)]
        # each has its own graph here (one remote store in production): a part's stub
        # is recorded by the owner of the part's URI, the part itself by the owner of
        # its root, who writes over the stub in a shared store
        both = {f[0] for f in graphs[0]} & {f[0] for f in graphs[1]}
        for uri in both:
            stubs = [g for g in graphs if (uri, "state", "referenced") in g]
            parts = [pair.services[n].graph.state(uri) for n in range(2)]
            assert len(stubs) == 1 and any(p.part_of for p in parts), uri
            stubs[0] -= {f for f in stubs[0] if f[0] == uri}
        assert graphs[0] | graphs[1] == expected
        partition = Partition(2, 0)
        for me, graph in enumerate(graphs):
            roots = {
                uri
                for uri in {f[0] for f in graph}
                if pair.services[me].graph.state(uri).part_of is None
            }
            wrong = {
                uri: pair.services[me].graph.state(uri).state.value
                for uri in roots
                if partition.owner(uri) != me
            }
            assert roots and not wrong, wrong
        status = httpx.get(pair.urls[0] + "/api/v1/status", timeout=10).json()["cluster"]
        assert status["me"] == 0 and status["size"] == 2
        assert status["forwarded"] > 0 and status["peers"][1]["failures"] == 0
        assert (
            httpx.get(pair.urls[1] + "/api/v1/status", timeout=10).json()["cluster"]["received"]
            == status["forwarded"]
        )
    finally:
        pair.stop()


@pytest.mark.slow
def test_work_for_a_worker_that_is_down_waits_without_failing_and_goes_when_it_is_back(
    sandbox, tmp_path
):
    events = _events(sandbox)
    pair = Pair(sandbox, tmp_path)
    try:
        pair.start_a()  # B is down: its port refuses connections
        a, b = pair.services
        a.submit_events(events)
        owned_by_b = {e for e in a.journal.due(10_000) if Partition(2, 0).owner(e.uri) == 1}
        assert owned_by_b
        deadline = time.monotonic() + 60
        while True:  # A's own work done; B's waiting, forwarded in vain at least twice
            waiting = a.journal.due(10_000, now=time.time() + 3600)
            failures = a.cluster_status()["peers"][1]["failures"]
            uris = {w.uri for w in waiting}
            if (
                failures >= 2
                and uris >= {w.uri for w in owned_by_b}
                and all(Partition(2, 0).owner(uri) == 1 for uri in uris)
            ):
                break
            assert time.monotonic() < deadline, (failures, len(waiting))
            time.sleep(0.2)
        assert all(w.attempts == 0 for w in waiting)  # not a failed attempt
        assert a.journal.dead_letters() == []
        assert "ConnectError" in a.cluster_status()["peers"][1]["last_error"]
        pair.start_b()
        _quiet(pair.services)
        assert b.cluster_status()["received"] >= len(owned_by_b)
        hydrated = {u for u in b.graph.entities()}
        assert {w.uri for w in owned_by_b} <= hydrated
        assert a.journal.dead_letters() == [] and b.journal.dead_letters() == []
    finally:
        pair.stop()


SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "openlineage"


def _run_events(jobs: int = 6) -> list[dict]:
    """START and COMPLETE of one run of each of ``jobs`` jobs (the recorded samples,
    renamed): each reads the shared training set and a file of its own, and writes a
    model version of its own, so that the objects of both workers' partitions have
    documents, and the shared one documents from every run."""
    start, complete = (
        json.loads((SAMPLES / f"runevent-{name}.json").read_text())
        for name in ("start", "complete")
    )
    events = []
    for n in range(jobs):
        run_id = str(uuid.UUID(int=n + 1, version=4))
        for sample in (start, complete):
            event = copy.deepcopy(sample)
            event["run"]["runId"] = run_id
            event["job"]["name"] = f"train_{n}"
            event["inputs"].append({"namespace": "s3://bucket", "name": f"data/part-{n}.parquet"})
            for output in event["outputs"]:
                output["name"] = f"models/rc-iris-classifier/{n}"
            events.append(event)
    return events


@pytest.mark.slow
@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is missing")
def test_a_pushed_sources_documents_go_with_its_work_to_the_owner(sandbox, tmp_path):
    events = _run_events()
    alone = _service(sandbox, tmp_path, lineage=True)
    with ServerThread(create_app(alone)) as server:
        answer = httpx.post(f"{server.url}/api/v1/lineage", json=events, headers=AUTH)
        assert answer.status_code == 202, answer.text
        _quiet([alone])
        expected = _graph(alone)
        lineage = {f[0] for f in expected if "/openlineage/" in f[0]}
        documents = {uri: sorted(alone.journal.payloads(uri)) for uri in lineage}
    partition = Partition(2, 0)
    assert sum(map(bool, documents.values())) > 4
    assert {partition.owner(uri) for uri in lineage} == {0, 1}
    pair = Pair(sandbox, tmp_path, lineage=True)
    try:
        pair.start_a()
        pair.start_b()
        a, b = pair.services
        # every run event arrives at A, twice (a sender's retry): B's objects go to B
        for _ in range(2):
            answer = httpx.post(pair.urls[0] + "/api/v1/lineage", json=events, headers=AUTH)
            assert answer.status_code == 202, answer.text
        _quiet(pair.services)
        graphs = [_graph(a), _graph(b)]
        for me, graph in enumerate(graphs):  # a part is written by its root's owner
            state = pair.services[me].graph.state
            written = {
                f[0]
                for f in graph
                if f[1:] != ("state", "referenced") and state(f[0]).part_of is None
            }
            wrong = sorted(uri for uri in written if partition.owner(uri) != me)
            assert written and not wrong, (me, wrong)
        referenced = {f for g in graphs for f in g if f[1:] == ("state", "referenced")}
        written = (graphs[0] | graphs[1]) - referenced
        assert written == {f for f in expected if f[1:] != ("state", "referenced")}
        # the owner holds every document of its objects; B each once, though A (which
        # keeps what it received) sent them twice
        for uri in lineage:
            held = sorted(pair.services[partition.owner(uri)].journal.payloads(uri))
            assert (held if partition.owner(uri) else sorted(set(held))) == documents[uri], uri
        assert a.journal.dead_letters() == [] and b.journal.dead_letters() == []
    finally:
        pair.stop()


@pytest.fixture(scope="module")
def worker(sandbox, tmp_path_factory):
    """Worker 1 of two, serving (worker 0 is never started: nothing is sent to it)."""
    tmp_path = tmp_path_factory.mktemp("worker")
    pair = Pair(sandbox, tmp_path, lineage=True)
    pair.start_b()
    with httpx.Client(base_url=pair.urls[1], timeout=30) as client:
        yield client, pair.services[1]
    pair.stop()


def _mine(n: int, me: int = 1) -> list[str]:
    found = []
    for i in range(10_000):
        uri = f"aip://model/registry/m{i}"
        if Partition(2, 0).owner(uri) == me:
            found.append(uri)
            if len(found) == n:
                return found
    raise AssertionError


def _post(client, body, token=TOKEN, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(WORK, json=body, headers=headers, **kw)


def test_forwarded_work_is_queued_by_its_owner(worker):
    client, service = worker
    uri = _mine(1)[0]
    item = {"uri": uri, "hint": None, "reason": "event", "not_before": 5.0, "event_id": "e9"}
    response = _post(client, [item])
    assert response.status_code == 202, response.text
    assert response.json() == {"taken": 1}
    queued = service.journal.due(100, now=time.time() + 3600)
    assert any(w.uri == uri and w.last_event_id == "e9" for w in queued)


@pytest.mark.parametrize(
    ("token", "error"), [(None, None), (WRITE, "invalid_token"), ("nope", "invalid_token")]
)
def test_only_the_cluster_token_may_send_work(worker, token, error):
    client, _ = worker
    response = _post(client, [], token=token)
    assert response.status_code == 401
    header = response.headers["www-authenticate"]
    assert (f'error="{error}"' in header) if error else "error=" not in header
    assert TOKEN not in response.text


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"uri": "x"}, "body"),
        ([{"uri": "not a uri", "reason": "event"}], "items[0].uri"),
        ([{"uri": 5, "reason": "event"}], "items[0].uri"),
        (["aip://model/registry/m1"], "items[0]"),
        ([{"reason": "event"}], "items[0].uri"),
        ([{"uri": "aip://model/registry/m1", "reason": "sleep"}], "items[0].reason"),
        ([{"uri": "aip://model/registry/m1", "reason": "stub"}], "items[0].hint"),
        ([{"uri": "aip://model/registry/m1", "reason": "event", "x": 1}], "items[0].x"),
        ([{"uri": "aip://model/registry/m1", "reason": "event", "not_before": "soon"}], None),
        ([{"uri": "aip://model/registry/m1", "reason": "event", "event_id": ["e"]}], None),
        ([{"uri": "aip://model/registry/" + "m" * 3000, "reason": "event"}], "items[0].uri"),
    ],
)
def test_bad_work_is_refused_with_what_and_where(worker, body, where):
    client, service = worker
    before = service.journal.stats()["queue_depth"]
    response = _post(client, body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["where"] == (where or problem["where"])
    assert problem["detail"].startswith(problem["where"] + ": ")
    assert service.journal.stats()["queue_depth"] == before


def test_a_body_that_is_not_json_is_refused_with_line_and_column(worker):
    client, _ = worker
    response = client.post(
        WORK,
        content=b'[{"uri": ',
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["line"] == 1 and "not JSON" in response.json()["detail"]


def test_too_much_work_at_once_is_refused(worker):
    client, service = worker
    most = service.config.ingest.max_batch_events
    item = {"uri": _mine(1)[0], "reason": "event"}
    response = _post(client, [item] * (most + 1))
    assert response.status_code == 413
    assert f"limit of {most}" in response.json()["detail"]
    big = b"[" + b" " * service.config.server.max_request_bytes + b"]"
    response = client.post(WORK, content=big, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 413


def test_work_of_another_worker_is_refused_as_a_conflict(worker):
    client, service = worker
    mine, theirs = _mine(1)[0], _mine(1, me=0)[0]
    response = _post(client, [{"uri": mine, "reason": "event"}, {"uri": theirs, "reason": "event"}])
    assert response.status_code == 409
    assert response.json()["where"] == "items[1].uri"
    assert "same peers" in response.json()["detail"]
    queued = {w.uri for w in service.journal.due(1000, now=time.time() + 3600)}
    assert theirs not in queued


def test_a_forwarded_stub_is_recorded_by_its_owner(worker):
    client, service = worker
    uri = _mine(3)[2]
    cls = "https://w3id.org/lifecyclegraph/ontology#Model"
    response = _post(client, [{"uri": uri, "hint": cls, "reason": "stub"}])
    assert response.status_code == 202
    state = service.graph.state(uri)
    assert state is not None and state.state is HydrationState.REFERENCED


def _job_of_b() -> tuple[str, list[dict], list[dict]]:
    """A job worker 1 owns, its run events, and another job's."""
    events = _run_events()
    for n in range(len(events) // 2):
        uri = f"aip://pipeline/openlineage/rc-pipelines%2Ftrain_{n}"
        if Partition(2, 0).owner(uri) == 1:
            other = events[2 * ((n + 1) % (len(events) // 2)) :][:2]
            return uri, events[2 * n : 2 * n + 2], other
    raise AssertionError


def _documents(events: list[dict]) -> list[dict]:
    return [{"kind": e["eventType"], "text": json.dumps(e)} for e in events]


@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is missing")
def test_a_pushed_sources_documents_are_recorded_once_with_the_work(worker):
    client, service = worker
    uri, events, _ = _job_of_b()
    item = {"uri": uri, "reason": "event", "documents": _documents(events)}
    for _ in range(2):
        response = _post(client, [item])
        assert response.status_code == 202, response.text
    assert sorted(service.journal.payloads(uri)) == sorted(json.dumps(e) for e in events)


@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is missing")
@pytest.mark.parametrize(
    ("documents", "where"),
    [
        ({"kind": "START"}, "items[0].documents"),
        (["START"], "items[0].documents[0]"),
        ([{"kind": "START", "text": "{}", "x": 1}], "items[0].documents[0].x"),
        ([{"text": "{}"}], "items[0].documents[0].kind"),
        ([{"kind": "START", "text": {"run": {}}}], "items[0].documents[0].text"),
        ([{"kind": "START", "text": "{not json"}], "items[0].documents[0].text"),
        ([{"kind": "START", "text": "{}"}], "items[0].documents[0].text"),
        ("other job", "items[0].documents[1].text"),
        ("not pushed", "items[0].documents"),
    ],
)
def test_bad_documents_with_work_are_refused_with_what_and_where(worker, documents, where):
    client, service = worker
    uri, events, other = _job_of_b()
    if documents == "other job":
        documents = _documents(events[:1] + other[:1])
    elif documents == "not pushed":
        uri, documents = _mine(1)[0], _documents(events)
    before = service.journal.stats()["events"]
    response = _post(client, [{"uri": uri, "reason": "event", "documents": documents}])
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["where"] == where
    assert problem["detail"].startswith(where + ": ")
    assert service.journal.stats()["events"] == before  # nothing recorded


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=4),
        min_size=1,
        max_size=5,
    )
)
def test_forwarded_documents_are_held_once_however_often_they_come(forwards):
    journal = Journal(":memory:")
    uri = "aip://pipeline/openlineage/j"
    journal.accept([(uri, "START", None, '"a"', None)])  # one received here already
    for texts in forwards:
        documents = {uri: [("COMPLETE", f'"{t}"') for t in texts]}
        journal.enqueue_forwarded([(uri, None, "event", None, None)], documents)
        (item,) = journal.due(10, now=time.time() + 3600)
        journal.complete([item])  # the fold's pass: every document held is processed
        assert journal.documents(uri) == []
    held = journal.payloads(uri)
    assert sorted(held) == sorted({'"a"'} | {f'"{t}"' for texts in forwards for t in texts})
    journal.close()
