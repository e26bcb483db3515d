"""Compile an analysed program into join plans (the third stage).

Two things happen here:

* **Linear transitivity.** Transitive rules are rewritten to linear form (see
  :mod:`lifecyclegraph.rules.linear`), with internal predicates ``p~step`` and ``q~own``.

* **Join plans.** Each rule gets a plan per *variant*: ``full`` (every atom read from
  its relation), ``delta i`` (atom ``i`` read from a set of new or removed facts, used
  by semi-naive evaluation and incremental maintenance), ``negdelta i`` (the negated
  atom ``i`` matched against facts removed from, or added to, what it negates),
  ``check`` (the head is given: is there a derivation?) and ``explain`` (the head is
  given: list the derivations). A plan is a list of :class:`Step`; the order is greedy:
  the given atom first, then each filter as soon as its variables are bound, then the
  atom with the most bound arguments.

:func:`render` prints every plan; ``tests/golden/compiled-*.txt`` holds the output for
the standard rules.

>>> from lifecyclegraph.rules.analysis import analyse
>>> from lifecyclegraph.rules.axioms import Vocabulary
>>> from lifecyclegraph.rules.parser import parse_rules
>>> LG = "https://w3id.org/lifecyclegraph/ontology#"
>>> vocabulary = Vocabulary(frozenset(), frozenset({LG + "dependsOn", LG + "upstream"}))
>>> program = parse_rules('''
... lg:upstream(?x, ?y) :- lg:dependsOn(?x, ?y).
... lg:upstream(?x, ?z) :- lg:upstream(?x, ?y), lg:upstream(?y, ?z).''', "lineage.rules")
>>> compiled = compile_program(analyse(program, vocabulary))
>>> for rule in compiled.rules:
...     print(rule.rule)
lg:upstream~step(?x, ?y) :- lg:dependsOn(?x, ?y).
lg:upstream(?x, ?z) :- lg:upstream~step(?x, ?z).
lg:upstream(?x, ?z) :- lg:upstream~step(?x, ?y), lg:upstream(?y, ?z).
>>> print(compiled.plan(2, ("delta", 1)))
delta 1 of lineage.rules:3:1
  scan delta lg:upstream(?y, ?z)
  lookup lg:upstream~step(?x, ?y) on [1]
  emit lg:upstream(?x, ?z)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lifecyclegraph.rules.analysis import AnalysedProgram, stratify
from lifecyclegraph.rules.codegen import generate
from lifecyclegraph.rules.linear import linearise
from lifecyclegraph.rules.plan import CompiledRule, CompiledStratum, Plan, Step, Variant
from lifecyclegraph.rules.program import (
    Atom,
    BodyItem,
    Builtin,
    Comparison,
    Const,
    Negation,
    Var,
    is_helper,
    show_predicate,
)

__all__ = [
    "CompiledProgram",
    "CompiledRule",
    "CompiledStratum",
    "Plan",
    "Step",
    "Variant",
    "compile_program",
    "render",
]


@dataclass(frozen=True)
class CompiledProgram:
    """The compiled program: rules (after rewrites), strata, and plans on demand.

    ``base_relation`` maps each ontology predicate to the relation that holds its
    asserted facts (itself, or ``p~step`` for a linearised transitive ``p``).
    """

    analysed: AnalysedProgram
    rules: tuple[CompiledRule, ...]
    strata: tuple[CompiledStratum, ...]
    arity: dict[str, int]
    base_relation: dict[str, str]
    _plans: dict[tuple[int, Variant], Plan] = field(default_factory=dict, repr=False, compare=False)
    _generated: dict[tuple[int, Variant, bool], Any] = field(
        default_factory=dict, repr=False, compare=False
    )

    @cached_property
    def rules_by_head(self) -> dict[str, tuple[CompiledRule, ...]]:
        """The rules of each derived predicate."""
        heads: dict[str, list[CompiledRule]] = {}
        for rule in self.rules:
            heads.setdefault(rule.head, []).append(rule)
        return {k: tuple(v) for k, v in heads.items()}

    @cached_property
    def stored_predicates(self) -> frozenset[str]:
        """The ontology predicates whose derived facts are written to the store."""
        return frozenset(p for p in self.arity if not is_helper(p) and "~" not in p)

    def generated(self, index: int, variant: Variant, negation: bool = True) -> Any:
        """The generated Python source of a plan (made once, then kept)."""
        key = (index, variant, negation)
        found = self._generated.get(key)
        if found is None:
            found = generate(self.plan(index, variant), negation)
            self._generated[key] = found
        return found

    def plan(self, index: int, variant: Variant) -> Plan:
        """The plan of a variant of the rule with this index (built once, then kept)."""
        key = (index, variant)
        plan = self._plans.get(key)
        if plan is None:
            plan = _plan(self.rules[index], variant)
            self._plans[key] = plan
        return plan


def compile_program(analysed: AnalysedProgram) -> CompiledProgram:
    """Rewrite transitive rules to linear form and prepare the strata for evaluation.

    Args:
        analysed: a program that passed :func:`~lifecyclegraph.rules.analysis.analyse`.

    Returns:
        The compiled program. Plans are made on first use by :meth:`CompiledProgram.plan`.
    """
    rules, base_relation = linearise(analysed.rules)
    arity = dict(analysed.arity)
    for rule, _ in rules:
        for item in (rule.head, *rule.body):
            if isinstance(item, Atom) and "~" in item.predicate:
                arity[item.predicate] = 2
    strata: list[CompiledStratum] = []
    compiled: list[CompiledRule] = []
    for stratum in stratify(tuple(r for r, _ in rules)):
        members: list[CompiledRule] = []
        for rule in stratum.rules:
            source = next(src for r, src in rules if r is rule)
            positive = tuple(i for i, b in enumerate(rule.body) if isinstance(b, Atom))
            negative = tuple(i for i, b in enumerate(rule.body) if isinstance(b, Negation))
            compiled_rule = CompiledRule(len(compiled), rule, source, positive, negative)
            compiled.append(compiled_rule)
            members.append(compiled_rule)
        inputs = frozenset(p for r in members for p in r.body_predicates()) - stratum.predicates
        strata.append(
            CompiledStratum(stratum.predicates, tuple(members), stratum.recursive, inputs)
        )
    return CompiledProgram(analysed, tuple(compiled), tuple(strata), arity, base_relation)


def render(compiled: CompiledProgram) -> str:
    """Every rule's plans as text: the compiled form that the golden tests keep."""
    out = []
    for stratum_number, stratum in enumerate(compiled.strata):
        names = ", ".join(sorted(show_predicate(p) for p in stratum.predicates))
        kind = "recursive" if stratum.recursive else "non-recursive"
        out.append(f"== stratum {stratum_number}: {names} ({kind})")
        for rule in stratum.rules:
            out.append(f"rule {rule.index}: {rule.rule}")
            if rule.rule != rule.source:
                out.append(f"  from: {rule.source}")
            for variant in variants(rule, stratum):
                plan = compiled.plan(rule.index, variant)
                out.extend("  " + line for line in str(plan).splitlines())
        out.append("")
    return "\n".join(out)


