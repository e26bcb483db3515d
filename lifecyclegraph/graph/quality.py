"""The quality of the graph: every current entity validated against the shapes, the
report CI pipelines read (``lifecyclegraph validate``).

>>> from lifecyclegraph import Facts, LifecycleGraph, Ref
>>> graph = LifecycleGraph.in_memory()
>>> _ = graph.write(Facts.of("aip://model/registry/m", {"rdf:type": Ref("lg:Model")}),
...                 source="registry")
>>> validate_graph(graph).conforms
False
"""

from __future__ import annotations

from pyoxigraph import NamedNode

from lifecyclegraph.facts import Facts, term_value
from lifecyclegraph.graph.door import Graph
from lifecyclegraph.store.values import HydrationState
from lifecyclegraph.validation.report import ValidationReport
from lifecyclegraph.validation.validator import Validator
from lifecyclegraph.vocab import RDF_TYPE

__all__ = ["validate_graph"]


def validate_graph(graph: Graph, validator: Validator | None = None) -> ValidationReport:
    """Check every hydrated entity's current facts against the shapes.

    Stubs are skipped (they hold only their class); each part is checked as the
    entity it is.
    """
    validator = validator or Validator.load()

    def types_of(iri: str) -> set[str]:
        asserted = graph.quads(NamedNode(iri), RDF_TYPE, inferred=False)
        return {term_value(q.object) for q in asserted}

    report = ValidationReport()
    for uri in sorted(graph.entities(HydrationState.HYDRATED)):
        state = graph.state(uri)
        if state is None:
            continue
        facts = Facts(uri, graph.snapshot_facts(state.current_snapshot))
        report.results.extend(validator.validate(facts, types_of).results)
    return report
