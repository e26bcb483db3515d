"""``lifecyclegraph bench``: measured figures, printed for docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
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
@click.option(
    "--store-url",
    default=None,
    help="Compare the embedded store with the (empty) remote SPARQL 1.1 store at this URL "
    "(oxigraph serve's endpoints): writes, entity reads and a query, in the same run.",
)
@click.option("--reads", default=200, show_default=True, help="Entities read back (--store-url).")
def store_bench(
    entities: int, batch: int, as_json: bool, store_url: str | None, reads: int
) -> None:
    """Write ENTITIES synthetic entities (~15 triples) through the public write path,
    unchecked and checked, beside a plain pyoxigraph bulk_load of the same triples,
    each on disk; with --store-url, the embedded store beside a remote one."""
    from lifecyclegraph.bench.store import run_remote_bench, run_store_bench

    if store_url is not None:
        remote = run_remote_bench(store_url, entities, batch, reads)
        if as_json:
            click.echo(json.dumps([run.as_dict() for run in remote], indent=2))
            return
        click.echo(f"machine: {machine()}")
        click.echo(
            f"{'store':9} {'entities':>9} {'write s':>8} {'entities/s':>11} "
            f"{'reads':>6} {'ms/read':>8} {'count query s':>14}"
        )
        for run in remote:
            d = run.as_dict()
            click.echo(
                f"{run.name:9} {run.entities:9d} {run.write_seconds:8.2f} "
                f"{d['entities_per_second']:11d} {run.reads:6d} {d['ms_per_entity_read']:8.2f} "
                f"{run.query_seconds:14.3f}"
            )
        return

    results = run_store_bench(entities, batch)
    ratio = results[0].entities_per_second / results[1].entities_per_second
    if as_json:
        _echo_runs(results, ratio=round(ratio, 3))
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
    unchecked, checked = results[0], results[-1]
    cost = (checked.seconds - unchecked.seconds) / checked.entities * 1000
    click.echo(f"the checks cost {cost:.2f} ms an entity (checked run - unchecked run)")


@bench.command("floor")
@click.option("--entities", default=100_000, show_default=True)
@click.option(
    "--derived",
    "derived",
    multiple=True,
    type=click.IntRange(min=0),
    help="Derived quads an entity, one run each (default: 16, what the rules and the "
    "ontology derive now, and 4, the rules' own conclusions alone).",
)
@click.option(
    "--batch",
    default=200,
    show_default=True,
    type=click.IntRange(min=1),
    help="Entities a transaction.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def floor_bench(entities: int, derived: tuple[int, ...], batch: int, as_json: bool) -> None:
    """The store alone, writing a backfill's quads: ENTITIES entities of 10 asserted
    quads (a snapshot graph each), 12 bookkeeping quads (the default graph) and DERIVED
    derived quads (the inferred graph), the way serve writes them; wall and CPU
    seconds (compaction included) of each run, on a fresh on-disk store."""
    from lifecyclegraph.bench.floor import run_floor_bench

    results = run_floor_bench(entities, derived or (16, 4), batch)
    if as_json:
        _echo_runs(results)
        return
    click.echo(f"machine: {machine()}")
    click.echo(
        f"{'derived':>7} {'quads/entity':>12} {'quads':>11} {'seconds':>8} {'entities/s':>11} "
        f"{'CPU s':>8} {'CPU ms/entity':>13} {'peak RSS MB':>12}"
    )
    for r in results:
        d = r.as_dict()
        click.echo(
            f"{r.derived:7d} {d['quads_per_entity']:12.1f} {r.quads:11d} {r.seconds:8.1f} "
            f"{d['entities_per_second']:11d} {r.cpu_seconds:8.1f} {r.cpu_ms_per_entity:13.3f} "
            f"{r.peak_rss_mb:12.0f}"
        )


@bench.command("search")
@click.option("--entities", "sizes", multiple=True, type=int, help="Index sizes (default 100000).")
@click.option(
    "--backend",
    "backends",
    multiple=True,
    type=click.Choice(["whoosh", "tantivy"]),
    help="Engines to run (default: both).",
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
    from lifecyclegraph.bench.search import run_search_bench

    if not backends:
        backends = ("whoosh", "tantivy")
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
        _echo_runs(runs)


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
@click.option(
    "--entities",
    "sizes",
    multiple=True,
    type=int,
    default=[10_000, 100_000],
    show_default=True,
    help="World size (repeat for several).",
)
@click.option("--samples", default=200, show_default=True, help="Latency samples.")
@click.option("--rate", default=20.0, show_default=True, help="Events/s in the latency phase.")
@click.option(
    "--rules/--no-rules",
    default=True,
    show_default=True,
    help="Run the rule engine while ingesting (and measure the inferred edge).",
)
@click.option(
    "--search",
    type=click.Choice(["off", "whoosh", "tantivy"]),
    default="tantivy",
    show_default=True,
    help="Keep a search index up to date while ingesting, with this engine (default: the "
    "service's default).",
)
@click.option(
    "--hydration",
    type=click.Choice(["loop", "process"]),
    default="process",
    show_default=True,
    help="Hydrate in the service's event loop, or in a child process ([ingest] hydration_process).",
)
@click.option("--json", "as_json", is_flag=True)
def ingest_bench(
    sizes: tuple[int, ...],
    samples: int,
    rate: float,
    rules: bool,
    search: str,
    hydration: str,
    as_json: bool,
) -> None:
    """Events -> hydrated over HTTP -> validated -> stored, against the sandbox in its own
    process: entities/s, the share of SHACL validation, and event-to-visible latency."""
    from lifecyclegraph.bench.ingest import run_ingest_bench

    results = [
        run_ingest_bench(
            size,
            samples,
            rate,
            rules=rules,
            search=search,
            hydration_process=hydration == "process",
        )
        for size in sizes
    ]
    if as_json:
        _echo_runs(results)
        return
    click.echo(f"machine: {machine()}")
    click.echo(f"rules: {'on' if rules else 'off'}; search index: {search}; hydration: {hydration}")
    click.echo(
        f"{'entities':>9} {'events':>7} {'seconds':>8} {'entities/s':>10} "
        f"{'SHACL':>6} {'HTTP':>6} {'writes':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'edge p50':>8} {'edge p95':>8}"
    )
    for r in results:
        click.echo(
            f"{r.entities:9d} {r.events:7d} {r.seconds:8.1f} {r.entities_per_second:10.0f} "
            f"{r.validate_share:6.1%} {r.hydrate_share:6.1%} {r.write_share:6.1%} "
            f"{r.latency_p50_ms:7.1f} {r.latency_p95_ms:7.1f} "
            f"{r.inferred_p50_ms:8.1f} {r.inferred_p95_ms:8.1f}"
        )
    click.echo(
        f"p50/p95: event to visible in SPARQL; edge: event to its inferred A/B test edge with a "
        f"background of {rate:g} events/s; {samples} samples each.\n"
        "Targets: >= 1000 entities/s, p95 <= 200 ms (visible), p95 <= 1 s (inferred edge)."
    )


@bench.command("rules")
@click.option("--dag-nodes", default=5000, show_default=True)
@click.option("--dag-edges", default=10_000, show_default=True)
@click.option(
    "--entities",
    default=100_000,
    show_default=True,
    help="Entities of the synthetic lifecycle graph (0 to skip it).",
)
@click.option(
    "--changes",
    default=50,
    show_default=True,
    help="Single-entity changes to time on the lifecycle graph.",
)
@click.option(
    "--repeat",
    default=5,
    show_default=True,
    help="Runs of the engine and of the property-path INSERT (best kept).",
)
@click.option("--skip-owlrl", is_flag=True, help="Do not run owlrl (about 40 s).")
@click.option(
    "--disk",
    "disk",
    type=click.Path(file_okay=False),
    default=None,
    help="An empty folder: run the lifecycle graph on disk instead of in memory.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def rules_bench(
    dag_nodes: int,
    dag_edges: int,
    entities: int,
    changes: int,
    repeat: int,
    skip_owlrl: bool,
    disk: str | None,
    as_json: bool,
) -> None:
    """Time the rule engine: (a) the closure of a random DAG beside owlrl and an Oxigraph
    property-path INSERT; (b) full and incremental materialization of a synthetic
    lifecycle graph with the standard rules and the ontology's axioms."""
    from lifecyclegraph.bench.rules import run_dag_bench, run_lifecycle_bench

    dag = run_dag_bench(dag_nodes, dag_edges, owlrl=not skip_owlrl, repeat=repeat)
    life = run_lifecycle_bench(entities, changes, disk) if entities else None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "machine": machine(),
                    "dag": dag.as_dict(),
                    "lifecycle": life.as_dict() if life else None,
                },
                indent=2,
            )
        )
        return
    click.echo(f"machine: {machine()}")
    click.echo(
        f"(a) transitive closure of a random DAG: {dag.nodes:,} nodes, {dag.edges:,} "
        f"edges, {dag.closure:,} pairs (best of {repeat})"
    )
    t = dag.engine_timings
    click.echo(
        f"  engine, full materialization on the store  {dag.engine_seconds:8.3f} s  "
        f"(read {t['read']:.3f}, derive {t['derive']:.3f}, write {t['write']:.3f})"
    )
    click.echo(f"  engine, closure in memory                   {dag.engine_core_seconds:8.3f} s")
    click.echo(f"  Oxigraph property-path INSERT               {dag.property_path_seconds:8.3f} s")
    if dag.owlrl_seconds is not None:
        click.echo(f"  owlrl OWL RL closure (rdflib, in memory)    {dag.owlrl_seconds:8.3f} s")
        click.echo(
            f"  owlrl / engine in memory: {dag.owlrl_speedup:.0f}x (target >= 200); "
            f"owlrl / engine on the store: {dag.owlrl_speedup_end_to_end:.0f}x"
        )
    click.echo(
        f"  engine on the store / property-path INSERT: {dag.vs_property_path:.2f} "
        f"(median of {len(dag.ratios)} paired runs; target <= 2)"
    )
    if life is None:
        return
    t = life.materialize_timings
    click.echo(
        f"(b) lifecycle graph: {life.entities:,} entities, {life.asserted_triples:,} "
        f"asserted triples ({'on disk' if disk else 'in memory'})"
    )
    click.echo(f"  written through the store                   {life.write_seconds:8.2f} s")
    click.echo(
        f"  full materialization: {life.derived:,} derived facts  "
        f"{life.materialize_seconds:8.2f} s  (read {t['read']:.2f}, derive "
        f"{t['derive']:.2f}, write {t['write']:.2f}); {life.facts_in_memory:,} facts "
        "in memory"
    )
    click.echo(f"  full recomputation in memory                {life.recompute_seconds:8.2f} s")
    click.echo(
        f"  one entity changes ({life.changes} changes): engine p50 "
        f"{life.engine_p50_ms:.2f} ms, p95 {life.engine_p95_ms:.2f} ms; whole write "
        f"p50 {life.write_p50_ms:.2f} ms, p95 {life.write_p95_ms:.2f} ms"
    )
    kinds = ", ".join(f"{k} {v:.2f}" for k, v in life.as_dict()["by_kind_p50_ms"].items())
    click.echo(f"  engine p50 by kind of change (ms): {kinds}")
    click.echo(
        f"  recomputation / incremental p50: {life.speedup:.0f}x (target >= 100); "
        f"p50 {life.engine_p50_ms:.2f} ms (target <= 20 ms); "
        f"incremental equals recomputation: {life.verified}"
    )
    click.echo(f"  peak RSS {life.peak_rss_mb:,.0f} MB")


