"""What each indexed document was built from, beside the index (SQLite).

A search document embeds the names of the entities it links to (its owners' names,
the ``related`` names). When one of those is renamed, or a stub gets its first name,
every document that links to it must be built again, though nothing of its own
changed. Read from the store, each such document cost its entity's bookkeeping, its
snapshot and the names of its links: at a million entities those reads missed
RocksDB's caches (about 0.3 ms each, against 0.05 ms warm) and were most of the
indexer's time (``docs/benchmarks.md``, Scale). This table keeps, for every document
the index holds, what a rebuild needs instead:

* the document without the names it embeds, and the URIs it embeds names of;
* the entity's own names, for the documents that link to it;
* who links to whom, so that the documents to rebuild after a rename are one lookup.

It is derived data with the index and written after each of the index's commits, so
it is in step with the index whenever the index is marked clean. An index that was
not closed clean is repaired by a pass over the whole store, which fills this table
again (:meth:`~lifecyclegraph.search.index.SearchIndex.repair`); one that is rebuilt
empties it first. A file that cannot be read counts as a missing index: the index is
rebuilt.

>>> from lifecyclegraph.search.documents import Built, Document
>>> inputs = DocumentInputs.open(None)
>>> doc = Document("aip://model/registry/m", "M", "lg:Model", "model", "models", "",
...                ("aip://user/identity/alice",), ("Alice",), ("alice",), (), (), (), False)
>>> inputs.write([Built(doc.uri, doc, ("M",), ("aip://dataset/datasets/d",))], [])
>>> inputs.names(doc.uri), sorted(inputs.dependents("aip://user/identity/alice"))
(['M'], ['aip://model/registry/m'])
>>> base, names, links = inputs.row(doc.uri)
>>> base.owner_names, links
((), ('aip://dataset/datasets/d',))
>>> inputs.close()
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from lifecyclegraph.search.documents import Built, Document

__all__ = ["DocumentInputs"]

FILE = "inputs.sqlite"
#: Bumped when what a row holds changes: an older file counts as unreadable.
FORMAT = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS doc (
    uri TEXT PRIMARY KEY,
    names TEXT NOT NULL,
    links TEXT NOT NULL,
    base TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS link (
    target TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (target, source)
) WITHOUT ROWID;
"""
#: The fields of a document a row holds, in this order (then ``is_owner``); the others
#: are the URI and the names it embeds, which a rebuild fills again.
_BASE = ("name", "type", "type_label", "domain", "description", "owners", "tags", "keywords")
_OWNERS = _BASE.index("owners")


