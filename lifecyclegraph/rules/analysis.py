"""Check a program before it runs (the second stage), and split it into strata.

:func:`analyse` reports every problem at once, each with its file, line and column:

* an **unknown predicate** (an IRI that is neither a class nor a property of the
  ontology, or a helper name that no rule head defines), with the nearest known name;
* the **wrong number of arguments** (a class takes one, a property two, a helper as
  many as in its first head);
* an **unsafe rule**: a variable of the head, of a negated atom, of a comparison or of
  a built-in that no positive body atom binds (so the rule could not be evaluated);
* **negation through recursion**: a predicate that depends on the negation of itself,
  so that no stratification exists;
* an unknown built-in's arity, a ``_`` where a value is needed, an IRI-less subject.

Identical rules (the same after renaming variables) are kept once: a rule in
``rules/`` that restates an ontology axiom is kept with its steward's comment, and the
axiom's location is remembered in ``also_stated_at``.

>>> from lifecyclegraph.rules.axioms import Vocabulary
>>> from lifecyclegraph.rules.parser import parse_rules
>>> LG = "https://w3id.org/lifecyclegraph/ontology#"
>>> vocabulary = Vocabulary(frozenset({LG + "Model", LG + "Asset"}), frozenset({LG + "producedBy"}))
>>> program = parse_rules('''
... lg:Asset(?x) :- lg:Model(?x, ?y).
... lg:Asset(?x) :- lg:producedby(?x, ?y), not lg:Asset(?z).
... ''', "bad.rules")
>>> try:
...     analyse(program, vocabulary)
... except RuleAnalysisError as error:
...     for problem in error.problems:
...         print(problem)
bad.rules:2:17: lg:Model is a class and takes 1 argument, not 2
bad.rules:3:17: unknown predicate lg:producedby; did you mean lg:producedBy?
bad.rules:3:40: negation through recursion: lg:Asset depends on not lg:Asset
bad.rules:3:40: unsafe rule: the variable ?z of a negated atom is not bound by a positive body atom
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from pyoxigraph import Literal

from lifecyclegraph.core.errors import RuleAnalysisError, RuleProblem
from lifecyclegraph.core.vocab import RDF_TYPE
from lifecyclegraph.rules.axioms import Vocabulary
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
    Var,
    Wildcard,
    is_helper,
    show_predicate,
)

__all__ = ["AnalysedProgram", "Stratum", "analyse", "stratify"]


@dataclass(frozen=True)
class Stratum:
    """Predicates that are computed together (one strongly connected component), and
    the rules whose heads they are. Strata are evaluated in order; a stratum only
    negates predicates of earlier strata."""

    predicates: frozenset[str]
    rules: tuple[Rule, ...]
    recursive: bool


@dataclass(frozen=True)
class AnalysedProgram:
    """A program that passed analysis: its rules (duplicates removed), every predicate's
    arity, and the strata in evaluation order."""

    program: Program
    vocabulary: Vocabulary
    arity: dict[str, int]
    strata: tuple[Stratum, ...]
    derived: frozenset[str] = field(default=frozenset())

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self.program.rules

    def base_predicates(self) -> frozenset[str]:
        """Ontology predicates the program reads or derives: those whose asserted facts
        it must load."""
        return frozenset(p for p in self.arity if not is_helper(p))


def analyse(program: Program, vocabulary: Vocabulary) -> AnalysedProgram:
    """Check ``program`` against the ontology's ``vocabulary`` and stratify it.

    Returns:
        The analysed program.

    Raises:
        RuleAnalysisError: listing every problem found, in file order.
    """
    rules = _dedupe(program.rules)
    problems: list[RuleProblem] = []
    arity = _check_predicates(rules, vocabulary, problems)
    for rule in rules:
        _check_safety(rule, problems)
    strata = stratify(rules, problems)
    if problems:
        unique = sorted(set(problems), key=lambda p: (p.filename, p.line, p.column, p.message))
        raise RuleAnalysisError(unique)
    derived = frozenset(rule.head.predicate for rule in rules)
    return AnalysedProgram(Program(rules, program.sources), vocabulary, arity, strata, derived)


# -- duplicates -----------------------------------------------------------------------


def _dedupe(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    """Keep one rule of each canonical form, preferring a rule file's over the ontology's."""
    ordered = sorted(enumerate(rules), key=lambda pair: (pair[1].origin != "rules", pair[0]))
    kept: dict[object, Rule] = {}
    order: dict[object, int] = {}
    for index, rule in ordered:
        key = rule.canonical()
        if key in kept:
            first = kept[key]
            kept[key] = replace(first, also_stated_at=(*first.also_stated_at, rule.location))
        else:
            kept[key] = rule
            order[key] = index
    return tuple(kept[key] for key in sorted(kept, key=order.__getitem__))


# -- predicates and arities -------------------------------------------------------------


def _check_predicates(
    rules: tuple[Rule, ...], vocabulary: Vocabulary, problems: list[RuleProblem]
) -> dict[str, int]:
    arity: dict[str, int] = {}
    helpers: dict[str, int] = {}
    for rule in rules:
        name = rule.head.predicate
        if is_helper(name) and name not in helpers:
            helpers[name] = rule.head.arity
    names = sorted(
        {show_predicate(p) for p in vocabulary.classes | vocabulary.properties}
        | set(helpers)
        | set(BUILTINS)
    )
    for rule in rules:
        for item in (rule.head, *rule.body):
            if isinstance(item, Builtin):
                spec = BUILTINS[item.name]
                if len(item.args) not in spec.arities:
                    counts = " or ".join(str(n) for n in spec.arities)
                    problems.append(
                        _problem(
                            item.location,
                            f"the built-in {item.name} takes "
                            f"{counts} arguments, not {len(item.args)}",
                        )
                    )
                continue
            if isinstance(item, Comparison):
                continue
            atom = item.atom if isinstance(item, Negation) else item
            expected = _expected_arity(
                atom, vocabulary, helpers, names, problems, in_head=atom is rule.head
            )
            if expected is None:
                continue
            if atom.arity != expected:
                problems.append(_problem(atom.location, _arity_message(atom, expected, vocabulary)))
                continue
            arity[atom.predicate] = expected
    return arity


def _expected_arity(
    atom: Atom,
    vocabulary: Vocabulary,
    helpers: dict[str, int],
    names: list[str],
    problems: list[RuleProblem],
    in_head: bool,
) -> int | None:
    name = atom.predicate
    if is_helper(name):
        if name in helpers:
            return helpers[name]
        problems.append(_problem(atom.location, _unknown(name, names, helper=True)))
        return None
    if name == RDF_TYPE.value:
        problems.append(
            _problem(
                atom.location,
                "rdf:type is not a predicate here: write the "
                "class as a one-argument atom, as in lg:Model(?x)",
            )
        )
        return None
    known = vocabulary.arity(name)
    if known is None:
        problems.append(_problem(atom.location, _unknown(show_predicate(name), names)))
    return known


def _unknown(shown: str, names: list[str], helper: bool = False) -> str:
    near = _near_miss(shown, names)
    text = f"unknown predicate {shown}"
    if helper:
        text += " (a helper must be defined by a rule head)"
    return text + (f"; did you mean {near[0]}?" if near else "")


def _near_miss(name: str, names: list[str]) -> list[str]:
    """The known name a steward most likely meant: the same but for case, else one
    that starts with what was typed, else the most similar (difflib)."""
    lower = {n.lower(): n for n in names}
    typed = name.lower()
    if typed in lower:
        return [lower[typed]]
    longer = sorted((n for n in lower if n.startswith(typed)), key=len)
    if longer:
        return [lower[longer[0]]]
    close = difflib.get_close_matches(typed, list(lower), n=1, cutoff=0.6)
    return [lower[c] for c in close]


def _arity_message(atom: Atom, expected: int, vocabulary: Vocabulary) -> str:
    shown = show_predicate(atom.predicate)
    kind = (
        "a helper"
        if is_helper(atom.predicate)
        else ("a class" if atom.predicate in vocabulary.classes else "a property")
    )
    plural = "argument" if expected == 1 else "arguments"
    return f"{shown} is {kind} and takes {expected} {plural}, not {atom.arity}"


# -- safety -----------------------------------------------------------------------------


#: The most atoms a rule body may have (each becomes a nested loop of Python code).
MAX_BODY_ATOMS = 16


def _check_safety(rule: Rule, problems: list[RuleProblem]) -> None:
    atoms = sum(1 for item in rule.body if not isinstance(item, Comparison | Builtin))
    if atoms > MAX_BODY_ATOMS:
        problems.append(
            _problem(
                rule.location,
                f"a rule may have at most {MAX_BODY_ATOMS} "
                f"atoms in its body, not {atoms}: split it with a helper",
            )
        )
    bound: set[str] = set()
    for atom in rule.positive_atoms():
        bound |= atom.variables()
    for arg in rule.head.args:
        if isinstance(arg, Wildcard):
            problems.append(
                _problem(
                    rule.head.location,
                    "_ cannot appear in a rule head: a derived fact needs a value there",
                )
            )
        elif isinstance(arg, Var) and arg.name not in bound:
            problems.append(
                _problem(
                    rule.head.location,
                    f"unsafe rule: the variable {arg} of "
                    "the head is not bound by a positive body atom",
                )
            )
    first = rule.head.args[0] if rule.head.args else None
    if (
        not is_helper(rule.head.predicate)
        and isinstance(first, Const)
        and isinstance(first.term, Literal)
    ):
        problems.append(
            _problem(
                rule.head.location, "the subject of a derived fact must be an IRI, not a literal"
            )
        )
    for item in rule.body:
        if isinstance(item, Negation):
            what, names, location = "a negated atom", item.variables(), item.location
        elif isinstance(item, Comparison):
            what, names, location = "a comparison", item.variables(), item.location
            if isinstance(item.left, Wildcard) or isinstance(item.right, Wildcard):
                problems.append(_problem(location, "_ cannot be compared: use a variable"))
        elif isinstance(item, Builtin):
            what, names, location = f"the built-in {item.name}", item.variables(), item.location
            if any(isinstance(a, Wildcard) for a in item.args):
                problems.append(
                    _problem(location, f"_ cannot be an argument of {item.name}: use a variable")
                )
        else:
            continue
        for name in sorted(names - bound):
            problems.append(
                _problem(
                    location,
                    f"unsafe rule: the variable ?{name} of {what} "
                    "is not bound by a positive body atom",
                )
            )


# -- stratification --------------------------------------------------------------------------


def stratify(
    rules: tuple[Rule, ...], problems: list[RuleProblem] | None = None
) -> tuple[Stratum, ...]:
    """Group the derived predicates into strongly connected components, in dependency
    order, and add every negation inside a component to ``problems``."""
    problems = [] if problems is None else problems
    heads = {rule.head.predicate for rule in rules}
    edges: dict[str, set[str]] = {p: set() for p in heads}  # body predicate -> heads
    for rule in rules:
        for item in rule.body:
            atom = item.atom if isinstance(item, Negation) else item
            if isinstance(atom, Atom) and atom.predicate in heads:
                edges[atom.predicate].add(rule.head.predicate)
    components = _components(sorted(heads), edges)  # reverse topological order
    component_of = {p: i for i, members in enumerate(components) for p in members}
    for rule in rules:
        for item in rule.body:
            if not isinstance(item, Negation) or item.atom.predicate not in heads:
                continue
            negated, head = item.atom.predicate, rule.head.predicate
            if component_of[negated] == component_of[head]:
                path = _path(negated, head, edges)
                via = " -> ".join(show_predicate(p) for p in path)
                message = (
                    f"negation through recursion: {show_predicate(head)} depends on "
                    f"not {show_predicate(negated)}"
                )
                if len(path) > 1:
                    message += f", and {via}; the rules cannot be stratified"
                problems.append(_problem(item.location, message))
    strata = []
    for members in reversed(components):
        member_set = frozenset(members)
        own = tuple(r for r in rules if r.head.predicate in member_set)
        recursive = len(members) > 1 or any(
            isinstance(a, Atom) and a.predicate in member_set for r in own for a in r.body
        )
        strata.append(Stratum(member_set, own, recursive))
    return tuple(strata)


def _components(nodes: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), in reverse topological order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                result.append(sorted(members))
    return result


def _path(start: str, goal: str, edges: dict[str, set[str]]) -> list[str]:
    """The shortest dependency path from ``start`` to ``goal`` (a derives b: a -> b)."""
    previous: dict[str, str | None] = {start: None}
    queue = [start]
    for node in queue:
        if node == goal:
            break
        for child in sorted(edges.get(node, ())):
            if child not in previous:
                previous[child] = node
                queue.append(child)
    if goal not in previous:
        return [start]
    path = [goal]
    while previous[path[-1]] is not None:
        path.append(previous[path[-1]])  # type: ignore[arg-type]
    return list(reversed(path))


def _problem(location: Location, message: str) -> RuleProblem:
    return RuleProblem(location.filename, location.line, location.column, message)
