"""Every notebook's code cells run, top to bottom, without error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_code_cells_run_in_order(path):
    cells = json.loads(path.read_text())["cells"]
    namespace: dict = {}
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert code
    for source in code:
        exec(compile(source, f"{path.name}", "exec"), namespace)


def test_exploration_notebook_shows_the_status_change():
    path = Path(__file__).parent.parent / "notebooks" / "01-explore-the-graph.ipynb"
    namespace: dict = {}
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            exec("".join(cell["source"]), namespace)
    assert namespace["current"] == [("Ranking model", "5", "LAUNCHED")]
    assert namespace["then"].entity(namespace["INSTANCE"]).get("lg:status") == "STAGED"
