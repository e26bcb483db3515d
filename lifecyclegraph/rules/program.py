"""The rule program as the stages hand it on: rules made of atoms, terms and filters.

The parser (and the OWL translator) build a :class:`Program`; analysis checks it and
returns an :class:`~lifecyclegraph.rules.analysis.AnalysedProgram`; the compiler turns
that into a :class:`~lifecyclegraph.rules.compiler.CompiledProgram` that the evaluator
runs. Each stage keeps the previous one's object, so a problem found late can still
point at the file, line and column a rule came from.

Predicates are named by a string: the full IRI of an ontology class (one argument) or
property (two arguments), or a bare name such as ``consumed`` for a *helper*, a
predicate local to the program that is derived in memory and never written to the
store.

>>> from pyoxigraph import NamedNode
>>> x = Var("x")
>>> rule = Rule(
...     head=Atom("https://w3id.org/lifecyclegraph/ontology#Asset", (x,)),
...     body=(Atom("https://w3id.org/lifecyclegraph/ontology#Model", (x,)),),
... )
>>> str(rule)
'lg:Asset(?x) :- lg:Model(?x).'
>>> rule.variables() == {"x"}
True
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeAlias

from pyoxigraph import Literal, NamedNode

from lifecyclegraph.core.vocab import PREFIXES, compact

__all__ = [
    "Atom",
    "Builtin",
    "Comparison",
    "Const",
    "Location",
    "Negation",
    "Program",
    "Rule",
    "Term",
    "Var",
    "Wildcard",
    "is_helper",
    "show_predicate",
    "show_term",
]


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was written: a file, a line and a column (both from 1)."""

    filename: str = "<rules>"
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.column}"


NOWHERE = Location("<generated>", 1, 1)


@dataclass(frozen=True, slots=True)
class Var:
    """A variable, ``?name``."""

    name: str

    def __str__(self) -> str:
        return f"?{self.name}"


@dataclass(frozen=True, slots=True)
class Wildcard:
    """The anonymous variable ``_``: any value, never bound, never compared."""

    def __str__(self) -> str:
        return "_"


@dataclass(frozen=True, slots=True)
class Const:
    """A constant: an IRI or a literal (a pyoxigraph term)."""

    term: NamedNode | Literal

    def __str__(self) -> str:
        return show_term(self.term)


Term: TypeAlias = Var | Wildcard | Const


@dataclass(frozen=True, slots=True)
class Atom:
    """``predicate(arg, ...)``: a class (one argument), a property (two) or a helper."""

    predicate: str
    args: tuple[Term, ...]
    location: Location = field(default=NOWHERE, compare=False)

    @property
    def arity(self) -> int:
        return len(self.args)

    def variables(self) -> set[str]:
        """Names of the variables among the arguments."""
        return {a.name for a in self.args if isinstance(a, Var)}

    def __str__(self) -> str:
        args = ", ".join(str(a) for a in self.args)
        return f"{show_predicate(self.predicate)}({args})"


@dataclass(frozen=True, slots=True)
class Negation:
    """``not atom``: true when no fact matches the atom (stratified)."""

    atom: Atom
    location: Location = field(default=NOWHERE, compare=False)

    def variables(self) -> set[str]:
        return self.atom.variables()

    def __str__(self) -> str:
        return f"not {self.atom}"


@dataclass(frozen=True, slots=True)
class Comparison:
    """``left op right`` with ``op`` one of ``= != < <= > >=``."""

    op: str
    left: Term
    right: Term
    location: Location = field(default=NOWHERE, compare=False)

    def variables(self) -> set[str]:
        return {t.name for t in (self.left, self.right) if isinstance(t, Var)}

    def __str__(self) -> str:
        return f"{self.left} {self.op} {self.right}"


@dataclass(frozen=True, slots=True)
class Builtin:
    """A built-in test such as ``strstarts(?x, "aip://model/")``, possibly negated."""

    name: str
    args: tuple[Term, ...]
    negated: bool = False
    location: Location = field(default=NOWHERE, compare=False)

    def variables(self) -> set[str]:
        return {a.name for a in self.args if isinstance(a, Var)}

    def __str__(self) -> str:
        text = f"{self.name}({', '.join(str(a) for a in self.args)})"
        return f"not {text}" if self.negated else text


BodyItem: TypeAlias = Atom | Negation | Comparison | Builtin


