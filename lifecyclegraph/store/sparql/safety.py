"""What a request may not do: ``SERVICE`` in a query, ``LOAD`` in an update, deep nesting.

Both make Oxigraph fetch a URL from the server (``SERVICE`` as soon as the query is
started, before any result is read), so they are found by parsing, before Oxigraph
sees the text:

* a query whose text cannot hold the keyword ``SERVICE`` (no ``service`` in any case,
  after SPARQL's ``\\uXXXX`` escapes are expanded) cannot call a service: it goes
  straight to Oxigraph, whose parser reports any syntax error;
* any other query is parsed with rdflib's SPARQL 1.1 parser, and refused if its
  syntax tree holds a ``SERVICE`` pattern (a variable ``?service`` or a string
  ``"SERVICE"`` is no such pattern). A text rdflib cannot parse is refused as a
  syntax error, since it cannot be shown to be safe;
* updates are always parsed with rdflib; ``LOAD`` anywhere is refused.

Oxigraph's parser and evaluator recurse, so a query nested thousands of levels deep
overflows the stack and kills the process that runs it. Brackets (``{ ( [``) that
nest deeper than :data:`MAX_DEPTH` are refused before Oxigraph sees the query.

>>> check_query("SELECT ?service WHERE { ?service a lg:Model }")
>>> check_query("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
Traceback (most recent call last):
...
lifecyclegraph.core.errors.QueryRefusedError: SERVICE is refused: ...
>>> check_update("LOAD <http://example.org/data.ttl>")
Traceback (most recent call last):
...
lifecyclegraph.core.errors.QueryRefusedError: LOAD is refused: ...
>>> check_update("CLEAR ALL")
['Clear']
"""

from __future__ import annotations

import re
from typing import Any

from lifecyclegraph.core.errors import QueryRefusedError, QuerySyntaxError, QueryTooComplexError

__all__ = [
    "MAX_DEPTH",
    "check_query",
    "check_update",
    "expand_escapes",
    "nesting_depth",
    "oxigraph_syntax_error",
]

#: The deepest bracket nesting a query may have (Oxigraph crashes near 2,500 on an
#: 8 MiB stack; workers run queries on a 256 MiB one).
MAX_DEPTH = 1000

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# What the depth scan skips whole: IRIs, strings (long forms first) and comments.
_OPAQUE = re.compile(  # possessive (*+): a failed match never backtracks
    r"""<[^<>"{}|^`\\\x00-\x20]*+>"""
    r'''|"""[^"\\]*+(?:(?:\\.|"(?!""))[^"\\]*+)*+"""'''
    r"""|'''[^'\\]*+(?:(?:\\.|'(?!''))[^'\\]*+)*+'''"""
    r'''|"[^"\\\n\r]*+(?:\\.[^"\\\n\r]*+)*+"'''
    r"""|'[^'\\\n\r]*+(?:\\.[^'\\\n\r]*+)*+'"""
    r"""|#[^\n\r]*""",
    re.DOTALL,
)
_MARKS = re.compile(r"""[<"'#{}()\[\]]""")
_OXIGRAPH_POSITION = re.compile(r"^error at (\d+):(\d+): ")

#: Syntax-tree nodes that make the server reach out, with the reason they are refused.
REFUSED = {
    "ServiceGraphPattern": (
        "SERVICE",
        "SERVICE is refused: it would make this server send requests to other services",
    ),
    "Load": (
        "LOAD",
        "LOAD is refused: it would make this server fetch data from a URL",
    ),
}


def expand_escapes(text: str) -> str:
    """Expand SPARQL's codepoint escapes, as SPARQL does before parsing.

    >>> expand_escapes(r"\\u0053ERVICE")
    'SERVICE'
    """

    def expand(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _ESCAPE.sub(expand, text)


def nesting_depth(text: str) -> int:
    """How deeply brackets nest in a query, outside IRIs, strings and comments.

    >>> nesting_depth('SELECT * { ?s ?p "{{{" FILTER (?p != <http://x/(>) }  # {{')
    2
    """
    depth = deepest = 0
    position = 0
    while (mark := _MARKS.search(text, position)) is not None:
        position = mark.start()
        char = text[position]
        if char in "<\"'#":
            match = _OPAQUE.match(text, position)
            if match is not None:
                position = match.end()
                continue
            if char != "<":
                # An unterminated string: the query is invalid there, and Oxigraph's
                # parser stops at it. (Scanning on would be quadratic.)
                break
        elif char in "{([":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(depth - 1, 0)
        position += 1
    return deepest


def _nodes(tree: Any) -> set[str]:
    """The names of every syntax-tree node in an rdflib parse result."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    names: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            names.add(node.name)
            stack.extend(node.values())
        elif isinstance(node, list | tuple | ParseResults):
            stack.extend(node)
    return names


def _rdflib_syntax_error(error: Exception) -> QuerySyntaxError:
    line, column = getattr(error, "lineno", None), getattr(error, "col", None)
    message = getattr(error, "msg", None) or str(error)
    where = f" at line {line}, column {column}" if line is not None else ""
    return QuerySyntaxError(f"{message}{where}", line, column)


def _refuse(names: set[str]) -> None:
    for node, (feature, message) in REFUSED.items():
        if node in names:
            raise QueryRefusedError(message, feature)


def check_query(text: str) -> None:
    """Refuse a query that would make the server call out (``SERVICE``).

    Raises:
        QueryRefusedError: the query holds a ``SERVICE`` pattern (``feature`` is
            ``"SERVICE"``).
        QuerySyntaxError: the query mentions ``service`` and rdflib cannot parse it.
        QueryTooComplexError: brackets nest deeper than :data:`MAX_DEPTH`.
    """
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise QueryTooComplexError(
            f"the query nests brackets {depth} levels deep; the limit is {MAX_DEPTH}"
        )
    if "service" not in expand_escapes(text).lower():
        return
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        tree = parseQuery(text)
    except ParseException as error:
        raise _rdflib_syntax_error(error) from None
    except Exception as error:  # rdflib raises a few other kinds on bad input
        raise QuerySyntaxError(f"the query cannot be parsed: {error}") from None
    _refuse(_nodes(tree))


def check_update(text: str) -> list[str]:
    """Parse a SPARQL update; return its operations' names (``InsertData``, ``Clear``…).

    Raises:
        QueryRefusedError: the update holds a ``LOAD`` (``feature`` is ``"LOAD"``).
        QuerySyntaxError: the text is not a valid SPARQL 1.1 update.
    """
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        tree = parseUpdate(text)
    except ParseException as error:
        raise _rdflib_syntax_error(error) from None
    except Exception as error:
        raise QuerySyntaxError(f"the update cannot be parsed: {error}") from None
    _refuse(_nodes(tree))
    return [op.name for op in tree.request]


def oxigraph_syntax_error(error: SyntaxError) -> QuerySyntaxError:
    """Oxigraph's parser error as a :class:`QuerySyntaxError` with its line and column.

    >>> str(oxigraph_syntax_error(SyntaxError("error at 1:6: expected WHERE")).offset)
    '6'
    """
    message = str(error)
    match = _OXIGRAPH_POSITION.match(message)
    if match is None:
        return QuerySyntaxError(message)
    return QuerySyntaxError(message, int(match.group(1)), int(match.group(2)))
