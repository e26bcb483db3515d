"""Metadata quality: how complete, fresh and well connected the graph's metadata is,
per entity, team, domain and source (``lifecyclegraph quality``, ``GET
/api/v1/quality``).

Each hydrated entity gets four scores in [0, 1], and their mean as its ``score``:

* **completeness**: the share of the recommended properties it fills in. A property
  is recommended when a warning-level shape asks for it: the warnings an entity of
  the same classes with no other fact would get (``lgsh:DescriptionPresent``,
  ``lgsh:OwnerPresent``). One without a description, with an owner: 0.5.
* **freshness**: 1 when it was hydrated within ``max_age``, else ``max_age / age``
  (one hydrated twice as long ago as allowed: 0.5). Its derived facts are *behind*
  when it was not enriched since it was last hydrated.
* **references**: the share of the entities it refers to that were hydrated; the
  others are *dangling*: stubs, known only from a reference, never hydrated.
* **owners**: the share of its owners that the identity platform knows and that are
  active; an owner is *unknown* when it is a stub or an owner email matched no user
  (``lg:unresolvedOwnerEmail``), *deactivated* when ``lg:active`` is false. Not
  counted (``None``) for an entity with no owner at all (completeness says that).

A group (a team: the teams that own the entity, ``lg:owningTeam`` when the rules ran,
else its owners' teams; a domain: its class's ``lg:domain``; a source: the source of
its current snapshot) gets the mean of its entities' scores and counts of each
problem. From the ingestion journal come the **rejected entities** with the reasons
of their violations, the **dead letters** (rejected events, work given up on) and the
**sources gone silent**: no event for longer than ``silence_factor`` times the median
gap between their arrivals (and at least ``min_silence``).

Everything is read through the door; nothing is written.
"""

from __future__ import annotations

import itertools
import json
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pyoxigraph import Literal, NamedNode

from lifecyclegraph.core.facts import Facts, term_value
from lifecyclegraph.core.vocab import LG, RDF_TYPE, compact
from lifecyclegraph.graph.door import Graph
from lifecyclegraph.store.values import HydrationState
from lifecyclegraph.validation.report import Severity
from lifecyclegraph.validation.validator import Validator

__all__ = [
    "EntityQuality",
    "IngestRecord",
    "QualityReport",
    "SourceActivity",
    "metadata_quality",
    "render_quality",
    "source_activity",
]

NO_TEAM = "(no team)"
NO_DOMAIN = "(no domain)"


class IngestRecord(Protocol):
    """What metadata quality reads of the ingestion journal
    (:class:`~lifecyclegraph.ingest.journal.Journal` is one)."""

    def findings(self, rejected: bool | None = None) -> list[Any]: ...

    def dead_letters(self, include_replayed: bool = False) -> list[Any]: ...

    def arrivals(self) -> dict[str, list[tuple[str, int]]]: ...


@dataclass
class EntityQuality:
    """The quality of one entity's metadata (see the module's description)."""

    uri: str
    type: str | None
    source: str
    domain: str | None
    teams: list[str]
    completeness: float
    missing: list[str]
    freshness: float
    last_hydrated: datetime | None
    last_enriched: datetime | None
    behind: bool
    references: float
    dangling: list[str]
    owners: float | None
    owners_unknown: list[str]
    owners_deactivated: list[str]

    @property
    def score(self) -> float:
        """The mean of the entity's scores (owners only when it has any)."""
        parts = [self.completeness, self.freshness, self.references]
        if self.owners is not None:
            parts.append(self.owners)
        return round(sum(parts) / len(parts), 4)

    def as_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "type": self.type,
            "source": self.source,
            "domain": self.domain,
            "teams": self.teams,
            "score": self.score,
            "completeness": self.completeness,
            "missing": self.missing,
            "freshness": self.freshness,
            "lastHydrated": _iso(self.last_hydrated),
            "lastEnriched": _iso(self.last_enriched),
            "enrichmentBehind": self.behind,
            "references": self.references,
            "dangling": self.dangling,
            "owners": self.owners,
            "ownersUnknown": self.owners_unknown,
            "ownersDeactivated": self.owners_deactivated,
        }


