"""Every notebook of notebooks/ runs, top to bottom, in a real Jupyter kernel (nbclient):
a cell that raises fails the test. After the last cell, a probe cell run in the same
kernel reads the notebook's own variables, so each notebook's answers are checked."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from lifecyclegraph.core.ontology import Ontology

FOLDER = Path(__file__).parent.parent / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
INSTANCE = "aip://model/registry/ranking-model-v5-20XX0101"


def run(notebook: nbformat.NotebookNode, where: Path, probe: str | None = None) -> dict:
    """Execute ``notebook`` in a fresh kernel with ``where`` as its working directory.

    With a ``probe`` (code that sets ``probe``, a dict), run it in the same kernel just
    before the cell tagged ``cleanup`` (the one that stops the demo world), else at the
    end, and return the dict, printed as JSON.
    """
    if probe is not None:
        cell = nbformat.v4.new_code_cell(
            f"{probe}\nimport json as _json\nprint(_json.dumps(probe, default=str))"
        )
        tags = [c.metadata.get("tags", []) for c in notebook.cells]
        at = next((i for i, t in enumerate(tags) if "cleanup" in t), len(notebook.cells))
        notebook.cells.insert(at, cell)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(where)}},
    )
    client.execute()
    if probe is None:
        return {}
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    return json.loads(text)


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(FOLDER / name, as_version=4)


def test_notebooks_are_stored_valid_and_without_outputs():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05"]
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{path.name}: clear the outputs"
                assert cell.execution_count is None, f"{path.name}: clear the outputs"


def test_demo_notebooks_start_the_demo_world_and_use_no_private_api():
    for path in NOTEBOOKS[1:]:
        notebook = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
        assert "start_demo(" in code and "connect(demo.api.url, token=demo.token)" in code
        assert "in_memory" not in code and ".store" not in code, path.name
        assert "cleanup" in notebook.cells[-1].metadata.get("tags", []), path.name


def test_a_cell_that_raises_fails_the_run_and_stops_it(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('the graph is empty')"),
        nbformat.v4.new_code_cell("open('after', 'w').close()"),
    ]
    with pytest.raises(CellExecutionError, match="the graph is empty"):
        run(notebook, tmp_path)
    assert not (tmp_path / "after").exists()
    assert notebook.cells[2].outputs == []


def test_exploration_notebook_shows_the_status_change(tmp_path):
    found = run(
        read("01-explore-the-graph.ipynb"),
        tmp_path,
        "probe = {'current': current, 'then': then.entity(INSTANCE).get('lg:status')}",
    )
    assert found == {"current": [["Ranking model", "5", "LAUNCHED"]], "then": "STAGED"}


@pytest.mark.slow
def test_walkthrough_finds_the_instance_its_ab_test_why_and_its_datasets(tmp_path):
    found = run(
        read("02-walkthrough.ipynb"),
        tmp_path,
        """
from lifecyclegraph.demo import DEMO_QUERIES
def _ask(title):
    return sorted(tuple(t.value for t in row) for row in graph.sparql(DEMO_QUERIES[title]))
probe = {
    "hits": [uri for uri, _ in hits],
    "name": instance.name,
    "ab_tests": ab_tests,
    "cells": cells,
    "why": str(why),
    "datasets": [name for name, _ in datasets],
    "sparql_tests": _ask("Which A/B tests test ranking-model-v5-20XX0101? "
                         "(derived: instance, run, cell, test)"),
    "sparql_datasets": _ask("Where does its data come from? "
                            "(derived: every dataset upstream)"),
}""",
    )
    assert INSTANCE in found["hits"]
    assert found["name"] == "ranking-model v5"
    assert (
        [tuple(t) for t in found["ab_tests"]]
        == [tuple(t) for t in found["sparql_tests"]]
        == [("aip://ab-test/experimentation/12345", "Ranking Model v5 vs v4")]
    )
    assert found["cells"] == [[1, "control_ranking_v4"], [2, "treatment_ranking_v5"]]
    lines = found["why"].splitlines()
    assert lines[0] == (f"<{INSTANCE}> lg:associatedAbTest <aip://ab-test/experimentation/12345>")
    for premise in ("lg:producedByRun", "lg:ranForCell", "lg:cellOf"):
        assert any(premise in line and "[asserted by" in line for line in lines[1:]), premise
    assert found["datasets"] == sorted(name for (name,) in found["sparql_datasets"])
    assert "viewing_history" in found["datasets"]


@pytest.mark.slow
def test_impact_notebook_tables_the_downstream_models_and_the_teams_to_notify(tmp_path):
    found = run(
        read("04-impact-of-a-dataset-change.ipynb"),
        tmp_path,
        """
