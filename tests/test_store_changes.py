"""The shared change feed of a remote store (``lifecyclegraph.store.changes``): several
writers on one real ``oxigraph serve``, each publishing the others' writes to its own
listeners, and the rule engine of each writing only the derived facts it owns."""

from __future__ import annotations

import gc
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import NamedNode
from remote_stores import OxigraphServer

from lifecyclegraph import Facts, LifecycleGraph, Ref
from lifecyclegraph.core.config import SearchConfig
from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.rules.engine import RuleEngine
from lifecyclegraph.rules.load import load_program
from lifecyclegraph.search.index import SearchIndex
from lifecyclegraph.store import Delta, Observation, SnapshotStore
from lifecyclegraph.store import changes as feed
from lifecyclegraph.store.changes import (
    CHANGES_GRAPH,
    ChangeFollower,
    decode_delta,
    encode_delta,
    prune,
)
from lifecyclegraph.store.remote import RemoteEndpoint, RemoteStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STANDARD = load_program()
DATASET = NamedNode("https://w3id.org/lifecyclegraph/ontology#Dataset")


def seen(step: int) -> Observation:
    return Observation("registry", T0 + timedelta(seconds=step))


def model(number: int, name: str, *links: str) -> Facts:
    properties: dict[str, object] = {
        "rdf:type": Ref("lg:Model"),
        "lg:name": name,
        "lg:sourceId": f"m{number}",
    }
    if links:
        properties["lg:dependsOn"] = [Ref(link) for link in links]
    return Facts.of(f"aip://model/registry/m{number}", properties)


#: The stores a test connected, closed when it ends.
OPENED: list[RemoteStore] = []


class Remote:
    """A real SPARQL store on a free port: ``endpoint`` and ``clear()``."""

    def __init__(self, server, **paths: str) -> None:
        self.server = server
        self.endpoint = RemoteEndpoint(server.url, **paths)

    def clear(self) -> None:
        self.server.clear()


@pytest.fixture(params=["oxigraph", "virtuoso"])
def server(request) -> Iterator[Remote]:
    """The session's ``oxigraph serve`` or Virtuoso, empty."""
    if request.param == "virtuoso":
        paths = {"query_path": "/sparql", "update_path": "/sparql"}
        remote = Remote(request.getfixturevalue("virtuoso_server"), **paths)
    else:
        remote = Remote(request.getfixturevalue("oxigraph_server"))
    remote.clear()
    yield remote
    close_all()


def close_all() -> None:
    while OPENED:
        OPENED.pop().close()
    gc.collect()  # free pyoxigraph results in this thread, not in another test's


def connect(server: Remote, writer: str | None, path=None) -> RemoteStore:
    store = RemoteStore.connect(server.endpoint, path, writer=writer)
    OPENED.append(store)
    return store


def records(server: Remote) -> list[tuple[str, int]]:
    """The (writer, seq) of every change record on the server, in order."""
    query = (
        f"SELECT ?w ?n WHERE {{ GRAPH <{CHANGES_GRAPH.value}> {{ ?c "
        "<https://w3id.org/lifecyclegraph/ontology#writer> ?w ; "
        "<https://w3id.org/lifecyclegraph/ontology#seq> ?n } } ORDER BY ?w ?n"
    )
    answer = httpx.post(
        server.endpoint.query_url,
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
    ).json()
    return [(row["w"]["value"], int(row["n"]["value"])) for row in answer["results"]["bindings"]]


# -- the records and the follower ------------------------------------------------------------


