"""SPARQL endpoint benchmark: latency through /sparql against in-process, checkpoints, lag.

On a fresh on-disk store of synthetic entities (written through the public write
path, as ``lifecyclegraph bench store`` does), it measures:

* the latency of one simple query (a point lookup) in-process (``execute``), through
  a :class:`QueryPool` (worker process, no HTTP) and through ``GET /sparql`` (uvicorn
  on a real socket, httpx client in the same process), as p50 and p95;
* the cost of a checkpoint (``Store.backup``): the first after the load, one with no
  write since the last, one after a one-entity write;
* the freshness lag: from a write's commit until a query through ``/sparql`` sees it,
  with ``query_staleness`` 0 and 1 s.

Run it with ``lifecyclegraph bench sparql``.

With ``--oxigraph``, it measures only the endpoint's overhead against ``oxigraph
serve`` on the same data, as ``lifecyclegraph bench scale`` does but in a minute:
``lifecyclegraph serve`` (rules and search off: they do not take part in a query) on
the store beside ``oxigraph serve-read-only`` on a dump of it, the same point lookup
sent to each in turn, in several rounds (:func:`run_overhead_bench`).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lifecyclegraph.bench.store import T0, synthetic_entity
from lifecyclegraph.core.facts import Facts, Ref
from lifecyclegraph.store import Observation

__all__ = [
    "Figure",
    "OverheadBenchResult",
    "SparqlBenchResult",
    "run_overhead_bench",
    "run_sparql_bench",
]

LOOKUP = "SELECT ?n WHERE { <aip://dataset/datasets/ds-0000042> lg:name ?n }"


@dataclass
class Figure:
    """Percentiles of one measurement, in milliseconds."""

    name: str
    samples: int
    p50_ms: float
    p95_ms: float
    max_ms: float

    @classmethod
    def of(cls, name: str, seconds: list[float]) -> Figure:
        ms = sorted(s * 1000 for s in seconds)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        return cls(name, len(ms), statistics.median(ms), p95, ms[-1])


@dataclass
class SparqlBenchResult:
    """All figures of one run."""

    entities: int
    quads: int
    write_seconds: float
    figures: list[Figure]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _timed(call: Callable[[], Any], samples: int, warmup: int = 20) -> list[float]:
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(samples):
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    return seconds


def _probe(i: int) -> Facts:
    return Facts.of(
        f"aip://dataset/datasets/probe-{i}", {"rdf:type": Ref("lg:Dataset"), "lg:name": f"p{i}"}
    )


def _build(path: Path, entities: int) -> tuple[Any, float]:
    """A store at ``path`` with ``entities`` synthetic entities, written through the
    public write path; the open graph and the seconds the writes took."""
    from lifecyclegraph.graph import LifecycleGraph

    graph = LifecycleGraph.open(path)
    began = time.perf_counter()
    for start in range(0, entities, 1000):
        batch = range(start, min(start + 1000, entities))
        # synthetic entities linking to stubs never made: the opt-out (the
        # benchmark measures queries, the checks' cost is `bench store`'s)
        graph.write_many(
            [(synthetic_entity(i), Observation("datasets", T0, f"b-{i}")) for i in batch],
            validate=False,
        )
    return graph, time.perf_counter() - began


def run_sparql_bench(
    entities: int = 100_000, samples: int = 500, lags: int = 20
) -> SparqlBenchResult:
    """Build a store of ``entities`` and measure (see the module docstring)."""
    import httpx

    from lifecyclegraph.core.config import Config
    from lifecyclegraph.ingest import Journal
    from lifecyclegraph.server.app import create_app
    from lifecyclegraph.server.service import Service
    from lifecyclegraph.server.serving import ServerThread
    from lifecyclegraph.store.sparql import QueryPool, execute
    from lifecyclegraph.store.sparql.checkpoint import Checkpoints

    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="lg-bench-sparql-") as tmp:
        graph, write_seconds = _build(Path(tmp) / "store", entities)
        store = graph.store
        quads = store.quad_count()

        figures.append(
            Figure.of(
                "in-process: graph.sparql()", _timed(lambda: list(graph.sparql(LOOKUP)), samples)
            )
        )
        figures.append(
            Figure.of(
                "in-process: query.execute()", _timed(lambda: execute(store, LOOKUP), samples)
            )
        )
        with QueryPool(store, workers=2, timeout=10) as pool:
            pool.wait_ready()
            figures.append(
                Figure.of(
                    "QueryPool.execute() (worker, no HTTP)",
                    _timed(lambda: pool.execute(LOOKUP), samples),
                )
            )

        checkpoints = Checkpoints(store, Path(tmp) / "checkpoints")
        first = checkpoints.refresh().seconds  # flushes everything the load left in memory
        figures.append(Figure.of("first checkpoint after the load", [first]))
        unchanged, costs = [], []
        for i in range(lags):
            unchanged.append(checkpoints.refresh(force=True).seconds)
            graph.write(_probe(i), source="datasets", validate=False)
            costs.append(checkpoints.refresh().seconds)
        checkpoints.close()
        figures.append(Figure.of("checkpoint, no write since the last", unchanged))
        figures.append(Figure.of("checkpoint after a one-entity write", costs))

        for staleness in (0.0, 1.0):
            config = Config.from_dict(
                {"server": {"query_staleness": staleness, "query_workers": 2}}
            )
            service = Service(config, graph, journal=Journal(":memory:"))
            app = create_app(service, write_tokens=["bench"], manage_service=False)
            with ServerThread(app) as server, httpx.Client(base_url=server.url) as client:
                service.queries.wait_ready()

                def get(query: str = LOOKUP) -> httpx.Response:
                    return client.get("/sparql", params={"query": query})

                if staleness == 0.0:
                    figures.append(Figure.of("GET /sparql (HTTP + worker)", _timed(get, samples)))
                seen = []
                for i in range(lags):
                    uri = f"aip://dataset/datasets/lag-{staleness}-{i}"
                    ask = f"ASK {{ <{uri}> lg:name ?n }}"
                    graph.write(
                        Facts.of(uri, {"rdf:type": Ref("lg:Dataset"), "lg:name": "x"}),
                        source="datasets",
                        validate=False,  # a partial dataset: the lag, not the checks
                    )
                    committed = time.perf_counter()
                    while not get(ask).json()["boolean"]:
                        time.sleep(0.005)
                    seen.append(time.perf_counter() - committed)
                    time.sleep(0.1 * (i % 7))  # writes at varied moments
                figures.append(Figure.of(f"freshness lag, query_staleness={staleness:g} s", seen))
            service.queries.close()
        graph.close()
    return SparqlBenchResult(entities, quads, write_seconds, figures)


@dataclass
class OverheadBenchResult:
    """``GET /sparql`` against ``oxigraph serve``: each round's percentiles (ms, by
    server) and the ratio of the p50s."""

    entities: int
    quads: int
    rounds: list[dict[str, dict[str, float]]]

    def ratios(self) -> list[float]:
        """Each round's p50 of ``/sparql`` over ``oxigraph serve``'s."""
        return [r["lifecyclegraph"]["p50"] / r["oxigraph"]["p50"] for r in self.rounds]

    def median_ratio(self) -> float:
        """The median of :meth:`ratios` (the figure held against the 1.5x target)."""
        return statistics.median(self.ratios())

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratios": self.ratios(), "median_ratio": self.median_ratio()}


def run_overhead_bench(
    entities: int = 10_000, samples: int = 500, rounds: int = 5
) -> OverheadBenchResult:
    """The endpoint's overhead against ``oxigraph serve`` on the same data, same run.

    Builds a store of ``entities`` (as :func:`run_sparql_bench`), then serves it with
    ``lifecyclegraph serve`` (its own process, rules and search off) beside
    ``oxigraph serve-read-only`` on a dump of it, and sends the same point lookup to
    each in turn, ``samples`` of each a round, ``rounds`` rounds (the ratio of each
    round is taken on requests interleaved over the same seconds, so a machine whose
    load changes weighs on both alike).

    Raises:
        RuntimeError: the ``oxigraph`` command is missing (``lifecyclegraph[bench]``),
            or a server did not start.
    """
    import httpx

    from lifecyclegraph.bench.scale import (
        beside_oxigraph,
        free_port,
        interleaved,
        oxigraph_binary,
        percentiles,
    )

    oxigraph = oxigraph_binary()
    with tempfile.TemporaryDirectory(prefix="lg-bench-overhead-") as name:
        tmp = Path(name)
        graph, _ = _build(tmp / "store", entities)
        quads = graph.store.quad_count()
        graph.close()
        port = free_port()
        config = tmp / "lifecyclegraph.toml"
        config.write_text(
            f'[store]\npath = "{tmp / "store"}"\n\n[rules]\nenabled = false\n\n'
            "[search]\nenabled = false\n\n"
            f'[server]\nhost = "127.0.0.1"\nport = {port}\nwrite_tokens = ["bench"]\n'
            'log_level = "warning"\n'
        )
        found = []
        with (
            beside_oxigraph(tmp, config, port, oxigraph) as (urls, query, _),
            httpx.Client(timeout=30) as client,
        ):
            for _ in range(rounds):
                times = interleaved(client, urls, query, samples)
                found.append({server: percentiles(t) for server, t in times.items()})
    return OverheadBenchResult(entities, quads, found)
