"""Request and response bodies of sign-in steps, sessions, passwords and the second factor."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from labelproof.api.models import UserOut


class LoginOut(BaseModel):
    """A session (cookies set, ``csrf_token`` for ``X-CSRF-Token``) or a pending second step.

    With ``second_factor`` set no cookie is set: send ``pending_token`` and a code to
    ``/api/auth/login/second-factor`` (``"enrol"``: first get a secret from
    ``/api/auth/login/enrol``).
    """

    user: UserOut
    expires_at: datetime
    second_factor: Literal["totp", "enrol"] | None = None
    pending_token: str | None = None
    csrf_token: str | None = None


class PendingIn(BaseModel):
    pending_token: str = Field(max_length=200)


class SecondFactorIn(PendingIn):
    code: str = Field(max_length=20, description="6 digits from the authenticator app")


class EnrolmentOut(BaseModel):
    """The new TOTP secret, shown once (base32, and as an otpauth:// URI for a QR code)."""

    secret: str
    otpauth_uri: str


class PasswordIn(BaseModel):
    password: str = Field(max_length=1000)


class CodeIn(BaseModel):
    code: str = Field(max_length=20)


class DisableTotpIn(BaseModel):
    password: str = Field(max_length=1000)
    code: str = Field(max_length=20)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=1000)
    new_password: str = Field(max_length=1000)


class RevokedOut(BaseModel):
    revoked: int


class SessionInfoOut(BaseModel):
    id: int
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    client_ip: str | None
    user_agent: str | None
    current: bool


class AccountSecurityOut(BaseModel):
    totp_enabled: bool
    totp_enrolment_pending: bool
    org_requires_totp: bool
    password_changed_at: datetime | None


class TotpEnabledOut(BaseModel):
    enabled_at: datetime
    recovery_codes: list[str] = Field(
        description="one-time codes for a lost authenticator, shown only now"
    )


class RecoveryCodesOut(BaseModel):
    """New one-time recovery codes, shown only now (the previous set no longer works)."""

    recovery_codes: list[str]


class RecoveryStatusOut(BaseModel):
    remaining: int = Field(description="unused recovery codes")


class OrgSecurityIn(BaseModel):
    require_totp: bool


class OrgSecurityOut(BaseModel):
    org_id: int
    require_totp: bool
    sessions_ended: int = Field(description="sessions of members without a second factor ended")


class RevokeUserSessionsIn(BaseModel):
    include_tokens: bool = False
