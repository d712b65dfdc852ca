"""Browser sessions: opening one, the idle timeout, listing and revoking.

A session is a ``credentials`` row of kind ``session``: SHA-256 of its secret, an absolute
expiry (``session_hours``), ``last_used_at`` for the idle timeout (``session_idle_minutes``;
written at most once a minute), and the address and browser it was opened from. Revoking
sets ``revoked_at``; every revocation is an audit event.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from labelproof.config import Settings
from labelproof.errors import NotFound
from labelproof.services.audit import AuditRecord, record
from labelproof.services.context import Actor
from labelproof.services.permissions import require_org_admin
from labelproof.services.security.events import SecurityAction
from labelproof.store.models import Credential, User

__all__ = [
    "SESSION_PREFIX",
    "TOUCH_EVERY",
    "ClientInfo",
    "SignIn",
    "credential_by_digest",
    "digest",
    "end_idle_session",
    "idle_expired",
    "list_sessions",
    "new_session",
    "revoke_credentials",
    "revoke_other_sessions",
    "revoke_session",
    "revoke_user_sessions",
    "touch",
]

SESSION_PREFIX = "lps_"
#: ``last_used_at`` is written when it is older than this (one write a minute per session).
TOUCH_EVERY = timedelta(seconds=60)


def now() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes for timezone-aware columns; they are stored as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


#: Built once: every authenticated request runs it (building costs more than running it).
_BY_DIGEST = (
    select(Credential, User)
    .join(User, User.id == Credential.user_id)
    .where(
        Credential.secret_sha256 == bindparam("digest"),
        Credential.kind.in_(("session", "token")),
    )
)


def credential_by_digest(db: Session, secret_sha256: str) -> tuple[Credential, User] | None:
    """The session or API token whose secret hashes to ``secret_sha256``, with its user, in
    one statement (validity, expiry and idle checks are the caller's)."""
    row = db.execute(_BY_DIGEST, {"digest": secret_sha256}).first()
    return (row[0], row[1]) if row is not None else None


@dataclass(frozen=True)
class ClientInfo:
    """Where a sign-in came from (shown in the session list)."""

    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in step: a session, or a pending second step.

    ``second_factor`` is None for a session (``secret`` is the session secret), ``"totp"``
    when a code must follow, ``"enrol"`` when the organisation requires a second factor the
    user has not set up (``secret`` is then the short-lived pending token).
    """

    user: User
    secret: str
    expires_at: datetime
    second_factor: str | None = None


def new_session(
    db: Session, settings: Settings, user: User, *, request_id: str, client: ClientInfo
) -> SignIn:
    """Open a session for ``user`` (the caller has checked every factor) and audit it."""
    from labelproof.services.audit import AuditAction

    secret = SESSION_PREFIX + secrets.token_urlsafe(32)
    at = now()
    expires = at + timedelta(hours=settings.session_hours)
    db.add(
        Credential(
            user_id=user.id,
            kind="session",
            name="browser",
            secret_sha256=digest(secret),
            expires_at=expires,
            last_used_at=at,
            client_ip=(client.ip or "")[:64] or None,
            user_agent=(client.user_agent or "")[:200] or None,
        )
    )
    record(db, AuditRecord(AuditAction.SIGN_IN, "user", str(user.id), user.id, request_id))
    return SignIn(user=user, secret=secret, expires_at=expires)


def idle_expired(cred: Credential, settings: Settings, at: datetime | None = None) -> bool:
    """Whether a session has been unused for longer than ``session_idle_minutes``."""
    if cred.kind != "session":
        return False
    last = aware(cred.last_used_at) or aware(cred.created_at)
    assert last is not None
    return (at or now()) - last > timedelta(minutes=settings.session_idle_minutes)


def touch(db: Session, credential_id: int) -> None:
    """Record that a session was used now (the caller decides it is due)."""
    db.execute(update(Credential).where(Credential.id == credential_id).values(last_used_at=now()))


def end_idle_session(db: Session, credential_id: int, *, request_id: str) -> None:
    """Revoke a session that passed its idle timeout, and audit it (once)."""
    cred = db.get(Credential, credential_id)
    if cred is None or cred.revoked_at is not None:
        return
    cred.revoked_at = now()
    record(
        db,
        AuditRecord(
            SecurityAction.SESSION_IDLE_EXPIRED,
            "session",
            str(cred.id),
            cred.user_id,
            request_id,
            details={"last_used_at": (aware(cred.last_used_at) or now()).isoformat()},
        ),
    )


def _active(user_id: int, kinds: tuple[str, ...] = ("session",)):  # type: ignore[no-untyped-def]
    return select(Credential).where(
        Credential.user_id == user_id,
        Credential.kind.in_(kinds),
        Credential.revoked_at.is_(None),
        (Credential.expires_at.is_(None)) | (Credential.expires_at > now()),
    )


def list_sessions(db: Session, actor: Actor) -> list[Credential]:
    """The caller's sessions that are still valid, oldest first."""
    return list(db.scalars(_active(actor.user_id).order_by(Credential.id)))


def revoke_session(db: Session, actor: Actor, *, session_id: int) -> None:
    """Revoke one of the caller's sessions (another person's is ``NotFound``)."""
    cred = db.get(Credential, session_id)
    if cred is None or cred.user_id != actor.user_id or cred.kind != "session":
        raise NotFound(f"session {session_id} not found")
    if cred.revoked_at is None:
        cred.revoked_at = now()
        record(
            db,
            AuditRecord(
                SecurityAction.SESSION_REVOKED,
                "session",
                str(cred.id),
                actor.user_id,
                actor.request_id,
                details={"user_id": cred.user_id},
            ),
        )


def revoke_credentials(
    db: Session,
    actor: Actor,
    *,
    user_id: int,
    keep_secret: str | None,
    kinds: tuple[str, ...],
    reason: str,
    audit_none: bool = True,
) -> int:
    """Revoke ``user_id``'s active credentials of ``kinds`` except the one whose secret is
    ``keep_secret``; one audit event with the count and the reason (none for a count of 0
    when ``audit_none`` is false). Returns the count."""
    keep = digest(keep_secret) if keep_secret else None
    rows = [c for c in db.scalars(_active(user_id, kinds)) if c.secret_sha256 != keep]
    if not rows and not audit_none:
        return 0
    at = now()
    for cred in rows:
        cred.revoked_at = at
    record(
        db,
        AuditRecord(
            SecurityAction.SESSIONS_REVOKED,
            "user",
            str(user_id),
            actor.user_id,
            actor.request_id,
            details={"count": len(rows), "kinds": list(kinds), "reason": reason},
        ),
    )
    return len(rows)


def revoke_other_sessions(db: Session, actor: Actor, *, current_secret: str | None) -> int:
    """Revoke every session of the caller but the one making the request."""
    return revoke_credentials(
        db,
        actor,
        user_id=actor.user_id,
        keep_secret=current_secret,
        kinds=("session",),
        reason="revoke_others",
    )


def revoke_user_sessions(db: Session, actor: Actor, *, user_id: int, include_tokens: bool) -> int:
    """An organisation admin ends a user's sessions (and, if asked, API tokens)."""
    user = db.get(User, user_id)
    if user is None or (user.org_id != actor.org_id and not actor.is_superuser):
        raise NotFound(f"user {user_id} not found")
    require_org_admin(actor, user.org_id)
    kinds = ("session", "pending", "token") if include_tokens else ("session", "pending")
    return revoke_credentials(
        db, actor, user_id=user.id, keep_secret=None, kinds=kinds, reason="admin"
    )
