"""``lifecyclegraph serve``: the HTTP service with its ingestion worker."""

from __future__ import annotations

import os
import secrets
from importlib.metadata import version
from pathlib import Path

import click

from lifecyclegraph.cli.context import config_of
from lifecyclegraph.cli.model import model_options
from lifecyclegraph.core.errors import ConfigError


def write_token_for(store: Path) -> tuple[str, Path]:
    """The store's generated write token (made on first use, kept in a 0600 file).

    Raises:
        ConfigError: the file is there but holds no token.
    """
    path = store / "write-token"
    if path.exists():
        token = path.read_text().strip()
        if not token:
            raise ConfigError(f"{path}: the write token file is empty; delete it to get a new one")
        return token, path
    store.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token, path


@click.command()
@model_options
@click.option("--host", default=None, help="Interface to listen on (default [server] host).")
@click.option("--port", type=int, default=None, help="Port (default [server] port, 8800).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the HTTP API (events in, SPARQL and REST out) and process events.

    It prints where it listens (API, SPARQL, GraphQL, docs), its store and its
    configuration file (and, with [cluster], which worker it is), then logs to
    standard error as [server] log_level, log_format (text or json) and access_log say.
    """
    from lifecyclegraph.server.app import create_app
    from lifecyclegraph.server.logs import log_config
    from lifecyclegraph.server.service import Service
    from lifecyclegraph.server.serving import bind, serve_foreground, url_of

    config = config_of(ctx)  # refuses empty or blank tokens: exit 2 before anything starts
    service = Service(config)  # makes the store (0700) that the generated token goes in
    tokens = [t.get_secret_value() for t in config.server.write_tokens]
    if not tokens:
        token, path = write_token_for(Path(config.store.path))
        tokens = [token]
        click.echo(f"writes need the token in {path} (Authorization: Bearer …)")
    app = create_app(service, write_tokens=tokens)
    server = config.server
    try:
        sock = bind(host or server.host, server.port if port is None else port, listen=True)
    except OSError as error:
        raise ConfigError(
            f"cannot listen on {host or server.host}:{server.port if port is None else port}: "
            f"{error.strerror or error}"
        ) from None
    service.queries.start()  # the SPARQL workers start now, not on the first query
    url = url_of(sock)
    if config.cluster is not None:
        cluster = config.cluster
        click.echo(
            f"cluster worker {cluster.me} of {len(cluster.peers)} (writer w{cluster.me}, "
            f"listed as {cluster.peers[cluster.me]}): docs/scale-out.md"
        )
    click.echo(
        f"lifecyclegraph {version('lifecyclegraph')} serving the store {config.store.path} "
        f"(configuration: {config.source_file or 'none, the defaults'})\n"
        f"  portal   {url}/\n"
        f"  API      {url}/api/v1\n"
        f"  SPARQL   {url}/sparql\n"
        f"  GraphQL  {url}/graphql\n"
        f"  docs     {url}/docs\n"
        "Ctrl-C stops."
    )
    serve_foreground(
        app,
        sock,
        log_level=server.log_level,
        access_log=server.access_log,
        log_config=log_config(server.log_level, server.log_format, server.access_log),
    )