rows = graph.sparql('''SELECT ?name ?kind ?team WHERE {
  <aip://dataset/datasets/viewing-history> lg:downstream+ ?e .
  VALUES ?kind { lg:Model lg:ModelInstance } ?e a ?kind ; lg:name ?name .
  OPTIONAL { ?e lg:owningTeam ?t . ?t lg:name ?team } }''')
probe = {
    "table": table.to_dict("records"),
    "notify": notify.reset_index().to_dict("records"),
    "downstream": downstream,
    "sparql": [[t.value if t is not None else None for t in row] for row in rows],
    "bars": {t.get_text(): int(p.get_width()) for t, p in zip(ax.get_yticklabels(), ax.patches)},
}""",
    )
    expected_teams: dict[str, set[str]] = {}
    for name, _kind, team in found["sparql"]:
        expected_teams.setdefault(name, set())
        if team is not None:
            expected_teams[name].add(team)
    table = found["table"]
    assert {row["model"] for row in table} == set(expected_teams)
    for row in table:
        assert set(filter(None, row["teams"].split(", "))) == expected_teams[row["model"]]
    assert {"ranking-model v5", "Ranking model"} <= set(expected_teams)
    per_team: dict[str, int] = {}
    for teams in expected_teams.values():
        for team in teams:
            per_team[team] = per_team.get(team, 0) + 1
    assert {row["team"]: row["models"] for row in found["notify"]} == per_team
    assert INSTANCE in found["downstream"]
    assert found["bars"] == per_team


@pytest.mark.slow
def test_same_builder_code_answers_alike_remote_and_embedded(tmp_path):
    found = run(
        read("05-same-code-remote-and-embedded.ipynb"),
        tmp_path,
        """
(count,) = graph.sparql("SELECT (COUNT(DISTINCT ?i) AS ?n) { ?i a lg:ModelInstance }")
probe = {"same": in_process == over_http, "answers": over_http, "instances": count["n"].value}
""",
    )
    assert found["same"] is True
    answers = found["answers"]
    (model,) = answers["model"]
    assert model["currentInstance"]["id"] == INSTANCE
    assert model["currentInstance"]["associatedAbTests"][0]["name"] == "Ranking Model v5 vs v4"
    assert answers["counts"]["ModelInstance"] == int(found["instances"])
    assert INSTANCE in answers["tested"]
    assert "viewing_history" in [d["name"] for d in answers["datasets"]]


@pytest.mark.slow
def test_steward_type_is_validated_and_found_in_search_and_builder_queries(tmp_path):
    found = run(
        read("03-steward-adds-a-type.ipynb"),
        tmp_path,
        """
(row,) = graph.sparql('''SELECT ?score ?name WHERE {
  ?e a lg:Evaluation ; lg:score ?score ; lg:evaluates ?i . ?i lg:name ?name }''')
probe = {
    "types": lg.types(),
    "doc": lg.Evaluation.__doc__,
    "refused": refused,
    "outcome": written.outcome.value,
    "hits": hits,
    "found": found,
    "downstream": downstream,
    "sparql": [row["score"].value, row["name"].value],
}""",
    )
    uri = "aip://evaluation/evals/ranking-v5-holdout"
    # the type is the steward's: the shipped model does not have it
    assert "https://w3id.org/lifecyclegraph/ontology#Evaluation" not in Ontology.load().classes()
    assert "Evaluation" in found["types"]
    assert found["doc"] == "An offline evaluation of a model instance on a held-out dataset."
    assert "1 SHACL violation(s); not written" in found["refused"]
    assert f"{uri} lg:score: The score is missing" in found["refused"]
    assert found["outcome"] == "created"
    assert found["hits"] == [[uri, "lg:Evaluation"]]
    assert found["found"] == [
        {
            "id": uri,
            "name": "ranking v5 on the December hold-out",
            "score": "0.71",
            "evaluates": [
                {
                    "id": INSTANCE,
                    "version": "5",
                    "instanceOf": {
                        "id": "aip://model/registry/ranking-model",
                        "name": "Ranking model",
                    },
                }
            ],
        }
    ]
    assert found["sparql"] == ["0.71", "ranking-model v5"]
    assert found["downstream"] == [uri]
