"""Ingestion benchmark: events -> hydrated (HTTP) -> validated -> stored, end to end.

The sandbox serves a synthetic world of the requested size from its own process
(real HTTP on loopback); the service runs here on an on-disk store. Two phases:

* **throughput**: every object's event is submitted at once; entities/s is the
  number of entities stored over the wall time until the queue is empty, with the
  share of that time spent in SHACL validation, in waiting for sources and in store
  writes;
* **latency**: at a steady, unsaturated rate, one object is changed at its source and
  its event submitted; the time until the change is visible to a SPARQL query on the
  current state is recorded (p50, p95).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from lifecyclegraph.core.config import Config
from lifecyclegraph.sandbox.server import SandboxProcess
from lifecyclegraph.sandbox.synthetic import synthetic_world
from lifecyclegraph.sandbox.world import SYSTEMS
from lifecyclegraph.server.service import Service

__all__ = ["IngestBenchResult", "run_ingest_bench"]


@dataclass
class IngestBenchResult:
    entities: int
    events: int
    seconds: float
    entities_per_second: float
    validate_share: float
    hydrate_share: float
    write_share: float
    latency_p50_ms: float
    latency_p95_ms: float
    latency_samples: int
    latency_rate_per_second: float
    inferred_p50_ms: float = 0.0
    inferred_p95_ms: float = 0.0
    background_rate_per_second: float = 0.0
    rules: bool = True
    search: str = "tantivy"
    hydration_process: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def run_ingest_bench(
    entities: int,
    latency_samples: int = 200,
    rate: float = 20.0,
    seed: int = 0,
    rules: bool = True,
    search: str = "tantivy",
    hydration_process: bool = True,
) -> IngestBenchResult:
    """Run the phases on a world of about ``entities`` entities (the inferred-edge phase
    only with ``rules``), keeping a search index with ``search`` (``whoosh``,
    ``tantivy``, or ``off``), hydrating in a child process or in the event loop."""
    world = synthetic_world(entities, seed=seed)
    with tempfile.TemporaryDirectory(prefix="lg-bench-ingest-") as tmp:
        world.save(Path(tmp) / "world")
        sandbox = SandboxProcess(Path(tmp) / "world")
        try:
            config = Config.from_dict(
                {
                    "store": {"path": str(Path(tmp) / "store")},
                    "rules": {"enabled": rules},
                    "ingest": {"hydration_process": hydration_process},
                    "search": ({"enabled": False} if search == "off" else {"backend": search}),
                    "sources": {
                        s: {"url": f"{sandbox.url}/{s}", "rate_limit": 100_000, "concurrency": 4}
                        for s in SYSTEMS
                    },
                },
                "<bench>",
            )
            service = Service(config)
            service.ingestor.batch = 512
            try:
                result = asyncio.run(_phases(service, sandbox, world, latency_samples, rate))
                result.rules, result.search = rules, search
                result.hydration_process = hydration_process
                return result
            finally:
                if service.hydrator is not None:
                    service.hydrator.close()
                service.journal.close()
                service.graph.close()
        finally:
            sandbox.stop()


async def _phases(
    service: Service, sandbox: SandboxProcess, world: Any, samples: int, rate: float
) -> IngestBenchResult:
    events = world.seed_events()
    began = time.perf_counter()
    service.submit_events(events)
    total = await service.ingestor.drain(wait=60)
    seconds = time.perf_counter() - began
    stored = sum(1 for _ in service.graph.entities())
    # -- latency, with the worker running as in `serve` --------------------------------
    stop = asyncio.Event()
    worker = asyncio.create_task(service.ingestor.run(stop))
    models = [m["id"] for m in world.objects("model")]
    latencies = await asyncio.to_thread(_latency_phase, service, sandbox.url, models, samples, rate)
    runs = [r for r in world.objects("run") if r.get("ab_test_cells")]
    inferred = [0.0]
    if service.config.rules.enabled:
        inferred = await asyncio.to_thread(
            _inferred_phase, service, sandbox.url, models, runs, samples, rate
        )
    stop.set()
    await worker
    await service.sources.aclose()
    latencies.sort()
    inferred.sort()
    return IngestBenchResult(
        entities=stored,
        events=len(events),
        seconds=seconds,
        entities_per_second=stored / seconds,
        validate_share=total.validate_seconds / seconds,
        hydrate_share=total.hydrate_seconds / seconds,
        write_share=total.write_seconds / seconds,
        latency_p50_ms=statistics.median(latencies) * 1000,
        latency_p95_ms=latencies[int(0.95 * (len(latencies) - 1))] * 1000,
        latency_samples=len(latencies),
        latency_rate_per_second=rate,
        inferred_p50_ms=statistics.median(inferred) * 1000,
        inferred_p95_ms=inferred[int(0.95 * (len(inferred) - 1))] * 1000,
        background_rate_per_second=rate,
    )


def _latency_phase(
    service: Service, sandbox_url: str, models: list[str], samples: int, rate: float
) -> list[float]:
    latencies: list[float] = []
    with httpx.Client(base_url=sandbox_url, timeout=30) as control:
        next_at = time.perf_counter()
        for i in range(samples):
            model = models[i % len(models)]
            token = f"bench-{i}-{time.time_ns()}"
            control.patch(f"/_sandbox/world/models/{model}", json={"description": token})
            uri = f"aip://model/registry/{model}"
            query = f'ASK {{ <{uri}> lg:description "{token}" }}'
            sent = time.perf_counter()
            service.submit_events([{"event_type": "model_updated", "model_id": model}])
            while not service.graph.sparql(query):
                if time.perf_counter() - sent > 30:
                    raise TimeoutError(f"{uri} did not show {token} within 30 s")
                time.sleep(0.001)
            latencies.append(time.perf_counter() - sent)
            next_at += 1 / rate
            time.sleep(max(0.0, next_at - time.perf_counter()))
    return latencies


def new_instance(
    control: httpx.Client, i: int, models: list[str], runs: list[dict[str, Any]]
) -> str:
    """Add the ``i``-th new model instance at the sandbox (no event sent), produced by
    one of ``runs`` (which ran for an A/B test cell); return its id."""
    instance = f"bench-instance-{i}-{time.time_ns()}"
    control.post(
        "/_sandbox/world/instances",
        json={
            "id": instance,
            "model_id": models[i % len(models)],
            "version": str(i),
            "pipeline_run_id": runs[i % len(runs)]["run_id"],
            "owner_emails": [],
            "state": "STAGED",
        },
    ).raise_for_status()
    return instance


def _inferred_phase(
    service: Service,
    sandbox_url: str,
    models: list[str],
    runs: list[dict[str, Any]],
    samples: int,
    rate: float,
) -> list[float]:
    """Event to inferred edge: a new instance produced by a run that ran for an A/B test
    cell; the time until ``lg:associatedAbTest`` is visible, while a steady background of
    other events (``rate`` a second) keeps the worker busy."""
    stop = threading.Event()

    def background() -> None:
        i = 0
        while not stop.wait(1 / rate):
            service.submit_events(
                [{"event_type": "model_updated", "model_id": models[i % len(models)]}]
            )
            i += 1

    noise = threading.Thread(target=background, daemon=True)
    noise.start()
    latencies: list[float] = []
    try:
        with httpx.Client(base_url=sandbox_url, timeout=30) as control:
            for i in range(samples):
                instance = new_instance(control, i, models, runs)
                uri = f"aip://model/registry/{instance}"
                query = f"ASK {{ <{uri}> lg:associatedAbTest ?test }}"
                sent = time.perf_counter()
                service.submit_events(
                    [{"event_type": "model_instance_created", "instance_id": instance}]
                )
                while not service.graph.sparql(query):
                    if time.perf_counter() - sent > 30:
                        raise TimeoutError(f"no inferred A/B test for {uri} within 30 s")
                    time.sleep(0.002)
                latencies.append(time.perf_counter() - sent)
                time.sleep(1 / rate)
    finally:
        stop.set()
        noise.join()
    return latencies
