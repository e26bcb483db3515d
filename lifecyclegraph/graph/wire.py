"""The graph's values as JSON and RDF text: what the graph protocol sends over HTTP.

One codec per value, used by the routes of the service (``/api/v1/graph/*``) and by
:class:`~lifecyclegraph.graph.remote.RemoteGraph`, so both sides agree by
construction: ``load_x(dump_x(x)) == x`` for every value (a hypothesis test checks
it). Terms in JSON take the SPARQL 1.1 Query Results JSON form; times are ISO 8601
with their zone; quads travel as N-Quads; a term in a URL parameter is written as in
N-Triples (``<iri>`` or ``"text"^^<datatype>``). See ``docs/graph-protocol.md``.

>>> from datetime import datetime, timezone
>>> from lifecyclegraph.core.facts import Facts, Ref
>>> facts = Facts.of("aip://model/registry/m", {"rdf:type": Ref("lg:Model"), "lg:name": "M",
...                  "lg:createdAt": datetime(2026, 1, 1, tzinfo=timezone.utc)})
>>> load_facts(dump_facts(facts)) == facts
True
>>> dump_term(Literal("M", language="en"))
{'type': 'literal', 'value': 'M', 'xml:lang': 'en'}
>>> load_ntriples_term('"3"^^<http://www.w3.org/2001/XMLSchema#integer>').value
'3'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, parse, serialize

from lifecyclegraph.core.facts import Facts, Object, Pair
from lifecyclegraph.rules.explain import Explanation, RuleRef
from lifecyclegraph.search.backend import Hit, SearchResults
from lifecyclegraph.store.values import (
    EntityState,
    HydrationState,
    Observation,
    Outcome,
    SnapshotInfo,
    WriteResult,
)
from lifecyclegraph.validation.report import SH, ValidationResult

__all__ = [
    "PROTOCOL",
    "WireError",
    "dump_explanation",
    "dump_facts",
    "dump_observation",
    "dump_pairs",
    "dump_quads",
    "dump_search_results",
    "dump_snapshot",
    "dump_state",
    "dump_term",
    "dump_time",
    "dump_validation_result",
    "dump_write_result",
    "load_explanation",
    "load_facts",
    "load_ntriples_term",
    "load_observation",
    "load_pairs",
    "load_quads",
    "load_search_results",
    "load_snapshot",
    "load_state",
    "load_term",
    "load_time",
    "load_validation_result",
    "load_write_result",
]

#: The version of the graph protocol (``GET /api/v1/graph`` answers it).
PROTOCOL = 1

_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class WireError(ValueError):
    """A value on the wire is not what the protocol says; the message says what and where."""


def _field(data: Any, name: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(data, Mapping):
        raise WireError(f"{where}: expected an object, not {type(data).__name__}")
    if name not in data:
        raise WireError(f"{where}: missing {name!r}")
    value = data[name]
    if not isinstance(value, kind):
        raise WireError(f"{where}.{name}: expected {_kind(kind)}, not {type(value).__name__}")
    return value


def _optional(data: Mapping[str, Any], name: str, kind: type, where: str) -> Any:
    value = data.get(name)
    if value is not None and not isinstance(value, kind):
        raise WireError(f"{where}.{name}: expected {_kind(kind)} or null")
    return value


def _kind(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(
        {
            str: "a string",
            int: "an integer",
            list: "a list",
            dict: "an object",
            bool: "a boolean",
        }.get(k, k.__name__)
        for k in kinds
    )


# -- terms and times -----------------------------------------------------------------------


def dump_term(term: NamedNode | BlankNode | Literal) -> dict[str, str]:
    """A term in the SPARQL 1.1 Query Results JSON form."""
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Literal):
        if term.language:
            return {"type": "literal", "value": term.value, "xml:lang": term.language}
        if term.datatype.value == _XSD_STRING:
            return {"type": "literal", "value": term.value}
        return {"type": "literal", "value": term.value, "datatype": term.datatype.value}
    raise WireError(f"cannot send {term!r} as a term")


def load_term(data: Any, where: str = "term") -> NamedNode | BlankNode | Literal:
    """The term a :func:`dump_term` object stands for.

    Raises:
        WireError: for an object that is no term (what and where).
    """
    kind = _field(data, "type", str, where)
    value = _field(data, "value", str, where)
    try:
        if kind == "uri":
            return NamedNode(value)
        if kind == "bnode":
            return BlankNode(value)
        if kind in ("literal", "typed-literal"):
            language = _optional(data, "xml:lang", str, where)
            if language:
                return Literal(value, language=language)
            datatype = _optional(data, "datatype", str, where)
            if datatype and datatype != _RDF_LANG_STRING:
                return Literal(value, datatype=NamedNode(datatype))
            return Literal(value)
    except ValueError as error:
        raise WireError(f"{where}: {error}") from None
    raise WireError(f"{where}.type: expected 'uri', 'literal' or 'bnode', not {kind!r}")


def load_object(data: Any, where: str) -> Object:
    """A fact's object: an IRI or a literal (never a blank node)."""
    term = load_term(data, where)
    if isinstance(term, BlankNode):
        raise WireError(f"{where}: a fact's object is an IRI or a literal, not a blank node")
    return term


