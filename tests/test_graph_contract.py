"""The door's contract: every test runs on the embedded graph and on the remote one.

The remote graph talks to one real service over HTTP for the whole session
(``served`` in ``conftest.py``), so each test names its own entities (``name``) and
never counts the whole graph: it asserts about its own URIs only.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, QueryBoolean, QuerySolutions, Triple

from lifecyclegraph import (
    Facts,
    Graph,
    HydrationState,
    InvalidFactsError,
    LifecycleGraph,
    Observation,
    Outcome,
    Ref,
    RemoteGraph,
)
from lifecyclegraph.core.config import SearchConfig
from lifecyclegraph.core.errors import (
    QueryRequestError,
    QuerySyntaxError,
    SearchQueryError,
)
from lifecyclegraph.core.vocab import INFERRED_GRAPH, LG, RDF_TYPE, XSD
from lifecyclegraph.graph import PastGraph
from lifecyclegraph.graph.checks import WriteRefusedError
from lifecyclegraph.graph.lineage import UnknownTypeError

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@pytest.fixture(params=["embedded", "remote"])
def graph(request):
    """The door: embedded (a graph in memory) or remote (the ``served`` service)."""
    if request.param == "embedded":
        with LifecycleGraph.in_memory(rules=True, search=SearchConfig(batch_ms=10)) as opened:
            yield opened
    else:
        server = request.getfixturevalue("served")
        with RemoteGraph(server.url, token=server.token) as remote:
            yield remote


@pytest.fixture(params=["embedded", "remote"])
def unindexed(request):
    """The door without a search index (see ``served_unindexed``)."""
    if request.param == "embedded":
        with LifecycleGraph.in_memory() as opened:
            yield opened
    else:
        server = request.getfixturevalue("served_unindexed")
        with RemoteGraph(server.url, token=server.token) as remote:
            yield remote


@pytest.fixture
def name(request):
    """Per-test AIP URIs: ``name("model", "registry", "m")`` is
    ``aip://model/registry/<test>-<random>-m``."""
    tag = f"{request.node.originalname.removeprefix('test_')[:30]}-{uuid.uuid4().hex[:8]}"

    def make(kind: str, platform: str, local: str) -> str:
        return f"aip://{kind}/{platform}/{tag}-{local}"

    make.tag = tag
    return make


def mine(var: str, name) -> str:
    """A SPARQL filter keeping ``?var`` to this test's URIs."""
    return f'FILTER(CONTAINS(STR(?{var}), "{name.tag}"))'


# Writes marked ``validate=False`` below hold partial entities on purpose (no source id,
# links to IRIs the test never writes): their point is the door's bookkeeping, not the
# model. Checked writes have their own tests at the end of this file.


def model(uri: str, label: str = "Ranking model", **extra: object) -> Facts:
    """A model that passes the checks (with two warnings: no description, no owner)."""
    source_id = uri.rsplit("/", 1)[-1]
    return Facts.of(
        uri, {"rdf:type": Ref("lg:Model"), "lg:name": label, "lg:sourceId": source_id, **extra}
    )


# -- entities --------------------------------------------------------------------------------


def test_the_graph_is_a_door(graph):
    assert isinstance(graph, Graph)
    assert isinstance(graph.as_of(T0), PastGraph)


def test_entity_shows_properties_and_relationships_both_ways(graph, name):
    m, instance = name("model", "registry", "m"), name("model", "registry", "m-v5")
    graph.write(
        Facts.of(
            instance,
            {"rdf:type": Ref("lg:ModelInstance"), "lg:version": "5", "lg:instanceOf": Ref(m)},
        ),
        source="registry",
        observed_at=at(0),
        validate=False,  # a partial instance, of a model written after it
    )
    graph.write(model(m, **{"lg:currentInstance": Ref(instance)}), source="registry")
    entity = graph.entity(m)
    assert entity.types == (LG.Model.value,)
    assert entity.properties == {"lg:name": ["Ranking model"], "lg:sourceId": [m.rsplit("/")[-1]]}
    assert entity.related("lg:currentInstance") == [instance]
    assert entity.related("lg:instanceOf", incoming=True) == [instance]
    asserted = [r for r in entity.outgoing + entity.incoming if not r.inferred]
    assert asserted and all(r.snapshot for r in asserted)
    assert entity.state.state is HydrationState.HYDRATED
    assert entity.snapshot.iri == entity.state.current_snapshot


def test_entity_is_none_when_unknown_or_deleted(graph, name):
    m = name("model", "registry", "m")
    assert graph.entity(m) is None
    graph.write(model(m), source="registry", observed_at=at(0))
    graph.delete(m, source="registry", observed_at=at(1))
    assert graph.entity(m) is None


