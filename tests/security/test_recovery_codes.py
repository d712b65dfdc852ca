"""One-time recovery codes for a lost authenticator, over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from labelproof.services.security import recovery_codes, totp
from labelproof.store.models import AuditEvent, RecoveryCode
from tests.world import PASSWORD, World


def _code(secret: str, steps: int = 0) -> str:
    return totp.totp(totp.from_base32(secret), time.time() + 30 * steps)


def _turn_on(world: World, who: str = "annotator") -> tuple[str, list[str]]:
    c = world.client(who)
    secret = c.post("/api/auth/totp/enrol", json={"password": PASSWORD}).json()["secret"]
    r = c.post("/api/auth/totp/confirm", json={"code": _code(secret)})
    assert r.status_code == 200, r.text
    return str(secret), list(r.json()["recovery_codes"])


def _password_step(world: World, who: str = "annotator") -> tuple[TestClient, str]:
    c = world.client(None)
    r = c.post("/api/auth/login", json={"email": f"{who}@org.test", "password": PASSWORD})
    assert r.json()["second_factor"] == "totp", r.text
    return c, str(r.json()["pending_token"])


def _second_step(world: World, code: str, who: str = "annotator") -> Any:
    c, pending = _password_step(world, who)
    return c.post("/api/auth/login/second-factor", json={"pending_token": pending, "code": code})


def _actions(world: World) -> list[tuple[str, dict[str, Any]]]:
    with world.rt.read() as db:
        return [
            (e.action, e.details) for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def test_confirmation_shows_ten_codes_once_and_stores_only_hashes(world: World) -> None:
    _secret, codes = _turn_on(world)
    assert len(codes) == 10 and len(set(codes)) == 10
    for code in codes:
        assert len(code) == 19 and code.count("-") == 3
        assert all(ch in recovery_codes.ALPHABET for ch in code.replace("-", ""))
    c = world.client("annotator")
    assert c.get("/api/auth/totp/recovery-codes").json() == {"remaining": 10}
    with world.rt.read() as db:
        rows = list(db.scalars(select(RecoveryCode)))
    stored = {r.code_sha256 for r in rows}
    assert len(rows) == 10 and all(r.user_id == world.users["annotator"] for r in rows)
    for code in codes:  # no code in clear, nor its plain SHA-256
        assert code not in stored and code.replace("-", "") not in stored
        assert hashlib.sha256(code.encode()).hexdigest() not in stored
    issued = [d for a, d in _actions(world) if a == "auth.recovery_codes_issued"]
    assert issued == [{"count": 10}]


def test_a_code_signs_in_once_instead_of_totp(world: World) -> None:
    _secret, codes = _turn_on(world)
    # typed with spaces and capitals instead of dashes: still accepted
    typed = codes[0].upper().replace("-", " ")
    r = _second_step(world, typed)
    assert r.status_code == 200, r.text
    assert r.json()["second_factor"] is None and "labelproof_session" in r.cookies
    used = [d for a, d in _actions(world) if a == "auth.recovery_code_used"]
    assert used == [{"remaining": 9}]
    assert world.client("annotator").get("/api/auth/totp/recovery-codes").json() == {"remaining": 9}
    # the same code a second time: refused, and counted as a failed sign-in
    r = _second_step(world, codes[0])
    assert r.status_code == 401 and "recovery code" in r.json()["message"]
    failures = [d for a, d in _actions(world) if a == "auth.sign_in_failed"]
    assert failures[-1]["reason"] == "recovery_code"
    # another code still works
    assert _second_step(world, codes[1]).status_code == 200


def test_wrong_codes_lock_the_account(world: World) -> None:
    _turn_on(world)
    wrong = "aaaa-bbbb-cccc-dddd"
    threshold = world.rt.settings.lockout_threshold
    c, pending = _password_step(world)
    body = {"pending_token": pending, "code": wrong}
    statuses = [
        c.post("/api/auth/login/second-factor", json=body).status_code for _ in range(threshold)
    ]
    assert statuses == [401] * (threshold - 1) + [423]
    assert "auth.account_locked" in [a for a, _d in _actions(world)]


def test_regenerating_needs_password_and_code_and_voids_the_old_set(world: World) -> None:
    secret, old = _turn_on(world)
    c = world.client("annotator")
    url = "/api/auth/totp/recovery-codes"
    r = c.post(url, json={"password": "wrong password!", "code": _code(secret, 1)})
    assert r.status_code == 403
    r = c.post(url, json={"password": PASSWORD, "code": old[0]})  # a recovery code is no TOTP
    assert r.status_code == 422 and r.json()["field"] == "code"
    r = c.post(url, json={"password": PASSWORD, "code": _code(secret, 1)})
    assert r.status_code == 200, r.text
    new = r.json()["recovery_codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert c.get(url).json() == {"remaining": 10}
    assert _second_step(world, old[2]).status_code == 401  # the old set no longer works
    assert _second_step(world, new[2]).status_code == 200
    issued = [d for a, d in _actions(world) if a == "auth.recovery_codes_issued"]
    assert issued[-1] == {"count": 10, "replaced_unused": 10}


def test_disabling_the_factor_deletes_the_codes(world: World) -> None:
    secret, codes = _turn_on(world)
    c = world.client("annotator")
    r = c.post("/api/auth/totp/disable", json={"password": PASSWORD, "code": _code(secret, 1)})
    assert r.status_code == 204, r.text
    assert c.get("/api/auth/totp/recovery-codes").json() == {"remaining": 0}
    with world.rt.read() as db:
        assert list(db.scalars(select(RecoveryCode))) == []
    # without a second factor, sign-in is one step: the code has nothing left to open
    r = world.client(None).post(
        "/api/auth/login", json={"email": "annotator@org.test", "password": PASSWORD}
    )
    assert r.status_code == 200 and r.json()["second_factor"] is None
    r = c.post(
        "/api/auth/totp/recovery-codes", json={"password": PASSWORD, "code": _code(secret, 2)}
    )
    assert r.status_code == 409
    assert codes
