"""``lifecyclegraph sandbox``: serve the source systems (the six reference ones and every
installed provider that brings a sandbox fake) from a demo world."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lifecyclegraph.cli.context import EXIT_BAD_INPUT


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8900, show_default=True, type=int, help="Port (0: any free).")
@click.option(
    "--world",
    "world_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory of the world files, one <platform id>.json per system "
    "[default: the packaged demo world].",
)
@click.option(
    "--events-to",
    "events_to",
    default=None,
    metavar="URL|FILE",
    help="Send every event the world emits to an http(s) URL (POST) or append it "
    "to a JSON-lines file.",
)
@click.option(
    "--events-token",
    "events_token",
    default=None,
    envvar="LIFECYCLEGRAPH_EVENTS_TOKEN",
    show_envvar=True,
    metavar="TOKEN",
    help="Bearer token sent with each event POSTed to --events-to (lifecyclegraph's "
    "write token). Prefer the environment variable: options show in process lists.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    help="Seed of the fault injection's random, and of the seed events.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.option(
    "--emit-seed-events",
    "seed_file",
    default=None,
    metavar="FILE",
    help="Write one created event per object of the world as JSON lines to FILE "
    "(- for standard output) and exit, instead of serving.",
)
@click.option("--shuffle", is_flag=True, help="With --emit-seed-events: in a random order.")
@click.option(
    "--duplicate",
    default=0.0,
    show_default=True,
    metavar="FRACTION",
    help="With --emit-seed-events: this fraction of events twice.",
)
@click.option(
    "--drop",
    default=0.0,
    show_default=True,
    metavar="FRACTION",
    help="With --emit-seed-events: leave out this fraction of events.",
)
@click.option(
    "--delay",
    default=0.0,
    show_default=True,
    metavar="FRACTION",
    help="With --emit-seed-events: move this fraction of events later.",
)
def sandbox(
    host: str,
    port: int,
    world_dir: Path | None,
    events_to: str | None,
    events_token: str | None,
    seed: int,
    log_level: str,
    seed_file: str | None,
    shuffle: bool,
    duplicate: float,
    drop: float,
    delay: float,
) -> None:
    """Serve the registry, orchestrator, experimentation, featurestore, datasets and
    identity systems, and every installed provider's sandbox fake, over HTTP, each
    under its own base URL, until interrupted.

    The control API (world changes, faults, request counts, events) is under /_sandbox;
    see docs/sandbox.md.
    """
    import gc

    from lifecyclegraph.sandbox.events import perturb, write_json_lines
    from lifecyclegraph.sandbox.server import base_urls, serve
    from lifecyclegraph.sandbox.world import World

    if events_token is not None:
        if events_to is None or not events_to.startswith(("http://", "https://")):
            raise click.BadParameter(
                "is only sent to an http(s) --events-to URL", param_hint="--events-token"
            )
        if not events_token.strip():
            raise click.BadParameter("is empty or blank", param_hint="--events-token")
    world = World.load(world_dir)
    # The world is the sandbox's long-lived heap (millions of objects in a large one):
    # kept out of the cyclic collector's full walks (lifecyclegraph.core.collector says
    # what those cost); what a change replaces is still freed when its count drops.
    gc.freeze()
    if seed_file is not None:
        try:
            events = perturb(
                world.seed_events(seed=seed),
                seed=seed,
                shuffle=shuffle,
                duplicate=duplicate,
                drop=drop,
                delay=delay,
            )
        except ValueError as error:
            raise click.BadParameter(str(error)) from error
        count = write_json_lines(events, seed_file)
        click.echo(f"wrote {count} seed events to {seed_file}", err=True)
        return

    def ready(root: str) -> None:
        click.echo(f"lifecyclegraph sandbox on {root}")
        for system, url in base_urls(root).items():
            click.echo(f"  {system:16} {url}")
        click.echo(f"  {'control':16} {root}/_sandbox")
        click.echo(f"  {'API docs':16} {root}/docs")

    try:
        serve(
            host=host,
            port=port,
            world=world,
            events_to=events_to,
            events_token=events_token,
            seed=seed,
            log_level=log_level,
            on_ready=ready,
        )
    except OSError as error:
        click.echo(f"error: cannot listen on {host}:{port}: {error.strerror or error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
