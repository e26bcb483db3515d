"""The door (lifecyclegraph.graph.door.Graph) as its callers use it, on the embedded graph.

Every test reads and writes through the door's methods only: what holds here is what
another implementation of the door must hold too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pyoxigraph import NamedNode, QuerySolutions

from lifecyclegraph import Facts, Graph, HydrationState, LifecycleGraph, Observation, Outcome, Ref
from lifecyclegraph.core.errors import QueryRequestError, QuerySyntaxError
from lifecyclegraph.core.vocab import INFERRED_GRAPH, LG, RDF_TYPE
from lifecyclegraph.graph import PastGraph
from lifecyclegraph.graph.lineage import UnknownTypeError

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MODEL = "aip://model/registry/m"
FEATURE = "aip://feature/featurestore/f"
DATASET = "aip://dataset/datasets/d"
ALICE = "aip://user/identity/alice"


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@pytest.fixture
def graph() -> Graph:
    with LifecycleGraph.in_memory(rules=True) as opened:
        yield opened


def feature(**extra: object) -> Facts:
    """A partial feature (no source id, no value type) naming a dataset no test writes:
    the writes of it here opt out of the checks (``validate=False``), since their point
    is the door's bookkeeping, not the model (checked writes: test_validated_writes.py)."""
    return Facts.of(
        FEATURE,
        {"rdf:type": Ref("lg:Feature"), "lg:name": "f", "lg:sourceDataset": Ref(DATASET), **extra},
    )


def test_the_embedded_graph_is_a_door(graph):
    assert isinstance(graph, Graph)
    assert isinstance(graph.as_of(T0), PastGraph)


def test_state_tells_unknown_stub_hydrated_and_deleted_apart(graph):
    assert graph.state(MODEL) is None
    graph.reference(MODEL, LG.Model.value, source="registry", observed_at=at(0))
    assert graph.state(MODEL).state is HydrationState.REFERENCED
    graph.write(
        Facts.of(MODEL, {"rdf:type": Ref("lg:Model")}),
        source="registry",
        observed_at=at(1),
        validate=False,  # a bare model: the point is the hydration state
    )
    assert graph.state(MODEL).state is HydrationState.HYDRATED
    graph.delete(MODEL, source="registry", observed_at=at(2))
    assert graph.state(MODEL).state is HydrationState.DELETED
    assert graph.entity(MODEL) is None
    assert list(graph.entities(HydrationState.DELETED)) == [MODEL]


def test_quads_keep_asserted_and_derived_facts_apart(graph):
    graph.write(feature(), source="featurestore", observed_at=at(0), validate=False)
    node = NamedNode(FEATURE)
    asserted = {q.predicate for q in graph.quads(node, inferred=False)}
    derived = {q.predicate for q in graph.quads(node, inferred=True)}
    assert asserted == {RDF_TYPE, LG.name, LG.sourceDataset}
    assert {LG.dependsOn, LG.upstream} <= derived
    assert all(q.graph_name == INFERRED_GRAPH for q in graph.quads(node, inferred=True))
    both = set(graph.quads(node))
    assert {q.predicate for q in both} == asserted | derived
    snapshot = graph.state(FEATURE).current_snapshot
    assert {q.graph_name.value for q in graph.quads(node, inferred=False)} == {snapshot}


def test_snapshot_and_its_facts_read_back_what_was_written(graph):
    result = graph.write(
        feature(), source="featurestore", observed_at=at(0), validate=False, event_id="e-1"
    )
    info = graph.snapshot(result.snapshot)
    assert (info.entity, info.source, info.event_id, info.observed_at) == (
        FEATURE,
        "featurestore",
        "e-1",
        at(0),
    )
    assert graph.snapshot_facts(result.snapshot) == feature().pairs
    with pytest.raises(KeyError):
        graph.snapshot("urn:lifecyclegraph:snapshot:nope")
    assert graph.snapshot_facts("urn:lifecyclegraph:snapshot:nope") == frozenset()


def test_write_many_delete_many_and_reference_many_report_each_entity(graph):
    seen = Observation("registry", at(0), "e-1")
    model = Facts.of(MODEL, {"rdf:type": Ref("lg:Model"), "lg:owner": Ref(ALICE)})
    # the owner's stub comes after the model that names it (as the worker plans them)
    assert [r.outcome for r in graph.write_many([(model, seen)], validate=False)] == [
        Outcome.CREATED
    ]
    stubs = graph.reference_many(
        [(ALICE, LG.User.value, seen), (ALICE, LG.User.value, seen), (MODEL, LG.Model.value, seen)]
    )
    assert [r.outcome for r in stubs] == [Outcome.REFERENCED, Outcome.IGNORED, Outcome.IGNORED]
    assert graph.entity(ALICE).types == (LG.User.value,)
    gone = graph.delete_many([(MODEL, Observation("registry", at(1)))])
    assert [(r.uri, r.outcome) for r in gone] == [(MODEL, Outcome.DELETED)]


