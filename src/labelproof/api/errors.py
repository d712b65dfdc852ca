"""The one place where labelproof errors become HTTP responses.

Every error body is JSON: ``{"code": "...", "message": "...", "field": "..."?, "details": ...}``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from labelproof import errors

logger = logging.getLogger("labelproof.api")

#: Most specific class first.
STATUS: list[tuple[type[errors.LabelproofError], int]] = [
    (errors.AccountLocked, 423),
    (errors.NotAuthenticated, 401),
    (errors.PermissionDenied, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.RateLimited, 429),
    (errors.FileTooLarge, 413),
    (errors.InvalidFile, 400),
    (errors.InvalidInput, 422),
    (errors.UpstreamError, 502),
    (errors.ConfigurationError, 500),
    (errors.LabelproofError, 400),
]


def status_for(exc: errors.LabelproofError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500  # pragma: no cover - LabelproofError is last in STATUS


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.LabelproofError)
    async def _domain(_request: Request, exc: errors.LabelproofError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if status_for(exc) == 401 else None
        if isinstance(exc, errors.RateLimited):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(exc.to_dict(), status_code=status_for(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": _location(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"field": "body", "message": "invalid request"}
        return JSONResponse(
            {
                "code": "invalid_input",
                "message": f"{first['field']}: {first['message']}",
                "field": first["field"],
                "details": {"errors": problems},
            },
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return JSONResponse(
            {"code": "internal_error", "message": "an unexpected error occurred; it was logged"},
            status_code=500,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            {"code": code, "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=exc.headers,
        )
