"""Turn the ontology's OWL axioms into rules, so that they run in the same engine.

=======================================  ===================================================
axiom                                    rule
=======================================  ===================================================
``C rdfs:subClassOf D``                  ``D(?x) :- C(?x).``
``C owl:equivalentClass D``              both ways
``p rdfs:subPropertyOf q``               ``q(?x, ?y) :- p(?x, ?y).``
``p owl:equivalentProperty q``           both ways
``p owl:inverseOf q``                    ``q(?y, ?x) :- p(?x, ?y).`` and back
``p a owl:SymmetricProperty``            ``p(?y, ?x) :- p(?x, ?y).``
``p a owl:TransitiveProperty``           ``p(?x, ?z) :- p(?x, ?y), p(?y, ?z).``
``p owl:propertyChainAxiom (p1 .. pn)``  ``p(?x0, ?xn) :- p1(?x0, ?x1), ..., pn(?x(n-1), ?xn).``
=======================================  ===================================================

Other axioms (``rdfs:domain``, ``rdfs:range``, restrictions) are not rules: the SHACL
shapes check them instead. Axioms whose terms are blank nodes are skipped.

One rule is left out on purpose: when ``p`` and ``q`` are inverses of each other and
both are transitive, only ``p``'s transitivity is kept (the subject of the
``owl:inverseOf`` axiom); ``q``'s follows from it, and stating it would make the
engine compute the same closure twice.

>>> from lifecyclegraph.rules.axioms import Axioms
>>> onto = Axioms.from_turtle('''
... @prefix lg: <https://w3id.org/lifecyclegraph/ontology#> .
... @prefix owl: <http://www.w3.org/2002/07/owl#> .
... @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
... lg:trainedByPipeline owl:propertyChainAxiom ( lg:producedByRun lg:runOf ) .
... lg:Model rdfs:subClassOf lg:Asset .
... ''', "models.ttl")
>>> for rule in rules_from_ontology(onto):
...     print(rule.location, rule)
models.ttl:6:10 lg:Asset(?x) :- lg:Model(?x).
models.ttl:5:22 lg:trainedByPipeline(?x0, ?x2) :- lg:producedByRun(?x0, ?x1), lg:runOf(?x1, ?x2).
"""

from __future__ import annotations

from pyoxigraph import NamedNode

from lifecyclegraph.core.vocab import compact
from lifecyclegraph.rules.axioms import OWL, RDFS, Axioms
from lifecyclegraph.rules.program import Atom, Location, Program, Rule, Var, show_predicate

__all__ = ["program_from_ontology", "rules_from_ontology"]

X, Y, Z = Var("x"), Var("y"), Var("z")


def program_from_ontology(ontology: Axioms) -> Program:
    """The ontology's axioms as a program (see :func:`rules_from_ontology`)."""
    return Program(tuple(rules_from_ontology(ontology)), tuple(sorted(ontology.files)))


