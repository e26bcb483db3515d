"""``/sparql``: the SPARQL 1.1 Protocol endpoint (queries only), over the current state
or, with the ``as_of`` extension, over the graph as it was at a past time.

The route only reads the protocol's parameters and maps errors to problem details;
the query runs in :class:`lifecyclegraph.store.sparql.QueryPool` (worker processes with a
timeout). See ``docs/sparql.md``.

``GET`` and ``POST /sparql`` are documented (OpenAPI) as FastAPI routes, but
:class:`SparqlShortcut`, a middleware inside the app's own, hands them to the same
handlers straight away, past FastAPI's routing and dependency solving: a point lookup
is the endpoint's most common request, and those layers cost it more than the
query's evaluation (``docs/benchmarks.md``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pyoxigraph import NamedNode
from starlette.routing import get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send

from lifecyclegraph.core.errors import (
    NotAcceptableError,
    QueryError,
    QueryEvaluationError,
    QueryRefusedError,
    QueryRequestError,
    QuerySyntaxError,
    QueryTimeoutError,
    QueryTooComplexError,
    QueryUnavailableError,
    ResultLimitError,
)
from lifecyclegraph.server.auth import read_guard
from lifecyclegraph.server.body import read_body
from lifecyclegraph.server.models import ProblemModel
from lifecyclegraph.server.problems import Problem
from lifecyclegraph.server.routes.graph import GENERATION, MIN_GENERATION
from lifecyclegraph.server.sparql_description import service_description
from lifecyclegraph.store.sparql.formats import GRAPH, SOLUTIONS, accepts_any

__all__ = ["SparqlShortcut", "router"]

router = APIRouter(tags=["sparql"])

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"
MAX_FIELDS = 1000

NOT_OFFERED = (
    "SPARQL Update is not offered: the graph is written only by ingestion "
    "(POST /api/v1/events), so that every fact keeps its source and time"
)

_PROBLEM = {"model": ProblemModel, "content": {"application/problem+json": {}}}
_ANY: dict[str, Any] = {"schema": {}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the result in the negotiated format (see docs/sparql.md); without a "
        "query, the service description",
        "content": {media: _ANY for media in (*SOLUTIONS, *GRAPH)},
    },
    400: {
        **_PROBLEM,
        "description": "malformed query (with line and column), refused feature (SERVICE, "
        "LOAD: `refused`), bad parameter, too deeply nested",
    },
    401: {**_PROBLEM, "description": "reads need a token on this server"},
    403: {**_PROBLEM, "description": "SPARQL Update is not offered"},
    406: {**_PROBLEM, "description": "no acceptable result format (`acceptable` lists them)"},
    413: {**_PROBLEM, "description": "request body over max_request_bytes"},
    415: {**_PROBLEM, "description": "unsupported request media type or charset"},
    422: {**_PROBLEM, "description": "the result has more than max_results rows or triples"},
    503: {
        **_PROBLEM,
        "description": "stopped at query_timeout, or every worker busy (with Retry-After)",
    },
}
_GRAPH_PARAMETERS = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "array", "items": {"type": "string", "format": "iri"}},
        "style": "form",
        "explode": True,
    }
    for name, description in (
        ("default-graph-uri", "these graphs, merged, are the default graph"),
        ("named-graph-uri", "the only graphs GRAPH can see"),
    )
]
_AS_OF_PARAMETER = {
    "name": "as_of",
    "in": "query",
    "required": False,
    "description": "an extension: run the query on the graph as it was at this time (ISO "
    "8601 with a time zone, e.g. 2026-01-02T00:00:00Z), as graph.as_of(t).sparql() does "
    "(docs/sparql.md); in a form body too",
    "schema": {"type": "string", "format": "date-time"},
}
_MIN_GENERATION_PARAMETER = {
    "name": MIN_GENERATION,
    "in": "header",
    "required": False,
    "description": "read your writes: <epoch>:<n> as a write's Lifecyclegraph-Generation "
    "header gave it; the query sees at least that generation (docs/sparql.md)",
    "schema": {"type": "string", "pattern": "^[^:]+:[0-9]+$"},
}
_QUERY_PARAMETER = {
    "name": "query",
    "in": "query",
    "required": False,
    "description": "the SPARQL query; without it, the service description",
    "schema": {"type": "string"},
    "example": "SELECT ?model ?name WHERE { ?model a lg:Model ; lg:name ?name }",
}


class _Params:
    """Protocol parameters from the URL and, for a form, the body (repeats kept)."""

    def __init__(self, *texts: str) -> None:
        self.pairs: list[tuple[str, str]] = []
        for text in texts:
            try:
                self.pairs += parse_qsl(
                    text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS
                )
            except (ValueError, UnicodeDecodeError) as error:
                raise Problem(
                    400, "Bad Request", f"the parameters cannot be read: {error}"
                ) from None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def one(self, name: str) -> str | None:
        values = self.all(name)
        if len(values) > 1:
            raise Problem(400, "Bad Request", f"{len(values)} '{name}' parameters; give one")
        return values[0] if values else None


def _media_type(request: Request) -> tuple[str, str | None]:
    """The request's media type (lower case) and its charset parameter, if any."""
    header = request.headers.get("content-type", "")
    media, *params = (part.strip() for part in header.split(";"))
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.lower(), charset


