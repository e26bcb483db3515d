"""Issue 18, point 5, end to end: "Two workers over one queue and one remote store end
with the same graph as one worker, under shuffled, duplicated events."

Everything is real: ``oxigraph serve`` (one for the cluster, one for the lone worker),
moto's SQS server, the sandbox's source systems over HTTP, and ``lifecyclegraph serve``
child processes started as an operator starts them, two with ``[cluster]`` and the
same ``[[queues]]`` queue, one alone on its own queue and store (docs/scale-out.md).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from moto_credentials import use_moto_credentials
from remote_stores import OxigraphServer, _free_port
from serve_child import start_serve, stop_serve

from lifecyclegraph.sandbox.events import perturb
from lifecyclegraph.sandbox.server import run_in_thread
from lifecyclegraph.sandbox.world import SYSTEMS
from lifecyclegraph.store import HydrationState
from lifecyclegraph.store.remote import RemoteEndpoint, RemoteStore

REGION = "us-east-1"
WRITE = "e2e-write-t0ken"
CLUSTER_TOKEN = "e2e-cluster-s3cret"
CHANGES = "https://w3id.org/lifecyclegraph/graph/changes"
LG = "https://w3id.org/lifecyclegraph/ontology#"

pytestmark = pytest.mark.slow


@pytest.fixture
def moto_url(monkeypatch, tmp_path):
    # credentials moto takes (it checks none), inherited by the serve children
    use_moto_credentials(monkeypatch, tmp_path, REGION)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _toml(value: object) -> str:
    return json.dumps(value)  # strings, numbers and lists of strings: TOML as JSON writes them


def _config(
    path: Path,
    *,
    sandbox,
    store_url: str,
    port: int,
    queue: str,
    moto_url: str,
    cluster: tuple[list[str], int] | None,
) -> Path:
    lines = [
        "[store]",
        f"path = {_toml(str(path / 'store'))}",
        f"url = {_toml(store_url)}",
        "[server]",
        f"port = {port}",
        f"write_tokens = [{_toml(WRITE)}]",
        "query_workers = 1",
        'log_level = "error"',
        "access_log = false",
        "[ingest]",
        "reconcile_interval = 0",
        "enrich_interval = 0",
        "[[queues]]",
        f"url = {_toml('sqs://' + queue)}",
        f"endpoint_url = {_toml(moto_url)}",
        f"region = {_toml(REGION)}",
        "wait_seconds = 1",
        "visibility_timeout = 60",
    ]
    for system in SYSTEMS:
        lines += [f"[sources.{system}]", f"url = {_toml(sandbox.base_url(system))}"]
    if cluster is not None:
        peers, me = cluster
        lines += [
            "[cluster]",
            f"peers = [{', '.join(_toml(p) for p in peers)}]",
            f"me = {me}",
            f"token = {_toml(CLUSTER_TOKEN)}",
        ]
    path.mkdir(parents=True, exist_ok=True)
    file = path / "lifecyclegraph.toml"
    file.write_text("\n".join(lines) + "\n")
    return file


def _queue(moto_url: str) -> str:
    """A new, empty SQS queue's name."""
    sqs = boto3.client("sqs", endpoint_url=moto_url, region_name=REGION)
    name = f"events-{uuid.uuid4().hex[:10]}"
    sqs.create_queue(QueueName=name)
    return name


def _send(moto_url: str, name: str, events: list[dict]) -> None:
    """Put ``events`` on the queue, one message each, in the order given."""
    sqs = boto3.client("sqs", endpoint_url=moto_url, region_name=REGION)
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    for start in range(0, len(events), 10):
        entries = [
            {"Id": str(n), "MessageBody": json.dumps(event)}
            for n, event in enumerate(events[start : start + 10])
        ]
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")


def _left(moto_url: str, name: str) -> int:
    """Messages still in the queue, visible or in flight."""
    sqs = boto3.client("sqs", endpoint_url=moto_url, region_name=REGION)
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def _heads(store_url: str) -> dict[str, int]:
    """Each writer's newest change record in the store (read from the store itself)."""
    query = (
        f"SELECT ?w (MAX(?n) AS ?seq) WHERE {{ GRAPH <{CHANGES}> {{ ?c <{LG}writer> ?w ; "
        f"<{LG}seq> ?n }} }} GROUP BY ?w"
    )
    answer = httpx.post(
        store_url + "/query",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    answer.raise_for_status()
    return {
        row["w"]["value"]: int(row["seq"]["value"])
        for row in answer.json()["results"]["bindings"]
        if "seq" in row
    }


def _serving(config: Path):
    """``serve`` started on ``config``, once it answers (it prints its banner before it
    listens): the child and its root URL."""
    child, url, _ = start_serve(config)
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url + "/healthz", timeout=5).raise_for_status()
            return child, url
        except httpx.TransportError:
            assert child.poll() is None, stop_serve(child)
            assert time.monotonic() < deadline, f"{url} does not answer"
            time.sleep(0.1)


