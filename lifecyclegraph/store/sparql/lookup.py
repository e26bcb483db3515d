"""Point lookups: the one shape of query the server may answer in its own process.

Queries run in worker processes because Oxigraph can neither stop a query nor
survive a parser that recurses too deep (``docs/sparql.md``). A **point lookup**
can do neither harm: one triple pattern whose subject is a constant, as in
``SELECT ?n WHERE { <aip://model/registry/m> lg:name ?n }``. It is flat (nothing
nests: Oxigraph's parser cannot overflow), short (:data:`MAX_LENGTH`), and its
evaluation is a range scan of the subject's statements that yields every match as
it finds it, so a cap on the rows stops it within that many steps. For such a
query, the worker's round trip (a process hop each way) costs more than the query.

:func:`is_point_lookup` recognises the shape with one regular expression (no
recursion, no backtracking blow-up: every repetition is over disjoint tokens); a
query it does not recognise simply goes to a worker, so it may be strict. It
accepts ``PREFIX`` declarations, ``SELECT`` of variables or ``*`` (no
``DISTINCT``, no expressions), or ``ASK``, with an optional ``WHERE``, one triple
pattern with a constant subject and no variable used twice, and for ``SELECT`` an
optional ``LIMIT`` (never ``OFFSET``: skipping rows is work that yields nothing).
No comments, no escapes, no ``BASE``, no ``FROM``.

>>> is_point_lookup("SELECT ?n WHERE { <aip://model/registry/m> lg:name ?n }")
True
>>> is_point_lookup("ask { lg:x a ?t }")
True
>>> is_point_lookup("SELECT DISTINCT ?p WHERE { ?s ?p ?o }")  # scans everything
False
>>> is_point_lookup("SELECT ?o WHERE { <urn:s> ?p ?o } OFFSET 1000000")
False
"""

from __future__ import annotations

import re

__all__ = ["MAX_LENGTH", "is_point_lookup"]

#: The longest query text taken for a point lookup (a longer one goes to a worker).
MAX_LENGTH = 2000

_WS = r"[ \t\r\n]"
_IRI = r"<[^<>\"{}|^`\\\x00-\x20]*>"
_PNAME = r"(?:[A-Za-z][A-Za-z0-9_-]*)?:[A-Za-z0-9_][A-Za-z0-9_-]*"
_VAR = r"[?$]([A-Za-z_][A-Za-z0-9_]*)"
_LITERAL = r'"[^"\\\r\n]*"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^(?:' + _IRI + "|" + _PNAME + "))?"
_PREFIX = rf"(?i:PREFIX){_WS}+(?:[A-Za-z][A-Za-z0-9_-]*)?:{_WS}*{_IRI}"
_PATTERN = (
    rf"\{{{_WS}*(?:{_IRI}|{_PNAME}){_WS}+"
    rf"(?:{_IRI}|{_PNAME}|a|{_VAR}){_WS}+"
    rf"(?:{_IRI}|{_PNAME}|{_LITERAL}|{_VAR}){_WS}*(?:\.{_WS}*)?\}}"
)
_LOOKUP = re.compile(
    rf"{_WS}*(?:{_PREFIX}{_WS}*)*"
    rf"(?:(?i:SELECT){_WS}+(?:\*|{_VAR}(?:{_WS}+{_VAR})*){_WS}*"
    rf"(?:(?i:WHERE){_WS}*)?{_PATTERN}{_WS}*(?:(?i:LIMIT){_WS}+[0-9]{{1,9}}{_WS}*)?"
    rf"|(?i:ASK){_WS}*(?:(?i:WHERE){_WS}*)?{_PATTERN}{_WS}*)"
)
_PATTERN_VARIABLES = re.compile(_PATTERN)
_VARIABLE = re.compile(_VAR)


def is_point_lookup(query: str) -> bool:
    """Whether ``query`` is a point lookup (see the module docstring): safe to run
    in the server process with a cap on its rows."""
    if len(query) > MAX_LENGTH or _LOOKUP.fullmatch(query) is None:
        return False
    pattern = _PATTERN_VARIABLES.search(query)
    assert pattern is not None  # the full match holds one
    names = _VARIABLE.findall(pattern.group(0))
    return len(names) == len(set(names))
