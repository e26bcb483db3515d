"""What every command shares: the exit codes, the error handling group, the
configuration and the graph of the invocation.

Commands import this module, never :mod:`lifecyclegraph.cli` (which imports them).
"""

from __future__ import annotations

import sys

import click

from lifecyclegraph.core.config import Config, load_config
from lifecyclegraph.core.errors import LifecycleGraphError
from lifecyclegraph.graph import LifecycleGraph

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_CHECK_FAILED",
    "EXIT_OK",
    "Group",
    "config_of",
    "open_graph",
]

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2


class Group(click.Group):
    """A click group that turns lifecyclegraph errors into a message and exit code 2."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except LifecycleGraphError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(EXIT_BAD_INPUT)


def config_of(ctx: click.Context) -> Config:
    """The configuration, with ``--store`` applied (errors name the file and key)."""
    config = load_config(ctx.obj.get("config_path"))
    override = ctx.obj.get("store_override")
    if override is not None:
        config = config.model_copy(
            update={"store": config.store.model_copy(update={"path": override})}
        )
    return config


def open_graph(ctx: click.Context) -> LifecycleGraph:
    """The on-disk graph of the configuration (``[store] path``, or ``--store``), with
    its search settings; the caller closes it (``with open_graph(ctx) as graph:``).
    It must exist: a path that holds no store is an error (exit 2), never a new empty
    store that would answer "nothing found"."""
    config = config_of(ctx)
    return LifecycleGraph.open(config.store.path, search=config.search, create=False)
