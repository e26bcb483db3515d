"""Why one entity is upstream (or downstream) of another several steps away: a
shortest chain of one-step lineage facts, each explained by its rule.

The rules derive one-step ``lg:upstream``/``lg:downstream`` edges; the full lineage is
their property path ``lg:upstream+`` (issue 17, ``docs/benchmarks.md``, "The shape of
derived lineage"). A pair several steps apart is therefore no stored fact, and
:meth:`Graph.explain <lifecyclegraph.graph.door.Graph.explain>` asks
:func:`explain_path` for it. This module needs only a graph's ``quads`` and
``explain_all`` (:class:`Facts`), so the door can call it without an import circle.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, Protocol

from pyoxigraph import NamedNode, Quad

from lifecyclegraph.core.ontology import Ontology
from lifecyclegraph.core.vocab import expand
from lifecyclegraph.rules.explain import Explanation, RuleRef
from lifecyclegraph.rules.program import show_predicate

__all__ = ["Facts", "explain_path"]


class Facts(Protocol):
    """What :func:`explain_path` reads of a graph (a :class:`~lifecyclegraph.graph.door.Graph`
    has both)."""

    def quads(
        self, subject: NamedNode | None = None, predicate: NamedNode | None = None
    ) -> Iterator[Quad]: ...

    def explain_all(
        self, subject: Any = None, predicate: Any = None, obj: Any = None, limit: int | None = None
    ) -> list[Explanation]: ...


def _iri(term: Any) -> str | None:
    """An IRI given as a pyoxigraph node, ``prefix:local`` or a full IRI; ``None`` for
    anything else (a literal, a blank node, nothing)."""
    if isinstance(term, NamedNode):
        return term.value
    if isinstance(term, str) and term:
        text = term[1:-1] if term.startswith("<") and term.endswith(">") else term
        try:
            return NamedNode(expand(text)).value
        except ValueError:  # a literal's text, not an IRI
            return None
    return None


def _shortest_path(
    graph: Facts, start: str, goal: str, predicate: NamedNode, limit: int
) -> list[str] | None:
    """The nodes of a shortest chain of ``predicate`` facts from ``start`` to ``goal``
    (both included; ``start == goal`` asks for a cycle), breadth first over at most
    ``limit`` nodes; ``None`` if there is none."""
    parents: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier and len(parents) <= limit:
        following = []
        for current in frontier:
            for quad in graph.quads(NamedNode(current), predicate):
                other = quad.object
                if not isinstance(other, NamedNode):
                    continue
                if other.value == goal:
                    chain: list[str] = [goal, current]
                    while (before := parents[chain[-1]]) is not None:
                        chain.append(before)
                    return chain[::-1]
                if other.value not in parents:
                    parents[other.value] = current
                    following.append(other.value)
        frontier = following
    return None


def explain_path(
    graph: Facts,
    subject: Any,
    predicate: Any,
    obj: Any,
    *,
    limit: int = 10_000,
    ontology: Ontology | None = None,
) -> Explanation | None:
    """Why ``obj`` is upstream (or downstream) of ``subject`` in more than one step: a
    shortest chain of one-step facts, each explained by the rule that derives it.

    ``predicate`` must be a property the ontology marks ``lg:readTransitively``
    (``lg:upstream``, ``lg:downstream``): the store holds its one-step facts and the
    full lineage is their property path (``<s> lg:upstream+ <o>``). The answer's root
    is the statement asked, derived "by" the path (a :class:`~lifecyclegraph.rules.
    explain.RuleRef` whose origin is ``path``), and its premises are the one-step facts
    in order, each with its own derivation tree down to the asserted facts.

    Args:
        graph: the graph (with its rules on: the one-step facts are derived).
        subject, predicate, obj: the statement, as pyoxigraph nodes, ``prefix:local``
            names or IRIs.
        limit: the most entities the search for a chain visits.
        ontology: where the read-transitively properties come from (default: the
            project's).

    Returns:
        The explanation, or ``None`` when the predicate is not read transitively, a
        term is not an IRI, or no chain of at least two facts leads from ``subject``
        to ``obj``.

    >>> from lifecyclegraph import Facts, LifecycleGraph, Ref
    >>> graph = LifecycleGraph.in_memory(rules=True)
    >>> for uri, link, to in [("aip://feature/featurestore/f", "lg:sourceDataset", "d"),
    ...                       ("aip://dataset/datasets/d", "lg:upstreamDataset", "raw")]:
    ...     _ = graph.write(Facts.of(uri, {link: Ref(f"aip://dataset/datasets/{to}")}),
    ...                     source="s", validate=False)
    >>> tree = explain_path(graph, "aip://feature/featurestore/f", "lg:upstream",
    ...                     "aip://dataset/datasets/raw")
    >>> print(tree)  # doctest: +ELLIPSIS
    <aip://feature/featurestore/f> lg:upstream <aip://dataset/datasets/raw>
      by lg:upstream+ A chain of 2 one-step lg:upstream facts.
      ├── <aip://feature/featurestore/f> lg:upstream <aip://dataset/datasets/d>
      │     by rules/lineage.rules:14:1 Whatever an entity depends on directly is upstream of it...
      │     └── <aip://feature/featurestore/f> lg:dependsOn <aip://dataset/datasets/d>
      ...
      └── <aip://dataset/datasets/d> lg:upstream <aip://dataset/datasets/raw>
            by rules/lineage.rules:14:1 Whatever an entity depends on directly is upstream of it...
            └── <aip://dataset/datasets/d> lg:dependsOn <aip://dataset/datasets/raw>
      ...
    """
    start, through, goal = _iri(subject), _iri(predicate), _iri(obj)
    if start is None or through is None or goal is None:
        return None
    if through not in (ontology or Ontology.load()).read_transitively():
        return None
    chain = _shortest_path(graph, start, goal, NamedNode(through), limit)
    if chain is None or len(chain) < 3:
        return None
    steps = []
    for before, after in itertools.pairwise(chain):
        found = graph.explain_all(NamedNode(before), NamedNode(through), NamedNode(after), limit=1)
        if not found:  # the graph changed under the search
            return None
        steps.append(found[0])
    shown = show_predicate(through)
    rule = RuleRef(
        location=f"{shown}+",
        comment=(
            f"A chain of {len(steps)} one-step {shown} facts. {shown} is read transitively: "
            f"the store holds one step, the full lineage is the property path {shown}+."
        ),
        origin="path",
        text=f"<{start}> {shown}+ <{goal}>",
    )
    return Explanation(through, (NamedNode(start), NamedNode(goal)), rule, tuple(steps))
