"""Route-matrix entries of the account-security routes (second factor, sessions, passwords,
the organisation's 2FA policy): ``operation id -> (access, call)``; each call leaves the
caller's account as it found it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import delete

from labelproof.services import accounts
from labelproof.services.context import new_request_id
from labelproof.services.security import totp
from labelproof.services.security.sealing import seal_totp_secret
from labelproof.services.security.sessions import now
from labelproof.store.db import transaction
from labelproof.store.models import RecoveryCode, User
from tests.world import PASSWORD, World

PUBLIC = "public"
SIGNED_IN = "signed_in"
ORG_ADMIN = "org_admin"

Call = Callable[[World, Any], httpx.Response]


def _caller(w: World, c: Any) -> str | None:
    header = c.headers.get("Authorization", "")
    return next((k for k, t in w.tokens.items() if header == f"Bearer {t}"), None)


def _spare_user(w: World) -> int:
    with transaction(w.rt.sessions) as db:
        root = db.get(User, w.users["orgadmin"])
        assert root is not None
        user = accounts.create_user(
            db,
            accounts.actor_for(root),
            org_id=w.org_id,
            email=f"{uuid.uuid4().hex[:8]}@org.test",
            display_name="s",
            password=PASSWORD,
        )
        return user.id


def _email_of(w: World, c: Any) -> str | None:
    who = _caller(w, c)
    if who is None:
        return None
    return {"orgadmin": "root@org.test"}.get(who, f"{who}@org.test")


def _totp_user(w: World, *, org_requires: bool) -> str:
    """A fresh user with a TOTP secret enabled (or, in a new org requiring 2FA, none)."""
    with transaction(w.rt.sessions) as db:
        root_user = db.get(User, w.users["orgadmin"])
        assert root_user is not None
        root = accounts.actor_for(root_user, new_request_id())
        org_id = w.org_id
        if org_requires:
            org = accounts.create_organization(
                db, root, name="2FA", slug=f"o-{uuid.uuid4().hex[:8]}"
            )
            org.require_totp = True
            org_id = org.id
        email = f"{uuid.uuid4().hex[:8]}@org.test"
        user = accounts.create_user(
            db, root, org_id=org_id, email=email, display_name="t", password=PASSWORD
        )
        if not org_requires:
            user.totp_secret = seal_totp_secret(w.rt.custody.provider, user.id, b"k" * 20)
            user.totp_enabled_at = now()
    return email


def _second_factor(w: World, c: Any) -> httpx.Response:
    email = _totp_user(w, org_requires=False)
    r = c.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    code = totp.totp(b"k" * 20, time.time())
    return c.post(
        "/api/auth/login/second-factor",
        json={"pending_token": r.json()["pending_token"], "code": code},
    )


def _enrol_at_sign_in(w: World, c: Any) -> httpx.Response:
    email = _totp_user(w, org_requires=True)
    r = c.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    return c.post("/api/auth/login/enrol", json={"pending_token": r.json()["pending_token"]})


def _change_password(w: World, c: Any) -> httpx.Response:
    new = "tarn-ledger-47-quince"
    r = c.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": new})
    c.post("/api/auth/password", json={"current_password": new, "new_password": PASSWORD})
    return r


def _own_session(w: World, c: Any) -> httpx.Response:
    email = _email_of(w, c)
    if email is not None:
        TestClient(w.app_client.app).post(
            "/api/auth/login", json={"email": email, "password": PASSWORD}
        )
    listed = c.get("/api/auth/sessions")
    session_id = listed.json()[0]["id"] if listed.status_code == 200 else 1
    return c.delete(f"/api/auth/sessions/{session_id}")


def _totp_codes(offset: int) -> Callable[[str], str]:
    return lambda secret: totp.totp(totp.from_base32(secret), time.time() + 30 * offset)


def _enrol_then(w: World, c: Any, *, disable: bool) -> httpx.Response:
    """Enrol and confirm, then disable (returning the confirmation or the disabling), so
    every call leaves the caller without a second factor."""
    r = c.post("/api/auth/totp/enrol", json={"password": PASSWORD})
    secret = r.json()["secret"] if r.status_code == 200 else "A" * 32
    confirmed = c.post("/api/auth/totp/confirm", json={"code": _totp_codes(0)(secret)})
    disabled = c.post(
        "/api/auth/totp/disable", json={"password": PASSWORD, "code": _totp_codes(1)(secret)}
    )
    return disabled if disable else confirmed


def _regenerate_codes(w: World, c: Any) -> httpx.Response:
    """Enrol and confirm, ask for new recovery codes, then turn the factor off again."""
    r = c.post("/api/auth/totp/enrol", json={"password": PASSWORD})
    secret = r.json()["secret"] if r.status_code == 200 else "A" * 32
    c.post("/api/auth/totp/confirm", json={"code": _totp_codes(0)(secret)})
    regenerated: httpx.Response = c.post(
        "/api/auth/totp/recovery-codes",
        json={"password": PASSWORD, "code": _totp_codes(1)(secret)},
    )
    who = _caller(w, c)
    if who is not None:  # turn it off again (no later code is valid yet): as the database
        with transaction(w.rt.sessions) as db:
            user = db.get(User, w.users[who])
            assert user is not None
            user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
            db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    return regenerated


def _require_totp(w: World, c: Any) -> httpx.Response:
    url = f"/api/orgs/{w.org_id}/security"
    r = c.put(url, json={"require_totp": True})
    c.put(url, json={"require_totp": False})
    return r


ACCOUNT_ROUTES: dict[str, tuple[str, Call]] = {
    "login_second_factor": (PUBLIC, _second_factor),
    "login_enrol_totp": (PUBLIC, _enrol_at_sign_in),
    "get_account_security": (SIGNED_IN, lambda w, c: c.get("/api/auth/security")),
    "change_password": (SIGNED_IN, _change_password),
    "list_sessions": (SIGNED_IN, lambda w, c: c.get("/api/auth/sessions")),
    "revoke_session": (SIGNED_IN, _own_session),
    "revoke_other_sessions": (SIGNED_IN, lambda w, c: c.post("/api/auth/sessions/revoke-others")),
    "enrol_totp": (
        SIGNED_IN,
        lambda w, c: c.post("/api/auth/totp/enrol", json={"password": PASSWORD}),
    ),
    "confirm_totp": (SIGNED_IN, lambda w, c: _enrol_then(w, c, disable=False)),
    "disable_totp": (SIGNED_IN, lambda w, c: _enrol_then(w, c, disable=True)),
    "get_recovery_codes": (SIGNED_IN, lambda w, c: c.get("/api/auth/totp/recovery-codes")),
    "regenerate_recovery_codes": (SIGNED_IN, _regenerate_codes),
    "revoke_user_sessions": (
        ORG_ADMIN,
        lambda w, c: c.post(f"/api/users/{_spare_user(w)}/sessions/revoke", json={}),
    ),
    "set_org_security": (ORG_ADMIN, _require_totp),
}
