"""PoolWire, the hydration client's HTTP/1.1 wire, against scripted TCP servers.

Each test starts a small ``asyncio`` server on 127.0.0.1 (an ephemeral port) whose
answers the test scripts byte by byte: split, truncated, compressed, late, or not
HTTP at all. The server records the raw bytes of every request, which connection it
came on, and which connections the client hung up. Tests run their coroutine with
``asyncio.run`` in real time and close every socket they open (``filterwarnings =
error`` turns a leaked transport into a failure).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import itertools
import json
import shutil
import socket
import ssl
import struct
import subprocess
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecyclegraph.core.errors import SourceProtocolError, SourceUnavailable
from lifecyclegraph.providers.http import SourceClient, SourceSettings
from lifecyclegraph.providers.http.transport import PoolWire

# --- the scripted server ---------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One request as the server received it."""

    connection: int  # which connection it came on, from 1 in order of acceptance
    seq: int  # its place on that connection, from 1
    raw: bytes  # the request line and headers, up to and with the blank line

    @property
    def line(self) -> str:
        return self.raw.split(b"\r\n", 1)[0].decode("latin-1")

    @property
    def target(self) -> str:
        return self.line.split(" ")[1]

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    def header(self, name: str) -> list[str]:
        """Every value of the header ``name`` (any case), in order."""
        lines = self.raw.decode("latin-1").split("\r\n")[1:]
        pairs = [line.partition(":") for line in lines if line]
        return [value.strip() for key, _, value in pairs if key.lower() == name.lower()]


CLOSE = "close"  # what a script returns to close the connection after its answer
Respond = Callable[[Request, asyncio.StreamWriter], Awaitable[object]]


