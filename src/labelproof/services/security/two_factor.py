"""TOTP second factor: enrolment, the second sign-in step, disabling, the org policy.

Sign-in with a second factor is two steps. The password step (``accounts.sign_in``) gives a
pending token (``lpp_…``, a ``credentials`` row of kind ``pending``, valid
``pending_sign_in_seconds``) instead of a session; :func:`complete_sign_in` takes it with a
code and opens the session. A wrong code counts as a failed sign-in (lock-out applies); a
code of a step not later than the last accepted one is a replay and is refused. When the
organisation requires a second factor and the user has none, the pending token is for
enrolment: :func:`enrol_during_sign_in` shows the secret, and the first code completes both.

Turning the factor on (:func:`confirm`) also issues one-time recovery codes
(``recovery_codes.py``), shown once; one of them is accepted instead of a TOTP code at the
second step, each once (``auth.recovery_code_used``). A new set needs the password and a
current code (:func:`regenerate_recovery_codes`); disabling the factor deletes the set.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelproof.config import Settings
from labelproof.custody.keyring import KeyProvider
from labelproof.errors import (
    AccountLocked,
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from labelproof.services.audit import AuditAction, AuditRecord, record
from labelproof.services.context import Actor
from labelproof.services.permissions import require_org_admin
from labelproof.services.security import recovery_codes, totp
from labelproof.services.security.events import SecurityAction
from labelproof.services.security.hashing import verify_password
from labelproof.services.security.sealing import open_totp_secret, seal_totp_secret
from labelproof.services.security.sessions import (
    ClientInfo,
    SignIn,
    aware,
    digest,
    new_session,
    now,
    revoke_credentials,
)
from labelproof.store.models import Credential, Organization, User

__all__ = [
    "PENDING_PREFIX",
    "Enrolment",
    "TotpEnabled",
    "complete_sign_in",
    "confirm",
    "disable",
    "enrol",
    "enrol_during_sign_in",
    "pending_step",
    "record_failure",
    "recovery_status",
    "regenerate_recovery_codes",
    "set_org_policy",
]

PENDING_PREFIX = "lpp_"
LOCKED = "account is locked after too many failed sign-ins; ask an admin"


@dataclass(frozen=True)
class Enrolment:
    """A new TOTP secret, shown once: base32 for typing, ``otpauth://`` for a QR code."""

    secret: str
    otpauth_uri: str


@dataclass(frozen=True)
class TotpEnabled:
    """The second factor is on; ``recovery_codes`` are shown this once."""

    enabled_at: datetime
    recovery_codes: list[str]


def _audit(
    db: Session,
    action: SecurityAction,
    user: User,
    actor_id: int | None,
    rid: str,
    **details: object,
) -> None:
    record(db, AuditRecord(action, "user", str(user.id), actor_id, rid, details=dict(details)))


def record_failure(
    db: Session, settings: Settings, user: User, *, request_id: str, **details: object
) -> None:
    """Count a failed sign-in step, audit it, lock at the threshold; commit, then raise."""
    user.failed_logins += 1
    record(
        db,
        AuditRecord(
            AuditAction.SIGN_IN_FAILED,
            "user",
            str(user.id),
            user.id,
            request_id,
            details={"failed_logins": user.failed_logins, **details},
        ),
    )
    if user.failed_logins >= settings.lockout_threshold:
        user.locked_at = now()
        record(
            db,
            AuditRecord(
                AuditAction.ACCOUNT_LOCKED,
                "user",
                str(user.id),
                user.id,
                request_id,
                details={"failed_logins": user.failed_logins},
            ),
        )
        db.commit()
        raise AccountLocked(LOCKED)
    db.commit()


def pending_step(db: Session, settings: Settings, user: User, *, request_id: str) -> SignIn | None:
    """After a correct password: the pending second step, or None when none is needed."""
    if user.totp_enabled_at is not None:
        step = "totp"
    else:
        org = db.get(Organization, user.org_id)
        if org is None or not org.require_totp:
            return None
        step = "enrol"
    secret = PENDING_PREFIX + secrets.token_urlsafe(32)
    expires = now() + timedelta(seconds=settings.pending_sign_in_seconds)
    db.add(
        Credential(
            user_id=user.id,
            kind="pending",
            name=step,
            secret_sha256=digest(secret),
            expires_at=expires,
        )
    )
    _audit(db, SecurityAction.SECOND_FACTOR_REQUIRED, user, user.id, request_id, step=step)
    return SignIn(user=user, secret=secret, expires_at=expires, second_factor=step)


