"""Checkpoints of the current dataset, for query worker processes to open.

The server process holds the on-disk store open for writing (RocksDB's lock), and
opening it read-only while another process writes it is undefined behaviour in
Oxigraph. So workers never open the store itself: they open a **checkpoint**, a
consistent copy of the ``current`` dataset that no one writes.

* On disk, a checkpoint is ``Store.backup()``: RocksDB hard-links its immutable
  files, so it costs milliseconds, not a copy (about 10 ms at 100,000 entities, see
  ``docs/benchmarks.md``). Checkpoints live in ``<store>/sparql-checkpoints/``,
  which is emptied when the server starts and stops.
* An in-memory store cannot be backed up: its quads are copied into a new on-disk
  store in a temporary directory. This costs time in proportion to the data, so it
  suits the small graphs in memory stores are for (tests, notebooks).

A new checkpoint is made when a query asks for one and the store has changed
(:attr:`SnapshotStore.generation`) since the newest, unless that one is younger than
``staleness`` seconds: queries then see every write committed more than
``staleness`` seconds before they started (``0``: every write committed before).

>>> from lifecyclegraph.store import SnapshotStore
>>> checkpoints = Checkpoints(SnapshotStore.in_memory())
>>> first = checkpoints.latest()
>>> checkpoints.latest() is first          # nothing changed
True
>>> checkpoints.close()
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import tempfile
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import RdfFormat, Store

from lifecyclegraph.store import SnapshotStore

__all__ = ["Checkpoint", "Checkpoints"]

DIRECTORY = "sparql-checkpoints"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One checkpoint: where it is, the store generation it holds, what it cost."""

    path: Path
    generation: int
    made_at: float  #: ``time.monotonic()`` when it was finished
    seconds: float  #: how long making it took


class Checkpoints:
    """The checkpoints of one store's current dataset, made on demand and pruned.

    Args:
        store: the store whose ``current`` dataset is checkpointed.
        directory: where checkpoints go (default: ``<store>/sparql-checkpoints`` on
            disk, a new temporary directory for an in-memory store). Checkpoints left
            there by an earlier run (numbered directories) are deleted first.
        staleness: how old (seconds) the newest checkpoint may be before a change in
            the store makes a new one.
    """

    def __init__(
        self,
        store: SnapshotStore,
        directory: str | Path | None = None,
        staleness: float = 0.0,
    ) -> None:
        self.store = store
        self.staleness = staleness
        if directory is not None:
            self.directory = Path(directory)
        elif store.path is not None:
            self.directory = Path(store.path) / DIRECTORY
        else:
            self.directory = Path(tempfile.mkdtemp(prefix="lifecyclegraph-sparql-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self._remove_leftovers()
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._newest: Checkpoint | None = None
        self._live: dict[Path, Checkpoint] = {}
        self._holders: dict[Hashable, Path] = {}
        self.made = 0

    def latest(self) -> Checkpoint:
        """The newest checkpoint, made now if the store changed since (see ``staleness``)."""
        with self._lock:
            newest = self._newest
            if newest is None or (
                newest.generation != self.store.generation
                and time.monotonic() - newest.made_at >= self.staleness
            ):
                newest = self._make()
                self._newest = newest
                self._live[newest.path] = newest
                self._prune()
            return newest

    def hold(self, holder: Hashable, checkpoint: Checkpoint | None) -> None:
        """Record that ``holder`` (a worker) has ``checkpoint`` open (``None``: nothing).

        Checkpoints that are neither the newest nor held by anyone are deleted.
        """
        with self._lock:
            if checkpoint is None:
                self._holders.pop(holder, None)
            else:
                self._holders[holder] = checkpoint.path
            self._prune()

    def paths(self) -> list[Path]:
        """The checkpoints on disk now, oldest first."""
        with self._lock:
            return sorted(self._live, key=lambda p: int(p.name))

    def close(self) -> None:
        """Delete every checkpoint and the directory."""
        with self._lock:
            self._live.clear()
            self._holders.clear()
            self._newest = None
            self._remove_leftovers()
            with contextlib.suppress(OSError):
                self.directory.rmdir()

    def _remove_leftovers(self) -> None:
        if not self.directory.is_dir():
            return
        for child in self.directory.iterdir():
            if child.name.isdigit() and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)

    def _make(self) -> Checkpoint:
        # The generation is read first: a write that lands during the copy makes the
        # checkpoint look older than it is, never newer.
        generation = self.store.generation
        path = self.directory / str(next(self._numbers))
        began = time.perf_counter()
        if self.store.path is not None:
            self.store.current.backup(str(path))
        else:
            copy = Store(str(path))
            copy.bulk_load(self.store.current.dump(format=RdfFormat.N_QUADS), RdfFormat.N_QUADS)
            copy.flush()
            del copy
        seconds = time.perf_counter() - began
        self.made += 1
        return Checkpoint(path, generation, time.monotonic(), seconds)

    def _prune(self) -> None:
        held = set(self._holders.values())
        for path in list(self._live):
            if self._newest is not None and path == self._newest.path:
                continue
            if path not in held:
                del self._live[path]
                shutil.rmtree(path, ignore_errors=True)
