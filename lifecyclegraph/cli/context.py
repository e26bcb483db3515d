"""What every command shares: the exit codes, the error handling group, the
configuration and the graph of the invocation: the store on disk, or a running
service when ``--server`` (``LIFECYCLEGRAPH_URL``, ``[client] url``) names one.

Commands import this module, never :mod:`lifecyclegraph.cli` (which imports them).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from lifecyclegraph.core.config import Config, load_config
from lifecyclegraph.core.errors import LifecycleGraphError, StoreError
from lifecyclegraph.graph import LifecycleGraph
from lifecyclegraph.graph.door import Graph

if TYPE_CHECKING:
    from lifecyclegraph.server.client import ServiceClient

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_CHECK_FAILED",
    "EXIT_OK",
    "Group",
    "Server",
    "config_of",
    "open_graph",
    "open_store",
    "run_job",
    "server_of",
    "service_client",
]

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2

#: What the operating system says when another process holds the store's lock.
_LOCKED = ("resource temporarily unavailable", "would block")


class Group(click.Group):
    """A click group that turns lifecyclegraph errors into a message and exit code 2."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except LifecycleGraphError as error:
            click.echo(f"error: {_explained(error)}", err=True)
            sys.exit(EXIT_BAD_INPUT)


def _explained(error: LifecycleGraphError) -> str:
    """The error's message; for a store another process holds (a running ``serve``),
    what to do instead."""
    text = str(error)
    if isinstance(error, StoreError) and any(word in text.lower() for word in _LOCKED):
        return (
            f"{text}\nthe store is in use by another process (a running "
            "`lifecyclegraph serve`?); ask that service instead: give --server URL "
            "(or LIFECYCLEGRAPH_URL, or [client] url), with --token for the commands "
            "that write"
        )
    return text


@dataclass(frozen=True)
class Server:
    """A running service the command goes through: its root URL and bearer token."""

    url: str
    token: str | None


def config_of(ctx: click.Context) -> Config:
    """The configuration, with ``--store`` applied (errors name the file and key)."""
    config = load_config((ctx.obj or {}).get("config_path"))
    override = (ctx.obj or {}).get("store_override")
    if override is not None:
        config = config.model_copy(
            update={"store": config.store.model_copy(update={"path": override})}
        )
    return config


def server_of(ctx: click.Context) -> Server | None:
    """The service to go through: ``--server`` (or ``LIFECYCLEGRAPH_URL``), else
    ``[client] url`` of the configuration; ``None`` to open the store itself. The
    token is ``--token`` (``LIFECYCLEGRAPH_TOKEN``), else ``[client] token``."""
    obj = ctx.obj or {}
    url, token = obj.get("server"), obj.get("token")
    if url is None or token is None:
        client = config_of(ctx).client
        if url is None and obj.get("store_override") is None:
            url = client.url  # an explicit --store means the store, not the service
        if token is None and client.token is not None:
            token = client.token.get_secret_value()
    if url is None:
        return None
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(
            f"{url!r}: a service URL begins with http:// or https://", param_hint="--server"
        )
    return Server(url.rstrip("/"), token)


def open_graph(ctx: click.Context) -> Graph:
    """The graph of the invocation; the caller closes it (``with open_graph(ctx) as
    graph:``). With a server (:func:`server_of`), the running service's graph
    (:class:`~lifecyclegraph.graph.RemoteGraph`); else the on-disk graph of the
    configuration (``[store] path``, or ``--store``), with its search settings, which
    must exist: a path that holds no store is an error (exit 2), never a new empty
    store that would answer "nothing found"."""
    from lifecyclegraph.graph.remote import connect

    server = server_of(ctx)
    if server is not None:
        return connect(server.url, token=server.token)
    return open_store(ctx)


def open_store(ctx: click.Context) -> LifecycleGraph:
    """The on-disk graph of the configuration, for what only it does (a rule run, the
    search index's checks): commands call it when no server is given."""
    config = config_of(ctx)
    return LifecycleGraph.open(
        config.store.path, search=config.search, create=False, store=config.store
    )


def service_client(ctx: click.Context) -> ServiceClient | None:
    """The running service's status, dead letters and jobs when a server is given
    (:func:`server_of`); ``None`` when the command opens the store itself."""
    server = server_of(ctx)
    if server is None:
        return None
    from lifecyclegraph.server.client import ServiceClient

    return ServiceClient(server.url, token=server.token)


def run_job(
    client: ServiceClient, kind: str, label: str, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Start the service's ``kind`` job and follow it to its end, with a progress bar on
    a terminal (the entities it has processed, of those it queued); the job as the
    service last showed it."""
    from lifecyclegraph.cli.progress import progress

    done = 0
    with progress(label) as advance:

        def seen(job: dict[str, Any]) -> None:
            nonlocal done
            queued, remaining = job.get("queued"), job.get("remaining")
            if isinstance(queued, int) and isinstance(remaining, int):
                advance(max(queued - remaining - done, 0))
                done = max(done, queued - remaining)

        return client.run(kind, params=params, on_progress=seen)
