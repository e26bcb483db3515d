"""The graph protocol under ``/api/v1/graph``: one route per method of the door.

What :class:`~lifecyclegraph.graph.remote.RemoteGraph` talks to, so that the CLI, the
notebooks and any Python caller can use a running service as a
:class:`~lifecyclegraph.graph.door.Graph`. Each route checks its parameters and calls
one door method of ``service.graph``; values travel in the codecs of
:mod:`lifecyclegraph.graph.wire` (terms in SPARQL JSON form, quads as N-Quads). Reads
need what every read needs (a read token when the server has read tokens); writes
need a write token and answer the ``Lifecyclegraph-Generation`` header, which
``/sparql`` takes back as ``Lifecyclegraph-Min-Generation`` (read your writes). See
``docs/graph-protocol.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pyoxigraph import NamedNode, Quad

from lifecyclegraph.core.errors import InvalidFactsError
from lifecyclegraph.core.facts import Object
from lifecyclegraph.graph.checks import WriteRefusedError
from lifecyclegraph.graph.door import Graph, PastGraph
from lifecyclegraph.graph.lineage import UnknownTypeError
from lifecyclegraph.graph.wire import (
    PROTOCOL,
    WireError,
    dump_explanation,
    dump_pairs,
    dump_quads,
    dump_snapshot,
    dump_state,
    dump_validation_result,
    dump_write_result,
    load_facts,
    load_ntriples_term,
    load_observation,
    load_time,
)
from lifecyclegraph.server.auth import read_guard, write_guard
from lifecyclegraph.server.body import read_json
from lifecyclegraph.server.models import ProblemModel
from lifecyclegraph.server.problems import Problem
from lifecyclegraph.store.values import HydrationState, Observation, WriteResult

__all__ = ["GENERATION", "MIN_GENERATION", "router"]

#: The header a write answers: the generation the graph reached (``<epoch>:<n>``).
GENERATION = "Lifecyclegraph-Generation"
#: The header a ``/sparql`` request sends back to see at least that generation.
MIN_GENERATION = "Lifecyclegraph-Min-Generation"
NQUADS = "application/n-quads"
#: The most items one write request may hold (``RemoteGraph`` sends 500 at most).
MAX_ITEMS = 10_000


_PROBLEM = {"model": ProblemModel, "content": {"application/problem+json": {}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_PROBLEM, "description": "a malformed parameter or body (what and where)"},
    401: {**_PROBLEM, "description": "no token, or one not allowed here"},
    403: {**_PROBLEM, "description": "a read token sent to write"},
}
router = APIRouter(prefix="/api/v1/graph", tags=["graph protocol"], responses=_ERRORS)
reads = [Depends(read_guard)]
writes = [Depends(write_guard)]

Uri = Annotated[str, Query(max_length=8192, description="an entity's IRI")]
Iri = Annotated[str, Query(max_length=8192, description="a snapshot's IRI")]
AsOf = Annotated[
    datetime | None, Query(description="the graph as it was at this time (ISO 8601 with a zone)")
]
TermParam = Annotated[
    str | None,
    Query(max_length=65_536, description='a term as in N-Triples: <iri> or "text"^^<datatype>'),
]
Limit = Annotated[int, Query(ge=1, le=100_000)]

T = TypeVar("T")


class NQuadsResponse(Response):
    """Quads as N-Quads (what the OpenAPI document says these routes answer)."""

    media_type = NQUADS


_NQUADS: dict[int | str, dict[str, Any]] = {
    200: {"description": "N-Quads", "content": {NQUADS: {"schema": {"type": "string"}}}}
}
_LINES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "one URI a line",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


def _graph(request: Request) -> Graph:
    graph: Graph = request.app.state.service.graph
    return graph


def generation_of(graph: Any) -> str | None:
    """The read-your-writes token of the graph (``<epoch>:<n>``), if it keeps one."""
    token = getattr(graph, "generation", None)
    return token if isinstance(token, str) else None


def _iri(value: str, what: str) -> str:
    try:
        NamedNode(value)
    except ValueError as error:
        raise Problem(
            400, "Bad Request", f"{what} {value[:200]!r} is not an IRI: {error}"
        ) from None
    return value


def _past(graph: Graph, as_of: datetime | None) -> PastGraph | None:
    if as_of is None:
        return None
    if as_of.tzinfo is None:
        raise Problem(400, "Bad Request", "as_of needs a time zone, e.g. 2026-01-02T00:00:00Z")
    return graph.as_of(as_of)


def _term(text: str | None, what: str, *, iri: bool = False) -> Any:
    if text is None:
        return None
    try:
        term = load_ntriples_term(text)
    except WireError as error:
        raise Problem(400, "Bad Request", f"{what}: {error}") from None
    if iri and not isinstance(term, NamedNode):
        raise Problem(400, "Bad Request", f"{what} must be an IRI (<...>), not a literal")
    return term


def _nquads(quads: Iterator[Quad]) -> Response:
    return NQuadsResponse(dump_quads(quads))


# -- the handshake ---------------------------------------------------------------------------


@router.get("", dependencies=reads, summary="What this service offers of the graph protocol")
def handshake(request: Request) -> JSONResponse:
    """The protocol's version, whether rules and search run, the generation now."""
    service = request.app.state.service
    graph = _graph(request)
    return JSONResponse(
        {
            "protocol": PROTOCOL,
            "version": request.app.version,
            "rules": graph.has_rules,
            "search": bool(service.config.search.enabled),
            "generation": generation_of(graph),
        }
    )


