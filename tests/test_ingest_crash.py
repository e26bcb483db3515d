"""A service killed with SIGKILL while 10k events are ingested loses no accepted event,
and once restarted ends with the same graph as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from lifecyclegraph import HydrationState, LifecycleGraph
from lifecyclegraph.ingest import Journal
from lifecyclegraph.sandbox.server import SandboxProcess
from lifecyclegraph.sandbox.synthetic import synthetic_world
from lifecyclegraph.sandbox.world import SYSTEMS

TOKEN = "crash-test-token"
BATCH = 250


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


RUNNING: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def no_service_left_running():
    """Whatever happens in the test, no ``serve`` child outlives it."""
    yield
    while RUNNING:
        process = RUNNING.pop()
        if process.poll() is None:
            process.kill()
            process.wait()


class Service:
    """``lifecyclegraph serve`` in a child process."""

    def __init__(self, config: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lifecyclegraph",
                "--config",
                str(config),
                "serve",
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        RUNNING.append(self.process)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.url + "/healthz", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                assert self.process.poll() is None, "the service exited at start"
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.1)

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)

    def wait_idle(self, expected_events: int, timeout: float = 600) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            status = httpx.get(self.url + "/api/v1/status", timeout=10).json()
            if (
                status["events"] >= expected_events
                and not status["events_pending"]
                and not status["queue_depth"]
            ):
                return status
            assert time.monotonic() < deadline, f"not idle in time: {status}"
            time.sleep(0.2)


def write_config(path: Path, store: Path, sandbox: SandboxProcess) -> Path:
    # the rule engine is not what this test is about, and would triple its time
    lines = [
        f'[store]\npath = "{store}"\n',
        f'[server]\nwrite_tokens = ["{TOKEN}"]\n',
        "[rules]\nenabled = false\n",
    ]
    for system in SYSTEMS:
        lines.append(
            f'[sources.{system}]\nurl = "{sandbox.base_url(system)}"\n'
            "rate_limit = 5000\nconcurrency = 16\n"
        )
    path.write_text("\n".join(lines))
    return path


def post(client: httpx.Client, url: str, batch: list) -> bool:
    """POST one batch; True once the service acknowledged it (202)."""
    try:
        response = client.post(url + "/api/v1/events", json=batch, timeout=30)
    except httpx.TransportError:
        return False
    return response.status_code == 202


def live_facts(store: Path) -> set[tuple[str, str, str]]:
    facts = set()
    with LifecycleGraph.open(store) as graph:
        for state in (HydrationState.HYDRATED, HydrationState.REFERENCED):
            for uri in graph.entities(state):
                snapshot = graph.store.state(uri).current_snapshot
                facts.update(
                    (uri, p.value, str(o)) for p, o in graph.store.snapshot_pairs(snapshot)
                )
    return facts


@pytest.mark.slow
def test_sigkill_while_ingesting_loses_no_accepted_event_and_converges(tmp_path):
    world = synthetic_world(14_500, seed=3)
    world.save(tmp_path / "world")
    events = world.seed_events()
    assert len(events) >= 10_000
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with SandboxProcess(tmp_path / "world") as sandbox, httpx.Client(headers=headers) as client:
        # the run that is killed
        config = write_config(tmp_path / "crash.toml", tmp_path / "crash", sandbox)
        port = free_port()
        service = Service(config, port)
        acked = 0
        for index, batch in enumerate(batches):
            if index == len(batches) // 2:
                service.kill()  # mid-ingestion: half the events in, work in flight
                service = Service(config, port)
            while not post(client, service.url, batch):  # resend what was not acknowledged
                time.sleep(0.1)
            acked += len(batch)
        status = service.wait_idle(acked)
        service.stop()
        assert status["dead_letters"] == 0
        # the run that is not
        reference_config = write_config(tmp_path / "ref.toml", tmp_path / "reference", sandbox)
        reference = Service(reference_config, free_port())
        for batch in batches:
            assert post(client, reference.url, batch)
        reference.wait_idle(len(events))
        reference.stop()

    journal = Journal(tmp_path / "crash" / "ingest.sqlite")
    stats = journal.stats()
    journal.close()
    assert stats["events"] >= len(events)  # every acknowledged event is on record
    assert stats["events_pending"] == 0
    assert live_facts(tmp_path / "crash") == live_facts(tmp_path / "reference")
