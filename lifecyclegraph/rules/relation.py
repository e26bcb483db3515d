"""In-memory relations over interned terms: the evaluator's storage.

Terms (IRIs and literals) are interned as small integers by a :class:`TermTable`;
a :class:`Relation` is a set of tuples of them, with hash indexes on the column
combinations the join plans ask for. Indexes are built on first use and kept up to
date as facts are added and removed.

>>> table = TermTable()
>>> from pyoxigraph import NamedNode
>>> a, b = table.id(NamedNode("http://e/a")), table.id(NamedNode("http://e/b"))
>>> edge = Relation("edge", 2)
>>> edge.add({(a, b)})
>>> sorted(edge.index((0,)).get(a))
[(0, 1)]
>>> edge.remove({(a, b)})
>>> edge.index((0,))
{}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyoxigraph import Literal

__all__ = ["Fact", "Relation", "TermTable"]

Fact = tuple[int, ...]


class TermTable:
    """Interns RDF terms: each distinct term gets a small integer, for good."""

    __slots__ = ("ids", "literals", "terms")

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}
        self.terms: list[Any] = []  # pyoxigraph NamedNode and Literal terms
        self.literals: set[int] = set()  # the integers of literals

    def id(self, term: Any) -> int:
        """The integer of ``term`` (a new one the first time the term is seen)."""
        found = self.ids.get(term)
        if found is None:
            found = len(self.terms)
            self.ids[term] = found
            self.terms.append(term)
            if isinstance(term, Literal):
                self.literals.add(found)
        return found

    def lookup(self, term: Any) -> int | None:
        """The integer of ``term`` if it was ever interned, else ``None``."""
        return self.ids.get(term)

    def __len__(self) -> int:
        return len(self.terms)


class Relation:
    """The facts of one predicate: a set of tuples plus hash indexes on columns.

    An index maps a key (the value of one column, or a tuple of values for several)
    to the set of facts with that key. Buckets that become empty are removed, so
    ``key in index`` tells whether any fact matches.
    """

    __slots__ = ("arity", "indexes", "name", "rows")

    def __init__(self, name: str, arity: int) -> None:
        self.name = name
        self.arity = arity
        self.rows: set[Fact] = set()
        self.indexes: dict[tuple[int, ...], dict[Any, set[Fact]]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"Relation({self.name!r}, {len(self.rows)} facts)"

    def index(self, columns: tuple[int, ...]) -> dict[Any, set[Fact]]:
        """The index on ``columns`` (built now if it does not exist yet)."""
        found = self.indexes.get(columns)
        if found is None:
            found = {}
            _insert(found, columns, self.rows)
            self.indexes[columns] = found
        return found

    def add(self, fresh: Iterable[Fact]) -> None:
        """Add facts that are not in the relation yet (the caller makes sure)."""
        if not isinstance(fresh, set | frozenset):
            fresh = set(fresh)
        self.rows |= fresh
        for columns, index in self.indexes.items():
            _insert(index, columns, fresh)

    def remove(self, gone: Iterable[Fact]) -> None:
        """Remove facts that are in the relation (the caller makes sure)."""
        if not isinstance(gone, set | frozenset):
            gone = set(gone)
        self.rows -= gone
        for columns, index in self.indexes.items():
            single = columns[0] if len(columns) == 1 else None
            for row in gone:
                key = row[single] if single is not None else tuple(row[c] for c in columns)
                bucket = index.get(key)
                if bucket is not None:
                    bucket.discard(row)
                    if not bucket:
                        del index[key]

    def clear(self) -> None:
        """Remove every fact and index."""
        self.rows = set()
        self.indexes = {}


def _insert(index: dict[Any, set[Fact]], columns: tuple[int, ...], rows: Iterable[Fact]) -> None:
    get = index.get
    if len(columns) == 1:
        column = columns[0]
        for row in rows:
            key = row[column]
            bucket = get(key)
            if bucket is None:
                index[key] = {row}
            else:
                bucket.add(row)
    else:
        for row in rows:
            keys = tuple([row[c] for c in columns])
            bucket = get(keys)
            if bucket is None:
                index[keys] = {row}
            else:
                bucket.add(row)
