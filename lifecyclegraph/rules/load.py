"""Read the rule files and the ontology and run the stages: parse, analyse, compile.

>>> compiled = load_program()
>>> sorted(name for name in compiled.stored_predicates if name.endswith("associatedAbTest"))
['https://w3id.org/lifecyclegraph/ontology#associatedAbTest']
"""

from __future__ import annotations

from pathlib import Path

from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.core.ontology import data_dir, shipped_dir
from lifecyclegraph.rules.analysis import AnalysedProgram, analyse
from lifecyclegraph.rules.axioms import Axioms
from lifecyclegraph.rules.compiler import CompiledProgram, compile_program
from lifecyclegraph.rules.owl import program_from_ontology
from lifecyclegraph.rules.parser import parse_rules
from lifecyclegraph.rules.program import Program

__all__ = [
    "analyse_files",
    "analyse_program",
    "build_program",
    "load_program",
    "read_ontology",
    "read_rules",
    "rule_files",
]


def read_rules(directory: str | Path | None = None) -> Program:
    """Parse every ``*.rules`` file of a folder (default: the project's ``rules/``).

    Files of the project's folders are named ``rules/<file>`` in locations; others by
    the path given.

    Raises:
        RuleSyntaxError: at the first syntax error.
    """
    program = Program(())
    for path in rule_files(directory):
        program = program.merge(parse_rules(path.read_text(encoding="utf-8"), _name(path)))
    return program


def rule_files(directory: str | Path | None = None) -> list[Path]:
    """The ``*.rules`` files of a folder (default: the project's ``rules/``), by name.

    >>> [path.name for path in rule_files()]
    ['deprecation.rules', 'experiments.rules', 'lineage.rules', 'ownership.rules']
    """
    return sorted(Path(directory or data_dir("rules")).glob("*.rules"))


def read_ontology(directory: str | Path | None = None) -> Axioms:
    """Read the ontology folder (default: the project's ``ontology/``)."""
    return Axioms.load(directory)


def build_program(rules: Program, ontology: Axioms, *, axioms: bool = True) -> CompiledProgram:
    """Analyse and compile ``rules`` together with the ontology's axioms.

    Args:
        rules: the parsed rule files.
        ontology: the ontology (its vocabulary, and its axioms as rules).
        axioms: whether to add the ontology's OWL axioms as rules.

    Raises:
        RuleAnalysisError: listing every problem of the program.
    """
    return compile_program(analyse_program(rules, ontology, axioms=axioms))


def analyse_program(rules: Program, ontology: Axioms, *, axioms: bool = True) -> AnalysedProgram:
    """Analyse ``rules`` with the ontology's axioms (the first two stages after parsing)."""
    program = rules.merge(program_from_ontology(ontology)) if axioms else rules
    return analyse(program, ontology.vocabulary())


def analyse_files(
    rules_dir: str | Path | None = None, ontology_dir: str | Path | None = None
) -> AnalysedProgram:
    """Parse and analyse the rule files and the ontology (what ``rules check`` does).

    Raises:
        RuleSyntaxError: at the first syntax error.
        RuleAnalysisError: listing every problem of the program.
    """
    return analyse_program(read_rules(rules_dir), read_ontology(ontology_dir))


def load_program(
    rules_dir: str | Path | None = None, ontology_dir: str | Path | None = None
) -> CompiledProgram:
    """The compiled program of the rule files and the ontology (default: the project's).

    Raises:
        RuleSyntaxError: at the first syntax error.
        RuleAnalysisError: listing every problem of the program.
    """
    return compile_program(analyse_files(rules_dir, ontology_dir))


def _name(path: Path) -> str:
    """``rules/<file>`` for a file of the shipped folder, else the path as given."""
    try:
        default = shipped_dir("rules").resolve()
    except ConfigError:
        default = None
    if path.parent.resolve() == default:
        return f"rules/{path.name}"
    return str(path)
