"""JSON and problem responses with an ``ETag``, and ``304`` for a matching ``If-None-Match``.

>>> json_response({"id": "m"}).headers["ETag"] == etag_of(b'{"id":"m"}')
True
>>> json_response({"id": "m"}, if_none_match=etag_of(b'{"id":"m"}')).status_code
304
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

__all__ = ["PROBLEM", "etag_of", "json_response", "problem"]

#: The media type of an RFC 9457 problem body.
PROBLEM = "application/problem+json"


def etag_of(body: bytes) -> str:
    """The strong entity tag of a response body.

    >>> etag_of(b"{}")
    '"44136fa355b3678a1146ad16f7e8649e"'
    """
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _tag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


def json_response(
    payload: Any,
    status: int = 200,
    *,
    if_none_match: str | None = None,
    headers: Mapping[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    """A JSON response with an ``ETag``; ``304`` when ``if_none_match`` holds the tag of a
    ``200`` body."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    etag = etag_of(body)
    all_headers = {"ETag": etag, **(headers or {})}
    if status == 200 and _tag_matches(if_none_match, etag):
        return Response(status_code=304, headers=all_headers)
    return Response(body, status_code=status, headers=all_headers, media_type=media_type)


def problem(status: int, detail: str, *, headers: Mapping[str, str] | None = None) -> Response:
    """An RFC 9457 problem response (``application/problem+json``), with an ``ETag``.

    >>> json.loads(problem(404, "no model 'x'").body)["title"]
    'Not Found'
    """
    payload = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    return json_response(payload, status, headers=headers, media_type=PROBLEM)
