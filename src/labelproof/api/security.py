"""HTTP-side account security: response headers, CSRF for cookie sessions, sign-in limits.

- Headers (every response): a Content-Security-Policy that allows only this origin (the
  API reference pages ``/docs`` and ``/redoc`` load FastAPI's Swagger/ReDoc bundle from
  jsDelivr and get their own, looser policy), ``frame-ancestors 'none'`` and
  ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``, ``Referrer-Policy:
  no-referrer``, a ``Permissions-Policy`` that turns off camera, microphone, geolocation,
  payment and USB, cross-origin opener/resource isolation, and Strict-Transport-Security
  when the request came over https.
- CSRF (double submit, bound to the session): sign-in sets the HttpOnly session cookie and
  a readable ``labelproof_csrf`` cookie whose value is an HMAC of the session secret. A
  request authenticated by the session cookie with an unsafe method (anything but GET,
  HEAD, OPTIONS) must echo that value in ``X-CSRF-Token``; another site can neither read
  the cookie nor compute the value. Bearer-token requests carry no ambient credential and
  are exempt.
- Sign-in rate limits: token buckets per client IP and per account (``SignInLimits``);
  a refusal is HTTP 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from labelproof.config import Settings
from labelproof.errors import PermissionDenied
from labelproof.services.security.ratelimit import TokenBuckets

CSRF_COOKIE = "labelproof_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

APP_CSP = "; ".join(
    [
        "default-src 'self'",
        # WebAssembly compilation only (the DICOM viewer's codecs), never JS eval
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
_CDN = "https://cdn.jsdelivr.net"
DOCS_CSP = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' {_CDN}",
        f"style-src 'self' 'unsafe-inline' {_CDN}",
        "img-src 'self' data: https://fastapi.tiangolo.com",
        f"worker-src 'self' blob: {_CDN}",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
_DOCS_PATHS = ("/docs", "/redoc")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class CsrfRefused(PermissionDenied):
    """An unsafe request authenticated by the session cookie without the matching token."""

    code = "csrf_failed"


def csrf_token_for(session_secret: str) -> str:
    """The CSRF token of a session: HMAC-SHA-256 keyed by the session secret (hex, 64)."""
    return hmac.new(session_secret.encode(), b"labelproof csrf v1", hashlib.sha256).hexdigest()


def check_csrf(request: Request, session_secret: str) -> None:
    """Raise :class:`CsrfRefused` unless the request is safe or carries the session's token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        raise CsrfRefused(f"missing {CSRF_HEADER} header (sign in again if this persists)")
    if not hmac.compare_digest(sent.encode(), csrf_token_for(session_secret).encode()):
        raise CsrfRefused(f"{CSRF_HEADER} does not match this session")


def security_headers(request: Request, settings: Settings) -> dict[str, str]:
    """The security headers for a response to ``request``."""
    path = request.url.path
    docs = path in _DOCS_PATHS or path.startswith("/docs/")
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": DOCS_CSP if docs else APP_CSP}
    if request.url.scheme == "https":
        headers["Strict-Transport-Security"] = f"max-age={settings.hsts_seconds}; includeSubDomains"
    return headers


class SignInLimits:
    """The sign-in rate limits of one API process (per client IP and per account)."""

    def __init__(self, settings: Settings, *, max_keys: int = 10_000) -> None:
        self.by_ip = TokenBuckets(
            capacity=settings.signin_ip_burst,
            per_minute=settings.signin_ip_per_minute,
            max_keys=max_keys,
        )
        self.by_account = TokenBuckets(
            capacity=settings.signin_account_burst,
            per_minute=settings.signin_account_per_minute,
            max_keys=max_keys,
        )

    def check(self, *, ip: str, account: str) -> None:
        """Take a token from both buckets; raise ``RateLimited`` naming the exhausted one."""
        self.by_ip.check(ip, scope="address")
        self.by_account.check(account.strip().lower(), scope="account")


def client_ip(request: Request) -> str:
    """The peer address (behind a proxy, run uvicorn with ``--proxy-headers``)."""
    return request.client.host if request.client else "unknown"


def install(app: FastAPI, settings: Settings) -> None:
    """Add the headers middleware, the sign-in limits and the 429 handler to ``app``."""
    app.state.sign_in_limits = SignInLimits(settings)

    @app.middleware("http")
    async def _headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in security_headers(request, settings).items():
            response.headers.setdefault(name, value)
        return response
