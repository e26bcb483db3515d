"""The command line as a user runs it."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from lifecyclegraph.cli import main
from lifecyclegraph.example import INSTANCE


def test_demo_builds_the_store_and_answers_its_questions(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lifecyclegraph", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Wrote 13 observations" in result.stdout
    assert "Ranking model | 5 | LAUNCHED" in result.stdout
    assert "LAUNCHED | registry | 2026-01-03T00:00:00Z" in result.stdout
    # running it again starts from a fresh store
    again = subprocess.run(
        [sys.executable, "-m", "lifecyclegraph", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert again.stdout.count("-> 2026-01-0") == 2


def test_entity_history_and_sparql_read_the_store(tmp_path):
    runner = CliRunner()
    store = str(tmp_path / "demo")
    assert runner.invoke(main, ["demo", "--dir", store]).exit_code == 0
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
    store = str(tmp_path / "demo")
    runner.invoke(main, ["demo", "--dir", store])
    result = runner.invoke(main, ["--store", store, "entity", "aip://model/registry/nope"])
    assert result.exit_code == 1
    assert "no current entity" in result.output


def test_store_that_is_not_a_store_exits_with_2(tmp_path):
    (tmp_path / "x.txt").write_text("not a store")
    result = CliRunner().invoke(main, ["--store", str(tmp_path), "sparql", "ASK {}"])
    assert result.exit_code == 2
    assert "not a lifecyclegraph store" in result.output
