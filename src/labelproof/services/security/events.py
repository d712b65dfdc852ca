"""Audit actions of account security (recorded through ``services.audit.record``)."""

from __future__ import annotations

from enum import StrEnum


class SecurityAction(StrEnum):
    SIGN_IN_RATE_LIMITED = "auth.sign_in_rate_limited"
    SECOND_FACTOR_REQUIRED = "auth.second_factor_required"
    SECOND_FACTOR_FAILED = "auth.second_factor_failed"
    CSRF_REFUSED = "auth.csrf_refused"
    PASSWORD_CHANGED = "auth.password_changed"
    SESSION_REVOKED = "auth.session_revoked"
    SESSIONS_REVOKED = "auth.sessions_revoked"
    SESSION_IDLE_EXPIRED = "auth.session_idle_expired"
    TOTP_ENROLMENT_STARTED = "auth.totp_enrolment_started"
    TOTP_ENABLED = "auth.totp_enabled"
    TOTP_DISABLED = "auth.totp_disabled"
    RECOVERY_CODES_ISSUED = "auth.recovery_codes_issued"
    RECOVERY_CODE_USED = "auth.recovery_code_used"
    ORG_TOTP_POLICY_SET = "org.totp_policy_set"