# -- entities --------------------------------------------------------------------------------


@router.get("/entity", dependencies=reads, summary="An entity's quads, bookkeeping and snapshot")
def entity(request: Request, uri: Uri, as_of: AsOf = None) -> JSONResponse:
    """``{"entity": null}`` if the entity is unknown or deleted (then); else its
    ``state``, its ``snapshot`` and its fact quads (N-Quads), ``out`` (it is the
    subject) and ``in`` (it is the object), from which the client builds the same
    :class:`~lifecyclegraph.graph.entity.Entity` as the door's ``entity()``."""
    uri = _iri(uri, "uri")
    graph = _graph(request)
    past = _past(graph, as_of)
    node = NamedNode(uri)
    source: Graph | PastGraph = graph if past is None else past
    found = source.entity(uri)
    if found is None:
        return JSONResponse({"entity": None})
    return JSONResponse(
        {
            "entity": {
                "state": dump_state(found.state) if found.state else None,
                "snapshot": dump_snapshot(found.snapshot) if found.snapshot else None,
                "out": dump_quads(source.quads(node)).decode(),
                "in": dump_quads(source.quads(None, None, node)).decode(),
            }
        }
    )


@router.get("/state", dependencies=reads, summary="An entity's bookkeeping")
def state(request: Request, uri: Uri) -> JSONResponse:
    """``{"state": ...}``, ``null`` if the graph never heard of the entity."""
    found = _graph(request).state(_iri(uri, "uri"))
    return JSONResponse({"state": dump_state(found) if found else None})


@router.get(
    "/entities",
    dependencies=reads,
    summary="The URIs of the known entities",
    response_class=PlainTextResponse,
    responses=_LINES,
)
def entities(
    request: Request,
    state: Annotated[HydrationState | None, Query(description="only those in this state")] = None,
    as_of: AsOf = None,
) -> Response:
    """One URI a line (``text/plain``): every known entity, those in ``state``, or
    with ``as_of`` those that existed then (sorted)."""
    graph = _graph(request)
    past = _past(graph, as_of)
    if past is not None:
        if state is not None:
            raise Problem(400, "Bad Request", "give state or as_of, not both")
        uris: Any = past.entities()
    else:
        uris = graph.entities(state)
    return PlainTextResponse("".join(f"{uri}\n" for uri in uris))


