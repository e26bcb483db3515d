"""The Python query builder (lifecyclegraph.builder) on real graphs: the example, a
synthetic world with the rules on, and the demo world ingested through the service."""

from __future__ import annotations

import doctest
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecyclegraph import Builder, Facts, LifecycleGraph, Ref
from lifecyclegraph.bench.lifecycle import lifecycle_entities
from lifecyclegraph.builder import UnknownNameError
from lifecyclegraph.builder.names import Names
from lifecyclegraph.core.ontology import data_dir
from lifecyclegraph.example import DATASET, FEATURE, INSTANCE, MODEL, T0, TEST, load_example
from lifecyclegraph.read.graphql.schema import execute, load_schema
from lifecyclegraph.store import Observation

ROOT = Path(__file__).resolve().parents[1]
DESIGN_QUERY = ROOT.parent / "shared" / "contracts" / "design-query.graphql"


class Counting:
    """The door with every SPARQL query it is asked counted (and kept)."""

    def __init__(self, graph):
        self.graph = graph
        self.queries: list[str] = []

    def sparql(self, query, **options):
        self.queries.append(query)
        return self.graph.sparql(query, **options)

    def __getattr__(self, name):
        return getattr(self.graph, name)


V4 = "aip://model/registry/ranking-model-v4-20XX0101"


@pytest.fixture(scope="module")
def example():
    """The example graph (lifecyclegraph.example) with an older instance beside v5."""
    graph = LifecycleGraph.in_memory(rules=True)
    load_example(graph)
    graph.write(
        Facts.of(
            V4,
            {"rdf:type": Ref("lg:ModelInstance"), "lg:version": "4", "lg:instanceOf": Ref(MODEL)},
        ),
        source="registry",
        observed_at=T0 + timedelta(days=3),
        validate=False,  # a partial instance (no status, no source id): unchecked
    )
    yield graph
    graph.close()


@pytest.fixture(scope="module")
def synthetic():
    """A synthetic lifecycle world with the rules on."""
    graph = LifecycleGraph.in_memory(rules=True)
    seen = Observation("bench", datetime(2026, 1, 1, tzinfo=UTC))
    # the benchmark's synthetic world is partial (no source ids): the opt-out
    graph.write_many(((facts, seen) for facts in lifecycle_entities(1500, seed=3)), validate=False)
    yield graph
    graph.close()


def design_selection() -> str:
    """The selection of the design's GraphQL query under ``model(id:)``, as written."""
    if not DESIGN_QUERY.exists():
        pytest.skip(f"the design's query is not at {DESIGN_QUERY}")
    text = "\n".join(
        line for line in DESIGN_QUERY.read_text().splitlines() if not line.startswith("#")
    )
    inner = text[text.index("model(") :]
    return inner[inner.index("{") + 1 : inner.rindex("}", 0, inner.rindex("}"))]


def as_builder_shape(value):
    """A GraphQL answer with its connections (``edges { node }``) as plain lists."""
    if isinstance(value, list):
        return [as_builder_shape(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"edges"}:
            return [as_builder_shape(e["node"]) for e in value["edges"]]
        return {k: as_builder_shape(v) for k, v in value.items()}
    return value


def without_ids(value):
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k != "id"}
    return value


# -- names from the ontology -----------------------------------------------------------


def test_types_are_attributes_listed_by_dir_with_the_ontologys_comment(example):
    lg = Builder(example)
    assert {"Model", "ModelInstance", "ABTest", "Dataset", "Feature"} <= set(dir(lg))
    assert lg.types() == sorted(Names.load().types)
    assert "splits traffic between cells" in lg.ABTest.__doc__
    assert {"name", "owners", "currentInstance", "where", "select"} <= set(dir(lg.Model))
    assert "owns the subject" in lg.Model.owners.__doc__


