"""Reading request bodies: a size limit whatever the client claims, and JSON decoded
one way for every route (:mod:`lifecyclegraph.core.jsontext`)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from lifecyclegraph.core.errors import JsonTextError
from lifecyclegraph.core.jsontext import loads
from lifecyclegraph.server.problems import Problem

__all__ = ["not_json", "object_or_array_body", "read_body", "read_json"]


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or a 413 problem if it is larger than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Problem(400, "Bad Request", "Content-Length is not a number")
        if int(declared) > limit:
            raise Problem(
                413, "Content Too Large", f"the body is {declared} bytes; the limit is {limit}"
            )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "Content Too Large", f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def not_json(error: JsonTextError, what: str = "the body") -> Problem:
    """The 400 problem for JSON that cannot be taken: what is wrong, ``line`` and ``column``."""
    return Problem(
        400, "Bad Request", f"{what} is not JSON: {error}", line=error.lineno, column=error.colno
    )


async def read_json(request: Request, limit: int) -> Any:
    """The request body decoded as JSON (UTF-8), or a 400 problem saying what and where.

    Raises:
        Problem: 413 over ``limit`` bytes; 400 if the body is not JSON, or is JSON over
            a decoder limit (integer digits, nesting, ``NaN``, lone surrogates).
    """
    raw = await read_body(request, limit)
    try:
        return loads(raw)
    except JsonTextError as error:
        raise not_json(error) from None


def object_or_array_body(example: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of a route that takes one JSON object or an array of
    them (events in, OpenLineage run events in), with ``example``."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"type": "object"},
                            {"type": "array", "items": {"type": "object"}},
                        ]
                    },
                    "example": example,
                }
            },
        }
    }
