"""``lifecyclegraph bench``: measured figures, printed for docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import platform
from typing import Any

import click


def machine() -> str:
    """A one-line description of this machine for benchmark reports."""
    import psutil

    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{memory:.0f} GiB, Python {platform.python_version()}, {platform.system()}"
    )


@click.group()
def bench() -> None:
    """Run a benchmark and print its figures (never part of the tests)."""


@bench.command("store")
@click.option("--entities", default=100_000, show_default=True)
@click.option("--batch", default=1000, show_default=True, help="Entities per write_many call.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def store_bench(entities: int, batch: int, as_json: bool) -> None:
    """Write ENTITIES synthetic entities (~15 triples) through the public write path,
    beside a plain pyoxigraph bulk_load of the same triples, each on disk."""
    from lifecyclegraph.bench.store import run_store_bench

    results = run_store_bench(entities, batch)
    ratio = results[0].entities_per_second / results[1].entities_per_second
    if as_json:
        click.echo(
            json.dumps(
                {
                    "machine": machine(),
                    "runs": [r.as_dict() for r in results],
                    "ratio": round(ratio, 3),
                },
                indent=2,
            )
        )
        return
    click.echo(f"machine: {machine()}")
    click.echo(
        f"{'run':38} {'entities':>9} {'triples':>10} {'seconds':>8} "
        f"{'entities/s':>11} {'peak RSS MB':>12}"
    )
    for r in results:
        click.echo(
            f"{r.name:38} {r.entities:9d} {r.triples:10d} {r.seconds:8.2f} "
            f"{r.entities_per_second:11.0f} {r.peak_rss_mb:12.0f}"
        )
    click.echo(f"public write path / bulk load rate: {ratio:.2f} (target >= 0.33)")


@bench.command("search")
@click.option("--entities", "sizes", multiple=True, type=int, help="Index sizes (default 100000).")
@click.option(
    "--backend",
    "backends",
    multiple=True,
    type=click.Choice(["whoosh", "tantivy"]),
    help="Engines to run (default: whoosh, and tantivy if installed).",
)
@click.option("--batch", default=20_000, show_default=True, help="Documents per commit.")
@click.option("--queries", default=40, show_default=True, help="Queries timed of each kind.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def search_bench(
    sizes: tuple[int, ...], backends: tuple[str, ...], batch: int, queries: int, as_json: bool
) -> None:
    """Build a search index of synthetic documents, then time changes and queries.

    Each backend and size runs in a child process on a fresh on-disk index.
    """
    import importlib.util

    from lifecyclegraph.bench.search import run_search_bench

    if not backends:
        installed = importlib.util.find_spec("tantivy") is not None
        backends = ("whoosh", "tantivy") if installed else ("whoosh",)
    runs = []
    if not as_json:
        click.echo(f"machine: {machine()}")
    for size in sizes or (100_000,):
        for name in backends:
            result = run_search_bench(name, size, batch, queries)
            runs.append(result)
            if not as_json:
                _print_search(result)
    if as_json:
        click.echo(
            json.dumps({"machine": machine(), "runs": [r.as_dict() for r in runs]}, indent=2)
        )


def _print_search(r: Any) -> None:
    click.echo(
        f"{r.backend} {r.entities} entities: build {r.build_seconds:.1f} s "
        f"({r.docs_per_second:.0f} docs/s), index {r.index_mb:.0f} MB, "
        f"peak RSS {r.peak_rss_mb:.0f} MB"
    )
    for kind, v in r.visible_ms.items():
        click.echo(f"  change visible, {kind:12}: p50 {v['p50']} ms, p95 {v['p95']} ms")
    for kind, q in r.query_ms.items():
        click.echo(f"  query {kind:16}: p50 {q['p50']} ms, p95 {q['p95']} ms")


@bench.command("ingest")
@click.option("--entities", "sizes", multiple=True, type=int, default=[10_000, 100_000],
              show_default=True, help="World size (repeat for several).")
@click.option("--samples", default=200, show_default=True, help="Latency samples.")
@click.option("--rate", default=20.0, show_default=True, help="Events/s in the latency phase.")
@click.option("--json", "as_json", is_flag=True)
def ingest_bench(sizes: tuple[int, ...], samples: int, rate: float, as_json: bool) -> None:
    """Events -> hydrated over HTTP -> validated -> stored, against the sandbox in its own
    process: entities/s, the share of SHACL validation, and event-to-visible latency."""
    from lifecyclegraph.bench.ingest import run_ingest_bench

    results = [run_ingest_bench(size, samples, rate) for size in sizes]
    if as_json:
        click.echo(json.dumps({"machine": machine(), "runs": [r.as_dict() for r in results]},
                              indent=2))
        return
    click.echo(f"machine: {machine()}")
    click.echo(f"{'entities':>9} {'events':>7} {'seconds':>8} {'entities/s':>10} "
               f"{'SHACL':>6} {'HTTP':>6} {'writes':>6} {'p50 ms':>7} {'p95 ms':>7}")
    for r in results:
        click.echo(f"{r.entities:9d} {r.events:7d} {r.seconds:8.1f} {r.entities_per_second:10.0f} "
                   f"{r.validate_share:6.1%} {r.hydrate_share:6.1%} {r.write_share:6.1%} "
                   f"{r.latency_p50_ms:7.1f} {r.latency_p95_ms:7.1f}")
    click.echo(f"latency at {rate:g} events/s, {samples} samples; targets: >= 1000 entities/s, "
               "p95 <= 200 ms")
