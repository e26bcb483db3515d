"""The service's own work: periodic reconciliation and enrichment, and the admin
routes that start a job and follow it."""

from __future__ import annotations

import time

import httpx
import pytest

from lifecyclegraph import HydrationState, LifecycleGraph
from lifecyclegraph.core.config import Config
from lifecyclegraph.ingest import Journal
from lifecyclegraph.sandbox.server import run_in_thread
from lifecyclegraph.sandbox.world import SYSTEMS
from lifecyclegraph.server.app import create_app
from lifecyclegraph.server.service import Service
from lifecyclegraph.server.serving import ServerThread

TOKEN = "jobs-token"
TEST = "aip://ab-test/experimentation/12345"
RATE = 4.0  # requests per second each source allows


@pytest.fixture
def sandbox():
    with run_in_thread() as sandbox:
        yield sandbox


def _served(sandbox, tmp_path, **ingest):
    config = Config.from_dict(
        {
            "ingest": {"reconcile_interval": 0, "enrich_interval": 0, **ingest},
            "server": {"query_workers": 1},
            "sources": {
                system: {"url": sandbox.base_url(system), "rate_limit": RATE} for system in SYSTEMS
            },
        }
    )
    graph = LifecycleGraph.in_memory(rules=False)
    service = Service(config, graph, journal=Journal(tmp_path / "j.db"))
    return service, ServerThread(create_app(service, write_tokens=[TOKEN]))


def _wait(predicate, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def _idle(service: Service) -> bool:
    stats = service.journal.stats()
    return stats["queue_depth"] == 0 and stats["events_pending"] == 0


def test_periodic_reconciliation_tombstones_what_a_source_deleted_without_an_event(
    sandbox, tmp_path
):
    service, server = _served(sandbox, tmp_path, reconcile_interval=4)
    with server:
        service.submit_events([{"event_type": "ab_test_created", "test_id": "12345"}])
        _wait(lambda: _idle(service) and service.graph.state(TEST) is not None)
        assert service.graph.state(TEST).state is HydrationState.HYDRATED
        sandbox.world.delete("test", "12345", emit=False)  # no event says so
        sandbox.stats.clear()
        _wait(lambda: service.graph.state(TEST).state is HydrationState.DELETED)
        gone = [j for j in service.jobs.jobs.values() if j.kind == "reconcile"][-1]
        assert gone.trigger == "schedule"
        _wait(lambda: gone.state == "done")
        assert gone.found["gone"] >= 1 and gone.queued >= 1
        # the reads kept to each source's rate limit (a burst of one second at most)
        systems = sandbox.stats.as_dict()["systems"]
        assert systems, "reconciliation read nothing"
        for counts in systems.values():
            assert counts["max_per_second"] <= RATE + 1, counts
        status = httpx.get(f"{server.url}/api/v1/status").json()
        assert status["jobs"]["reconcile"]["last"]["kind"] == "reconcile"
        assert "next_at" in status["jobs"]["reconcile"]
        assert "next_at" not in status["jobs"]["enrich"]  # enrich_interval = 0: off


def test_an_admin_starts_a_job_and_follows_it_to_the_end(sandbox, tmp_path):
    service, server = _served(sandbox, tmp_path)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with server, httpx.Client(base_url=server.url, timeout=30) as client:
        service.submit_events([{"event_type": "ab_test_created", "test_id": "12345"}])
        _wait(lambda: _idle(service) and service.graph.state(TEST) is not None)
        assert client.post("/api/v1/admin/reconcile").status_code == 401
        started = client.post("/api/v1/admin/reconcile", headers=auth)
        assert started.status_code == 202, started.text
        job = started.json()
        assert job["kind"] == "reconcile" and job["trigger"] == "admin"
        assert started.headers["location"] == f"/api/v1/admin/jobs/{job['id']}"
        again = client.post("/api/v1/admin/reconcile", headers=auth)
        if again.status_code == 409:  # still running: one at a time
            assert again.json()["job"]["id"] == job["id"]
        _wait(lambda: client.get(f"/api/v1/admin/jobs/{job['id']}").json()["state"] != "running")
        done = client.get(f"/api/v1/admin/jobs/{job['id']}").json()
        assert done["state"] == "done" and done["remaining"] == 0
        assert done["queued"] == len(list(service.graph.entities())) or done["queued"] > 0
        for kind, key in (("reindex", "indexed"), ("rules", "derived")):
            started = client.post(f"/api/v1/admin/{kind}", headers=auth).json()
            _wait(
                lambda s=started: (
                    client.get(f"/api/v1/admin/jobs/{s['id']}").json()["state"] != "running"
                )
            )
            finished = client.get(f"/api/v1/admin/jobs/{started['id']}").json()
            assert finished["state"] == "done", finished
            assert key in finished["found"]
        listed = client.get("/api/v1/admin/jobs").json()
        assert [j["kind"] for j in listed["jobs"]][:3] == ["rules", "reindex", "reconcile"]
        unknown = client.post("/api/v1/admin/reconsile", headers=auth)
        assert unknown.status_code == 404
        assert "did you mean 'reconcile'" in unknown.json()["detail"]
        assert client.get("/api/v1/admin/jobs/nope").status_code == 404
