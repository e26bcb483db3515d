"""The hydration client: the one way a provider asks a source system for the state of an object.

One :class:`SourceClient` per source system. ``get`` sends ``GET <url><path>`` and
answers with a :class:`Fetched`; on the way it

- paces every attempt so that the source's rate is never exceeded
  (:mod:`~lifecyclegraph.providers.http.ratelimit`);
- keeps at most ``concurrency`` requests in flight;
- retries ``429``, ``5xx``, timeouts and connection errors with exponential back-off
  and full jitter, and waits at least as long as a ``Retry-After`` asks
  (:mod:`~lifecyclegraph.providers.http.retry`);
- shares one request among concurrent ``get`` calls for the same path and
  parameters (:mod:`~lifecyclegraph.providers.http.coalesce`), reuses a good answer for
  ``cache_ttl`` seconds and then revalidates it with ``If-None-Match``
  (:mod:`~lifecyclegraph.providers.http.cache`), but never answers a hydration
  that an event started with a state asked for before that event
  (:mod:`~lifecyclegraph.providers.freshness`);
- stops asking a source that keeps failing (:mod:`~lifecyclegraph.providers.http.breaker`).

``404`` is an answer (the object is gone), not an error. When the source cannot
answer now, ``get`` raises :class:`~lifecyclegraph.core.errors.SourceUnavailable`, whose
``retry_after`` says when to try again: the caller keeps the work. An answer the
contract does not allow raises :class:`~lifecyclegraph.core.errors.SourceProtocolError`.

>>> import asyncio, httpx
>>> def registry(request):
...     return httpx.Response(200, json={"id": "ranking-model"}, headers={"ETag": '"v1"'})
>>> async def main():
...     settings = SourceSettings("registry", "http://registry.test")
...     async with SourceClient(settings, transport=httpx.MockTransport(registry)) as client:
...         first = await client.get("/api/v1/models/ranking-model")
...         again = await client.get("/api/v1/models/ranking-model")
...         return first, again, client.stats
>>> first, again, stats = asyncio.run(main())
>>> first.status, first.body, first.etag, first.from_cache
(200, {'id': 'ranking-model'}, '"v1"', False)
>>> again.from_cache, stats.requests, stats.cache_hits
(True, 1, 1)
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

from lifecyclegraph.core.errors import SourceProtocolError, SourceUnavailable
from lifecyclegraph.providers import freshness
from lifecyclegraph.providers.http.breaker import BreakerState, CircuitBreaker
from lifecyclegraph.providers.http.cache import CachedResponse, CacheKey, ResponseCache, cache_key
from lifecyclegraph.providers.http.clock import Clock, SystemClock
from lifecyclegraph.providers.http.coalesce import SingleFlight
from lifecyclegraph.providers.http.ratelimit import RateLimiter
from lifecyclegraph.providers.http.retry import (
    backoff_ceiling,
    backoff_delay,
    is_retryable_status,
    parse_retry_after,
)
from lifecyclegraph.providers.http.settings import SourceSettings, redact_url
from lifecyclegraph.providers.http.transport import Answer, HttpxWire, PoolWire

__all__ = ["ClientStats", "Fetched", "SourceClient"]

_log = logging.getLogger("lifecyclegraph.hydration")


@dataclass(frozen=True)
class Fetched:
    """What a source said about one object.

    Attributes:
        status: ``200`` (also when served from the cache or confirmed by a ``304``)
            or ``404`` (the object does not exist, or no longer).
        body: the JSON object for ``200``; ``None`` for ``404``. Each caller gets its
            own copy.
        etag: the source's ``ETag`` for this state, if it gave one.
        from_cache: ``True`` if no request was made, or the source answered ``304``.
        fetched_at: when the source confirmed this state (UTC): the observation time.
    """

    status: int
    body: dict[str, Any] | None
    etag: str | None
    from_cache: bool
    fetched_at: datetime


@dataclass(frozen=True)
class ClientStats:
    """What a client has done so far, for ``lifecyclegraph status`` and reports.

    Attributes:
        platform_id: the source.
        requests: attempts sent to the source (first tries, retries and revalidations).
        retries: attempts after a failed one.
        rate_limited: ``429`` answers.
        server_errors: ``5xx`` answers.
        timeouts: attempts with no full answer within ``timeout`` seconds.
        connection_errors: attempts that failed to connect, send or read.
        not_modified: ``304`` answers (a cached answer confirmed).
        cache_hits: ``get`` calls answered from the cache with no request.
        stale_for_event: ``get`` calls that found a young cached answer asked for
            before the event that started their hydration, and asked again.
        coalesced: ``get`` calls that shared a request already in flight.
        protocol_errors: answers the contract does not allow.
        failed: requests given up after their attempts (``SourceUnavailable``).
        refused: requests not sent because the circuit was open or the source had
            asked for a long pause (``SourceUnavailable`` at once).
        breaker_state: ``closed``, ``open`` or ``half-open``.
        breaker_openings: how many times the circuit has opened.
    """

    platform_id: str
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    timeouts: int = 0
    connection_errors: int = 0
    not_modified: int = 0
    cache_hits: int = 0
    stale_for_event: int = 0
    coalesced: int = 0
    protocol_errors: int = 0
    failed: int = 0
    refused: int = 0
    breaker_state: BreakerState = BreakerState.CLOSED
    breaker_openings: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain JSON-ready values.

        >>> ClientStats("registry").as_dict()["breaker_state"]
        'closed'
        """
        values = asdict(self)
        values["breaker_state"] = str(self.breaker_state)
        return values


