"""Audit events: typed records written by one function, in the caller's transaction.

Records are chained (``prev_hash``/``entry_hash``) when the transaction commits, by the
runtime's session hooks (``labelproof.services.custody.chain``); a session without them
chains at once. A refusal (``record_refusal``) is kept even when the refused transaction
rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session


class AuditAction(StrEnum):
    SIGN_IN = "auth.sign_in"
    SIGN_IN_FAILED = "auth.sign_in_failed"
    ACCOUNT_LOCKED = "auth.account_locked"
    ACCOUNT_UNLOCKED = "auth.account_unlocked"
    SIGN_OUT = "auth.sign_out"
    TOKEN_CREATED = "auth.token_created"
    TOKEN_REVOKED = "auth.token_revoked"
    ORG_CREATED = "org.created"
    USER_CREATED = "user.created"
    PROJECT_CREATED = "project.created"
    MEMBER_SET = "membership.set"
    MEMBER_REMOVED = "membership.removed"
    SCHEMA_VERSION_CREATED = "schema.version_created"
    ASSET_UPLOADED = "asset.uploaded"
    ASSET_READ = "asset.read"
    TASKS_CREATED = "task.created"
    ANNOTATIONS_SAVED = "annotation.saved"
    DATASET_IMPORTED = "dataset.imported"
    DATASET_EXPORTED = "dataset.exported"
    ACCESS_DENIED = "access.denied"
    CLEARANCE_SET = "user.clearance_set"
    AUDIT_CHECKPOINT = "audit.checkpoint"
    DESTRUCTION_REQUESTED = "project.destruction_requested"
    PROJECT_DESTROYED = "project.destroyed"
    CIPHERTEXT_REFUSED = "custody.ciphertext_refused"
    DEID_POLICY_SET = "project.deid_policy_set"


@dataclass(frozen=True)
class AuditRecord:
    """One thing that happened: who did what to which target, when, in which request."""

    action: StrEnum  # AuditAction, or a subsystem's own enum (e.g. the QA workflow's)
    target_type: str
    target_id: str
    actor_id: int | None
    request_id: str
    project_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


def record(db: Session, event: AuditRecord) -> None:
    """Append ``event`` to the audit log in the same transaction as the change it describes."""
    from labelproof.services.custody import chain

    if chain.CUSTODY in db.info:
        db.info.setdefault(chain.PENDING, []).append(event)
    else:
        chain.append_events(db, [event], None)


def record_refusal(db: Session, event: AuditRecord) -> None:
    """Record a refused request; kept even though the refused transaction rolls back."""
    from labelproof.services.custody import chain

    if chain.CUSTODY in db.info:
        db.info.setdefault(chain.REFUSALS, []).append(event)
    else:
        chain.append_events(db, [event], None)