@bench.command("lineage")
@click.option("--entities", default=100_000, show_default=True)
@click.option(
    "--chain",
    default=100,
    show_default=True,
    help="Length of the chain of datasets whose middle edge is removed and added back.",
)
@click.option(
    "--shape",
    "shapes",
    multiple=True,
    type=click.Choice(["closure", "step", "none"]),
    help="Run only these shapes (repeatable; default: all three).",
)
@click.option(
    "--trace-memory",
    is_flag=True,
    help="Trace the rule engine's allocations (tracemalloc) in each shape instead.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def lineage_bench(
    entities: int, chain: int, shapes: tuple[str, ...], trace_memory: bool, as_json: bool
) -> None:
    """Compare the shapes of derived lineage side by side: the full closure, one-step
    edges with property paths at query time, and no lineage edges at all (each shape in
    a fresh process; ratios against the closure)."""
    from lifecyclegraph.bench.lineage import SHAPES, run_lineage_bench

    results = run_lineage_bench(entities, chain, shapes or SHAPES, trace_memory)
    if trace_memory and not as_json:
        click.echo(f"machine: {machine()}")
        for result in results:
            click.echo(
                f"{result['shape']}: {result['facts']:,} facts, {result['terms']:,} terms; "
                f"engine traced {result['traced_mb']} MB (peak {result['peak_mb']} MB)"
            )
            for size, blocks, where in result["top"]:
                click.echo(f"  {size:8.1f} MB {blocks:>10,} blocks  {where}")
        return
    if as_json:
        click.echo(
            json.dumps({"machine": machine(), "shapes": [r.figures for r in results]}, indent=2)
        )
        return
    click.echo(f"machine: {machine()}")
    base = results[0]
    click.echo(f"{base['entities']:,} entities, chain of {chain}; ratios against {base['shape']}")
    rows: list[tuple[str, Any]] = [
        ("derived quads written", lambda r: r["derived"]),
        ("  of which lg:upstream/lg:downstream", lambda r: r["derived_lineage"]),
        ("full materialization (s)", lambda r: r["materialize_seconds"]),
        ("live writes, rules on (entities/s)", lambda r: r["live_entities_per_second"]),
        ("engine facts in memory", lambda r: r["facts_in_memory"]),
        ("RSS growth at materialization (MB)", lambda r: r["rss_growth_mb"]),
        ("peak RSS (MB)", lambda r: r["peak_rss_mb"]),
    ]
    for key in base["api_ms"]:
        rows.append((f"graph.lineage {key} p50 (ms)", lambda r, k=key: r["api_ms"][k]["p50"]))
    for key in base["sparql_ms"]:
        rows.append((f"SPARQL {key} p50 (ms)", lambda r, k=key: r["sparql_ms"][k]["p50"]))
        rows.append((f"SPARQL {key} p95 (ms)", lambda r, k=key: r["sparql_ms"][k]["p95"]))
    for key in ("remove", "add"):
        rows.append(
            (f"chain middle edge {key}: write p50 (ms)", lambda r, k=key: r["update_ms"][k]["p50"])
        )
    header = "".join(f"{r['shape']:>22}" for r in results)
    click.echo(f"{'':42}{header}")
    for label, get in rows:
        cells = []
        for result in results:
            value, reference = get(result), get(base)
            ratio = f" ({value / reference:.2f}x)" if result is not base and reference else ""
            cells.append(
                f"{value:>12,}{ratio:<10}"
                if isinstance(value, int)
                else f"{value:>12,.2f}{ratio:<10}"
            )
        click.echo(f"{label:42}" + "".join(cells))
    same = len({r["answers"] for r in results}) == 1
    click.echo(f"SPARQL answers the same in every shape: {same}")