def test_entity_marks_derived_relationships_inferred(graph, name):
    f, d = name("feature", "featurestore", "f"), name("dataset", "datasets", "d")
    graph.write(
        Facts.of(f, {"rdf:type": Ref("lg:Feature"), "lg:sourceDataset": Ref(d)}),
        source="featurestore",
        observed_at=at(0),
        validate=False,  # a partial feature naming a dataset never written
    )
    entity = graph.entity(f)
    upstream = [r for r in entity.outgoing if r.predicate == LG.upstream.value]
    assert [(r.object, r.inferred, r.snapshot) for r in upstream] == [(d, True, None)]


def test_state_tells_unknown_stub_hydrated_and_deleted_apart(graph, name):
    m = name("model", "registry", "m")
    assert graph.state(m) is None
    graph.reference(m, LG.Model.value, source="registry", observed_at=at(0))
    assert graph.state(m).state is HydrationState.REFERENCED
    assert graph.state(m).last_hydrated_at is None
    graph.write(model(m), source="registry", observed_at=at(1))
    assert graph.state(m).state is HydrationState.HYDRATED
    assert graph.state(m).last_hydrated_at == at(1)
    graph.delete(m, source="registry", observed_at=at(2))
    assert graph.state(m).state is HydrationState.DELETED


def test_entities_lists_by_state(graph, name):
    a, b, c = (name("model", "registry", x) for x in "abc")
    graph.write(model(a), source="registry", observed_at=at(0))
    graph.reference(b, LG.Model.value, source="registry", observed_at=at(0))
    graph.write(model(c), source="registry", observed_at=at(0))
    graph.delete(c, source="registry", observed_at=at(1))
    every = set(graph.entities())
    assert {a, b, c} <= every
    assert a in set(graph.entities(HydrationState.HYDRATED))
    referenced = set(graph.entities(HydrationState.REFERENCED))
    assert b in referenced and a not in referenced
    assert c in set(graph.entities(HydrationState.DELETED))


def test_quads_keep_asserted_and_derived_facts_apart(graph, name):
    f, d = name("feature", "featurestore", "f"), name("dataset", "datasets", "d")
    graph.write(
        Facts.of(f, {"rdf:type": Ref("lg:Feature"), "lg:name": "f", "lg:sourceDataset": Ref(d)}),
        source="featurestore",
        observed_at=at(0),
        validate=False,  # a partial feature naming a dataset never written
    )
    node = NamedNode(f)
    asserted = {q.predicate for q in graph.quads(node, inferred=False)}
    derived = {q.predicate for q in graph.quads(node, inferred=True)}
    assert asserted == {RDF_TYPE, LG.name, LG.sourceDataset}
    assert {LG.dependsOn, LG.upstream} <= derived
    assert all(q.graph_name == INFERRED_GRAPH for q in graph.quads(node, inferred=True))
    assert {q.predicate for q in graph.quads(node)} == asserted | derived
    snapshot = graph.state(f).current_snapshot
    assert {q.graph_name.value for q in graph.quads(node, inferred=False)} == {snapshot}
    named = list(graph.quads(None, LG.name, Literal("f")))
    assert NamedNode(f) in {q.subject for q in named}
    assert [q.subject for q in graph.quads(None, None, NamedNode(d), inferred=False)] == [node]


def test_quads_never_show_bookkeeping(graph, name):
    m = name("model", "registry", "m")
    graph.write(model(m), source="registry", observed_at=at(0))
    graph.delete(m, source="registry", observed_at=at(1))
    assert list(graph.quads(NamedNode(m))) == []
    snapshot = graph.history(m)[0].iri
    assert list(graph.quads(NamedNode(snapshot))) == []


# -- history ---------------------------------------------------------------------------------


def test_history_lists_every_snapshot_oldest_first_with_source_and_event(graph, name):
    m = name("model", "registry", "m")
    first = graph.write(model(m, "v1"), source="registry", observed_at=at(0), event_id="e-1")
    second = graph.write(model(m, "v2"), source="registry", observed_at=at(1))
    history = graph.history(m)
    assert [h.iri for h in history] == [first.snapshot, second.snapshot]
    assert [(h.source, h.event_id, h.observed_at) for h in history] == [
        ("registry", "e-1", at(0)),
        ("registry", None, at(1)),
    ]
    assert history[1].supersedes == first.snapshot
    assert graph.history(name("model", "registry", "never")) == []


