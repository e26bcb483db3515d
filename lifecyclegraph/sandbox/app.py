"""The sandbox's HTTP API: every installed source system, plus its own control API.

One ASGI app serves every system of the world's :class:`SystemTable` under its own base
URL prefix, ``/{platform id}``: the registry's API is
``/registry/api/v1/models/{model_id}`` and so on, exactly as the source-systems
contract defines it. The routes are made from the table: one ``GET`` per kind (its
``path``), one per search route, none written by hand. Every answer of a system carries an
``ETag`` (a hash of the body); ``If-None-Match`` with that tag gets ``304``. A
``404`` (and every other error) has an RFC 9457 problem body.

Everything that is not the contract lives under ``/_sandbox`` (the world, ids,
changes, faults, request counts, events), so that lifecyclegraph never depends on an
endpoint a real source would not have.

>>> app = create_app(World.load())
>>> sorted(path for path in app.openapi()["paths"] if path.startswith("/registry"))
['/registry/api/v1/instances/{instance_id}', '/registry/api/v1/models/{model_id}']
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from collections.abc import Awaitable, Callable, Sequence

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lifecyclegraph.providers.fake import FakeKind, Lookup
from lifecyclegraph.sandbox.control import control_router, index
from lifecyclegraph.sandbox.events import EventError, MemorySink
from lifecyclegraph.sandbox.faults import FaultError, Faults, RequestLog
from lifecyclegraph.sandbox.kinds import (
    DuplicateObjectError,
    UnknownObjectError,
    WorldError,
)
from lifecyclegraph.sandbox.responses import json_response, problem
from lifecyclegraph.sandbox.systems import SystemTable
from lifecyclegraph.sandbox.world import World

__all__ = ["SourceMiddleware", "create_app"]


# --------------------------------------------------------------------- systems


def _serve(world: World, kind: str, key: tuple[str, ...], if_none_match: str | None) -> Response:
    obj = world.get(kind, key if len(key) > 1 else key[0])
    if obj is None:
        return problem(404, f"no {kind.replace('_', ' ')} {'/'.join(key)!r}")
    return json_response(obj, if_none_match=if_none_match)


_REQUEST = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)


def _path_parameters(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def _get_endpoint(kind: FakeKind) -> Callable[..., Awaitable[Response]]:
    """The GET endpoint of one kind: its key from the path parameters, in order.

    :class:`SourceMiddleware` answers such GETs straight from the world (the same
    answer, without FastAPI's per-request machinery); the endpoint documents the path
    in the OpenAPI schema and serves whatever the fast path does not take.
    """
    names = _path_parameters(kind.path)

    async def endpoint(request: Request, **params: str) -> Response:
        key = tuple(params[name] for name in names)
        return _serve(request.app.state.world, kind.name, key, request.headers.get("if-none-match"))

    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            _REQUEST,
            *(inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=str) for n in names),
        ]
    )
    return endpoint


def _lookup_endpoint(lookup: Lookup) -> Callable[..., Awaitable[Response]]:
    """The endpoint of a search route: ``{wrap: [...]}``, ``400`` without its parameter."""

    async def endpoint(request: Request, **params: str | None) -> Response:
        value = params.get(lookup.param)
        if value is None:
            return problem(
                400, f"give the {lookup.param} query parameter: {lookup.path}?{lookup.param}=..."
            )
        found = request.app.state.world.lookup(lookup.name, value)
        return json_response(
            {lookup.wrap: found}, if_none_match=request.headers.get("if-none-match")
        )

    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            _REQUEST,
            inspect.Parameter(
                lookup.param, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=str | None
            ),
        ]
    )
    return endpoint


def system_routers(table: SystemTable) -> list[APIRouter]:
    """One router per system of ``table``, under ``/{platform id}/``, serving each of its
    kinds (``GET`` of the kind's path) and search routes, as the contract defines them."""
    routers = []
    for system, fake in table.systems.items():
        router = APIRouter(prefix=f"/{system}", tags=[system])
        routes: list[tuple[str, str, str, Callable[..., Awaitable[Response]]]] = [
            (kind.path, f"get_{kind.name}", kind.doc, _get_endpoint(kind)) for kind in fake.kinds
        ]
        routes += [
            (look.path, look.name, look.doc, _lookup_endpoint(look))
            for pid, look in table.lookups
            if pid == system
        ]
        # a search route (/users) before the routes of one object (/users/{user_id})
        for path, name, doc, endpoint in sorted(routes, key=lambda route: route[0].count("{")):
            router.add_api_route(path, endpoint, methods=["GET"], name=name, description=doc)
        routers.append(router)
    return routers


# ------------------------------------------------------------------ middleware


class SourceMiddleware:
    """Counts every request to a system, and applies the rate limit and faults first.

    A request is counted (with its arrival time and status) before its answer starts,
    so a client that has an answer always finds its request in the counts.
    """

    def __init__(
        self,
        app: ASGIApp,
        faults: Faults,
        requests: RequestLog,
        world: World | None = None,
        fast: list[tuple[re.Pattern[str], str]] | None = None,
        systems: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.faults = faults
        self.requests = requests
        self.world = world
        self.fast = fast or []
        self.systems = tuple(systems)

    def _fast_answer(self, scope: Scope) -> Response | None:
        """The answer to a GET of one object, straight from the world (None: no match)."""
        if scope["method"] != "GET" or self.world is None:
            return None
        for pattern, kind in self.fast:
            match = pattern.fullmatch(scope["path"])
            if match:
                key = tuple(match.groupdict().values())
                obj = self.world.get(kind, key if len(key) > 1 else key[0])
                if obj is None:
                    return problem(404, f"no {kind.replace('_', ' ')} {'/'.join(key)!r}")
                headers = dict(scope["headers"])
                tag = headers.get(b"if-none-match")
                return json_response(obj, if_none_match=tag.decode("latin-1") if tag else None)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        system, path = _split(self.systems, scope["path"])
        if system is None:
            await self.app(scope, receive, send)
            return
        arrived = time.time()
        counted = False

        def count(status: int) -> None:
            nonlocal counted
            if not counted:
                counted = True
                self.requests.record(system, scope["method"], path, status, at=arrived)

        try:
            decision = self.faults.decide(system, path)
            if decision.latency:
                await asyncio.sleep(decision.latency)
            if decision.status is not None:
                headers = (
                    {"Retry-After": str(decision.retry_after)}
                    if decision.retry_after is not None
                    else None
                )
                count(decision.status)
                detail = f"{decision.reason} on {system} {path}"
                await problem(decision.status, detail, headers=headers)(scope, receive, send)
                return

            async def counting_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    count(message["status"])
                await send(message)

            answer = self._fast_answer(scope)
            if answer is not None:
                await answer(scope, receive, counting_send)
                return
            await self.app(scope, receive, counting_send)
        finally:
            count(500)  # no answer started: the request failed


def _split(systems: Sequence[str], path: str) -> tuple[str | None, str]:
    """``/registry/api/v1/x`` -> ``("registry", "/api/v1/x")``; ``(None, path)`` elsewhere."""
    for system in systems:
        prefix = "/" + system
        if path == prefix or path.startswith(prefix + "/"):
            return system, path[len(prefix) :]
    return None, path


# ------------------------------------------------------------------------- app


def _handler(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, error: Exception) -> Response:
        return problem(status, str(error))

    return handle


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 404:
        return problem(404, f"nothing at {request.url.path}")
    return problem(error.status_code, str(error.detail), headers=error.headers)


async def _invalid_request(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    details = "; ".join(
        f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in error.errors()
    )
    return problem(400, details or "invalid request")


def create_app(
    world: World,
    *,
    faults: Faults | None = None,
    requests: RequestLog | None = None,
    events: MemorySink | None = None,
) -> FastAPI:
    """The sandbox as an ASGI app serving ``world``.

    Args:
        world: the world to serve and change.
        faults: the faults in force (none by default).
        requests: where requests are counted.
        events: records every event the world emits (subscribed here) for
            ``GET /_sandbox/events``.

    The components are also on ``app.state`` (``world``, ``faults``, ``requests``,
    ``events``).
    """
    faults = faults if faults is not None else Faults()
    requests = requests if requests is not None else RequestLog()
    if events is None:
        events = MemorySink()
    world.subscribe(events.send)
    table = world.table
    app = FastAPI(
        title="lifecyclegraph sandbox",
        description="The source systems of lifecyclegraph, from a demo world. Each system "
        f"is under its own base URL prefix ({', '.join('/' + pid for pid in table.systems)}); "
        "/_sandbox is the sandbox's own control API.",
        version="1",
    )
    app.state.world = world
    app.state.faults = faults
    app.state.requests = requests
    app.state.events = events
    for router in (*system_routers(table), control_router(table)):
        app.include_router(router)
    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.add_exception_handler(UnknownObjectError, _handler(404))
    app.add_exception_handler(DuplicateObjectError, _handler(409))
    for error_type in (WorldError, FaultError, EventError, ValueError):
        app.add_exception_handler(error_type, _handler(400))
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    served = {f"get_{kind.name}": kind.name for kind in table.kinds.values()}
    fast = [
        (route.path_regex, served[route.name])
        for route in app.routes
        if isinstance(route, APIRoute) and route.name in served
    ]
    app.add_middleware(
        SourceMiddleware,
        faults=faults,
        requests=requests,
        world=world,
        fast=fast,
        systems=list(table.systems),
    )
    return app
