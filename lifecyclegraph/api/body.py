"""Reading request bodies with a size limit, whatever the client claims."""

from __future__ import annotations

from fastapi import Request

from lifecyclegraph.api.problems import Problem

__all__ = ["read_body"]


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
