"""Change impact: what a candidate model (ontology, shapes, rules) would change in a
graph, before it is merged (``lifecyclegraph impact``).

Two comparisons, the current model against the candidate one, on the same facts:

* **validation**: every hydrated entity validated against both models' shapes; a
  result only the candidate gives is *new*, one only the current model gives is
  *gone* (results are compared by their stable id: shape id, constraint, focus node,
  path, value) and their level. An entity *newly fails* when the candidate gives it a violation and
  the current model none; it *newly passes* the other way round.
* **derived facts**: each model's rules (and its ontology's axioms) run on an
  in-memory copy of the graph's current asserted facts; a derived fact only the
  candidate derives *appears*, one only the current model derives *disappears*.

The graph is only read (through the door), never written.

>>> from lifecyclegraph import LifecycleGraph
>>> from lifecyclegraph.example import load_example
>>> from lifecyclegraph.validation.model import ModelDirs
>>> graph = LifecycleGraph.in_memory()
>>> _ = load_example(graph)
>>> same = impact_of_graph(graph, ModelDirs.current(), ModelDirs.current())
>>> same.empty, same.entities
(True, 13)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode

from lifecyclegraph.core.facts import Facts, term_value
from lifecyclegraph.core.vocab import RDF_TYPE, compact
from lifecyclegraph.graph.door import Graph
from lifecyclegraph.store.values import HydrationState, Observation
from lifecyclegraph.validation.findings import Finding, numbered
from lifecyclegraph.validation.model import ModelDirs
from lifecyclegraph.validation.run import LEVEL_NAMES, validate_entities
from lifecyclegraph.validation.sources import ModelSources, display_path

__all__ = [
    "IMPACT_FORMATS",
    "Impact",
    "asserted_entities",
    "derived_facts",
    "impact_of",
    "impact_of_data",
    "impact_of_graph",
    "render_impact",
]

#: The formats ``lifecyclegraph impact`` writes.
IMPACT_FORMATS = ("text", "markdown", "json")
#: A derived fact, its terms as N-Triples-like text (IRIs compacted).
Triple = tuple[str, str, str]
#: The most rows a Markdown table shows (a pull request comment has a size limit).
MARKDOWN_ROWS = 50


@dataclass
class Impact:
    """What the candidate model changes, compared with the current one.

    Attributes:
        current: the current model's folders.
        candidate: the candidate model's folders.
        entities: how many entities were validated.
        new: the validation results only the candidate model gives.
        gone: the validation results only the current model gives.
        newly_failing: the entities with a violation under the candidate model only.
        newly_passing: the entities with a violation under the current model only.
        appear: the derived facts only the candidate model derives, sorted.
        disappear: the derived facts only the current model derives, sorted.
    """

    current: ModelDirs
    candidate: ModelDirs
    entities: int = 0
    new: list[Finding] = field(default_factory=list)
    gone: list[Finding] = field(default_factory=list)
    newly_failing: list[str] = field(default_factory=list)
    newly_passing: list[str] = field(default_factory=list)
    appear: list[Triple] = field(default_factory=list)
    disappear: list[Triple] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether the candidate changes nothing."""
        return not (self.new or self.gone or self.appear or self.disappear)

    def fails(self, at: str) -> bool:
        """Whether a new result is at level ``at`` (``error`` or ``warning``) or worse."""
        worst = ("error",) if at == "error" else ("error", "warning")
        return any(f.level in worst for f in self.new)

    def as_dict(self, fail_on: str = "error") -> dict[str, Any]:
        """The impact as JSON-ready data (``--format json``)."""
        return {
            "current": _folders(self.current),
            "candidate": _folders(self.candidate),
            "entities": self.entities,
            "passes": not self.fails(fail_on),
            "summary": self.summary(),
            "newlyFailing": self.newly_failing,
            "newlyPassing": self.newly_passing,
            "newResults": [f.as_dict() for f in self.new],
            "goneResults": [f.as_dict() for f in self.gone],
            "derivedAppear": [list(t) for t in self.appear],
            "derivedDisappear": [list(t) for t in self.disappear],
        }

    def summary(self) -> dict[str, int]:
        """How many of each change."""
        return {
            "newlyFailing": len(self.newly_failing),
            "newlyPassing": len(self.newly_passing),
            "newResults": len(self.new),
            "goneResults": len(self.gone),
            "derivedAppear": len(self.appear),
            "derivedDisappear": len(self.disappear),
        }


def _folders(dirs: ModelDirs) -> dict[str, str]:
    return {kind: display_path(dirs.folder(kind)) for kind in ("ontology", "shapes", "rules")}


# -- the comparisons ----------------------------------------------------------------------