def test_snapshot_reads_back_its_entry_and_an_unknown_iri_raises_key_error(graph, name):
    m = name("model", "registry", "m")
    result = graph.write(model(m), source="registry", observed_at=at(0), event_id="e-1")
    info = graph.snapshot(result.snapshot)
    assert (info.entity, info.source, info.event_id, info.observed_at, info.kind) == (
        m,
        "registry",
        "e-1",
        at(0),
        HydrationState.HYDRATED,
    )
    with pytest.raises(KeyError):
        graph.snapshot("urn:lifecyclegraph:snapshot:nope")
    assert graph.snapshot_facts("urn:lifecyclegraph:snapshot:nope") == frozenset()


#: Literals in canonical form (the store keeps decimals and times canonical: 1.50 is 1.5).
LITERALS = st.one_of(
    st.text(max_size=20).map(Literal),
    st.tuples(st.text(max_size=10), st.sampled_from(["en", "fr", "de-CH"])).map(
        lambda t: Literal(t[0], language=t[1])
    ),
    st.integers(-(10**12), 10**12).map(lambda n: Literal(str(n), datatype=XSD.integer)),
    st.booleans().map(lambda b: Literal("true" if b else "false", datatype=XSD.boolean)),
    st.dates().map(lambda d: Literal(d.isoformat(), datatype=XSD.date)),
    st.datetimes(timezones=st.just(UTC)).map(
        lambda t: Literal(
            t.replace(microsecond=0).isoformat().replace("+00:00", "Z"), datatype=XSD.dateTime
        )
    ),
)


@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(values=st.lists(LITERALS, min_size=1, max_size=5))
def test_snapshot_facts_equal_what_was_written(unindexed, values):
    graph = unindexed
    uri = f"aip://model/registry/facts-{uuid.uuid4().hex}"
    pairs = frozenset({(RDF_TYPE, LG.Model), *((LG.description, v) for v in values)})
    # any literal, as many descriptions as drawn: the wire's round trip, not the shapes
    result = graph.write(Facts(uri, pairs), source="registry", observed_at=at(0), validate=False)
    assert graph.snapshot_facts(result.snapshot) == pairs


# -- as of -----------------------------------------------------------------------------------


def test_as_of_shows_one_entity_at_three_points_of_its_life(graph, name):
    m = name("model", "registry", "m")
    graph.write(model(m, "v1"), source="registry", observed_at=at(1))
    graph.write(model(m, "v2"), source="registry", observed_at=at(2))
    graph.delete(m, source="registry", observed_at=at(3))
    assert graph.as_of(at(0.5)).entity(m) is None
    assert graph.as_of(at(1.5)).entity(m).name == "v1"
    assert graph.as_of(at(2)).entity(m).name == "v2"
    assert graph.as_of(at(3.5)).entity(m) is None
    assert graph.as_of(at(3.5)).snapshot_of(m).kind is HydrationState.DELETED
    assert graph.as_of(at(0.5)).snapshot_of(m) is None


def test_as_of_shows_the_whole_graph_at_three_points(graph, name):
    m, alice = name("model", "registry", "m"), name("user", "identity", "alice")
    graph.write(
        Facts.of(alice, {"rdf:type": Ref("lg:User"), "lg:name": "Alice"}),
        source="identity",
        observed_at=at(1),
        validate=False,  # a partial user: the point is the time travel
    )
    graph.write(model(m, "v1", **{"lg:owner": Ref(alice)}), source="registry", observed_at=at(2))
    graph.write(model(m, "v2", **{"lg:owner": Ref(alice)}), source="registry", observed_at=at(3))
    graph.delete(alice, source="identity", observed_at=at(4))
    query = (
        "SELECT ?m ?n ?o WHERE { ?m lg:name ?n . OPTIONAL { ?m lg:owner ?o } "
        + mine("m", name)
        + " } ORDER BY ?n"
    )

    def rows(view):
        return [(r["n"].value, r["o"].value if r["o"] else None) for r in view.sparql(query)]

    assert rows(graph.as_of(at(1.5))) == [("Alice", None)]
    assert rows(graph.as_of(at(2.5))) == [("Alice", None), ("v1", alice)]
    assert rows(graph.as_of(at(4.5))) == [("v2", alice)]
    then = graph.as_of(at(2.5))
    assert then.entity(alice).related("lg:owner", incoming=True) == [m]
    assert {m, alice} <= set(then.entities())
    assert alice not in graph.as_of(at(4.5)).entities()
    assert [q.object.value for q in then.quads(NamedNode(m), LG.name)] == ["v1"]
    assert then.snapshot(then.snapshot_of(m).iri).source == "registry"