class SourceClient:
    """The HTTP client of one source system; see the module documentation.

    Args:
        settings: the source's settings.
        transport: the httpx transport to use instead of the network
            (``httpx.MockTransport`` in tests).
        clock: the clock to pace, wait and date with (default: the system clocks).
        rng: the random numbers for back-off jitter (default: a fresh ``Random``).

    Use it as an async context manager, or call :meth:`aclose` when done.
    """

    def __init__(
        self,
        settings: SourceSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._rng = rng if rng is not None else random.Random()
        headers = {"Accept": "application/json", "User-Agent": "lifecyclegraph"}
        if settings.auth_header is not None:
            headers["Authorization"] = settings.auth_header.get_secret_value()
        self._wire: PoolWire | HttpxWire = (
            PoolWire(settings.url, headers, settings.timeout, max_idle=settings.concurrency)
            if transport is None
            else HttpxWire(settings.url, headers, settings.timeout, settings.concurrency, transport)
        )
        self._display_base = redact_url(settings.url).rstrip("/")  # for messages
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._limiter = RateLimiter(settings.rate_limit, self._clock)
        self._breaker = CircuitBreaker(
            settings.breaker_threshold, settings.breaker_cooldown, self._clock
        )
        self._cache = ResponseCache(settings.cache_ttl, self._clock)
        self._flights: SingleFlight[Fetched] = SingleFlight()
        self._counts: Counter[str] = Counter()
        self._closed = False

    def __repr__(self) -> str:
        return f"<SourceClient {self.settings.platform_id!r} {redact_url(self.settings.url)}>"

    async def __aenter__(self) -> SourceClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the requests in flight and close the connections. Closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        await self._flights.cancel_all()
        await self._wire.aclose()

    @property
    def stats(self) -> ClientStats:
        """A snapshot of what the client has done so far."""
        return ClientStats(
            self.settings.platform_id,
            **self._counts,
            breaker_state=self._breaker.state,
            breaker_openings=self._breaker.openings,
        )

    async def get(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        not_before: datetime | None = None,
    ) -> Fetched:
        """The current state of the object at ``path`` (under the source's base URL).

        Args:
            path: the path under the base URL, starting with ``/``, its ids already
                percent-encoded (``/api/v1/datasets/raw%2Fevents``).
            params: query parameters (``{"email": "alice@example.com"}``).
            not_before: answer only with a state the source gave to a request sent at
                or after this time (UTC): a younger cached answer asked for earlier is
                revalidated, a request in flight sent earlier is not joined. Default:
                the bound of the current hydration
                (:func:`lifecyclegraph.providers.freshness.required`), usually none.

        Returns:
            The state, with ``status`` ``200`` or ``404``.

        Raises:
            SourceUnavailable: the source cannot answer now; try again after
                ``retry_after`` seconds.
            SourceProtocolError: the source answered something its contract does not
                allow; retrying will not help.
            ValueError: ``path`` is not a path (it must start with one ``/``), or it
                holds a ``.`` or ``..`` segment, which servers remove (RFC 3986,
                5.2.4): an id is encoded with :func:`lifecyclegraph.core.uris.path_segment`.
            RuntimeError: the client is closed, or was closed while this request ran.
        """
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        if not path.startswith("/") or path.startswith("//"):
            raise ValueError(f"a request path starts with a single '/', not {path[:40]!r}")
        if any(part in (".", "..") for part in path.split("/")):
            raise ValueError(
                f"the request path {path[:80]!r} holds a '.' or '..' segment, which would "
                "address another resource; encode ids with lifecyclegraph.core.uris.path_segment"
            )
        bound = not_before if not_before is not None else freshness.required()
        key = cache_key(path, params)
        entry = self._cache.get(key)
        if entry is not None and self._cache.is_fresh(entry, bound):
            self._counts["cache_hits"] += 1
            return Fetched(200, _copy_json(entry.body), entry.etag, True, entry.fetched_at)
        if entry is not None and bound is not None and self._cache.is_fresh(entry):
            self._counts["stale_for_event"] += 1  # young, but asked for before the event
        outcome, joined = self._flights.join(
            key, lambda: self._load(key, entry), stamp=self._clock.now(), not_before=bound
        )
        if joined:
            self._counts["coalesced"] += 1
        try:
            fetched = await outcome
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._closed and current is not None and not current.cancelling():
                raise RuntimeError(
                    f"{self!r} was closed while this request was in flight"
                ) from None
            raise
        return replace(fetched, body=_copy_json(fetched.body))

    async def _load(self, key: CacheKey, entry: CachedResponse | None) -> Fetched:
        """Ask the source, with retries, until it answers or the request is given up."""
        path, params = key[0], dict(key[1])
        url = self._display_base + path + (f"?{urlencode(params)}" if params else "")
        etag = entry.etag if entry is not None else None
        attempts = 0
        while True:
            self._refuse_if_blocked(url)
            async with self._slots, self._limiter.turn():
                self._refuse_if_blocked(url)
                trial = self._breaker.enter()
                sent_at = self._clock.now()
                try:
                    response, problem = await self._attempt(path, params, etag, attempts, url)
                except SourceProtocolError:
                    self._succeeded(trial)  # an answer, if a bad one: the source is there
                    raise
                except BaseException:
                    self._breaker.abandoned(trial=trial)
                    raise
            attempts += 1
            if response is not None and not is_retryable_status(response.status):
                self._succeeded(trial)
                return self._answer(key, entry, response, url, sent_at)

            retry_after = None
            if response is not None:
                retry_after = parse_retry_after(
                    response.headers.get("retry-after"), self._clock.now()
                )
            if retry_after is not None:
                self._limiter.hold(retry_after)
            too_long = retry_after is not None and retry_after > self.settings.backoff_max
            if trial or too_long or attempts > self.settings.max_retries:
                self._failed(trial, retry_after or 0.0)
                raise self._given_up(url, attempts, problem, retry_after, trial=trial)
            delay = backoff_delay(
                attempts,
                base=self.settings.backoff_base,
                cap=self.settings.backoff_max,
                rng=self._rng,
            )
            delay = max(delay, retry_after or 0.0)
            _log.debug(
                "%s: GET %s: %s; retry %d of %d in %.3f s",
                self.settings.platform_id,
                url,
                problem,
                attempts,
                self.settings.max_retries,
                delay,
            )
            await self._clock.sleep(delay)

    async def _attempt(
        self, path: str, params: dict[str, str], etag: str | None, attempts: int, url: str
    ) -> tuple[Answer | None, str]:
        """Send one request: the response (``None`` if none came) and what went wrong."""
        self._counts["requests"] += 1
        if attempts:
            self._counts["retries"] += 1
        headers = {"If-None-Match": etag} if etag is not None else None
        try:
            async with asyncio.timeout(self.settings.timeout):
                response = await self._wire.get(path, params, headers)
        except (TimeoutError, httpx.TimeoutException):
            self._counts["timeouts"] += 1
            return None, f"no answer within {self.settings.timeout:g} s"
        except httpx.DecodingError as error:  # a body its Content-Encoding does not decode
            raise self._protocol_error(
                f"GET {url} answered a body that does not decode ({error})", url, 200
            ) from error
        except httpx.TransportError as error:
            self._counts["connection_errors"] += 1
            return None, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        status = response.status
        if status == httpx.codes.TOO_MANY_REQUESTS:
            self._counts["rate_limited"] += 1
        elif 500 <= status <= 599:
            self._counts["server_errors"] += 1
        return response, f"{status} {response.reason}".rstrip()

    def _answer(
        self,
        key: CacheKey,
        entry: CachedResponse | None,
        response: Answer,
        url: str,
        sent_at: datetime,
    ) -> Fetched:
        """Turn a final answer (to a request sent at ``sent_at``) into a :class:`Fetched`,
        keeping the cache in step."""
        status = response.status
        now = self._clock.now()
        etag = response.headers.get("etag")
        if status == httpx.codes.OK:
            body = self._json_object(response, url)
            self._cache.put(key, body, etag, now, requested_at=sent_at)
            return Fetched(200, body, etag, False, now)
        if status == httpx.codes.NOT_MODIFIED and entry is not None:
            self._counts["not_modified"] += 1
            entry = self._cache.confirm(key, entry, etag, now, requested_at=sent_at)
            return Fetched(200, entry.body, entry.etag, True, now)
        if status == httpx.codes.NOT_FOUND:
            self._cache.evict(key, requested_at=sent_at)
            return Fetched(404, None, None, False, now)
        expected = "200, 304 or 404" if entry is not None else "200 or 404"
        answered = f"{status} {response.reason}".rstrip()
        raise self._protocol_error(
            f"GET {url} answered {answered}, which the contract does not allow "
            f"(expected {expected}; 429 and 5xx are retried)",
            url,
            status,
        )

    def _json_object(self, response: Answer, url: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
            raise self._protocol_error(
                f"GET {url} answered 200 with a body that is not JSON ({error})", url, 200
            ) from error
        if not isinstance(body, dict):
            kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
            kind = kinds.get(type(body), "a number")
            raise self._protocol_error(
                f"GET {url} answered 200 with {kind}, not a JSON object", url, 200
            )
        return body

    def _protocol_error(self, message: str, url: str, status: int) -> SourceProtocolError:
        self._counts["protocol_errors"] += 1
        return SourceProtocolError(
            f"source {self.settings.platform_id!r}: {message}",
            source=self.settings.platform_id,
            url=url,
            status=status,
        )

    def _refuse_if_blocked(self, url: str) -> None:
        """Raise at once if the circuit is open or the source asked for a long pause."""
        blocked = self._breaker.blocked_for()
        if blocked > 0:
            if self._breaker.state is BreakerState.HALF_OPEN:
                why = "the circuit is half-open and its one trial request is in flight"
            else:
                why = (
                    f"the circuit is open after {self._breaker.consecutive_failures} "
                    "consecutive failed requests"
                )
            raise self._unavailable(f"{why}; GET {url} was not sent", url, blocked, "refused")
        held = self._limiter.held_for()
        if held > self.settings.backoff_max:
            raise self._unavailable(
                f"the source asked for a pause (Retry-After) of {held:.1f} s more, longer than "
                f"backoff_max ({self.settings.backoff_max:g} s); GET {url} was not sent",
                url,
                held,
                "refused",
            )

    def _given_up(
        self, url: str, attempts: int, problem: str, retry_after: float | None, *, trial: bool
    ) -> SourceUnavailable:
        if trial:
            message = (
                f"GET {url}, the trial request after the circuit's cooldown, failed ({problem})"
            )
        elif retry_after is not None and retry_after > self.settings.backoff_max:
            message = (
                f"GET {url} answered {problem} asking for a pause of {retry_after:g} s, "
                f"longer than backoff_max ({self.settings.backoff_max:g} s)"
            )
        else:
            times = "once" if attempts == 1 else f"{attempts} times"
            message = f"GET {url} failed {times} (last: {problem})"
        hint = max(
            self._breaker.blocked_for(),
            self._limiter.held_for(),
            backoff_ceiling(
                attempts + 1, base=self.settings.backoff_base, cap=self.settings.backoff_max
            ),
        )
        return self._unavailable(message, url, hint, "failed")

    def _unavailable(
        self, message: str, url: str, retry_after: float, count: str
    ) -> SourceUnavailable:
        self._counts[count] += 1
        return SourceUnavailable(
            f"source {self.settings.platform_id!r}: {message}; try again in {retry_after:.1f} s",
            source=self.settings.platform_id,
            url=url,
            retry_after=retry_after,
        )

    def _succeeded(self, trial: bool) -> None:
        if trial:
            _log.info("%s: the trial request succeeded; circuit closed", self.settings.platform_id)
        self._breaker.succeeded(trial=trial)

    def _failed(self, trial: bool, hold: float) -> None:
        openings = self._breaker.openings
        self._breaker.failed(trial=trial, hold=hold)
        if self._breaker.openings > openings:
            _log.warning(
                "%s: circuit open after %d consecutive failed requests; no request for %.1f s",
                self.settings.platform_id,
                self._breaker.consecutive_failures,
                self._breaker.blocked_for(),
            )


def _copy_json(value: Any) -> Any:
    """A deep copy of a parsed JSON value (its scalars are immutable): several times
    cheaper than ``copy.deepcopy``.

    >>> body = {"a": [1, {"b": None}]}
    >>> copied = _copy_json(body)
    >>> copied == body, copied["a"] is body["a"], copied["a"][1] is body["a"][1]
    (True, False, False)
    """
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    return value
