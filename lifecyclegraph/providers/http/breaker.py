"""The circuit breaker: a source that keeps failing is left alone for a while, as a whole.

Closed (requests flow) -> open after ``threshold`` consecutive failed requests (no
request is sent; callers are told at once when to come back) -> half-open once
``cooldown`` seconds have passed (one trial request may go) -> closed if the trial
succeeds, open again for another cooldown if it fails.

A failed *request* is one whose retries are exhausted, not a failed attempt. A
request that got an answer (even ``404`` or one the contract does not allow) is a
success: the source is there.

>>> from lifecyclegraph.providers.http.clock import SystemClock
>>> breaker = CircuitBreaker(threshold=2, cooldown=30.0, clock=SystemClock())
>>> breaker.failed(trial=False); breaker.state
<BreakerState.CLOSED: 'closed'>
>>> breaker.failed(trial=False); breaker.state
<BreakerState.OPEN: 'open'>
>>> 29.0 < breaker.blocked_for() <= 30.0
True
"""

from __future__ import annotations

from enum import StrEnum

from lifecyclegraph.providers.http.clock import Clock

__all__ = ["BreakerState", "CircuitBreaker"]


class BreakerState(StrEnum):
    """Where a source's circuit is."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Counts consecutive failed requests to one source and opens the circuit on too many.

    The caller asks :meth:`blocked_for` before sending; if it answers ``0`` the caller
    calls :meth:`enter` right away, sends, and reports the verdict with
    :meth:`succeeded`, :meth:`failed` or :meth:`abandoned`, passing on what
    :meth:`enter` returned.

    Args:
        threshold: consecutive failed requests that open the circuit (>= 1).
        cooldown: seconds the circuit stays open before a trial request.
        clock: where the time comes from.
    """

    def __init__(self, threshold: int, cooldown: float, clock: Clock) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.openings = 0
        self.consecutive_failures = 0
        self._clock = clock
        self._open_until: float | None = None  # None while closed
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        """Closed, open, or half-open (cooldown over, or the trial request in flight)."""
        if self._open_until is None:
            return BreakerState.CLOSED
        if self._trial_in_flight or self._clock.monotonic() >= self._open_until:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def blocked_for(self) -> float:
        """Seconds before a request may be sent; ``0.0`` if one may go now.

        While the half-open trial is in flight, other requests are blocked too; the
        answer is then the cooldown, the wait should the trial fail.
        """
        if self._open_until is None:
            return 0.0
        if self._trial_in_flight:
            return self.cooldown
        return max(0.0, self._open_until - self._clock.monotonic())

    def enter(self) -> bool:
        """Note that a request is being sent now; ``True`` if it is the half-open trial.

        Raises:
            RuntimeError: if :meth:`blocked_for` says no request may go.
        """
        if self._open_until is None:
            return False
        if self.blocked_for() > 0:
            raise RuntimeError("the circuit is open: no request may be sent now")
        self._trial_in_flight = True
        return True

    def succeeded(self, *, trial: bool) -> None:
        """A request got an answer: the count starts over; a successful trial closes the circuit."""
        if trial:
            self._trial_in_flight = False
            self._open_until = None
        if self._open_until is None:
            self.consecutive_failures = 0

    def failed(self, *, trial: bool, hold: float = 0.0) -> None:
        """A request failed (retries exhausted); ``hold`` is a pause the source asked for.

        A failed trial opens the circuit again; so do ``threshold`` failures in a row.
        Late failures of requests sent before the circuit opened change nothing.
        """
        if trial:
            self._trial_in_flight = False
            self._open(hold)
        elif self._open_until is None:
            self.consecutive_failures += 1
            if self.consecutive_failures >= self.threshold:
                self._open(hold)

    def abandoned(self, *, trial: bool) -> None:
        """A request ended with no verdict (cancelled): the next request may be the trial."""
        if trial:
            self._trial_in_flight = False

    def _open(self, hold: float) -> None:
        self._open_until = self._clock.monotonic() + max(self.cooldown, hold)
        self.openings += 1
