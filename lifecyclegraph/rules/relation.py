"""In-memory relations over interned terms: the evaluator's storage.

Terms (IRIs and literals) are interned as small integers by a :class:`TermTable`;
a :class:`Relation` is a set of facts over them, with hash indexes on the column
combinations the join plans ask for. Indexes are built on first use and kept up to
date as facts are added and removed.

Facts are stored *packed*, which takes about 40% off the engine's memory
(docs/benchmarks.md, "The engine's memory"): a unary fact ``(a,)`` is the integer
``a`` itself, a binary fact ``(s, o)`` is one integer ``s << 32 | (o ^ s)`` (the ``^ s``
spreads facts that share an object over a hash table, as a tuple's hash would), and
facts of other arities stay tuples. Index buckets are packed too: a key with one fact
holds the fact itself, a key with a few facts a tuple, a key with many a set.

Outside the engine's inner loops facts are tuples: :attr:`Relation.rows` and
:meth:`Relation.index` are read-only views that unpack on the way out.

>>> table = TermTable()
>>> from pyoxigraph import NamedNode
>>> a, b = table.id(NamedNode("http://e/a")), table.id(NamedNode("http://e/b"))
>>> edge = Relation("edge", 2)
>>> edge.add({edge.pack((a, b))})
>>> sorted(edge.index((0,)).get(a))
[(0, 1)]
>>> (a, b) in edge.rows, edge.packed == {1}
(True, True)
>>> edge.remove({edge.pack((a, b))})
>>> dict(edge.index((0,)))
{}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from typing import Any

from pyoxigraph import Literal

from lifecyclegraph.core.errors import RuleLimitError

__all__ = [
    "ID_LIMIT",
    "Fact",
    "Facts",
    "Index",
    "Packed",
    "Relation",
    "TermTable",
    "column_source",
    "pack_source",
    "packer",
    "unpack_all",
    "unpacker",
]

Fact = tuple[int, ...]
#: A packed fact: an ``int`` for arities 1 and 2, else a :data:`Fact`.
Packed = Any

#: Term integers are below this bound (32 bits), so that two fit in one packed fact.
ID_LIMIT = 1 << 32
_MASK = ID_LIMIT - 1

#: The most facts a tuple bucket of an index holds before it becomes a set.
SMALL = 8


class TermTable:
    """Interns RDF terms: each distinct term gets a small integer, for good.

    Raises:
        RuleLimitError: when a term would get an integer of :data:`ID_LIMIT` or more
            (more than four billion terms; packed facts hold two 32-bit integers).
    """

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
            if found >= ID_LIMIT:
                raise RuleLimitError(
                    f"the rule engine cannot intern more than {ID_LIMIT:,} terms "
                    f"(a packed fact holds two 32-bit term integers); {term} is one too many",
                    rule="",
                    limit=ID_LIMIT,
                )
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


# -- packing ------------------------------------------------------------------------------


def _out_of_range(fact: Any) -> RuleLimitError:
    return RuleLimitError(
        f"the fact {fact!r} has a term integer outside 0 to {_MASK:,}: the rule engine "
        "packs facts as 32-bit term integers",
        rule="",
        limit=ID_LIMIT,
    )


def _pack1(fact: Fact) -> Any:
    (a,) = fact
    if a >> 32:
        raise _out_of_range(fact)
    return a


def _pack2(fact: Fact) -> Any:
    s, o = fact
    if (s | o) >> 32:  # also true for a negative integer
        raise _out_of_range(fact)
    return s << 32 | o ^ s


def _pack_tuple(fact: Fact) -> Any:
    fact = tuple(fact)
    for value in fact:
        if value >> 32:
            raise _out_of_range(fact)
    return fact


def _unpack1(packed: Any) -> Fact:
    return (packed,)


def _unpack2(packed: Any) -> Fact:
    s = packed >> 32
    return (s, packed & _MASK ^ s)


def _unpack_tuple(packed: Any) -> Fact:
    return packed


def packer(arity: int) -> Callable[[Fact], Any]:
    """The function that packs a fact (a tuple of term integers) of this arity.

    It raises :class:`~lifecyclegraph.core.errors.RuleLimitError` for an integer outside
    0 to 2**32 - 1, and ``ValueError`` for a tuple of another length.

    >>> packer(2)((3, 5)) == 3 << 32 | 6, packer(1)((7,)), packer(3)((1, 2, 3))
    (True, 7, (1, 2, 3))
    """
    return _pack1 if arity == 1 else _pack2 if arity == 2 else _pack_tuple


def unpacker(arity: int) -> Callable[[Any], Fact]:
    """The function that turns a packed fact of this arity back into a tuple.

    >>> unpacker(2)(packer(2)((3, 5)))
    (3, 5)
    """
    return _unpack1 if arity == 1 else _unpack2 if arity == 2 else _unpack_tuple


def unpack_all(arity: int, packed: Iterable[Any]) -> set[Fact]:
    """The tuples of packed facts of this arity, as a set.

    >>> sorted(unpack_all(2, {packer(2)((1, 2)), packer(2)((3, 4))}))
    [(1, 2), (3, 4)]
    """
    if arity == 2:
        return {(s, p & _MASK ^ s) for p in packed for s in (p >> 32,)}
    if arity == 1:
        return {(p,) for p in packed}
    return set(packed)


def pack_source(arity: int, values: Sequence[str]) -> str:
    """Python source that packs a fact from the source of its values (for generated
    code: the same packing as :func:`packer`, without the range check, which the values
    passed when they were packed or interned).

    >>> pack_source(2, ["v_a", "v_b"]), pack_source(1, ["v_a"]), pack_source(3, "xyz")
    ('v_a << 32 | v_b ^ v_a', 'v_a', '(x, y, z)')
    """
    if arity == 1:
        return values[0]
    if arity == 2:
        return f"{values[0]} << 32 | {values[1]} ^ {values[0]}"
    return f"({', '.join(values)}{',' if len(values) == 1 else ''})"


def column_source(arity: int, row: str, column: int, first: str | None = None) -> str:
    """Python source of the value of ``column`` of the packed fact named ``row``;
    ``first`` is the source of column 0's value when it is already at hand.

    >>> column_source(2, "r", 0), column_source(2, "r", 1, "v_a"), column_source(3, "r", 2)
    ('r >> 32', 'r & 0xffffffff ^ v_a', 'r[2]')
    """
    if arity == 1:
        return row
    if arity == 2:
        if column == 0:
            return f"{row} >> 32"
        return f"{row} & {_MASK:#x} ^ {first if first is not None else f'({row} >> 32)'}"
    return f"{row}[{column}]"


def _keyer(arity: int, columns: tuple[int, ...]) -> Callable[[Any], Any]:
    """The function that gives a packed fact's key in the index on ``columns``: the
    value of the column, or the tuple of values of several."""
    if arity == 1:
        return lambda p: p
    if arity == 2:
        if columns == (0,):
            return _first
        if columns == (1,):
            return _second
        return lambda p: tuple(_unpack2(p)[c] for c in columns)
    if len(columns) == 1:
        column = columns[0]
        return lambda p: p[column]
    return lambda p: tuple([p[c] for c in columns])


# -- relations ----------------------------------------------------------------------------


class Relation:
    """The facts of one predicate: a set of packed facts plus hash indexes on columns.

    An index maps a key (the value of one column, or a tuple of values for several)
    to the bucket of facts with that key: the packed fact itself when it is alone (for
    arities 1 and 2), a tuple of up to :data:`SMALL` facts, or a set. Buckets that
    become empty are removed, so ``key in index`` tells whether any fact matches.

    :attr:`packed`, :meth:`lookup`, :meth:`add` and :meth:`remove` work on packed facts
    (:attr:`pack` and :attr:`unpack` convert); :attr:`rows`, :meth:`index` and
    :attr:`indexes` show tuples.
    """

    __slots__ = ("_keys", "arity", "lookups", "name", "pack", "packed", "single", "unpack")

    def __init__(self, name: str, arity: int) -> None:
        self.name = name
        self.arity = arity
        self.packed: set[Any] = set()
        self.lookups: dict[tuple[int, ...], dict[Any, Any]] = {}
        self._keys: dict[tuple[int, ...], Callable[[Any], Any]] = {}
        self.pack = packer(arity)
        self.unpack = unpacker(arity)
        self.single = arity in (1, 2)  # a lone fact is its own bucket (an int, not a tuple)

    def __len__(self) -> int:
        return len(self.packed)

    def __repr__(self) -> str:
        return f"Relation({self.name!r}, {len(self.packed)} facts)"

    @property
    def rows(self) -> Facts:
        """Every fact, as tuples (a read-only view)."""
        return Facts(self.packed, self.arity)

    def index(self, columns: tuple[int, ...]) -> Index:
        """The index on ``columns``, with tuples (a read-only view)."""
        return Index(self.lookup(columns), self.arity)

    @property
    def indexes(self) -> dict[tuple[int, ...], Index]:
        """The indexes built so far, by columns, with tuples (read-only views)."""
        return {columns: Index(found, self.arity) for columns, found in self.lookups.items()}

    def lookup(self, columns: tuple[int, ...]) -> dict[Any, Any]:
        """The packed index on ``columns`` (built now if it does not exist yet)."""
        found = self.lookups.get(columns)
        if found is None:
            found = {}
            self._keys[columns] = key = _keyer(self.arity, columns)
            _insert(found, key, self.packed, self.single)
            self.lookups[columns] = found
        return found

    def add(self, fresh: Iterable[Any]) -> None:
        """Add packed facts that are not in the relation yet (the caller makes sure)."""
        if not isinstance(fresh, set | frozenset):
            fresh = set(fresh)
        if not fresh:
            return
        self.packed |= fresh
        for columns, index in self.lookups.items():
            _insert(index, self._keys[columns], fresh, self.single)

    def remove(self, gone: Iterable[Any]) -> None:
        """Remove packed facts that are in the relation (the caller makes sure)."""
        if not isinstance(gone, set | frozenset):
            gone = set(gone)
        if not gone:
            return
        self.packed -= gone
        single = self.single
        for columns, index in self.lookups.items():
            key_of = self._keys[columns]
            mode = 0 if key_of is _first else 1 if key_of is _second else 2
            for fact in gone:  # the common keys inline
                key = (
                    fact >> 32
                    if mode == 0
                    else fact & _MASK ^ (fact >> 32)
                    if mode == 1
                    else key_of(fact)
                )
                bucket = index.get(key)
                if bucket is None:
                    continue
                if bucket.__class__ is tuple:
                    if len(bucket) == 2 and single:  # a lone fact is left
                        if bucket[0] == fact:
                            index[key] = bucket[1]
                        elif bucket[1] == fact:
                            index[key] = bucket[0]
                    elif len(bucket) == 1:
                        if bucket[0] == fact:
                            del index[key]
                    elif fact in bucket:
                        at = bucket.index(fact)
                        index[key] = bucket[:at] + bucket[at + 1 :]
                elif bucket.__class__ is set:
                    bucket.discard(fact)
                    if len(bucket) <= SMALL // 2:
                        index[key] = tuple(bucket)
                elif bucket == fact:
                    del index[key]

    def clear(self) -> None:
        """Remove every fact and index."""
        self.packed = set()
        self.lookups = {}
        self._keys = {}


def _first(packed: Any) -> Any:
    """Column 0 of a packed binary fact (also a marker: the loops inline it)."""
    return packed >> 32


def _second(packed: Any) -> Any:
    """Column 1 of a packed binary fact (also a marker: the loops inline it)."""
    return packed & _MASK ^ (packed >> 32)


def _insert(
    index: dict[Any, Any], key_of: Callable[[Any], Any], rows: Iterable[Any], single: bool
) -> None:
    get = index.get
    mode = 0 if key_of is _first else 1 if key_of is _second else 2
    for row in rows:  # the common keys inline
        key = row >> 32 if mode == 0 else row & _MASK ^ (row >> 32) if mode == 1 else key_of(row)
        bucket = get(key)
        if bucket is None:
            index[key] = row if single else (row,)
        elif bucket.__class__ is set:
            bucket.add(row)
        elif bucket.__class__ is tuple:
            if len(bucket) < SMALL:
                index[key] = (*bucket, row)
            else:
                grown = set(bucket)
                grown.add(row)
                index[key] = grown
        else:  # a lone packed fact
            index[key] = (bucket, row)


def bucket_facts(bucket: Any) -> Any:
    """The packed facts of an index bucket, as a collection."""
    if bucket.__class__ is set or bucket.__class__ is tuple:
        return bucket
    return (bucket,)


# -- views --------------------------------------------------------------------------------


class Facts(Set[Fact]):
    """Packed facts seen as tuples: a read-only set view.

    Membership, length and iteration work as for a set of tuples, and so do
    comparisons and set operators (``-`` between two views of the same arity stays
    packed and gives a view).
    """

    __slots__ = ("_pack", "_packed", "arity")

    def __init__(self, packed: Any, arity: int) -> None:
        self._packed = packed
        self.arity = arity
        self._pack = packer(arity)

    @classmethod
    def _from_iterable(cls, it: Iterable[Any]) -> set[Any]:
        return set(it)

    def __contains__(self, fact: object) -> bool:
        if self.arity == 2:  # the common case, inline
            try:
                s: int
                o: int
                s, o = fact  # type: ignore[misc]
                if (s | o) >> 32:
                    return False
            except (TypeError, ValueError):
                return False
            return s << 32 | o ^ s in self._packed
        try:
            return self._pack(fact) in self._packed  # type: ignore[arg-type]
        except (TypeError, ValueError, RuleLimitError):
            return False

    def __iter__(self) -> Iterator[Fact]:
        return map(unpacker(self.arity), self._packed)

    def __len__(self) -> int:
        return len(self._packed)

    def __repr__(self) -> str:
        return f"Facts({sorted(self)!r})"

    def _same(self, other: object) -> bool:
        return (
            isinstance(other, Facts)
            and other.arity == self.arity
            and isinstance(self._packed, set | frozenset)
            and isinstance(other._packed, set | frozenset)
        )

    def __eq__(self, other: object) -> bool:
        if self._same(other):
            return bool(self._packed == other._packed)  # type: ignore[attr-defined]
        return Set.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __sub__(self, other: Any) -> Any:
        if self._same(other):
            return Facts(self._packed - other._packed, self.arity)
        return Set.__sub__(self, other)


class Index(Mapping[Any, Facts]):
    """A packed index seen with tuples: a read-only mapping from key to :class:`Facts`."""

    __slots__ = ("_index", "arity")

    def __init__(self, index: dict[Any, Any], arity: int) -> None:
        self._index = index
        self.arity = arity

    def __getitem__(self, key: Any) -> Facts:
        return Facts(bucket_facts(self._index[key]), self.arity)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[Any]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return f"Index({dict(self)!r})"
