"""Data-classification clearance: who may touch a project of which classification.

| project classification | the user needs |
| --- | --- |
| public, internal | nothing beyond a role in the project |
| pii | clearance ``pii`` |
| phi | clearance ``phi`` and ``baa_signed: true`` (a signed business associate agreement) |
| cui | clearance ``cui`` and ``training_done: true`` (CUI training completed) |

The rule applies to everyone, organisation admins and superusers included (they may grant
themselves a clearance, which is an audit event like any other). ``permissions.authorize``
calls :func:`missing_clearance` after the role check, so a non-member still gets 404 and a
member without clearance gets 403; every such refusal is an audit event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from labelproof.errors import InvalidInput, NotFound
from labelproof.services.audit import AuditAction, AuditRecord, record
from labelproof.services.context import Actor
from labelproof.services.permissions import require_org_admin
from labelproof.store.models import User

__all__ = ["CLEARANCES", "RULES", "missing_clearance", "normalize", "set_clearance"]

CLEARANCES = ("pii", "phi", "cui")
#: classification -> (clearance needed, attributes that must be true)
RULES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "public": (None, ()),
    "internal": (None, ()),
    "pii": ("pii", ()),
    "phi": ("phi", ("baa_signed",)),
    "cui": ("cui", ("training_done",)),
}
_ATTRIBUTES = ("baa_signed", "training_done")


def missing_clearance(classification: str, clearance: dict[str, Any] | None) -> list[str]:
    """What ``clearance`` lacks for a project of ``classification`` (empty: cleared).

    An unknown classification needs what nobody has, so it is refused, never let through.
    """
    needed, attributes = RULES.get(classification, (f"unknown:{classification}", ()))
    have = clearance or {}
    missing = []
    if needed is not None and needed not in (have.get("clearances") or []):
        missing.append(f"clearance {needed!r}")
    missing += [f"{a}=true" for a in attributes if have.get(a) is not True]
    return missing


def normalize(value: Any) -> dict[str, Any]:
    """A clearance document checked field by field: ``{"clearances": [...], "baa_signed":
    bool, "training_done": bool}``; unknown keys or values raise ``InvalidInput``."""
    if not isinstance(value, dict):
        raise InvalidInput("clearance must be an object", field="clearance")
    unknown = sorted(set(value) - {"clearances", *_ATTRIBUTES})
    if unknown:
        raise InvalidInput(f"unknown clearance fields {unknown}", field=f"clearance.{unknown[0]}")
    levels = value.get("clearances", [])
    if not isinstance(levels, list) or not all(isinstance(c, str) for c in levels):
        raise InvalidInput("clearances must be a list of strings", field="clearance.clearances")
    for i, level in enumerate(levels):
        if level not in CLEARANCES:
            raise InvalidInput(
                f"unknown clearance {level!r}; known: {list(CLEARANCES)}",
                field=f"clearance.clearances[{i}]",
            )
    out: dict[str, Any] = {"clearances": sorted(set(levels))}
    for name in _ATTRIBUTES:
        flag = value.get(name, False)
        if not isinstance(flag, bool):
            raise InvalidInput(f"{name} must be true or false", field=f"clearance.{name}")
        out[name] = flag
    return out


def set_clearance(db: Session, actor: Actor, *, user_id: int, clearance: Any) -> User:
    """Replace a user's clearance (organisation admins of the user's organisation)."""
    user = db.get(User, user_id)
    if user is None or (user.org_id != actor.org_id and not actor.is_superuser):
        raise NotFound(f"user {user_id} not found")
    require_org_admin(actor, user.org_id)
    before = dict(user.clearance or {})
    user.clearance = normalize(clearance)
    record(
        db,
        AuditRecord(
            AuditAction.CLEARANCE_SET,
            "user",
            str(user.id),
            actor.user_id,
            actor.request_id,
            details={"before": before, "after": user.clearance},
        ),
    )
    return user
