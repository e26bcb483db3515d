"""The FastAPI application."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from lifecyclegraph.api import (
    entities,
    events,
    graphql_endpoint,
    openlineage_routes,
    sparql,
    webhook_routes,
)
from lifecyclegraph.api.auth import TokenGuard
from lifecyclegraph.api.problems import install_problem_handlers
from lifecyclegraph.graphql_schema import load_schema
from lifecyclegraph.service import Service

__all__ = ["create_app"]


def create_app(
    service: Service, write_tokens: list[str] | None = None, manage_service: bool = True
) -> FastAPI:
    """The HTTP app over ``service``.

    Args:
        service: the running service the routes call.
        write_tokens: tokens allowed to write (default: the configuration's).
        manage_service: start and stop the service with the app.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        if manage_service:
            await service.start()
        yield
        if manage_service:
            await service.stop()

    server = service.config.server
    app = FastAPI(
        title="lifecyclegraph",
        summary="The Model Lifecycle Graph: ML assets, where they come from, what they affect.",
        version="0.1.0",
        lifespan=lifespan,
        # Served below, behind the read guard like every other read.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.service = service
    tokens = (
        write_tokens
        if write_tokens is not None
        else [t.get_secret_value() for t in server.write_tokens]
    )
    app.state.guard = TokenGuard(tokens, [t.get_secret_value() for t in server.read_tokens])
    install_problem_handlers(app)
    if server.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=server.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
        )

    def read_guard(request: Request) -> None:
        request.app.state.guard.require_read(request)

    app.include_router(events.router)
    app.include_router(webhook_routes.router)
    app.include_router(openlineage_routes.router)
    app.include_router(sparql.router)
    app.include_router(entities.router)
    app.state.graphql_schema = load_schema()
    app.include_router(graphql_endpoint.router)

    @app.get("/api/v1/status", tags=["status"], dependencies=[Depends(read_guard)])
    async def status(request: Request) -> JSONResponse:
        """Queue depth, lag and failures per source."""
        return JSONResponse(request.app.state.service.status())

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(read_guard)])
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(read_guard)])
    async def docs(request: Request) -> HTMLResponse:
        schema = request.scope.get("root_path", "") + "/openapi.json"
        return get_swagger_ui_html(openapi_url=schema, title=f"{app.title} API")

    @app.get("/redoc", include_in_schema=False, dependencies=[Depends(read_guard)])
    async def redoc(request: Request) -> HTMLResponse:
        schema = request.scope.get("root_path", "") + "/openapi.json"
        return get_redoc_html(openapi_url=schema, title=f"{app.title} API")

    @app.get("/healthz", tags=["status"], include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
