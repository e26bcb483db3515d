"""The snapshot store as a user of LifecycleGraph sees it.

The writes here opt out of the checks (``validate=False``): their entities are partial
on purpose (a model with a name only, links to stubs made later, properties the
ontology lacks), since the point is the snapshots, not the model. Checked writes
have their own tests (test_validated_writes.py, test_graph_contract.py).
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode

from lifecyclegraph import (
    Facts,
    HydrationState,
    InvalidFactsError,
    LifecycleGraph,
    Outcome,
    Ref,
    StoreError,
)
from lifecyclegraph.core.vocab import INFERRED_GRAPH, LG

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MODEL = "aip://model/registry/ranking-model"
INSTANCE = "aip://model/registry/ranking-model-v5-20XX0101"
RUN = "aip://pipeline-run/orchestrator/train-weekly-ranking-20XX0101"


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def model(name: str = "Ranking model", **extra: object) -> Facts:
    return Facts.of(MODEL, {"rdf:type": Ref("lg:Model"), "lg:name": name, **extra})


def names(graph: LifecycleGraph) -> list[str]:
    rows = graph.sparql("SELECT ?n WHERE { ?m a lg:Model ; lg:name ?n } ORDER BY ?n")
    return [row["n"].value for row in rows]


@pytest.fixture(params=["embedded", "oxigraph", "virtuoso"])
def fresh(request):
    """A factory of empty graphs: in memory, or on a real remote SPARQL 1.1 store
    (``oxigraph serve``, Virtuoso)."""
    if request.param == "embedded":
        return LifecycleGraph.in_memory
    from lifecyclegraph.store.remote import RemoteEndpoint, RemoteStore

    if request.param == "virtuoso":
        server = request.getfixturevalue("virtuoso_server")
        endpoint = RemoteEndpoint(server.url, query_path="/sparql", update_path="/sparql")
    else:
        server = request.getfixturevalue("oxigraph_server")
        endpoint = RemoteEndpoint(server.url)
    opened = []
    request.addfinalizer(lambda: [store.close() for store in opened])

    def make() -> LifecycleGraph:
        server.clear()
        store = RemoteStore.connect(endpoint)
        opened.append(store)
        return LifecycleGraph(store)

    return make


@pytest.fixture
def graph(fresh) -> LifecycleGraph:
    return fresh()


def test_current_state_answers_plain_sparql_without_graph_clause(graph):
    graph.write(model(), source="registry", observed_at=at(0), validate=False)
    assert names(graph) == ["Ranking model"]


def test_provenance_of_a_fact_reads_back_source_time_and_event(graph):
    graph.write(model(), source="registry", observed_at=at(1), event_id="evt-7", validate=False)
    rows = list(
        graph.sparql(
            """SELECT ?g ?source ?when ?event WHERE {
                 GRAPH ?g { ?m lg:name "Ranking model" }
                 ?g lg:source ?source ; lg:observedAt ?when ; lg:event ?event }"""
        )
    )
    assert len(rows) == 1
    assert rows[0]["source"].value == "registry"
    assert rows[0]["when"].value == "2026-01-01T01:00:00Z"
    assert rows[0]["event"].value == "evt-7"
    assert graph.entity(MODEL).snapshot.iri == rows[0]["g"].value


def test_unchanged_write_makes_no_snapshot_and_records_seen_again(graph):
    first = graph.write(model(), source="registry", observed_at=at(0), validate=False)
    again = graph.write(model(), source="registry", observed_at=at(5), validate=False)
    assert first.outcome is Outcome.CREATED
    assert again.outcome is Outcome.UNCHANGED
    assert again.snapshot == first.snapshot
    assert len(graph.history(MODEL)) == 1
    state = graph.entity(MODEL).state
    assert state.last_seen_at == at(5)
    assert state.last_hydrated_at == at(5)
    assert graph.history(MODEL)[0].observed_at == at(0)


def test_changed_write_makes_a_new_snapshot_and_keeps_the_old_one_unchanged(graph):
    first = graph.write(model("v1"), source="registry", observed_at=at(0), validate=False)
    second = graph.write(model("v2"), source="registry", observed_at=at(1), validate=False)
    assert second.outcome is Outcome.UPDATED
    assert [h.iri for h in graph.history(MODEL)] == [first.snapshot, second.snapshot]
    assert graph.history(MODEL)[1].supersedes == first.snapshot
    old = graph.snapshot_facts(first.snapshot)
    assert (LG.name, Literal("v1")) in old
    assert names(graph) == ["v2"]


def test_delete_removes_entity_from_current_state_and_keeps_history(graph):
    created = graph.write(model(), source="registry", observed_at=at(0), validate=False)
    deleted = graph.delete(MODEL, source="registry", observed_at=at(1), event_id="del-1")
    assert deleted.outcome is Outcome.DELETED
    assert names(graph) == []
    assert graph.entity(MODEL) is None
    history = graph.history(MODEL)
    assert [h.kind for h in history] == [HydrationState.HYDRATED, HydrationState.DELETED]
    assert history[1].event_id == "del-1"
    assert (LG.name, Literal("Ranking model")) in graph.snapshot_facts(created.snapshot)
    assert graph.store.state(MODEL).state is HydrationState.DELETED


def test_as_of_shows_one_entity_at_three_points_of_its_life(graph):
    graph.write(model("v1"), source="registry", observed_at=at(1), validate=False)
    graph.write(model("v2"), source="registry", observed_at=at(2), validate=False)
    graph.delete(MODEL, source="registry", observed_at=at(3))
    assert graph.as_of(at(0.5)).entity(MODEL) is None
    assert graph.as_of(at(1.5)).entity(MODEL).name == "v1"
    assert graph.as_of(at(2)).entity(MODEL).name == "v2"
    assert graph.as_of(at(3.5)).entity(MODEL) is None


def test_as_of_shows_the_whole_graph_at_three_points(graph):
    alice = Facts.of("aip://user/identity/alice", {"rdf:type": Ref("lg:User"), "lg:name": "Alice"})
    graph.write(alice, source="identity", observed_at=at(1), validate=False)
    graph.write(
        model("v1", **{"lg:owner": Ref(alice.uri)}),
        source="registry",
        observed_at=at(2),
        validate=False,
    )
    graph.write(
        model("v2", **{"lg:owner": Ref(alice.uri)}),
        source="registry",
        observed_at=at(3),
        validate=False,
    )
    graph.delete(alice.uri, source="identity", observed_at=at(4))

    query = "SELECT ?m ?n ?o WHERE { ?m lg:name ?n . OPTIONAL { ?m lg:owner ?o } } ORDER BY ?n"

    def rows(view):
        return [(r["n"].value, r["o"].value if r["o"] else None) for r in view.sparql(query)]

    assert rows(graph.as_of(at(1.5))) == [("Alice", None)]
    assert rows(graph.as_of(at(2.5))) == [("Alice", None), ("v1", alice.uri)]
    assert rows(graph.as_of(at(4.5))) == [("v2", alice.uri)]
    assert graph.as_of(at(2.5)).entity(alice.uri).related("lg:owner", incoming=True) == [MODEL]
    assert graph.as_of(at(2.5)).entities() == [MODEL, alice.uri]


class FailingWrites:
    """A dataset whose transactions fail, as a full disk would make them."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __getattr__(self, name):
        if name in ("update", "extend", "add", "remove", "bulk_extend"):
            raise OSError("disk full")
        return getattr(self.dataset, name)


