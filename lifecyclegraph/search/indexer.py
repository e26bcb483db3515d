"""The background indexer: store changes in, batched index writes out.

The store calls :meth:`Indexer.on_delta` after each commit, inside its write lock, so
that call only records which subjects changed (and which of them changed name), with
the facts the commit gave each (:attr:`~lifecyclegraph.store.Delta.entities`), and
wakes the indexer thread. The thread waits ``batch_ms`` for more changes, then
rebuilds the documents of every changed URI, plus the URIs whose documents embed a
renamed entity's name (those that link to it), and writes them in one commit per
index. A changed URI's document is built from the facts of the last commit that
changed it (commits reach :meth:`~Indexer.on_delta` in order, and a later one
replaces what an earlier one recorded), or read from the store's current state when
the commit did not carry them: either way a batch never writes an older version over
a newer one. At a million entities, reading back what the writer had just written was
a quarter of the indexer's time (``docs/benchmarks.md``, Scale).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from lifecyclegraph.core.vocab import LG
from lifecyclegraph.store import Delta

__all__ = ["READ", "Changes", "Indexer"]

log = logging.getLogger(__name__)
_NAME = LG.name

#: A changed URI whose facts the commit did not carry: its document is read from the store.
READ: Any = object()
#: Changed URIs, each with its asserted pairs now, ``None`` (deleted) or :data:`READ`.
Changes = dict[str, Any]


class Indexer:
    """A thread that keeps the indexes up to date with the store, in batches.

    Args:
        apply: given the changed URIs (:data:`Changes`) and the renamed ones, brings
            their documents up to date.
        batch_ms: how long to gather changes after the first one before writing.
        on_error: called with the exception when a batch fails (the batch is retried).
    """

    def __init__(
        self,
        apply: Callable[[Changes, set[str]], object],
        batch_ms: int = 100,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._apply = apply
        self._batch = batch_ms / 1000
        self._on_error = on_error
        self._cond = threading.Condition()
        self._pending: Changes = {}
        self._renamed: set[str] = set()
        self._received = 0  # deltas seen
        self._written = 0  # deltas whose changes are searchable
        self._stop = False
        self._paused = 0
        self._thread = threading.Thread(target=self._run, name="search-indexer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def on_delta(self, delta: Delta) -> None:
        """Record the subjects a commit changed (called by the store, under its lock)."""
        given = delta.entities
        with self._cond:
            for triple in delta.added | delta.removed:
                subject = triple.subject.value  # type: ignore[union-attr]
                self._pending[subject] = given.get(subject, READ)
                if triple.predicate == _NAME:
                    self._renamed.add(subject)
            self._received += 1
            self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every change recorded so far is searchable; ``False`` on time-out."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._received
            while self._written < target:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._cond.notify_all()
                self._cond.wait(left)
            return True

    def pause(self) -> None:
        """Hold writes (for a rebuild); changes keep being recorded."""
        with self._cond:
            self._paused += 1

    def resume(self) -> None:
        with self._cond:
            self._paused -= 1
            self._cond.notify_all()

    def stop(self, timeout: float = 10.0) -> bool:
        """Write what is pending, then stop the thread; ``False`` if not all of it was
        written within ``timeout`` (the index is then not in step with the store)."""
        flushed = self.flush(timeout)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return flushed

    def detach(self) -> None:
        """Drop the reference to the writer (after :meth:`stop`)."""
        self._apply = _stopped

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def lag(self) -> dict[str, int]:
        """How far the index is behind the store: ``pending``, the URIs changed and not
        yet taken into a batch; ``behind``, the store's commits (deltas) whose changes
        are not all searchable yet (0: everything stored so far can be found)."""
        with self._cond:
            return {"pending": len(self._pending), "behind": self._received - self._written}

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and (self._paused or not self._pending):
                    self._cond.wait()
                if self._stop:
                    return
            time.sleep(self._batch)  # gather the rest of the burst
            with self._cond:
                if self._paused:
                    continue
                uris, renamed = self._pending, self._renamed
                self._pending, self._renamed = {}, set()
                target = self._received
            try:
                self._apply(uris, renamed)
            except Exception as error:  # the thread must survive
                log.warning("search indexing failed (%s); recovering and retrying", error)
                with self._cond:
                    for uri, facts in uris.items():  # a newer change recorded meanwhile wins
                        self._pending.setdefault(uri, facts)
                    self._renamed |= renamed
                if self._on_error is not None:
                    try:
                        self._on_error(error)
                    except Exception as again:
                        log.error("search index recovery failed: %s", again)
                        time.sleep(1.0)
                continue
            with self._cond:
                self._written = max(self._written, target)
                self._cond.notify_all()


def _stopped(uris: Changes, renamed: set[str]) -> None:
    raise RuntimeError("the search indexer was stopped")