def _decode(body: bytes, charset: str | None, what: str) -> str:
    if charset not in (None, "utf-8", "utf8"):
        raise Problem(415, "Unsupported Media Type", f"{what} must be UTF-8, not {charset}")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Problem(400, "Bad Request", f"{what} is not valid UTF-8: {error}") from None


def _endpoint(request: Request) -> str | None:
    """This endpoint's URL (the base IRI of queries), if the request makes a valid one."""
    url = str(request.url.replace(query="", fragment=""))
    try:
        NamedNode(url)
    except ValueError:
        return None
    return url


def _problem(error: QueryError) -> Problem:
    """The problem-details answer for a query error."""
    detail = str(error)
    if isinstance(error, QuerySyntaxError):
        where = {"line": error.lineno, "column": error.offset} if error.lineno else {}
        return Problem(400, "Bad Request", detail, **where)
    if isinstance(error, QueryRefusedError):
        return Problem(400, "Bad Request", detail, refused=error.feature)
    if isinstance(error, QueryRequestError | QueryTooComplexError | QueryEvaluationError):
        return Problem(400, "Bad Request", detail)
    if isinstance(error, NotAcceptableError):
        return Problem(406, "Not Acceptable", detail, acceptable=error.offered)
    if isinstance(error, ResultLimitError):
        return Problem(422, "Unprocessable Content", detail, max_results=error.limit)
    if isinstance(error, QueryTimeoutError):
        return Problem(503, "Service Unavailable", detail, query_timeout=error.timeout)
    if isinstance(error, QueryUnavailableError):
        return Problem(503, "Service Unavailable", detail, retry_after=error.retry_after)
    return Problem(500, "Internal Server Error", f"the query failed: {detail}")


async def _query(request: Request, query: str, params: _Params) -> Response:
    accept = request.headers.get("accept")
    if not accepts_any(accept, SOLUTIONS + GRAPH):
        offered = list(SOLUTIONS + GRAPH)
        raise Problem(
            406,
            "Not Acceptable",
            f"results can be sent as {', '.join(offered)}; the request accepts none of "
            f"them (Accept: {accept})",
            acceptable=offered,
        )
    as_of = as_of_parameter(params.one("as_of"))
    pool = request.app.state.service.queries
    try:
        result = await pool.execute_async(
            query,
            accept=accept,
            default_graphs=params.all("default-graph-uri") or None,
            named_graphs=params.all("named-graph-uri") or None,
            base_iri=_endpoint(request),
            min_generation=_min_generation(request),
            in_thread=run_in_threadpool,
            as_of=as_of,
        )
    except QueryError as error:
        raise _problem(error) from None
    return Response(result.body, media_type=result.media_type, headers={"Vary": "Accept"})


def as_of_parameter(text: str | None) -> datetime | None:
    """The time an ``as_of`` parameter names (ISO 8601 with a time zone; ``Z`` for
    UTC), or ``None`` without one.

    Raises:
        Problem: 400 naming the parameter and the value, for a text that is not such a
            time (a time without a zone is refused: it would be read in the server's).
    """
    if text is None:
        return None
    example = "e.g. 2026-01-02T00:00:00Z"
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Problem(
            400,
            "Bad Request",
            f"as_of {text[:80]!r} is not a time: give ISO 8601 with a time zone, {example}",
            parameter="as_of",
        ) from None
    if when.tzinfo is None:
        raise Problem(
            400,
            "Bad Request",
            f"as_of {text[:80]!r} has no time zone: add one, {example}",
            parameter="as_of",
        )
    return when


def _min_generation(request: Request) -> int | None:
    """The generation a ``Lifecyclegraph-Min-Generation: <epoch>:<n>`` header asks the
    query to see (read your writes); ``None`` without one, or for another epoch (the
    store was opened again since: every write the client made is in it)."""
    header = request.headers.get(MIN_GENERATION)
    if header is None:
        return None
    epoch, _, number = header.strip().partition(":")
    if not epoch or not number.isdigit() or len(number) > 18:
        raise Problem(
            400,
            "Bad Request",
            f"{MIN_GENERATION} must be <epoch>:<n> as a write's {GENERATION} header gave it, "
            f"not {header[:80]!r}",
        )
    if epoch != getattr(request.app.state.service.graph, "epoch", None):
        return None
    return int(number)