def test_failed_write_leaves_previous_state_intact(graph):
    graph.write(model("v1"), source="registry", observed_at=at(0), validate=False)
    real = graph.store.current
    graph.store.current = FailingWrites(real)
    with pytest.raises(OSError, match="disk full"):
        graph.write(model("v2"), source="registry", observed_at=at(1), validate=False)
    graph.store.current = real
    assert names(graph) == ["v1"]
    assert len(graph.history(MODEL)) == 1
    assert (
        graph.write(model("v2"), source="registry", observed_at=at(2), validate=False).outcome
        is Outcome.UPDATED
    )
    assert names(graph) == ["v2"]


def test_invalid_facts_are_refused_before_anything_is_written(graph):
    from pyoxigraph import BlankNode

    with pytest.raises(InvalidFactsError, match="blank nodes are not allowed"):
        Facts(MODEL, frozenset({(LG.owner, BlankNode())}))
    with pytest.raises(InvalidFactsError, match="not an IRI"):
        Facts("not an iri", frozenset())
    with pytest.raises(InvalidFactsError, match="no time zone"):
        graph.write(model(), source="registry", observed_at=datetime(2026, 1, 1), validate=False)
    assert list(graph.entities()) == []


def test_stale_observation_is_ignored(graph):
    graph.write(model("new"), source="registry", observed_at=at(2), validate=False)
    stale = graph.write(model("old"), source="registry", observed_at=at(1), validate=False)
    assert stale.outcome is Outcome.STALE
    assert names(graph) == ["new"]
    assert graph.delete(MODEL, source="registry", observed_at=at(1)).outcome is Outcome.STALE