def test_as_of_refuses_a_naive_datetime(graph):
    with pytest.raises(ValueError, match="time zone"):
        graph.as_of(datetime(2026, 1, 1))


# -- relationships ---------------------------------------------------------------------------


def test_lineage_walks_depends_on_with_distances(graph, name):
    f, d, pipeline = (
        name(k, p, x)
        for k, p, x in [
            ("feature", "featurestore", "f"),
            ("dataset", "datasets", "d"),
            ("pipeline", "orchestrator", "p"),
        ]
    )
    graph.write(
        Facts.of(f, {"rdf:type": Ref("lg:Feature"), "lg:sourceDataset": Ref(d)}),
        source="featurestore",
        observed_at=at(0),
        validate=False,  # a partial feature naming a dataset never written
    )
    graph.write(
        Facts.of(d, {"rdf:type": Ref("lg:Dataset"), "lg:writtenByPipeline": Ref(pipeline)}),
        source="datasets",
        observed_at=at(0),
        validate=False,  # a partial dataset naming a pipeline never written
    )
    view = graph.lineage(f, direction="upstream", depth=3)
    assert [(n["uri"], n["depth"]) for n in view["nodes"]] == [(d, 1), (pipeline, 2)]
    # the reach is the property path over the one-step edges: both steps, at any depth
    assert view["reach"] == 2 and graph.lineage(f, depth=1)["reach"] == 2
    graph.write(
        Facts.of(pipeline, {"rdf:type": Ref("lg:Pipeline")}),
        source="orchestrator",
        observed_at=at(0),
        validate=False,  # a partial pipeline
    )
    assert graph.lineage(pipeline, direction="downstream", depth=1)["reach"] == 2
    assert [e["uri"] for e in graph.impact(pipeline)["entities"]] == [d, f]
    assert [n["uri"] for n in graph.lineage(f, depth=1)["nodes"]] == [d]
    down = graph.lineage(d, direction="downstream")
    assert [n["uri"] for n in down["nodes"]] == [f]
    with pytest.raises(UnknownTypeError, match="did you mean lg:Feature"):
        graph.lineage(d, types=["lg:Featur"])
    with pytest.raises(ValueError, match="depth"):
        graph.lineage(f, depth=0)
    with pytest.raises(ValueError, match="depth"):
        graph.lineage(f, depth=101)


def test_lineage_and_impact_are_none_for_an_unknown_or_deleted_entity(graph, name):
    f, d = name("feature", "featurestore", "f"), name("dataset", "datasets", "d")
    graph.write(
        Facts.of(f, {"rdf:type": Ref("lg:Feature"), "lg:sourceDataset": Ref(d)}),
        source="featurestore",
        observed_at=at(0),
        validate=False,  # a partial feature naming a dataset never written
    )
    assert graph.impact(d) is None  # only named by the feature: unknown
    graph.reference(d, LG.Dataset.value, source="featurestore", observed_at=at(0))
    assert [e["uri"] for e in graph.impact(d)["entities"]] == [f]
    graph.delete(f, source="featurestore", observed_at=at(1))
    assert graph.lineage(f) is None and graph.impact(f) is None
    unknown = name("model", "registry", "never")
    assert graph.lineage(unknown) is None and graph.impact(unknown) is None


def test_explain_goes_down_to_asserted_facts_with_their_source(graph, name):
    f, d = name("feature", "featurestore", "f"), name("dataset", "datasets", "d")
    graph.write(
        Facts.of(f, {"rdf:type": Ref("lg:Feature"), "lg:sourceDataset": Ref(d)}),
        source="featurestore",
        observed_at=at(0),
        validate=False,  # a partial feature naming a dataset never written
        event_id="e-9",
    )
    assert graph.has_rules
    tree = graph.explain(f, "lg:upstream", d)
    assert tree is not None and not tree.asserted
    assert str(tree.rule.location).startswith("rules/lineage.rules")
    leaves = tree.leaves()
    assert [(s.source, s.event_id) for leaf in leaves for s in leaf.sources] == [
        ("featurestore", "e-9")
    ]
    text = str(tree)
    assert text.splitlines()[0] == f"<{f}> lg:upstream <{d}>"
    assert "[asserted by featurestore at 2026-01-01T00:00:00Z, event e-9]" in text
    assert graph.explain(f, "lg:upstream", name("model", "registry", "m")) is None
    assert len(graph.explain_all(NamedNode(f), "lg:upstream")) == 1


