"""The FastAPI application factory."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from labelproof import __version__
from labelproof.api import errors, security
from labelproof.api.routers import (
    account_security,
    assets,
    auth,
    custody,
    orgs,
    projects,
    qa,
    qa_people,
    qa_work,
    revisions,
    suggestions,
    transfer,
)
from labelproof.services.context import Runtime

_RID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _operation_id(route: APIRoute) -> str:
    return route.name


WEB_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"

_NO_WEB = (
    "<!doctype html><html><head><meta charset='utf-8'><title>labelproof</title></head>"
    "<body><h1>labelproof</h1><p>The API is running; the browser app is not built in this "
    "installation (run <code>scripts/setup</code>). The API reference is at "
    "<a href='/docs'>/docs</a>.</p></body></html>"
)


def _mount_web(app: FastAPI) -> None:
    """Serve the built browser app (``web/dist``) at ``/``; it uses hash routes only."""
    index = WEB_DIST / "index.html"
    if (WEB_DIST / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=WEB_DIST / "assets"), name="web-assets")

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def web_index() -> HTMLResponse:
        if index.is_file():
            return HTMLResponse(
                index.read_text(encoding="utf-8"), headers={"Cache-Control": "no-cache"}
            )
        return HTMLResponse(_NO_WEB)


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="labelproof",
        version=__version__,
        description="Image annotation with provable quality and custody.",
        generate_unique_id_function=_operation_id,
    )
    app.state.runtime = runtime
    errors.install(app)
    security.install(app, runtime.settings)

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        incoming = request.headers.get("x-request-id", "")
        request.state.request_id = incoming if _RID.match(incoming) else uuid.uuid4().hex
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    for module in (
        auth,
        account_security,
        orgs,
        projects,
        assets,
        revisions,
        suggestions,
        transfer,
        qa,
        qa_work,
        qa_people,
        custody,
    ):
        app.include_router(module.router)

    @app.get("/api/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness: the server answers and reaches its database."""
        with runtime.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok", "version": __version__}

    _mount_web(app)
    return app