@bench.command("sparql")
@click.option("--entities", default=100_000, show_default=True)
@click.option("--samples", default=500, show_default=True, help="Queries per latency figure.")
@click.option("--lags", default=20, show_default=True, help="Writes per freshness figure.")
@click.option(
    "--oxigraph",
    "against_oxigraph",
    is_flag=True,
    help="Only the endpoint's overhead: serve beside oxigraph serve on the same data, "
    "the same point lookup to each in turn (lifecyclegraph[bench]).",
)
@click.option("--rounds", default=5, show_default=True, help="With --oxigraph: rounds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def sparql_bench(
    entities: int, samples: int, lags: int, against_oxigraph: bool, rounds: int, as_json: bool
) -> None:
    """Latency of a simple query through /sparql against in-process, checkpoint cost,
    and freshness lag, on ENTITIES synthetic entities on disk; with --oxigraph, /sparql
    against oxigraph serve on the same data, ROUNDS rounds of SAMPLES each."""
    from lifecyclegraph.bench.sparql import run_overhead_bench, run_sparql_bench

    if against_oxigraph:
        overhead = run_overhead_bench(entities, samples, rounds)
        if as_json:
            click.echo(json.dumps({"machine": machine(), **overhead.as_dict()}, indent=2))
            return
        click.echo(f"machine: {machine()}")
        click.echo(f"store: {overhead.entities} entities, {overhead.quads} quads")
        click.echo(
            f"{'round':>5} {'/sparql p50':>12} {'p95':>8} {'oxigraph p50':>13} "
            f"{'p95':>8} {'ratio':>6}"
        )
        for n, (r, ratio) in enumerate(zip(overhead.rounds, overhead.ratios(), strict=True), 1):
            ours, theirs = r["lifecyclegraph"], r["oxigraph"]
            click.echo(
                f"{n:5d} {ours['p50']:12.3f} {ours['p95']:8.3f} {theirs['p50']:13.3f} "
                f"{theirs['p95']:8.3f} {ratio:6.2f}"
            )
        click.echo(f"median ratio of the p50s: {overhead.median_ratio():.2f}x (target 1.5x)")
        return
    result = run_sparql_bench(entities, samples, lags)
    if as_json:
        click.echo(json.dumps({"machine": machine(), **result.as_dict()}, indent=2))
        return
    click.echo(f"machine: {machine()}")
    click.echo(
        f"store: {result.entities} entities, {result.quads} quads in the current dataset "
        f"(written in {result.write_seconds:.0f} s)"
    )
    click.echo(f"{'measurement':44} {'n':>5} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}")
    for f in result.figures:
        click.echo(f"{f.name:44} {f.samples:5d} {f.p50_ms:9.2f} {f.p95_ms:9.2f} {f.max_ms:9.2f}")