class DocumentInputs:
    """The inputs of every indexed document, in ``<index>/inputs.sqlite`` (or in memory).

    Not thread-safe on its own: the search index calls it under its writer's lock.
    """

    def __init__(self, db: sqlite3.Connection, path: Path | None, created: bool) -> None:
        self._db = db
        self.path = path
        #: The file was missing or unreadable, and starts empty.
        self.created = created

    @classmethod
    def open(cls, directory: Path | None) -> DocumentInputs:
        """Open the table in ``directory`` (``None``: in memory), starting afresh if the
        file is missing, unreadable or of another format."""
        if directory is None:
            return cls(_created(":memory:"), None, True)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / FILE
        if path.exists():
            db = None
            try:
                db = _connect(str(path))
                row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
                db.execute("SELECT count(*) FROM (SELECT 1 FROM doc LIMIT 1)").fetchone()
                if row is not None and row[0] == str(FORMAT):
                    return cls(db, path, False)
            except sqlite3.Error:
                pass
            if db is not None:
                db.close()
        _remove(directory)
        return cls(_created(str(path)), path, True)

    def reset(self) -> None:
        """Start again from an empty table, in a new file (one damaged where
        :meth:`open` did not look is not read again)."""
        self._db.close()
        if self.path is None:
            self._db = _created(":memory:")
            return
        _remove(self.path.parent)
        self._db = _created(str(self.path))

    def close(self) -> None:
        self._db.close()

    # -- reading ---------------------------------------------------------------------------

    def names(self, uri: str) -> list[str] | None:
        """The entity's own names as its document was built, or ``None`` if not indexed."""
        row = self._db.execute("SELECT names FROM doc WHERE uri = ?", (uri,)).fetchone()
        return None if row is None else json.loads(row[0])

    def row(self, uri: str) -> tuple[Document, tuple[str, ...], tuple[str, ...]] | None:
        """``(document without embedded names, own names, links)``, or ``None``."""
        row = self._db.execute(
            "SELECT names, links, base FROM doc WHERE uri = ?", (uri,)
        ).fetchone()
        if row is None:
            return None
        names, links, base = (json.loads(text) for text in row)
        # the row's fields in _BASE's order, then is_owner; JSON gave lists for tuples
        fields: dict[str, Any] = {
            name: tuple(value) if isinstance(value, list) else value
            for name, value in zip((*_BASE, "is_owner"), base, strict=True)
        }
        doc = Document(uri=uri, owner_names=(), owner_keys=(), related=(), **fields)
        return doc, tuple(names), tuple(links)

    def dependents(self, uri: str) -> set[str]:
        """The indexed documents that embed the names of ``uri`` (they link to it)."""
        rows = self._db.execute("SELECT source FROM link WHERE target = ?", (uri,))
        return {source for (source,) in rows}

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM doc").fetchone()[0])

    # -- writing ---------------------------------------------------------------------------

    def write(self, built: Sequence[Built], gone: Iterable[str]) -> None:
        """Record the documents just indexed and forget those just deleted, in one
        transaction."""
        db = self._db
        gone = list(gone)
        uris = [b.uri for b in built] + gone
        old: dict[str, set[str]] = {}
        for chunk in _chunks(uris, 500):
            marks = ",".join("?" * len(chunk))
            for uri, links, base in db.execute(
                f"SELECT uri, links, base FROM doc WHERE uri IN ({marks})", chunk
            ):
                old[uri] = set(json.loads(links)) | set(json.loads(base)[_OWNERS])
        removed: list[tuple[str, str]] = []
        added: list[tuple[str, str]] = []
        rows = []
        for b in built:
            doc = b.document
            assert doc is not None
            now = set(b.links) | set(doc.owners)
            before = old.get(b.uri, set())
            removed += [(target, b.uri) for target in before - now]
            added += [(target, b.uri) for target in now - before]
            base = [getattr(doc, name) for name in _BASE] + [doc.is_owner]
            rows.append(
                (
                    b.uri,
                    json.dumps(b.names),
                    json.dumps(b.links),
                    json.dumps(base, separators=(",", ":")),
                )
            )
        for uri in gone:
            removed += [(target, uri) for target in old.get(uri, ())]
        with db:
            db.executemany("DELETE FROM link WHERE target = ? AND source = ?", removed)
            db.executemany("INSERT OR IGNORE INTO link VALUES (?, ?)", added)
            db.executemany("INSERT OR REPLACE INTO doc VALUES (?, ?, ?, ?)", rows)
            db.executemany("DELETE FROM doc WHERE uri = ?", [(uri,) for uri in gone])


def _connect(target: str) -> sqlite3.Connection:
    # One connection, used under the index's lock from the indexer's thread and from
    # whichever thread runs a rebuild or a check.
    db = sqlite3.connect(target, check_same_thread=False)
    # In WAL mode, NORMAL syncs at checkpoints (closing is one), not at each commit: a
    # crash may lose the last commits, never the file, and the index is marked clean
    # only after this table is closed; a crash means a repair, which fills it again.
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA cache_size = -16000")  # KiB: 16 MB
    db.executescript(_SCHEMA)
    return db


def _created(target: str) -> sqlite3.Connection:
    db = _connect(target)
    with db:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (str(FORMAT),))
    return db


def _remove(directory: Path) -> None:
    for stale in directory.glob(FILE + "*"):  # with its -wal and -shm
        stale.unlink()


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