def test_stub_records_referenced_state_until_hydrated(graph):
    stub = graph.reference(RUN, LG.PipelineRun.value, source="registry", observed_at=at(5))
    assert stub.outcome is Outcome.REFERENCED
    assert graph.entity(RUN).state.state is HydrationState.REFERENCED
    assert graph.entity(RUN).state.last_hydrated_at is None
    assert graph.entity(RUN).types == (LG.PipelineRun.value,)
    again = graph.reference(RUN, LG.PipelineRun.value, source="registry", observed_at=at(6))
    assert again.outcome is Outcome.IGNORED
    # hydration observed before the stub was recorded still wins over the stub
    run = Facts.of(RUN, {"rdf:type": Ref("lg:PipelineRun"), "lg:status": "SUCCEEDED"})
    assert (
        graph.write(run, source="orchestrator", observed_at=at(4), validate=False).outcome
        is Outcome.CREATED
    )
    entity = graph.entity(RUN)
    assert entity.state.state is HydrationState.HYDRATED
    assert entity.state.last_hydrated_at == at(4)
    assert entity.get("lg:status") == "SUCCEEDED"


def test_parts_are_versioned_with_their_parent_and_lost_parts_are_tombstoned(graph):
    test = "aip://ab-test/experimentation/12345"

    def cell(n: int) -> Facts:
        uri = f"aip://ab-test-cell/experimentation/12345:{n}"
        return Facts.of(
            uri, {"rdf:type": Ref("lg:ABTestCell"), "lg:cellNumber": n, "lg:cellOf": Ref(test)}
        )

    def ab(*cells: int) -> Facts:
        return Facts.of(
            test,
            {"rdf:type": Ref("lg:ABTest"), "lg:name": "v5 vs v4"},
            parts=[cell(n) for n in cells],
        )

    results = graph.write_many([(ab(1, 2), _obs(at(0)))], validate=False)
    assert [r.outcome for r in results] == [Outcome.CREATED] * 3
    graph.write_many([(ab(1), _obs(at(1)))], validate=False)
    assert graph.entity(cell(2).uri) is None
    assert graph.entity(cell(1).uri).state.part_of == test
    graph.delete(test, source="experimentation", observed_at=at(2))
    assert graph.entity(cell(1).uri) is None
    assert [h.kind for h in graph.history(cell(1).uri)] == [
        HydrationState.HYDRATED,
        HydrationState.DELETED,
    ]


def test_entity_lists_properties_and_both_directions_of_relationships(graph):
    graph.write(
        Facts.of(
            INSTANCE,
            {"rdf:type": Ref("lg:ModelInstance"), "lg:version": "5", "lg:instanceOf": Ref(MODEL)},
        ),
        source="registry",
        validate=False,
    )
    graph.write(model(**{"lg:currentInstance": Ref(INSTANCE)}), source="registry", validate=False)
    entity = graph.entity(MODEL)
    assert entity.types == (LG.Model.value,)
    assert entity.properties == {"lg:name": ["Ranking model"]}
    assert entity.related("lg:currentInstance") == [INSTANCE]
    assert entity.related("lg:instanceOf", incoming=True) == [INSTANCE]
    assert all(not r.inferred and r.snapshot for r in entity.outgoing + entity.incoming)


def test_large_batch_is_written_whole_each_entity_atomic(graph):
    many = [
        (
            Facts.of(
                f"aip://dataset/datasets/big-{i}",
                {
                    "rdf:type": Ref("lg:Dataset"),
                    "lg:name": f"d{i}",
                    "lg:sourceId": f"big-{i}",
                    "lg:tag": [f"t{j}::v" for j in range(20)],
                },
            ),
            _obs(at(0)),
        )
        for i in range(300)
    ]  # about 9,000 quads: more than some stores take in one update (Virtuoso)
    results = graph.write_many(many)
    assert [r.outcome for r in results] == [Outcome.CREATED] * 300
    assert len(list(graph.entities())) == 300
    rows = graph.sparql("SELECT (COUNT(*) AS ?n) WHERE { ?d a lg:Dataset ; lg:tag ?t }")
    assert int(next(iter(rows))["n"].value) == 300 * 20


