"""The rule language as a steward meets it: what parses, and what the errors say."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode

from lifecyclegraph.core.errors import RuleAnalysisError, RuleSyntaxError
from lifecyclegraph.core.vocab import LG, RDF_TYPE, XSD
from lifecyclegraph.rules.load import analyse_program, read_ontology, read_rules
from lifecyclegraph.rules.parser import parse_pattern, parse_rules
from lifecyclegraph.rules.program import Builtin, Comparison, Const, Negation, Var, Wildcard

CASES = Path(__file__).parent / "rules_cases"

SYNTAX_ERRORS = {
    "missing final dot": "lg:Asset(?x) :- lg:Model(?x)",
    "missing comma": "lg:Asset(?x) :- lg:Model(?x) lg:Feature(?x).",
    "bare question mark": "lg:Asset(?x) :- lg:Model(? x).",
    "unknown prefix": "lg:Asset(?x) :- lgg:Model(?x).",
    "undeclared prefix": "foo:Asset(?x) :- lg:Model(?x).",
    "unterminated string": 'lg:Asset(?x) :- lg:name(?x, "Ranking).',
    "missing operand": "lg:Asset(?x) :- lg:Model(?x), ?x < .",
    "bad prefix line": "@prefix lg <https://w3id.org/lifecyclegraph/ontology#> .",
    "second line": "lg:Asset(?x) :- lg:Model(?x).\nlg:Asset(?x) :- , lg:Feature(?x).",
    "bad escape": 'lg:Asset(?x) :- lg:name(?x, "a\\qb").',
    "comparison as head": "?x = ?y :- lg:Model(?x).",
}


def test_syntax_errors_name_file_line_and_column(golden):
    lines = []
    for name, text in SYNTAX_ERRORS.items():
        with pytest.raises(RuleSyntaxError) as caught:
            parse_rules(text, f"{name.replace(' ', '-')}.rules")
        lines.append(f"{name}: {caught.value}")
    golden("rule-syntax-errors.txt", "\n".join(lines) + "\n")


def test_syntax_error_is_a_python_syntax_error_with_position():
    with pytest.raises(SyntaxError) as caught:
        parse_rules("lg:Asset(?x) :- lg:Model(?x)\n  lg:Feature(?x).", "x.rules")
    error = caught.value
    assert (error.filename, error.lineno, error.offset) == ("x.rules", 2, 3)
    assert error.text == "  lg:Feature(?x)."


def test_analysis_reports_every_problem_at_once_with_locations(golden):
    program = read_rules(CASES)
    with pytest.raises(RuleAnalysisError) as caught:
        analyse_program(program, read_ontology())
    problems = caught.value.problems
    assert len(problems) >= 10
    text = "\n".join(str(p).replace(str(CASES), "rules_cases") for p in problems)
    golden("rule-analysis-errors.txt", text + "\n")


def test_unknown_predicate_suggests_the_near_miss():
    program = parse_rules("lg:Asset(?x) :- lg:producedby(?x, ?r).", "a.rules")
    with pytest.raises(RuleAnalysisError) as caught:
        analyse_program(program, read_ontology())
    [problem] = caught.value.problems
    assert str(problem) == (
        "a.rules:1:17: unknown predicate lg:producedby; did you mean lg:producedByRun?"
    )


def test_analysis_error_is_a_value_error_listing_problems():
    program = parse_rules("lg:Asset(?x) :- lg:Modle(?x).", "a.rules")
    expected = r"a.rules:1:17: unknown predicate lg:Modle; did you mean lg:Model\?"
    with pytest.raises(ValueError, match=expected):
        analyse_program(program, read_ontology())


def test_the_standard_rules_pass_analysis_and_restate_ontology_axioms_once():
    analysed = analyse_program(read_rules(), read_ontology())
    texts = [str(r) for r in analysed.rules]
    assert len(texts) == len(set(texts))
    chain = next(r for r in analysed.rules if r.head.predicate == LG.associatedAbTest.value)
    assert chain.origin == "rules"
    assert str(chain.location) == "rules/experiments.rules:12:1"
    assert [str(loc) for loc in chain.also_stated_at] == ["ontology/models.ttl:118:5"]


def test_every_standard_rule_has_a_comment_for_stewards():
    for rule in read_rules().rules:
        assert len(rule.comment) > 20, f"{rule.location} has no readable comment"


def test_parser_reads_constants_negation_comparisons_and_builtins():
    [rule] = parse_rules(
        "@prefix ex: <http://example.com/> .\n"
        "lg:UnusedAsset(?x) :- lg:Asset(?x), lg:rowCount(?x, ?n), ?n >= 1.5e3, "
        'lg:createdAt(?x, ?t), ?t < "2026-01-01T00:00:00Z"^^xsd:dateTime, '
        'not lg:owner(?x, _), not strstarts(?x, "aip://dataset/"), '
        'lg:tag(?x, "tier::1"@en), ex:flag(?x, true), ?x != <aip://dataset/datasets/keep>.',
        "c.rules",
    ).rules
    body = rule.body
    assert isinstance(body[2], Comparison) and body[2].right == Const(
        Literal("1.5e3", datatype=XSD.double)
    )
    assert body[4].right == Const(Literal("2026-01-01T00:00:00Z", datatype=XSD.dateTime))
    assert isinstance(body[5], Negation) and body[5].atom.args[1] == Wildcard()
    assert isinstance(body[6], Builtin) and body[6].negated
    assert body[7].args[1] == Const(Literal("tier::1", language="en"))
    assert body[8].predicate == "http://example.com/flag"
    assert body[8].args[1] == Const(Literal("true", datatype=XSD.boolean))
    assert body[9].right == Const(NamedNode("aip://dataset/datasets/keep"))


def test_prefix_line_overrides_a_predeclared_prefix():
    [rule] = parse_rules("@prefix lg: <http://example.com/> .\nlg:a(?x) :- lg:b(?x).").rules
    assert rule.head.predicate == "http://example.com/a"


def test_pattern_accepts_prefixed_names_iris_variables_and_a():
    _, predicate, obj = parse_pattern("<aip://model/registry/m> a lg:Model .")
    assert predicate == Const(RDF_TYPE)
    assert obj == Const(LG.Model)
    assert parse_pattern("?s lg:owner _")[0] == Var("s")
