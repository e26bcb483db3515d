"""The ``lifecyclegraph`` command line: a thin layer over library calls.

Exit codes: 0 ok; 1 the check failed (for example validation found violations);
2 the input or the configuration is bad.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lifecyclegraph.errors import LifecycleGraphError

DEFAULT_STORE = Path("data") / "store"

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


@click.group(cls=Group)
@click.version_option(package_name="lifecyclegraph")
@click.option(
    "--store",
    "store_path",
    type=click.Path(path_type=Path),
    default=DEFAULT_STORE,
    show_default=True,
    envvar="LIFECYCLEGRAPH_STORE",
    help="Directory of the on-disk store.",
)
@click.pass_context
def main(ctx: click.Context, store_path: Path) -> None:
    """lifecyclegraph: the Model Lifecycle Graph."""
    ctx.ensure_object(dict)
    ctx.obj["store_path"] = store_path


def _register() -> None:
    from lifecyclegraph.cli import bench, query, rules

    main.add_command(query.sparql)
    main.add_command(query.entity)
    main.add_command(query.history)
    main.add_command(bench.bench)
    main.add_command(rules.rules)
    main.add_command(rules.explain)


_register()
