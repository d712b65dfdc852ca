"""The browser app under the account-security controls: no Content-Security-Policy
violation while signing in and working, cookie requests carry X-CSRF-Token, and a user
with a second factor signs in with the code in two steps."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from labelproof.services.security import totp
from tests.browser.conftest import Server
from tests.browser.workspace import Workspace, sign_in


def test_no_csp_violation_and_unsafe_calls_carry_the_csrf_header(
    page: Any, server: Server, new_task: Any
) -> None:
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    sent: list[tuple[str, str | None]] = []
    page.on(
        "request",
        lambda r: (
            sent.append((r.method, r.headers.get("x-csrf-token")))
            if r.url.startswith(server.url + "/api/") and r.method not in ("GET", "HEAD")
            else None
        ),
    )
    sign_in(page, server)
    ws = Workspace(page).open(new_task())
    ws.page.wait_for_timeout(300)
    page.goto("/")
    page.wait_for_selector("[data-testid=project]")
    assert not [m for m in console if "Content Security Policy" in m], console
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["labelproof_session"]["httpOnly"] is True
    assert cookies["labelproof_csrf"]["httpOnly"] is False
    token = cookies["labelproof_csrf"]["value"]
    # sign-in itself is a POST without a session; every later unsafe call has the token
    assert sent[0] == ("POST", None)
    assert all(header == token for _, header in sent[1:])


def test_two_step_sign_in_with_an_authenticator_code(
    page: Any, server: Server, admin_api: httpx.Client
) -> None:
    email, password = f"totp-{uuid.uuid4().hex[:8]}@demo.test", "tarn-ledger-47-quince"
    # an org admin sees the projects without joining one (other tests read project 1's
    # members by role)
    body = {"email": email, "password": password, "is_org_admin": True}
    admin_api.post("/api/users", json=body).raise_for_status()
    with httpx.Client(base_url=server.url, timeout=30) as c:
        c.post("/api/auth/login", json={"email": email, "password": password}).raise_for_status()
        c.headers["X-CSRF-Token"] = c.cookies["labelproof_csrf"]
        r = c.post("/api/auth/totp/enrol", json={"password": password})
        r.raise_for_status()
        key = totp.from_base32(r.json()["secret"])
        c.post(
            "/api/auth/totp/confirm", json={"code": totp.totp(key, time.time())}
        ).raise_for_status()
    page.goto("/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("input[name=code]")
    wrong = "000000" if totp.totp(key, time.time() + 30) != "000000" else "111111"
    page.fill("input[name=code]", wrong)
    page.click("button[type=submit]")
    page.wait_for_selector("[role=alert]")
    assert "wrong or already used code" in page.inner_text("[role=alert]")
    page.fill("input[name=code]", totp.totp(key, time.time() + 30))  # next step: unused
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=project]")
