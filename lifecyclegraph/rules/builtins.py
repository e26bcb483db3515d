"""The built-in tests a rule body may use, and the comparison operators.

Built-ins only test bound values; they never bind a variable. Each reads the *text*
of its arguments: an IRI's text is the IRI, a literal's text is its lexical form
(as SPARQL's ``str()``).

================  ======================================================
``strstarts(a, b)``  the text of ``a`` starts with the text of ``b``
``strends(a, b)``    the text of ``a`` ends with the text of ``b``
``contains(a, b)``   the text of ``b`` occurs in the text of ``a``
``regex(a, p)``      the regular expression ``p`` (Python syntax) matches
                     somewhere in the text of ``a``; ``regex(a, p, "i")``
                     ignores case
``isiri(a)``         ``a`` is an IRI
``isliteral(a)``     ``a`` is a literal
================  ======================================================

>>> from pyoxigraph import Literal, NamedNode
>>> BUILTINS["strstarts"].test(NamedNode("aip://model/registry/m"), Literal("aip://model/"))
True
>>> compare("<", Literal("2", datatype=XSD.integer), Literal("10", datatype=XSD.integer))
True
>>> compare("<", Literal("2"), Literal("10"))
False
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pyoxigraph import Literal, NamedNode

from lifecyclegraph.core.facts import from_literal
from lifecyclegraph.core.vocab import XSD

__all__ = ["BUILTINS", "COMPARISONS", "Builtin", "compare", "sort_value"]

COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")

_NUMERIC = {
    XSD[t].value
    for t in (
        "integer",
        "int",
        "long",
        "short",
        "byte",
        "decimal",
        "double",
        "float",
        "nonNegativeInteger",
        "positiveInteger",
        "negativeInteger",
        "nonPositiveInteger",
        "unsignedInt",
        "unsignedLong",
    )
}
_STRING = {XSD.string.value, "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}


def _text(term: Any) -> str:
    return str(term.value)


@lru_cache(maxsize=256)
def _pattern(text: str, flags: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE if "i" in flags else 0)


@dataclass(frozen=True)
class Builtin:
    """A built-in test: its name, how many arguments it takes, and the test itself."""

    name: str
    arities: tuple[int, ...]
    test: Callable[..., bool]
    summary: str


BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in (
        Builtin(
            "strstarts",
            (2,),
            lambda a, b: _text(a).startswith(_text(b)),
            "the text of a starts with the text of b",
        ),
        Builtin(
            "strends",
            (2,),
            lambda a, b: _text(a).endswith(_text(b)),
            "the text of a ends with the text of b",
        ),
        Builtin(
            "contains",
            (2,),
            lambda a, b: _text(b) in _text(a),
            "the text of b occurs in the text of a",
        ),
        Builtin(
            "regex",
            (2, 3),
            lambda a, p, f=None: (
                _pattern(_text(p), _text(f) if f else "").search(_text(a)) is not None
            ),
            "the regular expression p matches the text of a",
        ),
        Builtin("isiri", (1,), lambda a: isinstance(a, NamedNode), "a is an IRI"),
        Builtin("isliteral", (1,), lambda a: isinstance(a, Literal), "a is a literal"),
    )
}


def sort_value(term: Any) -> tuple[str, Any] | None:
    """The kind and Python value used to order a literal, or ``None`` if it has none.

    >>> sort_value(Literal("3", datatype=XSD.integer))
    ('number', 3)
    """
    if not isinstance(term, Literal):
        return None
    datatype = term.datatype.value
    if datatype in _STRING:
        return ("string", term.value)
    value = from_literal(term)
    if isinstance(value, bool):
        return ("boolean", value)
    if datatype in _NUMERIC and isinstance(value, int | float | Decimal):
        return ("number", value)
    if isinstance(value, datetime):
        return ("datetime", value)
    if isinstance(value, date):
        return ("date", value)
    return None


def compare(op: str, left: Any, right: Any) -> bool:
    """Compare two terms as a rule body does.

    ``=`` and ``!=`` compare values when both terms are literals of a comparable kind
    (``1`` equals ``1.0``) and terms otherwise. ``<``, ``<=``, ``>``, ``>=`` hold only
    between literals of the same kind (numbers, strings, booleans, date-times or
    dates); between anything else they are false.
    """
    a, b = sort_value(left), sort_value(right)
    comparable = a is not None and b is not None and a[0] == b[0]
    if op in ("=", "!="):
        equal = a[1] == b[1] if comparable else left == right  # type: ignore[index]
        return equal if op == "=" else not equal
    if not comparable:
        return False
    x, y = a[1], b[1]  # type: ignore[index]
    try:
        if op == "<":
            return bool(x < y)
        if op == "<=":
            return bool(x <= y)
        if op == ">":
            return bool(x > y)
        return bool(x >= y)
    except TypeError:  # e.g. a date-time with and one without a time zone
        return False