@dataclass(frozen=True, slots=True)
class Rule:
    """``head :- body.`` (a fact when the body is empty).

    ``comment`` is the steward's comment written just above the rule (or, for a rule
    made from the ontology, the axiom it states); ``origin`` is ``"rules"`` or
    ``"ontology"``; ``also_stated_at`` lists where an identical rule was also stated
    (it is kept once).
    """

    head: Atom
    body: tuple[BodyItem, ...] = ()
    location: Location = field(default=NOWHERE, compare=False)
    comment: str = field(default="", compare=False)
    origin: str = field(default="rules", compare=False)
    also_stated_at: tuple[Location, ...] = field(default=(), compare=False)

    def positive_atoms(self) -> Iterator[Atom]:
        """The body atoms that are not negated."""
        return (item for item in self.body if isinstance(item, Atom))

    def variables(self) -> set[str]:
        """Every variable of the rule."""
        names = self.head.variables()
        for item in self.body:
            names |= item.variables()
        return names

    def canonical(self) -> tuple[object, ...]:
        """The rule's structure with variables renamed in order of appearance.

        Two rules with the same canonical form derive the same facts.

        >>> a = Rule(Atom("p", (Var("a"),)), (Atom("q", (Var("a"),)),))
        >>> b = Rule(Atom("p", (Var("x"),)), (Atom("q", (Var("x"),)),))
        >>> a.canonical() == b.canonical()
        True
        """
        names: dict[str, str] = {}

        def term(t: Term) -> object:
            if isinstance(t, Var):
                return ("var", names.setdefault(t.name, f"v{len(names)}"))
            return ("const", t.term) if isinstance(t, Const) else ("_",)

        def item(i: BodyItem) -> object:
            if isinstance(i, Atom):
                return ("atom", i.predicate, tuple(term(a) for a in i.args))
            if isinstance(i, Negation):
                return ("not", item(i.atom))
            if isinstance(i, Comparison):
                return ("cmp", i.op, term(i.left), term(i.right))
            return ("builtin", i.name, i.negated, tuple(term(a) for a in i.args))

        return (item(self.head), *(item(b) for b in self.body))

    def __str__(self) -> str:
        if not self.body:
            return f"{self.head}."
        return f"{self.head} :- {', '.join(str(b) for b in self.body)}."


@dataclass(frozen=True)
class Program:
    """A parsed rule program: its rules and the files they came from.

    >>> Program(()).merge(Program(())).rules
    ()
    """

    rules: tuple[Rule, ...]
    sources: tuple[str, ...] = ()

    def merge(self, other: Program) -> Program:
        """The rules of both programs (this one's first)."""
        return Program(self.rules + other.rules, self.sources + other.sources)


def is_helper(predicate: str) -> bool:
    """Whether a predicate name is a program-local helper (a bare name, not an IRI).

    >>> is_helper("consumed"), is_helper("https://w3id.org/lifecyclegraph/ontology#owner")
    (True, False)
    """
    return ":" not in predicate


def show_predicate(predicate: str) -> str:
    """A predicate as written in rules: ``prefix:local``, ``<iri>`` or the helper's name.

    >>> show_predicate("https://w3id.org/lifecyclegraph/ontology#owner")
    'lg:owner'
    >>> show_predicate("http://example.com/p")
    '<http://example.com/p>'
    """
    if is_helper(predicate):
        return predicate
    if "~" in predicate:
        base, _, suffix = predicate.rpartition("~")
        return f"{show_predicate(base)}~{suffix}"
    short = compact(predicate)
    return short if short != predicate and _is_simple_local(short) else f"<{predicate}>"


def show_term(term: NamedNode | Literal) -> str:
    """A term as written in rules: ``lg:Model``, ``<aip://...>``, ``"text"``, ``3``.

    >>> show_term(NamedNode("aip://model/registry/m"))
    '<aip://model/registry/m>'
    >>> show_term(Literal("5", datatype=NamedNode(PREFIXES["xsd"] + "integer")))
    '5'
    """
    if isinstance(term, NamedNode):
        return show_predicate(term.value)
    datatype = term.datatype.value
    if datatype in (PREFIXES["xsd"] + "integer", PREFIXES["xsd"] + "decimal"):
        return term.value
    if datatype == PREFIXES["xsd"] + "boolean" and term.value in ("true", "false"):
        return term.value
    text = str(Literal(term.value))
    if term.language:
        return f"{text}@{term.language}"
    if datatype == PREFIXES["xsd"] + "string":
        return text
    return f"{text}^^{show_predicate(datatype)}"


def _is_simple_local(name: str) -> bool:
    local = name.partition(":")[2]
    return bool(local) and all(c.isalnum() or c in "_-" for c in local)