def test_explain_a_pair_two_steps_apart_gives_the_chain_of_one_step_facts(graph, name):
    f, d, raw = (
        name("feature", "featurestore", "f"),
        name("dataset", "datasets", "d"),
        name("dataset", "datasets", "raw"),
    )
    for uri, link, to, event in [
        (f, "lg:sourceDataset", d, "e-1"),
        (d, "lg:upstreamDataset", raw, "e-2"),
    ]:
        graph.write(
            Facts.of(uri, {link: Ref(to)}),
            source="test",
            observed_at=at(0),
            validate=False,  # partial entities
            event_id=event,
        )
    # the pair is no fact (one-step edges only), yet "why is raw upstream of f?" answers
    assert graph.explain_all(NamedNode(f), "lg:upstream", NamedNode(raw)) == []
    tree = graph.explain(f, "lg:upstream", raw)
    assert tree is not None and tree.rule.origin == "path"
    assert [p.statement for p in tree.premises] == [
        f"<{f}> lg:upstream <{d}>",
        f"<{d}> lg:upstream <{raw}>",
    ]
    assert all(str(p.rule.location).startswith("rules/lineage.rules") for p in tree.premises)
    assert [s.event_id for leaf in tree.leaves() for s in leaf.sources] == ["e-1", "e-2"]
    assert str(tree).splitlines()[1].startswith("  by lg:upstream+ A chain of 2 one-step")
    assert graph.explain(raw, "lg:downstream", f) is not None
    assert graph.explain(raw, "lg:upstream", f) is None
    for text in ("not an IRI", "x: y z", ""):  # a literal's text is no lineage pair
        assert graph.explain(f, "lg:upstream", text) is None


# -- SPARQL ----------------------------------------------------------------------------------


def test_sparql_select_returns_typed_rows(graph, name):
    m = name("model", "registry", "m")
    graph.write(model(m, **{"lg:createdAt": at(0)}), source="registry", observed_at=at(0))
    rows = graph.sparql(f"SELECT ?n ?t WHERE {{ <{m}> lg:name ?n ; lg:createdAt ?t }}")
    assert isinstance(rows, QuerySolutions)
    (row,) = list(rows)
    assert row["n"] == Literal("Ranking model")
    assert row["t"] == Literal("2026-01-01T00:00:00Z", datatype=XSD.dateTime)


def test_sparql_ask_is_truthy(graph, name):
    m = name("model", "registry", "m")
    graph.write(model(m), source="registry", observed_at=at(0))
    yes = graph.sparql(f"ASK {{ <{m}> a lg:Model }}")
    assert isinstance(yes, QueryBoolean) and bool(yes)
    assert not bool(graph.sparql(f"ASK {{ <{m}> a lg:Dataset }}"))


def test_sparql_construct_returns_triples(graph, name):
    m = name("model", "registry", "m")
    graph.write(model(m), source="registry", observed_at=at(0))
    triples = list(graph.sparql(f"CONSTRUCT {{ <{m}> lg:name ?n }} WHERE {{ <{m}> lg:name ?n }}"))
    assert triples == [Triple(NamedNode(m), LG.name, Literal("Ranking model"))]


def test_sparql_default_and_named_graphs_choose_the_dataset(graph, name):
    f = name("feature", "featurestore", "f")
    result = graph.write(
        Facts.of(f, {"rdf:type": Ref("lg:Feature"), "lg:name": "f"}),
        source="featurestore",
        observed_at=at(0),
        validate=False,  # a partial feature: the point is the dataset SPARQL sees
    )
    query = f"SELECT ?n WHERE {{ <{f}> lg:name ?n }}"
    assert [r["n"].value for r in graph.sparql(query)] == ["f"]
    assert list(graph.sparql(query, default_graphs=[INFERRED_GRAPH.value])) == []
    assert [r["n"].value for r in graph.sparql(query, default_graphs=[result.snapshot])] == ["f"]
    named = f"SELECT ?g WHERE {{ GRAPH ?g {{ <{f}> lg:name ?n }} }}"
    rows = graph.sparql(named, named_graphs=[result.snapshot])
    assert [r["g"].value for r in rows] == [result.snapshot]
    with pytest.raises(QueryRequestError, match="default-graph-uri"):
        graph.sparql(query, default_graphs=["not an iri"])


def test_sparql_syntax_error_names_line_and_column(graph):
    with pytest.raises(QuerySyntaxError) as caught:
        graph.sparql("SELECT ?x WHERE {\n  ?x lg:name }")
    assert (caught.value.lineno, caught.value.offset) == (2, 14)
    assert isinstance(caught.value, SyntaxError)
    with pytest.raises(QuerySyntaxError) as based:
        graph.sparql("SELECT ?x WHERE {\n  ?x lg:name }", base_iri="http://example.org/")
    assert (based.value.lineno, based.value.offset) == (2, 14)


