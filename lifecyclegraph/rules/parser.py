"""Parse rule files into a :class:`~lifecyclegraph.rules.program.Program` (the first stage).

The grammar is ``grammar.lark`` (a Lark LALR grammar); a syntax error is raised as
:class:`~lifecyclegraph.core.errors.RuleSyntaxError` naming the file, line and column.
Prefixes ``lg``, ``rdf``, ``rdfs``, ``owl``, ``xsd``, ``prov``, ``dcat``, ``dcterms``,
``mls``, ``org`` and ``sh`` are predeclared; ``@prefix`` lines add or override them for
the rest of the file.

>>> program = parse_rules('''
... # A team owns what its members own.
... lg:owningTeam(?a, ?t) :- lg:owner(?a, ?u), lg:memberOf(?u, ?t).
... ''', "ownership.rules")
>>> rule = program.rules[0]
>>> str(rule)
'lg:owningTeam(?a, ?t) :- lg:owner(?a, ?u), lg:memberOf(?u, ?t).'
>>> str(rule.location), rule.comment
('ownership.rules:3:1', 'A team owns what its members own.')

The comment just above a rule is its description; rules written on the lines right
below it, with no blank line between, share it.
>>> try:
...     parse_rules("lg:Model(?x) :- lg:ModelInstance(?x) lg:Asset(?x).", "bad.rules")
... except RuleSyntaxError as error:
...     print(error)
bad.rules:1:38: unexpected 'lg:Asset'; expected ',', '.' or ':-'
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, Tree, UnexpectedInput, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken, VisitError
from pyoxigraph import Literal, NamedNode

from lifecyclegraph.core.errors import RuleSyntaxError
from lifecyclegraph.core.vocab import PREFIXES, RDF_TYPE, XSD
from lifecyclegraph.rules.builtins import BUILTINS
from lifecyclegraph.rules.program import (
    Atom,
    Builtin,
    Comparison,
    Const,
    Location,
    Negation,
    Program,
    Rule,
    Term,
    Var,
    Wildcard,
)

__all__ = ["parse_files", "parse_pattern", "parse_rules"]

_TOKEN_NAMES = {
    "DOT": "'.'",
    "COMMA": "','",
    "LPAR": "'('",
    "RPAR": "')'",
    "IF": "':-'",
    "NOT": "'not'",
    "PREFIX": "'@prefix'",
    "PREFIX_NAME": "a prefix name such as 'lg:'",
    "PNAME": "a prefixed name",
    "IRIREF": "an IRI",
    "NAME": "a helper name",
    "VAR": "a variable",
    "WILDCARD": "'_'",
    "STRING": "a string",
    "LANGTAG": "a language tag",
    "DATATYPE": "'^^'",
    "INTEGER": "a number",
    "DECIMAL": "a number",
    "DOUBLE": "a number",
    "TRUE": "'true'",
    "FALSE": "'false'",
    "COMPARE": "a comparison",
    "A": "'a'",
    "$END": "end of file",
}


_comment_sink = threading.local()


def _keep_comment(token: Token) -> Token:
    sink = getattr(_comment_sink, "comments", None)
    if sink is not None:
        sink[token.line or 0] = token.value[1:].strip()
    return token


@cache
def _parser() -> Lark:
    grammar = (Path(__file__).with_name("grammar.lark")).read_text()
    return Lark(
        grammar,
        parser="lalr",
        start=["start", "pattern"],
        propagate_positions=True,
        maybe_placeholders=False,
        lexer_callbacks={"COMMENT": _keep_comment},
    )


def parse_rules(text: str, filename: str = "<rules>") -> Program:
    """Parse the text of one rule file.

    Args:
        text: the rules.
        filename: the name used in locations and error messages.

    Returns:
        The program: its rules, each with its location and the comment above it.

    Raises:
        RuleSyntaxError: at the first syntax error, an unknown prefix or a malformed IRI.
    """
    comments: dict[int, str] = {}
    try:
        tree = _parse(text, filename, "start", comments)
        builder = _Builder(filename, dict(PREFIXES), comments)
        rules = builder.transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, RuleSyntaxError):
            raise error.orig_exc from None
        raise
    return Program(tuple(rules), (filename,))


def parse_files(paths: Iterable[str | Path], root: str | Path | None = None) -> Program:
    """Parse rule files in the given order into one program.

    Args:
        paths: the files.
        root: if given, locations name files relative to it (``rules/lineage.rules``).

    Raises:
        RuleSyntaxError: at the first syntax error of the first bad file.
    """
    program = Program(())
    for path in paths:
        path = Path(path)
        name = str(path.relative_to(root)) if root is not None else str(path)
        program = program.merge(parse_rules(path.read_text(encoding="utf-8"), name))
    return program


def parse_pattern(text: str) -> tuple[Term, Term, Term]:
    """Parse a fact pattern ``subject predicate object`` (N-Triples-like, prefixed names
    accepted, ``a`` for ``rdf:type``, ``?x`` or ``_`` for any value).

    >>> s, p, o = parse_pattern("<aip://model/registry/m> a lg:Model")
    >>> s.term.value, p.term == RDF_TYPE, o.term.value.endswith("#Model")
    ('aip://model/registry/m', True, True)

    Raises:
        RuleSyntaxError: if the text is not a pattern.
    """
    try:
        tree = _parse(text, "<pattern>", "pattern", {})
        subject, predicate, obj = _Builder("<pattern>", dict(PREFIXES), {}).transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, RuleSyntaxError):
            raise error.orig_exc from None
        raise
    return subject, predicate, obj


def _parse(text: str, filename: str, start: str, comments: dict[int, str]) -> Tree[Any]:
    _comment_sink.comments = comments
    try:
        return _parser().parse(text, start=start)
    except UnexpectedInput as error:
        raise _syntax_error(error, text, filename) from None
    finally:
        _comment_sink.comments = None


def _syntax_error(error: UnexpectedInput, text: str, filename: str) -> RuleSyntaxError:
    line, column = error.line, error.column
    if isinstance(error, UnexpectedCharacters):
        position = error.pos_in_stream or 0
        char = text[position] if position < len(text) else ""
        message = f"unexpected character {char!r}"
        if char == "?":
            message += " (a variable is ? followed by a letter, as in ?x)"
        elif char == '"':
            message = 'unterminated string (a string ends with " on the same line)'
    elif isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        message = f"unexpected end of file; expected {_expected(error.expected)}"
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
    else:
        assert isinstance(error, UnexpectedToken)
        message = f"unexpected {error.token.value!r}; expected {_expected(error.expected)}"
    if line is None or line < 1:
        line, column = 1, 1
    lines = text.splitlines()
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    return RuleSyntaxError(message, filename, line, column, source)


def _expected(names: Iterable[str]) -> str:
    labels = sorted({_TOKEN_NAMES.get(name, name.lower()) for name in names})
    if len(labels) == 1:
        return labels[0]
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def _location(filename: str, item: Any) -> Location:
    line = getattr(item, "line", None)
    column = getattr(item, "column", None)
    return Location(filename, line or 1, column or 1)


class _Builder(Transformer[Token, Any]):
    """Turn the Lark tree into program objects, resolving prefixes as it goes."""

    def __init__(self, filename: str, prefixes: dict[str, str], comments: dict[int, str]) -> None:
        super().__init__()
        self.filename = filename
        self.prefixes = prefixes
        self.comments = comments
        self._previous: tuple[int, str] | None = None  # (last line, comment) of the last rule

    def _error(self, message: str, token: Any) -> RuleSyntaxError:
        loc = _location(self.filename, token)
        return RuleSyntaxError(message, self.filename, loc.line, loc.column)

    def _iri(self, token: Token) -> str:
        if token.type == "IRIREF":
            value = token.value[1:-1]
        else:
            prefix, _, local = token.value.partition(":")
            if prefix not in self.prefixes:
                near = difflib.get_close_matches(prefix, list(self.prefixes), n=1)
                hint = f"; did you mean {near[0]}:?" if near else " (declare it with @prefix)"
                raise self._error(f"unknown prefix {prefix}:{hint}", token)
            value = self.prefixes[prefix] + local
        try:
            NamedNode(value)
        except ValueError as error:
            raise self._error(f"malformed IRI <{value}>: {error}", token) from None
        return value

    # -- statements -----------------------------------------------------------------

    def start(self, items: list[Any]) -> list[Rule]:
        return [item for item in items if isinstance(item, Rule)]

    def prefix_decl(self, items: list[Token]) -> None:
        _, name, iri, _ = items
        self.prefixes[name.value[:-1]] = self._iri(iri)

    @v_args(meta=True)
    def rule(self, meta: Any, items: list[Any]) -> Rule:
        head = items[0]
        body = tuple(item for item in items[1:] if not isinstance(item, Token))
        location = Location(self.filename, meta.line, meta.column)
        comment = self._comment_above(meta.line)
        if not comment and self._previous is not None and self._previous[0] == meta.line - 1:
            comment = self._previous[1]  # a rule right under another shares its comment
        self._previous = (meta.end_line, comment)
        return Rule(head, body, location, comment)

    def _comment_above(self, line: int) -> str:
        lines = []
        line -= 1
        while line in self.comments:
            lines.append(self.comments[line])
            line -= 1
        return " ".join(reversed(lines)).strip()

    def atom(self, items: list[Any]) -> Atom | Builtin:
        predicate = items[0]
        args = tuple(item for item in items[1:] if not isinstance(item, Token))
        name, token = predicate
        location = _location(self.filename, token)
        if token.type == "NAME" and name in BUILTINS:
            return Builtin(name, args, False, location)
        return Atom(name, args, location)

    def predicate(self, items: list[Token]) -> tuple[str, Token]:
        token = items[0]
        name = token.value if token.type == "NAME" else self._iri(token)
        return name, token

    def negation(self, items: list[Any]) -> Negation | Builtin:
        atom = items[1]
        if isinstance(atom, Builtin):
            return Builtin(atom.name, atom.args, True, atom.location)
        return Negation(atom, _location(self.filename, items[0]))

    def comparison(self, items: list[Any]) -> Comparison:
        left, op, right = items
        return Comparison(op.value, left, right, _location(self.filename, op))

    def pattern(self, items: list[Any]) -> tuple[Term, Term, Term]:
        terms = [item for item in items if not (isinstance(item, Token) and item.type == "DOT")]
        subject, predicate, obj = terms
        if isinstance(predicate, Token):  # the keyword a
            predicate = Const(RDF_TYPE)
        return subject, predicate, obj

    # -- terms ------------------------------------------------------------------------

    def var(self, items: list[Token]) -> Var:
        return Var(items[0].value[1:])

    def wildcard(self, items: list[Token]) -> Wildcard:
        return Wildcard()

    def iri(self, items: list[Token]) -> Const:
        return Const(NamedNode(self._iri(items[0])))

    def string(self, items: list[Token]) -> Const:
        return Const(Literal(_unescape(items[0], self)))

    def lang_string(self, items: list[Token]) -> Const:
        return Const(Literal(_unescape(items[0], self), language=items[1].value[1:]))

    def typed_string(self, items: list[Token]) -> Const:
        text, _, datatype = items
        return Const(Literal(_unescape(text, self), datatype=NamedNode(self._iri(datatype))))

    def integer(self, items: list[Token]) -> Const:
        return Const(Literal(items[0].value.lstrip("+"), datatype=XSD.integer))

    def decimal(self, items: list[Token]) -> Const:
        return Const(Literal(items[0].value.lstrip("+"), datatype=XSD.decimal))

    def double(self, items: list[Token]) -> Const:
        return Const(Literal(items[0].value.lstrip("+"), datatype=XSD.double))

    def true(self, items: list[Token]) -> Const:
        return Const(Literal("true", datatype=XSD.boolean))

    def false(self, items: list[Token]) -> Const:
        return Const(Literal("false", datatype=XSD.boolean))


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(token: Token, builder: _Builder) -> str:
    text = token.value[1:-1]
    if "\\" not in text:
        return text
    out = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        code = text[i + 1]
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            i += 2
        elif code in "uU":
            width = 4 if code == "u" else 8
            digits = text[i + 2 : i + 2 + width]
            try:
                out.append(chr(int(digits, 16)))
            except ValueError:
                raise builder._error(f"bad escape \\{code}{digits} in a string", token) from None
            i += 2 + width
        else:
            raise builder._error(f"bad escape \\{code} in a string", token)
    return "".join(out)
