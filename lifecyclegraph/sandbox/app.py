"""The sandbox's HTTP API: the six reference source systems, plus its own control API.

One ASGI app serves every system under its own base URL prefix, ``/{platform id}``:
the registry's API is ``/registry/api/v1/models/{model_id}`` and so on, exactly as
the source-systems contract defines it. Every answer of a system carries an
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
import re
import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lifecyclegraph.sandbox.control import control, index
from lifecyclegraph.sandbox.events import EventError, MemorySink
from lifecyclegraph.sandbox.faults import FaultError, Faults, RequestLog
from lifecyclegraph.sandbox.kinds import (
    SYSTEMS,
    DuplicateObjectError,
    UnknownObjectError,
    WorldError,
)
from lifecyclegraph.sandbox.responses import json_response, problem
from lifecyclegraph.sandbox.world import World

__all__ = ["SourceMiddleware", "create_app"]


# --------------------------------------------------------------------- systems


def _serve(request: Request, kind: str, *key: str) -> Response:
    world: World = request.app.state.world
    obj = world.get(kind, key if len(key) > 1 else key[0])
    if obj is None:
        return problem(404, f"no {kind.replace('_', ' ')} {'/'.join(key)!r}")
    return json_response(obj, if_none_match=request.headers.get("if-none-match"))


def serves(
    kind: str,
) -> Callable[[Callable[..., Awaitable[Response]]], Callable[..., Awaitable[Response]]]:
    """Mark an endpoint as serving one kind of object by its path parameters, in order.

    :class:`SourceMiddleware` answers such GETs straight from the world (the same
    answer, without FastAPI's per-request machinery); the endpoint documents the path
    in the OpenAPI schema and serves whatever the fast path does not take.
    """

    def mark(endpoint: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
        endpoint.sandbox_kind = kind  # type: ignore[attr-defined]
        return endpoint

    return mark


registry = APIRouter(prefix="/registry/api/v1", tags=["registry"])
orchestrator = APIRouter(prefix="/orchestrator/api/v1", tags=["orchestrator"])
experimentation = APIRouter(prefix="/experimentation/api/v1", tags=["experimentation"])
featurestore = APIRouter(prefix="/featurestore/api/v1", tags=["featurestore"])
datasets = APIRouter(prefix="/datasets/api/v1", tags=["datasets"])
identity = APIRouter(prefix="/identity/api/v1", tags=["identity"])


@registry.get("/models/{model_id}")
@serves("model")
async def get_model(request: Request, model_id: str) -> Response:
    """A model, with its current instance if it has one."""
    return _serve(request, "model", model_id)


@registry.get("/instances/{instance_id}")
@serves("instance")
async def get_instance(request: Request, instance_id: str) -> Response:
    """A model instance (a trained version of a model)."""
    return _serve(request, "instance", instance_id)


@orchestrator.get("/pipelines/{pipeline}")
@serves("pipeline")
async def get_pipeline(request: Request, pipeline: str) -> Response:
    """A pipeline: schedule, and nodes with the datasets they read and write."""
    return _serve(request, "pipeline", pipeline)


@orchestrator.get("/pipeline-runs/{run_id}")
@serves("run")
async def get_run(request: Request, run_id: str) -> Response:
    """A pipeline run: status, attempts, A/B test cells, dataset versions read and written."""
    return _serve(request, "run", run_id)


@experimentation.get("/tests/{test_id}")
@serves("test")
async def get_test(request: Request, test_id: str) -> Response:
    """An A/B test and its cells."""
    return _serve(request, "test", test_id)


@featurestore.get("/features/{feature_id}")
@serves("feature")
async def get_feature(request: Request, feature_id: str) -> Response:
    """A feature, its source datasets and the pipeline that computes it."""
    return _serve(request, "feature", feature_id)


@datasets.get("/datasets/{dataset_id}")
@serves("dataset")
async def get_dataset(request: Request, dataset_id: str) -> Response:
    """A dataset, its upstream datasets and latest version."""
    return _serve(request, "dataset", dataset_id)


@datasets.get("/datasets/{dataset_id}/versions/{version}")
@serves("dataset_version")
async def get_dataset_version(request: Request, dataset_id: str, version: str) -> Response:
    """One version of a dataset and the run that produced it."""
    return _serve(request, "dataset_version", dataset_id, version)


@identity.get("/users")
async def find_users(request: Request, email: str | None = None) -> Response:
    """The users with an email: ``{"users": [...]}``, empty when nobody has it."""
    if email is None:
        return problem(400, "give the email query parameter: /api/v1/users?email=...")
    users = request.app.state.world.find_users(email)
    return json_response({"users": users}, if_none_match=request.headers.get("if-none-match"))


@identity.get("/users/{user_id}")
@serves("user")
async def get_user(request: Request, user_id: str) -> Response:
    """A user and the teams they belong to."""
    return _serve(request, "user", user_id)


@identity.get("/teams/{team_id}")
@serves("team")
async def get_team(request: Request, team_id: str) -> Response:
    """A team, its parent team and members."""
    return _serve(request, "team", team_id)


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
    ) -> None:
        self.app = app
        self.faults = faults
        self.requests = requests
        self.world = world
        self.fast = fast or []

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
        system, path = _split(scope["path"])
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


def _split(path: str) -> tuple[str | None, str]:
    """``/registry/api/v1/x`` -> ``("registry", "/api/v1/x")``; ``(None, path)`` elsewhere."""
    for system in SYSTEMS:
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
    app = FastAPI(
        title="lifecyclegraph sandbox",
        description="The six reference source systems of lifecyclegraph, from a demo world. "
        "Each system is under its own base URL prefix (/registry, /orchestrator, "
        "/experimentation, /featurestore, /datasets, /identity); /_sandbox is the "
        "sandbox's own control API.",
        version="1",
    )
    app.state.world = world
    app.state.faults = faults
    app.state.requests = requests
    app.state.events = events
    for router in (
        registry,
        orchestrator,
        experimentation,
        featurestore,
        datasets,
        identity,
        control,
    ):
        app.include_router(router)
    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.add_exception_handler(UnknownObjectError, _handler(404))
    app.add_exception_handler(DuplicateObjectError, _handler(409))
    for error_type in (WorldError, FaultError, EventError, ValueError):
        app.add_exception_handler(error_type, _handler(400))
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    fast = [
        (route.path_regex, route.endpoint.sandbox_kind)
        for router in (registry, orchestrator, experimentation, featurestore, datasets, identity)
        for route in router.routes
        if isinstance(route, APIRoute) and hasattr(route.endpoint, "sandbox_kind")
    ]
    app.add_middleware(SourceMiddleware, faults=faults, requests=requests, world=world, fast=fast)
    return app
