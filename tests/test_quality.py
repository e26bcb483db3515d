"""Metadata quality (``lifecyclegraph quality``, ``GET /api/v1/quality``): the figures
on the example graph and on small graphs, computed by hand; the journal's rejected
entities, dead letters and silent sources; nothing written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecyclegraph import Facts, LifecycleGraph, Ref
from lifecyclegraph.cli import main
from lifecyclegraph.core.config import Config
from lifecyclegraph.example import T0, example_writes, load_example
from lifecyclegraph.graph.metadata import metadata_quality, render_quality, source_activity
from lifecyclegraph.ingest import Journal
from lifecyclegraph.providers.sources import Sources
from lifecyclegraph.server.app import create_app
from lifecyclegraph.server.service import Service
from lifecyclegraph.server.serving import ServerThread

FEATURE = "aip://feature/featurestore/watch-time-7d"
TEST = "aip://ab-test/experimentation/12345"
DATASET = "aip://dataset/datasets/viewing-history"
MODEL = "aip://model/registry/ranking-model"
NOW = T0 + timedelta(days=14)  # the example was hydrated on T0, T0 + 1 d and T0 + 2 d


@pytest.fixture(scope="module")
def example() -> LifecycleGraph:
    graph = LifecycleGraph.in_memory(rules=True)
    load_example(graph)
    return graph


def _by_uri(report) -> dict:
    return {e.uri: e for e in report.entities}


def test_completeness_is_the_share_of_recommended_properties_filled_in(example):
    report = metadata_quality(example, now=NOW)
    found = _by_uri(report)
    # lgsh:DescriptionPresent and lgsh:OwnerPresent are the example's warnings
    assert (found[FEATURE].completeness, found[FEATURE].missing) == (
        0.0,
        ["lg:description", "lg:owner"],
    )
    assert (found[DATASET].completeness, found[DATASET].missing) == (0.5, ["lg:description"])
    assert (found[MODEL].completeness, found[MODEL].missing) == (1.0, [])
    # 13 entities: two miss both, two miss the description, nine miss nothing
    overall = report.as_dict()["overall"]
    assert overall["entities"] == 13
    assert overall["completeness"] == round((0 + 0 + 0.5 + 0.5 + 9) / 13, 4)
    assert overall["incomplete"] == 4


def test_freshness_halves_when_the_age_doubles_past_max_age(example):
    found = _by_uri(metadata_quality(example, now=NOW, max_age=timedelta(days=7)))
    assert found[FEATURE].freshness == 0.5  # hydrated at T0: 14 days, twice the max age
    assert found[TEST].freshness == round(7 / 13, 4)  # T0 + 1 day
    assert found[MODEL].freshness == round(7 / 12, 4)  # T0 + 2 days
    fresh = _by_uri(metadata_quality(example, now=T0 + timedelta(days=3)))
    assert {e.freshness for e in fresh.values()} == {1.0}
    # derived facts are kept by the engine, but nothing marked them enriched
    assert all(e.behind for e in fresh.values())


def test_scores_per_source_team_and_domain_are_the_means_of_their_entities(example):
    report = metadata_quality(example, now=NOW)
    found = _by_uri(report)
    # the feature: completeness 0, freshness 0.5, references 1, no owner
    assert found[FEATURE].score == round((0 + 0.5 + 1) / 3, 4)
    data = report.as_dict()
    assert data["sources"]["featurestore"]["score"] == found[FEATURE].score
    assert data["domains"]["lg:FeaturesDomain"]["entities"] == 1
    # personalization (alice's team) and its parent own what alice owns
    team = data["teams"]["aip://team/identity/personalization"]
    owned = [e for e in report.entities if "aip://team/identity/personalization" in e.teams]
    assert sorted(e.uri for e in owned) == [
        DATASET,
        MODEL,
        "aip://model/registry/ranking-model-v5-20XX0101",
        "aip://pipeline/orchestrator/weekly-ranking-trainer",
    ]
    assert team["score"] == round(sum(e.score for e in owned) / 4, 4)


def test_dangling_references_and_unknown_or_deactivated_owners():
    graph = LifecycleGraph.in_memory()
    alice, dave, carol = (f"aip://user/identity/{n}" for n in ("alice", "dave", "carol"))
    # partial users, and owners the quality report must find unknown or deactivated:
    # invalid on purpose, so these writes opt out of the checks
    user = {"rdf:type": Ref("lg:User")}
    graph.write(Facts.of(alice, {**user, "lg:active": True}), source="identity", validate=False)
    graph.write(Facts.of(dave, {**user, "lg:active": False}), source="identity", validate=False)
    graph.reference(carol, "https://w3id.org/lifecyclegraph/ontology#User", source="registry")
    graph.write(
        Facts.of(
            MODEL,
            {
                "rdf:type": Ref("lg:Model"),
                "lg:name": "M",
                "lg:description": "d",
                "lg:owner": [Ref(alice), Ref(dave), Ref(carol)],
                "lg:unresolvedOwnerEmail": "eve@example.com",
            },
        ),
        source="registry",
        validate=False,
    )
    report = metadata_quality(graph)
    model = _by_uri(report)[MODEL]
    assert model.dangling == [carol]
    assert model.references == round(1 - 1 / 3, 4)  # alice, dave, carol: carol a stub
    assert model.owners_unknown == [carol, "eve@example.com"]
    assert model.owners_deactivated == [dave]
    assert model.owners == 0.25  # alice alone of four
    assert report.stubs == {carol: [MODEL]}
    text = render_quality(report)
    assert f"  {carol} <- {MODEL}" in text
    assert "deactivated owners aip://user/identity/dave" in text


def test_rejected_entities_dead_letters_and_silent_sources_come_from_the_journal(tmp_path):
    journal = Journal(tmp_path / "ingest.sqlite")
    event = '{"event_type": "model_created"}'
    for n in range(3):
        journal.accept([(f"aip://model/registry/m{n}", "model_created", None, event, None)])
    journal.accept([("aip://dataset/datasets/d", "dataset_created", None, event, None)])
    report = {
        "conforms": False,
        "results": [
            {
                "focusNode": "aip://model/registry/bad",
                "resultPath": "https://w3id.org/lifecyclegraph/ontology#name",
                "severity": "Violation",
                "message": "Has no name.",
            }
        ],
    }
    journal.record_finding("aip://model/registry/bad", True, report)
    journal.dead_letter([('{"event_type": 5}', "event_type must be a string")])
    journal.dead_letter([("[" * 5000, "nested too deeply")])  # kept as it came
    graph = LifecycleGraph.in_memory()
    soon = metadata_quality(graph, journal)
    assert soon.silent == []
    later = metadata_quality(graph, journal, now=datetime.now(UTC) + timedelta(hours=2))
    # registry: three arrivals, a usual gap of milliseconds; datasets: one, no usual gap
    assert later.silent == ["registry"]
    assert later.activity["registry"].events == 3
    assert later.activity["datasets"].usual_gap is None
    assert later.rejected == [
        {
            "uri": "aip://model/registry/bad",
            "at": later.rejected[0]["at"],
            "source": "registry",
            "reasons": ["lg:name: Has no name."],
        }
    ]
    assert [(d["kind"], d["reason"]) for d in later.dead_letters] == [
        ("event", "event_type must be a string"),
        ("event", "nested too deeply"),
    ]
    assert later.groups("source")["registry"]["rejected"] == 1
    text = render_quality(later)
    assert "silent: registry: no event for 7200 s" in text
    assert "  aip://model/registry/bad: lg:name: Has no name." in text
    journal.close()


def test_source_gone_quiet_for_less_than_the_minimum_is_not_silent():
    times = [(f"2026-01-01T00:00:0{n}Z", 1) for n in range(3)]
    quiet = datetime(2026, 1, 1, 0, 30, tzinfo=UTC)
    assert not source_activity({"registry": times}, quiet)["registry"].silent
    assert source_activity({"registry": times}, quiet, min_silence=timedelta(minutes=10))[
        "registry"
    ].silent


def test_quality_command_reads_the_store_and_its_journal_and_writes_nothing(tmp_path):
    with LifecycleGraph.open(tmp_path / "store") as graph:
        load_example(graph)
        before = sorted(map(str, graph.quads()))
    journal = Journal(tmp_path / "store" / "ingest.sqlite")
    journal.dead_letter([("{}", "no event_type")])
    journal.close()
    runner = CliRunner()
    store = str(tmp_path / "store")
    text = runner.invoke(main, ["--store", store, "quality", "--limit", "2"])
    assert text.exit_code == 0, text.output
    assert text.output.startswith("metadata quality at ")
    assert ": 13 entities, score " in text.output.splitlines()[0]
    assert "dead letters: 1\n  #1 event: no event_type" in text.output
    assert "lowest scores (2 of 13):" in text.output
    as_json = json.loads(
        runner.invoke(main, ["--store", store, "quality", "--format", "json"]).output
    )
    assert as_json["overall"]["entities"] == 13
    assert as_json["entities"][0]["completeness"] == 0.0
    assert runner.invoke(main, ["--store", store, "quality", "--fail-under", "1"]).exit_code == 1
    missing = runner.invoke(main, ["--store", str(tmp_path / "nowhere"), "quality"])
    assert missing.exit_code == 2 and "no store here" in missing.output
    with LifecycleGraph.open(tmp_path / "store") as graph:
        assert sorted(map(str, graph.quads())) == before


def test_quality_route_answers_what_the_library_computes(tmp_path):
    config = Config.from_dict({"sources": {}, "search": {"enabled": False}})
    graph = LifecycleGraph.in_memory()
    load_example(graph)
    service = Service(config, graph, Sources(config), Journal(tmp_path / "j.db"))
    app = create_app(service, write_tokens=["w"], manage_service=False)
    app.state.guard.read = [b"r"]
    with ServerThread(app) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/api/v1/quality").status_code == 401
        headers = {"authorization": "Bearer r"}
        answer = client.get("/api/v1/quality", params={"limit": 3}, headers=headers)
        assert answer.status_code == 200, answer.text
        data = answer.json()
        expected = metadata_quality(graph, service.journal).as_dict(3)
        assert data["overall"] == expected["overall"]
        assert [e["uri"] for e in data["entities"]] == [e["uri"] for e in expected["entities"]]
        assert len(data["entities"]) == 3
        bad = client.get("/api/v1/quality", params={"limit": -1}, headers=headers)
        assert bad.status_code in (400, 422)
        assert bad.headers["content-type"] == "application/problem+json"
    service.journal.close()


_WRITES = example_writes()


@settings(max_examples=15, deadline=None)
@given(
    chosen=st.sets(st.integers(0, len(_WRITES) - 1), min_size=1),
    days=st.integers(0, 400),
)
def test_every_score_is_between_0_and_1_and_a_group_scores_the_mean(chosen, days):
    graph = LifecycleGraph.in_memory()
    # any subset of the example, dangling links included: unchecked on purpose
    graph.write_many((_WRITES[i] for i in sorted(chosen)), validate=False)
    report = metadata_quality(graph, now=T0 + timedelta(days=days))
    for e in report.entities:
        for value in (e.score, e.completeness, e.freshness, e.references):
            assert 0 <= value <= 1
        assert e.owners is None or 0 <= e.owners <= 1
    data = report.as_dict()
    assert data["overall"]["entities"] == len(list(graph.entities()))
    for source, group in data["sources"].items():
        scores = [e.score for e in report.entities if e.source == source]
        assert group["score"] == round(sum(scores) / len(scores), 4)