def _pending(db: Session, token: str) -> tuple[Credential, User]:
    if not token.startswith(PENDING_PREFIX) or len(token) > 200:
        raise NotAuthenticated("sign in again: the second step's token is not valid")
    row = db.execute(
        select(Credential, User)
        .join(User, User.id == Credential.user_id)
        .where(Credential.secret_sha256 == digest(token), Credential.kind == "pending")
    ).first()
    if row is None:
        raise NotAuthenticated("sign in again: the second step's token is not valid")
    cred, user = row
    expires = aware(cred.expires_at)
    if cred.revoked_at is not None or (expires is not None and expires <= now()):
        raise NotAuthenticated("sign in again: the second step expired or was used")
    if user.locked_at is not None:
        raise AccountLocked(LOCKED)
    return cred, user


def _new_secret(db: Session, provider: KeyProvider, user: User) -> Enrolment:
    raw = totp.new_secret()
    user.totp_secret = seal_totp_secret(provider, user.id, raw)
    user.totp_enabled_at = None
    user.totp_last_step = None
    return Enrolment(
        secret=totp.to_base32(raw), otpauth_uri=totp.otpauth_uri(raw, account=user.email)
    )


def _check_code(provider: KeyProvider, user: User, code: str, at: float | None) -> int | None:
    if user.totp_secret is None:
        return None
    key = open_totp_secret(provider, user.id, user.totp_secret)
    return totp.verify(key, code, time.time() if at is None else at, last_step=user.totp_last_step)


def enrol_during_sign_in(
    db: Session, provider: KeyProvider, *, pending: str, request_id: str
) -> Enrolment:
    """A new secret for a user whose organisation requires a second factor they lack."""
    cred, user = _pending(db, pending)
    if cred.name != "enrol":
        raise Conflict("this account already has a second factor; send its code")
    enrolment = _new_secret(db, provider, user)
    _audit(db, SecurityAction.TOTP_ENROLMENT_STARTED, user, user.id, request_id)
    return enrolment


def complete_sign_in(
    db: Session,
    settings: Settings,
    provider: KeyProvider,
    *,
    pending: str,
    code: str,
    request_id: str,
    client: ClientInfo,
    at: float | None = None,
) -> SignIn:
    """The second step: a valid unused code opens the session (and finishes an enrolment)."""
    cred, user = _pending(db, pending)
    if user.totp_secret is None:
        raise InvalidInput(
            "set up the authenticator first (enrol), then send its code", field="code"
        )
    if user.totp_enabled_at is not None and recovery_codes.looks_like_code(code):
        if not recovery_codes.consume(db, user.id, code):
            _audit(db, SecurityAction.SECOND_FACTOR_FAILED, user, user.id, request_id)
            record_failure(db, settings, user, request_id=request_id, reason="recovery_code")
            raise NotAuthenticated("wrong or already used recovery code")
        left = recovery_codes.remaining(db, user.id)
        _audit(db, SecurityAction.RECOVERY_CODE_USED, user, user.id, request_id, remaining=left)
        user.failed_logins = 0
        cred.revoked_at = now()
        return new_session(db, settings, user, request_id=request_id, client=client)
    step = _check_code(provider, user, code, at)
    if step is None:
        _audit(db, SecurityAction.SECOND_FACTOR_FAILED, user, user.id, request_id)
        record_failure(db, settings, user, request_id=request_id, reason="second_factor")
        raise NotAuthenticated("wrong or already used code")
    user.totp_last_step = step
    user.failed_logins = 0
    if user.totp_enabled_at is None:
        user.totp_enabled_at = now()
        _audit(db, SecurityAction.TOTP_ENABLED, user, user.id, request_id, during="sign_in")
    cred.revoked_at = now()
    return new_session(db, settings, user, request_id=request_id, client=client)


def _me(db: Session, actor: Actor) -> User:
    user = db.get(User, actor.user_id)
    if user is None:  # pragma: no cover - the actor was just resolved from this row
        raise NotFound("user not found")
    return user


def enrol(db: Session, provider: KeyProvider, actor: Actor, *, password: str) -> Enrolment:
    """Start (or restart) enrolment of a signed-in user; the password is asked again."""
    user = _me(db, actor)
    if not verify_password(user.password_hash, password):
        raise PermissionDenied("wrong password", field="password")
    if user.totp_enabled_at is not None:
        raise Conflict("a second factor is already enabled; disable it first")
    enrolment = _new_secret(db, provider, user)
    _audit(db, SecurityAction.TOTP_ENROLMENT_STARTED, user, actor.user_id, actor.request_id)
    return enrolment


