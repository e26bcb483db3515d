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
@click.option(
    "--server",
    "server_url",
    default=None,
    envvar="LIFECYCLEGRAPH_URL",
    metavar="URL",
    help="A running lifecyclegraph serve to ask instead of opening the store (which it "
    "holds): reads go through its graph protocol, writing commands start its jobs "
    "(overrides [client] url).",
)
@click.option(
    "--token",
    default=None,
    envvar="LIFECYCLEGRAPH_TOKEN",
    help="Bearer token for --server (a write token for the commands that write; "
    "overrides [client] token).",
)
@click.pass_context
def main(
    ctx: click.Context,
    config_path: Path | None,
    store_path: Path | None,
    server_url: str | None,
    token: str | None,
) -> None:
    """lifecyclegraph: the Model Lifecycle Graph.

    Beside a running `lifecyclegraph serve`, give --server URL (or LIFECYCLEGRAPH_URL):
    every command then asks the service, with the same output and exit codes.
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["store_override"] = store_path
    ctx.obj["server"] = server_url
    ctx.obj["token"] = token


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