@pytest.mark.parametrize(
    ("attempt", "near"),
    [
        (lambda lg: lg.Modle, "did you mean Model?"),
        (lambda lg: lg.type("ABtest"), "did you mean ABTest?"),
        (lambda lg: lg.Model.where(nmae="x"), "did you mean name?"),
        (lambda lg: lg.Model.ownres, "did you mean owners?"),
        (lambda lg: lg.Model.select("name", owners="nmae"), "did you mean name?"),
        (lambda lg: lg.Model.select("name ownres { name }"), "did you mean owners?"),
        (lambda lg: lg.Model.order_by("-nmae"), "did you mean name?"),
        (lambda lg: lg.Model.follow("currentInstanse"), "did you mean currentInstance?"),
        (lambda lg: lg.Dataset.lineage().of_type("Featur"), "did you mean Feature?"),
        (lambda lg: lg.explain(INSTANCE, "associatedAbTest", TEST), "did you mean"),
    ],
)
def test_unknown_name_is_an_error_with_the_near_miss(example, attempt, near):
    with pytest.raises(UnknownNameError, match="unknown") as raised:
        attempt(Builder(example))
    assert near in str(raised.value)
    assert not hasattr(Builder(example), "Modle")


def test_a_type_a_steward_adds_is_usable_at_once(tmp_path):
    ontology, shapes = tmp_path / "ontology", tmp_path / "shapes"
    shutil.copytree(data_dir("ontology"), ontology)
    shutil.copytree(data_dir("shapes"), shapes)
    (ontology / "evaluations.ttl").write_text(
        """@prefix lg: <https://w3id.org/lifecyclegraph/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
lg:Evaluation a owl:Class ; rdfs:subClassOf lg:Asset ; lg:componentType "evaluation" ;
    rdfs:comment "An offline evaluation of a model instance." .
lg:score a owl:DatatypeProperty, owl:FunctionalProperty ;
    rdfs:domain lg:Evaluation ; rdfs:range xsd:decimal ;
    rdfs:comment "The evaluation's headline score." .
lg:evaluates a owl:ObjectProperty ; rdfs:domain lg:Evaluation ; rdfs:range lg:ModelInstance .
"""
    )
    graph = LifecycleGraph.in_memory()
    load_example(graph)
    graph.write(
        Facts.of(
            "aip://evaluation/evals/e1",
            {
                "rdf:type": Ref("lg:Evaluation"),
                "lg:name": "offline ndcg",
                "lg:score": 0.71,
                "lg:evaluates": Ref(INSTANCE),
            },
        ),
        source="evals",
        # the checks use the model in use, not the steward's copy with lg:Evaluation
        validate=False,
    )
    lg = Builder(graph, Names.load(ontology, shapes))
    assert "Evaluation" in dir(lg) and "score" in dir(lg.Evaluation)
    assert lg.Evaluation.__doc__ == "An offline evaluation of a model instance."
    evaluations = lg.Evaluation
    found = evaluations.where(evaluations.score > 0.5).select("name score evaluates { version }")
    assert found.dicts() == [
        {
            "id": "aip://evaluation/evals/e1",
            "name": "offline ndcg",
            "score": 0.71,
            "evaluates": [{"id": INSTANCE, "version": "5"}],
        }
    ]


# -- composing -------------------------------------------------------------------------


def test_filters_relationships_both_ways_order_page_and_count(example):
    lg = Builder(example)
    assert lg.ModelInstance.count() == 2
    assert lg.ModelInstance.where(version="5").uris() == [INSTANCE]
    assert lg.ModelInstance.where(version=["4", "5"]).count() == 2
    assert lg.ModelInstance.where(lg.ModelInstance.version != "5").count() == 1
    newest = lg.ModelInstance.order_by("-version").select("version")
    assert [r.version for r in newest] == ["5", "4"]
    assert [r.version for r in newest.page(2, size=1)] == ["4"]
    assert newest.limit(1).count() == 1
    # out along a link, and back along it from the other end
    assert lg.Model.follow("currentInstance").uris() == [INSTANCE]
    assert lg.get(FEATURE).back("features").uris() == [INSTANCE]
    # a link to the entities of another query
    alices = lg.User.where(name="Alice Liddell")
    assert lg.Model.where(owners=alices).uris() == [MODEL]
    assert lg.Model.where(lg.Model.owners == alices).uris() == [MODEL]
    assert lg.Model.where(owners=lg.User.where(name="Nobody")).uris() == []
    assert lg.Model.where(owners="aip://user/identity/alice").uris() == [MODEL]
    assert lg.Model.where(lg.Model.description.exists()).count() == 1
    assert lg.Model.where(description=None).count() == 0


