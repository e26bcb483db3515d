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

FOLDER = Path(__file__).parent.parent / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
INSTANCE = "aip://model/registry/ranking-model-v5-20XX0101"


def run(notebook: nbformat.NotebookNode, where: Path, probe: str | None = None) -> dict:
    """Execute ``notebook`` in a fresh kernel with ``where`` as its working directory;
    with a ``probe`` (an expression), return its value, printed as JSON by a cell added
    at the end."""
    if probe is not None:
        notebook.cells.append(
            nbformat.v4.new_code_cell(f"import json as _json\nprint(_json.dumps({probe}))")
        )
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(where)}},
    )
    client.execute()
    if probe is None:
        return {}
    outputs = notebook.cells[-1].outputs
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    return json.loads(text)


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(FOLDER / name, as_version=4)


def test_notebooks_are_stored_valid_and_without_outputs():
    assert NOTEBOOKS
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{path.name}: clear the outputs"
                assert cell.execution_count is None, f"{path.name}: clear the outputs"


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
        "{'current': current, 'then': then.entity(INSTANCE).get('lg:status')}",
    )
    assert found == {"current": [["Ranking model", "5", "LAUNCHED"]], "then": "STAGED"}
