"""Validate every entity of the current state: the report CI pipelines read."""

from __future__ import annotations

from pyoxigraph import NamedNode

from lifecyclegraph.facts import Facts, term_value
from lifecyclegraph.graph import LifecycleGraph
from lifecyclegraph.store import HydrationState
from lifecyclegraph.validation.report import ValidationReport
from lifecyclegraph.validation.validator import Validator
from lifecyclegraph.vocab import RDF_TYPE

__all__ = ["validate_graph"]


def validate_graph(graph: LifecycleGraph, validator: Validator | None = None) -> ValidationReport:
    """Check every hydrated entity's current facts against the shapes.

    Stubs are skipped (they hold only their class); each part is checked as the
    entity it is.
    """
    validator = validator or Validator.load()
    store = graph.store

    def types_of(iri: str) -> set[str]:
        return {term_value(t.object) for t in store.asserted(NamedNode(iri), RDF_TYPE)}

    report = ValidationReport()
    for uri in sorted(graph.entities(HydrationState.HYDRATED)):
        state = store.state(uri)
        if state is None:
            continue
        facts = Facts(uri, store.snapshot_pairs(state.current_snapshot))
        report.results.extend(validator.validate(facts, types_of).results)
    return report
