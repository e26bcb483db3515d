"""The shared change feed of a remote store: what one worker's writes tell the others.

Several processes may write one remote store (issue 18, point 5: each owns a partition
of the entities). Each keeps its own rule engine and search index, fed by the store's
change feed (:meth:`~lifecyclegraph.store.SnapshotStore.subscribe`), which only sees
the writes of its own process. A :class:`~lifecyclegraph.store.remote.RemoteStore`
connected with a ``writer`` name therefore adds to each write of asserted facts, *in
the same SPARQL Update request*, a change record in :data:`CHANGES_GRAPH`::

    <urn:lifecyclegraph:change:w0:42> lg:writer "w0" ; lg:seq 42 ;
        lg:at "2026-12-03T04:00:00+00:00"^^xsd:dateTime ;
        lg:delta "+ <s> <p> <o> .\\n- <s> <p> <o> .\\n" .

``seq`` counts the writer's records (one more per record, from the highest in the store
when the writer connects), and the delta is the :class:`~lifecyclegraph.store.Delta`
its own listeners got, as N-Triples lines with ``+`` (added) or ``-`` (removed) first.
A :class:`ChangeFollower` reads the other writers' records in ``(writer, seq)`` order
and publishes each delta to its own store's listeners as a local commit does, so the
rule engine and the search index of every process see every process's writes.

The changes graph is no part of any query's dataset (nor of ``quads``, ``asserted``,
``/sparql``). :func:`prune` removes old records; ``docs/remote-store.md`` says what the
feed costs and how long to keep it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any, Protocol

from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, parse

from lifecyclegraph.core.errors import ConfigError, StoreError
from lifecyclegraph.core.facts import to_literal
from lifecyclegraph.core.vocab import LG
from lifecyclegraph.store.values import Delta

__all__ = [
    "CHANGES_GRAPH",
    "ChangeFollower",
    "ChangeLog",
    "FeedStore",
    "check_writer",
    "decode_delta",
    "encode_delta",
    "heads",
    "prune",
]

logger = logging.getLogger("lifecyclegraph.store.changes")

#: The graph of change records (never part of a query's dataset).
CHANGES_GRAPH = NamedNode("https://w3id.org/lifecyclegraph/graph/changes")
#: A change record's IRI is this, the writer, ``:`` and its sequence number.
CHANGE_PREFIX = "urn:lifecyclegraph:change:"
#: How many records one poll reads at most (each holds one write's delta).
PAGE = 200

_G = f"<{CHANGES_GRAPH.value}>"
_WRITER = re.compile(r"[A-Za-z0-9._-]{1,64}")


class FeedStore(Protocol):
    """What the feed needs of its store: a
    :class:`~lifecyclegraph.store.remote.RemoteStore` (named so, the store's module
    imports this one)."""

    #: this process's writer name, or ``None``
    writer: str | None
    #: where the store answers (its ``timeout`` is the longest a request may take)
    endpoint: Any

    @property
    def wire(self) -> Any:
        """The SPARQL protocol client (``select``, ``update``)."""
        ...

    def publish(self, delta: Delta | None) -> None:
        """Hand another writer's delta to the local listeners."""
        ...


def check_writer(writer: str) -> str:
    """Return ``writer`` if it may name a writer of the change feed.

    Raises:
        ConfigError: unless it is 1 to 64 letters, digits, ``.``, ``_`` or ``-`` (it
            goes into the records' IRIs).

    >>> check_writer("w0")
    'w0'
    """
    if not isinstance(writer, str) or not _WRITER.fullmatch(writer):
        raise ConfigError(
            f"writer {writer!r}: a change feed writer's name is 1 to 64 letters, digits, "
            "'.', '_' or '-'"
        )
    return writer