class Server:
    """A TCP server on 127.0.0.1 answering each request with ``respond(request, writer)``."""

    def __init__(
        self,
        respond: Respond,
        *,
        host: str = "127.0.0.1",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.respond = respond
        self.host = host
        self.ssl_context = ssl_context
        self.requests: list[Request] = []
        self.connections = 0
        self.hung_up: set[int] = set()  # connections the client closed
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, self.host, 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def paths(self) -> list[str]:
        return [request.path for request in self.requests]

    async def saw_hang_up(self, connection: int, within: float = 2.0) -> bool:
        """Whether the client closed ``connection`` (waiting up to ``within`` seconds)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while connection not in self.hung_up:
                    await asyncio.sleep(0.002)
        return connection in self.hung_up

    async def count_hang_ups(self, expected: int, within: float = 2.0) -> int:
        """How many connections the client closed, once ``expected`` have, and a bit later."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while len(self.hung_up) < expected:
                    await asyncio.sleep(0.002)
        await asyncio.sleep(0.05)  # time for one too many to show
        return len(self.hung_up)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        number, seq = self.connections, 0
        try:
            while True:
                try:
                    raw = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    self.hung_up.add(number)
                    return
                seq += 1
                request = Request(number, seq, raw)
                self.requests.append(request)
                if await self.respond(request, writer) == CLOSE:
                    return
                await writer.drain()
        except ConnectionError:
            self.hung_up.add(number)
        except asyncio.CancelledError:  # by __aexit__; ending normally keeps 3.11 quiet
            return
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def response(
    body: bytes = b"",
    *,
    status: int = 200,
    reason: str = "OK",
    headers: Sequence[str] = (),
    length: bool = True,
    version: str = "HTTP/1.1",
) -> bytes:
    """An answer's bytes; with ``Content-Length`` unless ``length`` is false."""
    lines = [f"{version} {status} {reason}", *headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(pieces: Sequence[bytes], trailer: str = "", upper: bool = False) -> bytes:
    """A chunked body: one chunk per non-empty piece, then the last chunk."""
    out = b""
    for piece in pieces:
        if piece:
            size = f"{len(piece):X}" if upper else f"{len(piece):x}"
            out += size.encode() + b"\r\n" + piece + b"\r\n"
    return out + b"0\r\n" + trailer.encode("latin-1") + b"\r\n"


async def echo_path(request: Request, writer: asyncio.StreamWriter) -> None:
    """Answer with a body naming the request's path."""
    writer.write(response(request.path.encode()))


def reset(writer: asyncio.StreamWriter) -> str:
    """Abort the connection with a TCP RST instead of a FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
    return CLOSE


@contextlib.asynccontextmanager
async def pool(
    url: str, headers: dict[str, str] | None = None, **options: Any
) -> AsyncIterator[PoolWire]:
    wire = PoolWire(url, headers or {}, **options)
    try:
        yield wire
    finally:
        await wire.aclose()


def quick(url: str, **overrides: Any) -> SourceSettings:
    """Settings that retry at once (real time): back-off of at most 50 ms, no cache."""
    options: dict[str, Any] = {
        "rate_limit": 1000.0,
        "timeout": 2.0,
        "max_retries": 2,
        "backoff_base": 0.01,
        "backoff_max": 0.05,
        "cache_ttl": 0.0,
    }
    return SourceSettings("registry", url, **(options | overrides))


HANG = 0.5  # seconds: an answer a local server has not given by then will never come


def unused_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the request on the wire, and keep-alive -----------------------------------------


def test_sequential_requests_share_one_connection_and_carry_the_request_head():
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        headers = ['ETag: "v1"', "X-Dup: a", "X-Dup: b", "Content-Type: application/json"]
        writer.write(response(b'{"id": "alice"}', reason="Fine", headers=headers))

    async def main():
        async with Server(respond) as server:
            url = server.url + "/identity/"
            headers = {"Authorization": "Bearer t0ken", "Accept": "application/json"}
            async with pool(url, headers) as wire:
                first = await wire.get("/api/v1/users", {"email": "alice@example.com"}, None)
                second = await wire.get("/api/v1/users/alice", None, {"If-None-Match": '"v1"'})
        return server, first, second

    server, first, second = asyncio.run(main())
    assert server.connections == 1
    one, two = server.requests
    assert one.line == "GET /identity/api/v1/users?email=alice%40example.com HTTP/1.1"
    assert two.line == "GET /identity/api/v1/users/alice HTTP/1.1"
    for request in (one, two):
        assert request.header("Host") == [f"127.0.0.1:{server.port}"]
        assert request.header("Authorization") == ["Bearer t0ken"]
        assert request.header("Accept") == ["application/json"]
        assert request.header("Accept-Encoding") == ["gzip, deflate"]
    assert one.header("If-None-Match") == []
    assert two.header("If-None-Match") == ['"v1"']
    assert (first.status, first.reason, first.json()) == (200, "Fine", {"id": "alice"})
    assert first.headers["etag"] == '"v1"'
    assert first.headers["content-type"] == "application/json"
    assert first.headers["x-dup"] == "b"  # a repeated header keeps its last value
    assert second.content == b'{"id": "alice"}'


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback")
def test_an_ipv6_literal_is_bracketed_in_the_host_header():
    async def main():
        async with Server(echo_path, host="::1") as server, pool(server.url) as wire:
            answer = await wire.get("/v6", None, None)
        return server, answer

    server, answer = asyncio.run(main())
    assert answer.content == b"/v6"
    assert server.requests[0].header("Host") == [f"[::1]:{server.port}"]


def test_credentials_in_the_base_url_are_sent_as_basic_auth():
    # docs/hydration.md ("Secrets") supports https://user:pass@host source URLs, and the
    # httpx.AsyncClient that SourceClient used before PoolWire sent them as Basic auth.
    async def main():
        async with Server(echo_path) as server:
            url = f"http://bot:s3cret@127.0.0.1:{server.port}/registry"
            async with pool(url) as wire:
                await wire.get("/api/v1/models/m", None, None)
        return server

    server = asyncio.run(main())
    assert server.requests[0].header("Authorization") == ["Basic Ym90OnMzY3JldA=="]


def test_concurrent_requests_get_their_own_answers_and_at_most_max_idle_stay_open():
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.001 * (int(request.path.rsplit("/", 1)[1]) % 5))
        writer.write(response(request.path.encode()))

    async def main():
        async with Server(respond) as server, pool(server.url, max_idle=4) as wire:
            paths = [f"/item/{n}" for n in range(8)]
            first = await asyncio.gather(*(wire.get(p, None, None) for p in paths))
            after_first = server.connections
            hung_up = await server.count_hang_ups(4)
            second = await asyncio.gather(*(wire.get(p, None, None) for p in paths[:4]))
            return server, paths, first, after_first, hung_up, second

    server, paths, first, after_first, hung_up, second = asyncio.run(main())
    assert [answer.content.decode() for answer in first] == paths
    assert [answer.content.decode() for answer in second] == paths[:4]
    assert after_first == 8  # requests in flight together never share a connection
    assert hung_up == 4  # 8 - max_idle connections closed by the client
    assert server.connections == 8  # the 4 idle ones were reused


def test_a_connection_the_server_closed_after_answering_is_not_a_failure():
    async def respond(request: Request, writer: asyncio.StreamWriter) -> str:
        writer.write(response(request.path.encode()))  # no Connection: close
        await writer.drain()
        return CLOSE

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            first = await wire.get("/a", None, None)
            await asyncio.sleep(0.05)  # the client has seen the close
            second = await wire.get("/b", None, None)
        return server, first, second

    server, first, second = asyncio.run(main())
    assert (first.content, second.content) == (b"/a", b"/b")
    assert server.connections == 2


@pytest.mark.parametrize("how", ["fin", "rst"])
def test_a_request_on_a_connection_closed_unanswered_is_sent_once_more_on_a_new_one(how):
    # The race browsers and httpcore handle: the server closes an idle connection just
    # as the client sends on it. Nothing came back, so the GET is repeated, once.
    async def respond(request: Request, writer: asyncio.StreamWriter) -> str | None:
        if request.seq > 1:
            return reset(writer) if how == "rst" else CLOSE
        writer.write(response(request.path.encode()))
        return None

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            first = await wire.get("/a", None, None)
            async with asyncio.timeout(HANG):
                second = await wire.get("/b", None, None)
        return server, first, second

    server, first, second = asyncio.run(main())
    assert (first.content, second.content) == (b"/a", b"/b")
    assert server.paths == ["/a", "/b", "/b"]
    assert [r.connection for r in server.requests] == [1, 1, 2]


def get_once_failing(respond: Any) -> tuple[Server, httpx.RemoteProtocolError]:
    """GET ``/a`` on a new wire from a server answering with ``respond``; the server and
    the ``RemoteProtocolError`` raised (within ``HANG`` seconds)."""

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            with pytest.raises(httpx.RemoteProtocolError) as caught:
                async with asyncio.timeout(HANG):
                    await wire.get("/a", None, None)
        return server, caught.value

    return asyncio.run(main())


def test_a_new_connection_closed_unanswered_is_an_error_not_a_retry():
    async def respond(request: Request, writer: asyncio.StreamWriter) -> str:
        return CLOSE

    server, error = get_once_failing(respond)
    assert "closed the connection before its answer ended" in str(error)
    assert server.paths == ["/a"]  # sent once only


def test_a_reused_connection_closed_mid_answer_is_an_error_not_a_retry():
    async def respond(request: Request, writer: asyncio.StreamWriter) -> str | None:
        if request.seq == 1:
            writer.write(response(b"first"))
            return None
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Le")
        await writer.drain()
        return CLOSE

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            await wire.get("/a", None, None)
            with pytest.raises(httpx.RemoteProtocolError) as caught:
                async with asyncio.timeout(HANG):
                    await wire.get("/b", None, None)
        return server, caught.value

    server, error = asyncio.run(main())
    assert "closed the connection before its answer ended" in str(error)
    assert server.paths == ["/a", "/b"]  # part of an answer came back: not repeated
    assert server.connections == 1


@pytest.mark.parametrize(
    ("version", "headers"),
    [
        ("HTTP/1.1", ["Connection: close"]),
        ("HTTP/1.1", ["Connection: Close"]),
        ("HTTP/1.0", []),
    ],
    ids=["connection-close", "connection-Close", "http-1.0"],
)
def test_an_answer_that_ends_the_connection_is_not_reused(version, headers):
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        # the server keeps its end open: only the client's choice is tested
        writer.write(response(request.path.encode(), headers=headers, version=version))

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            first = await wire.get("/a", None, None)
            second = await wire.get("/b", None, None)
            hung_up = await server.saw_hang_up(1)
        return server, first, second, hung_up

    server, first, second, hung_up = asyncio.run(main())
    assert (first.content, second.content) == (b"/a", b"/b")
    assert [r.connection for r in server.requests] == [1, 2]
    assert hung_up  # the client closed the first connection itself


def test_an_http_1_0_answer_with_keep_alive_is_reused():
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(b"ok", headers=["Connection: keep-alive"], version="HTTP/1.0"))

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            await wire.get("/a", None, None)
            await wire.get("/b", None, None)
        return server

    assert asyncio.run(main()).connections == 1


# --- broken answers ------------------------------------------------------------------


async def truncated(request: Request, writer: asyncio.StreamWriter) -> str:
    """Promise 100 bytes of body, send 10, close."""
    writer.write(response(b"0123456789" * 10)[:-90])
    await writer.drain()
    return CLOSE


def test_an_answer_cut_short_is_a_remote_protocol_error():
    server, error = get_once_failing(truncated)
    assert "closed the connection before its answer ended" in str(error)
    assert server.paths == ["/a"]


def test_the_client_retries_an_answer_cut_short_as_a_connection_error():
    async def respond(request: Request, writer: asyncio.StreamWriter) -> str | None:
        if len(server.requests) == 1:
            return await truncated(request, writer)
        writer.write(response(b'{"id": "m"}', headers=["Content-Type: application/json"]))
        return None

    server = Server(respond)

    async def main():
        async with server, SourceClient(quick(server.url + "/registry", timeout=HANG)) as client:
            fetched = await client.get("/api/v1/models/m")
            return fetched, client.stats

    fetched, stats = asyncio.run(main())
    assert (fetched.status, fetched.body) == (200, {"id": "m"})
    assert (stats.requests, stats.retries, stats.connection_errors) == (2, 1, 1)
    assert server.paths == ["/registry/api/v1/models/m"] * 2


def test_the_client_gives_up_on_answers_always_cut_short_as_unavailable():
    async def main():
        async with Server(truncated) as server:
            async with SourceClient(quick(server.url, max_retries=2, timeout=HANG / 3)) as client:
                with pytest.raises(SourceUnavailable) as caught:
                    await client.get("/api/v1/models/m")
            return server, caught.value, client.stats

    server, error, stats = asyncio.run(main())
    assert "failed 3 times" in str(error)
    assert "RemoteProtocolError" in str(error)
    assert stats.connection_errors == 3
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    "garbage",
    [
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"\x15\x03\x03\x00\x02\x02\x16",  # a TLS alert: an https server spoken to in http
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
    ],
    ids=["ssh", "tls", "bad-status", "bad-length"],
)
@pytest.mark.parametrize("then_close", [False, True], ids=["kept-open", "closed"])
def test_an_answer_that_is_not_http_is_a_remote_protocol_error(garbage, then_close):
    async def respond(request: Request, writer: asyncio.StreamWriter) -> str | None:
        writer.write(garbage)
        await writer.drain()
        return CLOSE if then_close else None

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            with pytest.raises(httpx.RemoteProtocolError) as caught:
                async with asyncio.timeout(2):
                    await wire.get("/a", None, None)
            hung_up = then_close or await server.saw_hang_up(1)
        return server, caught.value, hung_up

    server, error, hung_up = asyncio.run(main())
    assert str(error).startswith("a malformed HTTP response: ")
    assert hung_up  # a connection in an unknown state is never kept
    assert server.paths == ["/a"]


# --- the size limit ------------------------------------------------------------------


@pytest.mark.parametrize("size", [1000, 0])
def test_a_body_up_to_max_body_is_accepted(size):
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(b"x" * size))

    async def main():
        async with Server(respond) as server, pool(server.url, max_body=1000) as wire:
            return await wire.get("/a", None, None)

    assert asyncio.run(main()).content == b"x" * size


def read_a_huge_body(framing: str) -> tuple[Exception, bool, int]:
    """Answer with a 100 MB body to a wire with ``max_body=1000``.

    Returns the error the wire raised, whether the server saw the client hang up, and
    how many bytes of the body the server sent before that.
    """
    claimed = 100 * 1024 * 1024
    sent = 0
    block = b"x" * 65536

    async def respond(request: Request, writer: asyncio.StreamWriter) -> str:
        nonlocal sent
        if framing == "length":
            writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {claimed}\r\n\r\n".encode())
        elif framing == "chunked":
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        while sent < claimed:  # a ConnectionError when the client hangs up
            writer.write(b"10000\r\n" + block + b"\r\n" if framing == "chunked" else block)
            await writer.drain()
            sent += len(block)
        return CLOSE

    async def main():
        async with Server(respond) as server, pool(server.url, max_body=1000) as wire:
            with pytest.raises(httpx.RemoteProtocolError) as caught:
                async with asyncio.timeout(5):
                    await wire.get("/a", None, None)
            hung_up = await server.saw_hang_up(1)
        return caught.value, hung_up

    error, hung_up = asyncio.run(main())
    return error, hung_up, sent


@pytest.mark.parametrize("framing", ["length", "chunked", "until-close"])
def test_a_body_larger_than_max_body_is_refused_before_it_is_all_read(framing):
    error, hung_up, sent = read_a_huge_body(framing)
    assert isinstance(error, httpx.RemoteProtocolError)
    assert hung_up  # the client closed the connection mid-body
    assert sent < 16 * 1024 * 1024  # long before the 100 MB were sent


def test_a_body_larger_than_max_body_is_reported_as_too_large():
    error, _, _ = read_a_huge_body("length")
    assert "larger than the limit of 1000 bytes" in str(error)


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_a_compressed_body_that_inflates_past_max_body_is_refused(coding):
    plain = bytes(200_000)
    packed = gzip.compress(plain) if coding == "gzip" else zlib.compress(plain)
    assert len(packed) < 1000

    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(packed, headers=[f"Content-Encoding: {coding}"]))

    async def main():
        async with Server(respond) as server, pool(server.url, max_body=1000) as wire:
            with pytest.raises(httpx.RemoteProtocolError) as caught:
                await wire.get("/a", None, None)
        return caught.value

    assert "larger than 1000 bytes" in str(asyncio.run(main()))


# --- content codings and framings ----------------------------------------------------

PLAIN = json.dumps({"id": "ranking-model", "tags": ["a"] * 50}).encode()


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("coding", "packed"),
    [
        ("gzip", gzip.compress(PLAIN)),
        ("x-gzip", gzip.compress(PLAIN)),
        ("GZIP", gzip.compress(PLAIN)),
        ("deflate", zlib.compress(PLAIN)),
        ("deflate", raw_deflate(PLAIN)),  # the raw deflate some servers send
        ("identity", PLAIN),
    ],
    ids=["gzip", "x-gzip", "GZIP", "deflate-zlib", "deflate-raw", "identity"],
)
def test_a_compressed_body_is_decoded(coding, packed):
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(packed, headers=[f"Content-Encoding: {coding}"]))

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            answer = await wire.get("/a", None, None)
            again = await wire.get("/b", None, None)
        return server, answer, again

    server, answer, again = asyncio.run(main())
    assert answer.content == again.content == PLAIN
    assert answer.headers["content-encoding"] == coding
    assert server.connections == 1


@pytest.mark.parametrize(
    ("coding", "packed", "says"),
    [
        ("br", b"\x8b\x03\x80hello\x03", "'br', which was not asked"),
        ("gzip", b"this is not gzip at all", "gzip body does not decode"),
        ("deflate", b"\xff\xfe not deflate either", "deflate body does not decode"),
        ("gzip", gzip.compress(PLAIN)[:-12], "gzip body is cut short"),
        ("deflate", zlib.compress(PLAIN)[:-6], "deflate body is cut short"),
    ],
    ids=["br", "bad-gzip", "bad-deflate", "gzip-cut-short", "deflate-cut-short"],
)
def test_a_body_that_does_not_decode_is_a_decoding_error(coding, packed, says):
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(packed, headers=[f"Content-Encoding: {coding}"]))

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            with pytest.raises(httpx.DecodingError) as caught:
                await wire.get("/a", None, None)
        return caught.value

    assert says in str(asyncio.run(main()))


def test_the_client_reports_a_body_in_an_unasked_coding_as_a_protocol_error_at_once():
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(b"\x8b\x03\x80{}\x03", headers=["Content-Encoding: br"]))

    async def main():
        async with Server(respond) as server:
            async with SourceClient(quick(server.url)) as client:
                with pytest.raises(SourceProtocolError) as caught:
                    await client.get("/api/v1/models/m")
            return server, caught.value, client.stats

    server, error, stats = asyncio.run(main())
    assert error.status == 200
    assert "does not decode" in str(error)
    assert f"GET {server.url}/api/v1/models/m" in str(error)
    assert stats.protocol_errors == 1
    assert len(server.requests) == 1  # not retried


def test_a_chunked_body_is_joined_and_the_connection_kept():
    body = chunked([b"hello", b", ", b"world"], trailer="X-Checksum: 42\r\n", upper=True)

    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(body, headers=["Transfer-Encoding: chunked"], length=False))

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            first = await wire.get("/a", None, None)
            second = await wire.get("/b", None, None)
        return server, first, second

    server, first, second = asyncio.run(main())
    assert first.content == second.content == b"hello, world"
    assert server.connections == 1


def test_a_chunk_extension_is_ignored():
    body = b"5;name=value\r\nhello\r\n0\r\n\r\n"

    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(body, headers=["Transfer-Encoding: chunked"], length=False))

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            return await wire.get("/a", None, None)

    assert asyncio.run(main()).content == b"hello"


@pytest.mark.parametrize(
    ("version", "headers"),
    [("HTTP/1.1", ["Connection: close"]), ("HTTP/1.1", []), ("HTTP/1.0", [])],
    ids=["1.1-connection-close", "1.1-bare", "1.0"],
)
def test_a_body_delimited_by_the_end_of_the_connection_is_read_whole(version, headers):
    body = bytes(range(256)) * 40

    async def respond(request: Request, writer: asyncio.StreamWriter) -> str:
        writer.write(response(b"", headers=headers, length=False, version=version))
        await writer.drain()
        for start in range(0, len(body), 3000):
            writer.write(body[start : start + 3000])
            await writer.drain()
            await asyncio.sleep(0.001)
        return CLOSE

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            async with asyncio.timeout(HANG):
                first = await wire.get("/a", None, None)
                second = await wire.get("/b", None, None)
        return server, first, second

    server, first, second = asyncio.run(main())
    assert first.content == second.content == body
    assert server.connections == 2


@pytest.mark.parametrize("status", [304, 204])
def test_an_answer_without_a_body_needs_no_length_and_keeps_the_connection(status):
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(
            response(status=status, reason="No Body", headers=['ETag: "v1"'], length=False)
        )

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            async with asyncio.timeout(2):
                first = await wire.get("/a", None, None)
                second = await wire.get("/b", None, None)
        return server, first, second

    server, first, second = asyncio.run(main())
    assert (first.status, first.content, second.status) == (status, b"", status)
    assert server.connections == 1


def test_the_client_revalidates_with_if_none_match_and_takes_a_304():
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        if request.header("If-None-Match") == ['"v1"']:
            writer.write(response(status=304, reason="Not Modified", headers=['ETag: "v1"']))
        else:
            writer.write(response(b'{"id": "m"}', headers=['ETag: "v1"']))

    async def main():
        async with Server(respond) as server:
            settings = quick(server.url, auth_header="Bearer t0ken")
            async with SourceClient(settings) as client:
                first = await client.get("/api/v1/models/m")
                again = await client.get("/api/v1/models/m")
            return server, first, again

    server, first, again = asyncio.run(main())
    assert (first.body, first.from_cache) == ({"id": "m"}, False)
    assert (again.status, again.body, again.from_cache) == (200, {"id": "m"}, True)
    assert [r.header("If-None-Match") for r in server.requests] == [[], ['"v1"']]
    assert [r.header("Authorization") for r in server.requests] == [["Bearer t0ken"]] * 2
    assert server.connections == 1


@pytest.mark.parametrize("together", [True, False], ids=["one-write", "two-writes"])
def test_an_interim_1xx_answer_is_skipped(together):
    early = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"

    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(early)
        if not together:
            await writer.drain()
            await asyncio.sleep(0.05)
        writer.write(response(b"final"))

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            first = await wire.get("/a", None, None)
            second = await wire.get("/b", None, None)
        return first, second

    first, second = asyncio.run(main())
    assert (first.status, first.reason, first.content) == (200, "OK", b"final")
    assert "link" not in first.headers
    assert (second.status, second.content) == (200, b"final")


def test_bytes_after_the_answer_do_not_change_it():
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        # one write: the answer, then an unasked second answer
        writer.write(response(b"mine") + response(b"stray", status=500, reason="Oops"))

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            return await wire.get("/a", None, None)

    answer = asyncio.run(main())
    assert (answer.status, answer.reason, answer.content) == (200, "OK", b"mine")


# --- connecting ----------------------------------------------------------------------


def test_a_refused_connection_is_a_connect_error_naming_host_and_port():
    port = unused_port()

    async def main():
        async with pool(f"http://127.0.0.1:{port}") as wire:
            with pytest.raises(httpx.ConnectError) as caught:
                await wire.get("/a", None, None)
        return caught.value

    error = asyncio.run(main())
    assert f"cannot connect to 127.0.0.1:{port}" in str(error)


def test_the_client_retries_a_refused_connection_then_reports_unavailable():
    port = unused_port()

    async def main():
        async with SourceClient(quick(f"http://127.0.0.1:{port}", max_retries=1)) as client:
            with pytest.raises(SourceUnavailable) as caught:
                await client.get("/api/v1/models/m")
        return caught.value, client.stats

    error, stats = asyncio.run(main())
    assert "failed 2 times" in str(error)
    assert f"127.0.0.1:{port}" in str(error)
    assert stats.connection_errors == 2


# --- cancellation --------------------------------------------------------------------


@pytest.mark.parametrize("late", ["whole-answer", "body-only"])
def test_a_request_after_a_cancelled_one_gets_its_own_answer(late):
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        answer = response(request.path.encode())
        if request.path == "/slow":
            if late == "body-only":
                writer.write(answer[: -len(b"/slow")])
                await writer.drain()
                answer = answer[-len(b"/slow") :]
            await asyncio.sleep(0.3)
        writer.write(answer)

    async def main():
        async with Server(respond) as server, pool(server.url) as wire:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(wire.get("/slow", None, None), 0.1)
            fast = await wire.get("/fast", None, None)
            await asyncio.sleep(0.3)  # the late answer to /slow is written now
            again = await wire.get("/again", None, None)
            hung_up = await server.saw_hang_up(1)
        return server, fast, again, hung_up

    server, fast, again, hung_up = asyncio.run(main())
    assert (fast.content, again.content) == (b"/fast", b"/again")
    assert [r.connection for r in server.requests] == [1, 2, 2]
    assert hung_up  # the cancelled request's connection was closed, not reused


def test_the_client_retries_an_attempt_that_timed_out_and_takes_the_fresh_answer():
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        number = len(server.requests)
        if number == 1:
            await asyncio.sleep(0.5)
        writer.write(response(json.dumps({"attempt": number}).encode()))

    server = Server(respond)

    async def main():
        async with server, SourceClient(quick(server.url, timeout=0.1)) as client:
            fetched = await client.get("/api/v1/models/m")
            return fetched, client.stats

    fetched, stats = asyncio.run(main())
    assert fetched.body == {"attempt": 2}
    assert (stats.timeouts, stats.retries) == (1, 1)
    assert server.connections == 2


# --- the wire's own contract ---------------------------------------------------------


@pytest.mark.parametrize("url", ["ftp://x", "http://", "127.0.0.1:8900", "https:///path"])
def test_a_base_url_that_is_not_http_with_a_host_is_refused(url):
    with pytest.raises(ValueError, match="http:// or https:// with a host"):
        PoolWire(url, {})


def test_a_closed_wire_refuses_requests_and_closes_its_idle_connections():
    async def main():
        async with Server(echo_path) as server:
            wire = PoolWire(server.url, {})
            await wire.get("/a", None, None)
            await wire.aclose()
            hung_up = await server.saw_hang_up(1)
            with pytest.raises(RuntimeError, match="closed"):
                await wire.get("/b", None, None)
            await wire.aclose()  # twice is harmless
        return server, hung_up

    server, hung_up = asyncio.run(main())
    assert hung_up
    assert server.paths == ["/a"]


def test_a_connection_in_use_when_the_wire_closes_is_not_kept():
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.05)
        writer.write(response(b"late"))

    async def main():
        async with Server(respond) as server:
            wire = PoolWire(server.url, {})
            pending = asyncio.ensure_future(wire.get("/a", None, None))
            await asyncio.sleep(0.01)
            await wire.aclose()
            answer = await pending
            hung_up = await server.saw_hang_up(1)
        return answer, hung_up

    answer, hung_up = asyncio.run(main())
    assert answer.content == b"late"
    assert hung_up


# --- any split of any answer -----------------------------------------------------------


@dataclass(frozen=True)
class Scripted:
    status: int
    reason: str
    body: bytes
    pieces: list[bytes]  # the answer's bytes as the server writes them
    pause: float | None  # between writes: None drains only, else sleeps that long


@st.composite
def scripted_answers(draw: st.DrawFn) -> Scripted:
    status, reason = draw(
        st.sampled_from([(200, "OK"), (201, "Created"), (404, "Not Found"), (503, "")])
    )
    body = draw(st.binary(max_size=20_000))
    if draw(st.booleans()):  # chunked, in arbitrary chunk sizes
        sizes = draw(st.lists(st.integers(1, 6000), max_size=8))
        cuts = [0]
        for size in sizes:
            cuts.append(min(cuts[-1] + size, len(body)))
        cuts.append(len(body))
        trailer = draw(st.sampled_from(["", "X-Trailer: yes\r\n"]))
        framed = chunked(
            [body[a:b] for a, b in itertools.pairwise(cuts)],
            trailer=trailer,
            upper=draw(st.booleans()),
        )
        data = response(
            framed,
            status=status,
            reason=reason,
            headers=["Transfer-Encoding: chunked"],
            length=False,
        )
    else:
        data = response(body, status=status, reason=reason)
    splits = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=8))))
    bounds = [0, *splits, len(data)]
    pieces = [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    pause = draw(st.sampled_from([None, 0.0, 0.001]))
    return Scripted(status, reason, body, pieces, pause)


@settings(max_examples=50, deadline=None)
@given(script=st.lists(scripted_answers(), min_size=1, max_size=3))
def test_any_answer_split_any_way_is_read_exactly(script):
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        scripted = script[len(server.requests) - 1]
        for piece in scripted.pieces:
            writer.write(piece)
            await writer.drain()
            if scripted.pause is not None:
                await asyncio.sleep(scripted.pause)

    server = Server(respond)

    async def main():
        async with server, pool(server.url) as wire:
            return [await wire.get(f"/{n}", None, None) for n in range(len(script))]

    answers = asyncio.run(main())
    for scripted, answer in zip(script, answers, strict=True):
        assert (answer.status, answer.reason) == (scripted.status, scripted.reason)
        assert answer.content == scripted.body
    assert server.connections == 1  # and the connection survived every answer


# --- https -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made with openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_https_with_a_trusted_certificate_keeps_its_connection(certificate):
    cert, key = certificate
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    client_side = ssl.create_default_context(cafile=str(cert))

    async def main():
        async with (
            Server(echo_path, ssl_context=server_side) as server,
            pool(server.url, ssl_context=client_side) as wire,
        ):
            first = await wire.get("/a", None, None)
            second = await wire.get("/b", None, None)
        return server, first, second

    server, first, second = asyncio.run(main())
    assert (first.content, second.content) == (b"/a", b"/b")
    assert server.connections == 1


def test_https_with_an_untrusted_certificate_is_a_connect_error(certificate):
    cert, key = certificate
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)

    async def main():
        # the client trusts the system's certificates only
        async with Server(echo_path, ssl_context=server_side) as server, pool(server.url) as wire:
            with pytest.raises(httpx.ConnectError) as caught:
                await wire.get("/a", None, None)
        return server, caught.value

    server, error = asyncio.run(main())
    assert f"cannot connect to 127.0.0.1:{server.port}" in str(error)
    assert "CERTIFICATE_VERIFY_FAILED" in str(error)
    assert server.requests == []
