"""Hydration in a child process, beside the store's writes.

Ingestion does two kinds of work per entity: asking its source over HTTP and
normalizing the answer (Python), then validating and writing it (Python and
Oxigraph). In one process they take turns: threads would not help, as both need the
GIL (measured slower, see ``docs/benchmarks.md``, Ingestion). With
``[ingest] hydration_process = true`` the first kind runs in a child process with its
own event loop and source clients, while the parent validates and writes the
previous batch: the two use both cores. Measured on 2 cores it gains 4 to 8% (the
writes are the larger half), at the price of a second process.

The child owns the source clients, so rate limits, back-off, coalescing and the
ETag cache hold exactly as in one process; each URI's freshness bound (when its
event was accepted: :mod:`lifecyclegraph.providers.freshness`) travels with it.
What it learns about each source (the report counts and problems, the client's
figures) comes back with every batch, for
``lifecyclegraph status``. If the child dies, the batch it held fails as a whole
(its work stays queued and is retried) and a new child is started.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import subprocess
import sys
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from lifecyclegraph.core.collector import HeapCollector
from lifecyclegraph.core.config import Config
from lifecyclegraph.core.errors import LifecycleGraphError
from lifecyclegraph.providers import Hydrated
from lifecyclegraph.providers.base import Problem
from lifecyclegraph.providers.sources import Sources, UnknownPlatform

__all__ = ["HydratorProcess", "RemoteFailure"]

_CHILD = (
    "import sys; from lifecyclegraph.ingest.hydration_process import _child_main; "
    "_child_main(int(sys.argv[1]), int(sys.argv[2]))"
)


class RemoteFailure(LifecycleGraphError):
    """A hydration that failed in the child process.

    Attributes:
        kind: the name of the exception's type there (``SourceUnavailable``...).
        retry_after: the seconds it asked to wait, if it did.
    """

    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Failed:
    kind: str
    message: str
    retry_after: float | None
    unknown_platform: bool


@dataclass(frozen=True)
class _SourceNews:
    """What the child learned about one source during a batch."""

    hydrated: int
    gone: int
    warned: int  #: warnings, of which ``warnings`` are the latest (all, unless many)
    failed: int
    warnings: list[Problem]
    failures: list[Problem]
    client: Any  # ClientStats


class HydratorProcess:
    """A child process that hydrates batches of URIs; see the module documentation.

    Args:
        config: the configuration (its ``[sources]`` make the child's clients).
        sources: the parent's sources, whose reports and client figures are kept up
            to date with the child's.
    """

    def __init__(self, config: Config, sources: Sources) -> None:
        self._config = config
        self._sources = sources
        self._lock = threading.Lock()  # one batch at a time on the pipe
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: _Duplex | None = None
        self.client_stats: dict[str, Any] = {}  #: the child's clients' figures, by source
        self.restarts = 0  #: children that died and were (or will be) replaced
        #: the child's heap collector's figures, as of its last batch (``None``: none
        #: runs there, or no batch yet)
        self.collector_status: dict[str, Any] | None = None
        # A hydrator dropped without close() (a Service never stopped) does not leave
        # its child behind: the child is stopped when the hydrator is collected, or at
        # exit.
        self._held: list[Any] = []
        weakref.finalize(self, _reap, self._held)

    def _ensure_started(self) -> _Duplex:
        if self._process is not None and self._process.poll() is None and self._conn is not None:
            return self._conn
        if self._process is not None:  # it died between batches
            self.restarts += 1
            self._close_quietly()
        # A plain ``python -m`` child with two pipes of its own: unlike multiprocessing's
        # spawn, it does not import the parent's __main__ (a user's script) again.
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(to_child_r), str(from_child_w)],
                pass_fds=(to_child_r, from_child_w),
                stdin=subprocess.DEVNULL,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self._conn = _Duplex(Connection(from_child_r), Connection(to_child_w))
        self._held[:] = [self._process, self._conn]
        self._conn.send(self._config)
        return self._conn

    async def hydrate(
        self, items: Sequence[tuple[str, str | None] | tuple[str, str | None, datetime | None]]
    ) -> list[Hydrated | BaseException]:
        """Hydrate ``(uri, class hint)`` or ``(uri, class hint, not_before)`` items in the
        child; one outcome each, in order."""
        if not items:
            return []
        wanted = [(item[0], item[1], item[2] if len(item) > 2 else None) for item in items]
        try:
            answer = await asyncio.to_thread(self._exchange, wanted)
        except (EOFError, OSError) as error:
            self.restarts += 1  # the next batch starts a new child
            self._close_quietly()
            failure = RemoteFailure(
                "HydratorDied",
                f"the hydrating process stopped while it held this batch ({error!r}); "
                "the work stays queued",
            )
            return [failure] * len(items)
        outcomes, news, self.collector_status = answer
        self._merge(news)
        return [_outcome(o) for o in outcomes]

    def _exchange(self, items: list[tuple[str, str | None, datetime | None]]) -> Any:  # thread
        with self._lock:
            conn = self._ensure_started()
            conn.send(items)
            return conn.recv()

    def _merge(self, news: dict[str, _SourceNews]) -> None:
        for platform, item in news.items():
            report = self._sources.reports.get(platform)
            if report is not None:
                report.hydrated += item.hydrated
                report.gone += item.gone
                report.add_warnings(item.warnings, item.warned)
                report.add_failures(item.failures, item.failed)
            self.client_stats[platform] = item.client

    def _close_quietly(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
            self._conn = None
        if self._process is not None:
            try:
                self._process.wait(0.5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
            self._process = None
        self._held.clear()

    def close(self) -> None:
        """Stop the child (it closes its clients) and wait for it."""
        with self._lock:
            if self._conn is not None and self._process is not None:
                with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                    self._conn.send(None)
                    self._process.wait(10)
            self._close_quietly()


def _reap(held: list[Any]) -> None:
    """Stop a child its hydrator left running: close its pipes (it sees the end of its
    input and exits), then wait for it, killing it if it does not."""
    if not held:
        return
    process, conn = held
    held.clear()
    with contextlib.suppress(OSError):
        conn.close()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _outcome(value: Hydrated | _Failed) -> Hydrated | BaseException:
    if isinstance(value, _Failed):
        if value.unknown_platform:
            return UnknownPlatform(value.message)
        return RemoteFailure(value.kind, value.message, value.retry_after)
    return value


class _Duplex:
    """One pipe to read from and one to write to, as one connection."""

    def __init__(self, reader: Connection, writer: Connection) -> None:
        self._reader, self._writer = reader, writer

    def send(self, value: Any) -> None:
        self._writer.send_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def recv(self) -> Any:
        return pickle.loads(self._reader.recv_bytes())

    def close(self) -> None:
        self._reader.close()
        self._writer.close()


# -- the child ---------------------------------------------------------------------------


def _child_main(read_fd: int, write_fd: int) -> None:
    conn = _Duplex(Connection(read_fd), Connection(write_fd))
    config = conn.recv()
    asyncio.run(_serve(config, conn))


async def _serve(config: Config, conn: _Duplex) -> None:
    sources = Sources(config)
    seen = {p: (0, 0, 0, 0) for p in sources.reports}
    # The child's heap is long-lived too (each source's cache of answers): as in the
    # service, it is kept out of the cyclic collector's walks ([server] freeze_heap).
    collector = HeapCollector.every(config.server.freeze_heap)
    if collector is not None:
        collector.start()
    try:
        while True:
            try:
                items = await asyncio.to_thread(conn.recv)
            except EOFError:
                return  # the parent is gone
            if items is None:
                return
            outcomes = await asyncio.gather(
                *(_hydrate(sources, uri, hint, bound) for uri, hint, bound in items)
            )
            news = {}
            for platform, report in sources.reports.items():
                h, g, w, f = seen[platform]
                warnings, failures = report.since(w, f)
                news[platform] = _SourceNews(
                    report.hydrated - h,
                    report.gone - g,
                    report.warned - w,
                    report.failed - f,
                    warnings,
                    failures,
                    getattr(sources.clients[platform], "stats", None),
                )
                seen[platform] = (report.hydrated, report.gone, report.warned, report.failed)
            conn.send((outcomes, news, collector.status() if collector is not None else None))
    finally:
        if collector is not None:
            collector.stop()
        await sources.aclose()
        conn.close()


async def _hydrate(
    sources: Sources, uri: str, hint: str | None, not_before: datetime | None
) -> Hydrated | _Failed:
    try:
        return await sources.hydrate(uri, hint, not_before=not_before)
    except Exception as error:  # every failure goes back as work to retry, never raised
        return _Failed(
            type(error).__name__,
            str(error),
            getattr(error, "retry_after", None),
            isinstance(error, UnknownPlatform),
        )
