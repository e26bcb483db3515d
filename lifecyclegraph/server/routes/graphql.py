"""``/graphql``: the GraphQL endpoint (POST JSON ``{query, variables}``, or GET).

The schema is generated from the ontology when the app is created
(:mod:`lifecyclegraph.read.graphql.schema`); this module reads the request, runs the query
in a worker thread, at most ``graphql_workers`` at once, and stops it when the client
goes away. The limits themselves are :mod:`lifecyclegraph.read.graphql.limits`'s; a query
over one is answered with a problem document that names it (``docs/graphql.md``).
"""

from __future__ import annotations

import math
import threading
from functools import partial
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse

from lifecyclegraph.core.errors import (
    GraphQLAnswerTooLargeError,
    GraphQLCancelledError,
    GraphQLLimitError,
    GraphQLTimeoutError,
    JsonTextError,
)
from lifecyclegraph.core.jsontext import loads
from lifecyclegraph.read.graphql.limits import Budget, GraphQLLimits
from lifecyclegraph.read.graphql.schema import execute
from lifecyclegraph.server.auth import read_guard
from lifecyclegraph.server.body import not_json, read_json
from lifecyclegraph.server.models import ProblemModel
from lifecyclegraph.server.problems import Problem

__all__ = ["GraphQLRunner", "router"]


router = APIRouter(tags=["graphql"], dependencies=[Depends(read_guard)])