@router.get(
    "/quads",
    dependencies=reads,
    summary="The facts matching a pattern (N-Quads)",
    response_class=NQuadsResponse,
    responses=_NQUADS,
)
def quads(
    request: Request,
    s: TermParam = None,
    p: TermParam = None,
    o: TermParam = None,
    inferred: Annotated[str, Query(pattern="^(any|true|false)$")] = "any",
    as_of: AsOf = None,
) -> Response:
    """The fact quads of the current state (or, with ``as_of``, of the snapshots live
    then) matching ``s``, ``p``, ``o``; ``inferred`` keeps asserted (``false``) or
    derived (``true``) facts only."""
    graph = _graph(request)
    subject = _term(s, "s", iri=True)
    predicate = _term(p, "p", iri=True)
    obj: Object | None = _term(o, "o")
    past = _past(graph, as_of)
    if past is not None:
        if inferred != "any":
            raise Problem(
                400, "Bad Request", "a past graph holds asserted facts only: drop inferred"
            )
        return _nquads(past.quads(subject, predicate, obj))
    which = {"any": None, "true": True, "false": False}[inferred]
    return _nquads(graph.quads(subject, predicate, obj, inferred=which))


# -- history ---------------------------------------------------------------------------------


@router.get("/history", dependencies=reads, summary="Every snapshot of an entity")
def history(request: Request, uri: Uri) -> JSONResponse:
    """``{"snapshots": [...]}``, oldest first (empty if the entity is unknown)."""
    found = _graph(request).history(_iri(uri, "uri"))
    return JSONResponse({"snapshots": [dump_snapshot(info) for info in found]})


@router.get("/snapshot", dependencies=reads, summary="One snapshot's catalogue entry")
def snapshot(request: Request, iri: Iri) -> JSONResponse:
    """``{"snapshot": ...}``, ``null`` for an unknown IRI."""
    try:
        info = _graph(request).snapshot(_iri(iri, "iri"))
    except KeyError:
        return JSONResponse({"snapshot": None})
    return JSONResponse({"snapshot": dump_snapshot(info)})


@router.get("/snapshot/facts", dependencies=reads, summary="The facts one snapshot holds")
def snapshot_facts(request: Request, iri: Iri) -> JSONResponse:
    """``{"facts": [[predicate, object], ...]}`` (empty for a tombstone or an unknown IRI)."""
    pairs = _graph(request).snapshot_facts(_iri(iri, "iri"))
    return JSONResponse({"facts": dump_pairs(pairs)})


@router.get("/snapshot-of", dependencies=reads, summary="An entity's snapshot at a time")
def snapshot_of(request: Request, uri: Uri, as_of: datetime) -> JSONResponse:
    """``{"snapshot": ...}``: the snapshot current at ``as_of`` (a tombstone if the
    entity was deleted by then), ``null`` before its first snapshot."""
    past = _past(_graph(request), as_of)
    assert past is not None
    info = past.snapshot_of(_iri(uri, "uri"))
    return JSONResponse({"snapshot": dump_snapshot(info) if info else None})


# -- relationships and explanations ----------------------------------------------------------


@router.get("/lineage", dependencies=reads, summary="Where an entity comes from, or what it feeds")
def lineage(
    request: Request,
    uri: Uri,
    direction: Annotated[str, Query(pattern="^(upstream|downstream)$")] = "upstream",
    depth: Annotated[int, Query(ge=1, le=100)] = 3,
    type: Annotated[list[str] | None, Query(description="keep only these classes")] = None,
    limit: Limit = 10_000,
) -> JSONResponse:
    """``{"lineage": ...}`` as the door's ``lineage()`` answers it (``null``: unknown or
    deleted); an unknown ``type`` is a 400 whose ``known`` lists the types."""
    try:
        view = _graph(request).lineage(
            _iri(uri, "uri"),
            direction=direction,  # type: ignore[arg-type]
            depth=depth,
            types=type or (),
            limit=limit,
        )
    except UnknownTypeError as error:
        raise Problem(400, "Bad Request", str(error), known=error.known) from None
    return JSONResponse({"lineage": view})