def test_sparql_sees_the_writes_just_made(graph, name):
    """The served graph's SPARQL checkpoints lag 30 s behind; a client still reads
    its own writes."""
    m = name("model", "registry", "m")
    for n, label in enumerate(["v1", "v2", "v3"]):
        graph.write(model(m, label), source="registry", observed_at=at(n))
        rows = graph.sparql(f"SELECT ?n WHERE {{ <{m}> lg:name ?n }}")
        assert [r["n"].value for r in rows] == [label]


# -- search ----------------------------------------------------------------------------------


def _eventually(check, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_search_finds_a_written_entity_within_a_second(graph, name):
    m = name("model", "registry", "m")
    word = f"zebra{uuid.uuid4().hex[:6]}"
    graph.write(
        model(m, f"Ranking {word}", **{"lg:description": f"ranks {word} pages"}),
        source="registry",
        observed_at=at(0),
    )
    results = _eventually(lambda: graph.search(word).total)
    assert results == 1
    found = graph.search(word, type="model")
    assert found.uris == [m]
    assert found.hits[0].name == f"Ranking {word}"
    assert "<mark>" in found.hits[0].snippet
    assert found.facets["type"] == {"lg:Model": 1}
    assert graph.search(word, type="dataset").total == 0
    assert graph.search(word, facets=False).facets == {}


def test_search_unknown_type_suggests_the_near_miss(graph):
    with pytest.raises(SearchQueryError, match="model"):
        graph.search("x", type="modell")
    with pytest.raises(SearchQueryError, match="page"):
        graph.search("x", page=0)


def test_search_owners_finds_teams(graph, name):
    team = name("team", "identity", "t")
    word = f"otter{uuid.uuid4().hex[:6]}"
    graph.write(
        Facts.of(
            team, {"rdf:type": Ref("lg:Team"), "lg:name": f"Team {word}", "lg:sourceId": word}
        ),
        source="identity",
        observed_at=at(0),
    )
    assert _eventually(lambda: graph.search_owners(word).uris) == [team]


# -- writes ----------------------------------------------------------------------------------


def test_unchanged_write_records_only_seen_again(graph, name):
    m = name("model", "registry", "m")
    first = graph.write(model(m), source="registry", observed_at=at(0))
    again = graph.write(model(m), source="registry", observed_at=at(5))
    assert (first.outcome, again.outcome) == (Outcome.CREATED, Outcome.UNCHANGED)
    assert again.snapshot == first.snapshot
    assert len(graph.history(m)) == 1
    assert graph.state(m).last_seen_at == at(5)


def test_changed_write_keeps_the_old_snapshot_unchanged(graph, name):
    m = name("model", "registry", "m")
    first = graph.write(model(m, "v1"), source="registry", observed_at=at(0))
    second = graph.write(model(m, "v2"), source="registry", observed_at=at(1))
    assert second.outcome is Outcome.UPDATED
    assert (LG.name, Literal("v1")) in graph.snapshot_facts(first.snapshot)
    assert graph.entity(m).name == "v2"


def test_stale_observation_is_ignored(graph, name):
    m = name("model", "registry", "m")
    graph.write(model(m, "new"), source="registry", observed_at=at(2))
    assert graph.write(model(m, "old"), source="registry", observed_at=at(1)).outcome is (
        Outcome.STALE
    )
    assert graph.entity(m).name == "new"
    assert graph.delete(m, source="registry", observed_at=at(1)).outcome is Outcome.STALE


def test_delete_keeps_history(graph, name):
    m = name("model", "registry", "m")
    created = graph.write(model(m), source="registry", observed_at=at(0))
    deleted = graph.delete(m, source="registry", observed_at=at(1), event_id="del-1")
    assert deleted.outcome is Outcome.DELETED
    history = graph.history(m)
    assert [h.kind for h in history] == [HydrationState.HYDRATED, HydrationState.DELETED]
    assert history[1].event_id == "del-1"
    assert (LG.name, Literal("Ranking model")) in graph.snapshot_facts(created.snapshot)
    assert graph.delete(name("model", "registry", "never"), source="registry").outcome is (
        Outcome.IGNORED
    )


def test_reference_leaves_a_known_entity_as_it_is(graph, name):
    m, alice = name("model", "registry", "m"), name("user", "identity", "alice")
    seen = Observation("registry", at(0), "e-1")
    # the owner's stub comes after the model that names it (as the worker plans them)
    graph.write_many([(model(m, **{"lg:owner": Ref(alice)}), seen)], validate=False)
    stubs = graph.reference_many(
        [(alice, LG.User.value, seen), (alice, LG.User.value, seen), (m, LG.Model.value, seen)]
    )
    assert [r.outcome for r in stubs] == [Outcome.REFERENCED, Outcome.IGNORED, Outcome.IGNORED]
    assert graph.entity(alice).types == (LG.User.value,)
    assert graph.entity(m).name == "Ranking model"


def test_parts_are_versioned_with_their_parent(graph, name):
    test = name("ab-test", "experimentation", "t")

    def cell(n: int) -> Facts:
        return Facts.of(
            f"{test}:{n}",
            {"rdf:type": Ref("lg:ABTestCell"), "lg:cellNumber": n, "lg:cellOf": Ref(test)},
        )

    def ab(*cells: int) -> Facts:
        return Facts.of(test, {"rdf:type": Ref("lg:ABTest")}, parts=[cell(n) for n in cells])

    obs = Observation("experimentation", at(0))
    # partial tests and cells: the point is how parts are versioned
    written = graph.write_many([(ab(1, 2), obs)], validate=False)
    assert [r.outcome for r in written] == [Outcome.CREATED] * 3
    graph.write_many([(ab(1), Observation("experimentation", at(1)))], validate=False)
    assert graph.entity(cell(2).uri) is None
    assert graph.entity(cell(1).uri).state.part_of == test
    assert graph.entity(cell(1).uri).get("lg:cellNumber") == 1


def test_mark_enriched_sets_last_enriched_at(graph, name):
    m, never = name("model", "registry", "m"), name("model", "registry", "never")
    graph.write(model(m), source="registry", observed_at=at(0))
    graph.mark_enriched([m, never], at(3))
    assert graph.state(m).last_enriched_at == at(3)
    assert graph.state(never) is None


def test_lineage_refuses_a_direction_it_does_not_know(graph, name):
    m = name("model", "registry", "m")
    graph.write(model(m), source="registry", observed_at=at(0))
    for direction in ("sideways", "dependsOn"):
        with pytest.raises(ValueError, match=f"upstream or downstream, not '{direction}'"):
            graph.lineage(m, direction=direction)


def test_a_write_with_enriched_at_marks_what_it_wrote_in_the_same_write(graph, name):
    m, cell = name("model", "registry", "m"), name("model", "registry", "stub")
    gone = name("model", "registry", "gone")
    graph.write_many([(model(m), Observation("registry", at(0)))], enriched_at=at(1))
    assert graph.state(m).last_enriched_at == at(1)
    # unchanged facts seen again: the stamp moves, the snapshot stays
    graph.write_many([(model(m), Observation("registry", at(2)))], enriched_at=at(3))
    assert graph.state(m).last_enriched_at == at(3)
    # without it, a write keeps the stamp the entity had
    graph.write_many([(model(m, "v2"), Observation("registry", at(4)))])
    assert graph.state(m).last_enriched_at == at(3)
    graph.reference_many(
        [(cell, LG.Model.value, Observation("registry", at(5)))], enriched_at=at(5)
    )
    assert graph.state(cell).last_enriched_at == at(5)
    graph.write(model(gone), source="registry", observed_at=at(0))
    graph.delete_many([(gone, Observation("registry", at(6)))], enriched_at=at(7))
    assert graph.state(gone).state is HydrationState.DELETED
    assert graph.state(gone).last_enriched_at == at(7)
    with pytest.raises(InvalidFactsError, match="no time zone"):
        graph.write_many(
            [(model(m), Observation("registry", at(8)))], enriched_at=T0.replace(tzinfo=None)
        )
    assert graph.state(m).last_seen_at == at(4)


#: what an ingestion step does to one of three entities: write it (named
#: ``label``), reference it as a stub, or delete it, observed at hour ``hour``
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["write", "reference", "delete"]),
        st.integers(0, 2),
        st.sampled_from(["a", "b"]),
        st.integers(0, 6),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=STEPS)