def test_followers_publish_each_writers_deltas_once_in_order_as_its_own_listeners_got_them(
    server,
):
    w0, w1 = connect(server, "w0"), connect(server, "w1")
    # what each store's listener heard, and whether its follower's thread told it
    heard: dict[str, list[tuple[bool, Delta]]] = {"w0": [], "w1": []}
    for name, store in (("w0", w0), ("w1", w1)):
        store.subscribe(lambda delta, name=name: heard[name].append((followed(), delta)))
    f0, f1 = ChangeFollower(w0, poll=0.05), ChangeFollower(w1, poll=0.05)
    f0.start(), f1.start()
    try:
        w0.write_many([(model(1, "one"), seen(1)), (model(2, "two", "aip://x/y/d"), seen(1))])
        w1.write_many([(model(3, "three"), seen(2))])
        w0.write_many([(model(1, "one again"), seen(3))])
        w0.delete_many([("aip://model/registry/m2", seen(4))])
        w1.reference_many([("aip://x/y/d", DATASET, seen(5))])
        w0.write_many([(model(1, "one again"), seen(6))])  # unchanged: no delta, no record
        wanted = ({"w1": {"seq": 2, "applied": 2}}, {"w0": {"seq": 3, "applied": 3}})
        deadline = time.monotonic() + 30
        while (f0.status()["writers"], f1.status()["writers"]) != wanted:
            assert time.monotonic() < deadline, (f0.status(), f1.status())
            time.sleep(0.05)
    finally:
        f0.stop(), f1.stop()
    assert f0.catch_up(10) and f1.catch_up(10)  # nothing left: nothing published again
    own = {name: [d for by_follower, d in got if not by_follower] for name, got in heard.items()}
    followed_ = {name: [d for by_follower, d in got if by_follower] for name, got in heard.items()}
    assert [len(own["w0"]), len(own["w1"])] == [3, 2]
    # each follower published the other's deltas as the other's own listener got them
    assert followed_["w1"] == own["w0"]
    assert followed_["w0"] == own["w1"]
    assert records(server) == [("w0", 1), ("w0", 2), ("w0", 3), ("w1", 1), ("w1", 2)]
    assert f1.status()["writers"] == {"w0": {"seq": 3, "applied": 3}}
    assert f0.status()["writers"] == {"w1": {"seq": 2, "applied": 2}}
    assert f0.status()["last_error"] is None and not f0.status()["running"]


def followed() -> bool:
    """Whether a follower's thread is calling."""
    return threading.current_thread().name == "lifecyclegraph-change-follower"


def test_a_restarted_follower_resumes_after_the_last_record_it_applied(server):
    w0, w1 = connect(server, "w0"), connect(server, "w1")
    w0.write_many([(model(1, "before the follower"), seen(1))])
    heard: list[Delta] = []
    w1.subscribe(heard.append)
    follower = ChangeFollower(w1, poll=0.05)  # starts after the record already there
    follower.start()
    w0.write_many([(model(2, "two"), seen(2))])
    assert follower.catch_up(10)
    follower.stop()
    w0.write_many([(model(3, "three"), seen(3))])
    w0.write_many([(model(4, "four"), seen(4))])
    assert len(heard) == 1
    follower.start()
    assert follower.catch_up(10)
    follower.stop()
    assert follower.catch_up(10)  # nothing new: nothing published again
    subjects = [sorted(t.subject.value for t in d.added) for d in heard]
    assert [s[0].rsplit("/", 1)[1] for s in subjects] == ["m2", "m3", "m4"]
    assert follower.status()["writers"]["w0"] == {"seq": 4, "applied": 3}


def test_a_writer_connecting_again_numbers_its_records_after_its_last(server):
    connect(server, "w0").write_many([(model(1, "one"), seen(1))])
    connect(server, "w0").write_many([(model(2, "two"), seen(2))])
    assert records(server) == [("w0", 1), ("w0", 2)]


def test_a_follower_waits_for_a_missing_record_then_goes_on_without_it(server):
    w0, w1 = connect(server, "w0"), connect(server, "w1")
    heard: list[Delta] = []
    w1.subscribe(heard.append)
    follower = ChangeFollower(w1, poll=0.05, gap_timeout=0.5)
    assert w0._log is not None
    w0._log.seq += 1  # as a request that failed on the client: record 1 never comes
    w0.write_many([(model(1, "one"), seen(1))])
    assert not follower.catch_up(0.2)
    assert heard == [] and follower.status()["skipped"] == 0
    assert follower.catch_up(10)
    assert len(heard) == 1 and follower.status()["skipped"] == 1