def encode_delta(delta: Delta | None) -> str:
    """A delta as N-Triples lines, ``+`` (added) or ``-`` (removed) first, sorted.

    >>> from pyoxigraph import NamedNode as N, Triple
    >>> print(encode_delta(Delta(frozenset({Triple(N("urn:s"), N("urn:p"), N("urn:o"))}),
    ...                          frozenset())), end="")
    + <urn:s> <urn:p> <urn:o> .
    """
    if delta is None:
        return ""
    lines = [f"+ {t} .\n" for t in delta.added] + [f"- {t} .\n" for t in delta.removed]
    return "".join(sorted(lines))


def decode_delta(text: str) -> Delta:
    """The delta :func:`encode_delta` wrote.

    Raises:
        StoreError: if a line is not ``+`` or ``-`` and an N-Triples triple.

    >>> d = decode_delta("- <urn:s> <urn:p> \\"x\\" .\\n")
    >>> [str(t) for t in d.removed], d.added
    (['<urn:s> <urn:p> "x"'], frozenset())
    """
    added: list[str] = []
    removed: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("+ "):
            added.append(line[2:])
        elif line.startswith("- "):
            removed.append(line[2:])
        elif line.strip():
            raise StoreError(f"change record line {number}: not '+ triple' or '- triple'")
    return Delta(_triples(added), _triples(removed))


def _triples(lines: list[str]) -> frozenset[Triple]:
    if not lines:
        return frozenset()
    text = "\n".join(lines).encode()
    try:
        quads = parse(text, format=RdfFormat.N_TRIPLES)
        return frozenset(Triple(q.subject, q.predicate, q.object) for q in quads)
    except SyntaxError as error:
        raise StoreError(f"a change record's delta is not N-Triples: {error}") from error


class ChangeLog:
    """The change records one writer adds to its writes (numbered from ``seq`` + 1).

    The store calls :meth:`record` under its write lock, once per request, so a
    writer's records are numbered in the order its requests are sent. A request that
    fails still uses its number (it may have been applied): the feed then has a gap,
    which a :class:`ChangeFollower` waits for before it goes on.

    >>> log = ChangeLog("w0", 41)
    >>> [q[1] for q in log.record(None)][:2], log.seq
    (['<https://w3id.org/lifecyclegraph/ontology#writer>', \
'<https://w3id.org/lifecyclegraph/ontology#seq>'], 42)
    """

    def __init__(self, writer: str, seq: int) -> None:
        self.writer = check_writer(writer)
        self.seq = seq

    def record(self, delta: Delta | None) -> list[tuple[str, str, str, str]]:
        """The quads (SPARQL terms) of the next record, carrying ``delta``."""
        self.seq += 1
        iri = f"<{CHANGE_PREFIX}{self.writer}:{self.seq}>"
        return [
            (iri, str(LG.writer), str(Literal(self.writer)), _G),
            (iri, str(LG.seq), str(Literal(self.seq)), _G),
            (iri, str(LG.at), str(to_literal(datetime.now(UTC))), _G),
            (iri, str(LG.delta), str(Literal(encode_delta(delta))), _G),
        ]


def heads(store: FeedStore) -> dict[str, int]:
    """The highest sequence number of each writer's records in the store.

    Raises:
        StoreUnavailableError: if the store does not answer.
    """
    rows = store.wire.select(
        f"SELECT ?w (MAX(?n) AS ?seq) WHERE {{ GRAPH {_G} {{ ?c <{LG.writer.value}> ?w ; "
        f"<{LG.seq.value}> ?n }} }} GROUP BY ?w",
        "read the change feed's writers",
    )
    return {row["w"].value: int(row["seq"].value) for row in rows if row["seq"] is not None}