@router.get("/impact", dependencies=reads, summary="What a change to an entity would touch")
def impact(request: Request, uri: Uri, limit: Limit = 10_000) -> JSONResponse:
    """``{"impact": ...}`` as the door's ``impact()`` answers it (``null``: unknown or deleted)."""
    return JSONResponse({"impact": _graph(request).impact(_iri(uri, "uri"), limit=limit)})


@router.get("/explain", dependencies=reads, summary="Explain every fact matching a pattern")
def explain(
    request: Request,
    s: TermParam = None,
    p: TermParam = None,
    o: TermParam = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> JSONResponse:
    """``{"explanations": [...]}``: each fact matching the pattern with its derivation
    tree, at most ``limit``. A term is ``<iri>``, ``prefix:local`` or, for ``o``, a
    literal in N-Triples (``"text"``) or a literal's bare text."""
    subject, predicate, obj = (_explain_term(v, n) for n, v in (("s", s), ("p", p), ("o", o)))
    try:
        found = _graph(request).explain_all(subject, predicate, obj, limit=limit)
    except ValueError as error:
        raise Problem(400, "Bad Request", f"not a fact pattern: {error}") from None
    return JSONResponse({"explanations": [dump_explanation(e) for e in found]})


def _explain_term(value: str | None, name: str) -> Any:
    if value is None or not value.startswith(("<", '"')):
        return value
    return _term(value, name, iri=name != "o")


# -- writes ----------------------------------------------------------------------------------


async def _body(request: Request) -> dict[str, Any]:
    body = await read_json(request, request.app.state.service.config.server.max_request_bytes)
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise Problem(400, "Bad Request", 'the body must be an object {"items": [...]}')
    if len(body["items"]) > MAX_ITEMS:
        raise Problem(
            400, "Bad Request", f"{len(body['items'])} items; send at most {MAX_ITEMS} a request"
        )
    return body


def _time(body: dict[str, Any], key: str, *, required: bool = False) -> datetime | None:
    """The body's time ``key`` (``None`` when absent and not ``required``); a bad one
    is a 400 that names it."""
    if body.get(key) is None and not required:
        return None
    try:
        return load_time(body.get(key), key)
    except WireError as error:
        raise Problem(400, "Bad Request", str(error)) from None


def _enriched_at(body: dict[str, Any]) -> datetime | None:
    """The body's optional ``enriched_at`` time (the door's keyword of that name)."""
    return _time(body, "enriched_at")


def _load(items: list[Any], load: Callable[[Any, str], T]) -> list[T]:
    loaded = []
    for n, item in enumerate(items):
        try:
            loaded.append(load(item, f"items[{n}]"))
        except WireError as error:
            raise Problem(400, "Bad Request", str(error), index=n) from None
        except InvalidFactsError as error:
            raise Problem(400, "Bad Request", f"items[{n}]: {error}", index=n) from None
    return loaded


def _observation(item: Any, where: str) -> Observation:
    if not isinstance(item, dict):
        raise WireError(f"{where}: expected an object")
    return load_observation(item.get("observation"), f"{where}.observation")


def _written(request: Request, results: list[WriteResult]) -> JSONResponse:
    headers = {}
    token = generation_of(_graph(request))
    if token is not None:
        headers[GENERATION] = token
    return JSONResponse({"results": [dump_write_result(r) for r in results]}, headers=headers)


_REFUSED: dict[int | str, dict[str, Any]] = {
    422: {
        **_PROBLEM,
        "description": "a checked write refused: unknown classes or properties (``problems``, "
        "each with its near miss) or SHACL violations (``violations``); nothing written",
    }
}


@router.post(
    "/write",
    dependencies=writes,
    responses=_REFUSED,
    summary="Write entities (each with its parts), checked unless validate is false",
)
async def write(request: Request) -> JSONResponse:
    """``{"items": [{"facts", "observation"}], "validate": true}`` -> ``{"results": [...]}``,
    one result per entity and part (with the validation's ``warnings``), as the door's
    ``write_many()``. Every entity is checked against the ontology and the shapes
    first; ``"validate": false`` is the opt-out for bulk loads of data already
    validated. A refusal answers 422 with every ``problems`` and ``violations``.
    ``"enriched_at": "<time>"`` also marks each entity written enriched as of then,
    in the same transaction (as ``/enriched`` would after it)."""

    def one(item: Any, where: str) -> tuple[Any, Observation]:
        if not isinstance(item, dict):
            raise WireError(f"{where}: expected an object")
        return load_facts(item.get("facts"), f"{where}.facts"), _observation(item, where)

    body = await _body(request)
    validate = body.get("validate", True)
    if not isinstance(validate, bool):
        raise Problem(400, "Bad Request", "validate: expected true or false")
    enriched_at = _enriched_at(body)
    items = _load(body["items"], one)
    try:
        results = await run_in_threadpool(
            _graph(request).write_many, items, validate=validate, enriched_at=enriched_at
        )
    except WriteRefusedError as error:
        raise Problem(
            422,
            "Unprocessable Content",
            str(error),
            problems=error.problems,
            violations=[dump_validation_result(r) for r in error.report.results],
        ) from None
    return _written(request, results)


@router.post("/delete", dependencies=writes, summary="Tombstone entities and their parts")
async def delete(request: Request) -> JSONResponse:
    """``{"items": [{"uri", "observation"}]}`` -> ``{"results": [...]}``; with
    ``"enriched_at"`` as for ``/write``."""

    def one(item: Any, where: str) -> tuple[str, Observation]:
        if not isinstance(item, dict) or not isinstance(item.get("uri"), str):
            raise WireError(f"{where}: expected an object with a 'uri' string")
        return _iri_item(item["uri"], f"{where}.uri"), _observation(item, where)

    body = await _body(request)
    items = _load(body["items"], one)
    results = await run_in_threadpool(
        _graph(request).delete_many, items, enriched_at=_enriched_at(body)
    )
    return _written(request, results)


@router.post("/reference", dependencies=writes, summary="Record stubs for entities")
async def reference(request: Request) -> JSONResponse:
    """``{"items": [{"uri", "class", "observation"}]}`` -> ``{"results": [...]}``; with
    ``"enriched_at"`` as for ``/write``."""

    def one(item: Any, where: str) -> tuple[str, str, Observation]:
        if not isinstance(item, dict):
            raise WireError(f"{where}: expected an object")
        for key in ("uri", "class"):
            if not isinstance(item.get(key), str):
                raise WireError(f"{where}.{key}: expected an IRI string")
        return (
            _iri_item(item["uri"], f"{where}.uri"),
            _iri_item(item["class"], f"{where}.class"),
            _observation(item, where),
        )

    body = await _body(request)
    items = _load(body["items"], one)
    results = await run_in_threadpool(
        _graph(request).reference_many, items, enriched_at=_enriched_at(body)
    )
    return _written(request, results)


@router.post("/enriched", dependencies=writes, status_code=204, summary="Mark entities enriched")
async def enriched(request: Request) -> Response:
    """``{"uris": [...], "at": "<time>"}``: these entities' derived facts and index are
    up to date as of ``at`` (unknown URIs are skipped). Answers 204."""
    body = await read_json(request, request.app.state.service.config.server.max_request_bytes)
    if not isinstance(body, dict) or not isinstance(body.get("uris"), list):
        raise Problem(400, "Bad Request", 'the body must be an object {"uris": [...], "at": ...}')
    uris = body["uris"]
    for n, uri in enumerate(uris):
        if not isinstance(uri, str):
            raise Problem(400, "Bad Request", f"uris[{n}]: expected a string")
        try:
            _iri_item(uri, f"uris[{n}]")
        except WireError as error:
            raise Problem(400, "Bad Request", str(error)) from None
    at = _time(body, "at", required=True)
    assert at is not None  # required
    await run_in_threadpool(_graph(request).mark_enriched, uris, at)
    token = generation_of(_graph(request))
    return Response(status_code=204, headers={GENERATION: token} if token else None)


def _iri_item(value: str, where: str) -> str:
    try:
        NamedNode(value)
    except ValueError as error:
        raise WireError(f"{where}: {value[:200]!r} is not an IRI: {error}") from None
    return value
