"""Single flight: concurrent requests for the same thing share one request.

The first caller for a key starts the work as a task; callers that come while it
runs join it and get the same outcome, result or exception. A caller that is
cancelled leaves the work running for the others.

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
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["SingleFlight"]

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """The work in flight, by key."""

    def __init__(self) -> None:
        self._flights: dict[Hashable, asyncio.Task[T]] = {}

    def __len__(self) -> int:
        return len(self._flights)

    def join(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> tuple[Awaitable[T], bool]:
        """The outcome of the work for ``key`` to await, and whether it was already in flight.

        ``work`` is called only if nothing is in flight for ``key``. The awaitable is
        shielded: cancelling one caller does not cancel the shared work.
        """
        task = self._flights.get(key)
        joined = task is not None
        if task is None:
            task = asyncio.ensure_future(work())
            self._flights[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        return asyncio.shield(task), joined

    async def cancel_all(self) -> None:
        """Cancel the work in flight and wait until it has stopped."""
        tasks = list(self._flights.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _finished(self, key: Hashable, task: asyncio.Task[T]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved: if every caller went away, nothing is logged
