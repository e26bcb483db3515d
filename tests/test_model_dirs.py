"""Where the model lives: ``[model]`` and ``--ontology/--shapes/--rules`` choose the
folders every reader of the model takes (the ingestion gate, the rule engine, the
GraphQL schema, search); ``model init`` copies the shipped ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lifecyclegraph.cli import main
from lifecyclegraph.core.config import Config
from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.core.ontology import Ontology, data_dir, load_turtle_dir, shipped_dir
from lifecyclegraph.validation.model import ModelDirs, init_model, use_model

LG = "https://w3id.org/lifecyclegraph/ontology#"
CARD_CLASS = """
lg:ModelCard a owl:Class ;
    rdfs:subClassOf lg:Asset ;
    lg:domain lg:ModelsDomain ;
    lg:componentType "model-card" ;
    rdfs:label "model card"@en ;
    rdfs:comment "A model card: what a model is for and how it was evaluated."@en .
"""
CARD_SHAPE = """
lgsh:ModelCardShape a sh:NodeShape ;
    sh:targetClass lg:ModelCard ;
    rdfs:label "model card shape"@en ;
    rdfs:comment "A model card has a name."@en ;
    sh:property lgsh:NameRequired .
"""
CARD_RULE = "\n# Every model card is an asset (said twice).\nlg:Asset(?x) :- lg:ModelCard(?x).\n"


@pytest.fixture
def steward(tmp_path, monkeypatch) -> Path:
    """A stewards' repository: the shipped model copied to model/, with a new type."""
    monkeypatch.chdir(tmp_path)
    init_model(Path("model"))
    with Path("model/ontology/models.ttl").open("a") as f:
        f.write(CARD_CLASS)
    with Path("model/shapes/models.ttl").open("a") as f:
        f.write(CARD_SHAPE)
    with Path("model/rules/ownership.rules").open("a") as f:
        f.write(CARD_RULE)
    return tmp_path


def _dirs() -> ModelDirs:
    return ModelDirs.resolve(
        ontology=Path("model/ontology"), shapes=Path("model/shapes"), rules=Path("model/rules")
    )


def test_model_init_copies_the_shipped_folders_and_refuses_to_overwrite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["model", "init", "repo"])
    assert result.exit_code == 0, result.output
    assert '[model]\nontology = "repo/ontology"\nshapes = "repo/shapes"\nrules = "repo/rules"' in (
        result.output
    )
    for kind, pattern in (("ontology", "*.ttl"), ("shapes", "*.ttl"), ("rules", "*.rules")):
        shipped = sorted(p.name for p in shipped_dir(kind).glob(pattern))
        assert sorted(p.name for p in Path("repo", kind).glob(pattern)) == shipped
        assert Path("repo", kind, "README.md").exists()
    again = CliRunner().invoke(main, ["model", "init", "repo"])
    assert again.exit_code == 2
    assert "repo/ontology already exists and is not empty: nothing was copied" in again.output


def test_use_model_makes_every_reader_take_the_chosen_folders_and_restores(steward):
    from lifecyclegraph.read.graphql.schema import load_schema
    from lifecyclegraph.rules.load import load_program
    from lifecyclegraph.search.documents import TypeCatalog
    from lifecyclegraph.validation.validator import Validator

    card = LG + "ModelCard"
    assert card not in Ontology.load().classes()
    with use_model(_dirs()):
        assert data_dir("shapes") == Path("model/shapes")
        assert card in Ontology.load().classes()
        validator = Validator.load()
        assert any(card in plan.targets for plan in validator.shapes.plans)
        program = load_program()
        assert any(
            rule.origin == "rules" and rule.body and getattr(rule.body[0], "predicate", "") == card
            for rule in program.analysed.rules
        )
        assert load_schema().get_type("ModelCard") is not None
        assert TypeCatalog(Ontology.load()).type_name("model card") == "lg:ModelCard"
    assert data_dir("shapes") == shipped_dir("shapes")
    assert card not in Ontology.load().classes()
    assert load_schema().get_type("ModelCard") is None
    assert not any(card in plan.targets for plan in Validator.load().shapes.plans)


