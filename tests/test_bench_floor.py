"""``lifecyclegraph bench floor``: the store alone writing a backfill's quads (the
figures are a benchmark's, never a test's; these tests check what it writes)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from pyoxigraph import Store

from lifecyclegraph.bench.floor import ASSERTED, BOOKKEEPING, run_floor
from lifecyclegraph.cli import main
from lifecyclegraph.core.vocab import INFERRED_GRAPH
from lifecyclegraph.store.layout import is_snapshot_graph


def test_floor_writes_the_backfills_mix_of_quads_in_each_graph(tmp_path):
    result = run_floor(tmp_path / "store", entities=250, derived=16, batch=40, flush_every=1000)
    assert result.quads == 250 * (ASSERTED + BOOKKEEPING + 16)
    store = Store.read_only(str(tmp_path / "store"))
    graphs = {"snapshot": 0, "inferred": 0, "default": 0}
    snapshots = set()
    for quad in store:
        if quad.graph_name == INFERRED_GRAPH:
            graphs["inferred"] += 1
        elif is_snapshot_graph(quad.graph_name):
            graphs["snapshot"] += 1
            snapshots.add(quad.graph_name)
        else:
            graphs["default"] += 1
    expected = {"snapshot": 250 * ASSERTED, "inferred": 250 * 16, "default": 250 * BOOKKEEPING}
    assert graphs == expected
    assert len(snapshots) == 250  # one snapshot graph an entity
    assert result.cpu_seconds > 0 and result.seconds > 0


def test_floor_without_derived_quads_writes_none_to_the_inferred_graph(tmp_path):
    result = run_floor(tmp_path / "store", entities=30, derived=0, batch=7)
    assert result.quads == 30 * (ASSERTED + BOOKKEEPING)
    store = Store.read_only(str(tmp_path / "store"))
    assert not list(store.quads_for_pattern(None, None, None, INFERRED_GRAPH))


def test_floor_command_runs_each_derived_count_in_its_own_run():
    out = CliRunner().invoke(
        main, ["bench", "floor", "--entities", "60", "--derived", "16", "--derived", "4", "--json"]
    )
    assert out.exit_code == 0, out.output
    runs = json.loads(out.output)["runs"]
    assert [(r["derived"], r["quads"]) for r in runs] == [(16, 60 * 38), (4, 60 * 26)]
    assert [r["quads_per_entity"] for r in runs] == [38.0, 26.0]


def test_floor_command_refuses_a_negative_count():
    out = CliRunner().invoke(main, ["bench", "floor", "--derived", "-1"])
    assert out.exit_code == 2
    assert "--derived" in out.output
