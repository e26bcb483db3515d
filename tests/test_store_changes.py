"""The shared change feed of a remote store (``lifecyclegraph.store.changes``): several
writers on one real ``oxigraph serve``, each publishing the others' writes to its own
listeners."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pyoxigraph import NamedNode

from lifecyclegraph import Facts, LifecycleGraph, Ref
from lifecyclegraph.core.config import SearchConfig
from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.rules.engine import RuleEngine
from lifecyclegraph.rules.load import load_program
from lifecyclegraph.search.index import SearchIndex
from lifecyclegraph.store import Delta, Observation
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


@pytest.fixture
def server(oxigraph_server) -> Iterator:
    """The session's ``oxigraph serve``, empty."""
    oxigraph_server.clear()
    yield oxigraph_server
    close_all()


def close_all() -> None:
    while OPENED:
        OPENED.pop().close()
    gc.collect()  # free pyoxigraph results in this thread, not in another test's


def connect(server, writer: str | None, path=None) -> RemoteStore:
    store = RemoteStore.connect(RemoteEndpoint(server.url), path, writer=writer)
    OPENED.append(store)
    return store


def records(server) -> list[tuple[str, int]]:
    """The (writer, seq) of every change record on the server, in order."""
    query = (
        f"SELECT ?w ?n WHERE {{ GRAPH <{CHANGES_GRAPH.value}> {{ ?c "
        "<https://w3id.org/lifecyclegraph/ontology#writer> ?w ; "
        "<https://w3id.org/lifecyclegraph/ontology#seq> ?n } } ORDER BY ?w ?n"
    )
    answer = httpx.post(
        server.url + "/query",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
    ).json()
    return [(row["w"]["value"], int(row["n"]["value"])) for row in answer["results"]["bindings"]]


# -- the records and the follower ------------------------------------------------------------


def test_followers_publish_each_writers_deltas_once_in_order_as_its_own_listeners_got_them(
    server,
):
    w0, w1 = connect(server, "w0"), connect(server, "w1")
    heard: dict[str, list[Delta]] = {"w0": [], "w1": []}
    w0.subscribe(heard["w0"].append)
    w1.subscribe(heard["w1"].append)
    f0, f1 = ChangeFollower(w0, poll=0.05), ChangeFollower(w1, poll=0.05)
    f0.start(), f1.start()
    try:
        w0.write_many([(model(1, "one"), seen(1)), (model(2, "two", "aip://x/y/d"), seen(1))])
        w1.write_many([(model(3, "three"), seen(2))])
        w0.write_many([(model(1, "one again"), seen(3))])
        w0.delete_many([("aip://model/registry/m2", seen(4))])
        w1.reference_many([("aip://x/y/d", DATASET, seen(5))])
        w0.write_many([(model(1, "one again"), seen(6))])  # unchanged: no delta, no record
        assert f0.catch_up(10) and f1.catch_up(10)
    finally:
        f0.stop(), f1.stop()
    # w0's own listener got its 3 deltas, then w1's 2 from the follower (and vice versa)
    own = {"w0": heard["w0"][:3], "w1": heard["w1"][:2]}
    assert heard["w1"][2:] == own["w0"]
    assert heard["w0"][3:] == own["w1"]
    assert all(own.values())
    assert records(server) == [("w0", 1), ("w0", 2), ("w0", 3), ("w1", 1), ("w1", 2)]
    assert f1.status()["writers"] == {"w0": {"seq": 3, "applied": 3}}
    assert f0.status()["writers"] == {"w1": {"seq": 2, "applied": 2}}
    assert f0.status()["last_error"] is None and not f0.status()["running"]


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
        assert rows(f"SELECT ?c FROM <{changes}> WHERE {{ ?c ?p ?o }}") == []
        assert rows(f"SELECT ?c FROM NAMED <{changes}> WHERE {{ GRAPH ?g {{ ?c ?p ?o }} }}") == []
        assert rows("SELECT ?c WHERE { ?c ?p ?o }", default_graphs=[changes]) == []
        assert not any(q.predicate.value.endswith("#seq") for q in graph.store.quads())
        assert len(rows("SELECT ?s WHERE { ?s lg:name 'one' }")) == 1


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
