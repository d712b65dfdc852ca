"""Sign-in, lock-out, sessions, tokens, and their audit events, through HTTP."""

from __future__ import annotations

from sqlalchemy import select

from labelproof.store.models import AuditEvent
from tests.world import PASSWORD, World


def _actions(world: World) -> list[str]:
    with world.rt.sessions() as db:
        return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_login_sets_session_cookie_and_me_works(world: World) -> None:
    c = world.client(None)
    r = c.post("/api/auth/login", json={"email": "annotator@org.test", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email"] == "annotator@org.test"
    cookie = r.headers["set-cookie"]
    assert "labelproof_session=lps_" in cookie and "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    me = c.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["id"] == world.users["annotator"]
    assert _actions(world)[-1] == "auth.sign_in"
    csrf = {"X-CSRF-Token": c.cookies["labelproof_csrf"]}  # cookie sessions need it
    assert c.post("/api/auth/logout", headers=csrf).status_code == 204
    assert c.get("/api/auth/me").status_code == 401


def test_wrong_password_counts_then_locks_and_audits(world: World) -> None:
    c = world.client(None)
    bad = {"email": "reviewer@org.test", "password": "definitely-not-it"}
    assert c.post("/api/auth/login", json=bad).status_code == 401
    assert c.post("/api/auth/login", json=bad).status_code == 401
    r = c.post("/api/auth/login", json=bad)  # threshold is 3 in tests
    assert r.status_code == 423 and r.json()["code"] == "account_locked"
    # even the right password is refused now, and the refusal is audited
    r = c.post("/api/auth/login", json={"email": "reviewer@org.test", "password": PASSWORD})
    assert r.status_code == 423
    actions = _actions(world)
    assert actions[-5:] == [
        "auth.sign_in_failed",
        "auth.sign_in_failed",
        "auth.sign_in_failed",
        "auth.account_locked",
        "auth.sign_in_failed",
    ]
    # the reviewer's existing token stops working too
    assert world.client("reviewer").get("/api/auth/me").status_code == 423
    # an org admin unlocks
    admin = world.client("orgadmin")
    r = admin.post(f"/api/users/{world.users['reviewer']}/unlock")
    assert r.status_code == 200 and r.json()["locked"] is False
    r = c.post("/api/auth/login", json={"email": "reviewer@org.test", "password": PASSWORD})
    assert r.status_code == 200


def test_unknown_email_is_a_plain_401_and_audited(world: World) -> None:
    c = world.client(None)
    r = c.post("/api/auth/login", json={"email": "nobody@org.test", "password": "x" * 12})
    assert r.status_code == 401
    assert r.json() == {"code": "not_authenticated", "message": "wrong email or password"}
    assert _actions(world)[-1] == "auth.sign_in_failed"


def test_personal_tokens_create_list_revoke(world: World) -> None:
    c = world.client("annotator")
    r = c.post("/api/auth/tokens", json={"name": "script", "expires_days": 7})
    assert r.status_code == 201
    secret = r.json()["token"]
    assert secret.startswith("lpt_")
    listed = c.get("/api/auth/tokens").json()
    assert "script" in [t["name"] for t in listed]
    assert all("token" not in t for t in listed)
    c2 = world.client(None)
    c2.headers["Authorization"] = f"Bearer {secret}"
    assert c2.get("/api/auth/me").json()["email"] == "annotator@org.test"
    assert c.delete(f"/api/auth/tokens/{r.json()['id']}").status_code == 204
    assert c2.get("/api/auth/me").status_code == 401
    # someone else's token id is not found
    assert world.client("reviewer").delete(f"/api/auth/tokens/{r.json()['id']}").status_code == 404


def test_garbage_credentials_are_401_with_json(world: World) -> None:
    c = world.client(None)
    for value in ("Bearer nonsense", "Bearer lpt_" + "A" * 43, "Basic abc"):
        r = c.get("/api/auth/me", headers={"Authorization": value})
        assert r.status_code == 401
        assert r.json()["code"] == "not_authenticated"


def test_request_id_is_echoed_and_recorded(world: World) -> None:
    c = world.client(None)
    r = c.post(
        "/api/auth/login",
        json={"email": "auditor@org.test", "password": PASSWORD},
        headers={"X-Request-ID": "req-123"},
    )
    assert r.headers["x-request-id"] == "req-123"
    with world.rt.sessions() as db:
        ev = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert ev.request_id == "req-123" and ev.action == "auth.sign_in"
    assert ev.at.tzinfo is not None
