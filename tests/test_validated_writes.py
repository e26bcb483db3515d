"""Writes from Python checked as ingested ones are, by default (Graph.write, write_many,
the builder's write): names from the ontology, then the shapes; ``validate=False`` is
the bulk load's opt-out. The remote graph's side is in ``test_graph_contract.py``."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lifecyclegraph import Builder, Facts, InvalidFactsError, LifecycleGraph, Observation, Ref
from lifecyclegraph.graph.checks import WriteRefusedError
from lifecyclegraph.validation import Validator

_LG = "https://w3id.org/lifecyclegraph/ontology#"
MODEL = "aip://model/registry/churn"
ALICE = "aip://user/identity/alice"
TEAM = "aip://team/identity/t"
SEEN = Observation("registry", datetime(2026, 1, 1, tzinfo=UTC))
GOOD = {
    "rdf:type": Ref("lg:Model"),
    "lg:name": "Churn model",
    "lg:sourceId": "churn",
    "lg:description": "Predicts churn.",
    "lg:owner": Ref("aip://user/identity/alice"),
}


@pytest.fixture
def graph():
    graph = LifecycleGraph.in_memory()
    graph.write(
        Facts.of(
            "aip://user/identity/alice",
            {
                "rdf:type": Ref("lg:User"),
                "lg:name": "Alice",
                "lg:sourceId": "alice",
                "lg:email": "alice@example.com",
                "lg:active": True,
            },
        ),
        source="identity",
    )
    yield graph
    graph.close()


def test_unknown_class_and_property_are_refused_together_with_the_near_miss(graph):
    facts = Facts.of(
        "aip://dashboard/bi/d1", {"rdf:type": Ref("lg:Dashbord"), "lg:nmae": "Revenue"}
    )
    with pytest.raises(WriteRefusedError) as raised:
        graph.write(facts, source="bi")
    message = str(raised.value)
    assert "unknown class lg:Dashbord" in message and "unknown property lg:nmae" in message
    assert "did you mean lg:name?" in message
    assert len(raised.value.problems) == 2
    assert isinstance(raised.value, InvalidFactsError)
    assert graph.state("aip://dashboard/bi/d1") is None


def test_unknown_class_has_the_near_miss(graph):
    facts = Facts.of(MODEL, {**GOOD, "rdf:type": Ref("lg:Modle")})
    near = r"unknown class lg:Modle \(did you mean lg:Model\?"
    with pytest.raises(WriteRefusedError, match=near):
        Builder(graph).write(facts, source="registry")
    assert graph.state(MODEL) is None


def test_shape_violation_is_refused_with_the_report(graph):
    facts = Facts.of(MODEL, {k: v for k, v in GOOD.items() if k != "lg:sourceId"})
    with pytest.raises(WriteRefusedError, match="1 SHACL violation") as raised:
        Builder(graph).write(facts, source="registry")
    report = raised.value.report
    assert [r.path for r in report.violations] == [
        "https://w3id.org/lifecyclegraph/ontology#sourceId"
    ]
    assert "The source id is missing" in str(raised.value)
    assert graph.state(MODEL) is None


def test_a_link_is_checked_against_what_the_graph_knows(graph):
    feature = Facts.of(
        "aip://feature/featurestore/f",
        {
            "rdf:type": Ref("lg:Feature"),
            "lg:name": "f",
            "lg:sourceId": "f",
            "lg:valueType": "float",
            "lg:sourceDataset": Ref("aip://dataset/datasets/d"),
        },
    )
    with pytest.raises(WriteRefusedError, match="not a dataset"):
        graph.write(feature, source="featurestore")
    graph.reference("aip://dataset/datasets/d", _LG + "Dataset", source="datasets")
    assert graph.write(feature, source="featurestore").outcome.value == "created"


def test_parts_are_checked_too(graph):
    cell = Facts.of(
        "aip://ab-test-cell/experimentation/1:1",
        {"rdf:type": Ref("lg:ABTestCell"), "lg:cellNumbr": 1},
    )
    test = Facts.of(
        "aip://ab-test/experimentation/1",
        {"rdf:type": Ref("lg:ABTest"), "lg:name": "t", "lg:sourceId": "1"},
        parts=[cell],
    )
    with pytest.raises(WriteRefusedError, match="unknown property lg:cellNumbr"):
        graph.write(test, source="experimentation")


def test_warnings_are_recorded_on_the_result_and_the_write_goes_ahead(graph):
    facts = Facts.of(MODEL, {k: v for k, v in GOOD.items() if k != "lg:description"})
    expected = Validator.load().validate(facts).warnings
    assert expected  # the shapes warn about a missing description
    result = Builder(graph).write(facts, source="registry")
    assert result.outcome.value == "created"
    assert [w.message for w in result.warnings] == [w.message for w in expected]
    assert graph.entity(MODEL).name == "Churn model"


def test_conforming_write_has_no_warnings(graph):
    result = Builder(graph).write(Facts.of(MODEL, GOOD), source="registry")
    assert result.outcome.value == "created" and result.warnings == ()


def test_validate_false_is_the_explicit_opt_out_for_bulk_loads(graph):
    facts = Facts.of(MODEL, {"rdf:type": Ref("lg:Dashbord"), "lg:nmae": "x"})
    assert Builder(graph).write(facts, source="bulk", validate=False).outcome.value == "created"
    other = Facts.of("aip://model/registry/other", {"rdf:type": Ref("lg:Model")})
    assert graph.write(other, source="bulk", validate=False).outcome.value == "created"
    assert graph.entity("aip://model/registry/other").types == (_LG + "Model",)


def test_the_door_checks_by_default(graph):
    bare = Facts.of("aip://model/registry/other", {"rdf:type": Ref("lg:Model")})
    with pytest.raises(WriteRefusedError, match="SHACL violation"):
        graph.write(bare, source="registry")
    with pytest.raises(WriteRefusedError, match="unknown class lg:Modle"):
        graph.write_many([(Facts.of(MODEL, {**GOOD, "rdf:type": Ref("lg:Modle")}), SEEN)])
    assert graph.state("aip://model/registry/other") is None and graph.state(MODEL) is None


def test_a_link_into_the_same_batch_is_checked_with_that_entity_classes(graph):
    dataset = Facts.of(
        "aip://dataset/datasets/d",
        {"rdf:type": Ref("lg:Dataset"), "lg:name": "d", "lg:sourceId": "d"},
    )
    feature = Facts.of(
        "aip://feature/featurestore/f",
        {
            "rdf:type": Ref("lg:Feature"),
            "lg:name": "f",
            "lg:sourceId": "f",
            "lg:valueType": "float",
            "lg:sourceDataset": Ref("aip://dataset/datasets/d"),
        },
    )
    results = graph.write_many([(feature, SEEN), (dataset, SEEN)])
    assert [r.outcome.value for r in results] == ["created", "created"]
    # a link into the batch to an entity of another class is still refused
    team = Facts.of(
        "aip://team/identity/t", {"rdf:type": Ref("lg:Team"), "lg:name": "t", "lg:sourceId": "t"}
    )
    wrong = Facts.of(
        "aip://feature/featurestore/g",
        {
            "rdf:type": Ref("lg:Feature"),
            "lg:name": "g",
            "lg:sourceId": "g",
            "lg:valueType": "float",
            "lg:sourceDataset": Ref("aip://team/identity/t"),
        },
    )
    with pytest.raises(WriteRefusedError, match="not a dataset"):
        graph.write_many([(wrong, SEEN), (team, SEEN)])
    assert graph.state("aip://team/identity/t") is None


def test_write_many_reports_every_refusal_together_and_writes_nothing(graph):
    seen = SEEN
    good = Facts.of(MODEL, GOOD)
    typo = Facts.of("aip://model/registry/a", {**GOOD, "lg:nmae": "A"})
    bare = Facts.of("aip://model/registry/b", {"rdf:type": Ref("lg:Model"), "lg:name": "B"})
    with pytest.raises(WriteRefusedError) as raised:
        Builder(graph).write_many([(good, seen), (typo, seen), (bare, seen)])
    message = str(raised.value)
    assert "aip://model/registry/a: unknown property lg:nmae" in message
    assert "aip://model/registry/b: 1 SHACL violation" in message
    assert len(raised.value.report.violations) == 1
    assert graph.state(MODEL) is None
    results = Builder(graph).write_many([(good, seen)])
    assert [r.outcome.value for r in results] == ["created"] and results[0].warnings == ()
    loaded = Builder(graph).write_many([(typo, seen), (bare, seen)], validate=False)
    assert [r.outcome.value for r in loaded] == ["created", "created"]


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
_SEQ = itertools.count()


@st.composite
def _models(draw):
    """A model's facts: any mix of required, optional, repeated and misspelt fields."""
    pairs: dict[str, object] = {"rdf:type": Ref("lg:Model")}
    one = st.lists(_TEXT, min_size=1, max_size=1)  # what the shapes ask, mostly drawn
    for key, values in (
        ("lg:name", one | st.lists(_TEXT, max_size=2)),
        ("lg:sourceId", one | st.lists(_TEXT, max_size=2)),
        ("lg:description", st.lists(_TEXT, max_size=1)),
        ("lg:tag", st.lists(_TEXT.map(lambda t: f"k::{t}") | _TEXT, max_size=3)),
        ("lg:owner", st.lists(st.sampled_from([ALICE, ALICE, TEAM]), max_size=1)),
        ("lg:nmae", st.lists(_TEXT, max_size=1).filter(lambda v: not v) | one),
    ):
        drawn = draw(values)
        if drawn:
            pairs[key] = [Ref(v) if key == "lg:owner" else v for v in drawn]
    return Facts.of(f"aip://model/registry/h{next(_SEQ)}", pairs)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(facts=_models())
def test_what_the_validator_accepts_is_written_and_read_back_equal(graph, facts):
    if graph.state(TEAM) is None:  # a known team: an owner that is not a user
        graph.reference(TEAM, _LG + "Team", source="identity")
    typo = any(p.value.endswith("#nmae") for p, _ in facts.pairs)
    report = Validator.load().validate(facts, graph._asserted_types)
    event("accepted" if report.conforms and not typo else "refused")
    if report.conforms and not typo:
        result = graph.write(facts, source="registry")
        assert graph.snapshot_facts(result.snapshot) == facts.pairs
        assert [w.message for w in result.warnings] == [w.message for w in report.warnings]
    else:
        with pytest.raises(WriteRefusedError):
            graph.write(facts, source="registry")
        assert graph.state(facts.uri) is None
