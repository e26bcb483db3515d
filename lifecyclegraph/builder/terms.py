"""Values in a builder query: bound through ``VALUES``, never pasted into its text.

A value a caller gives (a name, a tag, a URI, a number) becomes a pyoxigraph term,
and the query holds that term's N-Triples form (pyoxigraph escapes quotes,
backslashes and line breaks, and refuses an IRI with ``<``, ``>``, ``"``, spaces or
braces) in a ``VALUES`` block that binds a variable; the patterns and filters only
ever name the variable. So a value cannot change the shape of the query:

>>> bind("?b1", ['x" } ; DROP ALL #'])
'VALUES ?b1 { "x\\\\" } ; DROP ALL #" }'
>>> bind("?b2", [NamedNode("aip://user/identity/alice"), 5])
'VALUES ?b2 { <aip://user/identity/alice> "5"^^<http://www.w3.org/2001/XMLSchema#integer> }'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyoxigraph import Literal, NamedNode

from lifecyclegraph.core.facts import Ref, to_literal
from lifecyclegraph.core.vocab import expand

__all__ = ["bind", "iri_term", "term"]


def iri_term(value: Any) -> NamedNode:
    """An IRI given as text, a :class:`~lifecyclegraph.core.facts.Ref` or a ``NamedNode``.

    Raises:
        ValueError: naming the value, if it is not an IRI.
    """
    if isinstance(value, NamedNode):
        return value
    text = value.iri if isinstance(value, Ref) else value
    if not isinstance(text, str):
        raise ValueError(f"not an IRI: {value!r}")
    try:
        return NamedNode(expand(text))
    except ValueError as error:
        raise ValueError(f"not an IRI: {text!r} ({error})") from None


def term(value: Any) -> NamedNode | Literal:
    """The term of a Python value: a literal (``to_literal``) or, for a ``NamedNode`` or a
    ``Ref``, an IRI."""
    if isinstance(value, NamedNode | Ref):
        return iri_term(value)
    if isinstance(value, Literal):
        return value
    return to_literal(value)


def bind(variable: str, values: Iterable[Any]) -> str:
    """A ``VALUES`` block binding ``variable`` to each value, in N-Triples form."""
    return f"VALUES {variable} {{ {' '.join(str(term(v)) for v in values)} }}"
