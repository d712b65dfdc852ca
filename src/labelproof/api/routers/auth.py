"""Sign-in (password, then a second factor where needed), sign-out, the current user and
personal API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from labelproof.api.deps import (
    SESSION_COOKIE,
    CurrentActor,
    RequestId,
    RuntimeDep,
    SessionDep,
    UnitOfWork,
    UnitOfWorkDep,
)
from labelproof.api.models import LoginIn, TokenCreated, TokenIn, TokenOut, UserOut
from labelproof.api.routers.account_bodies import (
    EnrolmentOut,
    LoginOut,
    PendingIn,
    SecondFactorIn,
)
from labelproof.api.security import CSRF_COOKIE, SignInLimits, client_ip, csrf_token_for
from labelproof.config import Settings
from labelproof.errors import NotFound
from labelproof.services import accounts
from labelproof.services.security import two_factor
from labelproof.services.security.ratelimit import RateLimited
from labelproof.services.security.sessions import ClientInfo, SignIn
from labelproof.store.models import User

router = APIRouter(prefix="/api/auth", tags=["auth"])


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        org_id=user.org_id,
        email=user.email,
        display_name=user.display_name,
        is_org_admin=user.is_org_admin,
        locked=user.locked_at is not None,
    )


def _user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:  # pragma: no cover - the actor was just resolved from this row
        raise NotFound("user not found")
    return user


def limit_sign_in(request: Request, uow: UnitOfWork, *, account: str, rid: str) -> None:
    """Take a token from the per-address and per-account buckets; audit and raise 429."""
    ip = client_ip(request)
    limits: SignInLimits = request.app.state.sign_in_limits
    try:
        limits.check(ip=ip, account=account)
    except RateLimited as exc:
        scope = exc.scope
        uow(
            lambda db: accounts.record_rate_limited(
                db, account=account, ip=ip, scope=scope, request_id=rid
            )
        )
        raise


def set_session_cookies(request: Request, response: Response, secret: str, max_age: int) -> str:
    """The HttpOnly session cookie and the readable CSRF cookie; returns the CSRF token."""
    https = request.url.scheme == "https"
    token = csrf_token_for(secret)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="strict",
        max_age=max_age,
        path="/",
        secure=https,
    )
    response.set_cookie(
        CSRF_COOKIE,
        token,
        httponly=False,
        samesite="strict",
        max_age=max_age,
        path="/",
        secure=https,
    )
    return token


def client_info(request: Request) -> ClientInfo:
    return ClientInfo(ip=client_ip(request), user_agent=request.headers.get("user-agent"))


def _signed_in(
    request: Request, response: Response, result: SignIn, settings: Settings
) -> LoginOut:
    if result.second_factor is not None:
        return LoginOut(
            user=user_out(result.user),
            expires_at=result.expires_at,
            second_factor=result.second_factor,
            pending_token=result.secret,
        )
    token = set_session_cookies(request, response, result.secret, settings.session_hours * 3600)
    return LoginOut(user=user_out(result.user), expires_at=result.expires_at, csrf_token=token)


@router.post("/login")
def login(
    body: LoginIn,
    request: Request,
    response: Response,
    uow: UnitOfWorkDep,
    rt: RuntimeDep,
    rid: RequestId,
) -> LoginOut:
    """Sign in with email and password; sets an HttpOnly session cookie and the readable
    ``labelproof_csrf`` cookie whose value unsafe requests echo in ``X-CSRF-Token``.

    With a second factor enrolled (or required by the organisation) no cookie is set yet:
    the answer carries ``second_factor`` and a short-lived ``pending_token``. Attempts are
    rate-limited per client address and per account (429, ``Retry-After``).
    """
    limit_sign_in(request, uow, account=body.email, rid=rid)
    result = uow(
        lambda db: accounts.sign_in(
            db,
            rt.settings,
            email=body.email,
            password=body.password,
            request_id=rid,
            client=client_info(request),
        )
    )
    return _signed_in(request, response, result, rt.settings)


@router.post("/login/second-factor")
def login_second_factor(
    body: SecondFactorIn,
    request: Request,
    response: Response,
    uow: UnitOfWorkDep,
    rt: RuntimeDep,
    rid: RequestId,
) -> LoginOut:
    """Complete a sign-in with the authenticator's code (a used code is refused)."""
    limit_sign_in(request, uow, account=f"pending:{body.pending_token[:24]}", rid=rid)
    result = uow(
        lambda db: two_factor.complete_sign_in(
            db,
            rt.settings,
            rt.custody.provider,
            pending=body.pending_token,
            code=body.code,
            request_id=rid,
            client=client_info(request),
        )
    )
    return _signed_in(request, response, result, rt.settings)


@router.post("/login/enrol")
def login_enrol_totp(
    body: PendingIn, uow: UnitOfWorkDep, rt: RuntimeDep, rid: RequestId
) -> EnrolmentOut:
    """Set up the second factor your organisation requires, during sign-in (shown once)."""
    enrolment = uow(
        lambda db: two_factor.enrol_during_sign_in(
            db, rt.custody.provider, pending=body.pending_token, request_id=rid
        )
    )
    return EnrolmentOut(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri)


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, uow: UnitOfWorkDep, actor: CurrentActor) -> None:
    """End the browser session."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        uow(lambda db: accounts.sign_out(db, actor, secret=secret))
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.get("/me")
def get_me(db: SessionDep, actor: CurrentActor) -> UserOut:
    """The signed-in user."""
    return user_out(_user(db, actor.user_id))


@router.post("/tokens", status_code=201)
def create_token(body: TokenIn, uow: UnitOfWorkDep, actor: CurrentActor) -> TokenCreated:
    """Create a personal API token; its secret is in this response only."""
    cred, secret = uow(
        lambda db: accounts.create_token(db, actor, name=body.name, expires_days=body.expires_days)
    )
    return TokenCreated(
        id=cred.id,
        name=cred.name,
        created_at=cred.created_at,
        expires_at=cred.expires_at,
        token=secret,
    )


@router.get("/tokens")
def list_tokens(db: SessionDep, actor: CurrentActor) -> list[TokenOut]:
    """Your active API tokens (never their secrets)."""
    return [TokenOut.model_validate(c) for c in accounts.list_tokens(db, actor)]


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, uow: UnitOfWorkDep, actor: CurrentActor) -> None:
    """Revoke one of your API tokens."""
    uow(lambda db: accounts.revoke_token(db, actor, token_id=token_id))
