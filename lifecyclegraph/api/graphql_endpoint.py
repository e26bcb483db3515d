"""``/graphql``: the GraphQL endpoint (POST JSON ``{query, variables}``, or GET).

The schema is generated from the ontology when the app is created
(:mod:`lifecyclegraph.graphql_schema`); this module only reads the request.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lifecyclegraph.api.body import read_body
from lifecyclegraph.api.problems import Problem
from lifecyclegraph.graphql_schema import execute

__all__ = ["router"]


def _read_guard(request: Request) -> None:
    request.app.state.guard.require_read(request)


router = APIRouter(tags=["graphql"], dependencies=[Depends(_read_guard)])

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
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the result: `data`, and `errors` if any field failed"},
    400: {"description": "no query, or a query that does not parse or validate"},
}


def _run(request: Request, query: Any, variables: Any, operation: Any) -> JSONResponse:
    if not isinstance(query, str) or not query.strip():
        raise Problem(400, "Bad Request", "send a GraphQL query as 'query'")
    if variables is not None and not isinstance(variables, dict):
        raise Problem(400, "Bad Request", "'variables' must be a JSON object")
    if operation is not None and not isinstance(operation, str):
        raise Problem(400, "Bad Request", "'operationName' must be text")
    result = execute(
        request.app.state.graphql_schema,
        request.app.state.service.graph,
        query,
        variables,
        operation,
    )
    return JSONResponse(result, status_code=200 if result.get("data") is not None else 400)


@router.post("/graphql", openapi_extra=_REQUEST, responses=_RESPONSES)
async def graphql_post(request: Request) -> JSONResponse:
    """Run a GraphQL query sent as JSON ``{"query", "variables", "operationName"}``."""
    raw = await read_body(request, request.app.state.service.config.server.max_request_bytes)
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise Problem(400, "Bad Request", f"the body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise Problem(400, "Bad Request", "the body must be a JSON object with 'query'")
    return await run_in_threadpool(
        _run, request, body.get("query"), body.get("variables"), body.get("operationName")
    )


@router.get("/graphql", responses=_RESPONSES)
def graphql_get(
    request: Request,
    query: Annotated[str, Query(description="the GraphQL query")],
    variables: Annotated[str | None, Query(description="JSON object of variables")] = None,
    operationName: Annotated[str | None, Query()] = None,
) -> JSONResponse:
    """Run a GraphQL query given in the query string."""
    parsed = None
    if variables:
        try:
            parsed = json.loads(variables)
        except json.JSONDecodeError as error:
            raise Problem(400, "Bad Request", f"'variables' is not JSON: {error}") from None
    return _run(request, query, parsed, operationName)
