"""The stewards' answers on the demo world (ingested from the sandbox over HTTP): the
quality route, the suggestions route and change impact, checked against figures
worked out here with SPARQL."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

from lifecyclegraph.demo import DEMO_QUERIES
from lifecyclegraph.graph.impact import impact_of_graph
from lifecyclegraph.validation.model import ModelDirs, init_model


def _rows(demo, query: str) -> list[tuple[str, ...]]:
    return [tuple(term.value for term in row) for row in demo.service.graph.sparql(query)]


def test_quality_of_the_demo_world_matches_sparql(demo, api):
    answer = api.get("/api/v1/quality", params={"limit": 100_000})
    assert answer.status_code == 200, answer.text
    quality = answer.json()
    ((hydrated,),) = _rows(
        demo, "SELECT (COUNT(DISTINCT ?e) AS ?n) { ?e lg:hydrationState lg:Hydrated }"
    )
    assert quality["overall"]["entities"] == int(hydrated)
    entities = {e["uri"]: e for e in quality["entities"]}
    assert len(entities) == int(hydrated)
    # owners the identity platform does not know (the demo's own question)
    unresolved = _rows(demo, DEMO_QUERIES["Owners the identity platform does not know"])
    assert unresolved
    for asset, email in unresolved:
        assert email in entities[asset]["ownersUnknown"]
    # deactivated owners
    deactivated = _rows(demo, "SELECT DISTINCT ?a { ?a lg:owner ?u . ?u lg:active false }")
    assert deactivated
    assert {a for (a,) in deactivated} == {u for u, e in entities.items() if e["ownersDeactivated"]}
    # the asset whose only owner email matched nobody: it has a description, no owner
    # (completeness 1/2), one unknown owner of one (owners 0), fresh, no dangling
    ((asset, _),) = [r for r in unresolved if r[0] not in {a for (a,) in deactivated}]
    assert entities[asset]["score"] == (0.5 + 1 + 1 + 0) / 4
    # each source's score is the mean of its entities' scores
    for source, group in quality["sources"].items():
        scores = [e["score"] for e in entities.values() if e["source"] == source]
        assert group["entities"] == len(scores)
        if scores:
            assert group["score"] == round(sum(scores) / len(scores), 4)


def test_similar_models_of_the_demo_world_match_sparql(demo, api):
    answer = api.get("/api/v1/suggestions", params={"kind": "similar-models"})
    assert answer.status_code == 200, answer.text
    features: dict[str, set[str]] = {}
    for model, feature in _rows(
        demo, "SELECT ?m ?f { ?i lg:instanceOf ?m ; lg:usesFeature ?f . ?m a lg:Model }"
    ):
        features.setdefault(model, set()).add(feature)
    expected = []
    for a, b in combinations(sorted(features), 2):
        score = len(features[a] & features[b]) / len(features[a] | features[b])
        if score >= 0.3:
            expected.append((a, b, round(score, 4)))
    assert expected
    found = [(s["subject"], s["object"], s["score"]) for s in answer.json()["suggestions"]]
    assert sorted(found) == sorted(expected)
    assert all(s["suggested"] for s in answer.json()["suggestions"])


def test_impact_on_the_demo_world_stricter_owner_and_no_deprecation_rules(demo, tmp_path):
    candidate = tmp_path / "candidate"
    init_model(candidate)
    core = candidate / "shapes" / "core.ttl"
    text = core.read_text()
    start = text.index("lgsh:OwnerPresent")
    end = text.index(" .\n", start)
    block = text[start:end].replace("sh:severity sh:Warning", "sh:severity sh:Violation")
    core.write_text(text[:start] + block + text[end:])
    (candidate / "rules" / "deprecation.rules").unlink()
    graph = demo.service.graph
    before = sorted(map(str, graph.quads()))
    found = impact_of_graph(graph, ModelDirs.current(), _dirs(candidate))
    # newly failing: the assets the owner shape asks an owner of that have none
    ownerless = _rows(
        demo,
        "SELECT DISTINCT ?a { ?a lg:unresolvedOwnerEmail ?e FILTER NOT EXISTS { ?a lg:owner ?o } }",
    )
    assert found.newly_failing == sorted(a for (a,) in ownerless)
    # the deprecation rules are the only ones that derive lg:UnusedAsset
    unused = _rows(demo, "SELECT ?a { ?a a lg:UnusedAsset }")
    assert unused
    gone_unused = [s for s, p, o in found.disappear if (p, o) == ("rdf:type", "lg:UnusedAsset")]
    assert gone_unused == sorted(a for (a,) in unused)
    assert sorted(map(str, graph.quads())) == before


def _dirs(model: Path) -> ModelDirs:
    return ModelDirs(model / "ontology", model / "shapes", model / "rules")