def test_mark_enriched_sets_last_enriched_at_of_known_entities_only(graph):
    graph.write(feature(), source="featurestore", observed_at=at(0), validate=False)
    graph.mark_enriched([FEATURE, MODEL], at(3))
    assert graph.state(FEATURE).last_enriched_at == at(3)
    assert graph.state(MODEL) is None


def test_lineage_and_impact_are_none_for_an_unknown_or_deleted_entity(graph):
    graph.write(feature(), source="featurestore", observed_at=at(0), validate=False)
    view = graph.lineage(FEATURE, direction="upstream", depth=2)
    assert [n["uri"] for n in view["nodes"]] == [DATASET]
    assert view["reach"] == 1
    assert graph.impact(DATASET) is None  # only named by the feature: unknown
    graph.reference(DATASET, LG.Dataset.value, source="featurestore", observed_at=at(0))
    assert [e["uri"] for e in graph.impact(DATASET)["entities"]] == [FEATURE]
    assert graph.lineage(MODEL) is None and graph.impact(MODEL) is None
    graph.delete(FEATURE, source="featurestore", observed_at=at(1))
    assert graph.lineage(FEATURE) is None and graph.impact(FEATURE) is None
    with pytest.raises(UnknownTypeError, match="did you mean lg:Feature"):
        graph.lineage(DATASET, types=["lg:Featur"])


def test_lineage_reach_is_none_without_rules():
    with LifecycleGraph.in_memory() as plain:
        plain.write(feature(), source="featurestore", observed_at=at(0), validate=False)
        assert not plain.has_rules
        assert plain.lineage(FEATURE)["reach"] is None


def test_sparql_default_and_named_graphs_choose_the_dataset(graph):
    result = graph.write(feature(), source="featurestore", observed_at=at(0), validate=False)
    query = "SELECT ?n WHERE { ?f lg:name ?n }"
    assert [r["n"].value for r in graph.sparql(query)] == ["f"]
    assert list(graph.sparql(query, default_graphs=[INFERRED_GRAPH.value])) == []
    assert [r["n"].value for r in graph.sparql(query, default_graphs=[result.snapshot])] == ["f"]
    named = "SELECT ?g WHERE { GRAPH ?g { ?f lg:name ?n } }"
    rows = graph.sparql(named, named_graphs=[result.snapshot])
    assert isinstance(rows, QuerySolutions)
    assert [r["g"].value for r in rows] == [result.snapshot]
    with pytest.raises(QueryRequestError, match="default-graph-uri"):
        graph.sparql(query, default_graphs=["not an iri"])


def test_sparql_syntax_error_names_line_and_column(graph):
    with pytest.raises(QuerySyntaxError) as caught:
        graph.sparql("SELECT ?x WHERE {\n  ?x lg:name }")
    assert (caught.value.lineno, caught.value.offset) == (2, 14)
    assert isinstance(caught.value, SyntaxError)


def test_as_of_past_graph_answers_entities_quads_snapshots_and_sparql(graph):
    graph.write(feature(), source="featurestore", observed_at=at(0), validate=False)
    graph.write(
        feature(**{"lg:name": "g"}), source="featurestore", observed_at=at(2), validate=False
    )
    graph.delete(FEATURE, source="featurestore", observed_at=at(4))
    then, later = graph.as_of(at(1)), graph.as_of(at(5))
    assert then.entity(FEATURE).name == "f" and later.entity(FEATURE) is None
    assert [q.object.value for q in then.quads(NamedNode(FEATURE), LG.name)] == ["f"]
    assert then.snapshot_of(FEATURE).kind is HydrationState.HYDRATED
    assert later.snapshot_of(FEATURE).kind is HydrationState.DELETED
    assert graph.as_of(at(-1)).snapshot_of(FEATURE) is None
    assert then.snapshot(then.snapshot_of(FEATURE).iri).source == "featurestore"
    assert [r["n"].value for r in then.sparql("SELECT ?n { ?f lg:name ?n }")] == ["f"]
    assert then.entities() == [FEATURE] and later.entities() == []
    with pytest.raises(ValueError, match="time zone"):
        graph.as_of(datetime(2026, 1, 1))


def test_explain_goes_down_to_the_asserted_fact_with_its_source(graph):
    graph.write(feature(), source="featurestore", observed_at=at(0), validate=False)
    tree = graph.explain(FEATURE, "lg:upstream", DATASET)
    assert tree is not None and not tree.asserted
    assert graph.explain(FEATURE, "lg:upstream", MODEL) is None
    assert [len(t.premises) > 0 for t in graph.explain_all(FEATURE, "lg:upstream")] == [True]


def test_materialize_runs_a_given_program_within_a_given_limit(graph):
    from lifecyclegraph.core.errors import RuleLimitError

    graph.write(feature(), source="featurestore", observed_at=at(0), validate=False)
    assert graph.materialize().derived > 0
    with pytest.raises(RuleLimitError):
        graph.materialize(limit=1)