def prune(store: FeedStore, older_than: datetime) -> int:
    """Delete the change records written before ``older_than``, except each writer's
    newest (a writer that connects again numbers on from it).

    A follower that has not applied a deleted record misses that write: a process kept
    offline longer than the window kept rebuilds what it derives (``lifecyclegraph
    rules run``, ``reindex``).

    Returns:
        How many records were deleted.

    Raises:
        StoreUnavailableError: if the store does not answer.
    """
    cutoff = str(to_literal(older_than))
    where = (
        f"GRAPH {_G} {{ ?c <{LG.writer.value}> ?w ; <{LG.seq.value}> ?n ; "
        f"<{LG.at.value}> ?at . FILTER (?at < {cutoff}) "
        f"FILTER EXISTS {{ ?later <{LG.writer.value}> ?w ; <{LG.seq.value}> ?m . "
        "FILTER (?m > ?n) } }"
    )
    rows = store.wire.select(
        f"SELECT (COUNT(DISTINCT ?c) AS ?k) WHERE {{ {where} }}", "count old change records"
    )
    count = next((int(row["k"].value) for row in rows), 0)
    if count:
        store.wire.update(
            f"DELETE {{ GRAPH {_G} {{ ?c ?p ?o }} }} WHERE {{ {where} GRAPH {_G} {{ ?c ?p ?o }} }}",
            "prune the change feed",
        )
    return count


