"""Read API benchmark: entity JSON, the design's GraphQL query, lineage to depth 10 and
the portal's entity page, through the HTTP app in process, on a synthetic lifecycle
graph with the rules on.

The graph (:func:`lifecyclegraph.bench.lifecycle.lifecycle_entities`) is written
straight through ``store.write_many``; the rule engine then derives everything
(``lg:upstream``, ``lg:associatedAbTest``, ...), with a fact limit scaled to the
size, and keeps running (incremental maintenance on) while requests are timed.
Requests go through the ASGI app (routing, auth, serialization) with
``httpx.ASGITransport``: no sockets.

Run it with ``lifecyclegraph bench api``.
"""

from __future__ import annotations

import asyncio
import gc
import random
import resource
import statistics
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from lifecyclegraph.bench.lifecycle import lifecycle_entities
from lifecyclegraph.core.vocab import INFERRED_GRAPH
from lifecyclegraph.graph import LifecycleGraph
from lifecyclegraph.rules.evaluate import DEFAULT_LIMIT
from lifecyclegraph.store import Observation, SnapshotStore

__all__ = ["DESIGN_QUERY", "ApiBenchResult", "run_api_bench"]

T0 = datetime(2026, 1, 1, tzinfo=UTC)

#: The design's query (shared/contracts/design-query.graphql), with the id a variable.
DESIGN_QUERY = """query($id: ID!) {
  model(id: $id) {
    name
    owners { name }
    currentInstance {
      version
      pipeline { name owners { name } }
      features { edges { node { name data { edges { node { name } } } } } }
      associatedAbTests { name cells { number name } }
    }
  }
}"""


@dataclass
class ApiBenchResult:
    """One world size's figures (milliseconds per request)."""

    entities: int
    build_seconds: float
    materialize_seconds: float
    derived_facts: int
    samples: int
    p50_ms: dict[str, float] = field(default_factory=dict)
    p95_ms: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_api_bench(entities: int = 100_000, samples: int = 200, seed: int = 3) -> ApiBenchResult:
    """Build a synthetic graph of about ``entities`` entities, then time ``samples``
    requests of each kind on random model instances."""
    from lifecyclegraph.core.config import Config
    from lifecyclegraph.ingest import Journal
    from lifecyclegraph.server.app import create_app
    from lifecyclegraph.server.service import Service

    began = time.perf_counter()
    store = SnapshotStore.in_memory()
    world = lifecycle_entities(entities)
    seen = Observation("bench", T0)
    for start in range(0, len(world), 1000):
        store.write_many((facts, seen) for facts in world[start : start + 1000])
    count = sum(len(e.flatten()) for e in world)
    instances = [f.uri for f in world if f.uri.startswith("aip://model/registry/instance-")]
    del world
    build = time.perf_counter() - began
    began = time.perf_counter()
    # The engine holds about 36 facts per entity (asserted and derived): above 250k
    # entities that passes the default limit, which would stop the rules.
    graph = LifecycleGraph(store, rules=True, rule_limit=max(DEFAULT_LIMIT, 100 * entities))
    materialize = time.perf_counter() - began
    engine = graph.rules
    if engine is None or engine.error is not None or not engine.running:
        raise RuntimeError(f"the rule engine did not derive the graph: {engine and engine.error}")
    count_derived = f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{INFERRED_GRAPH.value}> {{ ?s ?p ?o }} }}"
    derived = int(next(iter(graph.sparql(count_derived)))["n"].value)
    gc.collect()

    # None of the three requests reads the search index; building it (Whoosh, pure
    # Python) for a million entities would take longer than the rest of the run.
    config = Config.from_dict({"search": {"enabled": False}})
    service = Service(config, graph, journal=Journal(":memory:"))
    app = create_app(service, write_tokens=[], manage_service=False)
    rng = random.Random(seed)
    picks = [rng.choice(instances) for _ in range(samples)]
    requests: dict[str, Any] = {
        "entity JSON": lambda c, uri: c.get("/api/v1/entity", params={"uri": uri}),
        "design GraphQL query": lambda c, uri: c.post(
            "/graphql", json={"query": DESIGN_QUERY, "variables": {"id": uri}}
        ),
        "lineage depth 10": lambda c, uri: c.get(
            "/api/v1/lineage", params={"uri": uri, "depth": 10}
        ),
        # the portal's HTML page of the entity: header, relationships with their
        # neighbours' names, the history with what changed (docs/portal.md)
        "portal entity page": lambda c, uri: c.get("/portal/entity", params={"uri": uri}),
    }

    async def measure() -> dict[str, list[float]]:
        timings: dict[str, list[float]] = {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name, call in requests.items():
                for uri in picks[:10]:  # warm up
                    (await call(client, uri)).raise_for_status()
                found = timings[name] = []
                for uri in picks:
                    start = time.perf_counter()
                    response = await call(client, uri)
                    found.append((time.perf_counter() - start) * 1000)
                    response.raise_for_status()
                    if name == "design GraphQL query" and "errors" in response.json():
                        raise RuntimeError(response.text)
        return timings

    timings = asyncio.run(measure())
    result = ApiBenchResult(
        entities=count,
        build_seconds=build,
        materialize_seconds=materialize,
        derived_facts=derived,
        samples=samples,
        p50_ms={k: round(statistics.median(v), 2) for k, v in timings.items()},
        p95_ms={k: round(_percentile(v, 0.95), 2) for k, v in timings.items()},
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    service.journal.close()
    graph.close()
    return result
