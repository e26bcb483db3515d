"""Normalized facts about one entity: what a provider hands to the store.

A :class:`Facts` is the complete current description of one entity as its source
sees it: a set of ``(predicate, object)`` pairs whose subject is the entity, plus
the *parts* that only exist inside it (the cells of an A/B test, the attempts of a
run). The store compares it with the entity's current snapshot to decide whether
anything changed.

Objects may be given as pyoxigraph terms or as plain Python values:

>>> from datetime import datetime, timezone
>>> from lifecyclegraph.core.vocab import LG
>>> facts = Facts.of(
...     "aip://model/registry/ranking-model",
...     {
...         "rdf:type": Ref("lg:Model"),
...         "lg:name": "Ranking model",
...         "lg:owner": [Ref("aip://user/identity/alice")],
...         "lg:createdAt": datetime(2026, 1, 1, tzinfo=timezone.utc),
...     },
... )
>>> len(facts.pairs)
4
>>> sorted(str(o) for p, o in facts.pairs if p == LG.name)
['"Ranking model"']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeAlias

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Triple

from lifecyclegraph.core.errors import InvalidFactsError
from lifecyclegraph.core.vocab import XSD, expand

__all__ = ["Facts", "Object", "Ref", "from_literal", "term_value", "to_literal", "to_term"]

Object: TypeAlias = NamedNode | Literal
Pair: TypeAlias = tuple[NamedNode, Object]


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to another resource by IRI (``prefix:local`` names are expanded)."""

    iri: str


@dataclass(frozen=True, slots=True)
class Facts:
    """The normalized description of one entity and its parts.

    Args:
        uri: the entity's IRI (an AIP URI for source entities).
        pairs: ``(predicate, object)`` terms; the entity is the subject of each.
        parts: entities that only exist inside this one; they are written,
            versioned and deleted together with it.

    Raises:
        InvalidFactsError: if the URI is not an IRI, a term is a blank node, or a
            part repeats the entity.
    """

    uri: str
    pairs: frozenset[Pair]
    parts: tuple[Facts, ...] = field(default=())

    def __post_init__(self) -> None:
        try:
            NamedNode(self.uri)
        except ValueError as error:
            raise InvalidFactsError(
                f"the entity URI {self.uri!r} is not an IRI: {error}"
            ) from error
        for predicate, obj in self.pairs:
            if not isinstance(predicate, NamedNode):
                raise InvalidFactsError(
                    f"{self.uri}: a predicate must be a named node, not {predicate!r}"
                )
            if isinstance(obj, BlankNode) or not isinstance(obj, NamedNode | Literal):
                raise InvalidFactsError(
                    f"{self.uri}: the object of {predicate.value} must be an IRI or a literal, "
                    f"not {obj!r} (blank nodes are not allowed: give the thing a URI and make "
                    "it a part)"
                )
        seen = {self.uri}
        for part in self.flatten()[1:]:
            if part.uri in seen:
                raise InvalidFactsError(f"{self.uri}: the part {part.uri} appears twice")
            seen.add(part.uri)

    @classmethod
    def of(
        cls,
        uri: str,
        properties: Mapping[str, Any],
        parts: Iterable[Facts] = (),
    ) -> Facts:
        """Build facts from a mapping of predicate names to values or lists of values.

        Predicate names may be ``prefix:local`` or full IRIs; values are converted
        with :func:`to_term`; ``None`` values and empty lists are skipped.
        """
        pairs: set[Pair] = set()
        for name, value in properties.items():
            predicate = NamedNode(expand(name))
            values = value if isinstance(value, list | tuple | set | frozenset) else [value]
            for item in values:
                if item is not None:
                    pairs.add((predicate, to_term(item)))
        return cls(uri, frozenset(pairs), tuple(parts))

    @property
    def node(self) -> NamedNode:
        """The entity as a named node."""
        return NamedNode(self.uri)

    def flatten(self) -> list[Facts]:
        """This entity followed by all its parts, depth first."""
        out = [self]
        for part in self.parts:
            out.extend(part.flatten())
        return out

    def values(self, predicate: NamedNode) -> list[Object]:
        """The objects of ``predicate``, sorted by their text form."""
        return sorted((o for p, o in self.pairs if p == predicate), key=str)


