"""The graph protocol's codecs: what is dumped loads back equal, through JSON text."""

from __future__ import annotations

import json
from datetime import UTC, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Quad

from lifecyclegraph.core.facts import Facts
from lifecyclegraph.core.vocab import LG, XSD
from lifecyclegraph.graph import wire
from lifecyclegraph.rules.explain import Explanation, RuleRef
from lifecyclegraph.search.backend import Hit, SearchResults
from lifecyclegraph.store.values import (
    EntityState,
    HydrationState,
    Observation,
    Outcome,
    SnapshotInfo,
    WriteResult,
)

TEXT = st.text(max_size=12)
IRIS = st.builds(
    lambda kind, local: f"aip://{kind}/registry/{local}",
    st.sampled_from(["model", "dataset", "feature"]),
    st.text(alphabet="abcdefghij-0123456789", min_size=1, max_size=8),
)
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
)
TIMES = st.datetimes(timezones=ZONES)
LITERALS = st.one_of(
    TEXT.map(Literal),
    st.tuples(TEXT, st.sampled_from(["en", "fr", "de-CH"])).map(
        lambda t: Literal(t[0], language=t[1])
    ),
    st.integers().map(lambda n: Literal(str(n), datatype=XSD.integer)),
    st.tuples(TEXT, st.sampled_from([XSD.decimal, XSD.date, NamedNode("urn:my:type")])).map(
        lambda t: Literal(t[0], datatype=t[1])
    ),
)
TERMS = st.one_of(IRIS.map(NamedNode), LITERALS)
PAIRS = st.frozensets(
    st.tuples(st.sampled_from([LG.name, LG.owner, LG.description]), TERMS), max_size=5
)
SNAPSHOTS = st.builds(
    SnapshotInfo,
    iri=IRIS.map(lambda i: "urn:lifecyclegraph:snapshot:" + i[6:]),
    entity=IRIS,
    observed_at=TIMES,
    source=TEXT,
    event_id=st.none() | TEXT,
    kind=st.sampled_from(HydrationState),
    supersedes=st.none() | IRIS,
)


def through_json(value):
    """What the other side of the wire reads: the value as JSON text, decoded."""
    return json.loads(json.dumps(value))


@st.composite
def facts(draw, uri: str | None = None, depth: int = 0) -> Facts:
    uri = uri or draw(IRIS)
    count = draw(st.integers(0, 2)) if depth < 2 else 0
    parts = tuple(draw(facts(f"{uri}:{n}", depth + 1)) for n in range(count))
    return Facts(uri, draw(PAIRS), parts)


@given(facts())
def test_facts_round_trip(value):
    assert wire.load_facts(through_json(wire.dump_facts(value))) == value


@given(st.builds(Observation, source=TEXT, observed_at=TIMES, event_id=st.none() | TEXT))
def test_observation_round_trip(value):
    loaded = wire.load_observation(through_json(wire.dump_observation(value)))
    assert loaded == value and loaded.observed_at.utcoffset() == value.observed_at.utcoffset()


@given(
    st.builds(WriteResult, uri=IRIS, outcome=st.sampled_from(Outcome), snapshot=st.none() | IRIS)
)
def test_write_result_round_trip(value):
    assert wire.load_write_result(through_json(wire.dump_write_result(value))) == value


@given(
    st.builds(
        EntityState,
        uri=IRIS,
        state=st.sampled_from(HydrationState),
        current_snapshot=IRIS,
        last_seen_at=TIMES,
        last_hydrated_at=st.none() | TIMES,
        part_of=st.none() | IRIS,
        last_enriched_at=st.none() | TIMES,
    )
)
def test_entity_state_round_trip(value):
    assert wire.load_state(through_json(wire.dump_state(value))) == value


@given(SNAPSHOTS)
def test_snapshot_round_trip(value):
    assert wire.load_snapshot(through_json(wire.dump_snapshot(value))) == value


@given(TERMS)
def test_term_round_trips_as_json_and_as_ntriples(term):
    assert wire.load_term(through_json(wire.dump_term(term))) == term
    assert wire.load_ntriples_term(str(term)) == term


@given(st.lists(st.builds(Quad, IRIS.map(NamedNode), st.just(LG.name), TERMS, IRIS.map(NamedNode))))
def test_quads_round_trip(quads):
    assert wire.load_quads(wire.dump_quads(quads)) == quads


RULES = st.builds(
    RuleRef,
    location=TEXT,
    comment=TEXT,
    origin=st.sampled_from(["rules", "ontology"]),
    text=TEXT,
    also_stated_at=st.lists(TEXT, max_size=2).map(tuple),
)
LEAVES = st.builds(
    Explanation,
    predicate=IRIS,
    terms=st.lists(TERMS, min_size=1, max_size=2).map(tuple),
    sources=st.lists(SNAPSHOTS, max_size=2).map(tuple),
)
EXPLANATIONS = st.recursive(
    LEAVES,
    lambda below: st.builds(
        Explanation,
        predicate=IRIS,
        terms=st.lists(TERMS, min_size=1, max_size=2).map(tuple),
        rule=RULES,
        premises=st.lists(below, min_size=1, max_size=3).map(tuple),
        absent=st.lists(TEXT, max_size=2).map(tuple),
    ),
    max_leaves=6,
)


@given(EXPLANATIONS)
def test_explanation_round_trip(tree):
    loaded = wire.load_explanation(through_json(wire.dump_explanation(tree)))
    assert loaded == tree
    assert loaded.render() == tree.render()


HITS = st.builds(
    Hit,
    uri=IRIS,
    name=TEXT,
    type=st.sampled_from(["lg:Model", "lg:Dataset"]),
    score=st.floats(0, 1000, allow_nan=False).map(lambda x: round(x, 4)),
    highlights=st.dictionaries(st.sampled_from(["name", "description"]), TEXT),
)


@given(
    st.builds(
        SearchResults,
        hits=st.lists(HITS, max_size=4),
        total=st.integers(0, 10**6),
        page=st.integers(1, 100),
        page_size=st.integers(1, 1000),
        facets=st.dictionaries(
            st.sampled_from(["type", "owner", "tag", "domain"]),
            st.dictionaries(TEXT, st.integers(0, 1000), max_size=3),
        ),
        fuzzy=st.booleans(),
    )
)
def test_search_results_round_trip(results):
    assert wire.load_search_results(through_json(wire.dump_search_results(results))) == results


@pytest.mark.parametrize(
    ("load", "value", "says"),
    [
        (wire.load_facts, [], "facts: expected an object, not list"),
        (wire.load_facts, {"uri": "aip://m/r/x", "pairs": [[{"type": "uri"}]]}, "pairs[0]"),
        (wire.load_observation, {"source": "s", "observed_at": "yesterday"}, "ISO 8601"),
        (wire.load_term, {"type": "triple", "value": "x"}, "expected 'uri', 'literal' or 'bnode'"),
        (wire.load_term, {"type": "uri", "value": "not an iri"}, "term:"),
        (wire.load_snapshot, {"iri": 1}, "snapshot.iri: expected a string, not int"),
    ],
)
def test_a_value_off_the_protocol_says_what_and_where(load, value, says):
    with pytest.raises(wire.WireError) as caught:
        load(value)
    assert says in str(caught.value)
