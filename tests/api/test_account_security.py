"""Account security over HTTP: security headers, CSRF for cookie sessions, sign-in rate
limits, password rules (docs/security.md, "Accounts"). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from labelproof.api.app import create_app
from labelproof.store.models import AuditEvent
from tests.world import PASSWORD, World


def _events(world: World, action: str) -> list[AuditEvent]:
    with world.rt.read() as db:
        return list(
            db.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def _login(c: TestClient, who: str = "annotator", password: str = PASSWORD) -> Any:
    return c.post("/api/auth/login", json={"email": f"{who}@org.test", "password": password})


# -- security headers ---------------------------------------------------------------------


def test_every_response_carries_the_security_headers(world: World) -> None:
    c = world.client(None)
    for path, status in (("/", 200), ("/api/health", 200), ("/api/auth/me", 401),
                         ("/api/nowhere", 404)):  # fmt: skip
        r = c.get(path)
        assert r.status_code == status, path
        csp = r.headers["content-security-policy"]
        assert csp == (
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self';"
            " img-src 'self' data: blob:;"
            " font-src 'self'; connect-src 'self'; worker-src 'self'; object-src 'none';"
            " base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["permissions-policy"] == (
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
        )
        assert r.headers["cross-origin-opener-policy"] == "same-origin"
        assert "strict-transport-security" not in r.headers  # plain http
    docs = c.get("/docs")
    assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]


def test_hsts_only_over_https(world: World) -> None:
    c = TestClient(world.app_client.app, base_url="https://lp.example")
    r = c.get("/api/health")
    assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    r = _login(c)
    cookies = r.headers.get_list("set-cookie")
    assert all("Secure" in v for v in cookies) and len(cookies) == 2


# -- CSRF ---------------------------------------------------------------------------------


def test_login_sets_a_readable_csrf_cookie_bound_to_the_session(world: World) -> None:
    c = world.client(None)
    r = _login(c)
    cookies = {v.split("=", 1)[0]: v for v in r.headers.get_list("set-cookie")}
    assert "HttpOnly" in cookies["labelproof_session"]
    assert "HttpOnly" not in cookies["labelproof_csrf"]
    assert "samesite=strict" in cookies["labelproof_csrf"].lower()
    token = c.cookies["labelproof_csrf"]
    assert len(token) == 64 and int(token, 16) >= 0
    # a second session of the same user has another token
    other = world.client(None)
    _login(other)
    assert other.cookies["labelproof_csrf"] != token


def test_unsafe_cookie_requests_need_the_csrf_header(world: World) -> None:
    c = world.client(None)
    _login(c)
    token = c.cookies["labelproof_csrf"]
    body = {"name": "script"}
    before = len(_events(world, "auth.csrf_refused"))
    r = c.post("/api/auth/tokens", json=body)
    assert r.status_code == 403
    assert r.json()["code"] == "csrf_failed" and "missing X-CSRF-Token" in r.json()["message"]
    r = c.post("/api/auth/tokens", json=body, headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403 and "does not match" in r.json()["message"]
    # another session's token does not fit this one
    other = world.client(None)
    _login(other, "reviewer")
    r = c.post(
        "/api/auth/tokens", json=body, headers={"X-CSRF-Token": other.cookies["labelproof_csrf"]}
    )
    assert r.status_code == 403
    refused = _events(world, "auth.csrf_refused")[before:]
    assert len(refused) == 3
    assert refused[0].actor_id == world.users["annotator"]
    assert refused[0].details["method"] == "POST"
    assert refused[0].details["path"] == "/api/auth/tokens"
    # safe methods need nothing; the right token passes
    assert c.get("/api/auth/tokens").status_code == 200
    r = c.post("/api/auth/tokens", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 201
    # DELETE and PUT are unsafe too
    assert c.delete(f"/api/auth/tokens/{r.json()['id']}").status_code == 403
    url = f"/api/projects/{world.project_id}/members"
    assert c.put(url, json={"user_id": 1, "role": "annotator"}).status_code == 403
    assert (
        c.delete(f"/api/auth/tokens/{r.json()['id']}", headers={"X-CSRF-Token": token}).status_code
        == 204
    )


def test_bearer_requests_are_exempt_even_with_a_cookie(world: World) -> None:
    c = world.client("annotator")  # bearer token
    assert c.post("/api/auth/tokens", json={"name": "x"}).status_code == 201
    _login(c, "annotator")  # now holds a session cookie too; the bearer header still wins
    assert c.post("/api/auth/tokens", json={"name": "y"}).status_code == 201


# -- sign-in rate limits -----------------------------------------------------------------


def _limited_client(world: World, **changes: int) -> TestClient:
    rt = dataclasses.replace(world.rt, settings=world.rt.settings.with_changes(**changes))
    return TestClient(create_app(rt))


def test_sign_in_is_rate_limited_per_account(world: World) -> None:
    c = _limited_client(world, signin_account_burst=2, signin_account_per_minute=1)
    assert _login(c).status_code == 200
    assert _login(c).status_code == 200
    r = _login(c)
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited"
    assert r.json()["details"] == {"retry_after": 60, "scope": "account"}
    assert r.headers["retry-after"] == "60"
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    # the same address may still sign in as someone else; case does not dodge the limit
    assert _login(c, "reviewer").status_code == 200
    r = c.post("/api/auth/login", json={"email": "ANNOTATOR@org.test", "password": PASSWORD})
    assert r.status_code == 429
    event = _events(world, "auth.sign_in_rate_limited")[-1]
    assert event.details["scope"] == "account" and event.details["ip"] == "testclient"
    assert "annotator" not in str(event.details)  # the email only as a hash


def test_sign_in_is_rate_limited_per_address(world: World) -> None:
    c = _limited_client(world, signin_ip_burst=3, signin_ip_per_minute=2)
    for who in ("annotator", "reviewer", "nobody"):
        assert _login(c, who).status_code in (200, 401)
    r = _login(c, "auditor")
    assert r.status_code == 429 and r.headers["retry-after"] == "30"
    assert r.json()["details"]["scope"] == "address"
    assert _events(world, "auth.sign_in_rate_limited")[-1].details["scope"] == "address"
    # a limited attempt is not a failed password: no lock-out counting
    with world.rt.read() as db:
        from labelproof.store.models import User

        user = db.get(User, world.users["auditor"])
        assert user is not None and user.failed_logins == 0


# -- password rules ------------------------------------------------------------------------


def test_new_users_get_the_password_rules(world: World) -> None:
    admin = world.client("orgadmin")
    cases = [
        ("short-pass", "at least 12 characters"),
        ("new.person@org.test", "not be your email"),
        ("password1234", "most common"),
    ]
    for password, message in cases:
        r = admin.post("/api/users", json={"email": "new.person@org.test", "password": password})
        assert r.status_code == 422, password
        assert r.json()["field"] == "password" and message in r.json()["message"]
    r = admin.post(
        "/api/users", json={"email": "new.person@org.test", "password": "tarn-ledger-47-quince"}
    )
    assert r.status_code == 201
