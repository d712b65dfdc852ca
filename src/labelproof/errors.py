"""The one exception tree of labelproof.

Every error a service, a codec or a metric raises on purpose is a ``LabelproofError``.
Each class carries a stable machine-readable ``code``; the HTTP layer maps classes to
status codes in exactly one place (``labelproof.api.errors``) and the CLI maps them to
exit code 2 with the message, never a traceback.

    LabelproofError
    ├── InvalidInput                  bad data from a caller (HTTP 422 / exit 2)
    │   ├── InvalidGeometry           a shape that breaks its type's rules
    │   ├── InvalidFile               an upload or file that is not what it claims (HTTP 400)
    │   │   └── FileTooLarge          over a byte or pixel limit (HTTP 413)
    │   └── InvalidDataset            a dataset/annotation file that cannot be read (HTTP 422)
    ├── NotAuthenticated              no or bad credentials (HTTP 401)
    │   └── AccountLocked             too many failed sign-ins (HTTP 423)
    ├── PermissionDenied              authenticated, not allowed (HTTP 403)
    ├── NotFound                      absent, or not visible to the caller (HTTP 404)
    ├── Conflict                      state changed under the caller (HTTP 409)
    │   └── StaleRevision             a save on a base revision that is no longer current
    ├── RateLimited                   too many attempts; retry after N s (HTTP 429)
    ├── UpstreamError                 another service (e.g. Label Studio) failed (HTTP 502)
    └── ConfigurationError            the installation is set up wrongly (HTTP 500 / exit 2)
"""

from __future__ import annotations

from typing import Any


class LabelproofError(Exception):
    """Base of every deliberate labelproof error."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.details:
            out["details"] = self.details
        return out


class InvalidInput(LabelproofError):
    code = "invalid_input"


class InvalidGeometry(InvalidInput):
    code = "invalid_geometry"


class InvalidFile(InvalidInput):
    code = "invalid_file"


class FileTooLarge(InvalidFile):
    code = "file_too_large"


class InvalidDataset(InvalidInput):
    code = "invalid_dataset"


class NotAuthenticated(LabelproofError):
    code = "not_authenticated"


class AccountLocked(NotAuthenticated):
    code = "account_locked"


class PermissionDenied(LabelproofError):
    code = "permission_denied"


class NotFound(LabelproofError):
    code = "not_found"


class Conflict(LabelproofError):
    code = "conflict"


class StaleRevision(Conflict):
    code = "stale_revision"


class RateLimited(LabelproofError):
    """Too many attempts; ``retry_after`` seconds (an integer >= 1) until the next one."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, scope: str) -> None:
        super().__init__(message, retry_after=retry_after, scope=scope)
        self.retry_after = retry_after
        self.scope = scope


class UpstreamError(LabelproofError):
    code = "upstream_error"


class ConfigurationError(LabelproofError):
    code = "configuration_error"


__all__ = [
    "AccountLocked",
    "ConfigurationError",
    "Conflict",
    "FileTooLarge",
    "InvalidDataset",
    "InvalidFile",
    "InvalidGeometry",
    "InvalidInput",
    "LabelproofError",
    "NotAuthenticated",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "StaleRevision",
    "UpstreamError",
]
