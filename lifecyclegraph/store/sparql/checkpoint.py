"""Checkpoints of the current dataset, for query worker processes to open.

The server process holds the on-disk store open for writing (RocksDB's lock), and
opening it read-only while another process writes it is undefined behaviour in
Oxigraph. So workers never open the store itself: they open a **checkpoint**, a
consistent copy of the ``current`` dataset that no one writes.

* On disk, a checkpoint is ``Store.backup()``: RocksDB hard-links its immutable
  files instead of copying them. It still flushes the store's in-memory writes to
  new files and syncs them: about 10 ms when nothing changed, 100-400 ms after a
  write, now and then seconds after a large ingest (``docs/benchmarks.md``). They
  live in ``<store>/sparql-checkpoints/<pid>-<random>/``, one directory per pool,
  deleted when the pool closes (or, if its process died, by the next pool).
* An in-memory store cannot be backed up: its quads are copied into a new on-disk
  store in a temporary directory. This costs time in proportion to the data, so it
  suits the small graphs in memory stores are for (tests, notebooks).
* A query on a past time (``as_of``) also needs the **archive** dataset, where
  superseded snapshots live. :meth:`Checkpoints.archive_of` copies it the same way,
  beside a current checkpoint (``<n>-archive``), the first time an as-of query uses
  that checkpoint, and deletes it with it. Made after the current checkpoint, it
  holds every snapshot that checkpoint's catalogue names: a commit copies retired
  snapshots into the archive before it changes the current dataset, and nothing is
  ever removed from the archive (it may hold a few newer snapshots too, which no
  catalogue entry of the checkpoint makes live).

When is a new checkpoint made? The store's :attr:`SnapshotStore.generation` moves on
every commit; a checkpoint records the generation it holds.

* ``staleness == 0``: a query that finds the store changed makes a new checkpoint
  before it runs (one at a time; others wait for it). It sees every write committed
  before it started, and pays for the checkpoint.
* ``staleness > 0``: a background thread looks every ``staleness`` seconds and makes
  a new checkpoint if the store changed. Queries never wait for it (only the very
  first checkpoint is made on demand): they use the newest one there is, so they see
  writes committed more than about ``staleness`` seconds plus one checkpoint's time
  before they started.

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
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path

import psutil
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
            disk, a new temporary directory for an in-memory store). Each instance
            works in its own subdirectory, ``<pid>-<random>``, so pools in one or
            several processes never touch each other's checkpoints; subdirectories
            left by processes that no longer run are deleted.
        staleness: ``0``: a query after a write makes a new checkpoint first;
            otherwise the interval (seconds) at which a background thread makes one
            if the store changed.
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
            self.root = Path(directory)
        elif store.path is not None:
            self.root = Path(store.path) / DIRECTORY
        else:
            self.root = Path(tempfile.mkdtemp(prefix="lifecyclegraph-sparql-"))
        self.root.mkdir(parents=True, exist_ok=True)
        _remove_orphans(self.root)
        #: This instance's own directory; its checkpoints are numbered in it.
        self.directory = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=self.root))
        self._lock = threading.Lock()  # guards the bookkeeping below
        self._making = threading.Lock()  # one checkpoint is made at a time
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None
        self._closed = False
        self._numbers = itertools.count(1)
        self._newest: Checkpoint | None = None
        self._live: dict[Path, Checkpoint] = {}
        self._holders: dict[Hashable, Path] = {}
        self._archives: dict[Path, Path] = {}  # a current checkpoint -> its archive copy
        self.made = 0

    def latest(self, min_generation: int | None = None) -> Checkpoint:
        """The checkpoint a query should use now (see the module docstring).

        Args:
            min_generation: the query must see at least this generation of the store
                (a client reading its own writes): a newer checkpoint is made first if
                the newest is older, whatever the staleness.
        """
        newest = self._newest
        if newest is not None and not self._behind(newest, min_generation):
            self._start_refresher()
            return newest
        with self._making:
            newest = self._newest
            if newest is None or self._behind(newest, min_generation):
                newest = self._install(self._make())
        self._start_refresher()
        return newest

    def ready(self, min_generation: int | None = None) -> Checkpoint | None:
        """The checkpoint :meth:`latest` would return if it needs no new one now
        (``None`` if a query would have to wait for one): never blocks."""
        newest = self._newest
        if newest is None or self._behind(newest, min_generation):
            return None
        self._start_refresher()
        return newest

    def _behind(self, checkpoint: Checkpoint, min_generation: int | None) -> bool:
        if min_generation is not None and checkpoint.generation < min(
            min_generation, self.store.generation
        ):
            return True
        return self.staleness == 0 and checkpoint.generation != self.store.generation

    def refresh(self, force: bool = False) -> Checkpoint:
        """Make a new checkpoint now if the store changed since the newest (or if
        ``force``); return the newest."""
        with self._making:
            newest = self._newest
            if force or newest is None or newest.generation != self.store.generation:
                newest = self._install(self._make())
            return newest

    def _install(self, checkpoint: Checkpoint) -> Checkpoint:
        with self._lock:
            if self._closed:
                shutil.rmtree(checkpoint.path, ignore_errors=True)
                return checkpoint
            self._newest = checkpoint
            self._live[checkpoint.path] = checkpoint
            self._prune()
        return checkpoint

    def archive_of(self, checkpoint: Checkpoint) -> Path:
        """A copy of the archive dataset to read beside ``checkpoint`` (for a query on
        a past time): made now if that checkpoint has none yet, deleted with it.

        Raises:
            OSError: the copy could not be made.
        """
        with self._making:
            with self._lock:
                found = self._archives.get(checkpoint.path)
            if found is not None:
                return found
            path = checkpoint.path.with_name(f"{checkpoint.path.name}-archive")
            _copy(self.store.archive, path, self.store.path is not None)
            with self._lock:
                if self._closed or checkpoint.path not in self._live:
                    # closed, or pruned before anyone held it: the copy has no use
                    shutil.rmtree(path, ignore_errors=True)
                    raise OSError(f"the checkpoint {checkpoint.path} was deleted")
                self._archives[checkpoint.path] = path
            return path

    def _start_refresher(self) -> None:
        if self.staleness <= 0 or self._refresher is not None:
            return
        with self._lock:
            if self._refresher is not None or self._closed:
                return
            self._refresher = threading.Thread(
                target=self._refresh_loop, name="sparql-checkpoints", daemon=True
            )
            self._refresher.start()

    def _refresh_loop(self) -> None:
        while not self._stop.wait(self.staleness):
            try:
                self.refresh()
            except OSError:  # a failed backup: the next round tries again
                continue

    def hold(self, holder: Hashable, checkpoint: Checkpoint | None) -> bool:
        """Record that ``holder`` (a worker) has ``checkpoint`` open (``None``: nothing).

        Checkpoints that are neither the newest nor held by anyone are deleted.

        Returns:
            ``False`` if ``checkpoint`` was deleted since it was chosen (a newer one
            came and no one held it): the caller chooses again.
        """
        with self._lock:
            if checkpoint is None:
                self._holders.pop(holder, None)
            elif checkpoint.path not in self._live:
                return False
            else:
                self._holders[holder] = checkpoint.path
            self._prune()
            return True

    def paths(self) -> list[Path]:
        """The checkpoints on disk now, oldest first."""
        with self._lock:
            return sorted(self._live, key=lambda p: int(p.name))

    def close(self) -> None:
        """Stop the background thread and delete every checkpoint and the directory."""
        self._stop.set()
        if self._refresher is not None:
            self._refresher.join()
        with self._making, self._lock:
            self._closed = True
            self._live.clear()
            self._archives.clear()
            self._holders.clear()
            self._newest = None
            shutil.rmtree(self.directory, ignore_errors=True)
            with contextlib.suppress(OSError):
                self.root.rmdir()  # only if no one else uses it

    def _make(self) -> Checkpoint:
        # The generation is read first: a write that lands during the copy makes the
        # checkpoint look older than it is, never newer.
        generation = self.store.generation
        path = self.directory / str(next(self._numbers))
        began = time.perf_counter()
        _copy(self.store.current, path, self.store.path is not None)
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
                archive = self._archives.pop(path, None)
                if archive is not None:
                    shutil.rmtree(archive, ignore_errors=True)


def _copy(dataset: Store, path: Path, on_disk: bool) -> None:
    """A consistent copy of ``dataset`` in the new directory ``path``: a backup (hard
    links) for an on-disk store, the quads copied for an in-memory one."""
    if on_disk:
        dataset.backup(str(path))
        return
    copy = Store(str(path))
    copy.bulk_load(dataset.dump(format=RdfFormat.N_QUADS), RdfFormat.N_QUADS)
    copy.flush()
    del copy


def _remove_orphans(root: Path) -> None:
    """Delete the ``<pid>-…`` directories of processes that no longer run."""
    for child in root.iterdir():
        pid, dash, _ = child.name.partition("-")
        if not (dash and pid.isdigit() and child.is_dir()):
            continue
        if int(pid) != os.getpid() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(child, ignore_errors=True)
