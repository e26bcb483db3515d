"""The lint checks of the rules: syntax, and the rule engine's own analysis (unknown
predicates, arities, safety, stratification), plus undeclared terms used as values
(see :mod:`lifecyclegraph.validation.lint`)."""

from __future__ import annotations

import re
from pathlib import Path

from pyoxigraph import NamedNode

from lifecyclegraph.core.errors import RuleAnalysisError, RuleSyntaxError
from lifecyclegraph.rules.axioms import Axioms
from lifecyclegraph.rules.program import Atom, Builtin, Comparison, Const, Negation, Program
from lifecyclegraph.validation.findings import Finding, near_miss
from lifecyclegraph.validation.lint_terms import Terms, compact
from lifecyclegraph.validation.model import ModelDirs
from lifecyclegraph.validation.sources import display_path
from lifecyclegraph.validation.turtle import Position

__all__ = ["read_rules", "rule_findings"]


def read_rules(dirs: ModelDirs) -> tuple[Program | None, list[Finding]]:
    """Parse each rule file; the program, or ``None`` when a file does not parse."""
    from lifecyclegraph.rules.parser import parse_rules

    program = Program(())
    findings = []
    for path in dirs.files("rules"):
        name = display_path(path)
        try:
            program = program.merge(parse_rules(path.read_text(encoding="utf-8"), name))
        except RuleSyntaxError as error:
            problem = error.problem
            findings.append(
                Finding(
                    "rule-syntax",
                    "error",
                    problem.message,
                    key=(problem.filename,),
                    where=Position(problem.filename, problem.line, problem.column),
                )
            )
    return (None if findings else program), findings


_RULE_CHECKS = (
    ("unknown predicate", "rule-unknown-predicate"),
    ("negation through recursion", "rule-unstratifiable"),
    ("unsafe rule", "rule-unsafe"),
    ("argument", "rule-arity"),
)
_DID_YOU_MEAN = re.compile(r"did you mean (\S+)\?")


def rule_findings(program: Program, dirs: ModelDirs, terms: Terms) -> list[Finding]:
    from lifecyclegraph.rules.load import analyse_program

    folder = dirs.folder("ontology")
    # files named as in the other findings: relative to the working directory if inside
    root = Path.cwd() if folder.is_absolute() and folder.is_relative_to(Path.cwd()) else None
    findings = _rule_constants(program, terms)
    try:
        analyse_program(program, Axioms.load(dirs.folder("ontology"), root=root))
    except RuleAnalysisError as error:
        for problem in error.problems:
            check = next((c for text, c in _RULE_CHECKS if text in problem.message), "rule-problem")
            near = _DID_YOU_MEAN.search(problem.message)
            findings.append(
                Finding(
                    check,
                    "error",
                    problem.message,
                    key=(problem.filename, problem.message),
                    where=Position(problem.filename, problem.line, problem.column),
                    suggestion=near.group(1) if near else None,
                )
            )
    return findings


def _rule_constants(program: Program, terms: Terms) -> list[Finding]:
    """IRIs of the ontology's namespaces used as values in rules and not declared."""
    out = []
    for rule in program.rules:
        for item in (rule.head, *rule.body):
            atom = item.atom if isinstance(item, Negation) else item
            if isinstance(atom, Atom | Builtin):
                args = atom.args
            elif isinstance(atom, Comparison):
                args = (atom.left, atom.right)
            else:
                continue
            for arg in args:
                if not isinstance(arg, Const) or not isinstance(arg.term, NamedNode):
                    continue
                iri = arg.term.value
                if not terms.is_own(iri) or iri in terms.declared:
                    continue
                loc = atom.location
                where = Position(loc.filename, loc.line, loc.column)
                shown = compact(iri)
                suggestion = near_miss(shown, terms.names())
                message = f"unknown term {shown}: the ontology does not declare it"
                if suggestion:
                    message += f"; did you mean {suggestion}?"
                out.append(
                    Finding(
                        "undefined-term",
                        "error",
                        message,
                        key=(loc.filename, iri),
                        where=where,
                        subject=iri,
                        suggestion=suggestion,
                    )
                )
    return out
