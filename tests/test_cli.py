"""The command line as a user runs it."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from lifecyclegraph.cli import main
from lifecyclegraph.example import INSTANCE


def test_demo_ingests_the_world_through_events_and_answers_its_questions(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lifecyclegraph", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    out = result.stdout
    assert "0 rejected by validation, 0 dead letters" in out
    assert "-> aip://ab-test/experimentation/12345 | Ranking Model v5 vs v4" in out
    assert "-> aip://model/registry/ranking-model-v5-20XX0101 | 5" in out  # the reverse
    assert "-> ML Platform\n   -> Personalization" in out  # owning teams, parent included
    assert "| ghost@example.com" in out
    # the store is left for the other commands, and the status is clean
    status = subprocess.run(
        [sys.executable, "-m", "lifecyclegraph", "--store", str(tmp_path / "demo"), "status"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "queue depth 0" in status.stdout and "dead letters 0" in status.stdout


def _example_store(path) -> str:
    from lifecyclegraph import LifecycleGraph
    from lifecyclegraph.example import load_example

    with LifecycleGraph.open(path) as graph:
        load_example(graph)
    return str(path)


def test_entity_history_and_sparql_read_the_store(tmp_path):
    runner = CliRunner()
    store = _example_store(tmp_path / "demo")
    entity = runner.invoke(main, ["--store", store, "entity", INSTANCE])
    assert entity.exit_code == 0, entity.output
    assert '"lg:version": [\n      "5"' in entity.output
    history = runner.invoke(main, ["--store", store, "history", INSTANCE])
    assert [line.split("\t")[1] for line in history.output.splitlines()] == ["hydrated", "hydrated"]
    rows = runner.invoke(
        main,
        ["--store", store, "sparql", "SELECT ?n WHERE { ?t a lg:Team ; lg:name ?n } ORDER BY ?n"],
    )
    assert rows.output.splitlines() == ["?n", '"ML Platform"', '"Personalization"']


def test_unknown_entity_exits_with_1(tmp_path):
    runner = CliRunner()
    store = _example_store(tmp_path / "demo")
    result = runner.invoke(main, ["--store", store, "entity", "aip://model/registry/nope"])
    assert result.exit_code == 1
    assert "no current entity" in result.output


def test_store_that_is_not_a_store_exits_with_2(tmp_path):
    (tmp_path / "x.txt").write_text("not a store")
    result = CliRunner().invoke(main, ["--store", str(tmp_path), "sparql", "ASK {}"])
    assert result.exit_code == 2
    assert "not a lifecyclegraph store" in result.output
