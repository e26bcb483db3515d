"""The FastAPI application."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from lifecyclegraph.read.graphql.schema import load_schema
from lifecyclegraph.server.auth import TokenGuard, read_guard
from lifecyclegraph.server.problems import install_problem_handlers
from lifecyclegraph.server.routes import (
    admin,
    cluster,
    entities,
    events,
    openlineage,
    portal,
    quality,
    search,
    sparql,
    webhooks,
)
from lifecyclegraph.server.routes import graph as graph_routes
from lifecyclegraph.server.routes import graphql as graphql_endpoint
from lifecyclegraph.server.service import Service

__all__ = ["DOCS_ASSETS", "ROUTERS", "create_app"]

#: The Swagger UI and ReDoc files /docs and /redoc load, shipped by the fastapi-offline
#: package and served by the app (no CDN: the pages work offline).
DOCS_ASSETS = {
    name: Path(fastapi_offline.__file__).parent / "static" / name
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
}

#: Every route module's router, in the order the app includes them. A new route is a
#: module in ``server/routes/`` with an ``APIRouter`` and its line here.
ROUTERS = (
    events.router,
    sparql.router,
    entities.router,
    graphql_endpoint.router,
    search.router,
    graph_routes.router,
    quality.router,
    openlineage.router,
    webhooks.router,
    admin.router,
    cluster.router,
    portal.router,
)


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
    peer = service.config.cluster
    app.state.guard = TokenGuard(
        tokens,
        [t.get_secret_value() for t in server.read_tokens],
        peer.token.get_secret_value() if peer is not None else None,
    )
    # first, so that it sits inside every other middleware (CORS, the crash guard)
    app.add_middleware(sparql.SparqlShortcut)
    install_problem_handlers(app)
    if server.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=server.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
        )

    app.state.graphql_schema = load_schema()
    for router in ROUTERS:
        app.include_router(router)

    @app.get("/api/v1/status", tags=["status"], dependencies=[Depends(read_guard)])
    async def status(request: Request) -> JSONResponse:
        """Queue depth, lag and failures per source."""
        # in a thread: the journal's counts scan its tables, which at a million events
        # takes long enough to hold up the event loop (and the hydration in it)
        return JSONResponse(await asyncio.to_thread(request.app.state.service.status))

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(read_guard)])
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(read_guard)])
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{root}/docs/assets/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/docs/assets/swagger-ui.css",
            swagger_favicon_url=f"{root}/docs/assets/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False, dependencies=[Depends(read_guard)])
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} API",
            redoc_js_url=f"{root}/docs/assets/redoc.standalone.js",
            redoc_favicon_url=f"{root}/docs/assets/favicon.png",
            with_google_fonts=False,
        )

    @app.get("/docs/assets/{name}", include_in_schema=False, dependencies=[Depends(read_guard)])
    async def docs_asset(name: str) -> FileResponse:
        """The pages' scripts and styles (guarded like the pages that load them)."""
        if name not in DOCS_ASSETS:
            raise HTTPException(404, f"no documentation asset {name!r}")
        return FileResponse(DOCS_ASSETS[name], headers={"Cache-Control": "max-age=86400"})

    @app.get("/healthz", tags=["status"], include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
