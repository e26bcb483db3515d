"""A builder query: which entities (types, filters, links, lineage), in which order,
which page, with which fields; compiled to SPARQL and run through the graph's door.

A :class:`Query` is immutable: each step returns a new one, so a query can be kept and
refined. Nothing runs until an answer is asked for (:meth:`Query.all`,
:meth:`Query.count`, :meth:`Query.uris`, :meth:`Query.to_pandas`, iteration).

>>> from lifecyclegraph import Builder, LifecycleGraph
>>> from lifecyclegraph.example import load_example
>>> graph = LifecycleGraph.in_memory()
>>> _ = load_example(graph)
>>> lg = Builder(graph)
>>> q = lg.ModelInstance.where(version="5").select("version", instanceOf="name")
>>> [(r.version, r.instanceOf.name) for r in q.all()]
[('5', 'Ranking model')]
>>> print(lg.Model.where(lg.Model.name.contains("rank")).sparql())  # doctest: +ELLIPSIS
SELECT DISTINCT ?e WHERE {
  VALUES ?t1 { <https://w3id.org/lifecyclegraph/ontology#Model> }
  ?e a ?t1 .
  VALUES ?b2 { "rank" }
  ?e lg:name ?v3 .
  FILTER(CONTAINS(LCASE(STR(?v3)), LCASE(STR(?b2))))
} ORDER BY ?e
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pyoxigraph import NamedNode

from lifecyclegraph.builder.fetch import Record, fetch, rows
from lifecyclegraph.builder.names import FieldName, Names, TypeName
from lifecyclegraph.builder.selection import Tree, parse_selection
from lifecyclegraph.builder.terms import bind, iri_term
from lifecyclegraph.core.vocab import XSD, compact

if TYPE_CHECKING:
    from lifecyclegraph.graph.door import Graph

__all__ = ["Condition", "FieldRef", "Query"]

_XSD_STRING = XSD.string.value
_OPERATORS = {"eq": "=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _iri(iri: str) -> str:
    """An ontology term in the query text: ``lg:name`` (the door predeclares ``lg``), or
    ``<iri>`` in N-Triples form."""
    short = compact(iri)
    prefix, _, local = short.partition(":")
    if short != iri and prefix == "lg" and _LOCAL.match(local):
        return short
    return str(NamedNode(iri))


class _Compiler:
    """Hands out fresh variable names while one query is compiled."""

    def __init__(self) -> None:
        self.count = 0

    def var(self, stem: str) -> str:
        self.count += 1
        return f"?{stem}{self.count}"


@dataclass(frozen=True)
class Condition:
    """One condition on a query's entities (made by :class:`FieldRef` and :meth:`Query.where`)."""

    kind: str  #: compare, exists, missing, link, type
    field: FieldName | None = None
    op: str = "eq"
    values: tuple[Any, ...] = ()
    query: Query | None = None
    classes: tuple[str, ...] = ()

    def compile(self, c: _Compiler, e: str) -> list[str]:
        """The patterns and filters that keep the entities ``e`` meeting the condition."""
        if self.kind == "type":
            t = c.var("t")
            return [bind(t, (NamedNode(x) for x in self.classes)), f"{e} a {t} ."]
        assert self.field is not None
        p = _iri(self.field.iri)
        if self.kind in ("exists", "missing"):
            word = "EXISTS" if self.kind == "exists" else "NOT EXISTS"
            return [f"FILTER {word} {{ {e} {p} {c.var('x')} }}"]
        if self.kind == "link":
            assert self.query is not None
            x = c.var("x")
            return [*self.query._group(c, x), f"{e} {p} {x} ."]
        b, v = c.var("b"), c.var("v")
        values = self._terms()
        if self.field.is_object and self.op in ("eq", "ne"):
            if self.op == "eq":
                return [bind(b, values), f"{e} {p} {b} ."]
            return [f"FILTER NOT EXISTS {{ {bind(b, values)} {e} {p} {b} }}"]
        if self.op == "ne":
            return [f"FILTER NOT EXISTS {{ {bind(b, values)} {e} {p} {v} FILTER({v} = {b}) }}"]
        if self.op == "contains":
            test = f"CONTAINS(LCASE(STR({v})), LCASE(STR({b})))"
        else:
            test = f"{v} {_OPERATORS[self.op]} {b}"
        return [bind(b, values), f"{e} {p} {v} .", f"FILTER({test})"]

    def _terms(self) -> list[Any]:
        assert self.field is not None
        if self.field.is_object and self.op in ("eq", "ne"):
            return [iri_term(v) for v in self.values]
        if self.field.range == _XSD_STRING or self.op == "contains":
            return [v if isinstance(v, str) else str(v) for v in self.values]
        return list(self.values)


