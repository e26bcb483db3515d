"""The read API under /api/v1, over real HTTP, on the demo world ingested from the sandbox."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from lifecyclegraph.read.views import json_value as json_time

INSTANCE = "aip://model/registry/ranking-model-v5-20XX0101"
MODEL = "aip://model/registry/ranking-model"
TEST = "aip://ab-test/experimentation/12345"
VIEWING = "aip://dataset/datasets/viewing-history"


def test_entity_by_path_returns_properties_types_and_freshness(api):
    response = api.get(f"/api/v1/entities/{INSTANCE}")
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["uri"] == INSTANCE
    assert view["types"] == ["lg:ModelInstance"]
    assert view["properties"]["lg:version"] == ["5"]
    assert view["name"] == "ranking-model v5"
    freshness = view["freshness"]
    assert freshness["state"] == "hydrated"
    assert freshness["lastHydratedAt"] and freshness["lastEnrichedAt"]
    assert freshness["lastEnrichedAt"] >= freshness["lastHydratedAt"]
    assert freshness["snapshot"]["source"] == "registry"


def test_entity_by_query_equals_entity_by_path(api):
    by_query = api.get("/api/v1/entity", params={"uri": INSTANCE}).json()
    by_path = api.get(f"/api/v1/entities/{INSTANCE}").json()
    assert by_query == by_path


def test_relationships_are_marked_asserted_or_inferred(api):
    view = api.get(f"/api/v1/entities/{INSTANCE}").json()
    edges = {(r["predicate"], r["direction"], r["object"]): r for r in view["relationships"]}
    asserted = edges[("lg:usesFeature", "out", "aip://feature/featurestore/genre-affinity")]
    assert asserted["inferred"] is False
    assert asserted["assertedBy"]["source"] == "registry"
    assert "explanation" not in asserted
    inferred = edges[("lg:associatedAbTest", "out", TEST)]
    assert inferred["inferred"] is True
    assert inferred["explanation"].startswith("/api/v1/explain?")
    incoming = edges[("lg:currentInstance", "in", INSTANCE)]
    assert incoming["subject"] == MODEL and incoming["inferred"] is False


def test_explanation_link_of_inferred_relationship_returns_the_derivation_tree(api):
    view = api.get(f"/api/v1/entities/{INSTANCE}").json()
    link = next(
        r["explanation"]
        for r in view["relationships"]
        if r["predicate"] == "lg:associatedAbTest" and r["object"] == TEST
    )
    response = api.get(link)
    assert response.status_code == 200, response.text
    tree = response.json()
    assert tree["statement"] == f"<{INSTANCE}> lg:associatedAbTest <{TEST}>"
    assert tree["asserted"] is False and tree["rule"]["location"]

    def leaves(node):
        if node["asserted"]:
            yield node
        for premise in node.get("premises") or ():
            yield from leaves(premise)

    found = list(leaves(tree))
    predicates = {leaf["predicate"] for leaf in found}
    assert {"lg:producedByRun", "lg:ranForCell", "lg:cellOf"} <= predicates
    for leaf in found:
        assert leaf["sources"], leaf
        source = leaf["sources"][0]
        assert source["snapshot"] and source["source"] and source["observedAt"]


def test_explain_a_fact_that_does_not_hold_is_404(api):
    response = api.get("/api/v1/explain", params={"s": INSTANCE, "p": "lg:upstream", "o": TEST})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_explain_a_multi_step_upstream_pair_answers_the_chain_of_one_step_facts(api):
    """The store holds one-step lg:upstream edges (issue 17); "why does the instance
    come from viewing-history?" answers with a shortest chain of them, each explained
    by its rule down to the sources' snapshots."""
    response = api.get("/api/v1/explain", params={"s": INSTANCE, "p": "lg:upstream", "o": VIEWING})
    assert response.status_code == 200, response.text
    tree = response.json()
    assert tree["statement"] == f"<{INSTANCE}> lg:upstream <{VIEWING}>"
    assert tree["rule"]["origin"] == "path" and tree["rule"]["location"] == "lg:upstream+"
    steps = tree["premises"]
    assert len(steps) >= 2
    assert steps[0]["statement"].startswith(f"<{INSTANCE}> lg:upstream <")
    assert steps[-1]["statement"].endswith(f"lg:upstream <{VIEWING}>")
    for before, after in itertools.pairwise(steps):  # a chain: each starts where
        assert before["terms"][1] == after["terms"][0]  # the one before ends
    for step in steps:
        assert step["predicate"] == "lg:upstream" and not step["asserted"]
        assert step["rule"]["location"].startswith("rules/lineage.rules")
        assert step["premises"]