def impact_of(
    entities: Sequence[Facts],
    asserted: Sequence[Facts],
    current: ModelDirs,
    candidate: ModelDirs,
    *,
    types_of: Callable[[str], Iterable[str]] | None = None,
    stubs: Sequence[tuple[str, str]] = (),
    rule_limit: int | None = None,
) -> Impact:
    """Compare the current and the candidate model on the same facts.

    Args:
        entities: the entities to validate (the hydrated ones).
        asserted: every entity's asserted facts, to derive from.
        current: the model in use.
        candidate: the model proposed.
        types_of: the classes of an IRI the entities refer to (for ``sh:class``).
        stubs: ``(uri, class IRI)`` of entities known only from a reference.
        rule_limit: the most facts a rule run may hold.

    Raises:
        TurtleSyntaxError: a Turtle file of either model does not parse.
        RuleSyntaxError, RuleAnalysisError: a rule file of either model is bad.
        RuleLimitError: the rules would derive more than ``rule_limit`` facts.
    """
    before_sources, after_sources = ModelSources.load(current), ModelSources.load(candidate)
    before_sources.check_parsed()
    after_sources.check_parsed()
    # The same result at another level (a warning made a violation) is a change too.
    before = {(f.id, f.level): f for f in validate_entities(entities, before_sources, types_of)}
    after = {(f.id, f.level): f for f in validate_entities(entities, after_sources, types_of)}
    failing_before = {f.subject for f in before.values() if f.level == "error"}
    failing_after = {f.subject for f in after.values() if f.level == "error"}
    derived_before = derived_facts(asserted, current, stubs=stubs, rule_limit=rule_limit)
    derived_after = derived_facts(asserted, candidate, stubs=stubs, rule_limit=rule_limit)
    return Impact(
        current,
        candidate,
        entities=len(entities),
        new=numbered([f for key, f in after.items() if key not in before]),
        gone=numbered([f for key, f in before.items() if key not in after]),
        newly_failing=sorted(s for s in failing_after - failing_before if s),
        newly_passing=sorted(s for s in failing_before - failing_after if s),
        appear=sorted(derived_after - derived_before),
        disappear=sorted(derived_before - derived_after),
    )


def impact_of_graph(
    graph: Graph, current: ModelDirs, candidate: ModelDirs, *, rule_limit: int | None = None
) -> Impact:
    """:func:`impact_of` on the current state of ``graph`` (read, never written)."""
    entities, asserted, stubs = asserted_entities(graph)

    def types_of(iri: str) -> set[str]:
        return {term_value(q.object) for q in graph.quads(NamedNode(iri), RDF_TYPE, inferred=False)}

    return impact_of(
        entities,
        asserted,
        current,
        candidate,
        types_of=types_of,
        stubs=stubs,
        rule_limit=rule_limit,
    )


def impact_of_data(
    paths: Sequence[Path],
    current: ModelDirs,
    candidate: ModelDirs,
    *,
    rule_limit: int | None = None,
) -> Impact:
    """:func:`impact_of` on data files (Turtle, N-Triples, JSON-LD: a folder is every
    such file under it), as ``validate FILES`` reads them.

    Raises:
        ConfigError: a path is missing or of an unknown kind, or cannot be read.
        TurtleSyntaxError: a data file does not parse.
    """
    from lifecyclegraph.validation.datafiles import collect, data_files, read_data_file

    data = collect(read_data_file(path) for path in data_files(paths))
    return impact_of(
        data.entities,
        data.entities,
        current,
        candidate,
        types_of=data.types_of,
        rule_limit=rule_limit,
    )


def asserted_entities(graph: Graph) -> tuple[list[Facts], list[Facts], list[tuple[str, str]]]:
    """The current asserted facts of ``graph``: the hydrated entities (each part as
    the entity it is), every entity with facts (stubs included), and the stubs with
    their class."""
    hydrated: list[Facts] = []
    every: list[Facts] = []
    stubs: list[tuple[str, str]] = []
    for uri in sorted(graph.entities()):
        state = graph.state(uri)
        if state is None or state.state is HydrationState.DELETED:
            continue
        facts = Facts(uri, graph.snapshot_facts(state.current_snapshot))
        if state.state is HydrationState.REFERENCED:
            stubs.extend((uri, o.value) for p, o in facts.pairs if p == RDF_TYPE)
            continue
        hydrated.append(facts)
        every.append(facts)
    return hydrated, every, stubs


def derived_facts(
    asserted: Iterable[Facts],
    dirs: ModelDirs,
    *,
    stubs: Iterable[tuple[str, str]] = (),
    rule_limit: int | None = None,
) -> set[Triple]:
    """The facts the rules and the ontology's axioms of ``dirs`` derive from
    ``asserted`` (and the ``stubs``), run on a graph in memory.

    Raises:
        RuleSyntaxError, RuleAnalysisError: a rule file is bad.
        RuleLimitError: the rules would derive more than ``rule_limit`` facts.
    """
    from lifecyclegraph.graph.embedded import LifecycleGraph
    from lifecyclegraph.rules.load import build_program, read_ontology, read_rules

    program = build_program(read_rules(dirs.rules), read_ontology(dirs.ontology))
    seen = Observation("impact", datetime.now(UTC))
    with LifecycleGraph.in_memory(rule_limit=rule_limit) as copy:
        # facts already in the graph, and ``dirs`` may be a proposed model the checks
        # (which use the model in use) do not know: the opt-out
        copy.write_many(((facts, seen) for facts in asserted), validate=False)
        copy.reference_many((uri, cls, seen) for uri, cls in stubs)
        copy.materialize(program=program)
        return {_triple(q.subject, q.predicate, q.object) for q in copy.quads(inferred=True)}