def test_a_writer_waiting_for_a_missing_record_holds_no_other_writer_back(server, monkeypatch):
    monkeypatch.setattr(feed, "PAGE", 2)  # the waiting writer's records fill a page
    w0, w1, w2 = connect(server, "w0"), connect(server, "w1"), connect(server, "w2")
    heard: list[Delta] = []
    w1.subscribe(heard.append)
    follower = ChangeFollower(w1, poll=0.05, gap_timeout=60)
    assert w0._log is not None
    w0._log.seq += 1  # record 1 of w0 never comes
    for step in range(3):
        w0.write_many([(model(step, f"w0 {step}"), seen(step))])
    w2.write_many([(model(9, "w2"), seen(9))])
    assert not follower.catch_up(1)  # w0's records wait...
    assert follower.status()["writers"] == {"w2": {"seq": 1, "applied": 1}}  # ...w2's not
    assert [
        t.object.value for d in heard for t in d.added if t.predicate.value.endswith("name")
    ] == ["w2"]


def test_a_page_held_back_by_a_missing_record_is_not_read_again_at_once(server, monkeypatch):
    # a full page whose records all wait for a gap said "more": the follower then read
    # the store again without pause until the gap was given up
    monkeypatch.setattr(feed, "PAGE", 2)
    w0, w1 = connect(server, "w0"), connect(server, "w1")
    follower = ChangeFollower(w1, poll=0.05, gap_timeout=60)
    assert w0._log is not None
    w0._log.seq += 1  # record 1 of w0 never comes
    for step in range(3):
        w0.write_many([(model(step, f"w0 {step}"), seen(step))])
    assert follower.poll_once() is False
    assert follower.status()["writers"] == {}


def test_a_large_write_is_one_record_that_a_follower_reads_whole(server):
    from lifecyclegraph.bench.store import synthetic_entity

    w0, w1 = connect(server, "w0"), connect(server, "w1")
    mine: list[Delta] = []
    w0.subscribe(mine.append)
    heard: list[Delta] = []
    w1.subscribe(heard.append)
    follower = ChangeFollower(w1)
    w0.write_many([(synthetic_entity(i), seen(1)) for i in range(60)])  # ~900 facts
    assert follower.catch_up(30)
    assert heard == mine
    # split between entities near 1,000 quads a request (Virtuoso): a record a request
    assert len(mine) == len(records(server)) >= 2
    assert sum(len(d.added) for d in mine) > 800


def test_a_follower_rides_out_the_store_going_down(tmp_path):
    own = OxigraphServer(tmp_path / "oxigraph")
    own.start()
    try:
        server = Remote(own)
        w0, w1 = connect(server, "w0"), connect(server, "w1")
        heard: list[Delta] = []
        w1.subscribe(heard.append)
        follower = ChangeFollower(w1, poll=0.05).start()
        w0.write_many([(model(1, "one"), seen(1))])
        own.stop()
        deadline = time.monotonic() + 30
        while follower.status()["last_error"] is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert "could not read the change feed" in follower.status()["last_error"]
        assert not follower.catch_up(0.5)
        own.start()
        w0.write_many([(model(2, "two"), seen(2))])
        assert follower.catch_up(30)
        assert follower.status()["running"] and len(heard) == 2
        follower.stop()
    finally:
        own.stop()
        close_all()


def test_a_write_without_a_writer_adds_no_change_record(server):
    store = connect(server, None)
    store.write_many([(model(1, "one"), seen(1))])
    store.delete_many([("aip://model/registry/m1", seen(2))])
    assert records(server) == []
    assert store.snapshot_count() == 2


