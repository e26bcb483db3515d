"""How the hydration client puts requests on the wire.

:class:`SourceClient <lifecyclegraph.providers.http.client.SourceClient>` sends plain
``GET`` requests through a *wire*: anything with ``get(path, params, headers)`` that
answers an :class:`Answer`. Two wires exist:

- :class:`PoolWire`, the default: persistent HTTP/1.1 connections on asyncio protocols,
  parsed by ``httptools`` (the parser uvicorn uses). httpx's own stack (httpcore over
  anyio, its URL and header models, its cookie jar) costs 0.7 to 2 ms of CPU per
  request on this project's 2-core machines, more the more connections a pool holds;
  the hydration client makes about one request per entity, so that alone held
  ingestion below 500 entities/s. This wire costs about 0.1 ms
  (``lifecyclegraph bench ingest``, figures in ``docs/benchmarks.md``).
- :class:`HttpxWire`: an ``httpx.AsyncClient`` over any httpx transport, for what the
  pool does not do (``httpx.MockTransport`` in tests, proxies, HTTP/2).

Both raise httpx's exceptions (``httpx.ConnectError``, ``httpx.ReadTimeout``,
``httpx.RemoteProtocolError``, ``httpx.DecodingError``), so the client handles one
set of errors.

The pool keeps idle connections per origin while the server keeps them alive;
speaks TLS through :mod:`ssl`; bounds the size of an answer; and decodes ``gzip`` and
``deflate`` bodies. A request whose idle connection the server had closed before any
byte of the answer came back is sent once more on a new connection, as browsers and
httpcore do (only ``GET`` is sent, which is safe to repeat). It does not do proxies,
HTTP/2, or streamed bodies: an answer is read whole, up to ``max_body`` bytes.

>>> import asyncio
>>> from lifecyclegraph.sandbox.server import run_in_thread
>>> async def main(url):
...     wire = PoolWire(url, {"Accept": "application/json"})
...     try:
...         answer = await wire.get("/api/v1/users", {"email": "alice@example.com"}, None)
...     finally:
...         await wire.aclose()
...     return answer.status, answer.json()["users"][0]["id"]
>>> with run_in_thread() as sandbox:
...     asyncio.run(main(sandbox.base_url("identity")))
(200, 'alice')
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import zlib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import httptools
import httpx

__all__ = ["Answer", "HttpxWire", "PoolWire"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Answer:
    """A source's answer to one request.

    Attributes:
        status: the HTTP status code.
        reason: the reason phrase (may be empty).
        headers: the headers, names in lower case (a repeated header keeps its last value).
        content: the body, decoded if it came compressed.
    """

    status: int
    reason: str
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.content)


class HttpxWire:
    """A wire over ``httpx.AsyncClient`` and the given httpx transport.

    Args:
        base_url: the source's base URL.
        headers: sent with every request.
        timeout: seconds for each of connecting, writing and reading.
        concurrency: connections kept.
        transport: the httpx transport (``httpx.MockTransport`` in tests).
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        timeout: float,
        concurrency: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=dict(headers),
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            transport=transport,
            follow_redirects=False,
        )

    async def get(
        self, path: str, params: Mapping[str, str] | None, headers: Mapping[str, str] | None
    ) -> Answer:
        response = await self._http.get(path, params=params, headers=headers)
        return Answer(
            response.status_code,
            response.reason_phrase,
            {k.lower(): v for k, v in response.headers.items()},
            response.content,
        )

    async def aclose(self) -> None:
        await self._http.aclose()


