"""Pacing: the requests to one source are spaced so that its rate is never exceeded.

The rate is a promise about what the source sees: no window of one second holds
more than ``rate`` requests (for a rate below one, no window of ``1 / rate`` seconds
holds more than one). The limiter spaces requests evenly, one every
``interval`` seconds, where ``interval`` includes an allowance for the jitter that
network and scheduling add between the client sending a request and the source
receiving it; so a request delayed on its way cannot make the source count one
too many. Every attempt passes through :meth:`RateLimiter.acquire`: first tries,
retries and revalidations alike.

The source may also ask for a pause (``Retry-After``); :meth:`RateLimiter.hold`
stops every caller until then.

>>> limiter = RateLimiter(20, clock=None)
>>> round(limiter.interval, 4)  # (1 s + 0.05 s allowance) / 20
0.0525
>>> round(RateLimiter(2.5, clock=None).interval, 3)  # at most 2 in any second
0.525
>>> round(RateLimiter(0.5, clock=None).interval, 3)  # at most 1 in any 2 seconds
2.05
"""

from __future__ import annotations

import math

from lifecyclegraph.hydration.clock import Clock, SystemClock

__all__ = ["JITTER_ALLOWANCE", "RateLimiter"]

JITTER_ALLOWANCE = 0.05
"""Seconds added to each rate window for the jitter between sending and receiving."""

_TIMER_SLACK = 1e-6


class RateLimiter:
    """Hands out send times one ``interval`` apart, first come first served.

    Args:
        rate: the most requests per second (> 0).
        clock: the clock to read and sleep on (``None``: the system clock).
        allowance: seconds added to each window for network and scheduling jitter.
    """

    def __init__(
        self, rate: float, clock: Clock | None, *, allowance: float = JITTER_ALLOWANCE
    ) -> None:
        if not rate > 0:
            raise ValueError(f"the rate must be > 0, not {rate!r}")
        per_window, window = (math.floor(rate), 1.0) if rate >= 1 else (1, 1 / rate)
        self.interval = (window + allowance) / per_window
        self._clock = clock if clock is not None else SystemClock()
        self._next = -math.inf  # the earliest time the next reservation may take
        self._hold_until = -math.inf

    def hold(self, seconds: float) -> None:
        """Send nothing for ``seconds`` from now (a longer hold already set stays)."""
        self._hold_until = max(self._hold_until, self._clock.monotonic() + seconds)

    def held_for(self) -> float:
        """Seconds left of the current hold; ``0.0`` if none."""
        return max(0.0, self._hold_until - self._clock.monotonic())

    async def acquire(self) -> None:
        """Wait for this caller's turn to send one request; send it right after.

        A reservation is taken before waiting, so callers are served in the order they
        arrive; a caller cancelled while waiting leaves its turn unused, never reused.
        """
        while True:
            now = self._clock.monotonic()
            start = max(now, self._next, self._hold_until)
            self._next = start + self.interval
            if start > now:
                await self._clock.sleep(start - now)
            # A timer may fire a hair early; a hold set while waiting means wait again.
            if self._clock.monotonic() >= self._hold_until - _TIMER_SLACK:
                return
