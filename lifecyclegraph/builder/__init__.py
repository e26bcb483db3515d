"""The Python query builder: questions to the graph, in the ontology's names, as Python.

:class:`Builder` wraps any :class:`~lifecyclegraph.graph.door.Graph` (the embedded
:class:`~lifecyclegraph.LifecycleGraph` or a remote one): its attributes are the
ontology's entity types (``lg.Model``, ``lg.ABTest``; ``dir(lg)`` lists them, with
their ``rdfs:comment`` as docstring), each a :class:`Query` to refine. Queries compile
to SPARQL (``.sparql()`` shows it) and run through the graph's ``sparql()`` only, so a
remote graph answers them the same way. See ``docs/query-builder.md``.

* ``names.py``: types and fields from the ontology, with "did you mean";
* ``terms.py``: values bound in ``VALUES``, never pasted into the query text;
* ``query.py``: :class:`Query`, :class:`FieldRef`, compiled to SPARQL;
* ``selection.py``: nested selections, in Python or GraphQL form;
* ``fetch.py``: a selection answered in one query per level.

>>> from lifecyclegraph import Builder, LifecycleGraph
>>> from lifecyclegraph.example import load_example
>>> graph = LifecycleGraph.in_memory()
>>> _ = load_example(graph)
>>> lg = Builder(graph)
>>> lg.Model.count()
1
>>> [r.name for r in lg.Model.follow("owners").select("name")]
['Alice Liddell']
>>> lg.Modle
Traceback (most recent call last):
...
lifecyclegraph.builder.names.UnknownNameError: unknown type 'Modle'; did you mean Model?...
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lifecyclegraph.builder.fetch import Record
from lifecyclegraph.builder.names import Names, UnknownNameError
from lifecyclegraph.builder.query import Condition, FieldRef, Query, ids_query, type_query
from lifecyclegraph.builder.terms import iri_term
from lifecyclegraph.core.facts import Facts
from lifecyclegraph.store.values import Observation, WriteResult

if TYPE_CHECKING:
    from lifecyclegraph.graph.door import Graph
    from lifecyclegraph.rules.explain import Explanation

__all__ = ["Builder", "Condition", "FieldRef", "Query", "Record", "UnknownNameError"]


class Builder:
    """The query builder on a graph: ``lg = Builder(graph)``, then ``lg.Model...``.

    Args:
        graph: any implementation of the door (embedded or remote).
        names: the ontology's names (default: the model in use, ``Names.load()``).
    """

    def __init__(self, graph: Graph, names: Names | None = None) -> None:
        self.graph = graph
        self.names = names or Names.load()

    def __getattr__(self, name: str) -> Query:
        if name.startswith("_"):
            raise AttributeError(name)
        return type_query(self.graph, self.names, self.names.type(name))

    def __dir__(self) -> Iterable[str]:
        return sorted({*super().__dir__(), *self.names.types})

    def __repr__(self) -> str:
        return f"<Builder on {type(self.graph).__name__}: {', '.join(sorted(self.names.types))}>"

    def type(self, name: str) -> Query:
        """Every entity of type ``name`` (or a subclass): ``lg.type("Model")`` is ``lg.Model``."""
        return type_query(self.graph, self.names, self.names.type(name))

    def types(self) -> list[str]:
        """The entity types' names, sorted."""
        return sorted(self.names.types)

    def get(self, *uris: str) -> Query:
        """The entities ``uris`` (those the graph knows), to select fields of or follow."""
        return ids_query(self.graph, self.names, uris)

    def explain(self, subject: str, field: str, obj: Any) -> Explanation | None:
        """Why ``subject`` links to ``obj`` by ``field`` (``associatedAbTests``), or has the
        value ``obj``: the derivation down to the asserted facts with their source and
        time (``str()`` renders it); ``None`` when the fact does not hold now (derived
        facts are kept for the current state only, so there is no past explanation).

        Raises:
            UnknownNameError: an unknown field (with the near miss).
        """
        ref = self.names.field(field, None)
        target = iri_term(obj).value if ref.is_object else obj
        return self.graph.explain(iri_term(subject).value, ref.iri, target)

    def write(
        self,
        facts: Facts,
        *,
        source: str,
        observed_at: datetime | None = None,
        event_id: str | None = None,
        validate: bool = True,
    ) -> WriteResult:
        """Write an entity's facts, checked as ingested ones are unless
        ``validate=False``: :meth:`lifecyclegraph.graph.door.Graph.write`."""
        return self.graph.write(
            facts, source=source, observed_at=observed_at, event_id=event_id, validate=validate
        )

    def write_many(
        self, items: Iterable[tuple[Facts, Observation]], *, validate: bool = True
    ) -> list[WriteResult]:
        """Write many entities (``(facts, observation)`` pairs), each checked first
        unless ``validate=False`` (the bulk load's opt-out):
        :meth:`lifecyclegraph.graph.door.Graph.write_many`.

        Raises:
            WriteRefusedError: naming every refused entity and why; nothing is written.
        """
        return self.graph.write_many(items, validate=validate)