def test_lineage_follows_depends_on_and_what_is_below_it_to_a_depth(example):
    lg = Builder(example)
    upstream = lg.get(INSTANCE).lineage("upstream", depth=2)
    assert FEATURE in upstream.uris() and DATASET in upstream.uris()
    assert DATASET not in lg.get(INSTANCE).lineage("upstream", depth=1).uris()
    assert lg.get(INSTANCE).lineage("upstream", depth=None).of_type("Dataset").uris() == [DATASET]
    assert INSTANCE in lg.get(DATASET).lineage("downstream", depth=5).uris()
    # the same entities as the door's own lineage walk (which follows derived lg:dependsOn)
    walked = example.lineage(INSTANCE, direction="upstream", depth=4)
    assert sorted(n["uri"] for n in walked["nodes"]) == sorted(
        lg.get(INSTANCE).lineage("upstream", depth=4).uris()
    )


def test_selection_with_graphql_arguments_is_refused_with_what_to_do(example):
    with pytest.raises(ValueError, match=r"features: a selection takes no arguments \(first\)"):
        Builder(example).ModelInstance.select("features(first: 2) { name }")
    with pytest.raises(ValueError, match="is a value, not a link"):
        Builder(example).Model.select("name { id }")


def test_sparql_shows_the_query_that_runs(example):
    counting = Counting(example)
    query = Builder(counting).Model.where(name="Ranking model").order_by("name").limit(5)
    text = query.sparql()
    assert "LIMIT 5" in text and '"Ranking model"' in text and "ORDER BY ASC(" in text
    assert query.uris() == [MODEL]
    assert counting.queries == [text]


def test_as_of_answers_from_the_graph_as_it_was(example):
    lg = Builder(example)
    before = lg.Model.select("name").as_of(T0 + timedelta(hours=1))
    assert before.all() == []
    assert lg.Model.as_of(T0 + timedelta(days=5)).select("name").dicts() == [
        {"id": MODEL, "name": "Ranking model"}
    ]
    with pytest.raises(ValueError, match="time zone"):
        lg.Model.as_of(datetime(2026, 1, 1))


def test_explain_says_why_a_derived_edge_holds(example):
    lg = Builder(example)
    tests = lg.get(INSTANCE).select("associatedAbTests").first()
    assert tests is not None and tests.associatedAbTests == [TEST]
    explanation = lg.explain(INSTANCE, "associatedAbTests", TEST)
    assert explanation is not None
    text = str(explanation)
    assert "rules/experiments.rules" in text and "asserted by orchestrator" in text
    assert lg.explain(MODEL, "associatedAbTests", TEST) is None


def test_to_pandas_gives_one_row_per_entity_with_nested_columns(example):
    frame = Builder(example).ModelInstance.select("version", instanceOf="name").to_pandas()
    assert list(frame.columns) == ["id", "version", "instanceOf.id", "instanceOf.name"]
    assert sorted(frame["version"]) == ["4", "5"]
    assert set(frame["instanceOf.name"]) == {"Ranking model"}


# -- nested selections: the GraphQL answer, in a fixed number of queries -----------------


def test_design_query_answers_as_graphql_and_hand_written_sparql(example):
    counting = Counting(example)
    lg = Builder(counting)
    answer = lg.get(INSTANCE).follow("instanceOf").select(design_selection()).dicts()
    graphql = execute(load_schema(), example, DESIGN_QUERY.read_text())
    assert "errors" not in graphql
    assert without_ids(answer) == [as_builder_shape(graphql["data"]["model"])]
    assert len(counting.queries) == 5  # the entities, then one per level of the selection
    check_against_sparql(example, answer[0], MODEL)


def check_against_sparql(graph, answer, model, required=True):
    """The builder's answer to the design's query holds what hand-written SPARQL finds
    (``required``: and that is something, for each part); returns which parts were."""

    def select(query):
        return {tuple(term.value for term in row) for row in graph.sparql(query)}

    pairs = select(
        f"""SELECT ?f ?d WHERE {{ <{model}> lg:currentInstance/lg:usesFeature ?f .
            ?f lg:sourceDataset ?d }}"""
    )
    instance = answer["currentInstance"]
    assert {(f["id"], d["id"]) for f in instance["features"] for d in f["data"]} == pairs
    cells = select(
        f"""SELECT ?t ?n WHERE {{ <{model}> lg:currentInstance/lg:associatedAbTest ?t .
            ?cell lg:cellOf ?t ; lg:cellNumber ?n }}"""
    )
    tests = instance["associatedAbTests"]
    assert {(t["id"], str(c["number"])) for t in tests for c in t["cells"]} == cells
    owners = select(f"SELECT ?o WHERE {{ <{model}> lg:owner ?o }}")
    assert {(o["id"],) for o in answer["owners"]} == owners
    if required:
        assert pairs and cells and owners
    versions = select(f"SELECT ?v WHERE {{ <{model}> lg:currentInstance/lg:version ?v }}")
    assert {(v,) for v in [instance["version"]] if v is not None} == versions
    return bool(pairs), bool(cells), bool(owners)


