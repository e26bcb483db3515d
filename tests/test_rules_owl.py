"""OWL axioms as rules: on random small graphs with random axioms of the supported kinds,
the engine's closure equals owlrl's OWL RL closure (over the test's own vocabulary)."""

from __future__ import annotations

import owlrl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import NamedNode
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from lifecyclegraph.rules.axioms import Axioms
from lifecyclegraph.rules.evaluate import Evaluator
from lifecyclegraph.rules.load import build_program
from lifecyclegraph.rules.owl import rules_from_ontology
from lifecyclegraph.rules.program import Program

EX = "http://example.com/"
CLASSES = [f"C{i}" for i in range(4)]
PROPERTIES = [f"p{i}" for i in range(4)]
INDIVIDUALS = [f"a{i}" for i in range(5)]

HEADER = """@prefix ex: <http://example.com/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""

classes = st.sampled_from(CLASSES)
properties = st.sampled_from(PROPERTIES)
individuals = st.sampled_from(INDIVIDUALS)

axioms = st.one_of(
    st.tuples(classes, st.just("rdfs:subClassOf"), classes).map(
        lambda t: f"ex:{t[0]} rdfs:subClassOf ex:{t[2]} ."
    ),
    st.tuples(classes, classes).map(lambda t: f"ex:{t[0]} owl:equivalentClass ex:{t[1]} ."),
    st.tuples(properties, properties).map(lambda t: f"ex:{t[0]} rdfs:subPropertyOf ex:{t[1]} ."),
    st.tuples(properties, properties).map(
        lambda t: f"ex:{t[0]} owl:equivalentProperty ex:{t[1]} ."
    ),
    st.tuples(properties, properties).map(lambda t: f"ex:{t[0]} owl:inverseOf ex:{t[1]} ."),
    properties.map(lambda p: f"ex:{p} a owl:TransitiveProperty ."),
    properties.map(lambda p: f"ex:{p} a owl:SymmetricProperty ."),
    st.tuples(properties, st.lists(properties, min_size=2, max_size=3)).map(
        lambda t: f"ex:{t[0]} owl:propertyChainAxiom ( {' '.join('ex:' + p for p in t[1])} ) ."
    ),
)

facts = st.one_of(
    st.tuples(individuals, properties, individuals),
    st.tuples(individuals, st.just("a"), classes),
)


def ontology_text(chosen: list[str]) -> str:
    declarations = [f"ex:{c} a owl:Class ." for c in CLASSES]
    declarations += [f"ex:{p} a owl:ObjectProperty ." for p in PROPERTIES]
    return HEADER + "\n".join(declarations + chosen) + "\n"


def data_text(chosen: list[tuple[str, str, str]]) -> str:
    lines = [f"ex:{s} {'a' if p == 'a' else 'ex:' + p} ex:{o} ." for s, p, o in chosen]
    return HEADER + "\n".join(lines) + "\n"


def engine_closure(ontology: str, data: list[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    program = build_program(Program(()), Axioms.from_turtle(ontology, "test.ttl"))
    evaluator = Evaluator(program)
    ids = {name: evaluator.table.id(NamedNode(EX + name)) for name in INDIVIDUALS}
    base: dict[str, set[tuple[int, ...]]] = {}
    for s, p, o in data:
        if p == "a":
            base.setdefault(EX + o, set()).add((ids[s],))
        else:
            base.setdefault(EX + p, set()).add((ids[s], ids[o]))
    evaluator.load(base)
    evaluator.materialize()
    names = {i: NamedNode(EX + n) for n, i in ids.items()}
    closure = {(EX + s, "a" if p == "a" else EX + p, EX + o) for s, p, o in data}
    for c in CLASSES:
        for (x,) in evaluator.facts(EX + c) if EX + c in evaluator.relations else ():
            closure.add((names[x].value, "a", EX + c))
    for p in PROPERTIES:
        for x, y in evaluator.facts(EX + p) if EX + p in evaluator.relations else ():
            closure.add((names[x].value, EX + p, names[y].value))
    return closure


def owlrl_closure(ontology: str, data: list[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    graph = Graph()
    graph.parse(data=ontology, format="turtle")
    graph.parse(data=data_text(data), format="turtle")
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    people = {URIRef(EX + n) for n in INDIVIDUALS}
    props = {URIRef(EX + p) for p in PROPERTIES}
    kinds = {URIRef(EX + c) for c in CLASSES}
    closure = set()
    for s, p, o in graph:
        if s not in people:
            continue
        if p == RDF.type and o in kinds:
            closure.add((str(s), "a", str(o)))
        elif p in props and o in people:
            closure.add((str(s), str(p), str(o)))
    return closure


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chosen=st.lists(axioms, max_size=6), data=st.lists(facts, max_size=10))
def test_closure_equals_owlrl_on_random_axioms_and_graphs(chosen, data):
    ontology = ontology_text(chosen)
    assert engine_closure(ontology, data) == owlrl_closure(ontology, data)


@pytest.mark.parametrize(
    ("axiom", "data", "expected"),
    [
        (
            "ex:p0 a owl:TransitiveProperty .",
            [("a0", "p0", "a1"), ("a1", "p0", "a2")],
            ("a0", "p0", "a2"),
        ),
        ("ex:p0 owl:inverseOf ex:p1 .", [("a0", "p0", "a1")], ("a1", "p1", "a0")),
        ("ex:p0 a owl:SymmetricProperty .", [("a0", "p0", "a1")], ("a1", "p0", "a0")),
        (
            "ex:p2 owl:propertyChainAxiom ( ex:p0 ex:p1 ) .",
            [("a0", "p0", "a1"), ("a1", "p1", "a2")],
            ("a0", "p2", "a2"),
        ),
        ("ex:C0 rdfs:subClassOf ex:C1 .", [("a0", "a", "C0")], ("a0", "a", "C1")),
        ("ex:p0 rdfs:subPropertyOf ex:p1 .", [("a0", "p0", "a1")], ("a0", "p1", "a1")),
    ],
)
def test_each_supported_axiom_derives_its_fact(axiom, data, expected):
    s, p, o = expected
    fact = (EX + s, "a" if p == "a" else EX + p, EX + o)
    assert fact in engine_closure(ontology_text([axiom]), data)


def test_transitivity_of_an_inverse_of_a_transitive_property_is_not_stated_twice():
    ontology = ontology_text(
        [
            "ex:p0 a owl:TransitiveProperty .",
            "ex:p1 a owl:TransitiveProperty .",
            "ex:p0 owl:inverseOf ex:p1 .",
        ]
    )
    rules = rules_from_ontology(Axioms.from_turtle(ontology, "t.ttl"))
    transitive = [r for r in rules if len(r.body) == 2 and r.body[0].predicate == r.head.predicate]
    assert [r.head.predicate for r in transitive] == [EX + "p0"]
    data = [("a0", "p1", "a1"), ("a1", "p1", "a2")]
    assert (EX + "a0", EX + "p1", EX + "a2") in engine_closure(ontology, data)


def test_axiom_rules_point_at_the_ontology_line():
    rules = rules_from_ontology(
        Axioms.from_turtle(
            ontology_text(["ex:p2 owl:propertyChainAxiom ( ex:p0 ex:p1 ) ."]), "t.ttl"
        )
    )
    [chain] = rules
    assert str(chain.location) == "t.ttl:12:7"
    assert chain.comment == (
        "<http://example.com/p2> is the chain <http://example.com/p0> then "
        "<http://example.com/p1> (ontology)"
    )
