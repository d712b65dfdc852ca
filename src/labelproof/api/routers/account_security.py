"""Your sessions, password and second factor; an admin's session revocation and 2FA policy."""

from __future__ import annotations

from fastapi import APIRouter, Request

from labelproof.api.deps import (
    CurrentActor,
    RuntimeDep,
    SessionDep,
    UnitOfWorkDep,
    credential_from,
)
from labelproof.api.routers.account_bodies import (
    AccountSecurityOut,
    CodeIn,
    DisableTotpIn,
    EnrolmentOut,
    OrgSecurityIn,
    OrgSecurityOut,
    PasswordChangeIn,
    PasswordIn,
    RecoveryCodesOut,
    RecoveryStatusOut,
    RevokedOut,
    RevokeUserSessionsIn,
    SessionInfoOut,
    TotpEnabledOut,
)
from labelproof.errors import NotFound
from labelproof.services.security import sessions, two_factor
from labelproof.services.security.password_change import change_password as change
from labelproof.store.models import Organization, User

router = APIRouter(prefix="/api", tags=["account security"])


@router.get("/auth/security")
def get_account_security(db: SessionDep, actor: CurrentActor) -> AccountSecurityOut:
    """Your second factor and your organisation's policy."""
    user = db.get(User, actor.user_id)
    org = db.get(Organization, actor.org_id)
    if user is None:  # pragma: no cover - the actor was just resolved from this row
        raise NotFound("user not found")
    return AccountSecurityOut(
        totp_enabled=user.totp_enabled_at is not None,
        totp_enrolment_pending=user.totp_secret is not None and user.totp_enabled_at is None,
        org_requires_totp=bool(org and org.require_totp),
        password_changed_at=user.password_changed_at,
    )


@router.post("/auth/password")
def change_password(
    body: PasswordChangeIn, request: Request, uow: UnitOfWorkDep, actor: CurrentActor
) -> RevokedOut:
    """Change your password (the current one is asked); your other sessions end."""
    secret = credential_from(request)
    revoked = uow(
        lambda db: change(
            db,
            actor,
            current_password=body.current_password,
            new_password=body.new_password,
            current_secret=secret,
        )
    )
    return RevokedOut(revoked=revoked)


@router.get("/auth/sessions")
def list_sessions(request: Request, db: SessionDep, actor: CurrentActor) -> list[SessionInfoOut]:
    """Your open browser sessions (``current`` marks this one)."""
    secret = credential_from(request)
    mine = sessions.digest(secret) if secret else None
    return [
        SessionInfoOut(
            id=c.id,
            created_at=c.created_at,
            expires_at=c.expires_at,
            last_used_at=c.last_used_at,
            client_ip=c.client_ip,
            user_agent=c.user_agent,
            current=c.secret_sha256 == mine,
        )
        for c in sessions.list_sessions(db, actor)
    ]


@router.delete("/auth/sessions/{session_id}", status_code=204)
def revoke_session(session_id: int, uow: UnitOfWorkDep, actor: CurrentActor) -> None:
    """End one of your sessions."""
    uow(lambda db: sessions.revoke_session(db, actor, session_id=session_id))


@router.post("/auth/sessions/revoke-others")
def revoke_other_sessions(request: Request, uow: UnitOfWorkDep, actor: CurrentActor) -> RevokedOut:
    """End every session of yours except this one."""
    secret = credential_from(request)
    n = uow(lambda db: sessions.revoke_other_sessions(db, actor, current_secret=secret))
    return RevokedOut(revoked=n)


@router.post("/auth/totp/enrol")
def enrol_totp(
    body: PasswordIn, uow: UnitOfWorkDep, rt: RuntimeDep, actor: CurrentActor
) -> EnrolmentOut:
    """Start setting up an authenticator app (password asked again); the secret is shown
    once; confirm with its first code."""
    e = uow(lambda db: two_factor.enrol(db, rt.custody.provider, actor, password=body.password))
    return EnrolmentOut(secret=e.secret, otpauth_uri=e.otpauth_uri)


@router.post("/auth/totp/confirm")
def confirm_totp(
    body: CodeIn, uow: UnitOfWorkDep, rt: RuntimeDep, actor: CurrentActor
) -> TotpEnabledOut:
    """Turn the second factor on with the first code from the app; returns one-time
    recovery codes, shown only now."""
    done = uow(lambda db: two_factor.confirm(db, rt.custody.provider, actor, code=body.code))
    return TotpEnabledOut(enabled_at=done.enabled_at, recovery_codes=done.recovery_codes)


@router.get("/auth/totp/recovery-codes")
def get_recovery_codes(db: SessionDep, actor: CurrentActor) -> RecoveryStatusOut:
    """How many of your one-time recovery codes are left (the codes are never shown again)."""
    return RecoveryStatusOut(remaining=two_factor.recovery_status(db, actor))


@router.post("/auth/totp/recovery-codes")
def regenerate_recovery_codes(
    body: DisableTotpIn, uow: UnitOfWorkDep, rt: RuntimeDep, actor: CurrentActor
) -> RecoveryCodesOut:
    """A new set of recovery codes (password and a current code); the old set stops working."""
    codes = uow(
        lambda db: two_factor.regenerate_recovery_codes(
            db, rt.custody.provider, actor, password=body.password, code=body.code
        )
    )
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/auth/totp/disable", status_code=204)
def disable_totp(
    body: DisableTotpIn, uow: UnitOfWorkDep, rt: RuntimeDep, actor: CurrentActor
) -> None:
    """Turn the second factor off (password and a current code)."""
    uow(
        lambda db: two_factor.disable(
            db, rt.custody.provider, actor, password=body.password, code=body.code
        )
    )


@router.post("/users/{user_id}/sessions/revoke")
def revoke_user_sessions(
    user_id: int, body: RevokeUserSessionsIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> RevokedOut:
    """End a user's sessions, and with ``include_tokens`` their API tokens (org admins)."""
    n = uow(
        lambda db: sessions.revoke_user_sessions(
            db, actor, user_id=user_id, include_tokens=body.include_tokens
        )
    )
    return RevokedOut(revoked=n)


@router.put("/orgs/{org_id}/security")
def set_org_security(
    org_id: int, body: OrgSecurityIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> OrgSecurityOut:
    """Require a second factor for every member (org admins); sessions of members without
    one end, and they set it up at their next sign-in."""
    ended = uow(
        lambda db: two_factor.set_org_policy(
            db, actor, org_id=org_id, require_totp=body.require_totp
        )
    )
    return OrgSecurityOut(org_id=org_id, require_totp=body.require_totp, sessions_ended=ended)
