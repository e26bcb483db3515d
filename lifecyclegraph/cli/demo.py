"""``lifecyclegraph demo``: the main job, end to end on the embedded store."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from lifecyclegraph.example import INSTANCE, load_example
from lifecyclegraph.graph import LifecycleGraph

DEMO_QUERIES = {
    "Models with their current instance": """
        SELECT ?name ?version ?status WHERE {
          ?m a lg:Model ; lg:name ?name ; lg:currentInstance ?i .
          ?i lg:version ?version ; lg:status ?status }""",
    "Where the instance's status came from (provenance)": f"""
        SELECT ?status ?source ?observed WHERE {{
          GRAPH ?g {{ <{INSTANCE}> lg:status ?status }}
          ?g lg:source ?source ; lg:observedAt ?observed }}""",
    "The instance's history": f"""
        SELECT ?observed ?source ?event WHERE {{
          ?s lg:snapshotOf <{INSTANCE}> ; lg:observedAt ?observed ; lg:source ?source ;
             lg:event ?event }} ORDER BY ?observed""",
}


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=Path("data") / "demo",
    show_default=True,
    help="Where the demo store lives (recreated on each run).",
)
def demo(directory: Path) -> None:
    """Build the demo graph in an on-disk store and show what it answers."""
    if (directory / "lifecyclegraph-store.json").exists():
        shutil.rmtree(directory)
    with LifecycleGraph.open(directory) as graph:
        writes = load_example(graph)
        click.echo(f"Wrote {writes} observations of the design's example into {directory}/")
        for title, query in DEMO_QUERIES.items():
            click.echo(f"\n== {title}\n{_dedent(query)}")
            rows = list(graph.sparql(query))
            for row in rows:
                click.echo("   -> " + " | ".join(t.value for t in row if t is not None))
    click.echo(
        f"\nTry: lifecyclegraph --store {directory} entity {INSTANCE}\n"
        f"     lifecyclegraph --store {directory} history {INSTANCE}\n"
        f"     lifecyclegraph --store {directory} sparql 'SELECT * WHERE {{ ?s a lg:Team }}'"
    )


def _dedent(text: str) -> str:
    return "\n".join("   " + line.strip() for line in text.strip().splitlines())
