"""``lifecyclegraph lint``: a seeded mistake of each kind is caught at its file:line:col,
with the near miss; the shipped model is clean; finding ids do not change between runs
or with edits elsewhere in a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from lifecyclegraph.cli import main
from lifecyclegraph.validation.formats import render
from lifecyclegraph.validation.lint import CHECKS, lint_model
from lifecyclegraph.validation.model import ModelDirs, init_model


@pytest.fixture
def model(tmp_path, monkeypatch) -> ModelDirs:
    """A copy of the shipped model in ``model/`` of a fresh working directory."""
    monkeypatch.chdir(tmp_path)
    init_model(Path("model"))
    return ModelDirs.resolve(
        ontology=Path("model/ontology"), shapes=Path("model/shapes"), rules=Path("model/rules")
    )


def _edit(path: str, old: str, new: str, count: int = 1) -> None:
    file = Path(path)
    text = file.read_text()
    assert old in text, f"{old!r} is not in {path}"
    file.write_text(text.replace(old, new, count))


def _append(path: str, text: str) -> None:
    with Path(path).open("a") as handle:
        handle.write(text)


def _line_of(path: str, needle: str | tuple[str, str]) -> tuple[int, int]:
    """Where ``needle`` is first written; for ``(text, bracket)``, where ``bracket`` is
    on the line above the first line holding ``text``."""
    lines = Path(path).read_text().splitlines()
    text = needle if isinstance(needle, str) else needle[0]
    for number, line in enumerate(lines, start=1):
        if text in line:
            if isinstance(needle, tuple):
                above = lines[number - 2]
                return number - 1, above.rindex(needle[1]) + 1
            return number, line.index(text) + 1
    raise AssertionError(f"{needle!r} is not in {path}")


ONTO, SHAPES = "model/ontology/models.ttl", "model/shapes/models.ttl"
LINEAGE = "model/rules/lineage.rules"


def _seed_visualises(_: None = None) -> None:
    _append(
        ONTO,
        "\nlg:visualizesModel a owl:ObjectProperty ;\n"
        '    rdfs:label "visualizes model"@en ;\n'
        '    rdfs:comment "The model a dashboard shows."@en .\n',
    )
    _edit(SHAPES, "sh:path lg:currentInstance ;", "sh:path lg:visualisesModel ;")


#: Each kind of mistake: how to seed it, the check that must find it, the file and the
#: text at which it must point, and the near miss it must suggest.
SEEDED = [
    (
        "undefined-term",
        lambda: _edit(ONTO, "rdfs:range lg:ModelInstance", "rdfs:range lg:ModelInstanse"),
        ONTO,
        "lg:ModelInstanse",
        "lg:ModelInstance",
    ),
    (
        "shape-unknown-property",
        _seed_visualises,
        SHAPES,
        "lg:visualisesModel",
        "lg:visualizesModel",
    ),
    (
        "shape-unknown-class",
        lambda: _edit(SHAPES, "sh:targetClass lg:Deployment ;", "sh:targetClass lg:Deploymnt ;"),
        SHAPES,
        "lg:Deploymnt",
        "lg:Deployment",
    ),
    (
        "shape-unknown-datatype",
        lambda: _edit(SHAPES, "sh:datatype xsd:string ;", "sh:datatype xsd:strng ;"),
        SHAPES,
        "xsd:strng",
        "xsd:string",
    ),
    (
        "unknown-shape",
        lambda: _edit(SHAPES, "        lgsh:NameRequired ,\n", "        lgsh:NameRequried ,\n"),
        SHAPES,
        "lgsh:NameRequried",
        "lgsh:NameRequired",
    ),
    (
        "class-without-shape",
        lambda: _append(
            ONTO,
            "\nlg:ModelCard a owl:Class ;\n    rdfs:subClassOf lg:Asset ;\n"
            '    lg:domain lg:ModelsDomain ;\n    lg:componentType "model-card" ;\n'
            '    rdfs:label "model card"@en ;\n    rdfs:comment "A model card."@en .\n',
        ),
        ONTO,
        "lg:ModelCard a owl:Class",
        None,
    ),
    (
        "missing-label",
        lambda: _append(ONTO, '\nlg:cardOf a owl:ObjectProperty ;\n    rdfs:comment "x"@en .\n'),
        ONTO,
        "lg:cardOf a owl:ObjectProperty",
        None,
    ),
    (
        "missing-comment",
        lambda: _append(ONTO, '\nlg:cardOf a owl:ObjectProperty ;\n    rdfs:label "x"@en .\n'),
        ONTO,
        "lg:cardOf a owl:ObjectProperty",
        None,
    ),
    (
        "missing-message",
        lambda: _edit(
            SHAPES,
            '        sh:message "The version is missing, given more than once, or not a '
            'string."@en\n',
            '        sh:name "version again"\n',
        ),
        SHAPES,
        ("sh:path lg:version ;", "["),  # the shape: its "[", on the line above the path
        None,
    ),
    (
        "owl-not-run",
        lambda: _append(ONTO, "\nlg:version a owl:FunctionalProperty .\n"),
        ONTO,
        "owl:FunctionalProperty",
        None,
    ),
    (
        "rule-unknown-predicate",
        lambda: _append(LINEAGE, "\nlg:upstream(?x, ?y) :- lg:dependson(?x, ?y).\n"),
        LINEAGE,
        "lg:dependson",
        "lg:dependsOn",
    ),
    (
        "rule-unstratifiable",
        lambda: _append(LINEAGE, "\nlg:Asset(?x) :- lg:Model(?x), not lg:Asset(?x).\n"),
        LINEAGE,
        "not lg:Asset(?x)",
        None,
    ),
    (
        "rule-unsafe",
        lambda: _append(LINEAGE, "\nlg:upstream(?x, ?z) :- lg:dependsOn(?x, ?y).\n"),
        LINEAGE,
        "lg:upstream(?x, ?z)",
        None,
    ),
    (
        "rule-arity",
        lambda: _append(LINEAGE, "\nlg:Asset(?x) :- lg:Model(?x, ?y).\n"),
        LINEAGE,
        "lg:Model(?x, ?y)",
        None,
    ),
    (
        "turtle-syntax",
        lambda: _edit(ONTO, "    rdfs:subClassOf lg:Asset ;\n", "    zz:x 1 ;\n"),
        ONTO,
        "zz:x",
        None,
    ),
    (
        "rule-syntax",
        lambda: _append(LINEAGE, "\nlg:Asset(?x) :- lg:Model(?x)\n"),
        LINEAGE,
        None,
        None,
    ),
]


def test_every_kind_of_mistake_is_seeded():
    kinds = {case[0] for case in SEEDED}
    assert kinds == set(CHECKS) - {"rule-problem", "not-checked"}


def test_shipped_model_lints_clean():
    report = lint_model(ModelDirs.current())
    assert report.findings == [], render(report, "text")


@pytest.mark.parametrize(
    ("check", "seed", "file", "needle", "suggestion"), SEEDED, ids=[case[0] for case in SEEDED]
)
def test_seeded_mistake_is_found_at_its_file_line_and_column(
    model, check, seed, file, needle, suggestion
):
    seed()
    report = lint_model(model)
    found = [f for f in report.findings if f.check == check]
    assert found, render(report, "text")
    finding = found[0]
    assert finding.path == file
    if needle is None:  # the rule parser's position: the end of the unfinished rule
        assert finding.where is not None and finding.where.line > 1
    else:
        line, column = _line_of(file, needle)
        assert (finding.where.line, finding.where.column) == (line, column), render(report, "text")
    assert finding.suggestion == suggestion
    if suggestion:
        assert f"did you mean {suggestion}?" in finding.message


def test_seeded_mistakes_report_matches_golden(model, golden):
    # all at once, but the syntax errors (they stop the checks of their folder) and the
    # missing comment (its seed and the missing label's add the same property)
    left_out = ("turtle-syntax", "rule-syntax", "missing-comment")
    for check, seed, *_ in SEEDED:
        if check not in left_out:
            seed()
    report = lint_model(model)
    golden("lint-seeded-mistakes.txt", render(report, "text"))
    assert {f.check for f in report.findings} == {c[0] for c in SEEDED if c[0] not in left_out}


def test_syntax_errors_report_matches_golden_and_skip_what_depends_on_them(model, golden):
    for check, seed, *_ in SEEDED:
        if check in ("turtle-syntax", "rule-syntax", "shape-unknown-class"):
            seed()
    report = lint_model(model)
    golden("lint-syntax-errors.txt", render(report, "text"))
    checks = [f.check for f in report.findings]
    # the ontology does not parse: the shapes' checks would only report its missing terms
    assert "shape-unknown-class" not in checks
    assert checks.count("not-checked") == 3


def test_finding_ids_are_identical_across_runs_and_edits_elsewhere(model):
    for _, seed, *_ in SEEDED[:6]:
        seed()
    first = [f.id for f in lint_model(model).findings]
    second = [f.id for f in lint_model(model).findings]
    assert first == second
    assert len(set(first)) == len(first)
    # a comment line at the top of every file moves every finding, and changes no id
    for path in Path("model").rglob("*.*"):
        if path.suffix in (".ttl", ".rules"):
            path.write_text("# moved\n" + path.read_text())
    moved = lint_model(model).findings
    assert sorted(f.id for f in moved) == sorted(first)
    assert all(f.where is None or f.where.line > 1 for f in moved)


def test_lint_command_exit_codes(model):
    runner = CliRunner()
    args = ["lint", "--ontology", "model/ontology", "--shapes", "model/shapes"]
    args += ["--rules", "model/rules"]
    clean = runner.invoke(main, args)
    assert clean.exit_code == 0, clean.output
    assert clean.output == "0 errors, 0 warnings, 0 notes\n"
    _append(ONTO, '\nlg:cardOf a owl:ObjectProperty ;\n    rdfs:label "x"@en .\n')
    warned = runner.invoke(main, args)
    assert warned.exit_code == 0 and "[missing-comment]" in warned.output
    assert runner.invoke(main, [*args, "--fail-on", "warning"]).exit_code == 1
    _edit(SHAPES, "sh:targetClass lg:Deployment ;", "sh:targetClass lg:Deploymnt ;")
    failed = runner.invoke(main, [*args, "--format", "github"])
    assert failed.exit_code == 1
    line, column = _line_of(SHAPES, "lg:Deploymnt")
    assert f"::error file={SHAPES},line={line},col={column},title=shape-unknown-class::" in (
        failed.output
    )
    missing = runner.invoke(main, ["lint", "--shapes", "nowhere"])
    assert missing.exit_code == 2
    assert "--shapes: nowhere is not a folder" in missing.output
