"""Single flight: concurrent requests for the same thing share one request.

The first caller for a key starts the work as a task; callers that come while it
runs join it and get the same outcome, result or exception. A caller that is
cancelled leaves the work running for the others.

A flight may carry a ``stamp`` (when it started); a caller that needs work started
no earlier than ``not_before`` joins only a flight stamped at or after it, and
otherwise starts a new one, which later callers join (the older flight still
finishes for those who joined it).

>>> import asyncio
>>> calls = []
>>> async def fetch():
...     calls.append(1)
...     await asyncio.sleep(0.01)
...     return "answer"
>>> async def main():
...     flights = SingleFlight()
...     started = [flights.join("k", fetch) for _ in range(3)]
...     return [joined for _, joined in started], await asyncio.gather(*(t for t, _ in started))
>>> asyncio.run(main()), len(calls)
(([False, True, True], ['answer', 'answer', 'answer']), 1)
>>> async def bounded():
...     flights = SingleFlight()
...     old = flights.join("k", fetch, stamp=1)
...     new = flights.join("k", fetch, stamp=2, not_before=2)
...     again = flights.join("k", fetch, stamp=3, not_before=2)
...     await asyncio.gather(old[0], new[0], again[0])
...     return old[1], new[1], again[1]
>>> calls.clear(); asyncio.run(bounded()), len(calls)
((False, False, True), 2)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["SingleFlight"]

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """The work in flight, by key."""

    def __init__(self) -> None:
        self._flights: dict[Hashable, asyncio.Task[T]] = {}
        self._stamps: dict[Hashable, Any] = {}
        self._running: set[asyncio.Task[T]] = set()  # replaced flights included

    def __len__(self) -> int:
        return len(self._flights)

    def join(
        self,
        key: Hashable,
        work: Callable[[], Awaitable[T]],
        *,
        stamp: Any = None,
        not_before: Any = None,
    ) -> tuple[Awaitable[T], bool]:
        """The outcome of the work for ``key`` to await, and whether it was already in flight.

        ``work`` is called only if nothing suitable is in flight for ``key``: with
        ``not_before``, a flight whose ``stamp`` is earlier (or unknown) is not. The
        awaitable is shielded: cancelling one caller does not cancel the shared work.
        """
        task = self._flights.get(key)
        if task is not None and not_before is not None:
            started = self._stamps.get(key)
            if started is None or started < not_before:
                task = None  # too old for this caller: a new flight replaces it for joiners
        joined = task is not None
        if task is None:
            task = asyncio.ensure_future(work())
            self._flights[key] = task
            self._stamps[key] = stamp
            self._running.add(task)
            task.add_done_callback(lambda done: self._finished(key, done))
        return asyncio.shield(task), joined

    async def cancel_all(self) -> None:
        """Cancel the work in flight and wait until it has stopped."""
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _finished(self, key: Hashable, task: asyncio.Task[T]) -> None:
        self._running.discard(task)
        if self._flights.get(key) is task:
            del self._flights[key]
            del self._stamps[key]
        if not task.cancelled():
            task.exception()  # retrieved: if every caller went away, nothing is logged