@bench.command("api")
@click.option(
    "--entities",
    "sizes",
    multiple=True,
    type=int,
    default=[100_000],
    show_default=True,
    help="World size (repeat for several, e.g. --entities 100000 --entities 1000000).",
)
@click.option("--samples", default=200, show_default=True, help="Requests timed per kind.")
@click.option("--json", "as_json", is_flag=True)
def api_bench(sizes: tuple[int, ...], samples: int, as_json: bool) -> None:
    """Entity JSON, the design's GraphQL query, lineage to depth 10 and the portal's
    entity page through the HTTP app in process, on a synthetic lifecycle graph with the
    rules on: p50 and p95."""
    from lifecyclegraph.bench.api import run_api_bench

    results = [run_api_bench(size, samples) for size in sizes]
    if as_json:
        _echo_runs(results)
        return
    click.echo(f"machine: {machine()}")
    click.echo(f"{'entities':>9} {'request':24} {'p50 ms':>8} {'p95 ms':>8}")
    for r in results:
        for name in r.p50_ms:
            click.echo(f"{r.entities:9d} {name:24} {r.p50_ms[name]:8.2f} {r.p95_ms[name]:8.2f}")
        click.echo(
            f"{r.entities:9d} built in {r.build_seconds:.0f} s, rules in "
            f"{r.materialize_seconds:.0f} s ({r.derived_facts:,} derived facts), "
            f"peak RSS {r.peak_rss_mb:.0f} MB"
        )