_REQUEST = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["query"],
                    "properties": {
                        "query": {"type": "string"},
                        "variables": {"type": ["object", "null"]},
                        "operationName": {"type": ["string", "null"]},
                    },
                },
                "example": {
                    "query": '{ model(id: "aip://model/registry/ranking-model") { name } }'
                },
            }
        },
    }
}
_PROBLEM = {"model": ProblemModel, "content": {"application/problem+json": {}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the result: `data`, and `errors` if any field failed"},
    400: {
        "description": "no query, or a query that does not parse or validate (GraphQL "
        "`errors`); or one over a limit checked before it runs: tokens, depth, aliases, "
        "page size, cost (a problem document naming the `graphql_*` setting)",
        "content": {"application/json": {}, "application/problem+json": {}},
    },
    401: {**_PROBLEM, "description": "reads need a token on this server"},
    413: {**_PROBLEM, "description": "request body over max_request_bytes"},
    422: {
        **_PROBLEM,
        "description": "the answer grew past graphql_max_answer_bytes, or a plain list past "
        "graphql_max_page_size; nothing is sent",
    },
    503: {
        **_PROBLEM,
        "description": "stopped at graphql_timeout, or every GraphQL worker busy (with "
        "Retry-After)",
    },
}


#: The problem member that says what a request came to, by the limit it went over.
_MEASURED = {
    "graphql_max_tokens": "tokens",
    "graphql_max_depth": "depth",
    "graphql_max_aliases": "aliases",
    "graphql_max_page_size": "first",
    "graphql_max_cost": "cost",
    "graphql_max_answer_bytes": "answer_bytes",
}


class GraphQLRunner:
    """Runs one app's GraphQL queries: each in a worker thread, at most ``workers`` at
    once, and stops a query whose client went away.

    Args:
        limits: the limits of every query.
        workers: how many queries may run at once; the others wait for a free worker.
        wait: how long a query waits for one (default: the time limit), then 503.
    """

    def __init__(self, limits: GraphQLLimits, workers: int, wait: float | None = None) -> None:
        self.limits = limits
        self.workers = workers
        self.wait = wait if wait is not None else (limits.timeout or 10.0)
        self._slots: anyio.Semaphore | None = None
        self.running = 0  #: queries running now
        self.waiting = 0  #: queries waiting for a worker now
        self.counts = {"answered": 0, "refused": 0, "timeouts": 0, "cancelled": 0, "busy": 0}

    @classmethod
    def of(cls, app: FastAPI) -> GraphQLRunner:
        """The app's runner, made from its configuration on first use."""
        state = app.state
        runner = getattr(state, "graphql_runner", None)
        if runner is None:
            server = state.service.config.server
            runner = state.graphql_runner = cls(GraphQLLimits.of(server), server.graphql_workers)
        return runner

    def stats(self) -> dict[str, int]:
        """Counts for a status page: running and waiting now, and outcomes so far."""
        return {"running": self.running, "waiting": self.waiting, **self.counts}

    async def run(
        self, request: Request, query: str, variables: Any, operation: Any
    ) -> dict[str, Any]:
        """Run the query for ``request``; raise :class:`Problem` for a limit."""
        if self._slots is None:
            self._slots = anyio.Semaphore(self.workers)
        self.waiting += 1
        try:
            with anyio.move_on_after(self.wait) as waited:
                await self._slots.acquire()
        finally:
            self.waiting -= 1
        if waited.cancelled_caught:
            self.counts["busy"] += 1
            raise Problem(
                503,
                "Service Unavailable",
                f"all {self.workers} GraphQL workers stayed busy for {self.wait:g} s "
                "(graphql_workers)",
                retry_after=max(1, math.ceil(self.wait)),
            )
        self.running += 1
        try:
            return await self._execute(request, query, variables, operation)
        finally:
            self.running -= 1
            self._slots.release()

    async def _execute(
        self, request: Request, query: str, variables: Any, operation: Any
    ) -> dict[str, Any]:
        cancel = threading.Event()
        budget = Budget(self.limits, cancel)
        call = partial(
            execute,
            request.app.state.graphql_schema,
            request.app.state.service.graph,
            query,
            variables,
            operation,
            budget,
        )

        async def watch() -> None:
            # The body has been read: the next message is the client leaving.
            while (await request.receive())["type"] != "http.disconnect":
                pass
            cancel.set()

        outcome: dict[str, Any] = {}
        async with anyio.create_task_group() as group:
            group.start_soon(watch)
            try:
                outcome["result"] = await anyio.to_thread.run_sync(call)
            except (GraphQLLimitError, GraphQLCancelledError) as error:
                outcome["error"] = error
            group.cancel_scope.cancel()
        if "error" in outcome:
            raise self._problem(outcome["error"])
        self.counts["answered"] += 1
        result: dict[str, Any] = outcome["result"]
        return result

    def _problem(self, error: GraphQLLimitError | GraphQLCancelledError) -> Problem:
        """The problem document for a query stopped or refused at a limit."""
        detail = str(error)
        if isinstance(error, GraphQLCancelledError):
            self.counts["cancelled"] += 1
            return Problem(499, "Client Closed Request", detail)
        extra: dict[str, Any] = {error.setting: error.limit}
        if error.measured is not None:
            extra[_MEASURED.get(error.setting, "measured")] = error.measured
        if error.path is not None:
            extra["path"] = error.path
        message: dict[str, Any] = {"message": detail}
        if error.locations:
            message["locations"] = [{"line": ln, "column": col} for ln, col in error.locations]
        if error.path is not None:
            message["path"] = error.path
        extra["errors"] = [message]  # for clients that read only GraphQL's errors
        if isinstance(error, GraphQLTimeoutError):
            self.counts["timeouts"] += 1
            return Problem(503, "Service Unavailable", detail, **extra)
        self.counts["refused"] += 1
        if isinstance(error, GraphQLAnswerTooLargeError):
            if error.setting == "graphql_max_page_size":
                extra["items"] = extra.pop("first")
            return Problem(422, "Unprocessable Content", detail, **extra)
        return Problem(400, "Bad Request", detail, **extra)


async def _run(request: Request, query: Any, variables: Any, operation: Any) -> JSONResponse:
    if not isinstance(query, str) or not query.strip():
        raise Problem(400, "Bad Request", "send a GraphQL query as 'query'")
    if variables is not None and not isinstance(variables, dict):
        raise Problem(400, "Bad Request", "'variables' must be a JSON object")
    if operation is not None and not isinstance(operation, str):
        raise Problem(400, "Bad Request", "'operationName' must be text")
    result = await GraphQLRunner.of(request.app).run(request, query, variables, operation)
    return JSONResponse(result, status_code=200 if result.get("data") is not None else 400)


@router.post("/graphql", openapi_extra=_REQUEST, responses=_RESPONSES)
async def graphql_post(request: Request) -> JSONResponse:
    """Run a GraphQL query sent as JSON ``{"query", "variables", "operationName"}``."""
    body = await read_json(request, request.app.state.service.config.server.max_request_bytes)
    if not isinstance(body, dict):
        raise Problem(400, "Bad Request", "the body must be a JSON object with 'query'")
    return await _run(request, body.get("query"), body.get("variables"), body.get("operationName"))


@router.get("/graphql", responses=_RESPONSES)
async def graphql_get(
    request: Request,
    query: Annotated[str, Query(description="the GraphQL query")],
    variables: Annotated[str | None, Query(description="JSON object of variables")] = None,
    operationName: Annotated[str | None, Query()] = None,
) -> JSONResponse:
    """Run a GraphQL query given in the query string."""
    parsed = None
    if variables:
        try:
            parsed = loads(variables)
        except JsonTextError as error:
            raise not_json(error, "'variables'") from None
    return await _run(request, query, parsed, operationName)
