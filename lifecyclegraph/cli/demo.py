"""``lifecyclegraph demo``: the main job, end to end on the embedded store (or the
remote one of ``[store] url``)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import click


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=Path("data") / "demo",
    show_default=True,
    help="Where the demo store lives (recreated on each run).",
)
@click.option("--serve", is_flag=True, help="Keep the sandbox and the API running (Ctrl-C stops).")
@click.option("--port", type=int, default=8800, show_default=True, help="API port with --serve.")
@click.option(
    "--sandbox-port",
    type=int,
    default=None,
    help="Sandbox port with --serve [default: a free port].",
)
@click.pass_context
def demo(
    ctx: click.Context, directory: Path, serve: bool, port: int, sandbox_port: int | None
) -> None:
    """Start the sandbox and the service, ingest the demo world through events, and show
    what the graph answers (on the remote store of ``[store] url`` when one is
    configured: it should be empty)."""
    from lifecyclegraph.cli.context import config_of
    from lifecyclegraph.cli.progress import progress
    from lifecyclegraph.demo import DEMO_QUERIES, answer, start_demo

    configured = config_of(ctx).store
    remote = (
        configured.model_dump(exclude={"path"}, exclude_none=True, mode="json")
        if configured.url is not None
        else None
    )
    if remote is not None and configured.password is not None:
        remote["password"] = configured.password.get_secret_value()

    began = time.perf_counter()
    click.echo("Starting the six source systems (sandbox) and the lifecyclegraph service …")
    if sandbox_port is not None and not serve:
        raise click.UsageError("--sandbox-port is for --serve (without it every port is free)")
    run = start_demo(
        directory,
        port=port if serve else 0,
        sandbox_port=(sandbox_port or 0) if serve else 0,
        store=remote,
    )
    click.echo(f"  sandbox: {run.sandbox.url}  (registry at {run.sandbox.base_url('registry')}, …)")
    click.echo(f"  service: {run.api.url}  (events in at /api/v1/events)")
    click.echo(f"Sent {run.events_sent} events for the demo world; hydrating …")

    try:
        with progress("hydrating the demo world (events)", total=run.events_sent) as advance:
            done = 0

            def processed(stats: dict) -> None:
                nonlocal done
                now = stats["events"] - stats["events_pending"]
                advance(now - done)
                done = now

            stats = run.wait_until_ingested(progress=processed)
        graph = run.service.graph
        entities = sum(1 for _ in graph.entities())
        click.echo(
            f"Ingested in {time.perf_counter() - began:.1f} s: {entities} entities in "
            f"{directory}/ ({stats['rejected_entities']} rejected by validation, "
            f"{stats['dead_letters']} dead letters)"
        )
        for title, query in DEMO_QUERIES.items():
            click.echo(f"\n== {title}")
            for line in query.strip().splitlines():
                click.echo("   " + line.strip())
            for row in answer(run.service, query):
                click.echo("   -> " + " | ".join(row))
        look = f"  lifecyclegraph --store {directory}"
        click.echo(
            "\nWhere to look:\n"
            f"{look} entity aip://model/registry/ranking-model-v5-20XX0101\n"
            f"{look} history aip://model/registry/ranking-model\n"
            f"{look} sparql 'SELECT ?n WHERE {{ ?t a lg:Team ; lg:name ?n }}'\n"
            f"{look} status"
        )
        if serve:
            click.echo(
                f"\nServing: the portal {run.api.url}/, API {run.api.url} "
                f"(docs {run.api.url}/docs, SPARQL "
                f"{run.api.url}/sparql, GraphQL {run.api.url}/graphql), sandbox "
                f"{run.sandbox.url}\n"
                f"Write token (for POST /api/v1/events and other writes): {run.token}\n"
                f"  curl -H 'Authorization: Bearer {run.token}' ...\n"
                "Ctrl-C stops."
            )
            # Ctrl-C stops it even where SIGINT came ignored (a background job of a
            # script inherits that), as it stops `serve`, whose server sets its own
            signal.signal(signal.SIGINT, signal.default_int_handler)
            while True:
                time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        run.stop()
