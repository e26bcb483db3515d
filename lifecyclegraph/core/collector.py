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
while frozen, so when the frozen heap has grown by ``growth`` times since the last
full collection, it is unfrozen, collected once, and frozen again: a full collection
each time the heap doubles (the default) instead of each time it grows by a quarter,
which bounds what a cycle can hold on to by the same ratio.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass, field

__all__ = ["HeapCollector"]

log = logging.getLogger("lifecyclegraph.collector")


@dataclass
class HeapCollector:
    """Freeze the long-lived heap every ``interval`` seconds; collect it in full when it
    has grown ``growth`` times since the last full collection.

    Args:
        interval: seconds between two freezes (:meth:`start`).
        growth: how many times larger the frozen heap may grow between two full
            collections (at least 1.25, CPython's own ratio).
        floor: no full collection before the frozen heap holds this many objects.
    """

    interval: float = 5.0
    growth: float = 2.0
    floor: int = 1_000_000
    #: full collections made, and the seconds they took (what ``/api/v1/status`` shows)
    collections: int = field(default=0, init=False)
    seconds: float = field(default=0.0, init=False)
    #: objects frozen after the last full collection
    baseline: int = field(default=0, init=False)
    #: objects frozen since (counted as frozen; objects freed meanwhile included)
    frozen: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.growth < 1.25:
            raise ValueError(f"growth must be at least 1.25, not {self.growth}")
        if self.interval <= 0:
            raise ValueError(f"interval must be positive, not {self.interval}")
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def every(cls, seconds: float) -> HeapCollector | None:
        """The collector ``[server] freeze_heap`` asks for: one freezing every
        ``seconds``, or ``None`` for 0 (Python's own collector alone)."""
        return cls(interval=seconds) if seconds > 0 else None

    def step(self) -> bool:
        """Freeze what exists; collect in full first when the frozen heap has grown
        ``growth`` times. Returns whether it collected in full.

        The frozen heap is counted as it is frozen (the objects of the three
        generations, few since the last step), not with :func:`gc.get_freeze_count`,
        which walks every frozen object: objects freed while frozen are still counted
        until the next full collection, which then comes a little early.
        """
        self.frozen += sum(len(gc.get_objects(generation)) for generation in range(3))
        gc.freeze()
        if self.frozen < max(self.floor, self.growth * self.baseline):
            return False
        began = time.perf_counter()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.baseline = self.frozen = gc.get_freeze_count()
        took = time.perf_counter() - began
        self.collections += 1
        self.seconds += took
        log.info("full collection of %d objects in %.2f s", self.baseline, took)
        return True

    def start(self) -> None:
        """Step every ``interval`` seconds in a daemon thread, until :meth:`stop`."""
        if self._thread is not None:
            return
        self.frozen = gc.get_freeze_count()  # what was frozen before (the rule engine's)
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
        gc.unfreeze()

    def status(self) -> dict[str, float | int]:
        """Objects frozen (as counted by :meth:`step`), full collections made and their
        seconds: read from counters, so that polling it costs nothing."""
        return {
            "frozen": self.frozen,
            "full_collections": self.collections,
            "seconds": round(self.seconds, 3),
        }

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self.step()
            except Exception:  # never let the collector's thread die silently
                log.exception("the heap collector's step failed")