@bench.command("scale")
@click.option("--entities", default=10_000, show_default=True, help="World size.")
@click.option("--samples", default=200, show_default=True, help="Requests timed of each kind.")
@click.option(
    "--rate", default=50.0, show_default=True, help="Other events/s during the inferred edges."
)
@click.option(
    "--write-docs/--no-write-docs",
    default=False,
    show_default=True,
    help="Write the table into docs/benchmarks.md (section Scale), with machine and command.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Work in this directory and keep it (world, store, logs, dump) instead of a"
    " temporary one; it must be new or empty.",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="SECTION.KEY=VALUE",
    help='Run serve with this configuration key too (VALUE in TOML: true, 0, "text"),'
    " to compare a setting both ways; repeatable.",
)
def scale_bench(
    entities: int,
    samples: int,
    rate: float,
    write_docs: bool,
    as_json: bool,
    keep: Path | None,
    settings: tuple[str, ...],
) -> None:
    """Issue 17's whole table at ENTITIES on the default configuration: `serve` in its
    own process (on-disk store, rules on, search index on) fed by the sandbox's
    synthetic world over HTTP; backfill, peak RSS, event to inferred edge, reads and
    search over HTTP, and /sparql beside `oxigraph serve` on a dump of the same store."""
    import sys

    from lifecyclegraph.bench.scale import run_scale_bench, table, write_docs_section
    from lifecyclegraph.core.errors import ConfigError

    def progress(line: str) -> None:
        click.echo(line, err=True)

    given: dict[str, str] = {}
    for setting in settings:
        name, equals, value = setting.partition("=")
        if not equals or "." not in name.strip(".") or not value.strip():
            raise click.BadParameter(
                f"{setting!r} is not SECTION.KEY=VALUE (such as ingest.hydration_process=true)",
                param_hint="--set",
            )
        given[name.strip()] = value.strip()
    try:
        result = run_scale_bench(
            entities, samples, rate, keep=keep, progress=progress, settings=given
        )
    except FileExistsError as error:
        raise click.BadParameter(str(error), param_hint="--keep") from None
    except ConfigError as error:
        raise click.BadParameter(str(error), param_hint="--set") from None
    load = os.getloadavg()
    command = f"lifecyclegraph bench scale --entities {entities}"
    if samples != 200:
        command += f" --samples {samples}"
    if rate != 50.0:
        command += f" --rate {rate:g}"
    command += "".join(f" --set {name}={value}" for name, value in given.items())
    if as_json:
        _echo_runs([result], load_average=[round(x, 1) for x in load])
    else:
        click.echo(f"machine: {machine()}; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
        click.echo(table(result))
    if write_docs:
        docs = write_docs_section(result, command, machine(), load)
        click.echo(f"wrote the table into {docs}", err=True)
    sys.stdout.flush()


def _echo_runs(runs: Any, **extra: Any) -> None:
    """Print the runs of a benchmark, with the machine, as JSON (``--json``)."""
    document = {"machine": machine(), "runs": [r.as_dict() for r in runs], **extra}
    click.echo(json.dumps(document, indent=2))
