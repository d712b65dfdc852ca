"""The HTTP client of a running Label Studio (REST API, version 1.20 and later).

Authentication: a legacy API token (``Authorization: Token <key>``) or a personal access
token (a JWT refresh token, exchanged at ``/api/token/refresh/`` for a short-lived access
token sent as ``Authorization: Bearer <access>``, refreshed once on a 401). Every failure is
a :class:`labelproof.errors.LabelproofError` whose message names the method, the URL and the
HTTP status, and never the token.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from labelproof.errors import (
    ConfigurationError,
    InvalidInput,
    LabelproofError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    UpstreamError,
)

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_PAGE_SIZE = 100
_DETAIL_CHARS = 300


class RemoteError(UpstreamError):
    """The Label Studio server could not be reached or answered something unusable
    (connection refused, timeout, HTTP 5xx, a body that is not the expected JSON)."""

    code = "remote_error"


def _is_jwt(token: str) -> bool:
    parts = token.split(".")
    return len(parts) == 3 and token.startswith("eyJ") and all(parts)


def _detail(response: httpx.Response) -> str:
    """Label Studio's error text (``detail`` and ``validation_errors``), shortened."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip().replace("\n", " ")
        return text[:_DETAIL_CHARS] if text and not text.startswith("<") else ""
    if not isinstance(body, dict):
        return str(body)[:_DETAIL_CHARS]
    parts = [str(body[k]) for k in ("detail", "validation_errors", "error") if body.get(k)]
    return "; ".join(parts)[:_DETAIL_CHARS]


def check_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash; InvalidInput unless it is http(s)://host[...]."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(
            f"url: a Label Studio address is http(s)://host[:port], got {base_url!r}",
            field="url",
        )
    if parts.query or parts.fragment:
        raise InvalidInput(f"url: no query or fragment allowed, got {base_url!r}", field="url")
    return base_url.strip().rstrip("/")


