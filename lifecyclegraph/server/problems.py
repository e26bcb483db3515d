"""Errors as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CrashGuard", "Problem", "install_problem_handlers", "problem_response"]

MEDIA_TYPE = "application/problem+json"

log = logging.getLogger("lifecyclegraph.api")


class Problem(Exception):
    """An error to answer with a problem-details document."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def problem_response(
    status: int, title: str, detail: str, instance: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error a problem-details response; never leak a traceback.

    Installs the handlers of :class:`Problem`, HTTP errors and invalid parameters,
    and :class:`CrashGuard` for everything else.
    """

    @app.exception_handler(Problem)
    async def _problem(request: Request, error: Problem) -> JSONResponse:
        return problem_response(
            error.status, error.title, error.detail, request.url.path, **error.extra
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not Found", 405: "Method Not Allowed", 401: "Unauthorized"}
        response = problem_response(
            error.status_code,
            titles.get(error.status_code, "Error"),
            str(error.detail),
            request.url.path,
        )
        for key, value in (error.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        return problem_response(400, "Bad Request", "; ".join(problems), request.url.path)

    app.add_middleware(CrashGuard)


class CrashGuard:
    """ASGI middleware: an exception no handler took becomes a ``500`` problem.

    The traceback is logged (``lifecyclegraph.server.app``) with an incident id that the
    answer names; the answer holds nothing else of the error. Unlike an exception
    that reaches the server, it keeps the connection open for the client's next
    request. Client faults never get here: they are ``4xx`` problems on their way.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            incident = secrets.token_hex(6)
            log.exception(
                "incident %s: %s %s failed", incident, scope.get("method"), scope.get("path")
            )
            if started:
                raise  # too late to answer: the server ends the response and the connection
            response = problem_response(
                500,
                "Internal Server Error",
                f"the server failed to answer; its log holds incident {incident}",
                scope.get("path"),
                incident=incident,
            )
            await response(scope, receive, send)
