"""Time as the hydration client sees it: a monotonic clock to pace and wait, a wall clock to date.

The client takes a :class:`Clock` so that tests can run it in virtual time; the
default, :class:`SystemClock`, is the real thing.

>>> clock = SystemClock()
>>> clock.now().tzname()
'UTC'
>>> clock.monotonic() <= clock.monotonic()
True
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    """What the client needs to know about time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; only differences mean something."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on the monotonic clock."""
        ...

    def now(self) -> datetime:
        """The current time in UTC: the time an observation is dated with."""
        ...


class SystemClock:
    """The real clocks: :func:`time.monotonic`, :func:`asyncio.sleep` and UTC wall time."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def now(self) -> datetime:
        return datetime.now(UTC)
