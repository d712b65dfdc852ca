"""QA events (the workflow's append-only log), audit records, and the state view.

An assignment's state is a fold over its events in id order (:func:`fold`):

    claimed -> annotating --submitted--> peer_review | lead_audit | consensus | accepted
    peer_review --accept/fix--> lead_audit (sampled) | accepted
    peer_review / lead_audit --reject--> rework --submitted--> ...
    lead_audit --accept/fix--> accepted
    consensus --all k submitted, merged, agreement >= bar--> accepted
    consensus --below the bar: the task waits in the lead's queue--> adjudicated: accepted
    annotating --TTL passed / expired--> expired;  any open state --reassigned--> reassigned
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from labelproof.services.audit import AuditRecord, record
from labelproof.services.context import Actor
from labelproof.store.qa_models import QaAssignment, QaEvent


class Kind(StrEnum):
    CLAIMED = "claimed"
    SUBMITTED = "submitted"
    REVIEWED = "reviewed"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REASSIGNED = "reassigned"
    GOLD_SCORED = "gold_scored"
    GOLD_BELOW_BAR = "gold_below_bar"
    CONSENSUS_MERGED = "consensus_merged"
    ADJUDICATED = "adjudicated"
    ESCALATION_RAISED = "escalation_raised"
    ESCALATION_ANSWERED = "escalation_answered"
    QUALIFICATION = "qualification"


class Stage(StrEnum):
    ANNOTATING = "annotating"
    PEER_REVIEW = "peer_review"
    LEAD_AUDIT = "lead_audit"
    CONSENSUS = "consensus"
    ADJUDICATION = "adjudication"
    REWORK = "rework"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REASSIGNED = "reassigned"


#: What the annotator's client is told: every waiting stage reads "submitted", so the
#: stages a task goes through (review, consensus, ...) do not reveal its mode.
PUBLIC_STATUS = {
    Stage.ANNOTATING: "annotating",
    Stage.PEER_REVIEW: "submitted",
    Stage.LEAD_AUDIT: "submitted",
    Stage.CONSENSUS: "submitted",
    Stage.ADJUDICATION: "submitted",
    Stage.REWORK: "rework",
    Stage.ACCEPTED: "accepted",
    Stage.EXPIRED: "expired",
    Stage.REASSIGNED: "expired",
}
OPEN_FOR_ANNOTATOR = (Stage.ANNOTATING, Stage.REWORK)
ENDED = (Stage.EXPIRED, Stage.REASSIGNED)


class QaAuditAction(StrEnum):
    POLICY_SET = "qa.policy_set"
    SOP_PUBLISHED = "qa.sop_published"
    BATCH_CREATED = "qa.batch_created"
    ANSWER_SET = "qa.answer_set"
    ASSIGNMENT_CLAIMED = "qa.claimed"
    ASSIGNMENT_SUBMITTED = "qa.submitted"
    ASSIGNMENT_REVIEWED = "qa.reviewed"
    ASSIGNMENT_REASSIGNED = "qa.reassigned"
    QA_ANNOTATIONS_SAVED = "qa.annotations_saved"
    GOLD_BELOW_BAR = "qa.gold_below_bar"
    QUALIFICATION = "qa.qualification"
    ADJUDICATED = "qa.adjudicated"
    ESCALATION_RAISED = "qa.escalation_raised"
    ESCALATION_ANSWERED = "qa.escalation_answered"


def audit(
    db: Session,
    actor: Actor | None,
    action: QaAuditAction,
    target_type: str,
    target_id: int | str,
    project_id: int,
    details: dict[str, Any] | None = None,
) -> None:
    """Record an audit event through ``services.audit.record`` (the one audit path).

    ``AuditAction`` lists the core actions; the QA actions are their own StrEnum with the
    same string form, which is what ``record`` stores.
    """
    record(
        db,
        AuditRecord(
            action,
            target_type,
            str(target_id),
            actor.user_id if actor else None,
            actor.request_id if actor else "system",
            project_id,
            details or {},
        ),
    )


def emit(
    db: Session,
    *,
    project_id: int,
    kind: Kind,
    actor_id: int | None,
    assignment: QaAssignment | None = None,
    task_id: int | None = None,
    subject_id: int | None = None,
    dedupe_key: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> QaEvent:
    """Append one QA event (flushed, so a duplicate ``dedupe_key`` raises here)."""
    from labelproof.store.models import utcnow

    event = QaEvent(
        project_id=project_id,
        kind=str(kind),
        at=at or utcnow(),
        actor_id=actor_id,
        assignment_id=assignment.id if assignment else None,
        task_id=assignment.task_id if assignment else task_id,
        subject_id=assignment.annotator_id if assignment else subject_id,
        dedupe_key=dedupe_key,
        details=details or {},
    )
    db.add(event)
    db.flush()
    return event


@dataclass
class State:
    """The view of one assignment after folding its events."""

    stage: Stage = Stage.ANNOTATING
    cycle: int = 0  # submissions so far
    submitted_revision: int | None = None
    rejections: int = 0
    submitted_at: datetime | None = None
    first_submitted_at: datetime | None = None
    accepted_at: datetime | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def public_status(self) -> str:
        return PUBLIC_STATUS[self.stage]


def fold(assignment: QaAssignment, events: Iterable[QaEvent], now: datetime) -> State:
    """The state of ``assignment`` from its events (in id order) at time ``now``."""
    s = State()
    for e in events:
        d = e.details
        if e.kind == Kind.SUBMITTED:
            s.cycle = int(d["cycle"])
            s.submitted_revision = int(d["revision"])
            s.stage = Stage(d["next"])
            s.submitted_at = e.at
            s.first_submitted_at = s.first_submitted_at or e.at
        elif e.kind == Kind.REVIEWED:
            s.stage = Stage(d["next"])
            if d["verdict"] == "reject":
                s.rejections += 1
            if d.get("fix_revision") is not None:
                s.submitted_revision = int(d["fix_revision"])
        elif e.kind == Kind.ACCEPTED:
            s.stage = Stage.ACCEPTED
            s.accepted_at = e.at
        elif e.kind == Kind.EXPIRED:
            s.stage = Stage.EXPIRED
        elif e.kind == Kind.REASSIGNED:
            s.stage = Stage.REASSIGNED
        else:
            continue
        s.history.append({"kind": e.kind, "at": e.at.isoformat(), **d})
    if s.stage == Stage.ANNOTATING and s.cycle == 0 and now >= assignment.expires_at:
        s.stage = Stage.EXPIRED
    return s
