"""``lifecyclegraph bench sparql --oxigraph``: /sparql beside ``oxigraph serve`` on the
same data (the run's figures are a benchmark's, never a test's)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from lifecyclegraph.bench.sparql import OverheadBenchResult, run_overhead_bench
from lifecyclegraph.cli import main


def rounds(*pairs: tuple[float, float]) -> OverheadBenchResult:
    return OverheadBenchResult(
        100,
        1500,
        [
            {"lifecyclegraph": {"p50": ours, "p95": 9.0}, "oxigraph": {"p50": theirs, "p95": 9.0}}
            for ours, theirs in pairs
        ],
    )


def test_overhead_ratio_is_the_median_of_each_rounds_p50_ratio():
    result = rounds((3.0, 1.0), (1.0, 1.0), (2.0, 1.0))
    assert result.ratios() == [3.0, 1.0, 2.0]
    assert result.median_ratio() == 2.0
    assert result.as_dict()["median_ratio"] == 2.0


@pytest.mark.slow
def test_overhead_bench_times_both_servers_on_the_same_lookup_each_round():
    result = run_overhead_bench(entities=50, samples=5, rounds=2)
    assert result.entities == 50 and result.quads > 50 * 10
    assert len(result.rounds) == 2
    for r in result.rounds:
        assert set(r) == {"lifecyclegraph", "oxigraph"}
        assert r["lifecyclegraph"]["n"] == r["oxigraph"]["n"] == 5
        assert 0 < r["oxigraph"]["p50"] <= r["oxigraph"]["p95"]


@pytest.mark.slow
def test_overhead_bench_command_prints_each_round_and_the_median_ratio():
    answer = CliRunner().invoke(
        main,
        ["bench", "sparql", "--oxigraph", "--entities", "50", "--samples", "3", "--rounds", "2"],
    )
    assert answer.exit_code == 0, answer.output
    lines = answer.output.splitlines()
    assert lines[-1].startswith("median ratio of the p50s: ") and "target 1.5x" in lines[-1]
    assert [line.split()[0] for line in lines[-3:-1]] == ["1", "2"]
