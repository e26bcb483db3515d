"""The query worker process: receives jobs on a pipe, runs them, sends the answers.

A worker opens checkpoints read-only (:mod:`lifecyclegraph.store.sparql.checkpoint`) and
keeps the newest it was told about open between jobs. It has no timeout of its
own: the parent kills it at the deadline (Oxigraph cannot cancel a query), and it
exits by itself if its parent goes away.

The messages, all pickled through :class:`multiprocessing.connection.Connection`:

* parent to worker: ``("query", checkpoint_path, QueryRequest)``,
  ``("past", (checkpoint_path, archive_path), (when, QueryRequest))`` (the graph as it
  was at ``when``), ``("update", None, text)``, or ``None`` to stop;
* worker to parent: ``("ready", pid)`` once, then for each job ``("ok", value)`` or
  ``("error", exception)`` (a :class:`lifecyclegraph.core.errors.QueryError`).

Run it as ``python -m lifecyclegraph.store.sparql.worker FD PARENT_PID``, ``FD`` being its end
of a socket pair.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["main"]


def _exit_with_parent(parent: int) -> None:
    """Leave when the parent process is gone, even in the middle of a query."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


#: The stack of the thread that runs queries: Oxigraph's parser and evaluator recurse
#: (a 2,500-deep query overflows the usual 8 MiB). Only the pages used are committed.
STACK_BYTES = 256 * 1024 * 1024


def main(conn: Connection, parent: int) -> None:
    """Serve jobs from ``conn`` until told to stop or the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    _exit_with_parent(parent)
    threading.stack_size(STACK_BYTES)
    runner = threading.Thread(target=_serve, args=(conn,), name="queries")
    runner.start()
    runner.join()


def _serve(conn: Connection) -> None:

    from pyoxigraph import Store

    from lifecyclegraph.core.errors import QueryError
    from lifecyclegraph.store import SnapshotStore
    from lifecyclegraph.store.past import PastView
    from lifecyclegraph.store.sparql.run import evaluate
    from lifecyclegraph.store.sparql.safety import check_query, check_update

    check_query("SELECT ?service {}")  # load and warm rdflib's parser before any deadline
    conn.send(("ready", os.getpid()))
    dataset: Any = None
    opened: Any = None
    past: tuple[Any, Any] | None = None  # (paths, when) and the dataset made for them
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        kind, path, payload = job
        answer: tuple[str, Any]
        try:
            if kind == "query":
                if path != opened:
                    dataset = None  # close the older checkpoint first
                    dataset, opened = Store.read_only(path), path
                answer = ("ok", evaluate(dataset, payload))
            elif kind == "past":
                when, request = payload
                if past is None or past[0] != (path, when):
                    past = dataset = opened = None  # close the older ones first
                    current, archive = (Store.read_only(p) for p in path)
                    view = PastView(SnapshotStore(current, archive), when)
                    past = ((path, when), view.dataset().store)
                    del view, current, archive  # the copy in memory is all it needs
                answer = ("ok", evaluate(past[1], request))
            elif kind == "update":
                answer = ("ok", check_update(payload))
            else:
                answer = ("error", QueryError(f"unknown job kind {kind!r}"))
        except QueryError as error:
            answer = ("error", error)
        except Exception as error:  # never die on a bad job: report it
            answer = ("error", QueryError(f"{type(error).__name__}: {error}"))
        conn.send(answer)


if __name__ == "__main__":
    import sys

    main(Connection(int(sys.argv[1])), int(sys.argv[2]))
