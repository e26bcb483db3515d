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

__all__ = ["Figure", "SparqlBenchResult", "run_sparql_bench"]

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


def run_sparql_bench(
    entities: int = 100_000, samples: int = 500, lags: int = 20
) -> SparqlBenchResult:
    """Build a store of ``entities`` and measure (see the module docstring)."""
    import httpx

    from lifecyclegraph.core.config import Config
    from lifecyclegraph.graph import LifecycleGraph
    from lifecyclegraph.ingest import Journal
    from lifecyclegraph.server.app import create_app
    from lifecyclegraph.server.service import Service
    from lifecyclegraph.server.serving import ServerThread
    from lifecyclegraph.store.sparql import QueryPool, execute
    from lifecyclegraph.store.sparql.checkpoint import Checkpoints

    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="lg-bench-sparql-") as tmp:
        graph = LifecycleGraph.open(Path(tmp) / "store")
        began = time.perf_counter()
        for start in range(0, entities, 1000):
            batch = range(start, min(start + 1000, entities))
            # synthetic entities linking to stubs never made: the opt-out (the
            # benchmark measures queries, the checks' cost is `bench store`'s)
            graph.write_many(
                [(synthetic_entity(i), Observation("datasets", T0, f"b-{i}")) for i in batch],
                validate=False,
            )
        write_seconds = time.perf_counter() - began
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
