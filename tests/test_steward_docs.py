"""docs/stewards.md: the CI workflow it offers is YAML, and each of its lifecyclegraph
commands runs, and passes, on a repository laid out as the page says."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml
from click.testing import CliRunner

from lifecyclegraph.cli import main

PAGE = Path(__file__).parent.parent / "docs" / "stewards.md"
EXAMPLE = """@prefix lg: <https://w3id.org/lifecyclegraph/ontology#> .
<aip://model/registry/good> a lg:Model ; lg:name "Good" ; lg:sourceId "good" ;
    lg:description "A model." ; lg:owner <aip://user/identity/alice> .
<aip://user/identity/alice> a lg:User ; lg:name "Alice" ; lg:sourceId "alice" ;
    lg:email "alice@example.com" ; lg:active true .
"""


def _workflow() -> dict:
    block = re.search(r"```yaml\n(.*?)```", PAGE.read_text(), re.S)
    assert block, "docs/stewards.md has no yaml block"
    return yaml.safe_load(block.group(1))


def _commands(workflow: dict) -> list[list[str]]:
    commands = []
    for step in workflow["jobs"]["check"]["steps"]:
        for line in step.get("run", "").splitlines():
            line = line.strip().removesuffix("|| true").partition(" >> ")[0].strip()
            if line.startswith("lifecyclegraph "):
                commands.append(shlex.split(line)[1:])
    return commands


def test_workflow_runs_lint_validate_and_impact_on_pull_requests():
    workflow = _workflow()
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key "on" as true
    names = [c[0] for c in _commands(workflow)]
    assert {"lint", "validate", "model", "impact"} <= set(names)
    steps = {s.get("name"): s for s in workflow["jobs"]["check"]["steps"]}
    assert "impact.md" in steps["Post the change impact on the pull request"]["run"]
    assert workflow["permissions"]["pull-requests"] == "write"


def test_every_command_of_the_workflow_passes_on_a_repository_made_by_model_init(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    made = runner.invoke(main, ["model", "init", "."])
    assert made.exit_code == 0, made.output
    Path("lifecyclegraph.toml").write_text(
        '[model]\nontology = "ontology"\nshapes = "shapes"\nrules = "rules"\n'
    )
    Path("examples").mkdir()
    Path("examples/models.ttl").write_text(EXAMPLE)
    # The base branch's model (the workflow checks it out with git worktree).
    assert runner.invoke(main, ["model", "init", "base-model"]).exit_code == 0
    commands = _commands(_workflow())
    assert len(commands) >= 6
    for args in commands:
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
    assert Path("lint.sarif").exists() and Path("validate.xml").exists()
    assert (
        "No change: the 2 entities validate and derive as before." in Path("impact.md").read_text()
    )


def test_impact_step_fails_the_job_when_the_change_makes_an_example_fail(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["model", "init", "."]).exit_code == 0
    assert runner.invoke(main, ["model", "init", "base-model"]).exit_code == 0
    Path("examples").mkdir()
    Path("examples/models.ttl").write_text(EXAMPLE.replace('lg:description "A model." ; ', ""))
    core = Path("shapes/core.ttl")  # the pull request: a description is now required
    text = core.read_text()
    start = text.index("lgsh:DescriptionPresent")
    end = text.index(" .\n", start)
    block = text[start:end].replace("sh:severity sh:Warning", "sh:severity sh:Violation")
    core.write_text(text[:start] + block + text[end:])
    (impact,) = [c for c in _commands(_workflow()) if c[0] == "impact"]
    result = runner.invoke(main, impact)
    assert result.exit_code == 1, result.output
    comment = Path("impact.md").read_text()
    assert "| entities that newly fail validation | 1 |" in comment
    assert "`aip://model/registry/good` | `lg:description` | violation" in comment
