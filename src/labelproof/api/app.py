"""The FastAPI application factory."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from labelproof import __version__
from labelproof.api import errors
from labelproof.api.routers import assets, auth, orgs, projects, revisions
from labelproof.services.context import Runtime

_RID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="labelproof",
        version=__version__,
        description="Image annotation with provable quality and custody.",
        generate_unique_id_function=_operation_id,
    )
    app.state.runtime = runtime
    errors.install(app)

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        incoming = request.headers.get("x-request-id", "")
        request.state.request_id = incoming if _RID.match(incoming) else uuid.uuid4().hex
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    for module in (auth, orgs, projects, assets, revisions):
        app.include_router(module.router)

    @app.get("/api/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness: the server answers and reaches its database."""
        with runtime.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok", "version": __version__}

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def index() -> str:
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>labelproof</title>"
            "</head><body><h1>labelproof</h1><p>The API is running. Its reference is at "
            "<a href='/docs'>/docs</a> (OpenAPI: <a href='/openapi.json'>/openapi.json</a>)."
            "</p></body></html>"
        )

    return app