class ChangeFollower:
    """Publishes the other writers' change records to ``store``'s listeners.

    Made before the rule engine materializes and the search index catches up, it reads
    where each writer's records stand (so the writes those reads see are not applied
    again, and later ones are not missed; one applied again is a no-op for both).
    :meth:`start` runs a thread that polls the store every ``poll`` seconds;
    :meth:`catch_up` polls in the caller's thread until every record committed before
    the call is published. Records of one writer are published in ``seq`` order, each
    once, under the store's write lock as a local commit's delta is.

    Args:
        store: the remote store; its own writer's records are skipped (its process
            published them when it wrote them).
        poll: seconds between polls.
        gap_timeout: how long to wait for a missing record (a request that failed on
            the client may still be applied) before going on without it; default the
            store's timeout.
    """

    def __init__(
        self, store: FeedStore, *, poll: float = 0.5, gap_timeout: float | None = None
    ) -> None:
        self.store = store
        self.poll = poll
        self.gap_timeout = store.endpoint.timeout if gap_timeout is None else gap_timeout
        self._lock = threading.Lock()  # one poll at a time: each record published once
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._applied: dict[str, int] = {}
        self._gaps: dict[str, float] = {}  # writer -> when its missing record was first seen
        self._skipped = 0
        self._error: str | None = None
        self._marks = {w: n for w, n in heads(store).items() if w != store.writer}

    # -- running -------------------------------------------------------------------------

    def start(self) -> ChangeFollower:
        """Poll in a thread from now on, after the last record applied.

        Start it only once the rule engine and the search index listen to the store: a
        record published before a listener subscribes reaches no listener (make the
        follower before they read the store, start it after).
        """
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._run, name="lifecyclegraph-change-follower", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread (a later :meth:`start` resumes after the last applied)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        wait = 0.0
        while not self._stopping.wait(wait):
            more = False
            try:
                more = self.poll_once()
            except Exception as error:  # the thread must survive; status() shows it
                self._failed(error)
            wait = 0.0 if more else self.poll

    def catch_up(self, timeout: float = 30.0) -> bool:
        """Wait until every record committed before the call has been published here.

        Returns:
            ``True`` then; ``False`` if ``timeout`` seconds passed first, or the store
            does not answer (:meth:`status` says why).
        """
        deadline = time.monotonic() + timeout
        try:
            targets = {w: n for w, n in heads(self.store).items() if w != self.store.writer}
        except StoreError as error:
            self._failed(error)
            return False
        while True:
            if all(self._marks.get(w, 0) >= n for w, n in targets.items()):
                return True
            try:
                more = self.poll_once()
            except StoreError as error:
                self._failed(error)
                more = False
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if not more:
                time.sleep(min(self.poll, left))

    def status(self) -> dict[str, Any]:
        """Per writer the last ``seq`` applied and how many records this follower
        applied; how many records it gave up for lost (``skipped``), its last error,
        and whether its thread runs: ``{"running": True, "writers": {"w1": {"seq": 7,
        "applied": 7}}, "skipped": 0, "last_error": None}``."""
        marks, applied = dict(self._marks), dict(self._applied)  # the thread may add one
        writers = {w: {"seq": n, "applied": applied.get(w, 0)} for w, n in sorted(marks.items())}
        return {
            "running": self._thread is not None and self._thread.is_alive(),
            "writers": writers,
            "skipped": self._skipped,
            "last_error": self._error,
        }

    def _failed(self, error: BaseException) -> None:
        message = f"{type(error).__name__}: {error}"
        if message != self._error:  # once, not at every poll while the store is down
            logger.warning("the change feed could not be read (retrying): %s", message)
        self._error = message

    # -- one poll --------------------------------------------------------------------------

    def poll_once(self) -> bool:
        """Read the records after those applied and publish them, in order.

        Returns:
            Whether a full page was read and some of it applied (more may be waiting).

        Raises:
            StoreUnavailableError: if the store does not answer.
        """
        with self._lock:
            # a writer waiting for a missing record is read apart: its records must not
            # fill the page and hold the others back
            waiting = sorted(self._gaps)
            more = self._read(self._query(exclude=waiting))
            for writer in waiting:
                more = self._read(self._query(only=writer)) or more
            return more

    def _read(self, query: str) -> bool:
        """Publish the records a query finds, each writer's in order; whether the page
        was full."""
        rows = self.store.wire.select(query, "read the change feed")
        records = [
            (row["w"].value, int(row["n"].value), row["d"].value)
            for row in rows
            if row["w"] is not None and row["n"] is not None and row["d"] is not None
        ]
        blocked: set[str] = set()
        applied = 0
        for writer, seq, text in records:
            if writer in blocked or seq <= self._marks.get(writer, 0):
                continue
            if not self._in_turn(writer, seq):
                blocked.add(writer)
                continue
            self._apply(writer, seq, text)
            applied += 1
        # a full page of records all held back by a gap is no reason to read again at
        # once: that would poll the store without pause until the gap is given up
        return len(records) >= PAGE and applied > 0

    def _query(self, *, exclude: list[str] | None = None, only: str | None = None) -> str:
        """The records after those applied: of every other writer but ``exclude``, or of
        ``only``."""
        own = self.store.writer
        filters = f"FILTER (?w != {Literal(own)}) " if own is not None else ""
        if exclude:
            filters += f"FILTER (?w NOT IN ({', '.join(str(Literal(w)) for w in exclude)})) "
        if only is not None:
            filters += f"FILTER (?w = {Literal(only)}) "
        marks = " ".join(f"({Literal(w)} {n})" for w, n in sorted(self._marks.items()))
        after = f"OPTIONAL {{ VALUES (?w ?m) {{ {marks} }} }} " if marks else ""
        return (
            f"SELECT ?w ?n ?d WHERE {{ GRAPH {_G} {{ ?c <{LG.writer.value}> ?w ; "
            f"<{LG.seq.value}> ?n ; <{LG.delta.value}> ?d }} {filters}{after}"
            f"FILTER (?n > COALESCE(?m, 0)) }} ORDER BY ?w ?n LIMIT {PAGE}"
        )

    def _in_turn(self, writer: str, seq: int) -> bool:
        """Whether ``seq`` is next for ``writer``, or the records before it are given up."""
        expected = self._marks.get(writer, 0) + 1
        if seq == expected:
            return True
        first = self._gaps.setdefault(writer, time.monotonic())
        if time.monotonic() - first < self.gap_timeout:
            return False
        logger.warning(
            "change records %d to %d of writer %s never came; going on without them",
            expected,
            seq - 1,
            writer,
        )
        self._skipped += seq - expected
        return True

    def _apply(self, writer: str, seq: int, text: str) -> None:
        self._gaps.pop(writer, None)
        try:
            delta = decode_delta(text)
        except StoreError as error:
            self._failed(StoreError(f"change record {seq} of writer {writer}: {error}"))
            delta = Delta(frozenset(), frozenset())
        try:
            self.store.publish(delta or None)
        except Exception as error:  # a listener's failure: the record counts as applied
            self._failed(error)
        self._marks[writer] = seq
        self._applied[writer] = self._applied.get(writer, 0) + 1