class LabelStudioClient:
    """A thin, typed client of the Label Studio REST API.

    Args:
        base_url: the server's address, e.g. ``http://127.0.0.1:8080``.
        token: a legacy API token or a personal access token (JWT refresh token).
        timeout: seconds allowed for each request (connect, read, write, pool).
        page_size: tasks fetched per page when listing a project's tasks.
        transport: an ``httpx`` transport (tests pass ``httpx.MockTransport``).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        page_size: int = DEFAULT_PAGE_SIZE,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = check_base_url(base_url)
        if not isinstance(token, str) or not token.strip():
            raise ConfigurationError("token: the Label Studio API token is empty", field="token")
        if not (isinstance(timeout, int | float) and timeout > 0):
            raise InvalidInput(f"timeout: must be > 0 seconds, got {timeout!r}", field="timeout")
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise InvalidInput(f"page_size: must be >= 1, got {page_size!r}", field="page_size")
        self.timeout = float(timeout)
        self.page_size = page_size
        self._token = token.strip()
        self._personal = _is_jwt(self._token)
        self._access: str | None = None
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=self.timeout,
            transport=transport,
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )

    # -- plumbing ---------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LabelStudioClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = "personal access token" if self._personal else "legacy token"
        return f"LabelStudioClient({self.base_url!r}, <{kind}>)"

    def _auth_header(self) -> str:
        if not self._personal:
            return f"Token {self._token}"
        if self._access is None:
            self._access = self._refresh()
        return f"Bearer {self._access}"

    def _refresh(self) -> str:
        """Exchange the personal access token for an access token."""
        body = self._send("POST", "/api/token/refresh/", json={"refresh": self._token}, auth=False)
        access = body.get("access") if isinstance(body, dict) else None
        if not isinstance(access, str) or not access:
            raise RemoteError(
                f"POST {self.base_url}/api/token/refresh/: the answer holds no 'access' token"
            )
        return access

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        auth: bool = True,
        retried: bool = False,
    ) -> Any:
        url = f"{self.base_url}{path}"
        where = f"{method} {url}"
        headers = {"Authorization": self._auth_header()} if auth else {}
        try:
            response = self._http.request(method, path, params=params, json=json, headers=headers)
        except httpx.TimeoutException:
            raise RemoteError(f"{where}: no answer within {self.timeout:g} s (timeout)") from None
        except httpx.TransportError as exc:
            raise RemoteError(f"{where}: cannot reach Label Studio ({exc})") from None
        status = response.status_code
        if status == 401 and auth and self._personal and not retried:
            self._access = None  # the access token expired: refresh once and retry
            return self._send(method, path, params=params, json=json, auth=auth, retried=True)
        if status >= 400:
            raise _status_error(where, status, _detail(response))
        if 300 <= status < 400:
            target = response.headers.get("location", "?")
            raise RemoteError(f"{where}: HTTP {status} redirect to {target}; check the URL")
        if status == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type", "unknown type")
            raise RemoteError(
                f"{where}: HTTP {status} answer is not JSON ({kind}); is {self.base_url} "
                "a Label Studio server?"
            ) from None

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send one API request (``path`` starts with ``/api/``); the decoded JSON answer."""
        return self._send(method, path, params=params, json=json)

    def _object(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        body = self._send(method, path, **kw)
        if not isinstance(body, dict):
            raise RemoteError(
                f"{method} {self.base_url}{path}: expected a JSON object, got {type(body).__name__}"
            )
        return body

    # -- projects ---------------------------------------------------------------------------

    def list_projects(self) -> list[dict[str, Any]]:
        """Every project the token's user can see (all pages), as Label Studio returns them."""
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._object("GET", "/api/projects/", params={"page": page, "page_size": 100})
            results = body.get("results")
            if not isinstance(results, list):
                raise RemoteError(f"GET {self.base_url}/api/projects/: no 'results' list")
            out.extend(r for r in results if isinstance(r, dict))
            if not body.get("next") or not results:
                return out
            page += 1

    def get_project(self, project_id: int) -> dict[str, Any]:
        """One project (title, ``label_config`` XML, ``parsed_label_config``, counts)."""
        return self._object("GET", f"/api/projects/{_id(project_id, 'project')}/")

    def label_config(self, project_id: int) -> str:
        """The project's labeling configuration XML."""
        config = self.get_project(project_id).get("label_config")
        if not isinstance(config, str):
            raise RemoteError(f"project {project_id}: the answer holds no label_config text")
        return config

    def create_project(
        self, title: str, label_config: str, *, description: str = ""
    ) -> dict[str, Any]:
        """Create a project (Label Studio wants a title of 3 characters or more)."""
        body = {"title": title, "label_config": label_config, "description": description}
        return self._object("POST", "/api/projects/", json=body)

    # -- tasks ------------------------------------------------------------------------------

    def iter_tasks(self, project_id: int, *, with_results: bool = True) -> Iterator[dict[str, Any]]:
        """The project's tasks, page by page; with ``annotations`` and ``predictions`` when
        ``with_results``. Data URIs are returned as stored (``resolve_uri=false``)."""
        pid = _id(project_id, "project")
        page, seen = 1, 0
        while True:
            params: dict[str, Any] = {
                "project": pid,
                "page": page,
                "page_size": self.page_size,
                "resolve_uri": "false",
            }
            if with_results:
                params["fields"] = "all"
            try:
                body = self._object("GET", "/api/tasks/", params=params)
            except NotFound:
                if page > 1:  # Label Studio answers 404 "Invalid page." past the last page
                    return
                raise
            tasks, total = body.get("tasks"), body.get("total")
            if not isinstance(tasks, list) or not isinstance(total, int):
                raise RemoteError(
                    f"GET {self.base_url}/api/tasks/?project={pid}: the answer holds no "
                    "'tasks' list and 'total' count"
                )
            for t in tasks:
                if not isinstance(t, dict) or not isinstance(t.get("id"), int):
                    raise RemoteError(f"project {pid}: a task without an integer id on page {page}")
                yield t
            seen += len(tasks)
            if seen >= total or len(tasks) < self.page_size:
                return
            page += 1

    def tasks(self, project_id: int, *, with_results: bool = True) -> list[dict[str, Any]]:
        """All of :meth:`iter_tasks` as a list."""
        return list(self.iter_tasks(project_id, with_results=with_results))

    def import_tasks(self, project_id: int, tasks: Sequence[Mapping[str, Any]]) -> list[int]:
        """Import tasks (each ``{"data": {...}}`` or a bare data object); their new ids."""
        pid = _id(project_id, "project")
        if not tasks:
            return []
        body = self._object(
            "POST",
            f"/api/projects/{pid}/import",
            params={"return_task_ids": "true"},
            json=[dict(t) for t in tasks],
        )
        ids = body.get("task_ids")
        if not isinstance(ids, list) or len(ids) != len(tasks):
            raise RemoteError(
                f"POST {self.base_url}/api/projects/{pid}/import: expected {len(tasks)} task ids, "
                f"got {ids!r}"[:_DETAIL_CHARS]
            )
        return [int(i) for i in ids]

    # -- results ----------------------------------------------------------------------------

    def create_prediction(
        self,
        task_id: int,
        result: Sequence[Mapping[str, Any]],
        *,
        score: float | None = None,
        model_version: str | None = None,
    ) -> dict[str, Any]:
        """Add a prediction (model output) to a task."""
        body: dict[str, Any] = {"task": _id(task_id, "task"), "result": list(result)}
        if score is not None:
            body["score"] = float(score)
        if model_version is not None:
            body["model_version"] = model_version
        return self._object("POST", "/api/predictions/", json=body)

    def create_annotation(
        self,
        task_id: int,
        result: Sequence[Mapping[str, Any]],
        *,
        completed_by: int | None = None,
        ground_truth: bool = False,
    ) -> dict[str, Any]:
        """Add an annotation to a task, by the token's user or by ``completed_by`` (a user id)."""
        body: dict[str, Any] = {"result": list(result), "ground_truth": bool(ground_truth)}
        if completed_by is not None:
            body["completed_by"] = _id(completed_by, "completed_by")
        return self._object("POST", f"/api/tasks/{_id(task_id, 'task')}/annotations/", json=body)

    # -- users ------------------------------------------------------------------------------

    def list_users(self) -> list[dict[str, Any]]:
        """The organization's users (id, email, names)."""
        body = self._send("GET", "/api/users/")
        if isinstance(body, dict):
            body = body.get("results")
        if not isinstance(body, list):
            raise RemoteError(f"GET {self.base_url}/api/users/: expected a list of users")
        return [u for u in body if isinstance(u, dict)]

    def create_user(self, email: str, *, username: str = "") -> dict[str, Any]:
        """Create a user in the organization (needs an administrator's token)."""
        body = {"email": email, "username": username or email.split("@")[0]}
        return self._object("POST", "/api/users/", json=body)


def _id(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{name}: an id is an integer >= 1, got {value!r}", field=name)
    return value


def _status_error(where: str, status: int, detail: str) -> LabelproofError:
    suffix = f": {detail}" if detail else ""
    msg = f"{where}: HTTP {status}{suffix}"
    if status == 401:
        return NotAuthenticated(msg + " (check the API token)", field="token", status=status)
    if status == 403:
        return PermissionDenied(msg, status=status)
    if status == 404:
        return NotFound(msg, status=status)
    if 400 <= status < 500:
        return InvalidInput(msg, status=status)
    return RemoteError(msg, status=status)


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_TIMEOUT_S",
    "LabelStudioClient",
    "RemoteError",
    "check_base_url",
]
