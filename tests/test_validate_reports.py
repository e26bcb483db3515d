"""``lifecyclegraph validate``: of a store or of data files, against any shapes folder;
stable shape ids and finding ids; JUnit XML, SARIF 2.1.0, GitHub annotations, JSON and
text reports; exit codes 0, 1 and 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from lifecyclegraph import LifecycleGraph
from lifecyclegraph.cli import main
from lifecyclegraph.core.ontology import shipped_dir
from lifecyclegraph.example import load_example
from lifecyclegraph.graph.quality import validate_store
from lifecyclegraph.validation.findings import Finding, Report
from lifecyclegraph.validation.formats import render
from lifecyclegraph.validation.lint import lint_model
from lifecyclegraph.validation.model import ModelDirs
from lifecyclegraph.validation.run import validate_data
from lifecyclegraph.validation.sources import ModelSources, display_path
from lifecyclegraph.validation.turtle import Position

SARIF_SCHEMA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "conformance"
    / "sarif"
    / "sarif-schema-2.1.0.json"
)

PREFIX = "@prefix lg: <https://w3id.org/lifecyclegraph/ontology#> .\n"
GOOD = (
    '<aip://model/registry/good> a lg:Model ; lg:name "Good" ; lg:sourceId "good" ;\n'
    '    lg:description "A model." ; lg:owner <aip://user/identity/alice> .\n'
    '<aip://user/identity/alice> a lg:User ; lg:name "Alice" ; lg:sourceId "alice" ;\n'
    '    lg:email "alice@example.com" ; lg:active true .\n'
)
BAD = (
    '<aip://model/registry/m> a lg:Model ; lg:sourceId "m" .\n'
    '<aip://model/registry/i> a lg:ModelInstance ; lg:sourceId "i" ; lg:version "1" ;\n'
    '    lg:status "SHIPPED" ; lg:instanceOf <aip://model/registry/m> ;\n'
    "    lg:owner <aip://user/identity/alice> .\n"
    '<aip://model/registry/x> a lg:Modle ; lg:name "x" .\n'
)


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("data").mkdir()
    Path("data/good.ttl").write_text(PREFIX + GOOD)
    Path("data/bad.ttl").write_text(PREFIX + GOOD + BAD)
    return tmp_path


def _shape_place(needle: str) -> Position:
    """Where the shipped shapes/models.ttl opens the inline shape whose path is
    ``needle`` (the "[" on the line above it)."""
    path = shipped_dir("shapes") / "models.ttl"
    lines = path.read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if f"sh:path {needle} ;" in line)
    return Position(display_path(path), number, lines[number - 1].rindex("[") + 1)


def _by_check(report: Report) -> dict[str, list[Finding]]:
    found: dict[str, list[Finding]] = {}
    for f in report.findings:
        found.setdefault(f.check, []).append(f)
    return found


# -- what a result says --------------------------------------------------------------------


def test_data_file_result_names_inline_shape_by_holder_and_path_with_both_places(workdir):
    report = validate_data([Path("data/bad.ttl")])
    status = _by_check(report)["lgsh:ModelInstanceShape/lg:status"]
    assert len(status) == 1
    finding = status[0]
    assert finding.level == "error"
    assert str(finding.where) == "data/bad.ttl:7:1"  # where the instance is described
    assert finding.related == (("shape", _shape_place("lg:status")),)
    assert finding.properties["focusNode"] == "aip://model/registry/i"
    assert finding.properties["value"] == '"SHIPPED"'
    assert finding.properties["sourceShape"] == "lgsh:ModelInstanceShape/lg:status"


def test_every_inline_shape_of_the_shipped_shapes_has_a_unique_id_ending_in_its_path():
    index = ModelSources.load(ModelDirs.current()).shape_index
    inline = [s for s in index.shapes() if s.path is not None and ":" not in s.raw]
    assert len(inline) > 40
    assert all(s.id.split("#")[0].endswith("/" + s.path) for s in inline)
    assert len({s.id for s in index.shapes()}) == len(index.shapes())


def test_mistyped_class_in_data_is_reported_as_unchecked_with_the_near_miss(workdir):
    [unchecked] = _by_check(validate_data([Path("data/bad.ttl")]))["no-shape"]
    assert unchecked.suggestion == "lg:Model"
    assert str(unchecked.where) == "data/bad.ttl:10:1"


def test_blank_node_in_data_is_reported_where_it_is_written(workdir):
    Path("data/blank.ttl").write_text(
        PREFIX + '<aip://model/registry/y> a lg:Model ;\n lg:x [ lg:name "z" ] .\n'
    )
    found = _by_check(validate_data([Path("data/blank.ttl")]))["unstorable"]
    assert {str(f.where) for f in found} == {"data/blank.ttl:3:7"}


def test_n_triples_and_json_ld_files_are_validated_with_lines(workdir):
    Path("data/m.nt").write_text(
        "<aip://model/registry/n> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        "<https://w3id.org/lifecyclegraph/ontology#Model> .\n"
    )
    Path("data/m.jsonld").write_text(
        json.dumps(
            {
                "@context": {"lg": "https://w3id.org/lifecyclegraph/ontology#"},
                "@graph": [{"@id": "aip://model/registry/j", "@type": "lg:Model", "lg:name": "J"}],
            },
            indent=1,
        )
    )
    report = validate_data([Path("data/m.nt"), Path("data/m.jsonld")])
    places = {
        f.subject: str(f.where) for f in report.findings if f.check == "lgsh:SourceIdRequired"
    }
    assert places == {
        "aip://model/registry/n": "data/m.nt:1:1",
        "aip://model/registry/j": "data/m.jsonld:7:11",
    }


# -- stable ids --------------------------------------------------------------------------


def test_finding_ids_and_reports_are_identical_across_runs(workdir):
    first = validate_data([Path("data")])
    second = validate_data([Path("data")])
    assert [f.id for f in first.findings] == [f.id for f in second.findings]
    assert len({f.id for f in first.findings}) == len(first.findings)
    for fmt in ("json", "sarif", "junit", "github", "text"):
        assert render(first, fmt) == render(second, fmt), fmt


def test_store_finding_ids_are_identical_across_runs_and_with_data_files(workdir):
    with LifecycleGraph.open("store") as graph:
        load_example(graph)
    first, second = validate_store("store"), validate_store("store")
    assert first.findings and [f.id for f in first.findings] == [f.id for f in second.findings]
    # the same problem, found in the store or in a file, has the same id
    Path("data/ab.ttl").write_text(
        PREFIX + '<aip://ab-test/experimentation/12345> a lg:ABTest ; lg:name "t" ;\n'
        '  lg:sourceId "12345" ; lg:status "ACTIVE" ; lg:owner <aip://user/identity/alice> .\n'
        + GOOD
    )
    from_file = {f.id for f in validate_data([Path("data/ab.ttl")]).findings}
    description = [
        f
        for f in first.findings
        if f.subject == "aip://ab-test/experimentation/12345"
        and f.check == "lgsh:DescriptionPresent"
    ]
    assert description and description[0].id in from_file


@given(st.permutations(list(range(6))))
def test_report_order_and_ids_do_not_depend_on_the_order_findings_come_in(order):
    findings = [
        Finding("c", "error", "m", key=("same",), where=Position("f", 1 + i % 2, 1))
        for i in range(4)
    ] + [Finding("d", "warning", "n", key=(str(i),)) for i in range(2)]
    shuffled = Report("lint", [findings[i] for i in order])
    reference = Report("lint", findings)
    assert [(f.id, f.where) for f in shuffled.findings] == [
        (f.id, f.where) for f in reference.findings
    ]
    assert len({f.id for f in reference.findings}) == 6


# -- formats -------------------------------------------------------------------------------


@pytest.fixture
def reports(workdir) -> dict[str, Report]:
    return {
        "validate": validate_data([Path("data/bad.ttl")]),
        "lint": lint_model(ModelDirs.current()),
        "empty": validate_data([Path("data/good.ttl")]),
    }


@pytest.mark.skipif(not SARIF_SCHEMA.exists(), reason=f"no SARIF schema at {SARIF_SCHEMA}")
@pytest.mark.parametrize("which", ["validate", "lint", "empty"])
def test_sarif_validates_against_the_sarif_2_1_0_schema(reports, which):
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text())
    log = json.loads(render(reports[which], "sarif"))
    jsonschema.validate(log, schema)
    results = log["runs"][0]["results"]
    assert len(results) == len(reports[which].findings)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["partialFingerprints"]["lifecyclegraph/v1"]


def test_sarif_result_points_at_the_data_and_the_shape(reports):
    log = json.loads(render(reports["validate"], "sarif"))
    [status] = [r for r in log["runs"][0]["results"] if r["ruleId"].endswith("/lg:status")]
    assert status["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "data/bad.ttl"},
        "region": {"startLine": 7, "startColumn": 1},
    }
    shape = _shape_place("lg:status")
    assert status["relatedLocations"][0]["physicalLocation"]["region"] == {
        "startLine": shape.line,
        "startColumn": shape.column,
    }


@pytest.mark.parametrize(
    ("fail_on", "failing_levels"), [("error", {"error"}), ("warning", {"error", "warning"})]
)
def test_junit_xml_reads_back_with_a_junit_parser(reports, tmp_path, fail_on, failing_levels):
    from junitparser import Failure, JUnitXml

    report = reports["validate"]
    path = tmp_path / "report.xml"
    path.write_text(render(report, "junit", fail_on))
    xml = JUnitXml.fromfile(str(path))
    cases = [case for suite in xml for case in suite]
    assert len(cases) == len(report.findings)
    failed = [case for case in cases if any(isinstance(r, Failure) for r in case.result)]
    assert len(failed) == sum(1 for f in report.findings if f.level in failing_levels)
    assert xml.failures == len(failed)
    names = {case.name for case in cases}
    assert any(
        name.startswith("aip://model/registry/i lg:status (data/bad.ttl:7:1)") for name in names
    )


def test_junit_of_a_clean_run_is_one_passing_case(reports, tmp_path):
    from junitparser import JUnitXml

    path = tmp_path / "report.xml"
    path.write_text(render(reports["empty"], "junit"))
    cases = [case for suite in JUnitXml.fromfile(str(path)) for case in suite]
    assert len(cases) == 1 and cases[0].is_passed


def test_github_annotations_escape_and_point_at_lines(reports):
    lines = render(reports["validate"], "github").splitlines()
    assert len(lines) == len(reports["validate"].findings)
    assert (
        "::error file=data/bad.ttl,line=7,col=1,title=lgsh%3AModelInstanceShape/lg%3Astatus::"
        "aip://model/registry/i lg:status: The state is missing" in "\n".join(lines)
    )
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)


def test_json_report_keeps_the_shacl_result_fields(reports):
    document = json.loads(render(reports["validate"], "json"))
    assert document["conforms"] is False
    assert document["summary"] == {"violation": 2, "warning": 3, "info": 0}
    result = next(r for r in document["results"] if r["check"].endswith("/lg:status"))
    assert {k: result[k] for k in ("focusNode", "severity", "constraint", "value")} == {
        "focusNode": "aip://model/registry/i",
        "severity": "Violation",
        "constraint": "InConstraintComponent",
        "value": '"SHIPPED"',
    }


# -- the command: shapes folder, fail-on, exit codes ------------------------------------------


def _candidate_shapes(path: Path) -> Path:
    """The shipped shapes with a description required (a violation, not a warning)."""
    shutil.copytree(shipped_dir("shapes"), path)
    core = path / "core.ttl"
    text = core.read_text()
    start = text.index("lgsh:DescriptionPresent")
    end = text.index(" .\n", start)
    block = text[start:end].replace("sh:severity sh:Warning", "sh:severity sh:Violation")
    core.write_text(text[:start] + block + text[end:])
    return path


def test_candidate_shapes_folder_changes_the_outcome(workdir):
    Path("data/nodesc.ttl").write_text(
        PREFIX + GOOD.replace('    lg:description "A model." ; ', "    ")
    )
    runner = CliRunner()
    default = runner.invoke(main, ["validate", "data/nodesc.ttl"])
    assert default.exit_code == 0, default.output
    assert "warning: aip://model/registry/good lg:description" in default.output
    assert (
        runner.invoke(main, ["validate", "data/nodesc.ttl", "--fail-on", "warning"]).exit_code == 1
    )
    _candidate_shapes(Path("candidate"))
    stricter = runner.invoke(main, ["validate", "data/nodesc.ttl", "--shapes", "candidate"])
    assert stricter.exit_code == 1
    assert "violation: aip://model/registry/good lg:description" in stricter.output
    assert "(shape at candidate/core.ttl:" in stricter.output


def test_validate_store_against_a_candidate_shapes_folder(workdir):
    with LifecycleGraph.open("store") as graph:
        load_example(graph)
    runner = CliRunner()
    assert runner.invoke(main, ["--store", "store", "validate"]).exit_code == 0
    _candidate_shapes(Path("candidate"))
    result = runner.invoke(
        main, ["--store", "store", "validate", "--shapes", "candidate", "--format", "json"]
    )
    assert result.exit_code == 1
    failing = sorted(
        r["focusNode"] for r in json.loads(result.output)["results"] if r["level"] == "error"
    )
    assert failing == [
        "aip://ab-test/experimentation/12345",
        "aip://dataset/datasets/viewing-history",
        "aip://feature/featurestore/watch-time-7d",
        "aip://pipeline/orchestrator/weekly-ranking-trainer",
    ]


@pytest.mark.parametrize(
    ("args", "setup", "code", "says"),
    [
        (["data/good.ttl"], None, 0, "0 violations, 0 warnings, 0 infos"),
        (["data/bad.ttl"], None, 1, "2 violations, 3 warnings"),
        (["data/missing.ttl"], None, 2, "data/missing.ttl: no such file or folder"),
        (["data/x.csv"], "data/x.csv", 2, "cannot tell the syntax"),
        (["data/broken.ttl"], "data/broken.ttl", 2, "data/broken.ttl:2:6: "),
        (["data/good.ttl", "--shapes", "broken"], "broken/a.ttl", 2, "broken/a.ttl:2:6: "),
        (["data/good.ttl", "--shapes", "nowhere"], None, 2, "--shapes: nowhere is not a folder"),
        (
            ["--store", "nowhere", "validate"],
            None,
            2,
            "nowhere is not a lifecyclegraph store (no such directory)",
        ),
    ],
)
def test_validate_exit_codes(workdir, args, setup, code, says):
    if setup:
        Path(setup).parent.mkdir(exist_ok=True)
        Path(setup).write_text(PREFIX + "lg:a zz:b lg:c .\n")
    argv = args if args[0] == "--store" else ["validate", *args]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == code, result.output
    assert says in result.output


def test_report_to_a_file_in_each_format(workdir):
    for fmt in ("text", "json", "junit", "sarif", "github"):
        result = CliRunner().invoke(
            main, ["validate", "data/bad.ttl", "--format", fmt, "--output", f"report.{fmt}"]
        )
        assert result.exit_code == 1
        assert Path(f"report.{fmt}").read_text() == render(
            validate_data([Path("data/bad.ttl")]), fmt
        )
        assert result.output == "report." + fmt + ": 2 violation(s), 3 warning(s), 0 info(s)\n"


def test_shapes_that_parse_but_cannot_be_compiled_are_bad_input(workdir):
    shutil.copytree(shipped_dir("shapes"), "candidate")
    models = Path("candidate/models.ttl")
    models.write_text(models.read_text().replace("sh:maxCount 1 ;", 'sh:maxCount "one" ;', 1))
    result = CliRunner().invoke(main, ["validate", "data/good.ttl", "--shapes", "candidate"])
    assert result.exit_code == 2, result.output
    assert "error: the shape https://w3id.org/lifecyclegraph/shapes#ModelShape cannot be " in (
        result.output
    )


def test_text_line_of_a_finding_without_focus_node_has_no_empty_prefix(workdir):
    Path("data/blank.ttl").write_text(PREFIX + "<aip://model/registry/y> lg:x [ lg:y 1 ] .\n")
    text = render(validate_data([Path("data/blank.ttl")]), "text")
    assert "data/blank.ttl:2:31: violation: a blank node: the store keeps named entities" in text
