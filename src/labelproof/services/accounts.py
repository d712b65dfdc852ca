"""Organisations, users, sign-in with lock-out, browser sessions and personal API tokens.

Passwords are hashed with argon2id (OWASP's minimum profile: 19 MiB, t=2, p=1). Session and
token secrets are random 256-bit strings shown once; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelproof.config import Settings
from labelproof.errors import AccountLocked, Conflict, InvalidInput, NotAuthenticated, NotFound
from labelproof.services.audit import AuditAction, AuditRecord, record
from labelproof.services.context import Actor
from labelproof.services.permissions import require_org_admin
from labelproof.services.security import hashing, sessions, two_factor
from labelproof.services.security.events import SecurityAction
from labelproof.services.security.passwords import MIN_LENGTH, check_password
from labelproof.services.security.sessions import ClientInfo, SignIn
from labelproof.store.models import Credential, Organization, User

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MIN_PASSWORD = MIN_LENGTH
SESSION_PREFIX = sessions.SESSION_PREFIX
TOKEN_PREFIX = "lpt_"


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes for timezone-aware columns; they are stored as UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str, *, email: str | None = None) -> str:
    """Check the password rules (``security/passwords.py``) and hash with argon2id."""
    check_password(password, email=email)
    return hashing.hash_new(password)


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def actor_for(user: User, request_id: str | None = None) -> Actor:
    kwargs = {"request_id": request_id} if request_id else {}
    return Actor(
        user_id=user.id,
        org_id=user.org_id,
        email=user.email,
        is_org_admin=user.is_org_admin,
        is_superuser=user.is_superuser,
        **kwargs,
    )


def bootstrap(
    db: Session, *, org_name: str, org_slug: str, email: str, password: str, request_id: str
) -> User:
    """Create the first organisation and its superuser on an empty installation."""
    if db.scalar(select(func.count()).select_from(User)):
        raise Conflict("this installation already has users; sign in as an admin instead")
    org = _new_org(db, name=org_name, slug=org_slug)
    user = _new_user(
        db,
        org_id=org.id,
        email=email,
        display_name="Administrator",
        password=password,
        is_org_admin=True,
        is_superuser=True,
    )
    record(db, AuditRecord(AuditAction.ORG_CREATED, "organization", str(org.id), None, request_id))
    record(db, AuditRecord(AuditAction.USER_CREATED, "user", str(user.id), None, request_id))
    return user


def _new_org(db: Session, *, name: str, slug: str) -> Organization:
    if not name.strip():
        raise InvalidInput("organization name must not be empty", field="name")
    if not _SLUG.match(slug):
        raise InvalidInput(
            f"slug {slug!r} must be lowercase letters, digits and '-', at most 63", field="slug"
        )
    if db.scalar(select(Organization.id).where(Organization.slug == slug)) is not None:
        raise Conflict(f"organization slug {slug!r} is taken", field="slug")
    org = Organization(name=name.strip(), slug=slug)
    db.add(org)
    db.flush()
    return org


def _new_user(
    db: Session,
    *,
    org_id: int,
    email: str,
    display_name: str,
    password: str,
    is_org_admin: bool,
    is_superuser: bool = False,
) -> User:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise InvalidInput(f"{email!r} is not an email address", field="email")
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with email {email!r} exists", field="email")
    user = User(
        org_id=org_id,
        email=email,
        display_name=display_name.strip() or email,
        password_hash=hash_password(password, email=email),
        is_org_admin=is_org_admin,
        is_superuser=is_superuser,
    )
    db.add(user)
    db.flush()
    return user


def create_organization(db: Session, actor: Actor, *, name: str, slug: str) -> Organization:
    if not actor.is_superuser:
        from labelproof.errors import PermissionDenied

        raise PermissionDenied("only a superuser may create organizations")
    org = _new_org(db, name=name, slug=slug)
    record(
        db,
        AuditRecord(
            AuditAction.ORG_CREATED,
            "organization",
            str(org.id),
            actor.user_id,
            actor.request_id,
            details={"slug": slug},
        ),
    )
    return org


def create_user(
    db: Session,
    actor: Actor,
    *,
    org_id: int,
    email: str,
    display_name: str,
    password: str,
    is_org_admin: bool = False,
) -> User:
    require_org_admin(actor, org_id)
    if db.get(Organization, org_id) is None:
        raise NotFound(f"organization {org_id} not found")
    user = _new_user(
        db,
        org_id=org_id,
        email=email,
        display_name=display_name,
        password=password,
        is_org_admin=is_org_admin,
    )
    record(
        db,
        AuditRecord(
            AuditAction.USER_CREATED,
            "user",
            str(user.id),
            actor.user_id,
            actor.request_id,
            details={"email": user.email, "is_org_admin": is_org_admin},
        ),
    )
    return user


def list_users(db: Session, actor: Actor) -> list[User]:
    require_org_admin(actor, actor.org_id)
    return list(db.scalars(select(User).where(User.org_id == actor.org_id).order_by(User.id)))


def sign_in(
    db: Session,
    settings: Settings,
    *,
    email: str,
    password: str,
    request_id: str,
    client: ClientInfo | None = None,
) -> SignIn:
    """Check a password; count failures; lock after ``settings.lockout_threshold``.

    A failed attempt is committed (counter and audit event) before the error is raised.
    With a second factor enrolled (or required by the organisation) the result is a pending
    step (``SignIn.second_factor``), completed by ``security.two_factor.complete_sign_in``.
    """
    email = email.strip().lower()
    user = db.scalar(select(User).where(User.email == email))
    if user is None:
        hashing.spend_time(password)
        record(
            db,
            AuditRecord(
                AuditAction.SIGN_IN_FAILED,
                "user",
                "unknown",
                None,
                request_id,
                details={"email_sha256": _digest(email)},
            ),
        )
        db.commit()
        raise NotAuthenticated("wrong email or password")
    if user.locked_at is not None:
        record(
            db,
            AuditRecord(
                AuditAction.SIGN_IN_FAILED,
                "user",
                str(user.id),
                user.id,
                request_id,
                details={"reason": "locked"},
            ),
        )
        db.commit()
        raise AccountLocked("account is locked after too many failed sign-ins; ask an admin")
    if not hashing.verify_password(user.password_hash, password):
        two_factor.record_failure(db, settings, user, request_id=request_id)
        raise NotAuthenticated("wrong email or password")
    if hashing.needs_rehash(user.password_hash):
        user.password_hash = hashing.hash_new(password)
    user.failed_logins = 0
    pending = two_factor.pending_step(db, settings, user, request_id=request_id)
    if pending is not None:
        return pending
    return sessions.new_session(
        db, settings, user, request_id=request_id, client=client or ClientInfo()
    )


def unlock_user(db: Session, actor: Actor, *, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None or (user.org_id != actor.org_id and not actor.is_superuser):
        raise NotFound(f"user {user_id} not found")
    require_org_admin(actor, user.org_id)
    user.locked_at = None
    user.failed_logins = 0
    record(
        db,
        AuditRecord(
            AuditAction.ACCOUNT_UNLOCKED, "user", str(user.id), actor.user_id, actor.request_id
        ),
    )
    return user


def create_token(
    db: Session, actor: Actor, *, name: str, expires_days: int | None = 90
) -> tuple[Credential, str]:
    """A personal API token for scripts; the secret is returned once, never stored."""
    if not name.strip() or len(name) > 200:
        raise InvalidInput("token name must be 1-200 characters", field="name")
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise InvalidInput("expires_days must be between 1 and 3650", field="expires_days")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = _now() + timedelta(days=expires_days) if expires_days else None
    cred = Credential(
        user_id=actor.user_id,
        kind="token",
        name=name.strip(),
        secret_sha256=_digest(secret),
        expires_at=expires,
    )
    db.add(cred)
    db.flush()
    record(
        db,
        AuditRecord(
            AuditAction.TOKEN_CREATED,
            "token",
            str(cred.id),
            actor.user_id,
            actor.request_id,
            details={"name": cred.name},
        ),
    )
    return cred, secret


def list_tokens(db: Session, actor: Actor) -> list[Credential]:
    return list(
        db.scalars(
            select(Credential)
            .where(
                Credential.user_id == actor.user_id,
                Credential.kind == "token",
                Credential.revoked_at.is_(None),
            )
            .order_by(Credential.id)
        )
    )


def revoke_token(db: Session, actor: Actor, *, token_id: int) -> None:
    cred = db.get(Credential, token_id)
    if cred is None or cred.user_id != actor.user_id or cred.kind != "token":
        raise NotFound(f"token {token_id} not found")
    cred.revoked_at = _now()
    record(
        db,
        AuditRecord(
            AuditAction.TOKEN_REVOKED, "token", str(cred.id), actor.user_id, actor.request_id
        ),
    )


def sign_out(db: Session, actor: Actor, *, secret: str) -> None:
    cred = db.scalar(select(Credential).where(Credential.secret_sha256 == _digest(secret)))
    if cred is not None and cred.user_id == actor.user_id and cred.revoked_at is None:
        cred.revoked_at = _now()
        record(
            db,
            AuditRecord(
                AuditAction.SIGN_OUT, "user", str(actor.user_id), actor.user_id, actor.request_id
            ),
        )


@dataclass(frozen=True)
class Resolved:
    """Who a credential belongs to, and what the caller may need to write about it."""

    actor: Actor
    credential_id: int
    kind: str
    #: A session whose ``last_used_at`` is older than ``sessions.TOUCH_EVERY``.
    touch_due: bool = False
    #: A session past its idle timeout: end it (``sessions.end_idle_session``), then refuse.
    idle_expired: bool = False


def resolve_credential(
    db: Session, settings: Settings, secret: str, *, request_id: str
) -> Resolved:
    """The actor a session cookie or bearer token belongs to; NotAuthenticated otherwise.

    Sessions also end after ``settings.session_idle_minutes`` without use.
    """
    if not secret.startswith((SESSION_PREFIX, TOKEN_PREFIX)) or len(secret) > 200:
        raise NotAuthenticated("invalid credentials")
    row = sessions.credential_by_digest(db, _digest(secret))
    if row is None:
        raise NotAuthenticated("invalid credentials")
    cred, user = row
    expires = _aware(cred.expires_at)
    if cred.revoked_at is not None or (expires is not None and expires <= _now()):
        raise NotAuthenticated("credentials expired or revoked")
    if user.locked_at is not None:
        raise AccountLocked("account is locked; ask an admin")
    actor = actor_for(user, request_id)
    if cred.kind != "session":
        return Resolved(actor, cred.id, cred.kind)
    if sessions.idle_expired(cred, settings):
        return Resolved(actor, cred.id, cred.kind, idle_expired=True)
    last = _aware(cred.last_used_at)
    due = last is None or _now() - last > sessions.TOUCH_EVERY
    return Resolved(actor, cred.id, cred.kind, touch_due=due)


def record_rate_limited(db: Session, *, account: str, ip: str, scope: str, request_id: str) -> None:
    """Audit a sign-in attempt refused by the rate limits (the email only as a hash)."""
    record(
        db,
        AuditRecord(
            SecurityAction.SIGN_IN_RATE_LIMITED,
            "user",
            "unknown",
            None,
            request_id,
            details={"email_sha256": _digest(account.strip().lower()), "ip": ip, "scope": scope},
        ),
    )