def test_the_changes_graph_is_invisible_to_queries(server):
    with LifecycleGraph(connect(server, "w0")) as graph:
        graph.write(model(1, "one"), source="registry", observed_at=T0)
        assert records(server) == [("w0", 1)]
        changes = CHANGES_GRAPH.value

        def rows(query: str, **dataset) -> list:
            return list(graph.sparql(query, **dataset))

        assert rows("SELECT ?c WHERE { ?c lg:seq ?n }") == []
        assert rows("SELECT ?c WHERE { GRAPH ?g { ?c lg:delta ?d } }") == []
        assert rows(f"SELECT ?c WHERE {{ GRAPH <{changes}> {{ ?c ?p ?o }} }}") == []
        assert rows("SELECT ?c WHERE { ?c ?p ?o }", default_graphs=[changes]) == []
        assert rows("SELECT ?c WHERE { GRAPH ?g { ?c ?p ?o } }", named_graphs=[changes]) == []
        assert not any(q.predicate.value.endswith("#seq") for q in graph.store.quads())
        assert len(rows("SELECT ?s WHERE { ?s lg:name 'one' }")) == 1


def test_a_from_clause_naming_the_changes_graph_reads_it_as_empty(server):
    """On Virtuoso too, which would let a query's own FROM win over the protocol's
    graphs: the remote store sends the query without its dataset clauses."""
    with LifecycleGraph(connect(server, "w0")) as graph:
        snapshot = graph.write(model(1, "one"), source="registry", observed_at=T0).snapshot
        changes = CHANGES_GRAPH.value
        assert list(graph.sparql(f"SELECT ?c FROM <{changes}> WHERE {{ ?c ?p ?o }}")) == []
        query = f"SELECT ?c FROM NAMED <{changes}> WHERE {{ GRAPH ?g {{ ?c ?p ?o }} }}"
        assert list(graph.sparql(query)) == []
        # a graph of the dataset named so is read, from the protocol's parameters
        query = f"SELECT ?n FROM <{snapshot}> FROM <{changes}> WHERE {{ ?s lg:name ?n }}"
        assert [row[0].value for row in graph.sparql(query)] == ["one"]


def test_prune_deletes_old_records_but_each_writers_newest(server):
    w0, w1 = connect(server, "w0"), connect(server, "w1")
    for step in range(3):
        w0.write_many([(model(step, f"v{step}"), seen(step))])
    w1.write_many([(model(9, "nine"), seen(9))])
    assert prune(w0, datetime.now(UTC) - timedelta(hours=1)) == 0
    assert prune(w0, datetime.now(UTC) + timedelta(seconds=1)) == 2
    assert records(server) == [("w0", 3), ("w1", 1)]
    w0.write_many([(model(5, "five"), seen(5))])
    assert records(server)[:2] == [("w0", 3), ("w0", 4)]


def test_a_delta_survives_its_record_text_unchanged():
    text = '+ <urn:s> <urn:p> "a \\"quoted\\"\\nline"@en .\n- <urn:s> <urn:q> <urn:o> .\n'
    delta = decode_delta(text)
    assert encode_delta(delta) == text
    assert decode_delta(encode_delta(None)) == Delta(frozenset(), frozenset())


def test_a_writer_name_that_cannot_go_in_an_iri_is_refused_naming_it(server):
    with pytest.raises(ConfigError, match="writer 'w 0'"):
        connect(server, "w 0")


# -- applied twice -------------------------------------------------------------------------------


