"""The hydration client against scripted sources (httpx.MockTransport), in virtual time.

Every test runs on a virtual clock (see ``virtual_time.py``): waits of seconds take
no real time, and each request is stamped with the virtual time it reached the
source, so pacing, back-off and cooldowns are measured exactly.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import re
from collections.abc import Callable
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from virtual_time import EPOCH, VirtualClock, virtual_time

from lifecyclegraph.core.config import ClientSettings, Config
from lifecyclegraph.core.errors import (
    ConfigError,
    LifecycleGraphError,
    SourceError,
    SourceProtocolError,
    SourceUnavailable,
)
from lifecyclegraph.providers import freshness
from lifecyclegraph.providers.http import BreakerState, Fetched, SourceClient, SourceSettings
from lifecyclegraph.providers.http.ratelimit import RateLimiter, max_in_window
from lifecyclegraph.providers.http.retry import backoff_ceiling, backoff_delay

BASE = "http://sources.test/registry"
MODEL = "/api/v1/models/ranking-model"
SECRET = "Bearer s3cr3t-t0ken"

Respond = Callable[[httpx.Request], Any]


def ok(request: httpx.Request, **headers: str) -> httpx.Response:
    return httpx.Response(200, json={"path": request.url.path}, headers=headers)


class Source:
    """A scripted source: answers with ``respond`` and records when each request arrived.

    ``latency`` is the time the source takes to answer; ``transit(n)`` the time the
    n-th request (from 0) spends on the network before the source receives it.
    """

    def __init__(
        self,
        respond: Respond = ok,
        latency: float = 0.0,
        transit: Callable[[int], float] | None = None,
    ) -> None:
        self.respond = respond
        self.latency = latency
        self.transit = transit
        self.sent = 0
        self.requests: list[httpx.Request] = []
        self.times: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        if self.transit is not None:
            await asyncio.sleep(self.transit(self.sent - 1))
        self.requests.append(request)
        self.times.append(asyncio.get_running_loop().time())
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            response = self.respond(request)
            if inspect.isawaitable(response):
                response = await response
            return response
        finally:
            self.in_flight -= 1

    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.times, self.times[1:], strict=False)]


def scripted(*answers: Any) -> Respond:
    """Answer with each of ``answers`` in turn, then with the last one forever.

    An answer is a status (``200`` answers a JSON object), a response, or an exception
    class to raise (``httpx.ConnectError``).
    """
    queue = list(answers)

    def respond(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, type) and issubclass(answer, Exception):
            raise answer("scripted failure", request=request)
        if isinstance(answer, httpx.Response):
            return answer
        if answer == 200:
            return ok(request)
        return httpx.Response(answer)

    return respond


def make_client(source: Source, *, seed: int = 0, **overrides: Any) -> SourceClient:
    options: dict[str, Any] = {"auth_header": SECRET} | overrides
    return SourceClient(
        SourceSettings("registry", BASE, **options),
        transport=httpx.MockTransport(source),
        clock=VirtualClock(),
        rng=random.Random(seed),
    )


def now() -> float:
    return asyncio.get_running_loop().time()


# --- answers ----------------------------------------------------------------------


@virtual_time
async def test_get_returns_the_json_object_on_200():
    source = Source(lambda r: httpx.Response(200, json={"id": "m"}, headers={"ETag": '"v1"'}))
    async with make_client(source) as client:
        fetched = await client.get(MODEL)
    assert fetched == Fetched(200, {"id": "m"}, '"v1"', False, EPOCH)


@virtual_time
async def test_get_returns_404_as_a_result_not_an_error():
    source = Source(scripted(404))
    async with make_client(source) as client:
        fetched = await client.get(MODEL)
        assert (fetched.status, fetched.body, fetched.from_cache) == (404, None, False)
        assert client.stats.requests == 1
        assert client.stats.failed == 0


@virtual_time
async def test_get_sends_path_params_and_auth_header_under_the_base_url():
    source = Source()
    async with make_client(source) as client:
        await client.get("/api/v1/users", {"email": "alice@example.com"})
        await client.get("/api/v1/datasets/raw%2Fevents")
    first, second = source.requests
    assert str(first.url) == f"{BASE}/api/v1/users?email=alice%40example.com"
    assert first.headers["Authorization"] == SECRET
    assert first.headers["Accept"] == "application/json"
    assert second.url.raw_path == b"/registry/api/v1/datasets/raw%2Fevents"


@pytest.mark.parametrize("path", ["api/v1/models/x", "//evil.test/x", "http://evil.test/x"])
@virtual_time
async def test_get_rejects_a_path_that_could_leave_the_source(path):
    source = Source()
    async with make_client(source) as client:
        with pytest.raises(ValueError, match="starts with a single '/'"):
            await client.get(path)
    assert source.requests == []


@pytest.mark.parametrize(
    "path", ["/api/v1/models/..", "/api/v1/models/.", "/api/v1/../admin", "/./api/v1/models/x"]
)
@virtual_time
async def test_get_rejects_a_path_with_dot_segments_that_would_name_another_resource(path):
    source = Source()
    async with make_client(source) as client:
        with pytest.raises(ValueError, match="path_segment"):
            await client.get(path)
        await client.get("/api/v1/models/%2E%2E")  # the id '..', encoded, is fine
    assert [r.url.raw_path for r in source.requests] == [b"/registry/api/v1/models/%2E%2E"]


@pytest.mark.parametrize("status", [400, 401, 403, 409, 422])
@virtual_time
async def test_get_raises_protocol_error_without_retrying_on_4xx(status):
    source = Source(scripted(status))
    async with make_client(source) as client:
        with pytest.raises(SourceProtocolError) as caught:
            await client.get(MODEL)
        assert client.stats.requests == 1
        assert client.stats.protocol_errors == 1
    assert caught.value.status == status
    assert caught.value.source == "registry"
    assert caught.value.url == BASE + MODEL
    assert f"answered {status} " in str(caught.value)
    assert "contract does not allow" in str(caught.value)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"<html>Bad gateway</html>", "not JSON"),
        (b'[{"id": "m"}]', "an array, not a JSON object"),
        (b"null", "null, not a JSON object"),
        (b'"m"', "a string, not a JSON object"),
        (b"\xff\xfe{", "not JSON"),
    ],
)
@virtual_time
async def test_get_raises_protocol_error_on_a_200_body_that_is_not_a_json_object(body, says):
    source = Source(lambda r: httpx.Response(200, content=body))
    async with make_client(source) as client:
        with pytest.raises(SourceProtocolError, match=says) as caught:
            await client.get(MODEL)
        assert client.stats.requests == 1
    assert caught.value.status == 200


@virtual_time
async def test_get_raises_protocol_error_on_a_body_that_does_not_decode():
    def garbled() -> httpx.Response:
        stream = httpx.ByteStream(b"not gzip")
        return httpx.Response(200, stream=stream, headers={"Content-Encoding": "gzip"})

    answers = iter([httpx.Response(503)] * 2 + [garbled()] + [httpx.Response(503)] * 2)
    source = Source(lambda request: next(answers))
    async with make_client(source, breaker_threshold=2, max_retries=1) as client:
        with pytest.raises(SourceUnavailable):
            await client.get("/api/v1/models/a")
        with pytest.raises(SourceProtocolError, match="does not decode"):
            await client.get("/api/v1/models/b")
        with pytest.raises(SourceUnavailable):
            await client.get("/api/v1/models/c")
        assert client.stats.requests == 5
        # the bad answer showed the source was there: two failures, but not in a row
        assert client.stats.breaker_state is BreakerState.CLOSED


@pytest.mark.parametrize("status", [201, 204, 302, 304])
@virtual_time
async def test_get_raises_protocol_error_on_a_status_the_contract_does_not_have(status):
    source = Source(scripted(status))  # 304 without If-None-Match is not allowed either
    async with make_client(source) as client:
        with pytest.raises(SourceProtocolError, match=f"answered {status}"):
            await client.get(MODEL)
        assert client.stats.requests == 1


# --- retries ----------------------------------------------------------------------


@virtual_time
async def test_get_retries_5xx_then_returns_the_success():
    source = Source(scripted(500, 502, 503, 200))
    async with make_client(source) as client:
        fetched = await client.get(MODEL)
        stats = client.stats
    assert fetched.status == 200
    assert (stats.requests, stats.retries, stats.server_errors, stats.failed) == (4, 3, 3, 0)
    assert stats.breaker_state is BreakerState.CLOSED


@virtual_time
async def test_get_raises_source_unavailable_when_retries_are_exhausted():
    source = Source(scripted(503))
    async with make_client(source, max_retries=3) as client:
        with pytest.raises(SourceUnavailable) as caught:
            await client.get(MODEL)
        assert client.stats.failed == 1
    error = caught.value
    assert len(source.requests) == 4
    assert isinstance(error, SourceError | OSError | LifecycleGraphError)
    assert (error.source, error.url) == ("registry", BASE + MODEL)
    assert "failed 4 times (last: 503 Service Unavailable)" in str(error)
    assert error.retry_after == pytest.approx(backoff_ceiling(5, base=0.1, cap=10.0))


@virtual_time
async def test_get_retries_an_attempt_that_outlasts_the_timeout():
    async def slow_then_fast(request: httpx.Request) -> httpx.Response:
        if len(source.requests) == 1:
            await asyncio.sleep(60)
        return ok(request)

    source = Source(slow_then_fast)
    async with make_client(source, timeout=5.0) as client:
        fetched = await client.get(MODEL)
        assert (client.stats.timeouts, client.stats.retries) == (1, 1)
    assert fetched.status == 200
    assert source.gaps()[0] >= 5.0


@pytest.mark.parametrize(
    ("error", "counter"),
    [
        (httpx.ReadTimeout, "timeouts"),
        (httpx.ConnectTimeout, "timeouts"),
        (httpx.ConnectError, "connection_errors"),
        (httpx.RemoteProtocolError, "connection_errors"),
    ],
)
@virtual_time
async def test_get_retries_transport_errors(error, counter):
    source = Source(scripted(error, error, 200))
    async with make_client(source) as client:
        fetched = await client.get(MODEL)
        assert getattr(client.stats, counter) == 2
    assert fetched.status == 200


@virtual_time
async def test_retry_waits_at_least_the_retry_after_seconds():
    source = Source(scripted(httpx.Response(429, headers={"Retry-After": "2"}), 200))
    async with make_client(source, backoff_base=0.01) as client:
        assert (await client.get(MODEL)).status == 200
        assert client.stats.rate_limited == 1
    assert source.gaps()[0] >= 2.0


@virtual_time
async def test_retry_waits_until_the_retry_after_http_date():
    clock = VirtualClock()
    until = clock.now().replace(microsecond=0).timestamp() + 4
    date = format_datetime(EPOCH.fromtimestamp(until, EPOCH.tzinfo), usegmt=True)
    source = Source(scripted(httpx.Response(503, headers={"Retry-After": date}), 200))
    async with make_client(source, backoff_base=0.01) as client:
        assert (await client.get(MODEL)).status == 200
    second = EPOCH.timestamp() + (source.times[1] - source.times[0])
    assert second >= until
    assert source.gaps()[0] < 4.5


@virtual_time
async def test_retry_after_holds_every_request_to_the_source():
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/a") and len(source.requests) == 1:
            return httpx.Response(429, headers={"Retry-After": "3"})
        return ok(request)

    source = Source(respond)
    async with make_client(source) as client:
        first = asyncio.create_task(client.get("/api/v1/models/a"))
        await asyncio.sleep(0.5)
        await client.get("/api/v1/models/b")
        await first
    arrived = {
        r.url.path: t for t, r in reversed(list(zip(source.times, source.requests, strict=True)))
    }
    assert arrived["/registry/api/v1/models/b"] - arrived["/registry/api/v1/models/a"] >= 3.0


@virtual_time
async def test_retry_after_longer_than_backoff_max_hands_the_work_back_at_once():
    source = Source(scripted(httpx.Response(429, headers={"Retry-After": "120"})))
    async with make_client(source, backoff_max=10.0) as client:
        with pytest.raises(SourceUnavailable, match="pause of 120 s") as caught:
            await client.get(MODEL)
        assert caught.value.retry_after >= 120
        with pytest.raises(SourceUnavailable, match="was not sent") as refused:
            await client.get("/api/v1/models/other")
        assert refused.value.retry_after == pytest.approx(120)
        assert (client.stats.requests, client.stats.failed, client.stats.refused) == (1, 1, 1)
    assert now() - source.times[0] < 1.0


def test_backoff_delay_is_uniform_up_to_a_ceiling_that_doubles():
    rng = random.Random(42)
    ceilings = [backoff_ceiling(n, base=0.1, cap=5.0) for n in range(1, 10)]
    assert ceilings == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])
    for retry, ceiling in enumerate(ceilings, start=1):
        waits = [backoff_delay(retry, base=0.1, cap=5.0, rng=rng) for _ in range(2000)]
        assert all(0.0 <= wait <= ceiling for wait in waits)
        assert max(waits) > 0.95 * ceiling  # the whole range is used: full jitter
        assert sum(waits) / len(waits) == pytest.approx(ceiling / 2, rel=0.1)


@pytest.mark.parametrize("seed", [1, 2, 3])
@virtual_time
async def test_backoff_gaps_between_attempts_stay_within_exponential_bounds(seed):
    source = Source(scripted(503))
    async with make_client(source, seed=seed, rate_limit=1000, max_retries=8) as client:
        with pytest.raises(SourceUnavailable):
            await client.get(MODEL)
    pacing = 1 / 1000  # the even spacing of turns at this rate
    gaps = source.gaps()
    assert len(gaps) == 8
    for retry, gap in enumerate(gaps, start=1):
        assert 0.0 <= gap <= backoff_ceiling(retry, base=0.1, cap=10.0) + pacing + 1e-9
    # the same seed gives the same waits; jitter means they are not the ceilings
    expected = random.Random(seed)
    waits = [backoff_delay(n, base=0.1, cap=10.0, rng=expected) for n in range(1, 9)]
    assert gaps == pytest.approx([max(w, pacing) for w in waits], abs=1e-6)


# --- coalescing and the cache ------------------------------------------------------


@virtual_time
async def test_concurrent_gets_of_the_same_path_cost_one_request():
    source = Source(latency=0.2)
    async with make_client(source) as client:
        answers = await asyncio.gather(*(client.get(MODEL) for _ in range(20)))
        assert client.stats.coalesced == 19
    assert len(source.requests) == 1
    assert all(answer == answers[0] for answer in answers)
    assert answers[0].from_cache is False


@virtual_time
async def test_concurrent_gets_with_different_params_are_separate_requests():
    source = Source(latency=0.2)
    async with make_client(source) as client:
        await asyncio.gather(
            client.get("/api/v1/users", {"email": "a@example.com"}),
            client.get("/api/v1/users", {"email": "b@example.com"}),
            client.get("/api/v1/users", {"email": "a@example.com"}),
        )
    assert len(source.requests) == 2


@virtual_time
async def test_coalesced_gets_all_receive_the_failure():
    source = Source(scripted(503), latency=0.1)
    async with make_client(source, max_retries=2) as client:
        outcomes = await asyncio.gather(
            *(client.get(MODEL) for _ in range(10)), return_exceptions=True
        )
    assert all(isinstance(outcome, SourceUnavailable) for outcome in outcomes)
    assert len(source.requests) == 3


@virtual_time
async def test_cancelling_one_caller_leaves_the_shared_request_to_the_others():
    source = Source(latency=1.0)
    async with make_client(source) as client:
        first = asyncio.create_task(client.get(MODEL))
        second = asyncio.create_task(client.get(MODEL))
        await asyncio.sleep(0.5)
        first.cancel()
        assert (await second).status == 200
        with pytest.raises(asyncio.CancelledError):
            await first
    assert len(source.requests) == 1


@virtual_time
async def test_get_within_cache_ttl_makes_no_request():
    source = Source()
    async with make_client(source, cache_ttl=1.0) as client:
        first = await client.get(MODEL)
        await asyncio.sleep(0.9)
        again = await client.get(MODEL)
        assert client.stats.cache_hits == 1
    assert len(source.requests) == 1
    assert again.from_cache is True
    assert again.body == first.body
    assert again.fetched_at == first.fetched_at  # the source confirmed it then, not now


@virtual_time
async def test_get_after_cache_ttl_revalidates_with_if_none_match():
    def respond(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304, headers={"ETag": '"v1"'})
        return httpx.Response(200, json={"v": 1}, headers={"ETag": '"v1"'})

    source = Source(respond)
    async with make_client(source, cache_ttl=1.0) as client:
        first = await client.get(MODEL)
        await asyncio.sleep(1.5)
        again = await client.get(MODEL)
        assert client.stats.not_modified == 1
        assert (await client.get(MODEL)).fetched_at == again.fetched_at  # young again
        assert len(source.requests) == 2
    assert "If-None-Match" not in source.requests[0].headers
    assert source.requests[1].headers["If-None-Match"] == '"v1"'
    assert (again.status, again.body, again.etag, again.from_cache) == (200, {"v": 1}, '"v1"', True)
    assert (again.fetched_at - first.fetched_at).total_seconds() == pytest.approx(1.5)


@virtual_time
async def test_get_after_cache_ttl_returns_the_new_state_when_it_changed():
    versions = iter([1, 2])

    def respond(request: httpx.Request) -> httpx.Response:
        v = next(versions)
        return httpx.Response(200, json={"v": v}, headers={"ETag": f'"v{v}"'})

    source = Source(respond)
    async with make_client(source, cache_ttl=1.0) as client:
        await client.get(MODEL)
        await asyncio.sleep(2)
        changed = await client.get(MODEL)
    assert (changed.body, changed.etag, changed.from_cache) == ({"v": 2}, '"v2"', False)


@virtual_time
async def test_get_returns_a_copy_the_caller_may_change():
    source = Source(lambda r: httpx.Response(200, json={"labels": [{"key": "team"}]}))
    async with make_client(source) as client:
        first = await client.get(MODEL)
        assert first.body is not None
        first.body["labels"].append({"key": "mine"})
        again = await client.get(MODEL)
    assert again.body == {"labels": [{"key": "team"}]}


@virtual_time
async def test_404_forgets_the_cached_object():
    source = Source(scripted(httpx.Response(200, json={}, headers={"ETag": '"v1"'}), 404))
    async with make_client(source, cache_ttl=1.0) as client:
        assert (await client.get(MODEL)).status == 200
        await asyncio.sleep(1.5)
        assert (await client.get(MODEL)).status == 404
        assert (await client.get(MODEL)).status == 404
    assert len(source.requests) == 3
    assert source.requests[1].headers["If-None-Match"] == '"v1"'
    assert "If-None-Match" not in source.requests[2].headers  # a 304 must not bring it back


# --- concurrency ------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 3, 8])
@virtual_time
async def test_requests_in_flight_never_exceed_concurrency(concurrency):
    source = Source(latency=0.5)
    async with make_client(source, concurrency=concurrency, rate_limit=1000) as client:
        await asyncio.gather(*(client.get(f"/api/v1/models/m{i}") for i in range(30)))
    assert len(source.requests) == 30
    assert source.max_in_flight == concurrency


# --- the circuit breaker ----------------------------------------------------------


async def fail_until_open(client: SourceClient, threshold: int) -> None:
    for i in range(threshold):
        with pytest.raises(SourceUnavailable, match="failed once"):
            await client.get(f"/api/v1/models/m{i}")


@virtual_time
async def test_breaker_opens_after_threshold_consecutive_failures():
    source = Source(scripted(503))
    async with make_client(source, max_retries=0, breaker_threshold=3) as client:
        await fail_until_open(client, 2)
        assert client.stats.breaker_state is BreakerState.CLOSED
        await fail_until_open(client, 1)
        assert client.stats.breaker_state is BreakerState.OPEN
        assert client.stats.breaker_openings == 1


@virtual_time
async def test_breaker_fails_fast_while_open_with_no_request():
    source = Source(scripted(503))
    async with make_client(source, max_retries=0, breaker_threshold=3) as client:
        await fail_until_open(client, 3)
        await asyncio.sleep(2.0)
        start = now()
        with pytest.raises(SourceUnavailable, match="circuit is open after 3") as caught:
            await client.get("/api/v1/models/other")
        assert now() == start
        assert caught.value.retry_after == pytest.approx(3.0)  # cooldown 5 s, 2 s gone
        assert client.stats.refused == 1
    assert len(source.requests) == 3


@virtual_time
async def test_breaker_half_opens_after_cooldown_and_closes_on_success():
    source = Source(scripted(503, 503, 503, 200))
    async with make_client(source, max_retries=0, breaker_threshold=3) as client:
        await fail_until_open(client, 3)
        await asyncio.sleep(5.0)
        assert client.stats.breaker_state is BreakerState.HALF_OPEN
        assert (await client.get(MODEL)).status == 200
        assert client.stats.breaker_state is BreakerState.CLOSED
        assert (await client.get("/api/v1/models/next")).status == 200
    assert len(source.requests) == 5


@virtual_time
async def test_breaker_reopens_when_the_trial_request_fails():
    source = Source(scripted(503))
    async with make_client(source, max_retries=5, breaker_threshold=1) as client:
        with pytest.raises(SourceUnavailable):
            await client.get(MODEL)
        assert len(source.requests) == 6
        await asyncio.sleep(5.0)
        with pytest.raises(SourceUnavailable, match="trial request") as caught:
            await client.get(MODEL)
        assert len(source.requests) == 7  # the trial is one attempt, no retries
        assert caught.value.retry_after == pytest.approx(5.0)
        assert client.stats.breaker_state is BreakerState.OPEN
        assert client.stats.breaker_openings == 2


@virtual_time
async def test_breaker_lets_one_trial_through_while_half_open():
    source = Source(scripted(503, 200), latency=0.5)
    async with make_client(source, max_retries=0, breaker_threshold=1) as client:
        await fail_until_open(client, 1)
        await asyncio.sleep(5.0)
        outcomes = await asyncio.gather(
            *(client.get(f"/api/v1/models/x{i}") for i in range(5)), return_exceptions=True
        )
    assert isinstance(outcomes[0], Fetched)
    assert all(isinstance(o, SourceUnavailable) for o in outcomes[1:])
    assert "half-open" in str(outcomes[1])
    assert len(source.requests) == 2


@virtual_time
async def test_breaker_stops_retries_in_progress_when_it_opens():
    source = Source(scripted(503), latency=0.01)
    async with make_client(source, max_retries=5, breaker_threshold=1) as client:
        outcomes = await asyncio.gather(
            client.get("/api/v1/models/a"),
            client.get("/api/v1/models/b"),
            return_exceptions=True,
        )
    assert all(isinstance(o, SourceUnavailable) for o in outcomes)
    # one request used all six attempts and opened the circuit; the other stopped then
    assert len(source.requests) < 12


@virtual_time
async def test_breaker_counts_neither_404_nor_protocol_errors_as_failures():
    source = Source(scripted(503, 404, 503, 401, 503, 503))
    async with make_client(source, max_retries=0, breaker_threshold=2) as client:
        for expected in (SourceUnavailable, Fetched, SourceUnavailable, SourceProtocolError):
            try:
                outcome: object = await client.get(f"/api/v1/models/m{len(source.requests)}")
            except SourceError as error:
                outcome = error
            assert isinstance(outcome, expected)
        assert client.stats.breaker_state is BreakerState.CLOSED
        await fail_until_open(client, 2)
        assert client.stats.breaker_state is BreakerState.OPEN


@virtual_time
async def test_breaker_open_still_serves_young_cached_answers():
    source = Source(scripted(200, 503))
    async with make_client(source, max_retries=0, breaker_threshold=1, cache_ttl=10) as client:
        await client.get(MODEL)
        with pytest.raises(SourceUnavailable):
            await client.get("/api/v1/models/other")
        assert client.stats.breaker_state is BreakerState.OPEN
        assert (await client.get(MODEL)).from_cache is True


# --- the rate ---------------------------------------------------------------------


@pytest.mark.parametrize("faults", [False, True])
@virtual_time
async def test_rate_is_never_exceeded_by_50_concurrent_gets(faults):
    failed: set[str] = set()

    def respond(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        index = int(path.rsplit("m", 1)[1])
        if faults and path not in failed and index % 3 == 0:
            failed.add(path)
            if index % 2:
                return httpx.Response(429, headers={"Retry-After": "1"})
            return httpx.Response(503)
        return ok(request)

    # the first requests open connections and reach the source late
    source = Source(respond, latency=0.02, transit=lambda n: 0.3 if n < 8 else 0.001)
    async with make_client(source, rate_limit=10, concurrency=8) as client:
        answers = await asyncio.gather(*(client.get(f"/api/v1/models/m{i}") for i in range(50)))
    assert all(answer.status == 200 for answer in answers)
    assert len(source.requests) == (67 if faults else 50)
    assert max_in_window(source.times) <= 10


@virtual_time
async def test_requests_are_spread_evenly_not_sent_in_bursts():
    source = Source(latency=0.02)
    async with make_client(source, rate_limit=10, concurrency=8) as client:
        await asyncio.gather(*(client.get(f"/api/v1/models/m{i}") for i in range(30)))
    assert min(source.gaps()) >= 1 / 10
    assert source.times[-1] - source.times[0] < 29 / 10 + 3 * 0.03  # and not much slower


# --- secrets ----------------------------------------------------------------------


@virtual_time
async def test_auth_header_never_shows_in_repr_errors_stats_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    source = Source(scripted(401, 503))
    shown: list[str] = []
    async with make_client(source, max_retries=1, breaker_threshold=1) as client:
        shown += [repr(client), str(client), repr(client.settings)]
        for path in ("/api/v1/a", "/api/v1/b", "/api/v1/c"):  # 401, exhausted, circuit open
            with pytest.raises(SourceError) as caught:
                await client.get(path)
            shown += [str(caught.value), repr(caught.value), str(vars(caught.value))]
        shown += [repr(client.stats), str(client.stats.as_dict())]
    assert source.requests[0].headers["Authorization"] == SECRET
    shown.append(caplog.text)
    assert "retry 1 of 1" in caplog.text  # the logs did record the retries
    assert not [text for text in shown if "s3cr3t" in text]


@virtual_time
async def test_settings_repr_hides_the_auth_header_and_url_credentials():
    settings = SourceSettings("registry", "https://bot:pa55@r.test/api", auth_header=SECRET)
    assert "auth_header=<redacted>" in repr(settings)
    assert "pa55" not in repr(settings)
    assert settings.auth_header is not None
    assert settings.auth_header.get_secret_value() == SECRET
    async with SourceClient(settings) as client:
        assert repr(client) == "<SourceClient 'registry' https://[secure]@r.test/api>"


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("rate_limit", 0, "sources.registry.rate_limit must be > 0, not 0"),
        ("concurrency", 2.5, "sources.registry.concurrency must be a whole number, not 2.5"),
        ("max_retries", -1, "sources.registry.max_retries must be >= 0, not -1"),
        ("timeout", float("nan"), "sources.registry.timeout must be > 0, not nan"),
        ("url", "ftp://r.test", "sources.registry.url must be an http:// or https:// URL"),
        ("timeout", float("inf"), "sources.registry.timeout must be a finite number, not inf"),
        ("backoff_base", 0, "sources.registry.backoff_base must be > 0, not 0"),
        ("rate", 5, "sources.registry.rate is not a setting"),
    ],
)
def test_settings_out_of_range_name_the_key(key, value, says):
    options = {"url": BASE} | {key: value}
    with pytest.raises(ConfigError, match=re.escape(says)):
        SourceSettings("registry", **options)


SETTING_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.sampled_from(["http://r.test/", "https://r.test/api", "ftp://r.test", "r.test"]),
)


@given(
    st.dictionaries(
        st.sampled_from([*ClientSettings.model_fields, "rate", "platform"]),
        SETTING_VALUES,
        max_size=5,
    )
)
def test_config_table_and_client_settings_accept_and_refuse_the_same_values(values):
    """The [sources.<id>] table and SourceSettings are one declaration: whatever one
    accepts the other accepts, with the same values; whatever one refuses, so does the
    other."""
    table = {"url": "http://r.test"} | values
    try:
        config = Config.from_dict({"sources": {"registry": table}})
    except ConfigError:
        with pytest.raises(ConfigError):
            SourceSettings("registry", **table)
        return
    settings = SourceSettings("registry", **config.sources["registry"].client_settings())
    assert settings.client_settings() == config.sources["registry"].client_settings()
    assert SourceSettings("registry", **table) == settings


# --- life cycle -------------------------------------------------------------------


@virtual_time
async def test_closing_the_client_fails_the_requests_in_flight_clearly():
    source = Source(latency=10.0)
    client = make_client(source)
    waiting = asyncio.create_task(client.get(MODEL))
    await asyncio.sleep(1.0)
    await client.aclose()
    with pytest.raises(RuntimeError, match="was closed while this request was in flight"):
        await waiting
    with pytest.raises(RuntimeError, match="is closed"):
        await client.get(MODEL)
    await client.aclose()  # twice is harmless


# --- properties -------------------------------------------------------------------

ATTEMPT = st.sampled_from(
    [200, 404, 429, 500, 502, 503, 504, httpx.ReadTimeout, httpx.ConnectError]
)


@settings(deadline=None, max_examples=150)
@given(answers=st.lists(ATTEMPT, min_size=1, max_size=10), max_retries=st.integers(0, 6))
@virtual_time
async def test_get_returns_the_first_answer_or_gives_up_after_max_retries_plus_one(
    answers, max_retries
):
    source = Source(scripted(*answers, 503))
    attempts = answers[: max_retries + 1]
    final = next((i for i, a in enumerate(attempts) if a in (200, 404)), None)
    async with make_client(source, max_retries=max_retries) as client:
        if final is None:
            with pytest.raises(SourceUnavailable):
                await client.get(MODEL)
            assert len(source.requests) == max_retries + 1
        else:
            fetched = await client.get(MODEL)
            assert fetched.status == answers[final]
            assert len(source.requests) == final + 1
        assert client.stats.requests == len(source.requests) <= max_retries + 1


@settings(deadline=None, max_examples=60)
@given(
    rate=st.floats(0.4, 40),
    arrivals=st.lists(st.floats(0, 5), min_size=1, max_size=40),
    transits=st.lists(st.floats(0, 0.5), min_size=1, max_size=40),
    faults=st.lists(st.sampled_from([200, 200, 429, 503]), min_size=1, max_size=10),
    concurrency=st.integers(1, 8),
)
@virtual_time
async def test_requests_never_exceed_the_rate_for_any_arrival_pattern(
    rate, arrivals, transits, faults, concurrency
):
    transit = lambda n: transits[n % len(transits)]  # noqa: E731
    source = Source(scripted(*faults, 200), latency=0.01, transit=transit)

    async def arrive(index: int, at: float) -> None:
        await asyncio.sleep(at)
        await client.get(f"/api/v1/models/m{index}")

    async with make_client(
        source, rate_limit=rate, concurrency=concurrency, backoff_max=1.0
    ) as client:
        await asyncio.gather(
            *(arrive(i, at) for i, at in enumerate(arrivals)), return_exceptions=True
        )
    if rate >= 1:
        assert max_in_window(source.times) <= rate
    else:
        assert max_in_window(source.times, window=1 / rate) <= 1


# --- freshness: an event's hydration reads nothing asked for before the event --------


class Versioned:
    """A source holding one object whose state changes: it reads the state when a
    request arrives, answers after that request's latency, and honours ETags."""

    def __init__(self, latencies: list[float] | None = None) -> None:
        self.version = 1
        self.latencies = latencies or [0.0]
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        version = self.version  # the state as the request reaches the source
        await asyncio.sleep(self.latencies[(len(self.requests) - 1) % len(self.latencies)])
        etag = f'"v{version}"'
        if request.headers.get("If-None-Match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(200, json={"v": version}, headers={"ETag": etag})


def versioned_client(source: Versioned, **overrides: Any) -> SourceClient:
    return SourceClient(
        SourceSettings("registry", BASE, **overrides),
        transport=httpx.MockTransport(source),
        clock=VirtualClock(),
        rng=random.Random(0),
    )


@virtual_time
async def test_get_not_before_revalidates_a_young_entry_asked_for_before_it():
    source = Versioned()
    async with versioned_client(source, cache_ttl=60.0) as client:
        assert (await client.get(MODEL)).body == {"v": 1}
        await asyncio.sleep(1)
        source.version = 2  # changed and announced within the TTL
        announced = VirtualClock().now()
        assert (await client.get(MODEL)).body == {"v": 1}  # no bound: the cache answers
        fresh = await client.get(MODEL, not_before=announced)
        assert client.stats.stale_for_event == 1
    assert fresh.body == {"v": 2} and fresh.from_cache is False
    assert source.requests[1].headers["If-None-Match"] == '"v1"'  # revalidated, not blind


@virtual_time
async def test_get_not_before_takes_an_entry_asked_for_after_it():
    source = Versioned()
    async with versioned_client(source, cache_ttl=60.0) as client:
        announced = VirtualClock().now()
        await asyncio.sleep(1)
        await client.get(MODEL)
        again = await client.get(MODEL, not_before=announced)
    assert again.from_cache is True and len(source.requests) == 1


@virtual_time
async def test_get_within_reading_after_uses_the_hydrations_bound():
    source = Versioned()
    async with versioned_client(source, cache_ttl=60.0) as client:
        await client.get(MODEL)
        await asyncio.sleep(1)
        source.version = 2
        with freshness.reading_after(VirtualClock().now()):
            fresh = await client.get(MODEL)
    assert fresh.body == {"v": 2}


@virtual_time
async def test_get_not_before_does_not_join_a_request_sent_before_it():
    source = Versioned(latencies=[2.0, 0.5])  # the older request answers last
    async with versioned_client(source, cache_ttl=60.0) as client:
        old = asyncio.ensure_future(client.get(MODEL))
        await asyncio.sleep(0.5)  # the old request reached the source and reads v1
        source.version = 2
        fresh = await client.get(MODEL, not_before=VirtualClock().now())
        assert fresh.body == {"v": 2}
        assert (await old).body == {"v": 1}  # its own answer, arriving after the fresh one
        kept = await client.get(MODEL)
    assert client.stats.coalesced == 0 and len(source.requests) == 2
    assert kept.body == {"v": 2} and kept.from_cache  # the late old answer did not replace it


EVENT_STEP = st.tuples(
    st.sampled_from(["change", "event", "read"]), st.floats(0, 2, allow_nan=False)
)


@settings(deadline=None, max_examples=150)
@given(
    steps=st.lists(EVENT_STEP, min_size=1, max_size=25),
    latencies=st.lists(st.floats(0, 3, allow_nan=False), min_size=1, max_size=8),
    cache_ttl=st.sampled_from([0.0, 0.5, 5.0, 600.0]),
)
@virtual_time
async def test_event_reads_are_never_older_than_their_event_for_any_interleaving(
    steps, latencies, cache_ttl
):
    source = Versioned(latencies)
    clock = VirtualClock()
    seen: list[tuple[int, int]] = []  # (version at the event, version read for it)
    # An event is accepted after the change it announces (it was sent after it): a
    # millisecond later here, as virtual time lets the two fall on one instant.
    later = 0.001

    async def step(kind: str, at: float) -> None:
        await asyncio.sleep(at)
        if kind == "change":
            source.version += 1
        elif kind == "event":  # the source announces its state; the event is accepted
            wanted = source.version
            await asyncio.sleep(later)
            fetched = await client.get(MODEL, not_before=clock.now())
            seen.append((wanted, fetched.body["v"]))
        else:  # reconcile or enrichment: any young answer will do
            fetched = await client.get(MODEL)
            assert fetched.body["v"] <= source.version

    async with versioned_client(source, cache_ttl=cache_ttl) as client:
        start = 0.0
        tasks = []
        for kind, gap in steps:
            start += gap
            tasks.append(asyncio.ensure_future(step(kind, start)))
        await asyncio.gather(*tasks)
        await asyncio.sleep(later)
        last = await client.get(MODEL, not_before=clock.now())  # the last change announced
    assert all(read >= wanted for wanted, read in seen), seen
    assert last.body == {"v": source.version}


# --- the documentation ------------------------------------------------------------


def test_docs_settings_table_lists_every_client_setting_with_its_default():
    text = (Path(__file__).parent.parent / "docs" / "hydration.md").read_text()
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", section, re.M)
    documented = {key: default.strip() for key, default in rows}
    expected = {
        name: "(required)" if field.is_required() else f"`{field.default!r}`"
        for name, field in ClientSettings.model_fields.items()
    }
    assert documented == expected  # names, order aside, and defaults: the one declaration


@given(
    rate=st.sampled_from([5.0, 100.0, 100_000.0]),
    work=st.lists(st.floats(min_value=0.0, max_value=0.2), min_size=1, max_size=400),
)
@example(rate=100_000.0, work=[0.1] * 300)  # 3.8 s of turns: 300 kept before, 96 now
@settings(max_examples=30, deadline=None)
def test_rate_limiter_remembers_one_window_of_turns_and_keeps_the_rate(rate, work):
    window = 1.0 if rate >= 1 else 1 / rate

    @virtual_time
    async def run() -> tuple[list[float], int]:
        limiter, clock, starts, most = RateLimiter(rate, VirtualClock()), VirtualClock(), [], 0

        async def one(seconds: float) -> None:
            nonlocal most
            async with limiter.turn():
                starts.append(clock.monotonic())
                most = max(most, limiter.remembered)
                await asyncio.sleep(seconds)

        for chunk in range(0, len(work), 8):  # eight in flight at a time
            await asyncio.gather(*(one(s) for s in work[chunk : chunk + 8]))
        return starts, most

    starts, most = run()
    assert max_in_window(starts, window) <= int(rate)
    # the turns of about one window (a turn is forgotten a window after it ended), not
    # every turn given
    assert most <= max_in_window(starts, window + 0.2 + 1e-6) + 8
