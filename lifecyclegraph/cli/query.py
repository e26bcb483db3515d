"""Read commands: ``sparql``, ``entity``, ``history``."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from pyoxigraph import QueryBoolean

from lifecyclegraph.cli.context import open_graph


@click.command()
@click.argument("query")
@click.pass_context
def sparql(ctx: click.Context, query: str) -> None:
    """Run a SPARQL query on the current state and print the results as TSV.

    QUERY is the query text, or - to read it from standard input.
    """
    text = sys.stdin.read() if query == "-" else query
    with open_graph(ctx) as graph:
        result = graph.sparql(text)
        if isinstance(result, bool | QueryBoolean):  # the remote graph's ASK: a QueryBoolean
            click.echo("true" if result else "false")
            return
        variables = getattr(result, "variables", None)
        if variables is None:  # CONSTRUCT / DESCRIBE
            for triple in result:
                click.echo(f"{triple.subject} {triple.predicate} {triple.object} .")
            return
        click.echo("\t".join(str(v) for v in variables))
        for row in result:
            click.echo("\t".join("" if row[v] is None else str(row[v]) for v in variables))


@click.command()
@click.argument("uri")
@click.pass_context
def entity(ctx: click.Context, uri: str) -> None:
    """Print an entity's current view as JSON."""
    with open_graph(ctx) as graph:
        found = graph.entity(uri)
        if found is None:
            click.echo(f"error: no current entity {uri}", err=True)
            sys.exit(1)
        click.echo(json.dumps(_entity_json(found), indent=2, default=str))


@click.command()
@click.argument("uri")
@click.pass_context
def history(ctx: click.Context, uri: str) -> None:
    """Print every snapshot of an entity, oldest first."""
    with open_graph(ctx) as graph:
        for info in graph.history(uri):
            click.echo(
                f"{info.observed_at.isoformat()}\t{info.kind.value}\t{info.source}\t"
                f"{info.event_id or ''}\t{info.iri}"
            )


def _entity_json(found: Any) -> dict[str, Any]:
    return {
        "uri": found.uri,
        "types": list(found.types),
        "properties": found.properties,
        "outgoing": [
            {"predicate": r.name, "object": r.object, "inferred": r.inferred}
            for r in found.outgoing
        ],
        "incoming": [
            {"predicate": r.name, "subject": r.subject, "inferred": r.inferred}
            for r in found.incoming
        ],
        "state": found.state.state.value if found.state else None,
        "lastHydratedAt": found.state.last_hydrated_at if found.state else None,
    }
