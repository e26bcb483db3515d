"""``lifecyclegraph impact``: what a candidate model changes in a store (or in data
files), the store left as it was; text, Markdown and JSON; exit codes 0, 1 and 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecyclegraph import LifecycleGraph
from lifecyclegraph.cli import main
from lifecyclegraph.example import example_writes, load_example
from lifecyclegraph.graph.impact import impact_of_graph, render_impact
from lifecyclegraph.validation.model import ModelDirs, init_model

#: The entities of the example that have no description (a warning today).
WITHOUT_DESCRIPTION = [
    "aip://ab-test/experimentation/12345",
    "aip://dataset/datasets/viewing-history",
    "aip://feature/featurestore/watch-time-7d",
    "aip://pipeline/orchestrator/weekly-ranking-trainer",
]
#: A rule of the stewards' own (the shipped rules and axioms derive nothing like it).
SOURCE_RULE = "lg:UnusedAsset(?d) :- lg:Dataset(?d), not lg:dependsOn(?d, _).\n"
UNUSED_RULE = "lg:UnusedAsset(?asset) :- lg:Asset(?asset), not consumed(?asset).\n"


def _stricter_description(model: Path) -> None:
    """Make lgsh:DescriptionPresent a violation in ``model``/shapes."""
    core = model / "shapes" / "core.ttl"
    text = core.read_text()
    start = text.index("lgsh:DescriptionPresent")
    end = text.index(" .\n", start)
    block = text[start:end].replace("sh:severity sh:Warning", "sh:severity sh:Violation")
    core.write_text(text[:start] + block + text[end:])


def _without_unused_rule(model: Path) -> None:
    rules = model / "rules" / "deprecation.rules"
    text = rules.read_text()
    assert UNUSED_RULE in text
    rules.write_text(text.replace(UNUSED_RULE, ""))


def _dirs(model: Path) -> ModelDirs:
    return ModelDirs(model / "ontology", model / "shapes", model / "rules")


def _everything(graph: LifecycleGraph) -> tuple[set, dict]:
    quads = {(q.subject, q.predicate, q.object, q.graph_name) for q in graph.quads()}
    states = {uri: graph.state(uri) for uri in graph.entities()}
    return quads, states


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    with LifecycleGraph.open("store", rules=True) as graph:
        load_example(graph)
    init_model(Path("candidate"))
    return tmp_path


def test_stricter_shape_reports_exactly_the_entities_that_newly_fail(workdir):
    _stricter_description(Path("candidate"))
    result = CliRunner().invoke(
        main, ["--store", "store", "impact", "--shapes", "candidate/shapes", "--format", "json"]
    )
    assert result.exit_code == 1, result.output
    found = json.loads(result.output)
    assert found["newlyFailing"] == WITHOUT_DESCRIPTION
    assert found["newlyPassing"] == []
    assert [(r["focusNode"], r["sourceShape"], r["level"]) for r in found["newResults"]] == [
        (uri, "lgsh:DescriptionPresent", "error") for uri in WITHOUT_DESCRIPTION
    ]
    assert [r["level"] for r in found["goneResults"]] == ["warning"] * 4
    assert found["derivedAppear"] == found["derivedDisappear"] == []


def test_removed_rule_reports_exactly_the_derived_facts_that_disappear(workdir):
    # The current model has a rule of the stewards' own; the candidate removes it.
    init_model(Path("base"))
    Path("base/rules/sources.rules").write_text(SOURCE_RULE)
    with LifecycleGraph.open("store") as graph:
        query = "SELECT ?d { ?d a lg:Dataset FILTER NOT EXISTS { ?d lg:dependsOn ?x } }"
        sources = sorted(r["d"].value for r in graph.sparql(query))
    assert sources, "the example has a dataset that depends on nothing"
    result = CliRunner().invoke(
        main,
        [
            "--store",
            "store",
            "impact",
            "--against",
            "base",
            "--rules",
            "candidate/rules",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["derivedDisappear"] == [[uri, "rdf:type", "lg:UnusedAsset"] for uri in sources]
    assert found["derivedAppear"] == found["newResults"] == found["goneResults"] == []


def test_impact_never_changes_the_store(workdir):
    _stricter_description(Path("candidate"))
    _without_unused_rule(Path("candidate"))
    with LifecycleGraph.open("store") as graph:
        before = _everything(graph)
    result = CliRunner().invoke(
        main,
        [
            "--store",
            "store",
            "impact",
            "--against",
            ".",
            "--rules",
            "candidate/rules",
            "--shapes",
            "candidate/shapes",
        ],
    )
    assert result.exit_code == 2, result.output  # "." holds no model: nothing ran
    result = CliRunner().invoke(
        main,
        [
            "--store",
            "store",
            "impact",
            "--rules",
            "candidate/rules",
            "--shapes",
            "candidate/shapes",
        ],
    )
    assert result.exit_code == 1, result.output
    with LifecycleGraph.open("store") as graph:
        assert _everything(graph) == before


def test_text_and_markdown_say_what_changes(workdir):
    _stricter_description(Path("candidate"))
    runner = CliRunner()
    text = runner.invoke(main, ["--store", "store", "impact", "--shapes", "candidate/shapes"])
    assert "newly fails: aip://dataset/datasets/viewing-history" in text.output
    assert (
        "+ violation: aip://dataset/datasets/viewing-history lg:description: "
        "Has no description. [lgsh:DescriptionPresent]" in text.output
    )
    assert text.output.endswith(
        "4 entities newly fail, 0 newly pass; 4 validation results new, 4 gone; "
        "0 derived facts appear, 0 disappear\n"
    )
    markdown = runner.invoke(
        main, ["--store", "store", "impact", "--shapes", "candidate/shapes", "--format", "markdown"]
    )
    assert markdown.output.startswith("### Model change impact\n")
    assert "| entities that newly fail validation | 4 |" in markdown.output
    assert (
        "| `aip://dataset/datasets/viewing-history` | `lg:description` | violation | "
        "`lgsh:DescriptionPresent` | Has no description. |" in markdown.output
    )


def test_against_a_base_checkout_and_data_files(workdir):
    """The CI way: the candidate in the repository, the base branch's model beside it,
    the examples as data."""
    init_model(Path("base"))
    _stricter_description(Path("candidate"))
    Path("examples").mkdir()
    Path("examples/m.ttl").write_text(
        "@prefix lg: <https://w3id.org/lifecyclegraph/ontology#> .\n"
        '<aip://model/registry/m> a lg:Model ; lg:name "M" ; lg:sourceId "m" .\n'
    )
    args = ["impact", "examples", "--against", "base", "--format", "markdown"]
    same = CliRunner().invoke(main, args)
    assert same.exit_code == 0, same.output
    assert "No change: the 1 entities validate and derive as before." in same.output
    changed = CliRunner().invoke(main, [*args, "--shapes", "candidate/shapes"])
    assert changed.exit_code == 1
    assert "`aip://model/registry/m` | `lg:description` | violation" in changed.output


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--fail-on", "warning"], 0, "0 entities newly fail"),
        (["--against", "nowhere"], 2, "--against: nowhere has no ontology/"),
        (["--shapes", "nowhere"], 2, "--shapes: nowhere is not a folder"),
        (["--format", "sarif"], 2, "Invalid value for '--format'"),
    ],
)
def test_impact_exit_codes(workdir, args, code, says):
    result = CliRunner().invoke(main, ["--store", "store", "impact", *args])
    assert result.exit_code == code, result.output
    assert says in result.output


def test_impact_of_a_missing_store_is_bad_input(workdir):
    result = CliRunner().invoke(main, ["--store", "nowhere", "impact"])
    assert result.exit_code == 2
    assert "nowhere: no store here" in result.output


_WRITES = example_writes()


@pytest.fixture(scope="module")
def candidate_model(tmp_path_factory) -> ModelDirs:
    """A candidate model: a stricter description, no UnusedAsset rule."""
    folder = tmp_path_factory.mktemp("candidate")
    init_model(folder)
    _stricter_description(folder)
    _without_unused_rule(folder)
    return _dirs(folder)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chosen=st.sets(st.integers(0, len(_WRITES) - 1), min_size=1))
def test_unchanged_model_has_no_impact_and_swapping_models_swaps_the_changes(
    candidate_model, chosen
):
    graph = LifecycleGraph.in_memory()
    # any subset of the example, dangling links included: unchecked on purpose
    graph.write_many((_WRITES[i] for i in sorted(chosen)), validate=False)
    current = ModelDirs.current()
    assert impact_of_graph(graph, current, current).empty
    candidate = candidate_model
    forth = impact_of_graph(graph, current, candidate)
    back = impact_of_graph(graph, candidate, current)
    assert [f.id for f in forth.new] == [f.id for f in back.gone]
    assert forth.newly_failing == back.newly_passing
    assert forth.appear == back.disappear and forth.disappear == back.appear
    assert render_impact(forth, "text").count("\n+ ") == len(forth.new) + len(forth.appear)


def test_impact_keeps_to_the_configured_rule_limit(workdir):
    Path("lifecyclegraph.toml").write_text("[rules]\nlimit = 5\n")
    result = CliRunner().invoke(main, ["--store", "store", "impact"])
    assert result.exit_code == 2
    assert "the rules would derive more than 5 facts" in result.output
