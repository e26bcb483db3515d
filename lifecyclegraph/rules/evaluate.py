"""Evaluate a compiled program in memory (the fourth stage): full and incremental.

:class:`Evaluator` holds one :class:`~lifecyclegraph.rules.relation.Relation` per
predicate and the asserted (*base*) facts. :meth:`Evaluator.materialize` computes
every derived fact from the base facts, stratum by stratum, with semi-naive
evaluation: after a first round over whole relations, each round only joins the
facts that are new since the previous one.

:meth:`Evaluator.update` maintains the result when base facts are added and removed,
without starting over, using *delete and re-derive* (DRed), stratum by stratum:

1. **over-delete**: every fact of the stratum that has a derivation using a removed
   fact (or, through a negated atom, an added one) is removed, transitively. Negated
   atoms are not checked in this phase, and facts removed from earlier strata are
   put back for its duration, so it errs on the side of deleting too much;
2. **re-derive**: each over-deleted fact that still has a derivation from what is
   left is put back;
3. **insert**: facts derivable from added facts (or, through a negated atom, from
   removed ones) and from the re-derived facts are added, semi-naively.

Recursion (transitive closures, recursive chains) is handled because the
over-deletion and the insertion both run to a fixpoint within the stratum.

>>> from lifecyclegraph.rules.analysis import analyse
>>> from lifecyclegraph.rules.compiler import compile_program
>>> from lifecyclegraph.rules.axioms import Vocabulary
>>> from lifecyclegraph.rules.parser import parse_rules
>>> E = "https://w3id.org/lifecyclegraph/ontology#"
>>> vocabulary = Vocabulary(frozenset(), frozenset({E + "dependsOn", E + "upstream"}))
>>> program = parse_rules('''
... lg:upstream(?x, ?y) :- lg:dependsOn(?x, ?y).
... lg:upstream(?x, ?z) :- lg:upstream(?x, ?y), lg:upstream(?y, ?z).''')
>>> evaluator = Evaluator(compile_program(analyse(program, vocabulary)))
>>> a, b, c = 1, 2, 3
>>> evaluator.load({E + "dependsOn": {(a, b), (b, c)}})
>>> evaluator.materialize()
>>> sorted(evaluator.facts(E + "upstream"))
[(1, 2), (1, 3), (2, 3)]
>>> result = evaluator.update(added={}, removed={E + "dependsOn": {(b, c)}})
>>> sorted(result.changes[E + "upstream"].removed)
[(1, 3), (2, 3)]
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from lifecyclegraph.core.errors import RuleLimitError
from lifecyclegraph.rules.compiler import CompiledProgram
from lifecyclegraph.rules.plan import CompiledRule, CompiledStratum, Variant
from lifecyclegraph.rules.program import Atom, Negation
from lifecyclegraph.rules.relation import Fact, Facts, Packed, Relation, TermTable, unpack_all

__all__ = ["DEFAULT_LIMIT", "FACTS_PER_ASSERTED", "Change", "Evaluator", "UpdateResult"]

#: The fewest facts (asserted and derived) a run may hold without a configured limit.
DEFAULT_LIMIT = 10_000_000
#: Without a configured limit, a run may also hold this many facts for each asserted fact
#: the rules read: the limit grows with the data. The project's rules hold about 3 facts
#: per asserted fact (3.2 on bench scale's 10k world: 228,721 held, 71,600 asserted); a
#: rule that joins without a shared variable, or the closure of long chains, goes far
#: past 20 on any sizeable graph.
FACTS_PER_ASSERTED = 20


@dataclass
class Change:
    """Facts a predicate gained and lost (tuples in an :class:`UpdateResult`; packed
    while the evaluator works, see :mod:`~lifecyclegraph.rules.relation`)."""

    added: set[Fact] = field(default_factory=set)
    removed: set[Fact] = field(default_factory=set)


@dataclass
class UpdateResult:
    """What an update changed: per relation, the net change of its facts, and the base
    facts that became, or stopped being, asserted."""

    changes: dict[str, Change]
    base_added: dict[str, set[Fact]]
    base_removed: dict[str, set[Fact]]


class Evaluator:
    """The facts of a compiled program, kept in memory and up to date.

    Args:
        compiled: the program.
        table: the term table the facts' integers come from (a new one by default).
        limit: the most facts (asserted plus derived) a run may hold; a run that would
            go past it stops with :class:`~lifecyclegraph.core.errors.RuleLimitError`.
            ``None`` (the default): :data:`FACTS_PER_ASSERTED` facts per asserted fact,
            and never fewer than :data:`DEFAULT_LIMIT` (see :meth:`cap`).
    """

    def __init__(
        self,
        compiled: CompiledProgram,
        table: TermTable | None = None,
        limit: int | None = None,
    ) -> None:
        self.compiled = compiled
        self.table = table if table is not None else TermTable()
        self.limit = limit
        self.relations = {name: Relation(name, arity) for name, arity in compiled.arity.items()}
        self.derived_keys = frozenset(r.head for r in compiled.rules)
        # The asserted facts (packed) of each relation that rules also derive; a relation
        # no rule derives holds asserted facts only and is its own base (no second set).
        self.base: dict[str, set[Any]] = {name: set() for name in self.derived_keys}
        self._functions: dict[tuple[int, Variant, bool], Callable[..., Any]] = {}
        self._cap = self.cap()  # the limit of the run under way (set as each run starts)

    # -- facts -------------------------------------------------------------------------------

    def relation_of(self, predicate: str) -> str:
        """The relation that holds the asserted facts of an ontology predicate."""
        return self.compiled.base_relation.get(predicate, predicate)

    def facts(self, predicate: str) -> Facts:
        """Every fact of a predicate, asserted or derived (a read-only set view)."""
        return self.relations[predicate].rows

    def asserted(self, predicate: str) -> Facts:
        """The asserted facts of an ontology predicate (a read-only set view)."""
        key = self.relation_of(predicate)
        relation = self.relations.get(key)
        if relation is None:
            return Facts(frozenset(), 0)
        return Facts(self._held(key), relation.arity)

    def _held(self, key: str) -> set[Any]:
        """The packed asserted facts of the relation ``key``."""
        base = self.base.get(key)
        return self.relations[key].packed if base is None else base

    def derived(self, predicate: str, skip: Collection[int] = ()) -> Facts:
        """The facts of a predicate that are derived and not asserted, without those
        whose first term is in ``skip`` (a read-only set view of a copy; the facts stay
        packed until they are read, so that a large relation is never held as tuples).

        >>> from lifecyclegraph.rules.analysis import analyse
        >>> from lifecyclegraph.rules.compiler import compile_program
        >>> from lifecyclegraph.rules.axioms import Vocabulary
        >>> from lifecyclegraph.rules.parser import parse_rules
        >>> E = "https://w3id.org/lifecyclegraph/ontology#"
        >>> vocabulary = Vocabulary(frozenset(), frozenset({E + "dependsOn", E + "upstream"}))
        >>> program = parse_rules("lg:upstream(?x, ?y) :- lg:dependsOn(?x, ?y).")
        >>> evaluator = Evaluator(compile_program(analyse(program, vocabulary)))
        >>> evaluator.load({E + "dependsOn": {(1, 2), (3, 4)}, E + "upstream": {(1, 2)}})
        >>> evaluator.materialize()
        >>> up = E + "upstream"
        >>> sorted(evaluator.derived(up)), sorted(evaluator.derived(up, skip={3}))
        ([(3, 4)], [])
        """
        relation = self.relations[predicate]
        rows = relation.packed
        key = self.relation_of(predicate)
        if key not in self.base and key == predicate:  # asserted facts only
            return Facts(set(), relation.arity)
        base: AbstractSet[Any] = self._held(key) if key in self.relations else frozenset()
        if not skip:
            return Facts(rows - base if base else set(rows), relation.arity)
        if relation.arity == 1:
            kept = {p for p in rows if p not in skip and p not in base}
        elif relation.arity == 2:
            kept = {p for p in rows if p >> 32 not in skip and p not in base}
        else:
            kept = {p for p in rows if p[0] not in skip and p not in base}
        return Facts(kept, relation.arity)

    def is_asserted(self, key: str, fact: Fact) -> bool:
        """Whether ``fact`` (a tuple) is an asserted fact of the relation ``key``."""
        relation = self.relations.get(key)
        return relation is not None and fact in Facts(self._held(key), relation.arity)

    def size(self) -> int:
        """How many facts the relations hold in all."""
        return sum(len(r.packed) for r in self.relations.values())

    def asserted_size(self) -> int:
        """How many asserted facts the relations hold."""
        return sum(len(self._held(name)) for name in self.relations)

    def cap(self) -> int:
        """The most facts (asserted plus derived) a run may hold now: the configured
        limit, or without one, :data:`FACTS_PER_ASSERTED` per asserted fact and at least
        :data:`DEFAULT_LIMIT`.

        >>> from lifecyclegraph.rules.load import load_program
        >>> Evaluator(load_program()).cap(), Evaluator(load_program(), limit=5).cap()
        (10000000, 5)
        """
        if self.limit is not None:
            return self.limit
        return max(DEFAULT_LIMIT, FACTS_PER_ASSERTED * self.asserted_size())

    def load(self, facts: Mapping[str, Iterable[Fact]]) -> None:
        """Set the asserted facts (by ontology predicate); :meth:`materialize` then
        derives the rest. Predicates the program does not use are ignored.

        Raises:
            RuleLimitError: if a fact holds an integer outside 0 to 2**32 - 1.
        """
        for base in self.base.values():
            base.clear()
        for name, relation in self.relations.items():
            if name not in self.base:
                relation.clear()
        for predicate, rows in facts.items():
            key = self.relation_of(predicate)
            target = self.relations.get(key)
            if target is None:
                continue
            packed = set(map(target.pack, rows))
            if key in self.base:
                self.base[key] |= packed
            else:
                target.add(packed - target.packed)

    def function(
        self, rule: CompiledRule, variant: Variant, negation: bool = True
    ) -> Callable[..., Any]:
        """The Python function of a rule's plan, generated and compiled on first use."""
        key = (rule.index, variant, negation)
        found = self._functions.get(key)
        if found is None:
            generated = self.compiled.generated(rule.index, variant, negation)
            found = generated.bind(self.relations.__getitem__, self.table)
            self._functions[key] = found
        return found

    def prepare(self) -> None:
        """Generate the code of every variant that maintenance may need, so that the
        first updates do not pay for it."""
        for stratum in self.compiled.strata:
            for rule in stratum.rules:
                for position in rule.positive:
                    self.function(rule, ("delta", position))
                    self.function(rule, ("delta", position), negation=False)
                for position in rule.negative:
                    self.function(rule, ("negdelta", position))
                    self.function(rule, ("negdelta", position), negation=False)
                self.function(rule, ("check",))

    # -- full evaluation ---------------------------------------------------------------------

    def materialize(self) -> None:
        """Derive every fact from the asserted ones, replacing what was derived before.

        Raises:
            RuleLimitError: if the run would hold more facts than the limit.
        """
        for name, relation in self.relations.items():
            base = self.base.get(name)
            if base is None:
                continue  # asserted facts only: the relation holds them already
            relation.clear()
            if base:
                relation.add(base.copy())
        total = self.size()
        self._cap = self.cap()
        for stratum in self.compiled.strata:
            # Rules that read the stratum's own predicates need no full run: every fact
            # the stratum holds after the other rules is their first delta.
            seeds: dict[str, set[Packed]] = {}
            for rule in stratum.rules:
                if not any(_predicate(rule, i) in stratum.predicates for i in rule.positive):
                    _gather(seeds, rule.head, self._run(rule, ("full",), None, total))
            # The relations themselves, not copies: the first round only reads them.
            first = (
                {
                    name: self.relations[name].packed
                    for name in stratum.predicates
                    if self.relations[name].packed
                }
                if stratum.recursive
                else {}
            )
            total = self._fixpoint(stratum, seeds, total, None, first)

    def _run(
        self,
        rule: CompiledRule,
        variant: Variant,
        delta: Iterable[Packed] | None,
        total: int,
        negation: bool = True,
    ) -> set[Packed]:
        """Run one variant of a rule, stopping if it derives more than the limit allows."""
        out: set[Packed] = set()
        cap = max(self._cap - total, 0)
        function = self.function(rule, variant, negation)
        if delta is None:
            function(out, cap)
        else:
            function(delta, out, cap)
        if len(out) > cap:
            self._explode(rule, len(out))
        return out

    def _explode(self, rule: CompiledRule, count: int) -> None:
        source = rule.source
        raise RuleLimitError(
            f"the rules would derive more than {self._cap:,} facts ({self._why()}): the "
            f"rule at {source.location} derived {count:,} in one round and went past the "
            f"limit ({source})",
            rule=f"{source.location}: {source}",
            limit=self._cap,
        )

    def _why(self) -> str:
        """Where the limit comes from, for the error message."""
        if self.limit is not None:
            return "the configured limit"
        return (
            f"the default limit: {FACTS_PER_ASSERTED} per asserted fact, "
            f"{self.asserted_size():,} asserted, and at least {DEFAULT_LIMIT:,}"
        )

    def _fixpoint(
        self,
        stratum: CompiledStratum,
        seeds: dict[str, set[Packed]],
        total: int,
        inserted: dict[str, set[Packed]] | None,
        first: dict[str, set[Packed]] | None = None,
    ) -> int:
        """Add ``seeds`` and everything they lead to within the stratum (semi-naive),
        noting what was added in ``inserted`` (unless ``None``); ``first`` holds facts
        already in the relations that must also be joined (it may be a relation's own
        set: it is read in the first round, before anything is added)."""
        delta: dict[str, set[Packed]] = {} if first is None else first
        for name, facts in seeds.items():
            relation = self.relations[name]
            fresh = facts - relation.packed
            if fresh:
                relation.add(fresh)
                known = delta.get(name)
                if known is None:
                    delta[name] = fresh
                elif known is not relation.packed:  # else it holds them already
                    known |= fresh
                if inserted is not None:
                    inserted.setdefault(name, set()).update(fresh)
                total += len(fresh)
        if total > self._cap and stratum.rules:
            self._explode(max(stratum.rules, key=lambda r: len(delta.get(r.head, ()))), total)
        while delta and stratum.recursive:
            new: dict[str, set[Packed]] = {}
            biggest: tuple[int, CompiledRule | None] = (0, None)
            for rule in stratum.rules:
                for position in rule.positive:
                    given = delta.get(_predicate(rule, position))
                    if given:
                        out = self._run(rule, ("delta", position), given, total)
                        _gather(new, rule.head, out)
                        biggest = max(biggest, (len(out), rule), key=lambda b: b[0])
            delta = {}
            for name, facts in new.items():
                relation = self.relations[name]
                fresh = facts - relation.packed
                if fresh:
                    relation.add(fresh)
                    delta[name] = fresh
                    if inserted is not None:
                        inserted.setdefault(name, set()).update(fresh)
                    total += len(fresh)
            if total > self._cap and biggest[1] is not None:
                self._explode(biggest[1], biggest[0])
        return total

    # -- incremental maintenance -------------------------------------------------------------

    def update(
        self, added: Mapping[str, Iterable[Fact]], removed: Mapping[str, Iterable[Fact]]
    ) -> UpdateResult:
        """Apply asserted facts added and removed (by ontology predicate) and maintain
        every derived fact.

        Returns:
            The net change of every relation that changed, and the change of the
            asserted facts (as tuples).

        Raises:
            RuleLimitError: if the update would hold more facts than the limit, or a
                fact holds an integer outside 0 to 2**32 - 1.
        """
        base_added: dict[str, set[Any]] = {}
        base_removed: dict[str, set[Any]] = {}
        # A relation that is its own base changes below, after both loops; until then
        # the facts removed from it are in base_removed, and withdrawn keeps them as
        # they were before re-added facts were taken out.
        withdrawn: dict[str, set[Any]] = {}
        for predicate, rows in removed.items():
            key = self.relation_of(predicate)
            relation = self.relations.get(key)
            if relation is None:
                continue
            held = self._held(key)
            gone = {row for row in map(relation.pack, rows) if row in held}
            if gone:
                if key in self.base:
                    held -= gone
                base_removed[key] = gone
        for predicate, rows in added.items():
            key = self.relation_of(predicate)
            relation = self.relations.get(key)
            if relation is None:
                continue
            held = self._held(key)
            out = base_removed.get(key, ()) if key not in self.base else ()
            new = {row for row in map(relation.pack, rows) if row not in held or row in out}
            if new:
                back = base_removed.get(key)
                if key in self.base:
                    held |= new
                elif back:
                    withdrawn[key] = set(back)
                if back:
                    back -= new
                base_added[key] = new
        changes: dict[str, Change] = {}
        for key in set(base_added) | set(base_removed):
            if key in self.base:
                continue
            relation = self.relations[key]
            gone = base_removed.get(key, set())
            new = base_added.get(key, set()) - withdrawn.get(key, set())
            relation.remove(gone)
            relation.add(new)
            if gone or new:
                changes[key] = Change(new, gone)
        total = self.size()
        self._cap = self.cap()
        for stratum in self.compiled.strata:
            total = self._maintain(stratum, changes, base_added, base_removed, total)
        return UpdateResult(
            {
                name: Change(self._unpacked(name, c.added), self._unpacked(name, c.removed))
                for name, c in changes.items()
            },
            {name: self._unpacked(name, facts) for name, facts in base_added.items()},
            {name: self._unpacked(name, facts) for name, facts in base_removed.items()},
        )

    def _unpacked(self, name: str, packed: set[Any]) -> set[Fact]:
        return unpack_all(self.relations[name].arity, packed)

    def _maintain(
        self,
        stratum: CompiledStratum,
        changes: dict[str, Change],
        base_added: dict[str, set[Packed]],
        base_removed: dict[str, set[Packed]],
        total: int,
    ) -> int:
        inputs = [p for p in stratum.inputs if p in changes]
        own_added = {k: base_added[k] for k in stratum.predicates if k in base_added}
        own_removed = {k: base_removed[k] for k in stratum.predicates if k in base_removed}
        if not (inputs or own_added or own_removed):
            return total
        deleted = self._overdelete(stratum, changes, inputs, own_removed)
        for name, facts in deleted.items():
            self.relations[name].remove(facts)
            total -= len(facts)
        seeds: dict[str, set[Packed]] = {}
        for name, facts in deleted.items():
            checks = [
                self.function(rule, ("check",))
                for rule in self.compiled.rules_by_head.get(name, ())
            ]
            back = {fact for fact in facts if any(check(fact) for check in checks)}
            if back:
                seeds[name] = back
        for name, facts in own_added.items():
            seeds.setdefault(name, set()).update(facts)
        for rule in stratum.rules:
            for position in rule.positive:
                change = changes.get(_predicate(rule, position))
                if change and change.added:
                    out = self._run(rule, ("delta", position), change.added, total)
                    seeds.setdefault(rule.head, set()).update(out)
            for position in rule.negative:
                change = changes.get(_predicate(rule, position))
                if change and change.removed:
                    out = self._run(rule, ("negdelta", position), change.removed, total)
                    seeds.setdefault(rule.head, set()).update(out)
        inserted: dict[str, set[Packed]] = {}
        total = self._fixpoint(stratum, seeds, total, inserted)
        for name in stratum.predicates:
            gone = deleted.get(name, set())
            new = inserted.get(name, set())
            change = Change(new - gone, gone - self.relations[name].packed)
            if change.added or change.removed:
                changes[name] = change
        return total

    def _overdelete(
        self,
        stratum: CompiledStratum,
        changes: dict[str, Change],
        inputs: list[str],
        own_removed: dict[str, set[Packed]],
    ) -> dict[str, set[Packed]]:
        """Every fact of the stratum that may have lost its derivation (a superset)."""
        deleted: dict[str, set[Packed]] = {}
        pending: dict[str, set[Packed]] = {}

        def consider(name: str, facts: set[Packed]) -> None:
            rows = self.relations[name].packed
            base = self.base[name]
            known = deleted.setdefault(name, set())
            fresh = {f for f in facts if f in rows and f not in base and f not in known}
            if fresh:
                known |= fresh
                pending.setdefault(name, set()).update(fresh)

        for name, facts in own_removed.items():
            consider(name, facts)
        restored: dict[str, set[Packed]] = {}
        for name in inputs:
            gone = changes[name].removed
            if gone:
                relation = self.relations[name]
                back = gone - relation.packed
                relation.add(back)
                restored[name] = back
        try:
            for rule in stratum.rules:
                for position in rule.positive:
                    change = changes.get(_predicate(rule, position))
                    if change and change.removed:
                        consider(
                            rule.head,
                            self._run(rule, ("delta", position), change.removed, 0, negation=False),
                        )
                for position in rule.negative:
                    change = changes.get(_predicate(rule, position))
                    if change and change.added:
                        consider(
                            rule.head,
                            self._run(
                                rule, ("negdelta", position), change.added, 0, negation=False
                            ),
                        )
            while pending:
                delta, pending = pending, {}
                for rule in stratum.rules:
                    for position in rule.positive:
                        given = delta.get(_predicate(rule, position))
                        if given:
                            consider(
                                rule.head,
                                self._run(rule, ("delta", position), given, 0, negation=False),
                            )
        finally:
            for name, back in restored.items():
                self.relations[name].remove(back)
        return {name: facts for name, facts in deleted.items() if facts}


def _gather(into: dict[str, set[Packed]], name: str, facts: set[Packed]) -> None:
    """Add ``facts`` (a set nobody else holds) to ``into[name]``, without a copy when
    it is the first."""
    known = into.get(name)
    if known is None:
        into[name] = facts
    else:
        known |= facts


def _predicate(rule: CompiledRule, position: int) -> str:
    item = rule.rule.body[position]
    atom = item.atom if isinstance(item, Negation) else item
    assert isinstance(atom, Atom)
    return atom.predicate