class FieldRef:
    """A field of a query's type, to compare: ``lg.Model.name == "Ranking model"``,
    ``lg.DatasetVersion.rowCount > 1000``, ``lg.Model.name.contains("rank")``,
    ``lg.Model.owners.exists()``. Its docstring is the ontology's ``rdfs:comment``."""

    __hash__ = None  # type: ignore[assignment]  # == makes a condition, not a bool

    def __init__(self, field: FieldName) -> None:
        self.field = field
        self.__doc__ = f"{field.name} ({field.iri}): {field.doc}"

    def __repr__(self) -> str:
        kind = "link" if self.field.is_object else "value"
        return f"<field {self.field.name}: {kind}, {'one' if self.field.single else 'many'}>"

    def _compare(self, op: str, value: Any) -> Condition:
        if isinstance(value, Query):
            if not self.field.is_object or op != "eq":
                raise ValueError(f"only a link compares with a query: {self.field.name} == query")
            return Condition("link", self.field, query=value)
        values = tuple(value) if isinstance(value, list | tuple | set | frozenset) else (value,)
        if op not in ("eq", "ne") and len(values) != 1:
            raise ValueError(f"{op} compares {self.field.name} with one value, not {value!r}")
        if self.field.is_object and op not in ("eq", "ne"):
            raise ValueError(f"{self.field.name} is a link: compare it with == or !=")
        return Condition("compare", self.field, op, values)

    def __eq__(self, value: object) -> Condition:  # type: ignore[override]
        return self._compare("eq", value)

    def __ne__(self, value: object) -> Condition:  # type: ignore[override]
        return self._compare("ne", value)

    def __lt__(self, value: Any) -> Condition:
        return self._compare("lt", value)

    def __le__(self, value: Any) -> Condition:
        return self._compare("le", value)

    def __gt__(self, value: Any) -> Condition:
        return self._compare("gt", value)

    def __ge__(self, value: Any) -> Condition:
        return self._compare("ge", value)

    def isin(self, values: Iterable[Any]) -> Condition:
        """Any of the field's values is one of ``values``."""
        return self._compare("eq", tuple(values))

    def contains(self, text: str) -> Condition:
        """A value of the field contains ``text`` (case-insensitive)."""
        return self._compare("contains", text)

    def exists(self) -> Condition:
        """The entity has a value for the field."""
        return Condition("exists", self.field)

    def missing(self) -> Condition:
        """The entity has no value for the field."""
        return Condition("missing", self.field)


