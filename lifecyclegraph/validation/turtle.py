"""Turtle with positions: each triple of a file with the line and column of its terms.

Neither rdflib nor pyoxigraph keeps where a triple was written, and no maintained
Python library parses Turtle with positions, so this module tokenizes Turtle (the W3C
Turtle 1.1 grammar; N-Triples is a subset) and parses it into triples whose subject,
predicate and object each carry a :class:`Position`.

pyoxigraph stays the judge of what is valid. :func:`read_rdf` parses with pyoxigraph
first (a syntax error is a :class:`~lifecyclegraph.core.errors.TurtleSyntaxError` with
pyoxigraph's line and column), then with this parser, and keeps the positions only
when both give the same graph; otherwise the file is read without positions
(:attr:`RdfDocument.positioned` is false) rather than with wrong ones. Blank nodes
get labels made from the file's name and their order, the same on every run.

>>> doc = read_rdf('''@prefix lg: <https://w3id.org/lifecyclegraph/ontology#> .
... lg:Model a lg:Class ;
...     lg:label "model" .
... ''', "models.ttl")
>>> doc.positioned
True
>>> str(doc.first_as_subject(NamedNode("https://w3id.org/lifecyclegraph/ontology#Model")))
'models.ttl:2:1'
>>> [str(p) for p, role in doc.occurrences(
...     NamedNode("https://w3id.org/lifecyclegraph/ontology#label"))]
['models.ttl:3:5']
>>> try:
...     read_rdf("<a> <b> .", "bad.ttl")
... except TurtleSyntaxError as error:
...     print(error)
bad.ttl:1:1: No scheme found in an absolute IRI
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin

import rdflib
import rdflib.compare
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, parse

from lifecyclegraph.core.errors import TurtleSyntaxError

__all__ = ["Located", "Position", "RdfDocument", "parse_positions", "read_rdf", "to_rdflib_term"]

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
_TYPE = NamedNode(RDF + "type")
_FIRST, _REST, _NIL = NamedNode(RDF + "first"), NamedNode(RDF + "rest"), NamedNode(RDF + "nil")


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """Where a term is written: a file, a line and a column (both from 1, in characters).

    >>> str(Position("shapes/models.ttl", 12, 5))
    'shapes/models.ttl:12:5'
    """

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Located:
    """A triple and where each of its terms is written."""

    triple: Triple
    subject: Position
    predicate: Position
    object: Position


@dataclass
class RdfDocument:
    """One parsed RDF file: its triples and, when they could be found, their positions.

    Attributes:
        name: the file as findings name it (a path relative to the working directory).
        triples: every triple, in the order written when positioned.
        located: the same triples with positions, or ``None`` (see :attr:`positioned`).
        prefixes: the prefixes the file declares (Turtle only).
    """

    name: str
    triples: list[Triple]
    located: list[Located] | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    #: where each subject is first written (from :attr:`located`, or given for JSON-LD)
    subject_positions: dict[object, Position] | None = field(default=None, repr=False)

    @property
    def positioned(self) -> bool:
        """Whether positions are known (Turtle and N-Triples the parsers agree on)."""
        return self.located is not None

    def first_as_subject(self, term: NamedNode | BlankNode) -> Position | None:
        """Where ``term`` is first written as a subject (for a ``[ ]`` blank node, its
        opening bracket), or ``None`` if it never is or positions are unknown."""
        if self.located is None and self.subject_positions is None:
            return None
        if self.subject_positions is None:
            self.subject_positions = {}
            for item in self.located or ():
                self.subject_positions.setdefault(item.triple.subject, item.subject)
        return self.subject_positions.get(term)

    def occurrences(self, term: object) -> Iterator[tuple[Position, str]]:
        """Every place ``term`` is written, with its role (subject, predicate, object)."""
        for item in self.located or ():
            t = item.triple
            if t.subject == term:
                yield item.subject, "subject"
            if t.predicate == term:
                yield item.predicate, "predicate"
            if t.object == term:
                yield item.object, "object"

    def where(self, triple: Triple) -> Located | None:
        """The first place ``triple`` is written, or ``None``."""
        for item in self.located or ():
            if item.triple == triple:
                return item
        return None


def read_rdf(text: str, name: str, format: RdfFormat = RdfFormat.TURTLE) -> RdfDocument:
    """Parse ``text`` (Turtle, N-Triples or JSON-LD) and locate its triples.

    Args:
        text: the file's text.
        name: the file's name in positions and errors.
        format: the syntax; only Turtle and N-Triples get positions.

    Raises:
        TurtleSyntaxError: the text does not parse, with pyoxigraph's line and column.
    """
    try:
        reference = [q.triple for q in parse(text, format=format, base_iri=None)]
    except SyntaxError as error:
        raise _syntax_error(error, name) from error
    if format not in (RdfFormat.TURTLE, RdfFormat.N_TRIPLES):
        return RdfDocument(name, reference)
    try:
        located, prefixes = parse_positions(text, name)
        mine = [item.triple for item in located]
        if not _same_graph(reference, mine):
            return RdfDocument(name, reference)
    except _Unsupported:
        return RdfDocument(name, reference)
    return RdfDocument(name, mine, located, prefixes)


def _syntax_error(error: SyntaxError, name: str) -> TurtleSyntaxError:
    """pyoxigraph's error, without its ``Parser error at line 3 between ...:`` preamble."""
    message = re.sub(r"^Parser error (at|between) [^:]*: ", "", str(error.msg or error))
    return TurtleSyntaxError(message, name, error.lineno or 1, error.offset or 1)


