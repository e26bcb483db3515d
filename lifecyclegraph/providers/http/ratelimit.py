"""Pacing: the requests to one source never exceed its rate, as the source counts them.

The rate is a promise about what the *source* sees: no window of one second holds
more than ``rate`` requests (for a fractional rate, ``floor(rate)``; for a rate
below one, no window of ``1 / rate`` seconds holds more than one). The source sees
a request some time after the client sends it, and that delay varies: a request
that opens a new connection arrives later than one on a warm connection. Spacing
the sends alone cannot keep the promise. So each request holds its *turn* until its
answer has come back, and a new request may start only when the one ``rate``
turns before it ended a full window ago; the source received that one before it
answered, so both cannot fall in the same window, whatever the network did.

Within that bound the turns are also spread evenly, one every ``interval``
seconds, rather than sent in bursts. Every attempt takes a turn: first tries,
retries and revalidations alike. The source may also ask for a pause
(``Retry-After``): :meth:`RateLimiter.hold` stops every caller until then.

>>> RateLimiter(20, clock=None).interval  # and at most 20 in any second
0.05
>>> RateLimiter(2.5, clock=None).per_window  # at most 2 in any second
2
>>> RateLimiter(0.5, clock=None).window  # at most 1 in any 2 seconds
2.0
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from lifecyclegraph.providers.http.clock import Clock, SystemClock

__all__ = ["RateLimiter", "max_in_window"]


class _Turn:
    """One request's turn: from its start until its answer (or failure) came back."""

    def __init__(self) -> None:
        self.ended = asyncio.Event()
        self.ended_at = math.inf


class RateLimiter:
    """Gives out turns to send, first come first served, never more than the rate allows.

    Args:
        rate: the most requests per second (> 0).
        clock: the clock to read and sleep on (``None``: the system clock).

    Attributes:
        per_window: the most requests in any ``window``.
        window: seconds (1, or ``1 / rate`` for a rate below one).
        interval: seconds between the starts of two turns, at least.
    """

    def __init__(self, rate: float, clock: Clock | None) -> None:
        if not rate > 0:
            raise ValueError(f"the rate must be > 0, not {rate!r}")
        self.per_window, self.window = (math.floor(rate), 1.0) if rate >= 1 else (1, 1 / rate)
        self.interval = self.window / self.per_window
        self._clock = clock if clock is not None else SystemClock()
        self._recent: deque[_Turn] = deque(maxlen=self.per_window)
        self._last_start = -math.inf
        self._hold_until = -math.inf
        self._queue = asyncio.Lock()  # FIFO: callers get their turns in arrival order

    def hold(self, seconds: float) -> None:
        """Start nothing for ``seconds`` from now (a longer hold already set stays)."""
        self._hold_until = max(self._hold_until, self._clock.monotonic() + seconds)

    def held_for(self) -> float:
        """Seconds left of the current hold; ``0.0`` if none."""
        return max(0.0, self._hold_until - self._clock.monotonic())

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for a turn, then hold it while the body sends one request and reads its answer.

        A caller cancelled while waiting takes no turn.
        """
        turn = await self._take()
        try:
            yield
        finally:
            turn.ended_at = self._clock.monotonic()
            turn.ended.set()

    @property
    def remembered(self) -> int:
        """The turns kept to pace the next ones: those in flight or ended within the
        last ``window`` (at most ``per_window``), never all turns ever given."""
        return len(self._recent)

    async def _take(self) -> _Turn:
        async with self._queue:
            while True:
                # a turn that ended a whole window ago no longer counts against the
                # window: forgotten, so that a high rate (100,000 a second) keeps a
                # second's turns, not the last 100,000 (each holds an asyncio.Event)
                now = self._clock.monotonic()
                while self._recent and self._recent[0].ended_at + self.window <= now:
                    self._recent.popleft()
                earliest = max(self._last_start + self.interval, self._hold_until)
                if len(self._recent) == self.per_window:
                    oldest = self._recent[0]
                    await oldest.ended.wait()  # in flight: its answer is not back yet
                    earliest = max(earliest, oldest.ended_at + self.window)
                now = self._clock.monotonic()
                if now >= earliest:
                    break
                # then look again: a hold may be new, or the timer may have fired a hair early
                await self._clock.sleep(earliest - now)
            turn = _Turn()
            self._recent.append(turn)
            self._last_start = now
            return turn


def max_in_window(times: Iterable[float], window: float = 1.0) -> int:
    """The most of ``times`` in any window ``[t, t + window)``: the rate as a source counts it.

    The promise of :class:`RateLimiter` is that, for the times the source receives
    the requests, this never exceeds ``per_window``.

    >>> max_in_window([0.0, 0.5, 1.0, 1.5]), max_in_window([0.0, 0.5, 1.0, 1.5], window=2.0)
    (2, 4)
    """
    ordered = sorted(times)
    most, first = 0, 0
    for last, t in enumerate(ordered):
        while ordered[first] <= t - window:
            first += 1
        most = max(most, last - first + 1)
    return most