def test_on_disk_store_persists_across_reopen(tmp_path):  # embedded only: a directory
    with LifecycleGraph.open(tmp_path / "db") as graph:
        graph.write(model(), source="registry", observed_at=at(0), validate=False)
    with LifecycleGraph.open(tmp_path / "db") as graph:
        assert names(graph) == ["Ranking model"]
        assert len(graph.history(MODEL)) == 1


def test_opening_a_directory_that_is_not_a_store_fails_clearly(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(StoreError, match="not a lifecyclegraph store"):
        LifecycleGraph.open(tmp_path)


def _obs(when: datetime):
    from lifecyclegraph import Observation

    return Observation("experimentation", when)


# -- properties ------------------------------------------------------------------------

values = st.sampled_from(["a", "b", "c"])
operations = st.lists(
    st.tuples(st.integers(0, 2), st.one_of(st.none(), st.frozensets(values, max_size=3))),
    max_size=25,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_snapshots_never_change_and_current_state_follows_the_last_write(fresh, ops):
    graph = fresh()
    written: dict[str, frozenset] = {}  # snapshot -> facts it was written with
    model_state: dict[str, frozenset | None] = {}
    for step, (index, tags) in enumerate(ops):
        uri = f"aip://model/registry/m{index}"
        when = at(step)
        if tags is None:
            graph.delete(uri, source="registry", observed_at=when)
            if uri in model_state:
                model_state[uri] = None
        else:
            facts = Facts.of(uri, {"rdf:type": Ref("lg:Model"), "lg:tag": sorted(tags)})
            result = graph.write(facts, source="registry", observed_at=when, validate=False)
            if result.outcome is not Outcome.UNCHANGED:
                written[result.snapshot] = facts.pairs
            model_state[uri] = facts.pairs
        for snapshot, pairs in written.items():
            assert graph.snapshot_facts(snapshot) == pairs
        # an entity's asserted facts, read from its current snapshot graph, are those
        # of every fact graph but the inferred one, by pattern too
        node = NamedNode(uri)
        for predicate in (None, LG.tag):
            everywhere = {q for q in graph.quads(node, predicate) if q.graph_name != INFERRED_GRAPH}
            assert set(graph.quads(node, predicate, inferred=False)) == everywhere
            assert everywhere or model_state.get(uri) is None or predicate is not None
    for uri, pairs in model_state.items():
        entity = graph.entity(uri)
        if pairs is None:
            assert entity is None
        else:
            tags = {o.value for p, o in pairs if p == LG.tag}
            assert set(entity.properties.get("lg:tag", [])) == tags
            # as-of "now" equals the current state
            assert graph.as_of(at(len(ops))).entity(uri).properties == entity.properties


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tag_sets=st.lists(st.frozensets(values, max_size=3), min_size=1, max_size=8))
def test_unchanged_writes_never_add_snapshots(fresh, tag_sets):
    graph = fresh()
    changes = 0
    previous = None
    for step, tags in enumerate(tag_sets):
        facts = Facts.of(MODEL, {"rdf:type": Ref("lg:Model"), "lg:tag": sorted(tags)})
        graph.write(facts, source="registry", observed_at=at(step), validate=False)
        if facts.pairs != previous:
            changes += 1
        previous = facts.pairs
    assert len(graph.history(MODEL)) == changes
    assert NamedNode(MODEL)


def test_subscribers_get_the_net_change_of_asserted_facts(graph):
    deltas = []
    graph.store.subscribe(deltas.append)
    graph.write(
        model("v1", **{"lg:tag": "a::b"}), source="registry", observed_at=at(0), validate=False
    )
    graph.write(
        model("v2", **{"lg:tag": "a::b"}), source="registry", observed_at=at(1), validate=False
    )
    graph.write(
        model("v2", **{"lg:tag": "a::b"}), source="registry", observed_at=at(2), validate=False
    )
    graph.delete(MODEL, source="registry", observed_at=at(3))
    assert len(deltas) == 3  # the unchanged write changes no fact
    assert {t.object.value for t in deltas[0].added} == {LG.Model.value, "v1", "a::b"}
    assert {t.object.value for t in deltas[1].added} == {"v2"}
    assert {t.object.value for t in deltas[1].removed} == {"v1"}
    assert {t.object.value for t in deltas[2].removed} == {LG.Model.value, "v2", "a::b"}


def test_generation_moves_on_every_commit_but_not_on_ignored_writes(graph):
    from pyoxigraph import Triple

    generations = [graph.store.generation]

    def step() -> None:
        generations.append(graph.store.generation)

    graph.write(model("v1"), source="registry", observed_at=at(1), validate=False)
    step()
    graph.write(
        model("v1"), source="registry", observed_at=at(2), validate=False
    )  # only "seen again"
    step()
    graph.write(model("v0"), source="registry", observed_at=at(0), validate=False)  # stale: ignored
    step()
    derived = Triple(NamedNode(MODEL), LG.owningTeam, NamedNode("aip://team/identity/p13n"))
    graph.store.apply_inferred([derived], [])
    step()
    graph.store.apply_inferred([], [])
    step()
    graph.store.mark_enriched([MODEL], at(3))
    step()
    graph.store.mark_enriched(["aip://model/registry/unknown"], at(3))
    step()
    assert generations == [0, 1, 2, 2, 3, 3, 4, 4]


def test_inferred_facts_are_apart_from_asserted_ones_and_visible_to_plain_sparql(graph):
    from pyoxigraph import Triple

    graph.write(model(), source="registry", observed_at=at(0), validate=False)
    derived = Triple(NamedNode(MODEL), LG.owningTeam, NamedNode("aip://team/identity/p13n"))
    graph.store.apply_inferred([derived], [])
    assert list(graph.store.inferred()) == [derived]
    assert derived not in set(graph.store.asserted())
    assert graph.sparql(f"ASK {{ <{MODEL}> lg:owningTeam ?t }}")
    edge = graph.entity(MODEL).outgoing[0]
    assert edge.inferred and edge.snapshot is None
    graph.store.apply_inferred([], [derived])
    assert not graph.sparql(f"ASK {{ <{MODEL}> lg:owningTeam ?t }}")


def test_quads_are_facts_of_the_current_state_never_bookkeeping_or_archived(graph):
    from pyoxigraph import Triple

    from lifecyclegraph.core.vocab import INFERRED_GRAPH

    graph.write(model("v1"), source="registry", observed_at=at(0), validate=False)
    graph.write(model("v2"), source="registry", observed_at=at(1), validate=False)
    derived = Triple(NamedNode(MODEL), LG.owningTeam, NamedNode("aip://team/identity/p13n"))
    graph.store.apply_inferred([derived], [])
    store, node = graph.store, NamedNode(MODEL)
    current = graph.history(MODEL)[-1].iri
    every = list(store.quads(node))
    assert {q.predicate.value for q in every} == {
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
        LG.name.value,
        LG.owningTeam.value,
    }
    assert {q.graph_name.value for q in every} == {current, INFERRED_GRAPH.value}
    assert [q.object.value for q in store.quads(node, LG.name)] == ["v2"]
    assert [q.object for q in store.quads(node, inferred=True)] == [derived.object]
    assert {q.graph_name.value for q in store.quads(node, inferred=False)} == {current}
    # the bookkeeping (lg:hydrationState, ...) sits in the default graph: never a fact
    assert store.state(MODEL) is not None
    assert not [q for q in store.quads(node) if q.predicate == LG.hydrationState]


def test_an_entitys_asserted_facts_never_look_empty_while_a_write_moves_its_snapshot(
    tmp_path, monkeypatch
):
    graph = LifecycleGraph.open(tmp_path / "store")
    graph.write(model("v1"), source="registry", observed_at=at(0), validate=False)
    first = graph.history(MODEL)[-1].iri
    graph.write(model("v2"), source="registry", observed_at=at(1), validate=False)
    store, node = graph.store, NamedNode(MODEL)
    read = store._current_snapshot
    answers = iter([NamedNode(first)])  # the first read sees the snapshot before the write

    def racing(subject):
        return next(answers, None) or read(subject)

    monkeypatch.setattr(store, "_current_snapshot", racing)
    names = [q.object.value for q in store.quads(node, LG.name, inferred=False)]
    assert names == ["v2"]  # read again from the snapshot the write made current
    graph.close()


def test_history_quads_hold_every_snapshot_and_a_past_view_keeps_those_live_then(graph):
    from lifecyclegraph.store import PastView

    feature = "aip://feature/featurestore/f"
    graph.write(model("v1"), source="registry", observed_at=at(0), validate=False)
    graph.write(model("v2"), source="registry", observed_at=at(2), validate=False)
    graph.write(
        Facts.of(feature, {"rdf:type": Ref("lg:Feature"), "lg:usedBy": Ref(MODEL)}),
        source="featurestore",
        observed_at=at(1),
        validate=False,
    )
    graph.delete(feature, source="featurestore", observed_at=at(3))
    store = graph.store
    names_ever = {q.object.value for q in store.history_quads(NamedNode(MODEL), LG.name)}
    assert names_ever == {"v1", "v2"}
    before, between, after = (PastView(store, at(h)) for h in (0.5, 1.5, 3.5))
    assert [q.object.value for q in before.quads(NamedNode(MODEL), LG.name)] == ["v1"]
    assert [q.subject.value for q in between.quads(None, None, NamedNode(MODEL))] == [feature]
    assert list(after.quads(None, None, NamedNode(MODEL))) == []  # the feature was deleted
    assert after.snapshot_at(feature).kind is HydrationState.DELETED
    assert before.snapshot_at(feature) is None
    assert between.entities() == [feature, MODEL]
    assert bool(before.query(f'ASK {{ <{MODEL}> lg:name "v1" }}'))
    with pytest.raises(ValueError, match="time zone"):
        PastView(store, datetime(2026, 1, 1))


def test_snapshot_and_quad_counts_follow_the_writes(graph):
    store = graph.store
    assert (store.snapshot_count(), store.quad_count()) == (0, 0)
    graph.write(model("v1"), source="registry", observed_at=at(0), validate=False)
    written = store.quad_count()
    graph.write(
        model("v1"), source="registry", observed_at=at(1), validate=False
    )  # seen again: no snapshot
    assert store.snapshot_count() == 1
    assert store.quad_count() == written
    graph.write(model("v2"), source="registry", observed_at=at(2), validate=False)
    graph.delete(MODEL, source="registry", observed_at=at(3))
    assert store.snapshot_count() == 3
    assert store.quad_count() == len(store.current) > 0


def _many(n: int, tag: str = "t") -> list[tuple[Facts, Any]]:
    return [
        (
            Facts.of(
                f"aip://dataset/datasets/{tag}-{i}",
                {"rdf:type": Ref("lg:Dataset"), "lg:name": f"{tag} {i}", "lg:sourceId": f"{i}"},
            ),
            _obs(at(0)),
        )
        for i in range(n)
    ]


def test_store_config_sets_how_often_the_write_buffers_are_flushed(tmp_path):
    from pydantic import ValidationError

    from lifecyclegraph.core.config import StoreConfig
    from lifecyclegraph.store.snapshots import FLUSH_EVERY

    assert StoreConfig().flush_every == FLUSH_EVERY
    with LifecycleGraph.open(tmp_path / "a", store=StoreConfig(flush_every=400_000)) as graph:
        assert graph.store.flush_every == 400_000
    with LifecycleGraph.open(tmp_path / "b") as graph:
        assert graph.store.flush_every == FLUSH_EVERY
    with pytest.raises(ValidationError, match="flush_every"):
        StoreConfig(flush_every=-1)


@pytest.mark.parametrize("flush_every", [0, 200])
def test_on_disk_writes_flush_their_write_buffers_every_so_many_quads(tmp_path, flush_every):
    from pyoxigraph import Triple

    from lifecyclegraph.store.snapshots import SnapshotStore

    store = SnapshotStore.open(tmp_path / "db")
    store.flush_every = flush_every
    before = {p.name for p in (tmp_path / "db" / "current").glob("*.sst")}
    store.write_many(_many(100))  # over 2,000 quads, in one transaction
    edges = [
        Triple(NamedNode(f"aip://x/y/{i}"), LG.upstream, NamedNode("aip://x/y/z"))
        for i in range(300)
    ]
    store.apply_inferred(edges, [])
    flushed = {p.name for p in (tmp_path / "db" / "current").glob("*.sst")} - before
    # flushed: the buffers went to table files on disk (and left memory); else they wait
    assert bool(flushed) == bool(flush_every)
    assert len(list(store.entities())) == 100
    del store  # Oxigraph lets go of the directory when its store is collected
    gc.collect()
    reopened = SnapshotStore.open(tmp_path / "db")
    assert len(list(reopened.entities())) == 100 and len(list(reopened.inferred())) == 300
