"""LabelStudioClient against httpx.MockTransport: error paths, pagination, authentication.
Always run (no server needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest

from labelproof.connectors.labelstudio import LabelStudioClient, RemoteError
from labelproof.errors import (
    ConfigurationError,
    InvalidInput,
    LabelproofError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    UpstreamError,
)

URL = "http://ls.test:8080"
TOKEN = "secret-legacy-token-42"
Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, **kw: object) -> LabelStudioClient:
    return LabelStudioClient(URL, TOKEN, transport=httpx.MockTransport(handler), **kw)  # type: ignore[arg-type]


def answer(status: int, body: object = None, **kw: object) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if body is None:
            return httpx.Response(status, **kw)  # type: ignore[arg-type]
        return httpx.Response(status, json=body)

    return handler


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (
            401,
            {"detail": "Invalid token."},
            NotAuthenticated,
            ["HTTP 401", "Invalid token.", "API token"],
        ),
        (
            403,
            {"detail": "You do not have permission"},
            PermissionDenied,
            ["HTTP 403", "permission"],
        ),
        (
            404,
            {"detail": "No Project matches the given query."},
            NotFound,
            ["HTTP 404", "No Project"],
        ),
        (
            400,
            {"detail": "Validation error", "validation_errors": {"title": ["too short"]}},
            InvalidInput,
            ["HTTP 400", "Validation error", "too short"],
        ),
        (500, {"detail": "boom"}, RemoteError, ["HTTP 500", "boom"]),
        (502, None, RemoteError, ["HTTP 502"]),
    ],
)
def test_status_errors_name_url_and_status(
    status: int, body: object, error: type[LabelproofError], words: list[str]
) -> None:
    with client(answer(status, body)) as c, pytest.raises(error) as info:
        c.get_project(7)
    msg = info.value.message
    assert msg.startswith(f"GET {URL}/api/projects/7/: HTTP {status}")
    for w in words:
        assert w in msg
    assert TOKEN not in msg
    assert info.value.details["status"] == status


def test_html_error_page_is_not_pasted_into_the_message() -> None:
    page = "<!doctype html><html>" + "x" * 5000
    with client(answer(404, None, text=page)) as c, pytest.raises(NotFound) as info:
        c.get_project(1)
    assert info.value.message == f"GET {URL}/api/projects/1/: HTTP 404"


def test_malformed_json_is_a_remote_error() -> None:
    handler = answer(200, None, content=b"{not json", headers={"content-type": "application/json"})
    with client(handler) as c, pytest.raises(RemoteError) as info:
        c.get_project(3)
    assert "is not JSON" in info.value.message and f"{URL}/api/projects/3/" in info.value.message
    assert isinstance(info.value, UpstreamError)


def test_wrong_json_shape_is_a_remote_error() -> None:
    with (
        client(answer(200, [1, 2])) as c,
        pytest.raises(RemoteError, match="expected a JSON object"),
    ):
        c.get_project(3)
    with (
        client(answer(200, {"tasks": "no"})) as c,
        pytest.raises(RemoteError, match="'tasks' list"),
    ):
        c.tasks(3)


def test_timeout_and_unreachable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with client(slow, timeout=2.5) as c, pytest.raises(RemoteError) as info:
        c.list_projects()
    assert info.value.message == f"GET {URL}/api/projects/: no answer within 2.5 s (timeout)"

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with client(refused) as c, pytest.raises(RemoteError, match="cannot reach Label Studio"):
        c.list_projects()


def test_redirect_is_not_followed() -> None:
    handler = answer(302, None, headers={"location": "/user/login/"})
    with client(handler) as c, pytest.raises(RemoteError, match="redirect to /user/login/"):
        c.get_project(1)


@pytest.mark.parametrize(
    ("url", "token", "error", "field"),
    [
        ("ls.test:8080", TOKEN, InvalidInput, "url"),
        ("ftp://ls.test", TOKEN, InvalidInput, "url"),
        ("http://ls.test?x=1", TOKEN, InvalidInput, "url"),
        (URL, "   ", ConfigurationError, "token"),
    ],
)
def test_bad_settings(url: str, token: str, error: type[LabelproofError], field: str) -> None:
    with pytest.raises(error) as info:
        LabelStudioClient(url, token)
    assert info.value.field == field
    assert TOKEN not in info.value.message


def test_bad_ids_and_options() -> None:
    with client(answer(200, {})) as c:
        for bad in (0, -1, True, "3"):
            with pytest.raises(InvalidInput, match="project: an id is an integer >= 1"):
                c.get_project(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="page_size"):
        client(answer(200, {}), page_size=0)
    with pytest.raises(InvalidInput, match="timeout"):
        client(answer(200, {}), timeout=0)


def test_legacy_token_header_and_trailing_slash() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"count": 0, "next": None, "results": []})

    c = LabelStudioClient(URL + "/", TOKEN, transport=httpx.MockTransport(handler))
    assert c.list_projects() == []
    assert seen[0].headers["authorization"] == f"Token {TOKEN}"
    assert str(seen[0].url).startswith(f"{URL}/api/projects/?")
    assert TOKEN not in repr(c)


def test_tasks_paginate_until_total_and_stop_at_invalid_page() -> None:
    rows = [{"id": i, "data": {"image": f"{i}.png"}} for i in range(1, 8)]
    pages: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        q = request.url.params
        pages.append(q["page"])
        assert q["fields"] == "all" and q["resolve_uri"] == "false" and q["project"] == "5"
        page, size = int(q["page"]), int(q["page_size"])
        chunk = rows[(page - 1) * size : page * size]
        if not chunk:
            return httpx.Response(404, json={"detail": "Invalid page."})
        return httpx.Response(200, json={"total": len(rows), "tasks": chunk})

    with client(handler, page_size=3) as c:
        assert [t["id"] for t in c.tasks(5)] == list(range(1, 8))
    assert pages == ["1", "2", "3"]

    # a server whose total is stale: stop at its 404 "Invalid page."
    rows_total = len(rows)
    rows = rows[:6]

    def stale(request: httpx.Request) -> httpx.Response:
        resp = handler(request)
        if resp.status_code == 200:
            body = json.loads(resp.content)
            body["total"] = rows_total
            return httpx.Response(200, json=body)
        return resp

    with client(stale, page_size=3) as c:
        assert len(c.tasks(5)) == 6


def test_missing_project_on_first_page_is_not_found() -> None:
    with client(answer(404, {"detail": "Not found."})) as c, pytest.raises(NotFound):
        c.tasks(9)


def test_personal_access_token_refreshes_once_on_401() -> None:
    pat = "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2ln"
    issued: list[str] = []
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token/refresh/":
            assert "authorization" not in request.headers
            assert json.loads(request.content) == {"refresh": pat}
            issued.append(f"access-{len(issued)}")
            return httpx.Response(200, json={"access": issued[-1]})
        calls.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer access-0":
            return httpx.Response(401, json={"detail": "Token is expired"})
        return httpx.Response(200, json={"id": 1, "title": "p"})

    with client_pat(handler, pat) as c:
        assert c.get_project(1)["title"] == "p"
    assert calls == ["Bearer access-0", "Bearer access-1"]

    def always_401(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token/refresh/":
            return httpx.Response(200, json={"access": "a"})
        return httpx.Response(401, json={"detail": "nope"})

    with client_pat(always_401, pat) as c, pytest.raises(NotAuthenticated):
        c.get_project(1)

    def refresh_refused(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"detail": "Token is blacklisted"})

    with client_pat(refresh_refused, pat) as c, pytest.raises(NotAuthenticated) as info:
        c.get_project(1)
    assert "/api/token/refresh/" in info.value.message and pat not in info.value.message


def client_pat(handler: Handler, token: str) -> LabelStudioClient:
    return LabelStudioClient(URL, token, transport=httpx.MockTransport(handler))


def test_import_tasks_checks_the_ids() -> None:
    with client(answer(201, {"task_count": 2, "task_ids": [4]})) as c:
        with pytest.raises(RemoteError, match="expected 2 task ids"):
            c.import_tasks(1, [{"data": {"image": "a"}}, {"data": {"image": "b"}}])
        assert c.import_tasks(1, []) == []


SERVER = (
    "fastapi",
    "sqlalchemy",
    "starlette",
    "labelproof.services",
    "labelproof.store",
    "labelproof.api",
)


def test_connector_imports_no_server_code() -> None:
    code = (
        "import sys; import labelproof.connectors.labelstudio; "
        f"print(' '.join(sorted(m for m in sys.modules if m.startswith({SERVER!r}))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == []
    # the CLI module itself (importing labelproof.cli registers every command, so read it)
    import ast
    from pathlib import Path

    import labelproof.cli

    tree = ast.parse((Path(labelproof.cli.__file__).parent / "connect.py").read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert [m for m in names if m.startswith((*SERVER, "labelproof.cli._common"))] == []


def test_public_surface_is_explicit() -> None:
    import labelproof.connectors.labelstudio as ls

    assert len(ls.__all__) == len(set(ls.__all__))
    for name in ls.__all__:
        assert hasattr(ls, name), name