def _same_graph(left: list[Triple], right: list[Triple]) -> bool:
    """Whether two lists of triples are the same graph (blank nodes up to renaming)."""
    a, b = set(left), set(right)
    if len(a) != len(b):
        return False
    canonical_a, canonical_b = _canonical(a), _canonical(b)
    if canonical_a is not None and canonical_b is not None:
        return canonical_a == canonical_b
    ga, gb = rdflib.Graph(), rdflib.Graph()  # blank nodes that look alike: the full test
    for graph, triples in ((ga, a), (gb, b)):
        for t in triples:
            graph.add(
                (to_rdflib_term(t.subject), to_rdflib_term(t.predicate), to_rdflib_term(t.object))
            )
    return rdflib.compare.isomorphic(ga, gb)


def _canonical(triples: set[Triple]) -> frozenset[tuple[str, str, str]] | None:
    """The triples with each blank node named by what surrounds it (colour refinement),
    or ``None`` when two blank nodes cannot be told apart that way. Two graphs whose
    canonical forms are equal are the same graph: the names are a one-to-one map."""
    blanks = {x for t in triples for x in (t.subject, t.object) if isinstance(x, BlankNode)}
    if not blanks:
        return frozenset((str(t.subject), str(t.predicate), str(t.object)) for t in triples)
    around: dict[object, list[tuple[str, str, object]]] = {b: [] for b in blanks}
    for t in triples:
        if t.subject in around:
            around[t.subject].append(("out", t.predicate.value, t.object))
        if t.object in around:
            around[t.object].append(("in", t.predicate.value, t.subject))
    colour: dict[object, str] = dict.fromkeys(blanks, "")
    distinct = 1
    for _ in range(len(blanks) + 1):
        colour = {
            b: hashlib.sha256(
                repr(sorted((d, p, colour.get(x, str(x))) for d, p, x in around[b])).encode()
            ).hexdigest()
            for b in blanks
        }
        now = len(set(colour.values()))
        if now == len(blanks):
            break
        if now == distinct:
            return None
        distinct = now
    return frozenset(
        (
            colour.get(t.subject, str(t.subject)),
            str(t.predicate),
            colour.get(t.object, str(t.object)),
        )
        for t in triples
    )


def to_rdflib_term(term: object) -> rdflib.term.Node:
    """A pyoxigraph term as rdflib's (blank node labels kept; ``xsd:string`` literals
    become plain literals, as rdflib's own Turtle parser makes them)."""
    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        if term.datatype.value == XSD + "string":
            return rdflib.Literal(term.value)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    raise _Unsupported(f"an RDF-star triple term ({term!r})")


# -- tokens -----------------------------------------------------------------------------

