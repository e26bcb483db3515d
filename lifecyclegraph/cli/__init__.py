"""The ``lifecyclegraph`` command line: a thin layer over library calls.

Exit codes: 0 ok; 1 the check failed (for example validation found violations, or
some events were rejected); 2 the input or the configuration is bad.
"""

from __future__ import annotations

from pathlib import Path

import click

from lifecyclegraph.cli import (
    bench,
    config,
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
from lifecyclegraph.cli.context import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    Group,
    config_of,
)

__all__ = ["EXIT_BAD_INPUT", "EXIT_CHECK_FAILED", "EXIT_OK", "config_of", "main"]


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


for _command in (
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
    steward.impact,
    steward.quality,
    steward.suggest,
    model.model,
    config.config,
    sandbox.sandbox,
    rules.rules,
    rules.explain,
    search.search,
    search.reindex,
):
    main.add_command(_command)