def to_term(value: Any) -> Object:
    """Convert a Python value to an RDF term.

    >>> to_term(Ref("lg:Model"))
    <NamedNode value=https://w3id.org/lifecyclegraph/ontology#Model>
    >>> to_term(3)
    <Literal value=3 datatype=<NamedNode value=http://www.w3.org/2001/XMLSchema#integer>>
    """
    if isinstance(value, NamedNode | Literal):
        return value
    if isinstance(value, Ref):
        return NamedNode(expand(value.iri))
    return to_literal(value)


def term_value(term: NamedNode | BlankNode | Literal | Triple | DefaultGraph) -> str:
    """The text of a term read from the store: an IRI, a blank node id or a literal's form.

    pyoxigraph types a quad's subject, object and graph as unions that include a quoted
    triple (RDF-star) and the default graph, which have no text; the store never
    writes either where this is asked.

    Raises:
        InvalidFactsError: for a quoted triple or the default graph.

    >>> term_value(NamedNode("aip://model/registry/m"))
    'aip://model/registry/m'
    >>> term_value(Literal("Ranking model"))
    'Ranking model'
    >>> term_value(DefaultGraph())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lifecyclegraph.core.errors.InvalidFactsError: expected an IRI, a blank node or a literal, ...
    """
    if isinstance(term, _VALUELESS):
        raise InvalidFactsError(f"expected an IRI, a blank node or a literal, not {term}")
    return term.value


_VALUELESS = (Triple, DefaultGraph)  # a tuple made once: isinstance is quicker than with a union


def to_literal(value: Any) -> Literal:
    """Convert a Python value to a typed literal (datetimes are stored in UTC)."""
    if isinstance(value, bool):
        return Literal("true" if value else "false", datatype=XSD.boolean)
    if isinstance(value, int):
        return Literal(str(value), datatype=XSD.integer)
    if isinstance(value, float):
        return Literal(repr(value), datatype=XSD.double)
    if isinstance(value, Decimal):
        return Literal(str(value), datatype=XSD.decimal)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidFactsError(f"the datetime {value.isoformat()} has no time zone")
        text = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return Literal(text, datatype=XSD.dateTime)
    if isinstance(value, date):
        return Literal(value.isoformat(), datatype=XSD.date)
    if isinstance(value, str):
        return Literal(value)
    raise InvalidFactsError(f"cannot turn {value!r} ({type(value).__name__}) into an RDF literal")


_PARSERS: dict[str, Callable[[str], Any]] = {
    XSD.integer.value: int,
    XSD.int.value: int,
    XSD.long.value: int,
    XSD.decimal.value: Decimal,
    XSD.double.value: float,
    XSD.float.value: float,
    XSD.boolean.value: lambda text: text in ("true", "1"),
    XSD.dateTime.value: lambda text: datetime.fromisoformat(text.replace("Z", "+00:00")),
    XSD.date.value: date.fromisoformat,
}


def from_literal(literal: Literal) -> Any:
    """Convert a literal to the matching Python value (text when the type is unknown).

    >>> from_literal(to_literal(42))
    42
    >>> from_literal(Literal("2026-01-01T00:00:00Z", datatype=XSD.dateTime)).year
    2026
    >>> from_literal(Literal("abc", datatype=XSD.decimal))  # ill-typed: its text
    'abc'
    """
    parse = _PARSERS.get(literal.datatype.value)
    if parse is None:
        return literal.value
    try:
        return parse(literal.value)
    except (ValueError, ArithmeticError):  # decimal.InvalidOperation is an ArithmeticError
        return literal.value