_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_U = _BASE + "_"
_CHARS = _U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PREFIX = rf"(?:[{_BASE}](?:[{_CHARS}.]*[{_CHARS}])?)?"
_LOCAL = rf"(?:(?:[{_U}:0-9]|{_PLX})(?:(?:[{_CHARS}.:]|{_PLX})*(?:[{_CHARS}:]|{_PLX}))?)"
_TOKEN = re.compile(
    rf"""
    (?P<ws>[ \t\r\n]+|\#[^\r\n]*)
  | (?P<long>\"\"\"(?:(?:\"|\"\")?(?:[^\"\\]|\\.))*\"\"\"|'''(?:(?:'|'')?(?:[^'\\]|\\.))*''')
  | (?P<string>"(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*')
  | (?P<iri><(?:[^\x00-\x20<>"{{}}|^`\\]|\\u[0-9A-Fa-f]{{4}}|\\U[0-9A-Fa-f]{{8}})*>)
  | (?P<bnode>_:[{_U}0-9](?:[{_CHARS}.]*[{_CHARS}])?)
  | (?P<pname>{_PREFIX}:{_LOCAL}?)
  | (?P<number>[+-]?(?:[0-9]+\.[0-9]*[eE][+-]?[0-9]+|\.[0-9]+[eE][+-]?[0-9]+
        |[0-9]+[eE][+-]?[0-9]+|[0-9]*\.[0-9]+|[0-9]+))
  | (?P<directive>@prefix\b|@base\b)
  | (?P<lang>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
  | (?P<anon>\[[ \t\r\n]*\])
  | (?P<punct>\^\^|[.;,\[\]()])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE | re.DOTALL,
)
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)
_LOCAL_ESCAPE = re.compile(r"\\(.)")


class _Unsupported(ValueError):
    """Something this parser does not read (RDF-star, or text pyoxigraph took and this
    parser cannot): the file is read without positions."""


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    offset: int


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        if code in _ECHAR:
            return _ECHAR[code]
        raise _Unsupported(f"unknown escape \\{code}")

    return _ESCAPE.sub(replace, text)


def _tokens(text: str) -> list[_Token]:
    out = []
    offset = 0
    while offset < len(text):
        match = _TOKEN.match(text, offset)
        if match is None or match.end() == offset:
            raise _Unsupported(f"unexpected text at offset {offset}")
        kind = match.lastgroup or ""
        if kind != "ws":
            out.append(_Token(kind, match.group(), offset))
        offset = match.end()
    return out


# -- grammar ----------------------------------------------------------------------------


def parse_positions(text: str, name: str) -> tuple[list[Located], dict[str, str]]:
    """Parse Turtle ``text`` into located triples and the prefixes it declares.

    The text is assumed valid (:func:`read_rdf` has pyoxigraph check it first).

    >>> located, prefixes = parse_positions('@prefix e: <http://e/> .\\ne:a e:b [ e:c 1 ] .', "x")
    >>> sorted((str(i.triple.predicate), str(i.object)) for i in located)
    [('<http://e/b>', 'x:2:9'), ('<http://e/c>', 'x:2:15')]
    """
    return _Parser(text, name).run()


class _Parser:
    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.name = name
        self.tokens = _tokens(text)
        self.index = 0
        self.prefixes: dict[str, str] = {}
        self.base: str | None = None
        self.out: list[Located] = []
        self.labels: dict[str, BlankNode] = {}
        self.scope = hashlib.sha1(name.encode()).hexdigest()[:8]
        self.fresh = 0
        starts = [0]
        starts.extend(m.end() for m in re.finditer(r"\r\n|\n|\r", text))
        self.line_starts = starts

    # -- helpers --------------------------------------------------------------------

    def position(self, token: _Token) -> Position:
        line = bisect.bisect_right(self.line_starts, token.offset)
        return Position(self.name, line, token.offset - self.line_starts[line - 1] + 1)

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def next(self) -> _Token:
        token = self.peek()
        if token is None:
            raise _Unsupported("unexpected end of file")
        self.index += 1
        return token

    def expect(self, text: str) -> _Token:
        token = self.next()
        if token.text != text:
            raise _Unsupported(f"expected {text!r}, found {token.text!r}")
        return token

    def is_punct(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token.kind in ("punct", "anon") and token.text == text

    def blank(self) -> BlankNode:
        self.fresh += 1
        return BlankNode(f"b{self.scope}n{self.fresh}")

    def emit(
        self,
        s: NamedNode | BlankNode,
        p: NamedNode,
        o: NamedNode | BlankNode | Literal,
        sp: Position,
        pp: Position,
        op: Position,
    ) -> None:
        self.out.append(Located(Triple(s, p, o), sp, pp, op))

    # -- terms ----------------------------------------------------------------------

    def iri(self, token: _Token) -> NamedNode:
        if token.kind == "iri":
            value = _unescape(token.text[1:-1])
            if self.base is not None:
                value = urljoin(self.base, value)
            return NamedNode(value)
        if token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            if prefix not in self.prefixes:
                raise _Unsupported(f"undeclared prefix {prefix}:")
            return NamedNode(self.prefixes[prefix] + _LOCAL_ESCAPE.sub(r"\1", local))
        raise _Unsupported(f"expected an IRI, found {token.text!r}")

    def label(self, token: _Token) -> BlankNode:
        key = token.text[2:]
        node = self.labels.get(key)
        if node is None:
            safe = re.sub(r"[^A-Za-z0-9]", lambda m: f"x{ord(m.group()):x}", key)
            node = self.labels[key] = BlankNode(f"b{self.scope}l{safe}")
        return node

    # -- statements -----------------------------------------------------------------

    def run(self) -> tuple[list[Located], dict[str, str]]:
        while self.peek() is not None:
            self.statement()
        return self.out, self.prefixes

    def statement(self) -> None:
        token = self.next()
        lowered = token.text.lower()
        if token.kind == "directive" or (token.kind == "word" and lowered in ("prefix", "base")):
            sparql = token.kind == "word"
            if lowered.lstrip("@") == "prefix":
                prefix = self.next()
                if prefix.kind != "pname" or not prefix.text.endswith(":"):
                    raise _Unsupported(f"expected a prefix name, found {prefix.text!r}")
                self.prefixes[prefix.text[:-1]] = self.iri(self.next()).value
            else:
                self.base = self.iri(self.next()).value
            if not sparql:
                self.expect(".")
            return
        if token.kind == "punct" and token.text == "[":
            node, where = self.property_list(token)
            if not self.is_punct("."):
                self.predicate_objects(node, where)
        else:
            subject, where = self.subject(token)
            self.predicate_objects(subject, where)
        self.expect(".")

    def subject(self, token: _Token) -> tuple[NamedNode | BlankNode, Position]:
        where = self.position(token)
        if token.kind in ("iri", "pname"):
            return self.iri(token), where
        if token.kind == "bnode":
            return self.label(token), where
        if token.kind == "anon":
            return self.blank(), where
        if token.kind == "punct" and token.text == "(":
            return self.collection(token), where
        raise _Unsupported(f"unexpected {token.text!r} as a subject")

    def predicate_objects(self, subject: NamedNode | BlankNode, where: Position) -> None:
        while True:
            verb = self.next()
            predicate = _TYPE if verb.kind == "word" and verb.text == "a" else self.iri(verb)
            at = self.position(verb)
            while True:
                obj, op = self.object()
                self.emit(subject, predicate, obj, where, at, op)
                if not self.is_punct(","):
                    break
                self.next()
            # ';' may repeat, and may end the list
            if not self.is_punct(";"):
                return
            while self.is_punct(";"):
                self.next()
            if self.is_punct(".") or self.is_punct("]") or self.peek() is None:
                return

    def object(self) -> tuple[NamedNode | BlankNode | Literal, Position]:
        token = self.next()
        where = self.position(token)
        kind = token.kind
        if kind in ("iri", "pname"):
            return self.iri(token), where
        if kind == "bnode":
            return self.label(token), where
        if kind == "anon":
            return self.blank(), where
        if kind == "punct" and token.text == "[":
            node, _ = self.property_list(token)
            return node, where
        if kind == "punct" and token.text == "(":
            return self.collection(token), where
        if kind in ("string", "long"):
            quote = 3 if kind == "long" else 1
            value = _unescape(token.text[quote:-quote])
            following = self.peek()
            if following is not None and following.kind == "lang":
                self.next()
                return Literal(value, language=following.text[1:].lower()), where
            if following is not None and following.text == "^^":
                self.next()
                return Literal(value, datatype=self.iri(self.next())), where
            return Literal(value), where
        if kind == "number":
            text = token.text
            datatype = (
                "double" if re.search("[eE]", text) else "decimal" if "." in text else "integer"
            )
            return Literal(text, datatype=NamedNode(XSD + datatype)), where
        if kind == "word" and token.text in ("true", "false"):
            return Literal(token.text, datatype=NamedNode(XSD + "boolean")), where
        raise _Unsupported(f"unexpected {token.text!r} as an object")

    def property_list(self, opening: _Token) -> tuple[BlankNode, Position]:
        node = self.blank()
        where = self.position(opening)
        self.predicate_objects(node, where)
        self.expect("]")
        return node, where

    def collection(self, opening: _Token) -> NamedNode | BlankNode:
        items: list[tuple[NamedNode | BlankNode | Literal, Position]] = []
        while not self.is_punct(")"):
            items.append(self.object())
        self.next()
        if not items:
            return _NIL
        nodes = [self.blank() for _ in items]
        first_at = self.position(opening)
        for i, (item, at) in enumerate(items):
            node_at = first_at if i == 0 else at
            self.emit(nodes[i], _FIRST, item, node_at, at, at)
            rest = nodes[i + 1] if i + 1 < len(items) else _NIL
            self.emit(nodes[i], _REST, rest, node_at, at, items[i + 1][1] if rest != _NIL else at)
        return nodes[0]
