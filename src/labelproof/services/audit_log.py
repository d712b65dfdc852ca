"""Reading the audit log (writing is ``labelproof.services.audit.record``)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelproof.services.context import Actor
from labelproof.services.permissions import Action, authorize
from labelproof.store.models import AuditEvent


def list_events(
    db: Session, actor: Actor, *, project_id: int, offset: int = 0, limit: int = 100
) -> tuple[list[AuditEvent], int]:
    authorize(db, actor, project_id, Action.AUDIT_READ)
    where = AuditEvent.project_id == project_id
    total = db.scalar(select(func.count()).select_from(AuditEvent).where(where)) or 0
    rows = db.scalars(
        select(AuditEvent).where(where).order_by(AuditEvent.id).offset(offset).limit(limit)
    )
    return list(rows), total
