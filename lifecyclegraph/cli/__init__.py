"""The ``lifecyclegraph`` command line: a thin layer over library calls.

Exit codes: 0 ok; 1 the check failed (for example validation found violations, or
some events were rejected); 2 the input or the configuration is bad.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lifecyclegraph.config import Config, load_config
from lifecyclegraph.errors import LifecycleGraphError

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
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    envvar="LIFECYCLEGRAPH_CONFIG",
    help="Configuration file (default: ./lifecyclegraph.toml if it exists).",
)
@click.option(
    "--store",
    "store_path",
    type=click.Path(path_type=Path),
    default=None,
    envvar="LIFECYCLEGRAPH_STORE",
    help="Directory of the on-disk store (overrides [store] path; default data/store).",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, store_path: Path | None) -> None:
    """lifecyclegraph: the Model Lifecycle Graph."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["store_override"] = store_path


def config_of(ctx: click.Context) -> Config:
    """The configuration, with ``--store`` applied (errors name the file and key)."""
    config = load_config(ctx.obj.get("config_path"))
    override = ctx.obj.get("store_override")
    if override is not None:
        config = config.model_copy(
            update={"store": config.store.model_copy(update={"path": override})}
        )
    return config


def _register() -> None:
    from lifecyclegraph.cli import (
        bench,
        demo,
        ingest,
        model,
        query,
        rules,
        sandbox,
        search,
        serve,
        steward,
    )

    for command in (
        demo.demo,
        query.sparql,
        query.entity,
        query.history,
        bench.bench,
        serve.serve,
        ingest.ingest,
        ingest.deadletters,
        ingest.reconcile,
        ingest.enrich,
        ingest.status,
        steward.validate,
        steward.lint,
        model.model,
        sandbox.sandbox,
        rules.rules,
        rules.explain,
        search.search,
        search.reindex,
    ):
        main.add_command(command)


_register()