def test_entity_as_jsonld_when_asked(api):
    response = api.get(f"/api/v1/entities/{INSTANCE}", headers={"Accept": "application/ld+json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    node = response.json()
    assert node["@id"] == INSTANCE and "lg:ModelInstance" in node["@type"]
    assert node["@context"]["lg"] == "https://w3id.org/lifecyclegraph/ontology#"
    assert {"@id": TEST} in node["lg:associatedAbTest"]
    assert node["lg:version"] == ["5"]


def test_unknown_uri_is_a_404_problem(api):
    response = api.get("/api/v1/entities/aip://model/registry/no-such-model")
    assert response.status_code == 404
    problem = response.json()
    assert problem["status"] == 404 and "no-such-model" in problem["detail"]
    for route in ("history", "lineage", "impact"):
        response = api.get(f"/api/v1/{route}", params={"uri": "aip://model/registry/nope"})
        assert response.status_code == 404, route


@pytest.fixture(scope="module")
def with_a_deleted_model():
    """A server whose graph had a model, deleted at T0 + 5 h by its source."""
    from lifecyclegraph import Facts, LifecycleGraph, Ref
    from lifecyclegraph.core.config import Config
    from lifecyclegraph.ingest import Journal
    from lifecyclegraph.server.app import create_app
    from lifecyclegraph.server.service import Service
    from lifecyclegraph.server.serving import ServerThread

    graph = LifecycleGraph.in_memory()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    model = Facts.of(
        MODEL, {"rdf:type": Ref("lg:Model"), "lg:name": "Ranking model", "lg:sourceId": "m"}
    )
    graph.write(model, source="registry", observed_at=t0)
    graph.delete(MODEL, source="registry", observed_at=t0 + timedelta(hours=5), event_id="del-1")
    config = Config.from_dict({"server": {"write_tokens": ["w"], "query_workers": 1}})
    service = Service(config, graph, journal=Journal(":memory:"))
    with ServerThread(create_app(service)) as server, httpx.Client(base_url=server.url) as client:
        yield client, t0


DELETED_ROUTES = [
    f"/api/v1/entities/{MODEL}",
    f"/api/v1/entity?uri={MODEL}",
    f"/api/v1/entities/{MODEL}/lineage",
    f"/api/v1/lineage?uri={MODEL}",
    f"/api/v1/entities/{MODEL}/impact",
    f"/api/v1/impact?uri={MODEL}",
]


@pytest.mark.parametrize("route", DELETED_ROUTES)
@pytest.mark.parametrize("accept", ["application/json", "application/ld+json"])
def test_deleted_entity_is_410_gone_with_the_deletion_time(with_a_deleted_model, route, accept):
    client, t0 = with_a_deleted_model
    response = client.get(route, headers={"accept": accept})
    assert response.status_code == 410, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["status"], problem["title"]) == (410, "Gone")
    assert problem["deleted_at"] == "2026-01-01T05:00:00Z" == json_time(t0 + timedelta(hours=5))
    assert problem["deleted_by"] == "registry" and problem["snapshot"]
    assert "deleted at 2026-01-01T05:00:00Z" in problem["detail"]
    never = route.replace("ranking-model", "never-known-model")
    assert client.get(never, headers={"accept": accept}).status_code == 404


def test_deleted_entity_as_of_a_time_says_what_was_then(with_a_deleted_model):
    client, t0 = with_a_deleted_model

    def at(hours: float) -> httpx.Response:
        when = (t0 + timedelta(hours=hours)).isoformat()
        return client.get("/api/v1/entity", params={"uri": MODEL, "as_of": when})

    assert at(-1).status_code == 404  # not known yet
    assert at(1).json()["name"] == "Ranking model"  # alive then
    gone = at(6)
    assert gone.status_code == 410 and gone.json()["deleted_at"] == "2026-01-01T05:00:00Z"


def test_deleted_entity_keeps_its_history_with_the_tombstone(with_a_deleted_model):
    client, _ = with_a_deleted_model
    response = client.get(f"/api/v1/entities/{MODEL}/history")
    assert response.status_code == 200, response.text
    kinds = [s["kind"] for s in response.json()["snapshots"]]
    assert kinds == ["hydrated", "deleted"]


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("aip://model/registry", "three parts"),
        ("http://example.com/x", "starts with 'aip://'"),
        ("aip://Model/registry/x", "component type"),
    ],
)
def test_malformed_aip_uri_is_a_400_problem_naming_the_fault(api, uri, says):
    response = api.get("/api/v1/entity", params={"uri": uri})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert says in response.json()["detail"]


def test_history_lists_snapshots_with_source_and_facts(api):
    response = api.get(f"/api/v1/entities/{MODEL}/history")
    assert response.status_code == 200, response.text
    snapshots = response.json()["snapshots"]
    assert snapshots and all(s["source"] == "registry" for s in snapshots)
    assert snapshots[-1]["facts"]["lg:name"] == ["Ranking model"]
    assert api.get("/api/v1/history", params={"uri": MODEL}).json()["snapshots"] == snapshots


def test_as_of_before_the_entity_existed_is_404_and_after_is_the_entity(api):
    first = api.get("/api/v1/history", params={"uri": MODEL}).json()["snapshots"][0]
    seen = datetime.fromisoformat(first["observedAt"])
    before = (seen - timedelta(days=1)).isoformat()
    assert api.get("/api/v1/entity", params={"uri": MODEL, "as_of": before}).status_code == 404
    after = datetime.now(UTC).isoformat()
    response = api.get("/api/v1/entity", params={"uri": MODEL, "as_of": after})
    assert response.status_code == 200
    view = response.json()
    assert view["asOf"] and view["properties"]["lg:name"] == ["Ranking model"]
    assert all(not r["inferred"] for r in view["relationships"])


