"""Why a fact holds: its derivation tree, down to asserted facts.

:func:`explain` looks at every derivation of a fact in the evaluator's current
state, and at the derivations of the facts those use, and so on down to asserted
facts; it then picks for each fact a derivation of least depth (so the tree never
goes round in circles, and the shortest lineage path is shown). Each asserted leaf
carries the snapshots (source, time, event) that assert it, when the caller gives a
way to find them.

>>> from lifecyclegraph.rules.load import build_program
>>> from lifecyclegraph.rules.axioms import Axioms
>>> from lifecyclegraph.rules.parser import parse_rules
>>> from lifecyclegraph.rules.evaluate import Evaluator
>>> from pyoxigraph import NamedNode
>>> onto = Axioms.from_turtle('''
... @prefix lg: <https://w3id.org/lifecyclegraph/ontology#> .
... @prefix owl: <http://www.w3.org/2002/07/owl#> .
... lg:dependsOn a owl:ObjectProperty .
... lg:upstream a owl:TransitiveProperty .''', "lineage.ttl")
>>> rules = parse_rules('''
... # Direct dependencies are upstream.
... lg:upstream(?x, ?y) :- lg:dependsOn(?x, ?y).''', "lineage.rules")
>>> evaluator = Evaluator(build_program(rules, onto))
>>> a, b, c = (evaluator.table.id(NamedNode(f"aip://x/y/{n}")) for n in "abc")
>>> evaluator.load({"https://w3id.org/lifecyclegraph/ontology#dependsOn": {(a, b), (b, c)}})
>>> evaluator.materialize()
>>> print(explain(evaluator, "https://w3id.org/lifecyclegraph/ontology#upstream", (a, c)))
<aip://x/y/a> lg:upstream <aip://x/y/c>
  by lineage.ttl:5:15 lg:upstream is transitive (ontology)
  ├── <aip://x/y/a> lg:upstream <aip://x/y/b>
  │     by lineage.rules:3:1 Direct dependencies are upstream.
  │     └── <aip://x/y/a> lg:dependsOn <aip://x/y/b>  [asserted]
  └── <aip://x/y/b> lg:upstream <aip://x/y/c>
        by lineage.rules:3:1 Direct dependencies are upstream.
        └── <aip://x/y/b> lg:dependsOn <aip://x/y/c>  [asserted]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lifecyclegraph.rules.evaluate import Evaluator
from lifecyclegraph.rules.linear import internal_base
from lifecyclegraph.rules.plan import CompiledRule
from lifecyclegraph.rules.program import Atom, Negation, Rule, is_helper, show_predicate, show_term
from lifecyclegraph.rules.relation import Fact

__all__ = ["Explanation", "RuleRef", "explain"]

Node = tuple[str, Fact]
Provenance = Callable[[str, Fact], tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class RuleRef:
    """What an explanation tells of the rule that derived a fact, without the rule
    itself: where it is written, the steward's comment, its origin and its text (what
    a remote graph receives; ``str()`` is the text, as for a :class:`Rule`)."""

    location: str
    comment: str = ""
    origin: str = "rules"
    text: str = ""
    also_stated_at: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Explanation:
    """One fact of a derivation tree.

    ``predicate`` is the predicate's IRI (or a helper's name) and ``terms`` the fact's
    arguments (pyoxigraph terms). An asserted fact has no ``rule``; its ``sources``
    are the snapshots (:class:`~lifecyclegraph.store.SnapshotInfo`) that assert it. A
    derived fact names the ``rule`` that derived it, the ``premises`` the rule used
    and the facts whose ``absent``-ness it required (negated atoms). From a remote
    graph, ``rule`` is a :class:`RuleRef`.
    """

    predicate: str
    terms: tuple[Any, ...]
    rule: Rule | RuleRef | None = None
    premises: tuple[Explanation, ...] = ()
    absent: tuple[str, ...] = ()
    sources: tuple[Any, ...] = field(default=())

    @property
    def asserted(self) -> bool:
        return self.rule is None

    @property
    def statement(self) -> str:
        """The fact as a reader sees it: ``<s> lg:p <o>``, ``<x> a lg:C`` or ``helper(<x>)``."""
        return statement(self.predicate, self.terms)

    def walk(self) -> Iterator[Explanation]:
        """This fact and every fact below it, depth first."""
        yield self
        for premise in self.premises:
            yield from premise.walk()

    def leaves(self) -> list[Explanation]:
        """The asserted facts the derivation rests on, in order."""
        return [node for node in self.walk() if node.asserted]

    def render(self) -> str:
        """The tree as indented text."""
        lines = [self.statement + _leaf_note(self)]
        self._render_body(lines, "  ")
        return "\n".join(lines)

    def _render_body(self, lines: list[str], indent: str) -> None:
        if self.rule is not None:
            lines.append(f"{indent}by {_rule_note(self.rule)}")
        children: list[tuple[str, Explanation | None]] = [(p.statement, p) for p in self.premises]
        children += [(f"no {text}", None) for text in self.absent]
        for number, (text, child) in enumerate(children):
            last = number == len(children) - 1
            branch, more = ("└── ", "    ") if last else ("├── ", "│   ")
            note = _leaf_note(child) if child is not None else ""
            lines.append(f"{indent}{branch}{text}{note}")
            if child is not None:
                child._render_body(lines, indent + more + ("  " if child.rule else ""))

    def __str__(self) -> str:
        return self.render()


def statement(predicate: str, terms: tuple[Any, ...]) -> str:
    """A fact as text.

    >>> from pyoxigraph import NamedNode
    >>> statement("https://w3id.org/lifecyclegraph/ontology#Model", (NamedNode("aip://m/r/x"),))
    '<aip://m/r/x> a lg:Model'
    """
    predicate = internal_base(predicate)
    shown = [show_term(t) for t in terms]
    if is_helper(predicate):
        return f"{predicate}({', '.join(shown)})"
    if len(terms) == 1:
        return f"{shown[0]} a {show_predicate(predicate)}"
    return f"{shown[0]} {show_predicate(predicate)} {shown[1]}"


def explain(
    evaluator: Evaluator, predicate: str, fact: Fact, provenance: Provenance | None = None
) -> Explanation | None:
    """The derivation tree of a fact, or ``None`` if the fact does not hold.

    Args:
        evaluator: an evaluator whose facts are up to date.
        predicate: the fact's predicate (a class or property IRI, or a helper name).
        fact: the fact's arguments, as term integers of the evaluator's table.
        provenance: called with ``(predicate, fact)`` for each asserted fact; returns
            the snapshots that assert it.
    """
    relation = evaluator.relations.get(predicate)
    if relation is None or fact not in relation.rows:
        return None
    support = _support(evaluator, (predicate, fact))
    rank = _ranks(evaluator, support)
    memo: dict[Node, Explanation] = {}
    return _tree(evaluator, (predicate, fact), support, rank, memo, provenance)


_Instance = tuple[CompiledRule, tuple[Any, ...], list[Node]]


def _is_base(evaluator: Evaluator, node: Node) -> bool:
    return evaluator.is_asserted(node[0], node[1])


def _support(evaluator: Evaluator, root: Node) -> dict[Node, list[_Instance]]:
    """Every derivation of every fact the root may rest on."""
    support: dict[Node, list[_Instance]] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node in support:
            continue
        if _is_base(evaluator, node):
            support[node] = []
            continue
        instances: list[_Instance] = []
        for rule in evaluator.compiled.rules_by_head.get(node[0], ()):
            run = evaluator.function(rule, ("explain",))
            for entries in run(node[1]):
                premises = [(_predicate(rule, i), entries[i]) for i in rule.positive]
                instances.append((rule, entries, premises))
                stack.extend(p for p in premises if p not in support)
        support[node] = instances
    return support


def _ranks(evaluator: Evaluator, support: dict[Node, list[_Instance]]) -> dict[Node, float]:
    """The depth of the shallowest derivation of each fact (0 for asserted facts)."""
    infinity = float("inf")
    rank = {node: 0.0 if _is_base(evaluator, node) else infinity for node in support}
    changed = True
    while changed:
        changed = False
        for node, instances in support.items():
            for _, _, premises in instances:
                depth = 1 + max((rank[p] for p in premises), default=0)
                if depth < rank[node]:
                    rank[node] = depth
                    changed = True
    return rank


def _tree(
    evaluator: Evaluator,
    node: Node,
    support: dict[Node, list[_Instance]],
    rank: dict[Node, float],
    memo: dict[Node, Explanation],
    provenance: Provenance | None,
) -> Explanation:
    found = memo.get(node)
    if found is not None:
        return found
    predicate, fact = node
    terms = tuple(evaluator.table.terms[i] for i in fact)
    if _is_base(evaluator, node):
        public = internal_base(predicate)
        sources = provenance(public, fact) if provenance else ()
        result = Explanation(public, terms, sources=tuple(sources))
        memo[node] = result
        return result
    best = min(
        (
            inst
            for inst in support[node]
            if 1 + max((rank[p] for p in inst[2]), default=0) == rank[node]
        ),
        key=lambda inst: inst[0].index,
    )
    rule, entries, premises = best
    if _is_internal_copy(rule):  # p(x, y) :- p~step(x, y): show the step's own derivation
        result = _tree(evaluator, premises[0], support, rank, memo, provenance)
        memo[node] = result
        return result
    children = tuple(_tree(evaluator, p, support, rank, memo, provenance) for p in premises)
    absent = []
    for position in rule.negative:
        item = rule.rule.body[position]
        assert isinstance(item, Negation)
        pattern = entries[position]
        shown = tuple(evaluator.table.terms[i] if i is not None else None for i in pattern)
        absent.append(_pattern(item.atom.predicate, shown))
    result = Explanation(internal_base(predicate), terms, rule.source, children, tuple(absent))
    memo[node] = result
    return result


def _is_internal_copy(rule: CompiledRule) -> bool:
    body = rule.rule.body
    return (
        len(body) == 1
        and isinstance(body[0], Atom)
        and "~" in body[0].predicate
        and internal_base(body[0].predicate) == rule.head
        and body[0].args == rule.rule.head.args
    )


def _pattern(predicate: str, terms: tuple[Any, ...]) -> str:
    if any(t is None for t in terms):
        shown = ", ".join("_" if t is None else show_term(t) for t in terms)
        return f"{show_predicate(predicate)}({shown})"
    return statement(predicate, terms)


def _predicate(rule: CompiledRule, position: int) -> str:
    item = rule.rule.body[position]
    assert isinstance(item, Atom)
    return item.predicate


def _rule_note(rule: Rule | RuleRef) -> str:
    note = str(rule.location)
    if rule.comment:
        first = rule.comment.split(". ")[0]
        note += f" {first if first.endswith('.') or first == rule.comment else first + '.'}"
    else:
        note += f" {rule}"
    if rule.also_stated_at:
        note += f" (also {', '.join(str(loc) for loc in rule.also_stated_at)})"
    return note


def _leaf_note(node: Explanation | None) -> str:
    if node is None or not node.asserted:
        return ""
    if not node.sources:
        return "  [asserted]"
    parts = []
    for info in node.sources:
        text = f"{info.source} at {info.observed_at.isoformat().replace('+00:00', 'Z')}"
        if info.event_id:
            text += f", event {info.event_id}"
        parts.append(text)
    return f"  [asserted by {'; '.join(parts)}]"
