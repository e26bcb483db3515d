"""Transitive rules in linear form: the rewrite the compiler makes before planning.

A rule of the form ``p(?x, ?z) :- p(?x, ?y), p(?y, ?z).`` (as ``owl:TransitiveProperty``
gives) would make the engine join the closure with itself. :func:`linearise` rewrites
it to the equivalent linear form over the *steps* of ``p``, an internal predicate
``p~step`` holding every ``p`` fact that transitivity did not derive (asserted ones and
those from other rules)::

    p~step(...) :- ...               (every other rule whose head is p)
    p(?x, ?y) :- p~step(?x, ?y).
    p(?x, ?z) :- p~step(?x, ?y), p(?y, ?z).

The closure is the same; the work per new fact is one index lookup instead of one per
known fact. When ``p`` has an inverse ``q`` (``p(?x, ?y) :- q(?y, ?x)`` and back), the
steps of ``p`` take only the ``q`` facts that do not come from ``p`` itself (``q~own``),
else every closure fact would come back as a step. ``explain`` shows ``p~step`` and
``q~own`` facts as ``p`` and ``q`` facts.

>>> from lifecyclegraph.rules.parser import parse_rules
>>> program = parse_rules('''
... lg:upstream(?x, ?y) :- lg:dependsOn(?x, ?y).
... lg:upstream(?x, ?z) :- lg:upstream(?x, ?y), lg:upstream(?y, ?z).''')
>>> rules, base = linearise(program.rules)
>>> for run, written in rules:
...     print(run)
lg:upstream~step(?x, ?y) :- lg:dependsOn(?x, ?y).
lg:upstream(?x, ?z) :- lg:upstream~step(?x, ?z).
lg:upstream(?x, ?z) :- lg:upstream~step(?x, ?y), lg:upstream(?y, ?z).
>>> base["https://w3id.org/lifecyclegraph/ontology#upstream"]
'https://w3id.org/lifecyclegraph/ontology#upstream~step'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from lifecyclegraph.rules.program import Atom, Negation, Rule, Var, is_helper

__all__ = ["OWN", "STEP", "internal_base", "linearise"]

#: The suffix of the internal predicate holding the steps of a transitive predicate.
STEP = "~step"
#: The suffix of the internal predicate holding the facts of the inverse of a transitive
#: predicate that do not come from it.
OWN = "~own"


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


def linearise(rules: Iterable[Rule]) -> tuple[list[tuple[Rule, Rule]], dict[str, str]]:
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
            other = (
                rule.body[0].predicate
                if len(rule.body) == 1 and isinstance(rule.body[0], Atom)
                else None
            )
            if (
                other
                and other != name
                and other not in transitive
                and other not in partner.values()
                and _is_inverse_copy(rule, name, other)
                and any(_is_inverse_copy(r, other, name) for r in rules)
            ):
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
                base = Rule(
                    Atom(name, (x, z), where),
                    (Atom(step, (x, z), where),),
                    rule.location,
                    rule.comment,
                    rule.origin,
                    rule.also_stated_at,
                )
                linear = Rule(
                    rule.head,
                    (Atom(step, (x, y), where), Atom(name, (y, z), where)),
                    rule.location,
                    rule.comment,
                    rule.origin,
                    rule.also_stated_at,
                )
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
        copy = Rule(
            Atom(name, (x, y), where),
            (Atom(name + OWN, (x, y), where),),
            source.location,
            source.comment,
            source.origin,
            source.also_stated_at,
        )
        out.append((copy, source))
    base_relation = {}
    for rule, _ in out:
        for item in (rule.head, *rule.body):
            atom = item.atom if isinstance(item, Negation) else item
            if isinstance(atom, Atom) and not is_helper(atom.predicate):
                name = internal_base(atom.predicate)
                base_relation[name] = (
                    name + STEP if name in transitive else name + OWN if name in owned else name
                )
    return out, base_relation


def internal_base(predicate: str) -> str:
    """The predicate an internal one stands for: ``p`` for ``p~step`` and ``p~own``.

    >>> internal_base("https://w3id.org/lifecyclegraph/ontology#upstream~step")
    'https://w3id.org/lifecyclegraph/ontology#upstream'
    """
    return predicate.split("~", 1)[0]
