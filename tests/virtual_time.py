"""Virtual time for asyncio tests: timers fire at once, in order, and the clock jumps to them.

An event loop whose ``time()`` is virtual: when every task is waiting on a timer,
the loop moves the clock to the earliest timer instead of sleeping. Waits of hours
take no real time, concurrent tasks still see a consistent order of events, and
``asyncio.timeout`` works as usual. Real I/O is still polled, but tests that use
it (a real HTTP server) should run in real time instead.

>>> @virtual_time
... async def wait_an_hour():
...     loop = asyncio.get_running_loop()
...     start = loop.time()
...     await asyncio.gather(asyncio.sleep(3600), asyncio.sleep(1800))
...     return loop.time() - start
>>> wait_an_hour()
3600.0
"""

from __future__ import annotations

import asyncio
import functools
import selectors
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

__all__ = ["EPOCH", "VirtualClock", "VirtualTimeLoop", "virtual_time"]

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
"""The wall-clock time at virtual time 0."""

_START = 1000.0  # virtual monotonic time when a loop starts: not 0, to catch code assuming 0
_DEADLOCK = 10.0  # real seconds to wait on real I/O when no timer is left before giving up

P = ParamSpec("P")
T = TypeVar("T")


class _VirtualSelector(selectors.DefaultSelector):  # type: ignore[misc, valid-type]
    def __init__(self) -> None:
        super().__init__()
        self.now = _START

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # nothing scheduled: only real I/O can wake the loop
            ready = super().select(_DEADLOCK)
            if not ready:
                raise RuntimeError("virtual time: every task waits and no timer is set")
            return ready
        self.now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on virtual time (see the module documentation)."""

    def __init__(self) -> None:
        self._virtual = _VirtualSelector()
        super().__init__(self._virtual)

    def time(self) -> float:
        return self._virtual.now


class VirtualClock:
    """A client clock on the running loop's time; wall time is :data:`EPOCH` plus that time."""

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=self.monotonic() - _START)


def virtual_time(test: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """Turn an ``async def`` test into a plain one that runs on a :class:`VirtualTimeLoop`."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
            return runner.run(test(*args, **kwargs))

    return run