def rules_from_ontology(ontology: Axioms) -> list[Rule]:
    """One rule per supported axiom, in a stable order, each located in its file.

    Args:
        ontology: the parsed ontology.

    Returns:
        The rules, with ``origin="ontology"`` and a comment naming the axiom.
    """
    rules: list[Rule] = []

    def add(head: Atom, body: tuple[Atom, ...], location: Location, comment: str) -> None:
        rule = Rule(head, body, location, comment, origin="ontology")
        rules.append(rule)

    def loc(subject: NamedNode, filename: str, *keywords: str) -> Location:
        return ontology.locate(subject.value, *keywords, filename=filename)

    class_axioms = ((RDFS + "subClassOf", "sub-class"), (OWL + "equivalentClass", "equivalent"))
    for predicate, kind in class_axioms:
        for t, filename in ontology.axioms(predicate):
            c, d = t.subject, t.object
            if not (isinstance(c, NamedNode) and isinstance(d, NamedNode)) or c == d:
                continue
            if d.value == OWL + "Thing":
                continue
            where = loc(c, filename, compact(predicate), compact(d.value))
            add(
                Atom(d.value, (X,), where),
                (Atom(c.value, (X,), where),),
                where,
                f"{_n(c)} is a {kind} of {_n(d)} (ontology)",
            )
            if kind == "equivalent":
                add(
                    Atom(c.value, (X,), where),
                    (Atom(d.value, (X,), where),),
                    where,
                    f"{_n(d)} is equivalent to {_n(c)} (ontology)",
                )

    for predicate, kind in (
        (RDFS + "subPropertyOf", "sub-property"),
        (OWL + "equivalentProperty", "equivalent"),
    ):
        for t, filename in ontology.axioms(predicate):
            p, q = t.subject, t.object
            if not (isinstance(p, NamedNode) and isinstance(q, NamedNode)) or p == q:
                continue
            where = loc(p, filename, compact(predicate), compact(q.value))
            add(
                Atom(q.value, (X, Y), where),
                (Atom(p.value, (X, Y), where),),
                where,
                f"{_n(p)} is a {kind} of {_n(q)} (ontology)",
            )
            if kind == "equivalent":
                add(
                    Atom(p.value, (X, Y), where),
                    (Atom(q.value, (X, Y), where),),
                    where,
                    f"{_n(q)} is equivalent to {_n(p)} (ontology)",
                )

    transitive = {s.value: f for s, f in ontology.typed(OWL + "TransitiveProperty")}
    implied: set[str] = set()
    for t, filename in ontology.axioms(OWL + "inverseOf"):
        p, q = t.subject, t.object
        if not (isinstance(p, NamedNode) and isinstance(q, NamedNode)):
            continue
        where = loc(p, filename, "owl:inverseOf", compact(q.value))
        comment = f"{_n(p)} and {_n(q)} are inverses (ontology)"
        add(Atom(q.value, (Y, X), where), (Atom(p.value, (X, Y), where),), where, comment)
        if p != q:
            add(Atom(p.value, (Y, X), where), (Atom(q.value, (X, Y), where),), where, comment)
        if p.value in transitive and q.value in transitive and p != q and p.value not in implied:
            implied.add(q.value)

    for s, filename in ontology.typed(OWL + "SymmetricProperty"):
        where = loc(s, filename, "owl:SymmetricProperty")
        add(
            Atom(s.value, (Y, X), where),
            (Atom(s.value, (X, Y), where),),
            where,
            f"{_n(s)} is symmetric (ontology)",
        )

    for s, filename in ontology.typed(OWL + "TransitiveProperty"):
        if s.value in implied:
            continue
        where = loc(s, filename, "owl:TransitiveProperty")
        add(
            Atom(s.value, (X, Z), where),
            (Atom(s.value, (X, Y), where), Atom(s.value, (Y, Z), where)),
            where,
            f"{_n(s)} is transitive (ontology)",
        )

    for t, filename in ontology.axioms(OWL + "propertyChainAxiom"):
        p = t.subject
        chain = ontology.rdf_list(t.object)  # type: ignore[arg-type]
        if not isinstance(p, NamedNode) or not chain:
            continue
        if not all(isinstance(member, NamedNode) for member in chain):
            continue
        where = loc(p, filename, "owl:propertyChainAxiom", compact(chain[0].value))
        variables = [Var(f"x{i}") for i in range(len(chain) + 1)]
        body = tuple(
            Atom(member.value, (variables[i], variables[i + 1]), where)
            for i, member in enumerate(chain)
        )
        names = " then ".join(_n(m) for m in chain)
        add(
            Atom(p.value, (variables[0], variables[-1]), where),
            body,
            where,
            f"{_n(p)} is the chain {names} (ontology)",
        )
    return rules


def _n(node: object) -> str:
    return show_predicate(node.value)  # type: ignore[attr-defined]
