"""Turtle with positions: the positional parser reads the same graph as pyoxigraph, and
each position points at the term it names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rdflib
import rdflib.compare
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, parse

from lifecyclegraph.core.errors import TurtleSyntaxError
from lifecyclegraph.validation.turtle import Position, parse_positions, read_rdf, to_rdflib_term
from lifecyclegraph.validation.turtle import _same_graph as same_graph

ROOT = Path(__file__).parent.parent
RDF_LIST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"  # first, rest, nil
MODEL_FILES = sorted((ROOT / "ontology").glob("*.ttl")) + sorted((ROOT / "shapes").glob("*.ttl"))


def _reference(text: str):
    return [q.triple for q in parse(text, format=RdfFormat.TURTLE)]


def _token_at(text: str, where: Position) -> str:
    line = text.splitlines()[where.line - 1]
    return line[where.column - 1 :]


def _denotes(token_text: str, term, prefixes: dict[str, str]) -> bool:
    """Whether the text at a position starts with a way of writing ``term``."""
    if isinstance(term, BlankNode):
        return token_text[:1] in "[(" or token_text.startswith("_:")
    if isinstance(term, NamedNode):
        if token_text.startswith(f"<{term.value}>") or token_text.startswith("a "):
            return True
        match = re.match(r"([^\s:<]*):(\S*)", token_text)
        return bool(match) and term.value.startswith(prefixes.get(match.group(1), "\0"))
    return token_text[:1] in "\"'+-.0123456789tf"


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_positions_of_the_shipped_model_point_at_their_terms(path: Path):
    text = path.read_text()
    located, prefixes = parse_positions(text, path.name)
    assert same_graph(_reference(text), [item.triple for item in located])
    for item in located:
        if item.triple.predicate.value.startswith(RDF_LIST):
            # a ( ... ) list: its nodes are placed at their items, checked as objects
            continue
        for term, where in (
            (item.triple.subject, item.subject),
            (item.triple.predicate, item.predicate),
            (item.triple.object, item.object),
        ):
            assert _denotes(_token_at(text, where), term, prefixes), (str(where), term)


def test_mistyped_path_is_found_at_its_line_and_column():
    text = (
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "@prefix lg: <https://w3id.org/lifecyclegraph/ontology#> .\n"
        "lg:S a sh:NodeShape ;\n"
        "    sh:property [\n"
        "        sh:path lg:visualisesModel ;\n"
        "    ] .\n"
    )
    doc = read_rdf(text, "shapes/x.ttl")
    found = list(
        doc.occurrences(NamedNode("https://w3id.org/lifecyclegraph/ontology#visualisesModel"))
    )
    assert [(str(p), role) for p, role in found] == [("shapes/x.ttl:5:17", "object")]


def test_syntax_error_names_file_line_and_column_without_byte_reprs():
    with pytest.raises(TurtleSyntaxError) as caught:
        read_rdf('@prefix a: <http://x/> .\na:b a:c "éé" ;\n    zz:c 3 .\n', "ontology/x.ttl")
    assert str(caught.value) == "ontology/x.ttl:3:5: The prefix zz: has not been declared"
    assert (caught.value.filename, caught.value.lineno, caught.value.offset) == (
        "ontology/x.ttl",
        3,
        5,
    )


def test_blank_node_labels_are_the_same_on_every_run():
    text = "@prefix e: <http://e/> .\ne:a e:b [ e:c ( 1 2 ) ] , _:x .\n"
    first = read_rdf(text, "a.ttl").triples
    second = read_rdf(text, "a.ttl").triples
    assert first == second
    other = read_rdf(text, "b.ttl").triples
    blanks = {t.object for t in other if isinstance(t.object, BlankNode)}
    assert blanks and not {t.object for t in first} & blanks  # each file has its own


def test_rdf_star_is_read_without_positions():
    text = "@prefix e: <http://e/> .\n<< e:a e:b e:c >> e:d e:e .\n"
    try:
        doc = read_rdf(text, "star.ttl")
    except TurtleSyntaxError:
        pytest.skip("this pyoxigraph does not read RDF-star Turtle")
    assert not doc.positioned
    assert doc.triples  # what pyoxigraph read, without positions


# -- the same graph as pyoxigraph, on graphs serialized by rdflib and pyoxigraph ---------

LOCALS = st.sampled_from(["a", "b.c", "d-e", "f_1", "née", "x%20y", "a.b.c", "Z9"])
NAMES = LOCALS.map(lambda local: rdflib.URIRef("http://example.com/ns#" + local))
OTHER = st.sampled_from(["http://example.com/other/x", "urn:x:y", "http://e/é?q=1#f"]).map(
    rdflib.URIRef
)
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
LITERALS = st.one_of(
    TEXT.map(rdflib.Literal),
    st.tuples(TEXT, st.sampled_from(["en", "en-GB", "de"])).map(
        lambda t: rdflib.Literal(t[0], lang=t[1])
    ),
    st.integers(-(10**12), 10**12).map(rdflib.Literal),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(rdflib.Literal),
    st.booleans().map(rdflib.Literal),
    st.floats(allow_nan=False, allow_infinity=False).map(
        lambda f: rdflib.Literal(str(f), datatype=rdflib.XSD.double)
    ),
)


@st.composite
def graphs(draw):
    graph = rdflib.Graph()
    graph.bind("ns", "http://example.com/ns#")
    blanks = [rdflib.BNode() for _ in range(draw(st.integers(0, 3)))]
    subjects = (
        st.one_of(NAMES, OTHER, *(st.just(b) for b in blanks))
        if blanks
        else st.one_of(NAMES, OTHER)
    )
    objects = st.one_of(NAMES, OTHER, LITERALS, *(st.just(b) for b in blanks))
    for s, p, o in draw(st.lists(st.tuples(subjects, NAMES, objects), min_size=1, max_size=12)):
        graph.add((s, p, o))
    if draw(st.booleans()):
        head = rdflib.BNode()
        items = draw(st.lists(st.one_of(NAMES, LITERALS), min_size=1, max_size=4))
        rdflib.collection.Collection(graph, head, items)
        graph.add((draw(NAMES), draw(NAMES), head))
    return graph


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.sampled_from(["turtle", "longturtle", "nt"]))
def test_positional_parser_reads_the_graph_pyoxigraph_reads(graph, syntax):
    text = graph.serialize(format=syntax)
    located, _ = parse_positions(text, "g.ttl")
    assert same_graph(_reference(text), [item.triple for item in located]), text


@settings(max_examples=100, deadline=None)
@given(graphs())
def test_positional_parser_reads_what_pyoxigraph_writes(graph):
    from pyoxigraph import serialize

    triples = _reference(graph.serialize(format="nt"))
    text = serialize(triples, format=RdfFormat.TURTLE, prefixes={"ns": "http://example.com/ns#"})
    text = text.decode() if isinstance(text, bytes) else text
    located, _ = parse_positions(text, "g.ttl")
    assert same_graph(triples, [item.triple for item in located]), text


def test_literal_forms_are_read_as_written():
    text = (
        "@prefix e: <http://e/> .\n"
        "e:a e:b 1, -2.50, 3E4, true, \"x\"@EN-gb, '''long\n'''^^e:T, \"\\u00e9\\t\" .\n"
    )
    located, _ = parse_positions(text, "l.ttl")
    assert same_graph(_reference(text), [item.triple for item in located])
    assert Literal("3E4", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#double")) in {
        item.triple.object for item in located
    }


def _triples(text: str):
    return _reference("@prefix e: <http://e/> .\n" + text)


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ("e:a e:p [ e:q 1 ] .", "e:a e:p [ e:q 1 ] .", True),
        ("e:a e:p [ e:q 1 ] .", "e:a e:p [ e:q 2 ] .", False),
        ("e:a e:p [ e:q [ e:r 1 ] ] .", "e:a e:p [ e:q [ e:r 1 ] ] .", True),
        ("e:a e:p [ e:q [ e:r 1 ] ] .", "e:a e:p [ e:q 1 ], [ e:r 1 ] .", False),
        # look-alike blank nodes: colour refinement cannot tell them apart, rdflib decides
        ("e:a e:p [ e:q 1 ], [ e:q 1 ] .", "e:a e:p [ e:q 1 ], [ e:q 1 ] .", True),
        ("_:x e:p _:y . _:y e:p _:x .", "_:x e:p _:x . _:y e:p _:y .", False),
    ],
)
def test_same_graph_tells_blank_node_structures_apart(left, right, same):
    assert same_graph(_triples(left), _triples(right)) is same


@settings(max_examples=100, deadline=None)
@given(graphs(), st.randoms())
def test_same_graph_agrees_with_rdflib_isomorphism(graph, random):
    triples = _reference(graph.serialize(format="nt"))
    relabelled = _reference(graph.serialize(format="nt"))  # fresh blank node labels
    assert same_graph(triples, relabelled)
    if triples:
        mutated = list(relabelled)
        mutated.pop(random.randrange(len(mutated)))
        mutated_graph = rdflib.Graph()
        for t in mutated:
            mutated_graph.add(tuple(to_rdflib_term(x) for x in (t.subject, t.predicate, t.object)))
        expected = rdflib.compare.isomorphic(graph, mutated_graph)
        assert same_graph(triples, mutated) is expected