def test_a_delta_applied_twice_leaves_derived_facts_and_the_index_unchanged(server, tmp_path):
    w0 = connect(server, "w0")
    w1 = connect(server, "w1", tmp_path / "w1")
    follower = ChangeFollower(w1)  # its marks are read before the writes below
    w0.write_many([(model(1, "alpha", "aip://model/registry/m2"), seen(1))])
    w0.write_many([(model(2, "beta"), seen(2))])
    engine = RuleEngine(w1, STANDARD)
    engine.start()  # sees both writes already
    index = SearchIndex.attach(w1, SearchConfig(batch_ms=0))
    try:

        def state() -> tuple:
            assert index.flush()
            hits = index.search("", page_size=50)
            return (
                set(w1.inferred()),
                engine.derived_triples(),
                sorted((h.uri, h.name) for h in hits),
                hits.total,
            )

        before = state()
        assert ("aip://model/registry/m1", "alpha") in before[2]
        heard: list[Delta] = []
        w1.subscribe(heard.append)
        assert follower.catch_up(10)  # the two records again: already reflected
        assert len(heard) == 2
        w1.unsubscribe(heard.append)
        for delta in heard:
            w1.publish(delta)  # and once more
        assert state() == before
        assert engine.error is None and index.check().ok
    finally:
        index.close()
        engine.stop()


# -- several writers, one derived graph -----------------------------------------------------------

ENTITIES = [f"aip://x/y/e{i}" for i in range(6)]
entity_operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("write"),
            st.integers(0, 5),
            st.sampled_from(["ModelInstance", "Dataset", "Feature", "PipelineRun"]),
            st.lists(
                st.tuples(
                    st.sampled_from(
                        [
                            "producedByRun",
                            "usesFeature",
                            "sourceDataset",
                            "upstreamDataset",
                            "owner",
                            "memberOf",
                            "hasDeployment",
                        ]
                    ),
                    st.integers(0, 5),
                ),
                max_size=3,
            ),
        ),
        st.tuples(st.just("delete"), st.integers(0, 5), st.just(""), st.just([])),
    ),
    min_size=1,
    max_size=10,
)


def owner(uri: str) -> int:
    """Which of two writers owns ``uri`` (stable, as a cluster's partition)."""
    return zlib.crc32(uri.encode()) % 2


def apply(store, step: int, operation) -> None:
    action, number, cls, links = operation
    uri = ENTITIES[number]
    if action == "write":
        properties: dict[str, object] = {"rdf:type": Ref(f"lg:{cls}")}
        for name, target in links:
            properties.setdefault(f"lg:{name}", []).append(Ref(ENTITIES[target]))  # type: ignore[union-attr]
        store.write_many([(Facts.of(uri, properties), seen(step))])
    else:
        store.delete_many([(uri, seen(step))])


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(operations=entity_operations)
def test_two_writers_each_deriving_its_partition_make_the_inferred_graph_of_one(
    oxigraph_server, operations
):
    assert {owner(uri) for uri in ENTITIES} == {0, 1}  # both writers own something
    server = Remote(oxigraph_server)
    server.clear()
    stores = [connect(server, f"w{i}") for i in range(2)]
    followers = [ChangeFollower(store, poll=0.05) for store in stores]
    engines = [
        RuleEngine(store, STANDARD, owns=lambda uri, me=i: owner(uri) == me)
        for i, store in enumerate(stores)
    ]
    for engine in engines:
        engine.start()
    for follower in followers:
        follower.start()
    one = SnapshotStore.in_memory()
    alone = RuleEngine(one, STANDARD)
    alone.start()
    try:
        for step, operation in enumerate(operations):
            apply(stores[owner(ENTITIES[operation[1]])], step, operation)
            apply(one, step, operation)
        assert all(follower.catch_up(30) for follower in followers)
        for engine in engines:
            assert engine.error is None
            assert engine.derived_triples() == alone.derived_triples()
        assert set(stores[0].asserted()) == set(one.asserted())
        assert set(stores[0].inferred()) == set(one.inferred())
        # and a materialization of each finds nothing to change
        for engine in engines:
            report = engine.materialize()
            assert (report.added, report.removed) == (0, 0)
    finally:
        for follower in followers:
            follower.stop()
        for engine in engines:
            engine.stop()
        close_all()