def confirm(
    db: Session, provider: KeyProvider, actor: Actor, *, code: str, at: float | None = None
) -> TotpEnabled:
    """Enable the enrolled secret with its first code; returns when, and the recovery codes
    (shown once)."""
    user = _me(db, actor)
    if user.totp_secret is None or user.totp_enabled_at is not None:
        raise Conflict("no enrolment is waiting for confirmation")
    step = _check_code(provider, user, code, at)
    if step is None:
        raise InvalidInput("wrong code; check the device's clock and try again", field="code")
    user.totp_last_step = step
    user.totp_enabled_at = now()
    _audit(db, SecurityAction.TOTP_ENABLED, user, actor.user_id, actor.request_id)
    codes = _issue_codes(db, user, actor)
    return TotpEnabled(enabled_at=user.totp_enabled_at, recovery_codes=codes)


def _issue_codes(db: Session, user: User, actor: Actor, **details: object) -> list[str]:
    """A fresh set of recovery codes for ``user``, audited with its size."""
    codes = recovery_codes.issue(db, user.id)
    _audit(
        db,
        SecurityAction.RECOVERY_CODES_ISSUED,
        user,
        actor.user_id,
        actor.request_id,
        count=len(codes),
        **details,
    )
    return codes


def regenerate_recovery_codes(
    db: Session,
    provider: KeyProvider,
    actor: Actor,
    *,
    password: str,
    code: str,
    at: float | None = None,
) -> list[str]:
    """A new set of recovery codes (password and a current TOTP code); the old set is void."""
    user = _me(db, actor)
    if user.totp_enabled_at is None:
        raise Conflict("turn on a second factor first; recovery codes come with it")
    if not verify_password(user.password_hash, password):
        raise PermissionDenied("wrong password", field="password")
    step = _check_code(provider, user, code, at)
    if step is None:
        raise InvalidInput("wrong or already used code", field="code")
    user.totp_last_step = step
    void = recovery_codes.revoke_all(db, user.id)
    return _issue_codes(db, user, actor, replaced_unused=void)


def recovery_status(db: Session, actor: Actor) -> int:
    """How many unused recovery codes the signed-in user has."""
    return recovery_codes.remaining(db, _me(db, actor).id)


def disable(
    db: Session,
    provider: KeyProvider,
    actor: Actor,
    *,
    password: str,
    code: str,
    at: float | None = None,
) -> None:
    """Turn the second factor off (password and a fresh code); refused where it is required."""
    user = _me(db, actor)
    if user.totp_enabled_at is None:
        raise Conflict("no second factor is enabled")
    org = db.get(Organization, user.org_id)
    if org is not None and org.require_totp:
        raise PermissionDenied("your organisation requires a second factor")
    if not verify_password(user.password_hash, password):
        raise PermissionDenied("wrong password", field="password")
    step = _check_code(provider, user, code, at)
    if step is None:
        raise InvalidInput("wrong or already used code", field="code")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = step  # kept so the same code cannot re-enable anything
    void = recovery_codes.revoke_all(db, user.id)
    _audit(
        db,
        SecurityAction.TOTP_DISABLED,
        user,
        actor.user_id,
        actor.request_id,
        recovery_codes_voided=void,
    )


def set_org_policy(db: Session, actor: Actor, *, org_id: int, require_totp: bool) -> int:
    """Require (or stop requiring) a second factor in an organisation.

    Turning it on ends the browser sessions of members without one (they enrol at their next
    sign-in); API tokens are kept. Returns how many sessions were ended.
    """
    require_org_admin(actor, org_id)
    org = db.get(Organization, org_id)
    if org is None:
        raise NotFound(f"organization {org_id} not found")
    before = org.require_totp
    org.require_totp = require_totp
    record(
        db,
        AuditRecord(
            SecurityAction.ORG_TOTP_POLICY_SET,
            "organization",
            str(org.id),
            actor.user_id,
            actor.request_id,
            details={"before": before, "after": require_totp},
        ),
    )
    ended = 0
    if require_totp and not before:
        members = db.scalars(
            select(User).where(User.org_id == org_id, User.totp_enabled_at.is_(None))
        )
        for user in members:
            ended += revoke_credentials(
                db,
                actor,
                user_id=user.id,
                keep_secret=None,
                kinds=("session",),
                reason="org_requires_totp",
                audit_none=False,
            )
    return ended
