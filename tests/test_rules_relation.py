"""The rule engine's packed facts: packing, relations and indexes against plain sets of
tuples, and derivations over term integers at the top of the 32-bit range."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import NamedNode

from lifecyclegraph.core.errors import RuleLimitError
from lifecyclegraph.rules.analysis import analyse
from lifecyclegraph.rules.axioms import Vocabulary
from lifecyclegraph.rules.compiler import compile_program
from lifecyclegraph.rules.evaluate import Evaluator
from lifecyclegraph.rules.parser import parse_rules
from lifecyclegraph.rules.relation import (
    ID_LIMIT,
    SMALL,
    Relation,
    TermTable,
    packer,
    unpacker,
)

term_ids = st.integers(0, ID_LIMIT - 1)
# ids at both ends of the range, so that masks and shifts see their edge cases
edge_ids = st.one_of(st.integers(0, 300), st.integers(ID_LIMIT - 300, ID_LIMIT - 1))


@given(arity=st.integers(1, 4), data=st.data())
def test_pack_then_unpack_gives_the_fact_back_over_the_id_range(arity, data):
    fact = tuple(data.draw(st.lists(term_ids, min_size=arity, max_size=arity)))
    packed = packer(arity)(fact)
    assert unpacker(arity)(packed) == fact
    if arity in (1, 2):
        assert isinstance(packed, int) and 0 <= packed < 1 << 64


@given(a=term_ids, b=term_ids, c=term_ids, d=term_ids)
def test_pack_is_one_to_one_for_binary_facts(a, b, c, d):
    pack = packer(2)
    assert (pack((a, b)) == pack((c, d))) == ((a, b) == (c, d))


@pytest.mark.parametrize("arity", [1, 2, 3])
@pytest.mark.parametrize("bad", [ID_LIMIT, ID_LIMIT + 5, 1 << 40, -1])
def test_pack_refuses_an_id_outside_32_bits(arity, bad):
    fact = (1,) * (arity - 1) + (bad,)
    with pytest.raises(RuleLimitError, match="outside 0 to 4,294,967,295"):
        packer(arity)(fact)


def test_term_table_refuses_to_intern_past_the_id_limit():
    class Full(list):
        def __len__(self) -> int:
            return ID_LIMIT

    table = TermTable()
    known = table.id(NamedNode("http://e/known"))
    table.terms = Full(table.terms)
    assert table.id(NamedNode("http://e/known")) == known  # an interned term still works
    with pytest.raises(RuleLimitError, match="cannot intern more than 4,294,967,296 terms"):
        table.id(NamedNode("http://e/one-too-many"))
    assert table.lookup(NamedNode("http://e/one-too-many")) is None


def test_evaluator_load_refuses_a_fact_with_a_too_large_id():
    evaluator = Evaluator(_closure_program())
    with pytest.raises(RuleLimitError, match="outside 0 to"):
        evaluator.load({E + "dependsOn": {(1, ID_LIMIT)}})


# -- a relation against a reference set of tuples ---------------------------------------------


def _operations(arity: int) -> st.SearchStrategy:
    # few distinct values, so that keys gather many facts and buckets grow past SMALL
    # and shrink back (three in the first column, twelve in the others)
    first = st.sampled_from([0, 7, ID_LIMIT - 1])
    values = st.sampled_from([0, 1, 2, 7, ID_LIMIT - 2, ID_LIMIT - 1, *range(20, 26)])
    facts = st.tuples(first, *[values] * (arity - 1))
    return st.lists(
        st.tuples(st.sampled_from(["add", "remove"]), st.lists(facts, max_size=3 * SMALL)),
        max_size=12,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), arity=st.integers(1, 3))
def test_relation_answers_as_a_set_of_tuples_under_random_inserts_and_deletes(data, arity):
    relation = Relation("r", arity)
    every = [(c,) for c in range(arity)] + ([(0, arity - 1)] if arity > 1 else [])
    early = data.draw(st.lists(st.sampled_from(every), unique=True), label="built first")
    for columns in early:
        relation.lookup(columns)
    reference: set[tuple[int, ...]] = set()
    for operation, facts in data.draw(_operations(arity), label="operations"):
        if operation == "add":
            fresh = set(facts) - reference
            relation.add({relation.pack(f) for f in fresh})
            reference |= fresh
        else:
            gone = set(facts) & reference
            relation.remove({relation.pack(f) for f in gone})
            reference -= gone
        assert relation.rows == reference and len(relation) == len(reference)
        assert set(relation.rows) == reference
        for columns in every:  # built on the way (kept up to date) or now (built whole)
            expected: dict = {}
            for fact in reference:
                key = fact[columns[0]] if len(columns) == 1 else tuple(fact[c] for c in columns)
                expected.setdefault(key, set()).add(fact)
            assert relation.index(columns) == expected, columns
            for bucket in relation.lookup(columns).values():  # the compact forms
                if isinstance(bucket, tuple) and arity in (1, 2):
                    assert 2 <= len(bucket) <= SMALL
                elif isinstance(bucket, set):
                    assert len(bucket) > SMALL // 2
        for fact in list(reference)[:5]:
            assert fact in relation.rows
        assert (ID_LIMIT,) * arity not in relation.rows


# -- derivations over ids at the top of the range ----------------------------------------------

E = "https://w3id.org/lifecyclegraph/ontology#"


def _closure_program():
    names = {E + "dependsOn", E + "upstream", E + "owner", E + "memberOf", E + "owningTeam"}
    program = parse_rules("""