def _triple(*terms: Any) -> Triple:
    return tuple(_term(t) for t in terms)  # type: ignore[return-value]


def _term(term: Any) -> str:
    if isinstance(term, Literal):
        return str(term)
    return compact(term_value(term))


# -- the reports --------------------------------------------------------------------------


def render_impact(impact: Impact, fmt: str, fail_on: str = "error") -> str:
    """The impact as ``text``, ``markdown`` (a pull request comment) or ``json``.

    Raises:
        ValueError: an unknown format.
    """
    if fmt == "text":
        return "\n".join(_text(impact)) + "\n"
    if fmt == "markdown":
        return "\n".join(_markdown(impact)) + "\n"
    if fmt == "json":
        import json

        return json.dumps(impact.as_dict(fail_on), indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown format {fmt!r}: one of {', '.join(IMPACT_FORMATS)}")


def _counts(impact: Impact) -> str:
    s = impact.summary()
    return (
        f"{_n(s['newlyFailing'], 'entity', 'entities')} newly fail, {s['newlyPassing']} newly "
        f"pass; {_n(s['newResults'], 'validation result')} new, {s['goneResults']} gone; "
        f"{_n(s['derivedAppear'], 'derived fact')} appear, {s['derivedDisappear']} disappear"
    )


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _result(f: Finding) -> str:
    path = f.properties.get("resultPath")
    about = " ".join(x for x in (f.subject, compact(path) if path else None) if x)
    return f"{LEVEL_NAMES[f.level]}: {about}: {f.message} [{f.check}]"


def _text(impact: Impact) -> Iterator[str]:
    folders = _folders(impact.candidate)
    yield (
        f"impact of the candidate model (ontology {folders['ontology']}, shapes "
        f"{folders['shapes']}, rules {folders['rules']}) on {impact.entities} entities"
    )
    for uri in impact.newly_failing:
        yield f"newly fails: {uri}"
    for uri in impact.newly_passing:
        yield f"newly passes: {uri}"
    for f in impact.new:
        yield f"+ {_result(f)}"
    for f in impact.gone:
        yield f"- {_result(f)}"
    for t in impact.appear:
        yield "+ derived: " + " ".join(t)
    for t in impact.disappear:
        yield "- derived: " + " ".join(t)
    yield _counts(impact)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(title: str, header: Sequence[str], rows: list[Sequence[str]]) -> Iterator[str]:
    if not rows:
        return
    yield ""
    yield f"<details><summary>{title} ({len(rows)})</summary>"
    yield ""
    yield "| " + " | ".join(header) + " |"
    yield "|" + "---|" * len(header)
    for row in rows[:MARKDOWN_ROWS]:
        yield "| " + " | ".join(_cell(c) for c in row) + " |"
    if len(rows) > MARKDOWN_ROWS:
        yield ""
        yield f"... and {len(rows) - MARKDOWN_ROWS} more (`--format json` lists every one)."
    yield ""
    yield "</details>"


def _markdown(impact: Impact) -> Iterator[str]:
    yield "### Model change impact"
    yield ""
    if impact.empty:
        yield f"No change: the {impact.entities} entities validate and derive as before."
        return
    s = impact.summary()
    yield f"Checked {impact.entities} entities against the candidate model."
    yield ""
    yield "| change | count |"
    yield "|---|---:|"
    yield f"| entities that newly fail validation | {s['newlyFailing']} |"
    yield f"| entities that newly pass validation | {s['newlyPassing']} |"
    yield f"| new validation results | {s['newResults']} |"
    yield f"| validation results gone | {s['goneResults']} |"
    yield f"| derived facts that appear | {s['derivedAppear']} |"
    yield f"| derived facts that disappear | {s['derivedDisappear']} |"

    def finding_row(f: Finding) -> list[str]:
        path = f.properties.get("resultPath")
        return [
            f"`{f.subject or ''}`",
            f"`{compact(path)}`" if path else "",
            LEVEL_NAMES[f.level],
            f"`{f.check}`",
            f.message,
        ]

    header = ("entity", "path", "level", "shape", "message")
    yield from _table("New validation results", header, [finding_row(f) for f in impact.new])
    yield from _table("Validation results gone", header, [finding_row(f) for f in impact.gone])
    triple_header = ("subject", "predicate", "object")
    yield from _table(
        "Derived facts that appear",
        triple_header,
        [[f"`{c}`" for c in t] for t in impact.appear],
    )
    yield from _table(
        "Derived facts that disappear",
        triple_header,
        [[f"`{c}`" for c in t] for t in impact.disappear],
    )
