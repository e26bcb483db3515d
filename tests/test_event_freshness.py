"""An event's hydration never reads an answer the source gave before the event.

Against the sandbox over real HTTP, with a cache far longer than the test: a source
changes an object and announces it while the object's old state is still young in
the client's cache; the stored entity must show the change. Reconcile, which no
event started, still answers from the cache.
"""

from __future__ import annotations

import asyncio

import pytest

from lifecyclegraph import LifecycleGraph
from lifecyclegraph.core.config import Config
from lifecyclegraph.ingest import Journal
from lifecyclegraph.sandbox.server import run_in_thread
from lifecyclegraph.sandbox.world import SYSTEMS
from lifecyclegraph.server.service import Service

MODEL = "ranking-model"
URI = f"aip://model/registry/{MODEL}"
PATH = f"/api/v1/models/{MODEL}"


@pytest.fixture
def sandbox():
    with run_in_thread(seed=11) as sandbox:
        yield sandbox


def service_for(sandbox, tmp_path, hydration_process: bool) -> Service:
    config = Config.from_dict(
        {
            "ingest": {"hydration_process": hydration_process},
            "search": {"enabled": False},
            "sources": {
                system: {"url": sandbox.base_url(system), "cache_ttl": 600.0} for system in SYSTEMS
            },
        }
    )
    return Service(config, LifecycleGraph.in_memory(), journal=Journal(tmp_path / "j.db"))


def model_reads(sandbox) -> int:
    """How many times the registry was asked for the model."""
    return sum(1 for r in sandbox.stats.records("registry") if r.path == PATH)


@pytest.mark.parametrize("hydration_process", [False, True], ids=["in-process", "child"])
def test_change_announced_within_the_cache_ttl_is_stored(sandbox, tmp_path, hydration_process):
    service = service_for(sandbox, tmp_path, hydration_process)
    created = {"event_type": "model_created", "model_id": MODEL}

    async def run() -> tuple[str | None, str | None, int, int]:
        try:
            assert service.submit_events([created]).accepted == 1
            await service.ingestor.drain(wait=30)
            before = service.graph.entity(URI).get("description")
            reads = model_reads(sandbox)
            # no event: reconcile may take the young cached answer (no request for it)
            service.ingestor.reconcile()
            await service.ingestor.drain(wait=30)
            reads_after_reconcile = model_reads(sandbox)
            # the source changes the model and announces it, well within the 600 s TTL
            events = sandbox.world.update("model", MODEL, {"description": "Ranks rows, v2."})
            assert service.submit_events(events).accepted == len(events) == 1
            await service.ingestor.drain(wait=30)
            after = service.graph.entity(URI).get("description")
            return before, after, reads_after_reconcile - reads, model_reads(sandbox)
        finally:
            await service.stop()

    before, after, reconcile_reads, total_reads = asyncio.run(run())
    assert before != "Ranks rows, v2."
    assert after == "Ranks rows, v2.", "the event's hydration took the answer cached before it"
    assert reconcile_reads == 0, "reconcile asked the source again within the cache TTL"
    assert total_reads == 2  # one for the first event, one for the change


# -- the journal keeps each event's bound with its work --------------------------------


def test_event_bound_survives_a_later_reconcile_of_the_same_uri(tmp_path):
    journal = Journal(tmp_path / "j.db")
    journal.enqueue([("aip://model/registry/a", None)], "reconcile")
    assert journal.due(10)[0].not_before is None  # no event: the cache will do
    journal.accept([(URI, "model_updated", None, "{}", None)])
    accepted = journal.due(10)[1].not_before
    assert accepted is not None
    journal.enqueue([(URI, None)], "reconcile")  # must not lift the event's bound
    item = next(i for i in journal.due(10) if i.uri == URI)
    assert item.reason == "reconcile" and item.not_before == accepted


def test_journal_of_an_older_version_gains_the_bound_column(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE work (uri TEXT PRIMARY KEY, hint TEXT, reason TEXT NOT NULL,"
            " version INTEGER NOT NULL DEFAULT 1, last_seq INTEGER, last_event_id TEXT,"
            " attempts INTEGER NOT NULL DEFAULT 0, due REAL NOT NULL DEFAULT 0,"
            " last_error TEXT, enqueued_at REAL NOT NULL);"
            f"INSERT INTO work (uri, reason, enqueued_at) VALUES ('{URI}', 'event', 0);"
        )
    journal = Journal(path)
    [item] = journal.due(10)
    assert (item.uri, item.not_before) == (URI, None)  # older work: no bound
    journal.accept([(URI, "model_updated", None, "{}", None)])
    assert journal.due(10)[0].not_before is not None
