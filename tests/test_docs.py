"""The documentation's example queries run and answer on the example graph."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lifecyclegraph import LifecycleGraph
from lifecyclegraph.example import load_example

DOCS = Path(__file__).parent.parent / "docs"
BLOCK = re.compile(r"```sparql\n(.*?)```", re.S)


def sparql_blocks(name: str) -> list[str]:
    return BLOCK.findall((DOCS / name).read_text())


@pytest.fixture(scope="module")
def graph() -> LifecycleGraph:
    graph = LifecycleGraph.in_memory()
    load_example(graph)
    graph.reference(
        "aip://dataset/datasets/playback-events",
        "https://w3id.org/lifecyclegraph/ontology#Dataset",
        source="datasets",
    )
    return graph


@pytest.mark.parametrize("query", sparql_blocks("dataset-layout.md"))
def test_dataset_layout_example_query_answers_on_the_example_graph(graph, query):
    rows = list(graph.sparql(query))
    assert rows, query


def test_dataset_layout_has_the_promised_examples():
    queries = sparql_blocks("dataset-layout.md")
    assert len(queries) >= 4
    assert any("GRAPH ?snapshot" in q for q in queries)  # provenance
    assert any("lg:snapshotOf" in q for q in queries)  # history


def _settings() -> list[tuple[str, str]]:
    from lifecyclegraph.core.config import ClusterConfig, Config, QueueConfig, SourceConfig

    tables = {
        name: field.annotation
        for name, field in Config.model_fields.items()
        if hasattr(field.annotation, "model_fields")
    }
    tables["sources.<platform-id>"] = SourceConfig
    tables["[queues]"] = QueueConfig
    tables["cluster"] = ClusterConfig
    return [(table, key) for table, model in tables.items() for key in model.model_fields]


@pytest.mark.parametrize(("table", "key"), _settings())
def test_every_setting_is_documented(table, key):
    """Every limit (and every other key) of the configuration is stated in docs/."""
    docs = " ".join(path.read_text() for path in DOCS.glob("*.md"))
    assert f"`{key}`" in docs or f"{key} = " in docs, f"[{table}] {key} is in no docs/*.md"