def _quiet(
    urls: list[str], moto_url: str, queue: str, store_url: str, timeout: float = 600.0
) -> None:
    """Wait until the queue is empty, every worker's journal is empty, and every
    worker's change follower has applied every other writer's newest record; three
    times in a row, a second apart (a forward or a stub's enrichment may start work
    again)."""
    deadline = time.monotonic() + timeout
    calm, seen = 0, None
    while calm < 3:
        statuses = [httpx.get(url + "/api/v1/status", timeout=30).json() for url in urls]
        seen = statuses
        busy = _left(moto_url, queue) > 0 or any(s["queue_depth"] for s in statuses)
        if not busy and statuses[0].get("cluster"):
            heads = _heads(store_url)
            for status in statuses:
                cluster = status["cluster"]
                writers = cluster["follower"]["writers"]
                mine = f"w{cluster['me']}"
                for writer, seq in heads.items():
                    if writer != mine and writers.get(writer, {}).get("seq", 0) < seq:
                        busy = True
        calm = 0 if busy else calm + 1
        assert time.monotonic() < deadline, json.dumps(seen, indent=1)[:4000]
        time.sleep(1.0)


def _normal(store_url: str, path: Path) -> dict[str, set]:
    """The store's current asserted facts, inferred facts and entity states, as text
    (snapshot IRIs and timestamps are not in them: facts are triples)."""
    store = RemoteStore.connect(RemoteEndpoint(store_url), path)
    try:
        states = set()
        for uri in store.entities():
            state = store.state(uri)
            states.add((uri, state.state.value, state.part_of))
        return {
            "asserted": {str(t) for t in store.asserted()},
            "inferred": {str(t) for t in store.inferred()},
            "states": states,
        }
    finally:
        store.close()


def _searchable(url: str) -> set[str]:
    """Every URI ``/api/v1/search`` finds for an empty query, page after page."""
    found: set[str] = set()
    page = 1
    while True:
        answer = httpx.get(
            url + "/api/v1/search",
            params={"q": "", "page": page, "page_size": 1000, "facets": "false"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        hits = answer.json()["hits"]
        found |= {hit["uri"] for hit in hits}
        if len(hits) < 1000:
            return found
        page += 1


def _search_settles(urls: list[str], expected: set[str], timeout: float = 60.0) -> None:
    """Each worker's search finds ``expected`` (the index writes in batches)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [_searchable(url) for url in urls]
        if all(f == expected for f in found) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for url, hits in zip(urls, found, strict=True):
        assert hits == expected, (url, sorted(expected - hits)[:10], sorted(hits - expected)[:10])


def test_two_workers_over_one_queue_and_one_store_end_with_the_graph_of_one(tmp_path, moto_url):
    with run_in_thread() as sandbox:
        seed = sandbox.world.seed_events(seed=18, emitted_at="2026-01-02T00:00:00Z")
        events = perturb(seed, seed=18, shuffle=True, duplicate=0.3)
        assert len(events) > len(seed) and events[: len(seed)] != seed

        # one worker alone: the graph to compare with
        lone_store = OxigraphServer(tmp_path / "oxigraph-lone")
        shared = OxigraphServer(tmp_path / "oxigraph-shared")
        children = []
        try:
            lone_store.start()
            shared.start()
            lone_queue = _queue(moto_url)
            config = _config(
                tmp_path / "lone",
                sandbox=sandbox,
                store_url=lone_store.url,
                port=_free_port(),
                queue=lone_queue,
                moto_url=moto_url,
                cluster=None,
            )
            child, lone_url = _serving(config)
            children.append(child)
            _send(moto_url, lone_queue, events)

            # two workers over one queue and one store
            queue = _queue(moto_url)
            ports = [_free_port(), _free_port()]
            peers = [f"http://127.0.0.1:{port}" for port in ports]
            urls = []
            for me, port in enumerate(ports):
                config = _config(
                    tmp_path / f"w{me}",
                    sandbox=sandbox,
                    store_url=shared.url,
                    port=port,
                    queue=queue,
                    moto_url=moto_url,
                    cluster=(peers, me),
                )
                child, url = _serving(config)
                children.append(child)
                urls.append(url)
            assert urls == peers
            _send(moto_url, queue, events)  # both are polling: each takes its share

            _quiet([lone_url], moto_url, lone_queue, lone_store.url)
            _quiet(urls, moto_url, queue, shared.url)

            statuses = [httpx.get(url + "/api/v1/status", timeout=30).json() for url in urls]
            for me, status in enumerate(statuses):
                cluster = status["cluster"]
                assert cluster["me"] == me and cluster["size"] == 2
                assert cluster["follower"]["last_error"] is None
            # both workers took messages from the one queue, and handed work over
            assert all(sum(q["messages"] for q in s["queues"].values()) > 0 for s in statuses)
            assert all(s["cluster"]["forwarded"] > 0 for s in statuses)
            assert all(s["dead_letters"] == 0 for s in statuses)

            lone = _normal(lone_store.url, tmp_path / "read-lone")
            both = _normal(shared.url, tmp_path / "read-shared")
            assert lone["states"] and lone["inferred"]
            assert both["states"] == lone["states"]
            assert both["asserted"] == lone["asserted"]
            assert both["inferred"] == lone["inferred"]

            expected = _searchable(lone_url)
            live = {
                uri for uri, state, _ in lone["states"] if state == HydrationState.HYDRATED.value
            }
            assert live <= expected
            _search_settles(urls, expected)
        finally:
            for child in children:
                stop_serve(child)
            shared.stop()
            lone_store.stop()
