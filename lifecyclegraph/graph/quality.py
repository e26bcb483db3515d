"""The quality of the graph: every current entity validated against the shapes, the
report CI pipelines read (``lifecyclegraph validate``).

>>> from lifecyclegraph import Facts, LifecycleGraph, Ref
>>> graph = LifecycleGraph.in_memory()
>>> _ = graph.write(Facts.of("aip://model/registry/m", {"rdf:type": Ref("lg:Model")}),
...                 source="bulk", validate=False)  # the checks would refuse it
>>> validate_graph(graph).conforms
False
"""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import NamedNode

from lifecyclegraph.core.facts import Facts, term_value
from lifecyclegraph.core.vocab import RDF_TYPE
from lifecyclegraph.graph.door import Graph
from lifecyclegraph.store.values import HydrationState
from lifecyclegraph.validation.findings import Report
from lifecyclegraph.validation.model import ModelDirs
from lifecyclegraph.validation.report import ValidationReport
from lifecyclegraph.validation.run import report_of
from lifecyclegraph.validation.sources import ModelSources
from lifecyclegraph.validation.validator import Validator

__all__ = ["validate_current", "validate_graph", "validate_store"]


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


def validate_store(path: str | Path, dirs: ModelDirs | None = None) -> Report:
    """Validate every hydrated entity of the store at ``path`` (its current state)
    against the model of ``dirs`` (default: the model in use), as findings with
    stable shape ids (``lifecyclegraph validate --store``).

    Stubs are skipped (they hold only their class); each part is checked as the entity
    it is. Nothing is written.

    Raises:
        TurtleSyntaxError: a file of the model does not parse.
        StoreError: ``path`` is not a store.
    """
    from lifecyclegraph.graph.embedded import LifecycleGraph

    with LifecycleGraph.open(path, create=False) as graph:
        return validate_current(graph, dirs)


def validate_current(graph: Graph, dirs: ModelDirs | None = None) -> Report:
    """:func:`validate_store` on any graph (a running service's too,
    ``lifecyclegraph --server URL validate``): the shapes are those of ``dirs``
    (default: the model in use), read here.

    Raises:
        TurtleSyntaxError: a file of the model does not parse.
    """
    sources = ModelSources.load(dirs or ModelDirs.current())
    return report_of(sources, validate_graph(graph, sources.validator).results)
