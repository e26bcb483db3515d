"""One sandbox over real HTTP for the whole session, reset before each test that uses it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from lifecyclegraph.sandbox import SandboxServer, run_in_thread


@pytest.fixture(scope="session")
def running() -> Iterator[SandboxServer]:
    server = run_in_thread(seed=42)
    yield server
    server.stop()


@pytest.fixture
def sandbox(running: SandboxServer) -> SandboxServer:
    """The session's sandbox, back to the demo world with no faults, counts or events."""
    running.reset()
    running.faults.reseed(42)
    return running


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, timeout=10) as http:
        yield http