def variants(rule: CompiledRule, stratum: CompiledStratum) -> list[Variant]:
    """The variants the evaluator uses for a rule of this stratum."""
    names: list[Variant] = [("full",)]
    names.extend(("delta", i) for i in rule.positive)
    names.extend(("negdelta", i) for i in rule.negative)
    names.extend([("check",), ("explain",)])
    return names


# -- planning ------------------------------------------------------------------------------


def _plan(rule: CompiledRule, variant: Variant) -> Plan:
    body = rule.rule.body
    bound: set[str] = set()
    steps: list[Step] = []
    pending = list(range(len(body)))
    kind = variant[0]
    if kind in ("check", "explain"):
        steps.append(Step("head", -1))
        bound |= rule.rule.head.variables()
    elif kind in ("delta", "negdelta"):
        position = variant[1]  # type: ignore[misc]
        steps.append(Step("scan", position, source="delta"))
        bound |= _atom_of(body[position]).variables()
        if kind == "delta":
            pending.remove(position)
    while pending:
        ready = [
            i for i in pending if not isinstance(body[i], Atom) and body[i].variables() <= bound
        ]
        if ready:
            for i in ready:
                steps.append(_filter_step(body[i], i, bound))
                pending.remove(i)
            continue
        atoms = [i for i in pending if isinstance(body[i], Atom)]
        best = max(atoms, key=lambda i: (_bound_count(body[i], bound), -i))  # type: ignore[arg-type]
        atom = body[best]
        assert isinstance(atom, Atom)
        columns = _bound_columns(atom, bound)
        if len(columns) == atom.arity:
            steps.append(Step("member", best, columns))
        elif columns:
            steps.append(Step("lookup", best, columns))
        else:
            steps.append(Step("scan", best))
        bound |= atom.variables()
        pending.remove(best)
    steps.append(Step("emit", -1))
    return Plan(rule, variant, tuple(steps))


def _atom_of(item: BodyItem) -> Atom:
    atom = item.atom if isinstance(item, Negation) else item
    assert isinstance(atom, Atom)
    return atom


def _filter_step(item: BodyItem, position: int, bound: set[str]) -> Step:
    if isinstance(item, Negation):
        return Step("absent", position, _bound_columns(item.atom, bound))
    if isinstance(item, Comparison):
        return Step("compare", position)
    assert isinstance(item, Builtin)
    return Step("builtin", position)


def _bound_columns(atom: Atom, bound: set[str]) -> tuple[int, ...]:
    return tuple(
        i
        for i, arg in enumerate(atom.args)
        if isinstance(arg, Const) or (isinstance(arg, Var) and arg.name in bound)
    )


def _bound_count(atom: Atom, bound: set[str]) -> int:
    """How selective an atom is given the bound variables: fully bound atoms first, then
    those with the most bound arguments."""
    columns = _bound_columns(atom, bound)
    return 2 * len(columns) + (len(columns) == atom.arity)
