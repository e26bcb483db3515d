"""The values the rule compiler hands to the evaluator and the code generator: compiled
rules, strata, and join plans made of steps.

They live apart from :mod:`lifecyclegraph.rules.compiler`, which makes them, so that the
stages after it (:mod:`~lifecyclegraph.rules.codegen`,
:mod:`~lifecyclegraph.rules.evaluate`) import the values without the compiler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from lifecyclegraph.rules.program import Atom, Negation, Rule

__all__ = ["CompiledRule", "CompiledStratum", "Plan", "Step", "Variant"]


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