@dataclass(frozen=True)
class SourceActivity:
    """How a source's events arrive: ``events`` in all, the ``last`` arrival, the
    ``usual_gap`` between arrivals (the median; ``None`` with fewer than three), and
    whether it has gone ``silent``."""

    source: str
    events: int
    last: datetime
    usual_gap: timedelta | None
    silent: bool

    def as_dict(self, now: datetime) -> dict[str, Any]:
        return {
            "events": self.events,
            "lastEvent": _iso(self.last),
            "secondsSinceLast": round((now - self.last).total_seconds(), 3),
            "usualGapSeconds": (
                round(self.usual_gap.total_seconds(), 3) if self.usual_gap is not None else None
            ),
            "silent": self.silent,
        }


@dataclass
class QualityReport:
    """The metadata quality of a graph at :attr:`at`."""

    at: datetime
    entities: list[EntityQuality] = field(default_factory=list)
    stubs: dict[str, list[str]] = field(default_factory=dict)  #: stub -> who refers to it
    rejected: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    activity: dict[str, SourceActivity] = field(default_factory=dict)

    def groups(self, by: str) -> dict[str, dict[str, Any]]:
        """The entities' figures per ``team``, ``domain`` or ``source``, by name."""
        members: dict[str, list[EntityQuality]] = {}
        for e in self.entities:
            if by == "team":
                keys = e.teams or [NO_TEAM]
            elif by == "domain":
                keys = [e.domain or NO_DOMAIN]
            else:
                keys = [e.source]
            for key in keys:
                members.setdefault(key, []).append(e)
        out = {name: _aggregate(members[name]) for name in sorted(members)}
        if by == "source":
            for name in sorted({*self.activity, *self._rejected_by_source()}):
                entry = out.setdefault(name, _aggregate([]))
                entry["rejected"] = self._rejected_by_source().get(name, 0)
                if name in self.activity:
                    entry["activity"] = self.activity[name].as_dict(self.at)
        return out

    def _rejected_by_source(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.rejected:
            source = _platform(r["uri"])
            counts[source] = counts.get(source, 0) + 1
        return counts

    @property
    def silent(self) -> list[str]:
        """The sources gone silent, by name."""
        return sorted(name for name, a in self.activity.items() if a.silent)

    def as_dict(self, limit: int | None = None) -> dict[str, Any]:
        """The report as JSON-ready data; ``limit``: the most entities listed (the
        lowest scores first)."""
        worst = sorted(self.entities, key=lambda e: (e.score, e.uri))
        return {
            "at": _iso(self.at),
            "overall": _aggregate(self.entities),
            "sources": self.groups("source"),
            "teams": self.groups("team"),
            "domains": self.groups("domain"),
            "silentSources": self.silent,
            "rejected": self.rejected,
            "deadLetters": self.dead_letters,
            "dangling": [{"uri": s, "referredBy": by} for s, by in sorted(self.stubs.items())],
            "entities": [e.as_dict() for e in worst[:limit]],
        }


def _aggregate(entities: list[EntityQuality]) -> dict[str, Any]:
    def mean(values: Iterable[float]) -> float | None:
        found = list(values)
        return round(sum(found) / len(found), 4) if found else None

    return {
        "entities": len(entities),
        "score": mean(e.score for e in entities),
        "completeness": mean(e.completeness for e in entities),
        "freshness": mean(e.freshness for e in entities),
        "incomplete": sum(1 for e in entities if e.completeness < 1),
        "stale": sum(1 for e in entities if e.freshness < 1),
        "enrichmentBehind": sum(1 for e in entities if e.behind),
        "danglingReferences": sum(len(e.dangling) for e in entities),
        "ownerProblems": sum(1 for e in entities if e.owners_unknown or e.owners_deactivated),
    }


def _iso(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when is not None else None


def _platform(uri: str) -> str:
    """The source of an AIP URI (``aip://model/registry/m``: ``registry``)."""
    parts = uri.removeprefix("aip://").split("/")
    return parts[1] if uri.startswith("aip://") and len(parts) > 2 else "(unknown)"


# -- the computation ----------------------------------------------------------------------


def metadata_quality(
    graph: Graph,
    journal: IngestRecord | None = None,
    *,
    validator: Validator | None = None,
    now: datetime | None = None,
    max_age: timedelta = timedelta(days=7),
    silence_factor: float = 10.0,
    min_silence: timedelta = timedelta(hours=1),
) -> QualityReport:
    """The metadata quality of ``graph``'s current state (and of ingestion, from
    ``journal``), as the module describes it.

    Args:
        graph: the graph (read only).
        journal: the ingestion journal: rejected entities, dead letters, arrivals.
        validator: the shapes (default: the model in use).
        now: the time of the report (default: now).
        max_age: how long a hydration stays fresh.
        silence_factor: how many usual gaps without events make a source silent.
        min_silence: the shortest silence reported.
    """
    from lifecyclegraph.core.ontology import Ontology

    validator = validator or Validator.load()
    ontology: Ontology = validator.ontology
    now = now or datetime.now(UTC)
    report = QualityReport(now)
    entity_classes = set(ontology.entity_classes())
    recommended: dict[frozenset[str], set[tuple[str, str]]] = {}

    def types_of(iri: str) -> set[str]:
        return {term_value(q.object) for q in graph.quads(NamedNode(iri), RDF_TYPE, inferred=False)}

    states: dict[str, HydrationState | None] = {}

    def state_of(iri: str) -> HydrationState | None:
        if iri not in states:
            found = graph.state(iri)
            states[iri] = found.state if found is not None else None
        return states[iri]

    for uri in sorted(graph.entities(HydrationState.HYDRATED)):
        state = graph.state(uri)
        if state is None:
            continue
        facts = Facts(uri, graph.snapshot_facts(state.current_snapshot))
        types = frozenset(o.value for p, o in facts.pairs if p == RDF_TYPE)
        if types not in recommended:
            bare = Facts(uri, frozenset((RDF_TYPE, NamedNode(t)) for t in types))
            recommended[types] = _warned(validator, bare, types_of)
        asked = recommended[types]
        missing = sorted(_warned(validator, facts, types_of) & asked)
        cls = _main_class(uri, types, entity_classes, ontology)
        domain = ontology.domain(cls) if cls else None
        age = (now - state.last_hydrated_at) if state.last_hydrated_at else None
        refs = [
            o.value
            for p, o in facts.pairs
            if isinstance(o, NamedNode) and p != RDF_TYPE and state_of(o.value) is not None
        ]
        dangling = sorted({r for r in refs if state_of(r) is HydrationState.REFERENCED})
        for stub in dangling:
            report.stubs.setdefault(stub, []).append(uri)
        owners = sorted(o.value for p, o in facts.pairs if p == LG.owner)
        unresolved = sorted(o.value for p, o in facts.pairs if p == LG.unresolvedOwnerEmail)
        unknown = [o for o in owners if state_of(o) in (None, HydrationState.REFERENCED)]
        deactivated = [o for o in owners if o not in unknown and not _active(graph, o)]
        all_owners = len(owners) + len(unresolved)
        good = len(owners) - len(unknown) - len(deactivated)
        report.entities.append(
            EntityQuality(
                uri=uri,
                type=compact(cls) if cls else None,
                source=graph.snapshot(state.current_snapshot).source,
                domain=compact(domain) if domain else None,
                teams=_teams(graph, uri, owners),
                completeness=round(1 - len(missing) / len(asked), 4) if asked else 1.0,
                missing=[compact(path) for _, path in missing],
                freshness=_freshness(age, max_age),
                last_hydrated=state.last_hydrated_at,
                last_enriched=state.last_enriched_at,
                behind=state.last_enriched_at is None
                or (
                    state.last_hydrated_at is not None
                    and state.last_enriched_at < state.last_hydrated_at
                ),
                references=round(1 - len(dangling) / len(set(refs)), 4) if refs else 1.0,
                dangling=dangling,
                owners=round(good / all_owners, 4) if all_owners else None,
                owners_unknown=unknown + unresolved,
                owners_deactivated=deactivated,
            )
        )
    for referrers in report.stubs.values():
        referrers.sort()
    if journal is not None:
        report.rejected = [_rejected(f) for f in journal.findings(rejected=True)]
        report.dead_letters = [_dead_letter(d) for d in journal.dead_letters()]
        report.activity = source_activity(
            journal.arrivals(), now, silence_factor=silence_factor, min_silence=min_silence
        )
    return report


def _warned(validator: Validator, facts: Facts, types_of: Any) -> set[tuple[str, str]]:
    """The (shape, path) of each warning-level result of ``facts``."""
    results = validator.validate(facts, types_of).results
    return {
        (r.shape, r.path or "")
        for r in results
        if r.severity != Severity.VIOLATION and r.focus == facts.uri
    }


def _main_class(
    uri: str, types: Iterable[str], entity_classes: set[str], ontology: Any
) -> str | None:
    """The entity type of ``uri``: its class whose component type its URI starts with,
    else its first entity class."""
    candidates = sorted(t for t in types if t in entity_classes)
    component = uri.removeprefix("aip://").split("/", 1)[0] if uri.startswith("aip://") else None
    for cls in candidates:
        if ontology.component_type(cls) == component:
            return cls
    return candidates[0] if candidates else None


def _freshness(age: timedelta | None, max_age: timedelta) -> float:
    if age is None:
        return 0.0
    if age <= max_age:
        return 1.0
    return round(max_age / age, 4)


def _active(graph: Graph, user: str) -> bool:
    """Whether a hydrated user is active (a user without ``lg:active`` is)."""
    values = [q.object for q in graph.quads(NamedNode(user), LG.active, inferred=False)]
    return not any(isinstance(v, Literal) and v.value == "false" for v in values)


def _teams(graph: Graph, uri: str, owners: list[str]) -> list[str]:
    teams = {term_value(q.object) for q in graph.quads(NamedNode(uri), LG.owningTeam)}
    if not teams:
        for owner in owners:
            teams |= {term_value(q.object) for q in graph.quads(NamedNode(owner), LG.memberOf)}
    return sorted(teams)


def _rejected(finding: Any) -> dict[str, Any]:
    results = finding.report.get("results", []) if isinstance(finding.report, Mapping) else []
    reasons = sorted(
        {
            f"{compact(r.get('resultPath') or '') or '(entity)'}: {r.get('message', '')}"
            for r in results
            if isinstance(r, Mapping) and r.get("severity") == "Violation"
        }
    )
    return {
        "uri": finding.uri,
        "at": finding.at,
        "source": _platform(finding.uri),
        "reasons": reasons,
    }


def _dead_letter(letter: Any) -> dict[str, Any]:
    from lifecyclegraph.core.jsontext import loads

    uri = None
    try:  # a rejected event's payload is as it came: perhaps no JSON, or hostile JSON
        payload = loads(letter.payload)
    except ValueError:
        payload = None
    if isinstance(payload, Mapping) and isinstance(payload.get("uri"), str):
        uri = payload["uri"]
    return {
        "id": letter.id,
        "receivedAt": letter.received_at,
        "kind": letter.kind,
        "reason": letter.reason,
        "uri": uri,
    }


def source_activity(
    arrivals: Mapping[str, list[tuple[str, int]]],
    now: datetime,
    *,
    silence_factor: float = 10.0,
    min_silence: timedelta = timedelta(hours=1),
) -> dict[str, SourceActivity]:
    """Each source's event activity, and whether it has gone silent: no event for
    longer than ``silence_factor`` times the median gap between its arrivals, and
    longer than ``min_silence`` (a source with fewer than three arrivals has no usual
    gap and is never called silent).

    >>> t = ["2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z"]
    >>> now = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
    >>> a = source_activity({"registry": [(x, 1) for x in t]}, now)["registry"]
    >>> a.usual_gap, a.silent
    (datetime.timedelta(seconds=60), True)
    """
    out = {}
    for source, times in arrivals.items():
        if not times:
            continue
        moments = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t, _ in times]
        gaps = [b - a for a, b in itertools.pairwise(moments)]
        usual = (
            timedelta(seconds=statistics.median(g.total_seconds() for g in gaps))
            if len(gaps) >= 2
            else None
        )
        since = now - moments[-1]
        silent = usual is not None and since > max(usual * silence_factor, min_silence)
        out[source] = SourceActivity(source, sum(n for _, n in times), moments[-1], usual, silent)
    return out


# -- the report as text -------------------------------------------------------------------


def render_quality(report: QualityReport, fmt: str = "text", limit: int = 20) -> str:
    """The report as ``text`` or ``json``; ``limit``: the most entities listed (the
    lowest scores first).

    Raises:
        ValueError: an unknown format.
    """
    if fmt == "json":
        return json.dumps(report.as_dict(limit), indent=2, ensure_ascii=False) + "\n"
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}: text or json")
    return "\n".join(_text(report, limit)) + "\n"


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _text(report: QualityReport, limit: int) -> Iterable[str]:
    overall = _aggregate(report.entities)
    yield (
        f"metadata quality at {_iso(report.at)}: {overall['entities']} entities, "
        f"score {_f(overall['score'])}"
    )
    yield (
        f"  completeness {_f(overall['completeness'])} ({overall['incomplete']} incomplete), "
        f"freshness {_f(overall['freshness'])} ({overall['stale']} stale, "
        f"{overall['enrichmentBehind']} not enriched since hydrated), "
        f"{overall['danglingReferences']} dangling references, "
        f"{overall['ownerProblems']} with unknown or deactivated owners"
    )
    header = (
        f"{'':40} {'entities':>8} {'score':>6} {'complete':>8} {'fresh':>6} "
        f"{'dangling':>8} {'owners':>6}"
    )
    for by in ("source", "team", "domain"):
        yield ""
        yield (
            f"by {by}"
            + header[len(f"by {by}") :]
            + (f" {'rejected':>8}  last event" if by == "source" else "")
        )
        for name, g in report.groups(by).items():
            line = (
                f"  {compact(name):38} {g['entities']:>8} {_f(g['score']):>6} "
                f"{_f(g['completeness']):>8} {_f(g['freshness']):>6} "
                f"{g['danglingReferences']:>8} {g['ownerProblems']:>6}"
            )
            if by == "source":
                activity = g.get("activity")
                line += f" {g.get('rejected', 0):>8}  "
                if activity:
                    line += activity["lastEvent"] + (" SILENT" if activity["silent"] else "")
            yield line.rstrip()
    yield ""
    if report.silent:
        for name in report.silent:
            a = report.activity[name]
            gap = a.usual_gap.total_seconds() if a.usual_gap else 0
            yield (
                f"silent: {name}: no event for {(report.at - a.last).total_seconds():.0f} s "
                f"(usually one every {gap:.0f} s)"
            )
    else:
        yield "silent sources: none"
    yield f"rejected entities: {len(report.rejected)}"
    for r in report.rejected:
        yield f"  {r['uri']}: " + "; ".join(r["reasons"])
    yield f"dead letters: {len(report.dead_letters)}"
    for d in report.dead_letters[:limit]:
        about = f" {d['uri']}" if d["uri"] else ""
        yield f"  #{d['id']} {d['kind']}{about}: {d['reason']}"
    yield f"dangling references (stubs never hydrated): {len(report.stubs)}"
    for stub, referrers in sorted(report.stubs.items())[:limit]:
        yield f"  {stub} <- " + ", ".join(referrers)
    worst = sorted(report.entities, key=lambda e: (e.score, e.uri))[:limit]
    yield f"lowest scores ({len(worst)} of {len(report.entities)}):"
    for e in worst:
        problems = []
        if e.missing:
            problems.append("missing " + ", ".join(e.missing))
        if e.freshness < 1:
            problems.append(f"hydrated {_iso(e.last_hydrated)}")
        if e.dangling:
            problems.append("dangling " + ", ".join(e.dangling))
        if e.owners_unknown:
            problems.append("unknown owners " + ", ".join(e.owners_unknown))
        if e.owners_deactivated:
            problems.append("deactivated owners " + ", ".join(e.owners_deactivated))
        yield f"  {e.score:.2f} {e.uri} ({e.type}): " + ("; ".join(problems) or "ok")
