"""``[ingest] hydration_process``: hydration in a child process, beside the writes."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from lifecyclegraph import LifecycleGraph
from lifecyclegraph.core.config import Config
from lifecyclegraph.ingest import Journal
from lifecyclegraph.sandbox.faults import FaultRule
from lifecyclegraph.sandbox.server import run_in_thread
from lifecyclegraph.sandbox.world import SYSTEMS
from lifecyclegraph.server.service import Service


@pytest.fixture
def sandbox():
    with run_in_thread() as sandbox:
        yield sandbox


def make_service(
    sandbox, tmp_path, name: str, process: bool, server: dict | None = None, **source
) -> Service:
    config = Config.from_dict(
        {
            "server": server or {},
            "ingest": {"hydration_process": process},
            "rules": {"enabled": False},
            "sources": {
                system: {"url": sandbox.base_url(system), "rate_limit": 500} | source
                for system in SYSTEMS
            },
        }
    )
    graph = LifecycleGraph.in_memory()
    return Service(config, graph, journal=Journal(tmp_path / f"{name}.db"))


def ingest(service: Service, events) -> None:
    service.submit_events(events)

    async def run():
        await service.ingestor.drain(wait=30)
        await service.sources.aclose()

    try:
        asyncio.run(run())
    finally:
        if service.hydrator is not None:
            service.hydrator.close()


def asserted(service: Service) -> set[tuple[str, str, str]]:
    return {
        (t.subject.value, t.predicate.value, str(t.object)) for t in service.graph.store.asserted()
    }


def test_a_hydrating_process_builds_the_same_graph_as_the_event_loop(sandbox, tmp_path):
    events = sandbox.world.seed_events()
    inline = make_service(sandbox, tmp_path, "inline", process=False)
    ingest(inline, events)
    child = make_service(sandbox, tmp_path, "child", process=True)
    ingest(child, events)
    assert len(asserted(inline)) > 300
    assert asserted(child) == asserted(inline)
    # what the child learned about each source reaches `status`
    status = child.status()["sources"]
    assert status["registry"]["hydrated"] == inline.status()["sources"]["registry"]["hydrated"]
    assert status["registry"]["client"]["requests"] > 0
    # and so do its warnings: counted, and the latest of them said
    expected = inline.status()["sources"]["datasets"]
    assert status["datasets"]["warnings"] == expected["warnings"] > 0
    assert [(p["kind"], p["uri"]) for p in status["datasets"]["problems"]] == [
        (p["kind"], p["uri"]) for p in expected["problems"]
    ]
    assert child.journal.stats()["events_pending"] == 0


def test_failures_in_the_child_keep_the_work_and_say_why(sandbox, tmp_path):
    sandbox.faults.add(FaultRule(system="registry", status=503))
    service = make_service(
        sandbox, tmp_path, "failing", process=True, max_retries=0, breaker_threshold=1000
    )
    service.submit_events([{"event_type": "model_updated", "model_id": "ranking-model"}])

    async def one_pass():
        step = await service.ingestor.process()
        await service.sources.aclose()
        return step

    try:
        step = asyncio.run(one_pass())
    finally:
        service.hydrator.close()
    assert step.retried == 1
    assert service.journal.stats()["sources"]["registry"]["failing"] == 1
    (uri, error), *_ = service.journal._conn.execute("SELECT uri, last_error FROM work")
    assert uri == "aip://model/registry/ranking-model"
    assert error.startswith("SourceUnavailable: source 'registry': GET ")
    assert "503" in error


def test_a_child_that_dies_loses_no_work_and_is_started_again(sandbox, tmp_path):
    service = make_service(sandbox, tmp_path, "dies", process=True)
    hydrator = service.hydrator
    sandbox.faults.add(FaultRule(latency_ms=400))  # every answer late: the child holds its batch

    async def run():
        await hydrator.hydrate([("aip://user/identity/alice", None)])  # started
        service.submit_events(sandbox.world.seed_events())
        first = asyncio.ensure_future(service.ingestor.process())
        await asyncio.sleep(0.2)
        os.kill(hydrator._process.pid, signal.SIGKILL)  # while it holds the batch
        first = await first
        sandbox.faults.clear()
        await service.ingestor.drain(wait=30)
        await service.sources.aclose()
        return first

    try:
        first = asyncio.run(run())
    finally:
        hydrator.close()
    assert first.retried == first.taken > 0
    assert hydrator.restarts == 1
    assert service.journal.stats()["events_pending"] == 0
    assert service.journal.stats()["queue_depth"] == 0
    assert service.graph.entity("aip://model/registry/ranking-model").get("lg:name")


@pytest.mark.parametrize("freeze_heap", [0.01, 0])
def test_the_hydrating_child_keeps_its_long_lived_heap_out_of_the_collectors_walks(
    sandbox, tmp_path, freeze_heap
):
    service = make_service(
        sandbox, tmp_path, "heap", process=True, server={"freeze_heap": freeze_heap}
    )
    hydrator = service.hydrator

    async def run():
        for user in ("alice", "bob"):  # the second answer comes after a step in the child
            await hydrator.hydrate([(f"aip://user/identity/{user}", None)])
            await asyncio.sleep(0.1)
        await service.sources.aclose()

    try:
        asyncio.run(run())
    finally:
        hydrator.close()
    if freeze_heap:
        status = hydrator.collector_status
        assert set(status) == {"frozen", "heap_blocks", "full_collections", "seconds"}
        assert isinstance(status["frozen"], bool) and status["heap_blocks"] > 0
    else:
        assert hydrator.collector_status is None


def test_a_hydrator_dropped_without_close_does_not_leave_its_child_behind(sandbox, tmp_path):
    import gc

    service = make_service(sandbox, tmp_path, "dropped", process=True)
    hydrator = service.hydrator

    async def run(hydrator, sources):
        await hydrator.hydrate([("aip://user/identity/alice", None)])
        await sources.aclose()

    asyncio.run(run(hydrator, service.sources))
    child = hydrator._process
    assert child.poll() is None  # running, and nobody closes the hydrator
    del hydrator, service
    gc.collect()
    assert child.wait(10) == 0  # stopped when the hydrator was collected: exited cleanly