def test_enriched_at_equals_a_write_then_mark_enriched_of_what_it_wrote(unindexed, steps):
    """Whatever the sequence (stale, repeated, deleted, re-created), stamping in the
    write leaves every entity as a write followed by ``mark_enriched`` of the
    entities the write created, updated, found unchanged, referenced or deleted."""
    graph = unindexed
    run = uuid.uuid4().hex[:8]
    folded = [f"aip://model/registry/fold-{run}-{n}" for n in range(3)]
    apart = [f"aip://model/registry/apart-{run}-{n}" for n in range(3)]
    wrote = {
        Outcome.CREATED,
        Outcome.UPDATED,
        Outcome.UNCHANGED,
        Outcome.REFERENCED,
        Outcome.DELETED,
    }
    for n, (kind, which, label, hour) in enumerate(steps):
        stamp = at(10 + n)
        obs = Observation("registry", at(hour))
        for uris, fold in ((folded, True), (apart, False)):
            uri = uris[which]
            extra = {"enriched_at": stamp} if fold else {}
            if kind == "write":
                results = graph.write_many([(model(uri, label), obs)], validate=False, **extra)
            elif kind == "reference":
                results = graph.reference_many([(uri, LG.Model.value, obs)], **extra)
            else:
                results = graph.delete_many([(uri, obs)], **extra)
            if not fold:
                graph.mark_enriched([r.uri for r in results if r.outcome in wrote], stamp)
        for one, other in zip(folded, apart, strict=True):
            a, b = graph.state(one), graph.state(other)
            assert (a is None) == (b is None)
            if a is not None:
                assert (a.state, a.last_seen_at, a.last_hydrated_at, a.last_enriched_at) == (
                    b.state,
                    b.last_seen_at,
                    b.last_hydrated_at,
                    b.last_enriched_at,
                )


