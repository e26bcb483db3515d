"""Keep Python's cyclic garbage collector off a long-running service's long-lived heap.

A service that holds millions of long-lived objects (the rule engine's facts and
indexes, the caches) pays for them at every full collection: CPython collects the
oldest generation whenever a quarter as many objects again have survived into it,
and each such collection walks every object, holding the GIL. In a 100k-entity
backfill that was 101 full collections and about 29 of its 251 seconds
(docs/benchmarks.md, Scale, eighth round).

:class:`HeapCollector` moves what has lived through a period into the permanent
generation (:func:`gc.freeze`), which the collector does not walk, so automatic
collections see only what is new. Garbage cycles among frozen objects are not freed
while frozen, so when the heap has grown ``growth`` times since the last full
collection, it is unfrozen and left so until Python's own collector has made a full
collection of it (seen through :data:`gc.callbacks`); then it is frozen again: a full
collection each time the heap doubles (the default) instead of each time it grows by
a quarter, which bounds what a cycle can hold on to by the same ratio.

The collector's thread never collects and never holds a reference to another
thread's objects: a collection frees what it finds in the thread that makes it, and
some objects may only be freed by the thread that made them (pyoxigraph's query
results); Python's automatic collections run where they would without it. The heap's
size is read from the allocator's count of blocks (:func:`sys.getallocatedblocks`),
not by walking the objects.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time
from dataclasses import dataclass, field

__all__ = ["HeapCollector"]

log = logging.getLogger("lifecyclegraph.collector")


@dataclass
class HeapCollector:
    """Freeze the long-lived heap every ``interval`` seconds; unfreeze it for one full
    collection when it has grown ``growth`` times since the last one.

    Args:
        interval: seconds between two steps (:meth:`start`).
        growth: how many times larger the heap may grow between two full collections
            (at least 1.25, CPython's own ratio).
        floor: no full collection before the heap holds this many allocated blocks.
    """

    interval: float = 5.0
    growth: float = 2.0
    floor: int = 1_000_000
    #: full collections of the unfrozen heap, and the seconds they took (what
    #: ``/api/v1/status`` shows)
    collections: int = field(default=0, init=False)
    seconds: float = field(default=0.0, init=False)
    #: allocated blocks after the last full collection
    baseline: int = field(default=0, init=False)
    #: whether the heap is frozen now (unfrozen: waiting for a full collection)
    frozen: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.growth < 1.25:
            raise ValueError(f"growth must be at least 1.25, not {self.growth}")
        if self.interval <= 0:
            raise ValueError(f"interval must be positive, not {self.interval}")
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._began: float | None = None  # when the running full collection began
        self._waiting = False  # unfrozen, until a full collection has run

    @classmethod
    def every(cls, seconds: float) -> HeapCollector | None:
        """The collector ``[server] freeze_heap`` asks for: one stepping every
        ``seconds``, or ``None`` for 0 (Python's own collector alone)."""
        return cls(interval=seconds) if seconds > 0 else None

    def step(self) -> bool:
        """Freeze what exists, unless the heap has grown ``growth`` times since the
        last full collection: then unfreeze it, until Python's collector has made one.
        Returns whether it unfroze the heap."""
        if self._waiting:
            return False  # the full collection asked for has not run yet
        blocks = sys.getallocatedblocks()
        if blocks >= max(self.floor, self.growth * self.baseline):
            gc.unfreeze()
            self.frozen, self._waiting = False, True
            return True
        gc.freeze()
        self.frozen = True
        return False

    def _on_collection(self, phase: str, info: dict[str, int]) -> None:
        """:data:`gc.callbacks`: time the first full collection after an unfreeze."""
        if not self._waiting or info["generation"] != 2:
            return
        if phase == "start":
            self._began = time.perf_counter()
        elif self._began is not None:
            self.seconds += time.perf_counter() - self._began
            self.collections += 1
            self.baseline = sys.getallocatedblocks()
            self._began, self._waiting = None, False
            log.info("a full collection of the unfrozen heap: %d blocks", self.baseline)

    def start(self) -> None:
        """Step every ``interval`` seconds in a daemon thread, until :meth:`stop`."""
        if self._thread is not None:
            return
        gc.callbacks.append(self._on_collection)
        self._stopped.clear()
        self._thread = threading.Thread(target=self._run, name="heap-collector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop stepping; unfreeze the heap so that it is collected as usual again."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopped.set()
        thread.join()
        gc.callbacks.remove(self._on_collection)
        gc.unfreeze()
        self.frozen = False

    def status(self) -> dict[str, float | int | bool]:
        """Whether the heap is frozen, its allocated blocks, the full collections of it
        unfrozen and their seconds: read from counters, so that polling costs nothing."""
        return {
            "frozen": self.frozen,
            "heap_blocks": sys.getallocatedblocks(),
            "full_collections": self.collections,
            "seconds": round(self.seconds, 3),
        }

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self.step()
            except Exception:  # never let the collector's thread die silently
                log.exception("the heap collector's step failed")
