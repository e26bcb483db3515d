"""Ingestion against the sandbox over real HTTP while the sources misbehave."""

from __future__ import annotations

import asyncio
import json

import pytest

from lifecyclegraph import HydrationState, LifecycleGraph
from lifecyclegraph.core.config import Config
from lifecyclegraph.core.vocab import LG
from lifecyclegraph.ingest import Journal
from lifecyclegraph.sandbox.faults import FaultRule
from lifecyclegraph.sandbox.server import run_in_thread
from lifecyclegraph.sandbox.world import SYSTEMS
from lifecyclegraph.server.service import Service

RATE = 25.0


@pytest.fixture
def sandbox():
    with run_in_thread(seed=7) as sandbox:
        yield sandbox


def service_for(sandbox, tmp_path, ingest=None, **source) -> Service:
    config = Config.from_dict(
        {
            "ingest": ingest or {},
            "sources": {
                system: {
                    "url": sandbox.base_url(system),
                    "rate_limit": RATE,
                    "concurrency": 4,
                    "backoff_base": 0.05,
                    "breaker_cooldown": 0.5,
                    **source,
                }
                for system in SYSTEMS
            },
        }
    )
    return Service(config, LifecycleGraph.in_memory(), journal=Journal(tmp_path / "j.db"))


def ingest_world(sandbox, service: Service, wait: float) -> None:
    events = sandbox.world.seed_events()
    assert service.submit_events(events).accepted == len(events)

    async def run():
        await service.ingestor.drain(wait=wait)
        await service.sources.aclose()

    asyncio.run(run())


def test_faulty_sources_end_fully_hydrated_and_never_over_their_rate(sandbox, tmp_path):
    sandbox.faults.add(FaultRule(latency_ms=15))
    sandbox.faults.add(FaultRule(status=503, fraction=0.2))
    for system in ("registry", "orchestrator", "identity"):
        sandbox.faults.add(FaultRule(system=system, status=429, retry_after=1, count=8))
    service = service_for(sandbox, tmp_path)
    ingest_world(sandbox, service, wait=120)

    stats = service.journal.stats()
    assert stats["queue_depth"] == 0 and stats["events_pending"] == 0
    graph = service.graph
    for event in sandbox.world.seed_events():
        uri = service.ingestor.kinds[event["event_type"]].uri(
            {
                k: str(v)
                for k, v in event.items()
                if k not in ("event_type", "event_id", "source", "emitted_at")
            }
        )
        assert graph.store.state(str(uri)).state is HydrationState.HYDRATED, uri
    counts = sandbox.stats.as_dict()
    assert sum(s["statuses"].get("503", 0) for s in counts["systems"].values()) > 10
    for system in SYSTEMS:
        assert sandbox.stats.max_per_second(system) <= RATE, system
    service.journal.close()


def test_source_down_for_a_while_is_caught_up_afterwards(sandbox, tmp_path):
    down = FaultRule(system="featurestore", status=500, fraction=1.0)
    sandbox.faults.add(down)
    service = service_for(sandbox, tmp_path, max_retries=1)
    events = sandbox.world.seed_events()
    service.submit_events(events)

    async def run():
        await service.ingestor.drain(wait=1.0)
        assert service.journal.stats()["sources"]["featurestore"]["failing"] > 0
        sandbox.faults.clear()  # the source comes back
        await service.ingestor.drain(wait=120)
        await service.sources.aclose()

    asyncio.run(run())
    features = list(service.graph.entities(HydrationState.HYDRATED))
    assert sum(1 for uri in features if uri.startswith("aip://feature/")) == len(
        sandbox.world.keys("features")
    )
    assert service.journal.stats()["queue_depth"] == 0
    service.journal.close()


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (FaultRule(system="registry", status=500), "500"),
        (FaultRule(system="registry", latency_ms=1500), "no answer within 0.3 s"),
    ],
    ids=["5xx", "timeout"],
)
def test_work_that_keeps_failing_is_dead_lettered_and_replay_brings_it_back(
    sandbox, tmp_path, fault, says
):
    sandbox.faults.add(fault)
    service = service_for(sandbox, tmp_path, ingest={"max_attempts": 3}, max_retries=0, timeout=0.3)
    model = next(e for e in sandbox.world.seed_events() if e["event_type"] == "model_created")
    uri = f"aip://model/registry/{model['model_id']}"
    assert service.submit_events([model]).accepted == 1
    journal = service.journal

    async def run():
        await service.ingestor.drain()  # one failed attempt: the work is kept for later
        stats = journal.stats()
        assert stats["failing"] == 1 and stats["sources"]["registry"]["failing"] == 1
        await service.ingestor.drain(wait=60)  # two more, then given up: never forever
        stats = journal.stats()
        assert (stats["queue_depth"], stats["failing"], stats["dead_letters"]) == (0, 0, 1)
        assert stats["events_pending"] == 0
        (letter,) = journal.dead_letters()
        assert letter.kind == "work"
        assert json.loads(letter.payload) == {"uri": uri, "hint": LG.Model.value, "attempts": 3}
        assert letter.reason.startswith("gave up after 3 failed attempts: ")
        assert says in letter.reason.lower()
        if fault.status:  # (a request that timed out is counted when the sandbox answers)
            registry = sandbox.stats.as_dict()["systems"]["registry"]["statuses"]
            assert registry == {"500": 3}, "one request per attempt, and no more"

        sandbox.faults.clear()  # the source is repaired: the dead letter is tried again
        result = service.ingestor.replay_dead_letters()
        assert (result.accepted, result.requeued) == (0, 1)
        await service.ingestor.drain(wait=60)
        await service.sources.aclose()

    asyncio.run(run())
    assert service.graph.store.state(uri).state is HydrationState.HYDRATED
    assert journal.dead_letters() == [] and journal.stats()["dead_letters"] == 0
    journal.close()
