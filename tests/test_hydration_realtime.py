"""The hydration client against a real HTTP server on 127.0.0.1, in real time.

The server stamps each request as it receives it; the rate is checked there, where
the source would count it: no window of one second may hold more requests than
the configured rate, network and scheduling jitter included.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lifecyclegraph.core.errors import SourceUnavailable
from lifecyclegraph.providers.http import SourceClient, SourceSettings
from lifecyclegraph.providers.http.ratelimit import max_in_window

# status, headers for a request path and how many times that path was asked before
Answer = Callable[[str, int], tuple[int, dict[str, str]]]


class SourceServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answer: Answer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = answer
        self.lock = threading.Lock()
        self.times: list[float] = []
        self.paths: list[str] = []

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/registry"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real source would
    server: SourceServer

    def do_GET(self) -> None:
        received = time.monotonic()
        with self.server.lock:
            seen = self.server.paths.count(self.path)
            self.server.times.append(received)
            self.server.paths.append(self.path)
        status, headers = self.server.answer(self.path, seen)
        body = json.dumps({"path": self.path}).encode() if status == 200 else b""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass


def serve(answer: Answer) -> Iterator[SourceServer]:
    server = SourceServer(answer)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def always_ok(path: str, seen: int) -> tuple[int, dict[str, str]]:
    return 200, {}


def faulty_first_time(path: str, seen: int) -> tuple[int, dict[str, str]]:
    """Some objects fail on their first request: m3 and m33 with 429 (Retry-After: 1),
    m0, m6, ... m48 with 503. A 429 holds every request to the source for a second."""
    index = int(path.rsplit("m", 1)[1])
    if seen == 0 and index in (3, 33):
        return 429, {"Retry-After": "1"}
    if seen == 0 and index % 6 == 0:
        return 503, {}
    return 200, {}


@pytest.fixture
def healthy() -> Iterator[SourceServer]:
    yield from serve(always_ok)


@pytest.fixture
def faulty() -> Iterator[SourceServer]:
    yield from serve(faulty_first_time)


async def get_all(settings: SourceSettings, count: int) -> list[int]:
    async with SourceClient(settings) as client:
        answers = await asyncio.gather(*(client.get(f"/api/v1/models/m{i}") for i in range(count)))
    return [answer.status for answer in answers]


@pytest.mark.slow
@pytest.mark.parametrize("server", ["healthy", "faulty"])
def test_rate_is_never_exceeded_at_a_real_source_by_50_concurrent_gets(server, request):
    source: SourceServer = request.getfixturevalue(server)
    settings = SourceSettings("registry", source.url, rate_limit=20, concurrency=8)
    start = time.monotonic()
    statuses = asyncio.run(get_all(settings, 50))
    elapsed = time.monotonic() - start
    assert statuses == [200] * 50
    retried, held = (11, 2.0) if server == "faulty" else (0, 0.0)
    assert len(source.times) == 50 + retried
    assert max_in_window(source.times) <= 20
    paced = (len(source.times) - 1) / 20
    assert paced <= elapsed < paced + held + 2.0  # paced, and not stalled


@pytest.mark.slow
def test_fractional_rate_is_never_exceeded_at_a_real_source(healthy):
    settings = SourceSettings("registry", healthy.url, rate_limit=2.5)
    asyncio.run(get_all(settings, 5))
    assert len(healthy.times) == 5
    assert max_in_window(healthy.times) <= 2


def test_get_gives_up_on_a_source_that_refuses_connections():
    with socket.socket() as placeholder:  # a port nobody listens on
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    settings = SourceSettings(
        "registry", f"http://127.0.0.1:{port}", max_retries=2, backoff_base=0.01
    )

    async def main() -> tuple[SourceUnavailable, int]:
        async with SourceClient(settings) as client:
            with pytest.raises(SourceUnavailable) as caught:
                await client.get("/api/v1/models/m")
            return caught.value, client.stats.connection_errors

    error, connection_errors = asyncio.run(main())
    assert connection_errors == 3
    assert "failed 3 times (last: ConnectError" in str(error)