def test_as_of_without_time_zone_is_400(api):
    response = api.get("/api/v1/entity", params={"uri": MODEL, "as_of": "2026-01-02T00:00:00"})
    assert response.status_code == 400
    assert "time zone" in response.json()["detail"]


def test_lineage_depth_one_is_the_direct_dependencies(api):
    view = api.get(f"/api/v1/entities/{INSTANCE}/lineage", params={"depth": 1}).json()
    assert {n["uri"] for n in view["nodes"]} == {
        "aip://feature/featurestore/genre-affinity",
        "aip://feature/featurestore/watch-time-7d",
        "aip://pipeline-run/orchestrator/train-weekly-ranking-20XX0101",
    }
    assert {n["depth"] for n in view["nodes"]} == {1}
    assert {(e["from"], e["depth"]) for e in view["edges"]} == {(INSTANCE, 1)}


def test_lineage_deeper_reaches_everything_upstream(api):
    shallow = api.get("/api/v1/lineage", params={"uri": INSTANCE, "depth": 1}).json()
    deep = api.get("/api/v1/lineage", params={"uri": INSTANCE, "depth": 10}).json()
    assert len(deep["nodes"]) > len(shallow["nodes"])
    assert max(n["depth"] for n in deep["nodes"]) >= 3
    # the walk reaches exactly what the rules derived as upstream
    assert len(deep["nodes"]) == deep["reach"]


def test_lineage_type_filter_keeps_only_that_class(api):
    view = api.get(
        "/api/v1/lineage", params={"uri": INSTANCE, "depth": 10, "type": "lg:Dataset"}
    ).json()
    names = sorted(n["uri"].rsplit("/", 1)[1] for n in view["nodes"])
    assert names == [
        "catalog-metadata",
        "impressions",
        "member-profiles",
        "playback-events",
        "sessionized-playback",
        "viewing-history",
    ]
    assert all(n["types"] == ["lg:Dataset"] for n in view["nodes"])


@pytest.mark.parametrize("where", ["query", "path"])
def test_unknown_lineage_type_is_a_400_naming_it_with_the_known_types(api, where):
    route = "/api/v1/lineage" if where == "query" else f"/api/v1/entities/{INSTANCE}/lineage"
    params = {"depth": 10, "type": ["lg:Datset", "lg:Dataset", "Nothing"]}
    if where == "query":
        params["uri"] = INSTANCE
    response = api.get(route, params=params)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert "unknown type 'lg:Datset' (did you mean lg:Dataset?)" in problem["detail"]
    assert "unknown type 'Nothing'" in problem["detail"]
    assert "unknown type 'lg:Dataset'" not in problem["detail"]
    assert {"lg:Dataset", "lg:ModelInstance", "prov:Entity"} <= set(problem["known"])


def test_every_class_the_ontology_knows_filters_lineage(api):
    from lifecyclegraph.core.ontology import Ontology
    from lifecyclegraph.core.vocab import compact

    known = sorted(compact(c) for c in Ontology.load().known_classes())
    assert len(known) > 20
    for name in known:
        response = api.get("/api/v1/lineage", params={"uri": INSTANCE, "type": name})
        assert response.status_code == 200, (name, response.text)
    everything = api.get(
        "/api/v1/lineage", params={"uri": INSTANCE, "depth": 10, "type": "prov:Entity"}
    ).json()
    assert any(n["types"] == ["lg:Dataset"] for n in everything["nodes"])  # via superclasses


def test_lineage_downstream_of_a_dataset_reaches_the_instance(api):
    view = api.get(
        "/api/v1/lineage",
        params={
            "uri": VIEWING,
            "direction": "downstream",
            "depth": 10,
            "type": "lg:ModelInstance",
        },
    ).json()
    assert INSTANCE in {n["uri"] for n in view["nodes"]}


def test_impact_of_a_dataset_names_models_owners_teams_and_ab_tests(api):
    response = api.get(f"/api/v1/entities/{VIEWING}/impact")
    assert response.status_code == 200, response.text
    view = response.json()
    affected = {e["uri"]: e for e in view["entities"]}
    assert INSTANCE in affected
    assert TEST in affected[INSTANCE]["abTests"]
    assert "aip://user/identity/alice" in affected[INSTANCE]["owners"]
    assert {t["uri"] for t in view["teams"]} >= {
        "aip://team/identity/personalization",
        "aip://team/identity/ml-platform",
    }
    assert [t["name"] for t in view["abTests"] if t["uri"] == TEST] == ["Ranking Model v5 vs v4"]


def test_read_routes_are_in_the_openapi_document(api):
    paths = api.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/entities/{uri}",
        "/api/v1/entity",
        "/api/v1/history",
        "/api/v1/lineage",
        "/api/v1/impact",
        "/api/v1/explain",
    ):
        assert "get" in paths[path], path
