"""The shapes of derived lineage that ``bench lineage`` compares answer the same questions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecyclegraph.bench.lineage import SHAPES, shape_folders, sparql_questions
from lifecyclegraph.core.facts import Facts, Ref
from lifecyclegraph.graph.embedded import LifecycleGraph
from lifecyclegraph.rules.engine import RuleEngine
from lifecyclegraph.rules.load import load_program
from lifecyclegraph.store import Observation

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NODE = "aip://dataset/datasets/n{}"


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    out = {}
    for shape in SHAPES:
        rules, ontology = shape_folders(shape, tmp_path_factory.mktemp(shape))
        out[shape] = load_program(rules, ontology)
    return out


def _graph(program, edges: set[tuple[int, int]], nodes: int):
    graph = LifecycleGraph.in_memory()
    items = []
    for i in range(nodes):
        ups = sorted(j for a, j in edges if a == i)
        pairs = {
            "rdf:type": Ref("lg:Dataset"),
            "lg:upstreamDataset": [Ref(NODE.format(j)) for j in ups],
        }
        items.append((Facts.of(NODE.format(i), pairs), Observation("t", T0)))
    graph.write_many(items, validate=False)  # bare lineage nodes: the rules' input only
    engine = RuleEngine(graph.store, program)
    report = engine.start()
    return graph, report


def _answers(graph, shape: str, nodes: int) -> dict[tuple[str, int], set[str]]:
    out = {}
    for direction, question in sparql_questions(shape).items():
        for i in range(nodes):
            rows = graph.sparql(question.format(root=NODE.format(i)))
            out[direction, i] = {row["x"].value for row in rows}
    return out


dags = st.integers(min_value=2, max_value=9).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.sets(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] > e[1]),
            max_size=15,
        ),
    )
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(dags)
def test_every_shape_answers_the_same_lineage_on_any_dag(programs, dag):
    nodes, edges = dag
    answers = {}
    for shape in SHAPES:
        graph, _ = _graph(programs[shape], edges, nodes)
        answers[shape] = _answers(graph, shape, nodes)
    assert answers["step"] == answers["closure"]
    assert answers["none"] == answers["closure"]


def test_each_shape_writes_less_lineage_than_the_one_before(programs):
    edges = {(i, i - 1) for i in range(1, 8)}
    counts = {}
    for shape in SHAPES:
        _, report = _graph(programs[shape], edges, 8)
        counts[shape] = report.counts.get("lg:upstream", 0)
    # a chain of 8: 28 pairs in the closure, 7 one-step edges, none at all
    assert counts == {"closure": 28, "step": 7, "none": 0}


def test_shape_folders_rejects_an_unknown_shape(tmp_path):
    with pytest.raises(ValueError, match="unknown shape 'compact'"):
        shape_folders("compact", tmp_path)


@pytest.mark.slow
def test_bench_lineage_prints_each_shape_with_ratios_and_the_same_answers():
    from click.testing import CliRunner

    from lifecyclegraph.cli import main

    result = CliRunner().invoke(main, ["bench", "lineage", "--entities", "600", "--chain", "12"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1] == "SPARQL answers the same in every shape: True"
    written = next(line for line in lines if line.startswith("derived quads written"))
    assert "x)" in written and written.count("(") == 2  # a ratio for step and for none
    lineage_line = next(line for line in lines if "of which lg:upstream" in line)
    assert lineage_line.split()[-2:] == ["0", "(0.00x)"]