@dataclass(frozen=True)
class _Source:
    kind: str  #: type, ids, follow, back, lineage
    classes: tuple[str, ...] = ()
    uris: tuple[str, ...] = ()
    parent: Query | None = None
    field: FieldName | None = None
    direction: str = "upstream"
    depth: int | None = None
    properties: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Query:
    """Entities of the graph, as a builder query (made by :class:`~lifecyclegraph.builder.Builder`).

    Every step returns a new query; names are checked against the ontology at once.
    Field names are attributes too (``query.name``, a :class:`FieldRef`), beside the
    methods; ``dir(query)`` lists both.
    """

    _graph: Graph
    _names: Names
    _type: TypeName | None
    _source: _Source
    _conditions: tuple[Condition, ...] = ()
    _order: tuple[tuple[FieldName | None, bool], ...] = ()
    _limit: int | None = None
    _offset: int = 0
    _selection: Tree | None = None
    _when: datetime | None = None
    _doc: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if self._doc:
            object.__setattr__(self, "__doc__", self._doc)

    # -- names -------------------------------------------------------------------------

    def __getattr__(self, name: str) -> FieldRef:
        if name.startswith("_"):
            raise AttributeError(name)
        return FieldRef(self._names.field(name, self._type))

    def __dir__(self) -> Iterable[str]:
        return sorted({*super().__dir__(), *self._names.fields(self._type)})

    def field(self, name: str) -> FieldRef:
        """The field called ``name`` (also when it is the name of a method)."""
        return FieldRef(self._names.field(name, self._type))

    def __repr__(self) -> str:
        what = self._type.name if self._type else "entities"
        return f"<Query of {what}: {len(self._conditions)} condition(s)>"

    def _with(self, **changes: Any) -> Query:
        changes.setdefault("_doc", "")
        return dataclasses.replace(self, **changes)

    def _derived(self, source: _Source, type: TypeName | None) -> Query:
        return Query(self._graph, self._names, type, source, _when=self._when)

    # -- which entities ----------------------------------------------------------------

    def where(self, *conditions: Condition, **equals: Any) -> Query:
        """Keep the entities that meet every condition.

        ``where(name="x")``: a value is ``"x"``; a list: any of them; ``None``: the field
        has no value; a :class:`Query`: a link to one of its entities; a URI (for a link
        field): a link to that entity. Positional conditions come from fields:
        ``where(q.rowCount > 1000, q.name.contains("view"))``.

        Raises:
            UnknownNameError: a field the type does not have (with the near miss).
        """
        found = list(conditions)
        for cond in found:
            if not isinstance(cond, Condition):
                raise TypeError(f"not a condition: {cond!r} (compare a field: q.name == 'x')")
        for name, value in equals.items():
            ref = self.field(name)
            if value is None:
                found.append(ref.missing())
            elif isinstance(value, Query):
                if not ref.field.is_object:
                    raise ValueError(f"{name} is a value, not a link: it cannot hold a query")
                found.append(Condition("link", ref.field, query=value))
            else:
                found.append(ref == value)
        return self._with(_conditions=self._conditions + tuple(found))

    def of_type(self, name: str) -> Query:
        """Keep the entities of type ``name`` (or a subclass); its fields become usable."""
        wanted = self._names.type(name)
        return self._with(
            _type=wanted, _conditions=(*self._conditions, Condition("type", classes=wanted.classes))
        )

    def follow(self, name: str) -> Query:
        """The entities these link to by ``name`` (``lg.Model.follow("owners")``)."""
        ref = self._names.field(name, self._type)
        if not ref.is_object:
            raise ValueError(f"{name} is a value, not a link: it cannot be followed")
        target = self._names.type_of_class(ref.range)
        return self._derived(_Source("follow", parent=self, field=ref), target)

    def back(self, name: str) -> Query:
        """The entities that link to these by ``name``, the other way round
        (``lg.Feature.where(...).back("features")``: the model instances using them)."""
        ref = self._names.field(name, None)
        if not ref.is_object:
            raise ValueError(f"{name} is a value, not a link: it cannot be followed")
        return self._derived(_Source("back", parent=self, field=ref), None)

    def lineage(self, direction: str = "upstream", depth: int | None = 3) -> Query:
        """What these come from (``upstream``) or feed (``downstream``), up to ``depth``
        hops of ``lg:dependsOn`` and the properties below it (``None``: any depth).
        Works without the rules and on a past graph, from the asserted links."""
        if direction not in ("upstream", "downstream"):
            raise ValueError(f"direction is upstream or downstream, not {direction!r}")
        if depth is not None and depth < 1:
            raise ValueError(f"depth is at least 1, not {depth}")
        source = _Source(
            "lineage",
            parent=self,
            direction=direction,
            depth=depth,
            properties=tuple(self._names.lineage_properties()),
        )
        return self._derived(source, None)

    # -- order and page ----------------------------------------------------------------

    def order_by(self, *names: str) -> Query:
        """Sort by fields (``"-name"`` descending); the URI breaks ties."""
        order = []
        for name in names:
            desc = name.startswith("-")
            bare = name.lstrip("-+")
            order.append((None if bare == "id" else self._names.field(bare, self._type), desc))
        return self._with(_order=tuple(order))

    def limit(self, count: int) -> Query:
        """At most ``count`` entities."""
        if count < 0:
            raise ValueError(f"limit is at least 0, not {count}")
        return self._with(_limit=count)

    def offset(self, count: int) -> Query:
        """Skip the first ``count`` entities."""
        if count < 0:
            raise ValueError(f"offset is at least 0, not {count}")
        return self._with(_offset=count)

    def page(self, number: int, size: int = 20) -> Query:
        """Page ``number`` (from 1) of ``size`` entities."""
        if number < 1 or size < 1:
            raise ValueError(f"page and size are at least 1, not {number} and {size}")
        return self._with(_limit=size, _offset=(number - 1) * size)

    # -- what to answer ----------------------------------------------------------------

    def select(self, *fields: Any, **nested: Any) -> Query:
        """The fields to answer, nested as deep as wanted, in Python or GraphQL form:
        ``select("name", owners="name", currentInstance={"version": None})`` or
        ``select("name owners { name } currentInstance { version }")``. Without
        ``select``, the answer has the URI and every value field of the type.

        Raises:
            UnknownNameError: a name the type does not have (with the near miss).
        """
        tree = parse_selection(self._names, self._type, fields, nested)
        return self._with(_selection={**(self._selection or {}), **tree})

    def as_of(self, when: datetime) -> Query:
        """The same query on the graph as it was at ``when`` (asserted facts only)."""
        if when.tzinfo is None:
            raise ValueError("as_of needs a time zone aware datetime")
        return self._with(_when=when)

    # -- compiling ---------------------------------------------------------------------

    def _pattern(self, c: _Compiler, e: str) -> list[str]:
        src = self._source
        lines: list[str] = []
        if src.kind == "type":
            t = c.var("t")
            lines += [bind(t, (NamedNode(x) for x in src.classes)), f"{e} a {t} ."]
        elif src.kind == "ids":
            lines += [bind(e, (NamedNode(u) for u in src.uris)), f"FILTER EXISTS {{ {e} a [] }}"]
        elif src.kind in ("follow", "back"):
            assert src.parent is not None and src.field is not None
            p = c.var("p")
            lines += src.parent._group(c, p)
            link = _iri(src.field.iri)
            lines.append(f"{p} {link} {e} ." if src.kind == "follow" else f"{e} {link} {p} .")
            lines.append(f"FILTER(isIRI({e}))")
        elif src.kind == "lineage":
            assert src.parent is not None
            p = c.var("p")
            lines += src.parent._group(c, p)
            step = "(" + "|".join(_iri(x) for x in src.properties) + ")"
            if src.direction == "downstream":
                step = f"^{step}"
            hops = [step] + [f"{step}?"] * ((src.depth or 1) - 1)
            path = f"{step}+" if src.depth is None else "/".join(hops)
            lines += [f"{p} {path} {e} .", f"FILTER(isIRI({e}) && {e} != {p})"]
        for cond in self._conditions:
            lines += cond.compile(c, e)
        return lines

    def _select(self, c: _Compiler, e: str) -> str:
        body = self._pattern(c, e)
        page = ""
        if self._limit is not None:
            page += f" LIMIT {int(self._limit)}"
        if self._offset:
            page += f" OFFSET {int(self._offset)}"
        aggregates, sort = [], []
        for ref, desc in self._order:
            key = e
            if ref is not None:
                k, key = c.var("k"), c.var("s")
                body.append(f"OPTIONAL {{ {e} {_iri(ref.iri)} {k} }}")
                aggregates.append(f"({'MAX' if desc else 'MIN'}({k}) AS {key})")
            sort.append(f"{'DESC' if desc else 'ASC'}({key})")
        text = "\n  ".join(body)
        if not self._order:
            return f"SELECT DISTINCT {e} WHERE {{\n  {text}\n}} ORDER BY {e}{page}"
        inner = f"SELECT {e} {' '.join(aggregates)} WHERE {{\n  {text}\n}} GROUP BY {e}"
        return f"SELECT {e} WHERE {{ {{ {inner} }} }} ORDER BY {' '.join(sort)} {e}{page}"

    def _group(self, c: _Compiler, e: str) -> list[str]:
        """This query's pattern binding ``e``, to use inside another query."""
        if self._order or self._limit is not None or self._offset:
            return [f"{{ {self._select(c, e)} }}"]
        return self._pattern(c, e)

    def sparql(self) -> str:
        """The SPARQL text of the query that finds the entities (values in ``VALUES``).

        The selected fields are read afterwards, one query per level of the selection
        (see :mod:`lifecyclegraph.builder.fetch`)."""
        return self._select(_Compiler(), "?e")

    def count_sparql(self) -> str:
        """The SPARQL text of :meth:`count`."""
        if self._limit is not None or self._offset:
            return f"SELECT (COUNT(*) AS ?n) WHERE {{ {{ {self.sparql()} }} }}"
        c = _Compiler()
        body = "\n  ".join(self._pattern(c, "?e"))
        return f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{\n  {body}\n}}"

    # -- running -----------------------------------------------------------------------

    def _run(self, text: str) -> Any:
        if self._when is not None:
            return self._graph.as_of(self._when).sparql(text)
        return self._graph.sparql(text)

    def uris(self) -> list[str]:
        """The entities' URIs, in order (one SPARQL query)."""
        return [e.value for (e,) in rows(self._run(self.sparql()), ("e",))]

    def count(self) -> int:
        """How many entities the query has (within its page, if it has one)."""
        ((n,),) = rows(self._run(self.count_sparql()), ("n",))
        return int(n.value)

    def _tree(self) -> Tree:
        if self._selection is not None:
            return self._selection
        values = [name for name, f in self._names.fields(self._type).items() if not f.is_object]
        return parse_selection(self._names, self._type, tuple(values), {})

    def all(self) -> list[Record]:
        """The entities with their selected fields, as records (dicts with attribute
        access). A selection of depth *d* takes *d* + 2 SPARQL queries at most,
        however many entities it reaches."""
        return fetch(self._run, self.uris(), self._tree())

    def dicts(self) -> list[dict[str, Any]]:
        """The answer as plain dicts (nested records too)."""
        return [_plain(r) for r in self.all()]

    def first(self) -> Record | None:
        """The first entity (with its fields), or ``None``."""
        found = self.limit(1).all() if self._limit is None else self.all()[:1]
        return found[0] if found else None

    def __iter__(self) -> Iterator[Record]:
        return iter(self.all())

    def to_pandas(self) -> Any:
        """The answer as a pandas DataFrame: one row per entity, nested fields as
        ``a.b`` columns, lists as they are. Needs ``pip install 'lifecyclegraph[pandas]'``.

        Raises:
            ImportError: pandas is not installed, with the command that installs it.
        """
        try:
            pandas = importlib.import_module("pandas")
        except ImportError as error:
            raise ImportError(
                "to_pandas() needs pandas: pip install 'lifecyclegraph[pandas]'"
            ) from error
        return pandas.json_normalize(self.dicts(), sep=".")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def ids_query(graph: Graph, names: Names, uris: Sequence[str]) -> Query:
    """The entities ``uris`` (those the graph knows), in URI order."""
    return Query(graph, names, None, _Source("ids", uris=tuple(iri_term(u).value for u in uris)))


def type_query(graph: Graph, names: Names, type: TypeName) -> Query:
    """Every entity of ``type`` (or a subclass)."""
    return Query(graph, names, type, _Source("type", classes=type.classes), _doc=type.doc)