def test_design_query_for_every_model_of_a_synthetic_world_answers_as_sparql(synthetic):
    models = Builder(synthetic).Model.select(design_selection()).dicts()
    complete = [
        check_against_sparql(synthetic, m, m["id"], required=False)
        for m in models
        if m["currentInstance"] is not None
    ]
    # each part of the answer is something for some models
    assert len(complete) > 20
    assert all(sum(part) > 2 for part in zip(*complete, strict=True))


#: The design's selection as a tree (None: a leaf), for random sub-selections.
DESIGN_TREE = {
    "name": None,
    "owners": {"name": None, "email": None},
    "currentInstance": {
        "version": None,
        "pipeline": {"name": None, "owners": {"name": None}},
        "featuresList": {"name": None, "dataList": {"name": None}},
        "associatedAbTests": {"name": None, "cells": {"number": None, "name": None}},
    },
}


def _render(tree: dict) -> str:
    return " ".join(k if v is None else f"{k} {{ {_render(v)} }}" for k, v in tree.items())


@st.composite
def selections(draw, tree: dict = DESIGN_TREE) -> dict:
    keys = draw(st.lists(st.sampled_from(sorted(tree)), min_size=1, unique=True))
    return {k: None if tree[k] is None else draw(selections(tree[k])) for k in keys}


@pytest.fixture(scope="module")
def some_models(synthetic):
    return Builder(synthetic).Model.order_by("id").limit(6).uris()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(selection=selections())
def test_any_selection_answers_what_graphql_answers(synthetic, some_models, selection):
    text = _render(selection)
    ours = Builder(synthetic).get(*some_models).select(text).dicts()
    schema = load_schema()
    for uri, record in zip(some_models, ours, strict=True):
        result = execute(schema, synthetic, f'{{ model(id: "{uri}") {{ {text} }} }}')
        assert result == {"data": {"model": _render_back(record, selection)}}


def _render_back(record, selection):
    """The builder's record with the keys of ``selection`` only (no ``id``), in its order."""
    if record is None:
        return None
    if isinstance(record, list):
        return [_render_back(r, selection) for r in record]
    return {
        key: record[key] if sub is None else _render_back(record[key], sub)
        for key, sub in selection.items()
    }


# -- values are bound, never pasted ----------------------------------------------------

INJECTIONS = [
    'x" } } ; DROP ALL ; SELECT * WHERE { ?s ?p ?o #',
    "x' . ?e ?p ?o } #",
    'a"^^<http://www.w3.org/2001/XMLSchema#string> } UNION { ?e a ?t } #',
    '\\" } ?e ?any ?thing {',
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_an_injection_through_a_name_or_a_tag_matches_only_itself(payload):
    graph = LifecycleGraph.in_memory()
    load_example(graph)
    evil = "aip://model/registry/evil"
    graph.write(
        Facts.of(
            evil,
            {
                "rdf:type": Ref("lg:Model"),
                "lg:name": payload,
                "lg:sourceId": "evil",
                "lg:tag": [payload, "plain"],
            },
        ),
        source="registry",
        validate=False,  # the payload as a tag is not of the form key::value: unchecked
    )
    before = sum(1 for _ in graph.quads())
    lg = Builder(graph)
    assert lg.Model.where(name=payload).uris() == [evil]
    assert lg.Model.where(tag=payload).select("name tag").dicts() == [
        {"id": evil, "name": payload, "tag": sorted([payload, "plain"])}
    ]
    assert lg.Model.where(lg.Model.name.contains(payload[:12])).uris() == [evil]
    assert lg.Model.where(lg.Model.name != payload).uris() == [MODEL]
    assert sum(1 for _ in graph.quads()) == before
    # names never reach the text: an unknown one is refused before any query
    with pytest.raises(UnknownNameError):
        lg.Model.where(**{"name> ?x . ?x ?y": "z"})
    with pytest.raises(ValueError, match="not an IRI"):
        lg.get("aip://model/registry/x> } ?e ?p ?o {")


@pytest.fixture(scope="module")
def scratch():
    graph = LifecycleGraph.in_memory()
    yield graph
    graph.close()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
    tags=st.lists(st.text(st.characters(exclude_categories=["Cs"]), max_size=12), max_size=3),
)
def test_any_filter_value_round_trips_unchanged(scratch, name, tags):
    uri = f"aip://model/registry/m-{abs(hash((name, tuple(tags))))}"
    facts = {"rdf:type": Ref("lg:Model"), "lg:name": name, "lg:sourceId": "m", "lg:tag": tags}
    # any text as a tag, not only key::value: the point is the round trip, unchecked
    scratch.write(Facts.of(uri, facts), source="registry", validate=False)
    lg = Builder(scratch)
    found = (
        lg.Model.where(name=name).where(lg.Model.field("name").contains(name)).select("name tag")
    )
    records = [r for r in found.dicts() if r["id"] == uri]
    assert records == [{"id": uri, "name": name, "tag": sorted(set(tags))}]
    for tag in tags:
        assert uri in lg.Model.where(tag=tag).uris()


