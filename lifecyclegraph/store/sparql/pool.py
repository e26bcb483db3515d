"""Queries with a real timeout: worker processes that are killed at the deadline.

Oxigraph has no query timeout and no cancellation, and a thread cannot be stopped;
the first row of an aggregate or an ``ORDER BY`` computes everything. So each query
runs in a worker process (:mod:`lifecyclegraph.store.sparql.worker`) on a checkpoint of
the current dataset (:mod:`lifecyclegraph.store.sparql.checkpoint`). When the deadline
passes, the worker is killed (``SIGKILL``), reaped, and replaced; the other workers
go on answering. Safety checks (rdflib's parser) run in the worker too, under the
same deadline, so no request text is parsed in the server process.

The deadline counts from the moment a worker takes the query. A query that finds
every worker busy waits for one at most ``timeout`` seconds, then gets
:class:`QueryUnavailableError`.

One exception: :meth:`QueryPool.execute_async` (the endpoint's path) answers a
**point lookup** (:mod:`lifecyclegraph.store.sparql.lookup`: flat, short, one triple
pattern with a constant subject) in the calling process, on the very checkpoint a
worker would read, with its rows capped at :data:`LOCAL_ROWS`; past the cap, on any
error, or while that checkpoint is not open here yet, the query goes to a worker as
any other. Such a query can neither run long nor crash the parser, and the worker's
round trip cost it more than its evaluation (``docs/benchmarks.md``).

>>> from lifecyclegraph.store import SnapshotStore
>>> with QueryPool(SnapshotStore.in_memory(), workers=1, timeout=5.0) as pool:
...     pool.execute("ASK { ?s ?p ?o }").body
b'{"head":{},"boolean":false}'
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from pyoxigraph import Store

from lifecyclegraph.core.errors import (
    QueryError,
    QueryRequestError,
    QueryTimeoutError,
    QueryTooComplexError,
    QueryUnavailableError,
    ResultLimitError,
    StoreError,
)
from lifecyclegraph.store import SnapshotStore
from lifecyclegraph.store.past import PastView
from lifecyclegraph.store.remote import RemoteStore
from lifecyclegraph.store.sparql.checkpoint import Checkpoint, Checkpoints
from lifecyclegraph.store.sparql.lookup import is_point_lookup
from lifecyclegraph.store.sparql.run import QueryRequest, QueryResult, evaluate
from lifecyclegraph.store.sparql.safety import check_update

__all__ = ["LOCAL_ROWS", "QueryPool"]

STARTUP_SECONDS = 60.0
#: The most rows a point lookup answered in the server process may have; a larger
#: result is computed again by a worker (with the pool's own ``max_results``).
LOCAL_ROWS = 1000
#: Who holds the checkpoint that point lookups read in this process (workers are ints).
_LOCAL = "server process"
#: How a worker dies when the engine crashes (a stack overflow aborts or segfaults).
_CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGILL}
#: The directory that holds the ``lifecyclegraph`` package, for the workers' path.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])


@dataclass(eq=False)
class _Worker:
    id: int
    process: Any
    conn: Connection
    pid: int = 0
    ready: threading.Event = field(default_factory=threading.Event)
    busy: bool = False
    _closing: threading.Lock = field(default_factory=threading.Lock)

    def hang_up(self) -> None:
        """Close the connection to the worker once, whichever thread comes first: the
        pool's :meth:`QueryPool.close` and a replacement worker's start that failed
        because of it can both get here, and two ``Connection.close`` at once close
        the same descriptor twice (``OSError: [Errno 9] Bad file descriptor``)."""
        with self._closing:
            if not self.conn.closed:
                self.conn.close()


class QueryPool:
    """Worker processes that run SPARQL queries on the current state, with a timeout.

    Workers start on first use (or :meth:`start`); call :meth:`close` (or use the
    pool as a context manager) to stop them and delete the checkpoints.

    Args:
        store: the store whose current state is queried.
        workers: how many queries can run at once.
        timeout: seconds a query may run before its worker is killed.
        max_results: the most rows or triples a result may have.
        staleness: how many seconds a query may lag behind writes (see
            :class:`~lifecyclegraph.store.sparql.checkpoint.Checkpoints`).
        checkpoint_dir: where checkpoints go (default: in the store directory).
    """

    def __init__(
        self,
        store: SnapshotStore,
        *,
        workers: int = 2,
        timeout: float = 10.0,
        max_results: int | None = 100_000,
        staleness: float = 0.0,
        checkpoint_dir: str | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("a query pool needs at least one worker")
        self.store = store
        self.size = workers
        self.timeout = timeout
        self.max_results = max_results
        self._staleness = staleness
        self._checkpoint_dir = checkpoint_dir
        self.checkpoints: Checkpoints | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._workers: dict[int, _Worker] = {}
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._closed = False
        self._failed_starts = 0
        self.timeouts = 0  #: queries stopped at the deadline
        self.replaced = 0  #: workers killed or lost and replaced
        self.local = 0  #: point lookups answered in this process
        # The checkpoint point lookups read here, open read-only; swapped (under the
        # lock, which every local evaluation holds) by a thread that opens the newer.
        self._here: tuple[Checkpoint, Store] | None = None
        self._here_lock = threading.Lock()
        self._opening: Path | None = None

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> QueryPool:
        """Start the workers (without waiting for them to be ready)."""
        with self._lock:
            if self._closed:
                raise QueryUnavailableError("the query pool is closed", retry_after=0)
            if isinstance(self.store, RemoteStore):
                return self  # no workers: the remote store's server runs the queries
            if self.checkpoints is None:
                self.checkpoints = Checkpoints(
                    self.store, self._checkpoint_dir, staleness=self._staleness
                )
            while len(self._workers) < self.size:
                self._spawn()
        return self

    def close(self) -> None:
        """Stop every worker and delete the checkpoints."""
        with self._lock:
            self._closed = True
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in workers:
            try:
                worker.process.wait(2.0)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            worker.hang_up()
        with self._here_lock:
            self._here = None
        if self.checkpoints is not None:
            self.checkpoints.close()

    def __enter__(self) -> QueryPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pids(self) -> list[int]:
        """The process ids of the workers that are ready now."""
        with self._lock:
            return [w.pid for w in self._workers.values() if w.ready.is_set()]

    def busy(self) -> list[int]:
        """The process ids of the workers running a job now."""
        with self._lock:
            return [w.pid for w in self._workers.values() if w.busy]

    def stats(self) -> dict[str, int]:
        """Counts for a status page: workers, busy ones, timeouts, replacements,
        checkpoints made, point lookups answered in this process (``local``)."""
        with self._lock:
            workers = list(self._workers.values())
        return {
            "workers": len(workers),
            "ready": sum(w.ready.is_set() for w in workers),
            "busy": sum(w.busy for w in workers),
            "timeouts": self.timeouts,
            "replaced": self.replaced,
            "checkpoints": self.checkpoints.made if self.checkpoints else 0,
            "local": self.local,
        }

    def wait_ready(self, timeout: float = STARTUP_SECONDS) -> bool:
        """Wait until every worker is ready to take a query; ``False`` on timeout."""
        self.start()
        with self._lock:
            workers = list(self._workers.values())
        return all(w.ready.wait(timeout) for w in workers)

    # -- queries --------------------------------------------------------------------

    def execute(
        self,
        query: str,
        *,
        accept: str | None = None,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        base_iri: str | None = None,
        min_generation: int | None = None,
        as_of: datetime | None = None,
    ) -> QueryResult:
        """Run a query in a worker and return its serialized result.

        Arguments are those of :class:`~lifecyclegraph.store.sparql.run.QueryRequest`;
        ``min_generation``: the query sees at least this generation of the store
        (see :meth:`~lifecyclegraph.store.sparql.checkpoint.Checkpoints.latest`);
        ``as_of``: run it on the graph as it was at that time (time zone aware), as
        :meth:`LifecycleGraph.as_of(t).sparql() <lifecyclegraph.graph.past.GraphAsOf.sparql>`
        does: the worker reads the checkpoint and its archive copy
        (:meth:`~lifecyclegraph.store.sparql.checkpoint.Checkpoints.archive_of`) and
        copies the snapshots live then into memory, within the same timeout.

        Raises:
            QueryTimeoutError: it ran past ``timeout``; its worker was killed.
            QueryUnavailableError: no worker was free within ``timeout``, or the worker
                died while running it (or, for ``as_of``, the archive could not be copied).
            QueryRequestError: ``as_of`` has no time zone.
            QueryError: any error of :func:`~lifecyclegraph.store.sparql.run.evaluate`.
        """
        request = QueryRequest(
            query,
            accept,
            default_graphs,
            named_graphs,
            base_iri,
            self.max_results,
        )
        if as_of is not None and as_of.tzinfo is None:
            raise QueryRequestError("as_of needs a time zone (use UTC)")
        if as_of is not None:
            result: QueryResult = self._run("past", (as_of, request), min_generation)
        else:
            result = self._run("query", request, min_generation)
        return result

    async def execute_async(
        self,
        query: str,
        *,
        accept: str | None = None,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        base_iri: str | None = None,
        min_generation: int | None = None,
        as_of: datetime | None = None,
        in_thread: Callable[..., Awaitable[Any]] = asyncio.to_thread,
    ) -> QueryResult:
        """:meth:`execute` for an event loop: the same result and errors, with no thread.

        When a worker is idle and a checkpoint is ready (the usual case), the query
        is sent from the loop and the answer awaited on the worker's socket: no hop
        to a thread and back, which cost most of a point lookup's time over HTTP
        (``docs/benchmarks.md``). Otherwise (every worker busy, a checkpoint to make
        first) it runs :meth:`execute` in a thread, as before, with ``in_thread``
        (``asyncio.to_thread`` by default; a server passes its own thread pool's, as
        the loop's default executor has only a few threads and they may all be held).
        A query ``as_of`` a past time always takes the thread path (its worker copies
        an archive first). A point lookup is answered here, with no worker, when it
        can be (see the module docstring and :meth:`_answer_here`).
        """
        if as_of is not None:
            past: QueryResult = await in_thread(
                self.execute,
                query,
                accept=accept,
                default_graphs=default_graphs,
                named_graphs=named_graphs,
                base_iri=base_iri,
                min_generation=min_generation,
                as_of=as_of,
            )
            return past
        request = QueryRequest(
            query, accept, default_graphs, named_graphs, base_iri, self.max_results
        )
        # Starting the pool (processes, the checkpoints' directory) is left to the
        # thread path: nothing that can take long runs on the loop.
        checkpoints = self.checkpoints
        checkpoint = checkpoints.ready(min_generation) if checkpoints is not None else None
        if checkpoint is not None and is_point_lookup(query):
            here = self._answer_here(checkpoint, request)
            if here is not None:
                return here
        worker = None
        if checkpoint is not None:
            with contextlib.suppress(queue.Empty):
                worker = self._idle.get_nowait()
            if worker is not None and worker.process.poll() is not None:
                self._idle.put(worker)  # dead: the thread path replaces it
                worker = None
        if worker is None:
            result: QueryResult = await in_thread(self._run, "query", request, min_generation)
            return result
        assert checkpoints is not None and checkpoint is not None
        if not checkpoints.hold(worker.id, checkpoint):  # pruned since: the thread path
            self._idle.put(worker)
            result = await in_thread(self._run, "query", request, min_generation)
            return result
        worker.busy = True
        loop = asyncio.get_running_loop()
        readable = loop.create_future()
        fd = worker.conn.fileno()
        answer = None
        try:
            worker.conn.send(("query", str(checkpoint.path), request))

            def wake() -> None:
                if not readable.done():
                    readable.set_result(None)

            # The reader goes before anything can close the socket (a lost worker's
            # replacement may get the same descriptor number).
            loop.add_reader(fd, wake)
            try:
                await asyncio.wait_for(readable, self.timeout)
                answered = True
            except TimeoutError:
                answered = False
            finally:
                loop.remove_reader(fd)
            answer = worker.conn.recv() if answered else None
        except (EOFError, OSError):
            worker.busy = False
            error = await in_thread(self._lost, worker)
            raise error from None
        except asyncio.CancelledError:
            # The client went away: the worker's answer would be read by the next
            # query, so the worker is replaced (in a thread: the task is ending).
            threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
            raise
        worker.busy = False
        return await self._answered(worker, answer, in_thread)

    def _answer_here(self, checkpoint: Checkpoint, request: QueryRequest) -> QueryResult | None:
        """A point lookup's result, evaluated in this process on ``checkpoint``, or
        ``None`` for a worker to run it: the checkpoint is not open here yet (a
        thread opens it for the next one), the result has more than
        :data:`LOCAL_ROWS` rows, or the evaluation failed (the worker gives the
        error, in the same words as for any query)."""
        with self._here_lock:
            here = self._here
            if here is None or here[0].path != checkpoint.path:
                self._open_here(checkpoint)
                return None
            if request.max_results is None or request.max_results > LOCAL_ROWS:
                request = QueryRequest(
                    request.query,
                    request.accept,
                    request.default_graphs,
                    request.named_graphs,
                    request.base_iri,
                    LOCAL_ROWS,
                )
            try:
                result = evaluate(here[1], request)
            except ResultLimitError:
                return None
            except Exception:  # errors are the worker's to give
                return None
        self.local += 1
        return result

    def _open_here(self, checkpoint: Checkpoint) -> None:
        """Open ``checkpoint`` read-only for point lookups, in a thread (an open can
        take a while on a large store); called with the lock held."""
        if self._opening is not None or self._closed:
            return
        self._opening = checkpoint.path

        def run() -> None:
            try:
                store: Store | None = Store.read_only(str(checkpoint.path))
            except Exception:  # deleted meanwhile, or unreadable: workers answer
                store = None
            with self._here_lock:
                self._opening = None
                # Held before the older one is let go: no evaluation runs meanwhile
                # (they hold the lock), and one pruned since it was chosen is dropped.
                if (
                    store is not None
                    and not self._closed
                    and self.checkpoints is not None
                    and self.checkpoints.hold(_LOCAL, checkpoint)
                ):
                    self._here = (checkpoint, store)
                del store

        threading.Thread(target=run, name="sparql-local-open", daemon=True).start()

    async def _answered(
        self, worker: _Worker, answer: Any, in_thread: Callable[..., Awaitable[Any]]
    ) -> Any:
        """The value of a worker's answer (``None``: it timed out, replace it)."""
        if answer is None:
            await in_thread(self._replace, worker)
            raise self._timed_out()
        return self._value(worker, answer)

    def _timed_out(self) -> QueryTimeoutError:
        """Count a query stopped at the limit (its worker replaced) and say so."""
        self.timeouts += 1
        return QueryTimeoutError(
            f"the query ran longer than {self.timeout:g} s, this service's limit "
            "(query_timeout), and was stopped",
            self.timeout,
        )

    def _value(self, worker: _Worker, answer: tuple[str, Any]) -> Any:
        """Give the worker back and return its answer's value, or raise its error."""
        self._idle.put(worker)
        status, value = answer
        if status == "error":
            if isinstance(value, QueryError):
                raise value
            raise QueryError(str(value))
        return value

    def check_update(self, text: str) -> list[str]:
        """Parse a SPARQL update in a worker; return its operations (see
        :func:`~lifecyclegraph.store.sparql.safety.check_update`)."""
        operations: list[str] = self._run("update", text)
        return operations

    def _run(self, kind: str, payload: Any, min_generation: int | None = None) -> Any:
        if isinstance(self.store, RemoteStore):
            return self._run_remote(kind, payload)
        self.start()
        assert self.checkpoints is not None
        worker = self._acquire()
        checkpoint = None
        where: Any = None
        if kind != "update":
            # chosen once the worker is ours, and held before anything can delete it
            # (a checkpoint chosen while waiting for a worker could be pruned by then)
            for _ in range(3):
                checkpoint = self.checkpoints.latest(min_generation)
                if self.checkpoints.hold(worker.id, checkpoint):
                    break
            else:
                self._idle.put(worker)
                raise QueryUnavailableError(
                    "no checkpoint of the store could be held for the query", retry_after=1
                )
            assert checkpoint is not None
            where = str(checkpoint.path)
        if kind == "past":
            assert checkpoint is not None
            try:
                where = (where, str(self.checkpoints.archive_of(checkpoint)))
            except OSError as error:
                self._idle.put(worker)
                raise QueryUnavailableError(
                    f"the archive could not be copied for the query: {error}", retry_after=1
                ) from None
        worker.busy = True
        try:
            worker.conn.send((kind, where, payload))
            finished = worker.conn.poll(self.timeout)
            answer = worker.conn.recv() if finished else None
        except (EOFError, OSError):
            raise self._lost(worker) from None
        finally:
            worker.busy = False
        if answer is None:
            self._replace(worker)
            raise self._timed_out()
        return self._value(worker, answer)

    def _run_remote(self, kind: str, payload: Any) -> Any:
        """A job on a remote store: the store's server does the work (and stops it at
        its own timeout), so the job runs in the calling thread, with no worker, and
        reads every committed write."""
        if self._closed:
            raise QueryUnavailableError("the query pool is closed", retry_after=0)
        if kind == "update":
            return check_update(payload)
        assert isinstance(self.store, RemoteStore)
        try:
            if kind == "past":  # the graph as it was: copied from the store, as embedded
                when, request = payload
                return evaluate(PastView(self.store, when).dataset().store, request)
            return evaluate(self.store.current, payload)
        except StoreError as error:
            if isinstance(error.__cause__, httpx.TimeoutException):
                self.timeouts += 1
                raise QueryTimeoutError(str(error), self.store.endpoint.timeout) from None
            raise QueryUnavailableError(str(error), retry_after=1) from None

    # -- workers --------------------------------------------------------------------

    def _lost(self, worker: _Worker) -> QueryError:
        """The error for a query whose worker died under it (and replace the worker)."""
        try:
            code = worker.process.wait(5.0)
        except subprocess.TimeoutExpired:
            code = None
        self._replace(worker)
        if code is not None and -code in _CRASH_SIGNALS:
            return QueryTooComplexError(
                "the query engine crashed on this query (signal "
                f"{signal.Signals(-code).name}): it is most likely nested too deeply or "
                "too long; the service itself is unharmed"
            )
        return QueryUnavailableError(
            f"the query worker died while running the query (exit status {code}); "
            "it may have run out of memory",
            retry_after=1,
        )

    def _acquire(self) -> _Worker:
        """An idle, live worker.

        Waits at most ``timeout`` while workers are busy; while none is busy (they are
        all starting, as right after :meth:`start`), up to :data:`STARTUP_SECONDS`.
        """
        began = time.monotonic()
        while True:
            try:
                worker = self._idle.get(timeout=0.05)
            except queue.Empty:
                waited = time.monotonic() - began
                if waited >= STARTUP_SECONDS or (waited >= self.timeout and self.busy()):
                    raise QueryUnavailableError(
                        f"all {self.size} query workers stayed busy for {waited:.3g} s",
                        retry_after=max(1, round(self.timeout)),
                    ) from None
                continue
            if worker.process.poll() is None:
                return worker
            self._replace(worker)

    def _spawn(self) -> None:
        """Start one worker; it joins the idle queue once it says it is ready.

        The worker is a fresh interpreter (``python -m lifecyclegraph.store.sparql.worker``)
        rather than a ``multiprocessing`` child, so it never re-imports the caller's
        main module; it talks over a socket pair wrapped as a ``Connection``.
        """
        parent_sock, child_sock = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([_PACKAGE_ROOT, *filter(None, [env.get("PYTHONPATH")])])
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lifecyclegraph.store.sparql.worker",
                str(child_sock.fileno()),
                str(os.getpid()),
            ],
            pass_fds=[child_sock.fileno()],
            stdin=subprocess.DEVNULL,
            env=env,
        )
        child_sock.close()
        worker = _Worker(next(self._ids), process, Connection(parent_sock.detach()))
        self._workers[worker.id] = worker
        threading.Thread(
            target=self._await_ready, args=(worker,), name="query-worker-start", daemon=True
        ).start()

    def _await_ready(self, worker: _Worker) -> None:
        try:
            ready = worker.conn.poll(STARTUP_SECONDS)
            message = worker.conn.recv() if ready else None
        except (EOFError, OSError):
            message = None
        if message is None or message[0] != "ready":
            # Try again a few times; a worker that cannot start at all (a broken
            # installation) must not be respawned forever.
            self._failed_starts += 1
            self._replace(worker, respawn=self._failed_starts < 3)
            return
        self._failed_starts = 0
        worker.pid = message[1]
        worker.ready.set()
        self._idle.put(worker)

    def _replace(self, worker: _Worker, respawn: bool = True) -> None:
        """Kill ``worker`` (if it still runs), reap it, and start another."""
        if worker.process.poll() is None:
            worker.process.kill()
        worker.process.wait()
        worker.hang_up()
        if self.checkpoints is not None:
            self.checkpoints.hold(worker.id, None)
        with self._lock:
            if self._workers.pop(worker.id, None) is None or self._closed:
                return
            self.replaced += 1
            if respawn:
                self._spawn()
