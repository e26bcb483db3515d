"""The heap collector: the long-lived heap is frozen out of the cyclic collector's
walks, and still collected in full each time it has grown ``growth`` times."""

from __future__ import annotations

import copy
import gc
import time
import weakref

import httpx
import pytest
from contract_world import ALL
from fakesource import FakeClient

from lifecyclegraph import LifecycleGraph
from lifecyclegraph.core.collector import HeapCollector
from lifecyclegraph.core.config import Config
from lifecyclegraph.ingest import Journal
from lifecyclegraph.providers.sources import Sources
from lifecyclegraph.server.app import create_app
from lifecyclegraph.server.service import Service
from lifecyclegraph.server.serving import ServerThread


class Node:
    """An object that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> tuple[Node, weakref.ref[Node]]:
    """Two objects pointing at each other (once the caller drops the first, garbage
    only the cyclic collector frees), and a weak reference that says when it is freed."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a, weakref.ref(a)


@pytest.fixture(autouse=True)
def unfrozen():
    gc.collect()
    yield
    gc.unfreeze()
    gc.collect()


def test_a_step_moves_the_heap_out_of_the_collectors_walks():
    collector = HeapCollector(floor=10**12)  # never in full
    kept = [Node() for _ in range(1000)]
    assert collector.step() is False
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_count()[0] < 100  # the young generation starts empty again
    assert collector.status()["full_collections"] == 0


def test_a_frozen_cycle_is_freed_once_the_heap_has_grown_by_pythons_own_collection():
    collector = HeapCollector(interval=3600, floor=0, growth=1.25)  # stepped by hand
    collector.start()
    try:
        assert collector.step() is True  # nothing known of the heap yet: left unfrozen
        assert collector.step() is False and not collector.frozen  # until a full collection
        gc.collect()  # Python's own, in this thread: the collector's thread never collects
        assert collector.status()["full_collections"] == 1 and collector.seconds > 0
        held, garbage = cycle()
        assert collector.step() is False and collector.frozen  # frozen with the rest
        del held
        gc.collect()
        assert garbage() is not None  # a collection does not walk what is frozen
        grown = [Node() for _ in range(collector.baseline // 2)]
        assert collector.step() is True and not collector.frozen  # grown 1.25 times
        gc.collect()
        assert garbage() is None  # the full collection of the unfrozen heap freed it
        assert collector.status()["full_collections"] == 2 and collector.baseline > len(grown)
    finally:
        collector.stop()


def test_a_cycle_is_freed_as_usual_once_the_collector_stops():
    collector = HeapCollector(interval=0.01, floor=10**12)
    held, garbage = cycle()
    collector.start()
    deadline = time.monotonic() + 10
    while gc.get_freeze_count() == 0:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    del held
    gc.collect()
    assert garbage() is not None  # frozen: not walked while the collector runs
    collector.stop()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert garbage() is None


@pytest.mark.parametrize("growth, interval", [(1.0, 5.0), (2.0, 0.0)])
def test_settings_that_would_collect_without_end_are_refused(growth, interval):
    with pytest.raises(ValueError, match=r"growth|interval"):
        HeapCollector(interval=interval, growth=growth)


def _service(tmp_path, **server):
    world = copy.deepcopy(ALL)
    config = Config.from_dict(
        {"sources": {p: {"url": f"http://{p}.test"} for p in world}, "server": server}
    )
    sources = Sources(config, client_factory=lambda platform, _: FakeClient(world[platform]))
    return Service(config, LifecycleGraph.in_memory(), sources, Journal(tmp_path / "j.db"))


def test_serve_runs_the_collector_and_status_shows_its_work(tmp_path):
    service = _service(tmp_path, freeze_heap=0.05)
    with (
        ServerThread(create_app(service)) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        deadline = time.monotonic() + 10
        while not (status := client.get("/api/v1/status").json()["collector"])["frozen"]:
            assert time.monotonic() < deadline, status
            gc.collect()  # the full collection an unfrozen heap waits for, made here
            time.sleep(0.05)
        assert set(status) == {
            "frozen",
            "heap_blocks",
            "full_collections",
            "seconds",
            "hydration_child",
        }
        assert status["hydration_child"] is None  # sources handed in: hydrated here
    assert gc.get_freeze_count() == 0  # stopping the service gives the heap back


def test_freeze_heap_zero_leaves_pythons_collector_alone(tmp_path):
    service = _service(tmp_path, freeze_heap=0)
    with (
        ServerThread(create_app(service)) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        time.sleep(0.2)
        assert client.get("/api/v1/status").json()["collector"] is None
        assert gc.get_freeze_count() == 0