def test_model_table_of_the_configuration_is_used_and_options_override_it(steward):
    Path("lifecyclegraph.toml").write_text(
        '[model]\nontology = "model/ontology"\nshapes = "model/shapes"\nrules = "model/rules"\n'
    )
    runner = CliRunner()
    shown = runner.invoke(main, ["model", "show"])
    assert shown.exit_code == 0, shown.output
    assert "shapes    model/shapes  (7 *.ttl files; lifecyclegraph.toml: model.shapes)" in (
        shown.output
    )
    Path("data.ttl").write_text(
        "@prefix lg: <https://w3id.org/lifecyclegraph/ontology#> .\n"
        "<aip://model-card/registry/c> a lg:ModelCard .\n"
    )
    # the steward's shapes know model cards: the name is missing
    configured = runner.invoke(main, ["validate", "data.ttl"])
    assert configured.exit_code == 1, configured.output
    assert "[lgsh:NameRequired]" in configured.output
    # the shipped shapes do not: the card is not checked (a warning only)
    shipped = runner.invoke(main, ["validate", "data.ttl", "--shapes", str(shipped_dir("shapes"))])
    assert shipped.exit_code == 0, shipped.output
    assert "no shape applies to aip://model-card/registry/c" in shipped.output
    # every command that reads the model takes it: rules check reads the steward's rules
    checked = runner.invoke(main, ["rules", "check"])
    assert checked.exit_code == 0, checked.output
    shipped_rules = runner.invoke(
        main, ["rules", "check", "--rules", str(shipped_dir("rules"))]
    ).output
    own = int(checked.output.split("(")[1].split()[0])
    assert own == int(shipped_rules.split("(")[1].split()[0]) + 1  # the model card rule
    assert runner.invoke(main, ["lint"]).output == "0 errors, 0 warnings, 0 notes\n"


def test_missing_model_folder_is_an_error_naming_where_it_was_set(steward):
    Path("lifecyclegraph.toml").write_text('[model]\nshapes = "model/shapez"\n')
    result = CliRunner().invoke(main, ["validate", "x.ttl"])
    assert result.exit_code == 2
    assert "lifecyclegraph.toml: model.shapes: model/shapez is not a folder" in result.output
    Path("lifecyclegraph.toml").unlink()
    option = CliRunner().invoke(main, ["rules", "check", "--rules", "nowhere"])
    assert option.exit_code == 2
    assert "--rules: nowhere is not a folder" in option.output


def test_unknown_key_of_the_model_table_is_refused():
    with pytest.raises(ConfigError, match=r"model\.shape: unknown key"):
        Config.from_text('[model]\nshape = "x"\n')


def test_rule_files_of_a_chosen_folder_are_named_by_their_path(steward):
    shutil.copy(Path("model/rules/ownership.rules"), Path("model/rules/extra.rules"))
    Path("model/rules/extra.rules").write_text("lg:Asset(?x) :- lg:modle(?x).\n")
    result = CliRunner().invoke(main, ["rules", "check", "--rules", "model/rules"])
    assert result.exit_code == 2
    assert "model/rules/extra.rules:1:17: unknown predicate lg:modle" in result.output


def test_turtle_error_of_a_model_folder_has_line_and_column_not_byte_reprs(tmp_path):
    (tmp_path / "bad.ttl").write_text(
        '@prefix lg: <https://w3id.org/lifecyclegraph/ontology#> .\nlg:a lg:b "é" ;\n  zz:c 1 .\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_turtle_dir(tmp_path)
    message = str(caught.value)
    assert message == (
        f"{tmp_path / 'bad.ttl'}:3:3: cannot parse Turtle: The prefix zz: has not been declared"
    )
    assert "b'" not in message