async def _update(request: Request, update: str) -> Response:
    """Refuse an update: 400 for a syntax error or ``LOAD``, else 403."""
    try:
        await run_in_threadpool(request.app.state.service.queries.check_update, update)
    except QueryError as error:
        raise _problem(error) from None
    raise Problem(403, "Forbidden", NOT_OFFERED)


def _description(request: Request) -> Response:
    try:
        body, media_type = service_description(
            _endpoint(request) or "urn:lifecyclegraph:sparql", request.headers.get("accept")
        )
    except NotAcceptableError as error:
        raise _problem(error) from None
    return Response(body, media_type=media_type, headers={"Vary": "Accept"})


@router.get(
    "/sparql",
    dependencies=[Depends(read_guard)],
    summary="SPARQL query (?query=), or the service description without one",
    responses=RESPONSES,
    openapi_extra={
        "parameters": [
            _QUERY_PARAMETER,
            *_GRAPH_PARAMETERS,
            _AS_OF_PARAMETER,
            _MIN_GENERATION_PARAMETER,
        ]
    },
)
async def sparql_get(request: Request) -> Response:
    """Run ``?query=`` on the current state; with no query, describe the service.

    ``default-graph-uri`` and ``named-graph-uri`` (repeatable) set the dataset;
    without them the default graph is the union of every graph. ``as_of`` (an
    extension) runs the query on the graph as it was at that time.
    """
    params = _Params(request.url.query)
    query = params.one("query")
    if params.all("update"):
        if query is not None:
            raise Problem(400, "Bad Request", "give either 'query' or 'update', not both")
        raise Problem(400, "Bad Request", "updates are never sent with GET; " + NOT_OFFERED)
    if query is None:
        return _description(request)
    return await _query(request, query, params)


@router.post(
    "/sparql",
    dependencies=[Depends(read_guard)],
    summary="SPARQL query as a form (query=) or directly (application/sparql-query)",
    responses=RESPONSES,
    openapi_extra={
        "parameters": [*_GRAPH_PARAMETERS, _AS_OF_PARAMETER, _MIN_GENERATION_PARAMETER],
        "requestBody": {
            "required": True,
            "content": {
                QUERY: {"schema": {"type": "string"}, "example": "ASK { ?s ?p ?o }"},
                FORM: {
                    "schema": {
                        "type": "object",
                        "required": ["query"],
                        "properties": {
                            "query": {"type": "string"},
                            "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                            "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                            "as_of": {"type": "string", "format": "date-time"},
                        },
                    }
                },
            },
        },
    },
)
async def sparql_post(request: Request) -> Response:
    """Run a query sent in the body (a form, or the query itself) on the current state,
    or on the state at ``as_of`` (in the URL, or in the form)."""
    media, charset = _media_type(request)
    if media not in (FORM, QUERY, UPDATE):
        raise Problem(
            415,
            "Unsupported Media Type",
            f"send the query as {FORM} (query=…) or as {QUERY}"
            + (f", not {media}" if media else "; the request has no Content-Type"),
        )
    body = await read_body(request, request.app.state.service.config.server.max_request_bytes)
    url = _Params(request.url.query)
    if media == FORM:
        params = _Params(request.url.query, _decode(body, charset, "the form"))
        query, update = params.one("query"), params.one("update")
        if query is not None and update is not None:
            raise Problem(400, "Bad Request", "give either 'query' or 'update', not both")
        if update is not None:
            return await _update(request, update)
        if query is None:
            raise Problem(400, "Bad Request", "the form has no 'query' parameter")
        return await _query(request, query, params)
    if url.all("query") or url.all("update"):
        raise Problem(
            400, "Bad Request", "the body is the query: the URL must not hold 'query' or 'update'"
        )
    text = _decode(body, charset, "the body")
    if media == UPDATE:
        return await _update(request, text)
    return await _query(request, text, url)


class SparqlShortcut:
    """ASGI middleware: ``GET`` and ``POST /sparql`` go straight to :func:`sparql_get`
    and :func:`sparql_post`, with the read guard, as FastAPI's routes would send them.

    Every other request (another path, ``HEAD``, ``PUT``…) goes on to the app. An
    error is answered by the app's own exception handlers (problem details), exactly
    as through the routes; one that no handler takes goes up to the middleware
    outside (:class:`~lifecyclegraph.server.problems.CrashGuard`). Add it before any
    other middleware, so that it sits inside them all (CORS, the crash guard).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "POST")
            or get_route_path(scope) != "/sparql"
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive, send)
        try:
            await read_guard(request)
            if scope["method"] == "GET":
                response = await sparql_get(request)
            else:
                response = await sparql_post(request)
        except Exception as error:
            handler = _handler(request.app.exception_handlers, error)
            if handler is None:
                raise
            response = await handler(request, error)
        await response(scope, receive, send)


def _handler(handlers: dict[Any, Any], error: Exception) -> Any:
    """The app's exception handler for ``error`` (the nearest class), or ``None``."""
    for cls in type(error).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None
