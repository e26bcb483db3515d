"""``lifecyclegraph search`` and ``lifecyclegraph reindex`` as a user runs them, on each
backend shipped (Tantivy, the default, and Whoosh), chosen by a configuration file."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from lifecyclegraph import Facts, LifecycleGraph, Ref
from lifecyclegraph.cli import main
from lifecyclegraph.example import MODEL, load_example


@pytest.fixture(params=["tantivy", "whoosh"])
def store(request: pytest.FixtureRequest, tmp_path, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "lifecyclegraph.toml"
    config.write_text(f'[search]\nbackend = "{request.param}"\n')
    monkeypatch.setenv("LIFECYCLEGRAPH_CONFIG", str(config))
    path = tmp_path / "store"
    with LifecycleGraph.open(path) as graph:
        load_example(graph)
    return str(path)


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_search_prints_hits_and_facets(store):
    out = run("--store", store, "search", "rankng")
    assert out.startswith("7 results (fuzzy), page 1 of 1\n")
    assert f"  1. Ranking model  [lg:Model]  {MODEL}\n" in out
    assert "domain: experiments 3, models 2, pipelines 2" in out


def test_search_json_with_filters(store):
    data = json.loads(run("--store", store, "search", "ranking", "--type", "model", "--json"))
    assert data["total"] == 1
    assert data["hits"][0]["uri"] == MODEL
    assert data["hits"][0]["highlights"]["name"] == "<mark>Ranking</mark> model"
    assert data["facets"]["type"] == {"lg:Model": 1}


def test_search_owners_finds_users_and_teams(store):
    data = json.loads(run("--store", store, "search", "--owners", "alice", "--json"))
    assert [h["name"] for h in data["hits"]] == ["Alice Liddell"]


def test_unknown_type_exits_2_with_the_near_miss(store):
    result = CliRunner().invoke(main, ["--store", store, "search", "x", "--type", "modle"])
    assert result.exit_code == 2
    assert "did you mean model?" in result.output


def test_check_passes_on_a_current_index_and_fails_on_a_stale_one(store, tmp_path):
    run("--store", store, "search", "ranking")  # builds the index
    assert "search index is current: 13 entities" in run("--store", store, "search", "--check")
    with LifecycleGraph.open(store) as graph:  # written without the index attached
        # a renamed model with its name only: the index's point, unchecked
        graph.write(
            Facts.of(MODEL, {"rdf:type": Ref("lg:Model"), "lg:name": "Renamed model"}),
            source="registry",
            validate=False,
        )
    out = run("--store", store, "reindex", "--check", code=1)
    # the model, and the instance whose document holds the model's name
    assert "2 entities stale" in out and MODEL in out
    data = json.loads(run("--store", store, "reindex", "--check", "--json", code=1))
    assert data["counts"] == {"entities stale": 2}
    assert "repaired 2 problems" in run("--store", store, "reindex", "--repair")
    run("--store", store, "search", "--check")


def test_check_of_a_stale_index_leaves_it_to_be_repaired_by_the_next_search(store):
    run("--store", store, "search", "ranking")  # builds the index
    with LifecycleGraph.open(store) as graph:  # written without the index attached
        # a renamed model with its name only: the index's point, unchecked
        graph.write(
            Facts.of(MODEL, {"rdf:type": Ref("lg:Model"), "lg:name": "Renamed model"}),
            source="registry",
            validate=False,
        )
    run("--store", store, "search", "--check", code=1)
    run("--store", store, "reindex", "--check", code=1)  # checking twice changes nothing
    found = json.loads(run("--store", store, "search", "renamed", "--json"))
    assert MODEL in [hit["uri"] for hit in found["hits"]]  # with its instance, which names it


def test_reindex_rebuilds_a_deleted_index(store):
    run("--store", store, "search", "x")
    shutil.rmtree(f"{store}/search")
    assert "indexed 13 entities" in run("--store", store, "reindex")
    assert json.loads(run("--store", store, "search", "weekly", "--json"))["total"] == 2