lg:upstream(?x, ?y) :- lg:dependsOn(?x, ?y).
lg:upstream(?x, ?z) :- lg:upstream(?x, ?y), lg:upstream(?y, ?z).
lg:owningTeam(?a, ?t) :- lg:owner(?a, ?u), lg:memberOf(?u, ?t), not lg:upstream(?a, ?t).
""")
    return compile_program(analyse(program, Vocabulary(frozenset(), frozenset(names))))


def _reference(edges, owner, member):
    closure = set(edges)
    while True:
        more = {(x, w) for x, y in closure for z, w in closure if y == z} - closure
        if not more:
            break
        closure |= more
    teams = {(a, t) for a, u in owner for v, t in member if u == v and (a, t) not in closure}
    return closure, teams


pairs = st.lists(st.tuples(edge_ids, edge_ids), max_size=10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edges=st.lists(st.tuples(st.sampled_from(range(6)), st.sampled_from(range(6))), max_size=10),
    owner=st.lists(st.tuples(st.sampled_from(range(6)), st.sampled_from(range(6))), max_size=6),
    member=st.lists(st.tuples(st.sampled_from(range(6)), st.sampled_from(range(6))), max_size=6),
    removed=st.integers(0, 9),
    ids=st.lists(edge_ids, min_size=6, max_size=6, unique=True),
)
def test_derivations_over_ids_at_both_ends_of_the_range_match_a_reference(
    edges, owner, member, removed, ids
):
    def mapped(pairs):
        return {(ids[a], ids[b]) for a, b in pairs}

    edges, owner, member = mapped(edges), mapped(owner), mapped(member)
    evaluator = Evaluator(_closure_program())
    evaluator.load({E + "dependsOn": edges, E + "owner": owner, E + "memberOf": member})
    evaluator.materialize()
    closure, teams = _reference(edges, owner, member)
    assert evaluator.facts(E + "upstream") == closure
    assert evaluator.facts(E + "owningTeam") == teams
    if edges:  # and incrementally, after one edge goes
        gone = sorted(edges)[removed % len(edges)]
        result = evaluator.update({}, {E + "dependsOn": {gone}})
        after, teams_after = _reference(edges - {gone}, owner, member)
        assert evaluator.facts(E + "upstream") == after
        assert evaluator.facts(E + "owningTeam") == teams_after
        change = result.changes.get(E + "upstream")
        assert (change.removed if change else set()) == closure - after
        assert result.base_removed == {E + "dependsOn": {gone}}