@settings(max_examples=30, deadline=None)
@given(bound=st.integers(min_value=-5, max_value=200_000_000), desc=st.booleans())
def test_numeric_filter_and_order_agree_with_python(synthetic, bound, desc):
    lg = Builder(synthetic)
    rows = lg.DatasetVersion.select("rowCount").all()
    expected = sorted(
        (r.rowCount, r.id) for r in rows if r.rowCount is not None and r.rowCount > bound
    )
    query = lg.DatasetVersion.where(lg.DatasetVersion.rowCount > bound)
    if desc:
        got = query.order_by("-rowCount").select("rowCount").all()
        assert [r.rowCount for r in got] == sorted((c for c, _ in expected), reverse=True)
    else:
        got = query.order_by("rowCount").select("rowCount").all()
        assert [(r.rowCount, r.id) for r in got] == expected
    assert query.count() == len(expected)


# -- the documentation -----------------------------------------------------------------


def test_query_builder_docs_examples_run():
    result = doctest.testfile(
        str(ROOT / "docs" / "query-builder.md"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 10 and result.failed == 0


def test_readme_links_the_query_builder_docs():
    assert "docs/query-builder.md" in (ROOT / "README.md").read_text()


# -- the demo world: the same answer as the GraphQL endpoint ------------------------------


def test_design_query_on_the_demo_world_answers_as_the_graphql_endpoint(api, demo):
    response = api.post("/graphql", json={"query": DESIGN_QUERY.read_text()})
    assert response.status_code == 200, response.text
    expected = as_builder_shape(response.json()["data"]["model"])
    lg = Builder(demo.service.graph)
    instance = "aip://model/registry/ranking-model-v5-20XX0101"
    answer = lg.get(instance).follow("instanceOf").select(design_selection()).dicts()
    assert without_ids(answer) == [expected]
    assert expected["currentInstance"]["features"]
    check_against_sparql(demo.service.graph, answer[0], answer[0]["id"])


class OverHttp:
    """A door that answers ``sparql()`` through the service's ``/sparql`` endpoint, as a
    remote graph does: the builder needs nothing else of it."""

    def __init__(self, client):
        self.client = client

    def sparql(self, query, **_):
        from pyoxigraph import QueryResultsFormat, parse_query_results

        response = self.client.post(
            "/sparql",
            data={"query": query},
            headers={"Accept": "application/sparql-results+json"},
        )
        assert response.status_code == 200, response.text
        return parse_query_results(response.content, format=QueryResultsFormat.JSON)


def test_the_same_builder_code_answers_over_http_as_on_the_embedded_graph(api, demo):
    import time

    def ask(graph):
        lg = Builder(graph)
        ranking = lg.Model.where(lg.Model.name.contains("ranking"))
        return (
            ranking.select(design_selection()).dicts(),
            lg.Dataset.lineage("downstream", depth=None).of_type("ModelInstance").count(),
            lg.Feature.order_by("-name").page(1, size=3).select("name data { name }").dicts(),
        )

    local = ask(demo.service.graph)
    assert local[0] and local[1] and local[2]
    deadline = time.monotonic() + 20
    while (remote := ask(OverHttp(api))) != local and time.monotonic() < deadline:
        time.sleep(0.5)  # the endpoint reads a checkpoint at most ~1 s old (docs/sparql.md)
    assert remote == local
