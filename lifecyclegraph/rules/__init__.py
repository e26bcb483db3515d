"""The rule engine: Datalog rules and the ontology's OWL axioms, evaluated in memory and
kept up to date incrementally, with derived facts written to the store's inferred graph.

The stages, each a module, hand a program object on (as in Google's Mangle):

``parser`` (rule files -> :class:`~lifecyclegraph.rules.program.Program`) and ``owl``
(ontology axioms -> rules), then ``analysis`` (safety, unknown predicates, arities,
stratification -> :class:`~lifecyclegraph.rules.analysis.AnalysedProgram`), then
``compiler`` (join plans -> :class:`~lifecyclegraph.rules.compiler.CompiledProgram`) and
``codegen`` (plans -> Python functions), then ``evaluate`` (semi-naive and incremental
evaluation), ``explain`` (derivation trees) and ``engine`` (the store binding).
See ``docs/rules.md``.

>>> from lifecyclegraph.store import SnapshotStore
>>> engine = RuleEngine(SnapshotStore.in_memory(), load_program())
>>> engine.materialize().derived
0
"""

from lifecyclegraph.rules.axioms import Axioms, Vocabulary
from lifecyclegraph.rules.engine import MaterializeReport, RuleEngine
from lifecyclegraph.rules.evaluate import DEFAULT_LIMIT, Evaluator
from lifecyclegraph.rules.explain import Explanation, explain
from lifecyclegraph.rules.load import analyse_files, build_program, load_program
from lifecyclegraph.rules.parser import parse_pattern, parse_rules

__all__ = [
    "DEFAULT_LIMIT",
    "Axioms",
    "Evaluator",
    "Explanation",
    "MaterializeReport",
    "RuleEngine",
    "Vocabulary",
    "analyse_files",
    "build_program",
    "explain",
    "load_program",
    "parse_pattern",
    "parse_rules",
]
