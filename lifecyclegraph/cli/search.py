"""Search commands: ``search`` and ``reindex``."""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any

import click

from lifecyclegraph.cli.context import (
    EXIT_CHECK_FAILED,
    open_graph,
    open_store,
    run_job,
    service_client,
)
from lifecyclegraph.cli.model import model_options
from lifecyclegraph.search import CheckReport, SearchResults
from lifecyclegraph.search.index import Discrepancy

_MARK = re.compile(r"<mark>(.*?)</mark>")


@click.command()
@model_options
@click.argument("query", default="")
@click.option("--type", "types", multiple=True, help="Entity type (model, lg:Model, ...).")
@click.option("--owner", "owners", multiple=True, help="Owner URI, id or name.")
@click.option("--tag", "tags", multiple=True, help="Tag as key::value.")
@click.option("--domain", "domains", multiple=True, help="Domain (models, datasets, ...).")
@click.option("--page", default=1, show_default=True)
@click.option("--page-size", default=20, show_default=True)
@click.option("--owners", "owner_search", is_flag=True, help="Search users and teams instead.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--check", is_flag=True, help="Check the index against the store instead (exit 1 if off)."
)
@click.pass_context
def search(
    ctx: click.Context,
    query: str,
    types: tuple[str, ...],
    owners: tuple[str, ...],
    tags: tuple[str, ...],
    domains: tuple[str, ...],
    page: int,
    page_size: int,
    owner_search: bool,
    as_json: bool,
    check: bool,
) -> None:
    """Search the graph for QUERY (typos are forgiven); with no QUERY, list by name.

    Filters of the same kind combine with OR, different kinds with AND. Facet counts
    are over every match. Exits with 2 for an unknown type or domain.
    """
    if check:
        _check(ctx, as_json)
        return
    with open_graph(ctx) as graph:
        if owner_search:
            results = graph.search_owners(query, page=page, page_size=page_size)
        else:
            results = graph.search(
                query,
                type=list(types),
                owner=list(owners),
                tag=list(tags),
                domain=list(domains),
                page=page,
                page_size=page_size,
            )
        if as_json:
            click.echo(json.dumps(results.as_dict(), indent=2))
        else:
            _print(results)


@click.command()
@model_options
@click.option("--check", is_flag=True, help="Only report what is missing, stale or extra.")
@click.option("--repair", is_flag=True, help="Re-index only what the check finds wrong.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def reindex(ctx: click.Context, check: bool, repair: bool, as_json: bool) -> None:
    """Rebuild the search index from the store (it is derived data).

    With --check, compare the index with the store and exit with 1 if they differ.
    With --server, the running service checks, repairs or rebuilds its index.
    """
    if check:
        _check(ctx, as_json)
        return
    client = service_client(ctx)
    if client is not None:
        with client:
            if repair:
                _report(_check_report(client.search_repair()), as_json, repaired=True)
                return
            found = run_job(client, "reindex", "indexing")["found"]
        _indexed(found["indexed"], found["seconds"], found["path"], as_json)
        return
    with open_store(ctx) as graph:
        if repair:
            _report(graph.open_search(update=False).repair(), as_json, repaired=True)
            return
        began = time.perf_counter()
        index = graph.open_search(rebuild=True)
        seconds = time.perf_counter() - began
        _indexed(index.entities.count(), seconds, str(index.path or "memory"), as_json)


def _indexed(count: int, seconds: float, where: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"indexed": count, "seconds": round(seconds, 3)}))
    else:
        click.echo(f"indexed {count} entities in {seconds:.1f} s ({where})")


def _check_report(found: dict[str, Any]) -> CheckReport:
    """A check report as the service sent it (``CheckReport.as_dict()``)."""
    return CheckReport(found["checked"], [Discrepancy(**d) for d in found["discrepancies"]])


def _check(ctx: click.Context, as_json: bool) -> None:
    """Check the index against the store (the service's, with --server); exit 1 if off."""
    client = service_client(ctx)
    if client is not None:
        with client:
            report = _check_report(client.search_check())
    else:
        with open_store(ctx) as graph:
            report = graph.open_search(update=False).check()
    _report(report, as_json)
    if not report.ok:
        sys.exit(EXIT_CHECK_FAILED)


def _report(report: CheckReport, as_json: bool, repaired: bool = False) -> None:
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "repaired": repaired}, indent=2))
        return
    verb = "repaired" if repaired else "found"
    if report.ok:
        click.echo(f"search index is current: {report.checked} entities checked")
        return
    counts = ", ".join(f"{n} {what}" for what, n in sorted(report.counts().items()))
    click.echo(
        f"{verb} {len(report.discrepancies)} problems in {report.checked} entities: {counts}"
    )
    for d in report.discrepancies[:50]:
        click.echo(f"  {d.index}\t{d.kind}\t{d.uri}")
    if len(report.discrepancies) > 50:
        click.echo(f"  ... and {len(report.discrepancies) - 50} more (use --json)")
    if not repaired:
        click.echo("run 'lifecyclegraph reindex --repair' (or 'reindex') to fix them")


def _print(results: SearchResults) -> None:
    pages = max(1, -(-results.total // results.page_size))
    fuzzy = " (fuzzy)" if results.fuzzy else ""
    click.echo(f"{results.total} results{fuzzy}, page {results.page} of {pages}")
    first = (results.page - 1) * results.page_size
    for n, hit in enumerate(results.hits, first + 1):
        click.echo(f"{n:3d}. {click.style(hit.name, bold=True)}  [{hit.type}]  {hit.uri}")
        snippet = hit.highlights.get("description") or hit.highlights.get("related")
        if snippet:
            click.echo("     " + _MARK.sub(lambda m: click.style(m[1], bold=True), snippet))
    for facet, counts in results.facets.items():
        if counts:
            shown = ", ".join(f"{k} {v}" for k, v in list(counts.items())[:8])
            click.echo(f"{facet}: {shown}")