class PoolWire:
    """A wire over a pool of persistent HTTP/1.1 connections to one source.

    Args:
        base_url: the source's base URL (``http`` or ``https``; its path prefixes every
            request's path).
        headers: sent with every request.
        timeout: seconds to connect; reading an answer is bounded by the caller.
        max_idle: idle connections kept open.
        max_body: the largest body accepted, in bytes (after decompression).
        ssl_context: for ``https`` (default: the system's trusted certificates).

    Raises:
        ValueError: if ``base_url`` is not an ``http`` or ``https`` URL with a host.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        timeout: float = 5.0,
        max_idle: int = 16,
        max_body: int = 32 * 1024 * 1024,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"a source URL is http:// or https:// with a host, not {base_url!r}")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or _DEFAULT_PORTS[parts.scheme]
        self._prefix = parts.path.rstrip("/")
        default_port = self._port == _DEFAULT_PORTS[parts.scheme]
        host_header = self._host if default_port else f"{self._host}:{self._port}"
        if ":" in self._host:  # an IPv6 literal
            host_header = f"[{self._host}]" if default_port else f"[{self._host}]:{self._port}"
        lines = [f"Host: {host_header}", "Accept-Encoding: gzip, deflate"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if parts.username is not None and not any(
            name.lower() == "authorization" for name in headers
        ):  # credentials in the URL (https://user:pass@host) are Basic auth, as in httpx
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            lines.append("Authorization: Basic " + base64.b64encode(pair.encode()).decode())
        self._head = "\r\n".join(lines).encode("latin-1")
        self.timeout = timeout
        self.max_idle = max_idle
        self.max_body = max_body
        self._ssl = ssl_context
        self._idle: deque[_Connection] = deque()
        self._closed = False

    async def get(
        self, path: str, params: Mapping[str, str] | None, headers: Mapping[str, str] | None
    ) -> Answer:
        if self._closed:
            raise RuntimeError("the wire is closed")
        target = self._prefix + path + (f"?{urlencode(params)}" if params else "")
        head = b"GET " + target.encode("ascii") + b" HTTP/1.1\r\n" + self._head
        if headers:
            head += "".join(f"\r\n{k}: {v}" for k, v in headers.items()).encode("latin-1")
        head += b"\r\n\r\n"
        for attempt in (1, 2):
            connection = self._checkout()
            reused = connection is not None
            if connection is None:
                connection = await self._connect()
            try:
                status, reason, raw_headers, body, keep = await connection.exchange(head)
            except _ConnectionLost as lost:
                if reused and lost.sent_nothing_back and attempt == 1:
                    continue  # the server had closed the idle connection: a new one
                raise httpx.RemoteProtocolError(str(lost)) from None
            if keep and not self._closed and len(self._idle) < self.max_idle:
                self._idle.append(connection)
            else:
                connection.close()
            headers_out = {
                name.decode("latin-1").lower(): value.decode("latin-1")
                for name, value in raw_headers
            }
            content = _decode(body, headers_out.get("content-encoding", ""), self.max_body)
            return Answer(status, reason, headers_out, content)
        raise AssertionError("unreachable")  # pragma: no cover

    def _checkout(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        return None

    async def _connect(self) -> _Connection:
        context: ssl.SSLContext | None = None
        if self._scheme == "https":
            context = self._ssl or ssl.create_default_context()
        loop = asyncio.get_running_loop()
        where = f"{self._host}:{self._port}"
        try:
            async with asyncio.timeout(self.timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self.max_body),
                    self._host,
                    self._port,
                    ssl=context,
                    server_hostname=self._host if context else None,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(
                f"no connection to {where} within {self.timeout:g} s"
            ) from None
        except OSError as error:
            raise httpx.ConnectError(f"cannot connect to {where}: {error}") from error
        return connection

    async def aclose(self) -> None:
        """Close every connection; requests after this raise ``RuntimeError``."""
        self._closed = True
        while self._idle:
            self._idle.pop().close()


def _decode(body: bytes, encoding: str, limit: int) -> bytes:
    """The body without its content coding (``gzip``, ``deflate`` or none)."""
    coding = encoding.strip().lower()
    if coding in ("", "identity"):
        return body
    if coding not in ("gzip", "x-gzip", "deflate"):
        raise httpx.DecodingError(f"the body is encoded with {encoding!r}, which was not asked")
    # gzip: a gzip header; deflate: a zlib stream, or (as some servers send) raw deflate.
    formats = [16 + zlib.MAX_WBITS] if coding != "deflate" else [zlib.MAX_WBITS, -zlib.MAX_WBITS]
    problem = "it is not compressed data"
    for wbits in formats:
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, limit + 1)
        except zlib.error as error:
            problem = str(error)
            continue
        if len(out) > limit:
            raise httpx.RemoteProtocolError(f"the decoded body is larger than {limit} bytes")
        if not inflater.eof:
            raise httpx.DecodingError(f"the {coding} body is cut short")
        return out
    raise httpx.DecodingError(f"the {coding} body does not decode: {problem}")


class _ConnectionLost(Exception):
    """The server closed the connection; ``sent_nothing_back`` if before any answer."""

    def __init__(self, message: str, *, sent_nothing_back: bool) -> None:
        super().__init__(message)
        self.sent_nothing_back = sent_nothing_back


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection, one request at a time."""

    def __init__(self, max_body: int) -> None:
        self._max_body = max_body
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[None] | None = None
        self._reason = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._size = 0
        self._received = False
        self._complete = False
        self._keep_alive = False
        self._until_close = False
        self._stray = False
        self._status = 0
        self.closed = False

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._complete:
            # Bytes nobody asked for (after a whole answer): the connection is unusable.
            self._stray = True
            self.close()
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("the server switched protocols unasked"))
        except httptools.HttpParserCallbackError as error:
            cause = error.__context__  # what a callback below raised
            if isinstance(cause, httpx.HTTPError):
                self._fail(cause)
            else:
                self._fail(httpx.RemoteProtocolError(f"a malformed HTTP response: {error}"))
        except httptools.HttpParserError as error:
            self._fail(httpx.RemoteProtocolError(f"a malformed HTTP response: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None or self._waiter.done():
            return
        if self._until_close and not self._complete:
            self._finish()  # a body delimited by the end of the connection: all there
            return
        why = f" ({exc})" if exc else ""
        self._fail(
            _ConnectionLost(
                f"the server closed the connection before its answer ended{why}",
                sent_nothing_back=not self._received,
            )
        )

    # -- httptools callbacks ------------------------------------------------------------

    def on_status(self, status: bytes) -> None:
        if not self._complete:
            self._reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._complete:
            self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self._complete:
            self._stray = True
            return
        self._status = self._parser.get_status_code()
        self._keep_alive = self._parser.should_keep_alive()  # known only while parsing
        framed = any(
            name.lower() in (b"content-length", b"transfer-encoding") for name, _ in self._headers
        )
        bodiless = self._status < 200 or self._status in (204, 304)
        self._until_close = not framed and not bodiless

    def on_body(self, body: bytes) -> None:
        if self._complete:
            self._stray = True
            return
        self._size += len(body)
        if self._size > self._max_body:
            raise httpx.RemoteProtocolError(
                f"the answer's body is larger than the limit of {self._max_body} bytes"
            )
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._complete:
            self._stray = True
        elif 100 <= self._status < 200:
            # An interim answer (103 Early Hints, say): the final one follows.
            self._reason, self._headers, self._body, self._size = b"", [], [], 0
            self._until_close = False
        else:
            self._finish()

    def _finish(self) -> None:
        self._complete = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # -- use -----------------------------------------------------------------------------

    def _fail(self, error: BaseException) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    async def exchange(
        self, head: bytes
    ) -> tuple[int, str, list[tuple[bytes, bytes]], bytes, bool]:
        """Send one request; (status, reason, headers, body, keep-alive) of the answer.

        Cancelled or failed midway, the connection is closed, never reused.
        """
        assert self._transport is not None
        if self.closed:
            raise _ConnectionLost("the connection was closed", sent_nothing_back=True)
        self._reason, self._headers, self._body = b"", [], []
        self._size, self._status = 0, 0
        self._received = self._complete = self._keep_alive = False
        self._until_close = self._stray = False
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            self._transport.write(head)
            await self._waiter
        except BaseException:
            self.close()
            raise
        finally:
            self._waiter = None
        keep = self._keep_alive and not self.closed and not self._stray
        reason = self._reason.decode("latin-1").strip()
        return self._status, reason, self._headers, b"".join(self._body), keep
