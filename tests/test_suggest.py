"""Suggested relationships (``lifecyclegraph suggest``, ``GET /api/v1/suggestions``):
similar models, missing features, unconsumed pipeline outputs; scored, marked as
suggestions, and never written to the graph."""

from __future__ import annotations

import json

import httpx
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from lifecyclegraph import Facts, LifecycleGraph, Ref
from lifecyclegraph.cli import main
from lifecyclegraph.core.config import Config
from lifecyclegraph.graph.suggest import jaccard, render_suggestions, suggest
from lifecyclegraph.ingest import Journal
from lifecyclegraph.providers.sources import Sources
from lifecyclegraph.server.app import create_app
from lifecyclegraph.server.service import Service
from lifecyclegraph.server.serving import ServerThread

REG, FS, DS, ORCH = (
    "aip://model/registry/",
    "aip://feature/featurestore/",
    "aip://dataset/datasets/",
    "aip://pipeline/orchestrator/",
)
RUN = "aip://pipeline-run/orchestrator/r"


def _writes() -> list[Facts]:
    """Three models: a uses f1 f2 f3, b uses f1 f2 f4 (Jaccard 2/4), c uses f5;
    the pipeline p writes datasets d (read by f1's source) and e (read by nothing);
    c's instance was produced by a run and nothing uses it."""

    def model(name: str, current: bool) -> Facts:
        facts = {"rdf:type": Ref("lg:Model"), "lg:name": name}
        if current:
            facts["lg:currentInstance"] = Ref(f"{REG}{name}-v1")
        return Facts.of(f"{REG}{name}", facts)

    def instance(name: str, features: list[str], run: bool = False) -> Facts:
        facts = {
            "rdf:type": Ref("lg:ModelInstance"),
            "lg:instanceOf": Ref(f"{REG}{name}"),
            "lg:usesFeature": [Ref(FS + f) for f in features],
        }
        if run:
            facts["lg:producedByRun"] = Ref(RUN)
        return Facts.of(f"{REG}{name}-v1", facts)

    feature = {"rdf:type": Ref("lg:Feature")}
    return [
        model("a", True),
        model("b", True),
        model("c", False),
        instance("a", ["f1", "f2", "f3"]),
        instance("b", ["f1", "f2", "f4"]),
        instance("c", ["f5"], run=True),
        Facts.of(FS + "f1", {**feature, "lg:sourceDataset": Ref(DS + "d")}),
        *(Facts.of(FS + f, feature) for f in ("f2", "f3", "f4", "f5")),
        Facts.of(ORCH + "p", {"rdf:type": Ref("lg:Pipeline")}),
        Facts.of(RUN, {"rdf:type": Ref("lg:PipelineRun"), "lg:runOf": Ref(ORCH + "p")}),
        *(
            Facts.of(
                DS + d, {"rdf:type": Ref("lg:Dataset"), "lg:writtenByPipeline": Ref(ORCH + "p")}
            )
            for d in ("d", "e")
        ),
    ]


def _graph(path=None, rules: bool = False) -> LifecycleGraph:
    graph = (
        LifecycleGraph.open(path, rules=rules) if path else LifecycleGraph.in_memory(rules=rules)
    )
    for facts in _writes():
        # partial entities (no source ids): the suggestions' point, unchecked
        graph.write(facts, source="test", validate=False)
    return graph


def _found(graph) -> list[tuple[str, str, str, float]]:
    return [(s.kind, s.subject, s.object, s.score) for s in suggest(graph)]


def test_models_that_share_features_features_they_miss_and_outputs_nobody_uses():
    assert _found(_graph()) == [
        ("similar-models", REG + "a", REG + "b", 0.5),
        ("missing-feature", REG + "a", FS + "f4", 1.0),
        ("missing-feature", REG + "b", FS + "f3", 1.0),
        ("unconsumed-output", DS + "e", ORCH + "p", 1.0),
        ("unconsumed-output", REG + "c-v1", RUN, 1.0),
    ]


def test_derived_facts_do_not_change_the_suggestions():
    assert _found(_graph(rules=True)) == _found(_graph())


def test_similarity_threshold_and_kinds_filter_the_suggestions():
    graph = _graph()
    assert [s.kind for s in suggest(graph, min_similarity=0.6)] == ["unconsumed-output"] * 2
    only = suggest(graph, kinds=["similar-models"])
    assert [(s.subject, s.object) for s in only] == [(REG + "a", REG + "b")]
    assert only[0].reason == f"share 2 of 4 features: {FS}f1, {FS}f2"


def test_suggestions_are_never_written_to_the_graph(tmp_path):
    with _graph(tmp_path / "store", rules=True) as graph:
        before = sorted(map(str, graph.quads()))
        states = {u: graph.state(u) for u in graph.entities()}
    result = CliRunner().invoke(
        main, ["--store", str(tmp_path / "store"), "suggest", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    answers = json.loads(result.output)["suggestions"]
    assert len(answers) == 5 and all(a["suggested"] for a in answers)
    with LifecycleGraph.open(tmp_path / "store") as graph:
        assert sorted(map(str, graph.quads())) == before
        assert {u: graph.state(u) for u in graph.entities()} == states
        # a suggested pair (similar models, a missing feature) is no fact either way
        linked = {(q.subject.value, q.object.value) for q in graph.quads()}
        for a in answers:
            if a["kind"] != "unconsumed-output":
                assert (a["subject"], a["object"]) not in linked
                assert (a["object"], a["subject"]) not in linked


def test_suggest_text_says_they_are_suggestions(tmp_path):
    with _graph(tmp_path / "store"):
        pass
    result = CliRunner().invoke(
        main, ["--store", str(tmp_path / "store"), "suggest", "--kind", "unconsumed-output"]
    )
    assert result.exit_code == 0, result.output
    assert result.output == render_suggestions(suggest(_graph(), kinds=["unconsumed-output"]))
    assert result.output.startswith("unconsumed-output (2), suggested, not facts:\n")
    assert (
        f"  1.00 {DS}e -> {ORCH}p: lg:writtenByPipeline {ORCH}p; nothing depends on it, "
        "no deployment or A/B test\n" in result.output
    )
    assert result.output.endswith("2 suggestions\n")


def test_suggestions_route_answers_what_the_library_computes(tmp_path):
    config = Config.from_dict({"sources": {}, "search": {"enabled": False}})
    graph = _graph()
    service = Service(config, graph, Sources(config), Journal(tmp_path / "j.db"))
    app = create_app(service, write_tokens=["w"], manage_service=False)
    app.state.guard.read = [b"r"]
    headers = {"authorization": "Bearer r"}
    with ServerThread(app) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/api/v1/suggestions").status_code == 401
        answer = client.get(
            "/api/v1/suggestions", params={"kind": "similar-models"}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "suggestions": [s.as_dict() for s in suggest(graph, kinds=["similar-models"])]
        }
        bad = client.get("/api/v1/suggestions", params={"kind": "friends"}, headers=headers)
        assert bad.status_code in (400, 422)
        assert bad.headers["content-type"] == "application/problem+json"
    service.journal.close()


NAMES = st.sets(st.sampled_from("abcdefgh"), max_size=6)


@given(NAMES, NAMES)
def test_jaccard_is_symmetric_and_between_0_and_1(a, b):
    assert jaccard(a, b) == jaccard(b, a)
    assert 0 <= jaccard(a, b) <= 1
    assert (jaccard(a, b) == 1) == (a == b and bool(a))
    assert jaccard(a, a | b) == (round(len(a) / len(a | b), 4) if a | b else 0)