def load_ntriples_term(text: str) -> NamedNode | Literal:
    """An IRI (``<iri>``) or a literal (``"text"``, ``"text"@en``,
    ``"text"^^<datatype>``) written as in N-Triples, as URL parameters carry terms.

    Raises:
        WireError: for text that is neither.
    """
    text = text.strip()
    if not text.startswith(("<", '"')):
        raise WireError(f'{text[:80]!r} is not an N-Triples term: write <iri> or "text"')
    try:
        (triple,) = list(parse(f"<urn:s> <urn:p> {text} .", format=RdfFormat.N_TRIPLES))
    except (SyntaxError, ValueError) as error:
        raise WireError(f"{text[:80]!r} is not an N-Triples term: {error}") from None
    obj = triple.object
    if not isinstance(obj, NamedNode | Literal):  # pragma: no cover - the parser's choice
        raise WireError(f"{text[:80]!r} is not an IRI or a literal")
    return obj


def dump_time(when: datetime) -> str:
    """A time zone aware datetime as ISO 8601 (``2026-01-01T00:00:00+00:00``)."""
    return when.isoformat()


def load_time(text: Any, where: str = "time") -> datetime:
    """A time zone aware datetime from ISO 8601 (``Z`` accepted).

    Raises:
        WireError: for text that is no ISO 8601 time, or one without a time zone.
    """
    if not isinstance(text, str):
        raise WireError(f"{where}: expected an ISO 8601 time, not {type(text).__name__}")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise WireError(f"{where}: {text[:40]!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise WireError(f"{where}: {text!r} has no time zone (add Z for UTC)")
    return when


def _optional_time(data: Mapping[str, Any], name: str, where: str) -> datetime | None:
    value = data.get(name)
    return None if value is None else load_time(value, f"{where}.{name}")


# -- facts and writes ------------------------------------------------------------------------


def dump_pairs(pairs: Iterable[Pair]) -> list[list[dict[str, str]]]:
    """``(predicate, object)`` pairs as ``[[predicate term, object term], ...]``, sorted."""
    return sorted(([dump_term(p), dump_term(o)] for p, o in pairs), key=str)


def load_pairs(data: Any, where: str = "pairs") -> frozenset[Pair]:
    """The pairs of a :func:`dump_pairs` list."""
    if not isinstance(data, list):
        raise WireError(f"{where}: expected a list of [predicate, object] pairs")
    pairs: set[Pair] = set()
    for n, item in enumerate(data):
        here = f"{where}[{n}]"
        if not isinstance(item, list) or len(item) != 2:
            raise WireError(f"{here}: expected [predicate, object]")
        predicate = load_term(item[0], f"{here}[0]")
        if not isinstance(predicate, NamedNode):
            raise WireError(f"{here}[0]: a predicate is an IRI")
        pairs.add((predicate, load_object(item[1], f"{here}[1]")))
    return frozenset(pairs)


def dump_facts(facts: Facts) -> dict[str, Any]:
    """An entity's facts with its parts: ``{"uri", "pairs", "parts"}``."""
    return {
        "uri": facts.uri,
        "pairs": dump_pairs(facts.pairs),
        "parts": [dump_facts(part) for part in facts.parts],
    }


def load_facts(data: Any, where: str = "facts", depth: int = 0) -> Facts:
    """The :class:`Facts` of a :func:`dump_facts` object.

    Raises:
        WireError: for an object that is not facts; InvalidFactsError: for facts the
            store would refuse (a URI that is no IRI, a repeated part).
    """
    if depth > 20:
        raise WireError(f"{where}: parts nested more than 20 deep")
    uri = _field(data, "uri", str, where)
    pairs = load_pairs(_field(data, "pairs", list, where), f"{where}.pairs")
    parts = data.get("parts") or []
    if not isinstance(parts, list):
        raise WireError(f"{where}.parts: expected a list")
    return Facts(
        uri,
        pairs,
        tuple(load_facts(p, f"{where}.parts[{n}]", depth + 1) for n, p in enumerate(parts)),
    )


def dump_observation(obs: Observation) -> dict[str, Any]:
    """Who observed, when and why: ``{"source", "observed_at", "event_id"}``."""
    return {
        "source": obs.source,
        "observed_at": dump_time(obs.observed_at),
        "event_id": obs.event_id,
    }


def load_observation(data: Any, where: str = "observation") -> Observation:
    """The :class:`Observation` of a :func:`dump_observation` object."""
    return Observation(
        _field(data, "source", str, where),
        load_time(_field(data, "observed_at", str, where), f"{where}.observed_at"),
        _optional(data, "event_id", str, where),
    )


def dump_write_result(result: WriteResult) -> dict[str, Any]:
    """What a write did to one entity: ``{"uri", "outcome", "snapshot"}``, and
    ``"warnings"`` (:func:`dump_validation_result` objects) when a checked write had any."""
    data: dict[str, Any] = {
        "uri": result.uri,
        "outcome": result.outcome.value,
        "snapshot": result.snapshot,
    }
    if result.warnings:
        data["warnings"] = [dump_validation_result(w) for w in result.warnings]
    return data


def load_write_result(data: Any, where: str = "result") -> WriteResult:
    """The :class:`WriteResult` of a :func:`dump_write_result` object."""
    outcome = _field(data, "outcome", str, where)
    try:
        kind = Outcome(outcome)
    except ValueError:
        raise WireError(f"{where}.outcome: unknown outcome {outcome!r}") from None
    warnings = _optional(data, "warnings", list, where) or []
    return WriteResult(
        _field(data, "uri", str, where),
        kind,
        _optional(data, "snapshot", str, where),
        tuple(load_validation_result(w, f"{where}.warnings[{n}]") for n, w in enumerate(warnings)),
    )


def dump_validation_result(result: ValidationResult) -> dict[str, Any]:
    """One SHACL result as the validation report shows it (``ValidationResult.as_dict``:
    ``focusNode``, ``resultPath``, ``severity``, ``constraint``, ``sourceShape``,
    ``message``, ``value``)."""
    return result.as_dict()


def _sh(name: str) -> str:
    """A SHACL name as ``as_dict`` shortens it (``Warning``) back to its IRI."""
    return name if ":" in name else SH + name


def load_validation_result(data: Any, where: str = "result") -> ValidationResult:
    """The :class:`ValidationResult` of a :func:`dump_validation_result` object."""
    return ValidationResult(
        focus=_field(data, "focusNode", str, where),
        path=_optional(data, "resultPath", str, where),
        severity=_sh(_field(data, "severity", str, where)),
        component=_sh(_field(data, "constraint", str, where)),
        shape=_field(data, "sourceShape", str, where),
        message=_field(data, "message", str, where),
        value=_optional(data, "value", str, where),
    )


# -- bookkeeping and history -----------------------------------------------------------------


def _state_kind(data: Mapping[str, Any], name: str, where: str) -> HydrationState:
    value = _field(data, name, str, where)
    try:
        return HydrationState(value)
    except ValueError:
        raise WireError(f"{where}.{name}: unknown state {value!r}") from None


def dump_state(state: EntityState) -> dict[str, Any]:
    """An entity's bookkeeping as an object."""
    return {
        "uri": state.uri,
        "state": state.state.value,
        "current_snapshot": state.current_snapshot,
        "last_seen_at": dump_time(state.last_seen_at),
        "last_hydrated_at": _dump_optional_time(state.last_hydrated_at),
        "part_of": state.part_of,
        "last_enriched_at": _dump_optional_time(state.last_enriched_at),
    }


def load_state(data: Any, where: str = "state") -> EntityState:
    """The :class:`EntityState` of a :func:`dump_state` object."""
    return EntityState(
        uri=_field(data, "uri", str, where),
        state=_state_kind(data, "state", where),
        current_snapshot=_field(data, "current_snapshot", str, where),
        last_seen_at=load_time(_field(data, "last_seen_at", str, where), f"{where}.last_seen_at"),
        last_hydrated_at=_optional_time(data, "last_hydrated_at", where),
        part_of=_optional(data, "part_of", str, where),
        last_enriched_at=_optional_time(data, "last_enriched_at", where),
    )


def dump_snapshot(info: SnapshotInfo) -> dict[str, Any]:
    """One entry of an entity's history as an object."""
    return {
        "iri": info.iri,
        "entity": info.entity,
        "observed_at": dump_time(info.observed_at),
        "source": info.source,
        "event_id": info.event_id,
        "kind": info.kind.value,
        "supersedes": info.supersedes,
    }


def load_snapshot(data: Any, where: str = "snapshot") -> SnapshotInfo:
    """The :class:`SnapshotInfo` of a :func:`dump_snapshot` object."""
    return SnapshotInfo(
        iri=_field(data, "iri", str, where),
        entity=_field(data, "entity", str, where),
        observed_at=load_time(_field(data, "observed_at", str, where), f"{where}.observed_at"),
        source=_field(data, "source", str, where),
        event_id=_optional(data, "event_id", str, where),
        kind=_state_kind(data, "kind", where),
        supersedes=_optional(data, "supersedes", str, where),
    )


def _dump_optional_time(when: datetime | None) -> str | None:
    return None if when is None else dump_time(when)


# -- quads -----------------------------------------------------------------------------------


def dump_quads(quads: Iterable[Quad]) -> bytes:
    """Quads as N-Quads (UTF-8)."""
    return serialize(quads, format=RdfFormat.N_QUADS) or b""


def load_quads(data: bytes) -> list[Quad]:
    """The quads of an N-Quads text.

    Raises:
        WireError: for text that is not N-Quads (with the parser's line and column).
    """
    try:
        return list(parse(data, format=RdfFormat.N_QUADS))
    except SyntaxError as error:
        raise WireError(f"the answer is not N-Quads: {error}") from None


# -- explanations ----------------------------------------------------------------------------


def dump_explanation(node: Explanation) -> dict[str, Any]:
    """A derivation tree, every node with its terms, rule, premises and sources."""
    data: dict[str, Any] = {
        "predicate": node.predicate,
        "terms": [dump_term(t) for t in node.terms],
    }
    if node.rule is not None:
        rule = node.rule
        data["rule"] = {
            "location": str(rule.location),
            "comment": rule.comment,
            "origin": rule.origin,
            "text": str(rule),
            "also_stated_at": [str(loc) for loc in rule.also_stated_at],
        }
        data["premises"] = [dump_explanation(p) for p in node.premises]
        data["absent"] = list(node.absent)
    else:
        data["sources"] = [dump_snapshot(info) for info in node.sources]
    return data


def load_explanation(data: Any, where: str = "explanation", depth: int = 0) -> Explanation:
    """The :class:`Explanation` of a :func:`dump_explanation` object (its rule a
    :class:`~lifecyclegraph.rules.explain.RuleRef`)."""
    if depth > 200:
        raise WireError(f"{where}: nested more than 200 deep")
    predicate = _field(data, "predicate", str, where)
    terms = tuple(
        load_term(t, f"{where}.terms[{n}]")
        for n, t in enumerate(_field(data, "terms", list, where))
    )
    rule = data.get("rule")
    if rule is None:
        sources = tuple(
            load_snapshot(s, f"{where}.sources[{n}]")
            for n, s in enumerate(data.get("sources") or [])
        )
        return Explanation(predicate, terms, sources=sources)
    here = f"{where}.rule"
    ref = RuleRef(
        location=_field(rule, "location", str, here),
        comment=_field(rule, "comment", str, here),
        origin=_field(rule, "origin", str, here),
        text=_field(rule, "text", str, here),
        also_stated_at=tuple(str(loc) for loc in rule.get("also_stated_at") or ()),
    )
    premises = tuple(
        load_explanation(p, f"{where}.premises[{n}]", depth + 1)
        for n, p in enumerate(data.get("premises") or [])
    )
    absent = tuple(str(a) for a in data.get("absent") or ())
    return Explanation(predicate, terms, ref, premises, absent)


# -- search ----------------------------------------------------------------------------------


def dump_search_results(results: SearchResults) -> dict[str, Any]:
    """A page of search results, as ``GET /api/v1/search`` answers it (scores rounded
    to 4 places)."""
    return results.as_dict()


def load_search_results(data: Any, where: str = "results") -> SearchResults:
    """The :class:`SearchResults` of a :func:`dump_search_results` object."""
    hits = []
    for n, hit in enumerate(_field(data, "hits", list, where)):
        here = f"{where}.hits[{n}]"
        score = _field(hit, "score", (int, float), here)
        highlights = hit.get("highlights") or {}
        if not isinstance(highlights, dict):
            raise WireError(f"{here}.highlights: expected an object")
        hits.append(
            Hit(
                uri=_field(hit, "uri", str, here),
                name=_field(hit, "name", str, here),
                type=_field(hit, "type", str, here),
                score=float(score),
                highlights={str(k): str(v) for k, v in highlights.items()},
            )
        )
    facets = _field(data, "facets", dict, where)
    return SearchResults(
        hits=hits,
        total=_field(data, "total", int, where),
        page=_field(data, "page", int, where),
        page_size=_field(data, "page_size", int, where),
        facets={
            str(f): {str(k): int(v) for k, v in counts.items()} for f, counts in facets.items()
        },
        fuzzy=bool(data.get("fuzzy", False)),
    )
