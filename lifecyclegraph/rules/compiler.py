"""Compile an analysed program into join plans (the third stage).

Two things happen here:

* **Linear transitivity.** A rule of the form ``p(?x, ?z) :- p(?x, ?y), p(?y, ?z).`` (as
  ``owl:TransitiveProperty`` gives) would make the engine join the closure with itself.
  The compiler rewrites it to the equivalent linear form over the *steps* of ``p``, an
  internal predicate ``p~step`` holding every ``p`` fact that is not derived by
  transitivity (asserted ones and those from other rules)::

      p~step(...) :- ...               (every other rule whose head is p)
      p(?x, ?y) :- p~step(?x, ?y).
      p(?x, ?z) :- p~step(?x, ?y), p(?y, ?z).

  The closure is the same; the work per new fact is one index lookup instead of one
  per known fact. ``explain`` shows ``p~step`` facts as ``p`` facts.

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

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, TypeAlias

from lifecyclegraph.rules.analysis import AnalysedProgram, stratify
from lifecyclegraph.rules.program import (
    Atom,
    BodyItem,
    Builtin,
    Comparison,
    Const,
    Negation,
    Rule,
    Var,
    is_helper,
    show_predicate,
)

__all__ = [
    "OWN",
    "STEP",
    "CompiledProgram",
    "CompiledRule",
    "CompiledStratum",
    "Plan",
    "Step",
    "Variant",
    "compile_program",
    "internal_base",
    "render",
]

#: The suffix of the internal predicate holding the steps of a transitive predicate.
STEP = "~step"
#: The suffix of the internal predicate holding the facts of the inverse of a transitive
#: predicate that do not come from it.
OWN = "~own"

Variant: TypeAlias = tuple[str] | tuple[str, int]


@dataclass(frozen=True)
class CompiledRule:
    """A rule as the evaluator runs it.

    ``rule`` may differ from ``source`` (the rule as written) after a rewrite;
    ``positive`` and ``negative`` are the body positions of positive and negated atoms.
    """

    index: int
    rule: Rule
    source: Rule
    positive: tuple[int, ...]
    negative: tuple[int, ...]

    @property
    def head(self) -> str:
        return self.rule.head.predicate

    def body_predicates(self) -> set[str]:
        """Predicates of the body atoms, negated or not."""
        names = set()
        for item in self.rule.body:
            atom = item.atom if isinstance(item, Negation) else item
            if isinstance(atom, Atom):
                names.add(atom.predicate)
        return names


@dataclass(frozen=True)
class CompiledStratum:
    """The rules of one stratum and the predicates of earlier strata they read."""

    predicates: frozenset[str]
    rules: tuple[CompiledRule, ...]
    recursive: bool
    inputs: frozenset[str]


@dataclass(frozen=True)
class Step:
    """One step of a join plan.

    ``kind`` is ``scan`` (iterate a relation or the given facts), ``lookup`` (iterate
    the facts matching the bound ``columns``), ``member`` (the atom is fully bound: is
    it a fact?), ``absent`` (a negated atom: no fact may match the bound ``columns``),
    ``compare``, ``builtin``, ``head`` (bind the head of a check or explain) or
    ``emit``. ``position`` is the body position (``-1`` for the head).
    """

    kind: str
    position: int
    columns: tuple[int, ...] = ()
    source: str = "relation"

    def describe(self, rule: Rule) -> str:
        item = rule.head if self.position < 0 else rule.body[self.position]
        if self.kind == "scan":
            atom = item.atom if isinstance(item, Negation) else item
            return f"scan {'delta ' if self.source == 'delta' else ''}{atom}"
        if self.kind == "lookup":
            return f"lookup {item} on {list(self.columns)}"
        if self.kind == "absent":
            assert isinstance(item, Negation)
            how = "member" if len(self.columns) == item.atom.arity else f"on {list(self.columns)}"
            return f"absent {item.atom} ({how})"
        return f"{self.kind} {item}"


@dataclass(frozen=True)
class Plan:
    """The steps that evaluate one variant of one rule."""

    rule: CompiledRule
    variant: Variant
    steps: tuple[Step, ...]

    def __str__(self) -> str:
        name = " ".join(str(v) for v in self.variant)
        lines = [f"{name} of {self.rule.source.location}"]
        lines.extend(f"  {step.describe(self.rule.rule)}" for step in self.steps)
        return "\n".join(lines)


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
    _plans: dict[tuple[int, Variant], Plan] = field(default_factory=dict, repr=False,
                                                     compare=False)
    _generated: dict[tuple[int, Variant, bool], Any] = field(default_factory=dict, repr=False,
                                                             compare=False)

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
        from lifecyclegraph.rules.codegen import generate

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
    rules, base_relation = _linearise(analysed.rules)
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
        strata.append(CompiledStratum(stratum.predicates, tuple(members), stratum.recursive,
                                      inputs))
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


# -- rewriting ---------------------------------------------------------------------------


def _is_transitivity(rule: Rule) -> bool:
    head = rule.head
    if len(rule.body) != 2 or head.arity != 2 or not all(isinstance(b, Atom) for b in rule.body):
        return False
    first, second = rule.body
    assert isinstance(first, Atom) and isinstance(second, Atom)
    if not (first.predicate == second.predicate == head.predicate):
        return False
    terms = (*head.args, *first.args, *second.args)
    if not all(isinstance(t, Var) for t in terms):
        return False
    x, z = head.args
    a, b = first.args
    c, d = second.args
    return len({x, z, b}) == 3 and a == x and b == c and d == z


def _is_inverse_copy(rule: Rule, head: str, body: str) -> bool:
    """Whether ``rule`` is ``head(?x, ?y) :- body(?y, ?x).``"""
    if rule.head.predicate != head or len(rule.body) != 1:
        return False
    atom = rule.body[0]
    if not isinstance(atom, Atom) or atom.predicate != body or rule.head.arity != 2:
        return False
    x, y = rule.head.args
    return isinstance(x, Var) and isinstance(y, Var) and x != y and atom.args == (y, x)


def _linearise(rules: Iterable[Rule]) -> tuple[list[tuple[Rule, Rule]], dict[str, str]]:
    """Rewrite transitivity rules to linear form; return (rule as run, rule as written)
    pairs and the relation that receives each ontology predicate's asserted facts.

    When a transitive ``p`` has an inverse ``q`` (``p(?x, ?y) :- q(?y, ?x)`` and
    ``q(?y, ?x) :- p(?x, ?y)``), the steps of ``p`` only take the ``q`` facts that do
    not come from ``p`` itself (``q~own``: asserted, or derived by other rules), else
    every closure fact would come back as a step.
    """
    rules = list(rules)
    transitive = {r.head.predicate: r for r in rules if _is_transitivity(r)}
    partner: dict[str, str] = {}  # transitive p -> its inverse q
    for name in transitive:
        for rule in rules:
            other = rule.body[0].predicate if len(rule.body) == 1 and isinstance(
                rule.body[0], Atom) else None
            if (other and other != name and other not in transitive
                    and other not in partner.values()
                    and _is_inverse_copy(rule, name, other)
                    and any(_is_inverse_copy(r, other, name) for r in rules)):
                partner[name] = other
                break
    owned = {q: p for p, q in partner.items()}
    out: list[tuple[Rule, Rule]] = []
    for rule in rules:
        name = rule.head.predicate
        if name in transitive:
            step = name + STEP
            if rule is transitive[name]:
                x, z = rule.head.args
                y = rule.body[0].args[1]  # type: ignore[union-attr]
                where = rule.head.location
                base = Rule(Atom(name, (x, z), where), (Atom(step, (x, z), where),),
                            rule.location, rule.comment, rule.origin, rule.also_stated_at)
                linear = Rule(rule.head, (Atom(step, (x, y), where), Atom(name, (y, z), where)),
                              rule.location, rule.comment, rule.origin, rule.also_stated_at)
                out.extend([(base, rule), (linear, rule)])
                continue
            run = replace(rule, head=replace(rule.head, predicate=step))
            if name in partner and _is_inverse_copy(rule, name, partner[name]):
                atom = rule.body[0]
                assert isinstance(atom, Atom)
                run = replace(run, body=(replace(atom, predicate=partner[name] + OWN),))
            out.append((run, rule))
        elif name in owned and _is_inverse_copy(rule, name, owned[name]):
            out.append((rule, rule))
        elif name in owned:
            out.append((replace(rule, head=replace(rule.head, predicate=name + OWN)), rule))
        else:
            out.append((rule, rule))
    for name, p in owned.items():
        source = next(r for r in rules if _is_inverse_copy(r, name, p))
        x, y = Var("x"), Var("y")
        where = source.head.location
        copy = Rule(Atom(name, (x, y), where), (Atom(name + OWN, (x, y), where),),
                    source.location, source.comment, source.origin, source.also_stated_at)
        out.append((copy, source))
    base_relation = {}
    for rule, _ in out:
        for item in (rule.head, *rule.body):
            atom = item.atom if isinstance(item, Negation) else item
            if isinstance(atom, Atom) and not is_helper(atom.predicate):
                name = internal_base(atom.predicate)
                base_relation[name] = (name + STEP if name in transitive
                                       else name + OWN if name in owned else name)
    return out, base_relation


def internal_base(predicate: str) -> str:
    """The predicate an internal one stands for: ``p`` for ``p~step`` and ``p~own``.

    >>> internal_base("https://w3id.org/lifecyclegraph/ontology#upstream~step")
    'https://w3id.org/lifecyclegraph/ontology#upstream'
    """
    return predicate.split("~", 1)[0]


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
        ready = [i for i in pending if not isinstance(body[i], Atom)
                 and body[i].variables() <= bound]
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
    return tuple(i for i, arg in enumerate(atom.args)
                 if isinstance(arg, Const) or (isinstance(arg, Var) and arg.name in bound))


def _bound_count(atom: Atom, bound: set[str]) -> int:
    """How selective an atom is given the bound variables: fully bound atoms first, then
    those with the most bound arguments."""
    columns = _bound_columns(atom, bound)
    return 2 * len(columns) + (len(columns) == atom.arity)
