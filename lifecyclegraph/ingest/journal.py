"""The ingestion journal: accepted events, pending work, dead letters and quality findings.

A SQLite database (WAL, ``synchronous=FULL``) beside the store. An event is
acknowledged only once it is committed here, so no accepted event is lost. Work
is kept per URI: many events for one object collapse into one row (one
hydration), and a version counter makes sure an event that arrives while its
object is being hydrated is not swallowed by that hydration.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["DeadLetter", "Finding", "Journal", "WorkItem"]


def _platform_of(uri: str) -> str:
    """SQL for the platform of the ``aip://<componentType>/<platformId>/...`` URI the
    SQL expression ``uri`` holds (what follows the component type, up to the next
    slash; the whole rest if none follows)."""
    rest = f"substr({uri}, instr(substr({uri}, 7), '/') + 7)"
    head = f"substr({rest}, 1, instr({rest}, '/') - 1)"
    return f"CASE instr({rest}, '/') WHEN 0 THEN {rest} ELSE {head} END"


#: Status counts kept by triggers as the rows change, so that ``stats`` costs the same
#: under a backlog of a million events as under none (it scanned and grouped every
#: queued row, under the lock intake and work take: 3.8 s at 650,000 queued).
_TALLIES = f"""
CREATE TABLE IF NOT EXISTS tallies (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS work_by_platform (
    platform TEXT PRIMARY KEY,
    queued INTEGER NOT NULL,
    failing INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS work_platform_age ON work({_platform_of("uri")}, enqueued_at);
CREATE TRIGGER IF NOT EXISTS events_tally_insert AFTER INSERT ON events WHEN NEW.done = 0
BEGIN
    UPDATE tallies SET n = n + 1 WHERE name = 'events_pending';
END;
CREATE TRIGGER IF NOT EXISTS events_tally_update AFTER UPDATE OF done ON events
WHEN (OLD.done = 0) != (NEW.done = 0)
BEGIN
    UPDATE tallies SET n = n + CASE WHEN NEW.done = 0 THEN 1 ELSE -1 END
    WHERE name = 'events_pending';
END;
CREATE TRIGGER IF NOT EXISTS work_tally_insert AFTER INSERT ON work
BEGIN
    INSERT INTO work_by_platform (platform, queued, failing)
    VALUES ({_platform_of("NEW.uri")}, 1, NEW.attempts > 0)
    ON CONFLICT (platform) DO UPDATE SET queued = queued + 1,
        failing = failing + (NEW.attempts > 0);
END;
CREATE TRIGGER IF NOT EXISTS work_tally_delete AFTER DELETE ON work
BEGIN
    UPDATE work_by_platform SET queued = queued - 1, failing = failing - (OLD.attempts > 0)
    WHERE platform = {_platform_of("OLD.uri")};
END;
CREATE TRIGGER IF NOT EXISTS work_tally_update AFTER UPDATE OF uri, attempts ON work
BEGIN
    UPDATE work_by_platform SET queued = queued - 1, failing = failing - (OLD.attempts > 0)
    WHERE platform = {_platform_of("OLD.uri")};
    INSERT INTO work_by_platform (platform, queued, failing)
    VALUES ({_platform_of("NEW.uri")}, 1, NEW.attempts > 0)
    ON CONFLICT (platform) DO UPDATE SET queued = queued + 1,
        failing = failing + (NEW.attempts > 0);
END;
"""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    uri TEXT NOT NULL,
    event_type TEXT NOT NULL,
    event_id TEXT,
    payload TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_uri ON events(uri, done);
CREATE INDEX IF NOT EXISTS events_pending ON events(seq) WHERE done = 0;
CREATE TABLE IF NOT EXISTS work (
    uri TEXT PRIMARY KEY,
    hint TEXT,
    reason TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    last_seq INTEGER,
    last_event_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    due REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    enqueued_at REAL NOT NULL,
    not_before REAL
);
CREATE INDEX IF NOT EXISTS work_due ON work(due);
CREATE TABLE IF NOT EXISTS deadletters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL,
    replayed_at TEXT,
    kind TEXT NOT NULL DEFAULT 'event'
);
CREATE TABLE IF NOT EXISTS findings (
    uri TEXT NOT NULL,
    at TEXT NOT NULL,
    rejected INTEGER NOT NULL,
    report TEXT NOT NULL,
    PRIMARY KEY (uri)
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One URI to hydrate, with the version of its row when it was taken.

    ``not_before`` is when the latest event that queued it was accepted (a Unix
    time): its hydration must read the source as it is at that time or later.
    ``None`` when only reconcile or enrichment queued it.
    """

    uri: str
    hint: str | None
    reason: str
    version: int
    last_seq: int | None
    attempts: int
    last_event_id: str | None = None
    not_before: float | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected event, or work given up on, with the reason.

    ``kind`` is ``"event"`` (``payload``: the event's text, as received, cut at the
    event size limit) or ``"work"`` (``payload``: JSON ``{"uri", "hint", "attempts"}``
    of a URI that could not be hydrated).
    """

    id: int
    received_at: str
    payload: str
    reason: str
    replayed_at: str | None
    kind: str = "event"


@dataclass(frozen=True, slots=True)
class Finding:
    """The last validation report of an entity that had violations or warnings."""

    uri: str
    at: str
    rejected: bool
    report: dict[str, Any]


class Journal:
    """The durable record of ingestion. Safe to use from several threads.

    Args:
        path: the SQLite file, or ``":memory:"``. A new file is made readable and
            writable by its owner only (it holds raw events); SQLite gives its
            ``-wal`` and ``-shm`` files the same mode.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:" and not self.path.startswith("file:"):
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)
            self._migrate()
            self._tally()

    def _migrate(self) -> None:
        """Bring a journal made by an older version up to this schema."""
        work_columns = {row[1] for row in self._conn.execute("PRAGMA table_info(work)")}
        if "not_before" not in work_columns:
            with self._tx() as db:
                # work queued by older versions keeps no bound: it may read the cache
                db.execute("ALTER TABLE work ADD COLUMN not_before REAL")
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(deadletters)")}
        if "kind" not in columns:
            with self._tx() as db:
                db.execute("ALTER TABLE deadletters ADD COLUMN kind TEXT NOT NULL DEFAULT 'event'")
                # work dead-lettered by older versions: {"uri": ...}, as drop_work wrote it
                db.execute("UPDATE deadletters SET kind = 'work' WHERE payload LIKE '{\"uri\"%'")

    def _tally(self) -> None:
        """Create the status tallies (:data:`_TALLIES`); on a journal made before them,
        count what they hold once, in the same transaction."""
        self._conn.executescript(_TALLIES)  # whatever writes now is counted again below
        with self._tx() as db:
            if db.execute("SELECT 1 FROM tallies WHERE name = 'events_pending'").fetchone():
                return
            pending = db.execute(
                "SELECT COUNT(*) FROM events INDEXED BY events_pending WHERE done = 0"
            ).fetchone()[0]
            db.execute("INSERT INTO tallies (name, n) VALUES ('events_pending', ?)", (pending,))
            db.execute("DELETE FROM work_by_platform")
            db.execute(
                f"INSERT INTO work_by_platform (platform, queued, failing) "
                f"SELECT {_platform_of('uri')}, COUNT(*), SUM(attempts > 0) FROM work GROUP BY 1"
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- intake ------------------------------------------------------------------------

    def accept(self, events: Iterable[tuple[str, str, str | None, str, str | None]]) -> int:
        """Record accepted events durably and queue their URIs; return how many.

        Each item is ``(uri, event_type, event_id, payload_json, hint_class)``.
        """
        count = 0
        now = time.time()
        received = _now()
        with self._tx() as db:
            for uri, event_type, event_id, payload, hint in events:
                cursor = db.execute(
                    "INSERT INTO events (received_at, uri, event_type, event_id, payload) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (received, uri, event_type, event_id, payload),
                )
                self._enqueue(
                    db, uri, hint, "event", now, cursor.lastrowid, event_id, not_before=now
                )
                count += 1
        return count

    def payloads(self, uri: str) -> list[str]:
        """Every event recorded for ``uri``, as received, oldest first (a pushed source's
        objects are folded from them)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT payload FROM events WHERE uri = ? ORDER BY seq", (uri,)
            ).fetchall()
        return [row[0] for row in rows]

    def documents(self, uri: str) -> list[tuple[str, str]]:
        """The events recorded for ``uri`` and not yet processed, as ``(event type,
        payload)``, oldest first: a pushed source's documents that go with its work to
        the worker owning it (those handed over before are marked processed then)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT event_type, payload FROM events WHERE uri = ? AND done = 0 ORDER BY seq",
                (uri,),
            ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def dead_letter(self, items: Iterable[tuple[str, str]]) -> int:
        """Record rejected payloads with their reasons; return how many."""
        received = _now()
        with self._tx() as db:
            rows = [(received, payload, reason) for payload, reason in items]
            db.executemany(
                "INSERT INTO deadletters (received_at, payload, reason) VALUES (?, ?, ?)", rows
            )
        return len(rows)

    def enqueue(
        self, uris: Iterable[tuple[str, str | None]], reason: str, spread: float = 0.0
    ) -> int:
        """Queue URIs for hydration that no event announced (reconcile, stubs).

        With ``spread`` seconds, the items fall due evenly over that period from now
        instead of all at once (periodic work that should not come in one burst).
        """
        items = list(uris)
        now = time.time()
        step = spread / len(items) if spread > 0 and items else 0.0
        with self._tx() as db:
            for i, (uri, hint) in enumerate(items):
                self._enqueue(db, uri, hint, reason, now, None, due=now + i * step)
        return len(items)

    def pending(self, reason: str) -> int:
        """How many queued work items were queued for ``reason`` (and not done)."""
        with self._lock:
            row = self._conn.execute("SELECT COUNT(*) FROM work WHERE reason = ?", (reason,))
            return int(row.fetchone()[0])

    @staticmethod
    def _enqueue(
        db: sqlite3.Connection,
        uri: str,
        hint: str | None,
        reason: str,
        now: float,
        seq: int | None,
        event_id: str | None = None,
        due: float | None = None,
        not_before: float | None = None,
    ) -> None:
        # not_before only grows: a later reconcile or enrichment of the same URI does
        # not lift the bound of an event still waiting (SQLite's MAX(x, NULL) is NULL)
        db.execute(
            "INSERT INTO work (uri, hint, reason, last_seq, last_event_id, due, enqueued_at,"
            " not_before) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(uri) DO UPDATE SET version = version + 1, due = MIN(due, excluded.due),"
            " hint = COALESCE(excluded.hint, hint),"
            " last_seq = COALESCE(excluded.last_seq, last_seq),"
            " last_event_id = COALESCE(excluded.last_event_id, last_event_id),"
            " not_before = COALESCE(MAX(not_before, excluded.not_before), not_before,"
            " excluded.not_before),"
            " reason = excluded.reason",
            (uri, hint, reason, seq, event_id, now if due is None else due, now, not_before),
        )

    # -- work --------------------------------------------------------------------------

    def due(self, limit: int, now: float | None = None) -> list[WorkItem]:
        """Up to ``limit`` work items whose time has come, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT uri, hint, reason, version, last_seq, attempts, last_event_id, not_before"
                " FROM work "
                "WHERE due <= ? ORDER BY due, enqueued_at LIMIT ?",
                (time.time() if now is None else now, limit),
            ).fetchall()
        return [WorkItem(*row) for row in rows]

    def next_due(self) -> float | None:
        """When the earliest queued work is due (a Unix time), or None if none is queued."""
        with self._lock:
            row = self._conn.execute("SELECT MIN(due) FROM work").fetchone()
        return row[0]

    def complete(
        self,
        items: Iterable[WorkItem],
        findings: Iterable[tuple[str, bool, dict[str, Any] | None]] = (),
    ) -> None:
        """Mark work done (unless a newer event re-queued it) and its events processed,
        and keep the validation findings of the pass, in one transaction."""
        with self._tx() as db:
            self._findings(db, findings)
            for item in items:
                db.execute(
                    "DELETE FROM work WHERE uri = ? AND version = ?", (item.uri, item.version)
                )
                if item.last_seq is not None:
                    db.execute(
                        "UPDATE events SET done = 1 WHERE uri = ? AND seq <= ? AND done = 0",
                        (item.uri, item.last_seq),
                    )

    def retry_later(self, items: Iterable[tuple[WorkItem, float, str]]) -> None:
        """Keep failed work for later: ``(item, delay_seconds, error)``; never dropped."""
        now = time.time()
        with self._tx() as db:
            for item, delay, error in items:
                db.execute(
                    "UPDATE work SET attempts = attempts + 1, due = ?, last_error = ? "
                    "WHERE uri = ?",
                    (now + delay, error[:2000], item.uri),
                )

    def postpone(self, items: Iterable[WorkItem], delay: float, error: str) -> None:
        """Keep work for later without counting a failed attempt: it could not be handed
        to the worker that owns it (a peer of the cluster is down), it did not fail."""
        due = time.time() + delay
        with self._tx() as db:
            db.executemany(
                "UPDATE work SET due = ?, last_error = ? WHERE uri = ?",
                [(due, error[:2000], item.uri) for item in items],
            )

    def enqueue_forwarded(
        self,
        items: Iterable[tuple[str, str | None, str, float | None, str | None]],
        documents: Mapping[str, Iterable[tuple[str, str]]] | None = None,
    ) -> int:
        """Queue work another worker of the cluster handed over, as it was queued there:
        ``(uri, hint, reason, not_before, last_event_id)`` each. Idempotent as any
        queueing is: a URI already queued is queued once, its freshness bound kept.

        ``documents`` maps a URI to a pushed source's documents ``(event type,
        payload)`` the sender holds for it; each is recorded under the URI, as
        :meth:`accept` records one, unless this journal holds the same text for it
        already (a document handed over twice is recorded once), all in the same
        transaction as the work.
        """
        now = time.time()
        count = 0
        documents = documents or {}
        received = _now()
        with self._tx() as db:
            for uri, hint, reason, not_before, event_id in items:
                seq = None
                for event_type, payload in documents.get(uri, ()):
                    cursor = db.execute(
                        "INSERT INTO events (received_at, uri, event_type, event_id, payload) "
                        "SELECT ?, ?, ?, NULL, ? WHERE NOT EXISTS "
                        "(SELECT 1 FROM events WHERE uri = ? AND payload = ?)",
                        (received, uri, event_type, payload, uri, payload),
                    )
                    if cursor.rowcount:
                        seq = cursor.lastrowid
                self._enqueue(db, uri, hint, reason, now, seq, event_id, not_before=not_before)
                count += 1
        return count

    def drop_work(self, items: Iterable[tuple[WorkItem, str]]) -> int:
        """Give up on work that failed for good, recording a dead letter with the reason.

        Work re-queued by a newer event meanwhile is kept (that event deserves its own
        try). Returns how many items were dead-lettered.
        """
        count = 0
        with self._tx() as db:
            for item, reason in items:
                cursor = db.execute(
                    "DELETE FROM work WHERE uri = ? AND version = ?", (item.uri, item.version)
                )
                if not cursor.rowcount:
                    continue
                db.execute("UPDATE events SET done = 1 WHERE uri = ? AND done = 0", (item.uri,))
                payload = {"uri": item.uri, "hint": item.hint, "attempts": item.attempts + 1}
                db.execute(
                    "INSERT INTO deadletters (received_at, payload, reason, kind) "
                    "VALUES (?, ?, ?, 'work')",
                    (_now(), json.dumps(payload), reason[:2000]),
                )
                count += 1
        return count

    # -- findings ----------------------------------------------------------------------

    def record_finding(self, uri: str, rejected: bool, report: dict[str, Any] | None) -> None:
        """Keep an entity's latest validation report (``None`` clears it)."""
        with self._tx() as db:
            self._findings(db, [(uri, rejected, report)])

    @staticmethod
    def _findings(
        db: sqlite3.Connection, findings: Iterable[tuple[str, bool, dict[str, Any] | None]]
    ) -> None:
        now = _now()
        for uri, rejected, report in findings:
            if report is None:
                db.execute("DELETE FROM findings WHERE uri = ?", (uri,))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO findings (uri, at, rejected, report) VALUES (?,?,?,?)",
                    (uri, now, int(rejected), json.dumps(report)),
                )

    def findings(self, rejected: bool | None = None) -> list[Finding]:
        query = "SELECT uri, at, rejected, report FROM findings"
        args: tuple[Any, ...] = ()
        if rejected is not None:
            query += " WHERE rejected = ?"
            args = (int(rejected),)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY uri", args).fetchall()
        return [Finding(uri, at, bool(rej), json.loads(rep)) for uri, at, rej, rep in rows]

    # -- dead letters ------------------------------------------------------------------

    def dead_letters(self, include_replayed: bool = False) -> list[DeadLetter]:
        query = "SELECT id, received_at, payload, reason, replayed_at, kind FROM deadletters"
        if not include_replayed:
            query += " WHERE replayed_at IS NULL"
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY id").fetchall()
        return [DeadLetter(*row) for row in rows]

    def mark_replayed(self, ids: Iterable[int]) -> None:
        with self._tx() as db:
            db.executemany(
                "UPDATE deadletters SET replayed_at = ? WHERE id = ?", [(_now(), i) for i in ids]
            )

    def arrivals(self) -> dict[str, list[tuple[str, int]]]:
        """When events arrived, per source (the platform of their URI): each distinct
        arrival time (ISO 8601, UTC) with how many events came then, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_platform_of('uri')}, received_at, COUNT(*) "
                "FROM events GROUP BY 1, 2 ORDER BY 2, 1"
            ).fetchall()
        out: dict[str, list[tuple[str, int]]] = {}
        for platform, received_at, count in rows:
            out.setdefault(platform, []).append((received_at, count))
        return out

    # -- status ------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counts for ``lifecyclegraph status``: events, queue depth (``queue_due``: the
        queued work due now, not waiting for a retry or its turn in a spread pass) and
        age, failures."""
        now = time.time()
        with self._lock:
            db = self._conn
            # events are never deleted: the last sequence number is their count; the
            # rest is kept by triggers as rows change (_TALLIES) or read from an index
            row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
            events = row[0] if row else 0
            pending_events = db.execute(
                "SELECT n FROM tallies WHERE name = 'events_pending'"
            ).fetchone()[0]
            platforms = db.execute(
                "SELECT platform, queued, failing FROM work_by_platform WHERE queued > 0"
            ).fetchall()
            oldest = {
                platform: db.execute(
                    f"SELECT MIN(enqueued_at) FROM work WHERE {_platform_of('uri')} = ?",
                    (platform,),
                ).fetchone()[0]
                for platform, _, _ in platforms
            }
            # what is not due yet, an index range, is the smaller part under a backlog
            later = db.execute("SELECT COUNT(*) FROM work WHERE due > ?", (now,)).fetchone()[0]
            dead = db.execute(
                "SELECT COUNT(*) FROM deadletters WHERE replayed_at IS NULL"
            ).fetchone()[0]
            rejected = db.execute("SELECT COUNT(*) FROM findings WHERE rejected = 1").fetchone()[0]
            dangling = db.execute(
                "SELECT COUNT(*) FROM findings WHERE report LIKE '%\"dangling-reference\"%'"
            ).fetchone()[0]
        per_source = {
            platform: {
                "queued": queued,
                "failing": failing,
                "lag_seconds": round(now - oldest[platform], 3) if oldest[platform] else 0.0,
            }
            for platform, queued, failing in sorted(platforms)
        }
        depth = sum(entry["queued"] for entry in per_source.values())
        failing = sum(entry["failing"] for entry in per_source.values())
        due = depth - later
        lag = max((entry["lag_seconds"] for entry in per_source.values()), default=0.0)
        return {
            "events": events,
            "events_pending": pending_events,
            "queue_depth": depth,
            "queue_due": due,
            "lag_seconds": lag,
            "failing": failing,
            "dead_letters": dead,
            "rejected_entities": rejected,
            "dangling_references": dangling,
            "sources": per_source,
        }