def test_invalid_facts_are_refused_before_anything_is_written(graph, name):
    m = name("model", "registry", "m")
    with pytest.raises(InvalidFactsError, match="no time zone"):
        graph.write(model(m), source="registry", observed_at=datetime(2026, 1, 1))
    assert graph.state(m) is None


def test_write_many_keeps_every_kind_of_value(graph, name):
    m = name("model", "registry", "m")
    values = {
        "lg:name": "Ranking model",
        "lg:description": Literal("Modèle", language="fr"),
        "lg:version": 5,
        "lg:score": Decimal("0.125"),
        "lg:active": True,
        "lg:releasedOn": date(2026, 1, 2),
        "lg:createdAt": datetime(2026, 1, 1, 5, tzinfo=timezone(timedelta(hours=2))),
    }
    facts = Facts.of(m, {"rdf:type": Ref("lg:Model"), **values})
    # properties the ontology lacks (lg:score, lg:active): the wire's kinds of value
    result = graph.write(facts, source="registry", observed_at=at(0), validate=False)
    assert graph.snapshot_facts(result.snapshot) == facts.pairs
    entity = graph.entity(m)
    assert entity.get("lg:createdAt") == datetime(2026, 1, 1, 3, tzinfo=UTC)
    assert entity.get("lg:score") == Decimal("0.125")


# -- checked writes --------------------------------------------------------------------------


def test_unknown_class_and_property_are_refused_with_the_near_miss(graph, name):
    d = name("model", "registry", "m")
    facts = Facts.of(d, {"rdf:type": Ref("lg:Modle"), "lg:nmae": "Revenue"})
    with pytest.raises(WriteRefusedError) as raised:
        graph.write(facts, source="registry", observed_at=at(0))
    message = str(raised.value)
    assert "unknown class lg:Modle (did you mean lg:Model?)" in message
    assert "unknown property lg:nmae (did you mean lg:name?)" in message
    assert len(raised.value.problems) == 2 and isinstance(raised.value, InvalidFactsError)
    assert graph.state(d) is None


def test_shape_violation_is_refused_with_the_report(graph, name):
    m = name("model", "registry", "m")
    bare = Facts.of(m, {"rdf:type": Ref("lg:Model"), "lg:name": "Ranking model"})
    with pytest.raises(WriteRefusedError, match="1 SHACL violation") as raised:
        graph.write_many([(bare, Observation("registry", at(0)))])
    assert "The source id is missing" in str(raised.value)
    assert [(r.focus, r.path) for r in raised.value.report.violations] == [(m, LG.sourceId.value)]
    assert graph.state(m) is None


def test_warnings_are_recorded_and_the_write_goes_ahead(graph, name):
    m = name("model", "registry", "m")
    result = graph.write(model(m), source="registry", observed_at=at(0))
    assert result.outcome is Outcome.CREATED
    assert sorted(w.message for w in result.warnings) == [
        "Has no description.",
        "Has no resolved owner: no owner email matched a user of the identity platform.",
    ]
    assert {w.focus for w in result.warnings} == {m}
    assert graph.entity(m).name == "Ranking model"


def test_validate_false_writes_anything_well_formed(graph, name):
    d = name("dashboard", "bi", "d")
    facts = Facts.of(d, {"rdf:type": Ref("lg:Dashbord"), "lg:nmae": "Revenue"})
    result = graph.write(facts, source="bulk", observed_at=at(0), validate=False)
    assert result.outcome is Outcome.CREATED and result.warnings == ()
    assert graph.snapshot_facts(result.snapshot) == facts.pairs
