"""Changing one's own password: the current one is asked, the rules apply, and every other
session of the user ends (API tokens are kept; revoke them separately)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from labelproof.errors import InvalidInput, NotFound, PermissionDenied
from labelproof.services.audit import AuditRecord, record
from labelproof.services.context import Actor
from labelproof.services.security import hashing
from labelproof.services.security.events import SecurityAction
from labelproof.services.security.passwords import check_password
from labelproof.services.security.sessions import now, revoke_credentials
from labelproof.store.models import User

__all__ = ["change_password"]


def change_password(
    db: Session,
    actor: Actor,
    *,
    current_password: str,
    new_password: str,
    current_secret: str | None,
) -> int:
    """Set a new password; returns how many other sessions were ended.

    Raises ``PermissionDenied`` (field ``current_password``) for a wrong current password and
    ``InvalidInput`` (field ``new_password``) when the new one breaks a rule or is unchanged.
    """
    user = db.get(User, actor.user_id)
    if user is None:  # pragma: no cover - the actor was just resolved from this row
        raise NotFound("user not found")
    if not hashing.verify_password(user.password_hash, current_password):
        raise PermissionDenied("the current password is wrong", field="current_password")
    try:
        check_password(new_password, email=user.email)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field="new_password") from None
    if hashing.verify_password(user.password_hash, new_password):
        raise InvalidInput("the new password is the current one", field="new_password")
    user.password_hash = hashing.hash_new(new_password)
    user.password_changed_at = now()
    record(
        db,
        AuditRecord(
            SecurityAction.PASSWORD_CHANGED, "user", str(user.id), actor.user_id, actor.request_id
        ),
    )
    return revoke_credentials(
        db,
        actor,
        user_id=user.id,
        keep_secret=current_secret,
        kinds=("session", "pending"),
        reason="password_changed",
    )
