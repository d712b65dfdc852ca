"""Annotating inside an assignment: its own revision stream, and submitting it.

An assignment's revisions follow the rules of ``services.revisions`` (whole-set saves on a
base revision, 409 with the current revision on a stale base, idempotency keys, the same
validation) but live in ``qa_revisions``, so a task's own stream is untouched. Every
revision records the schema version and the SOP version in force when it was saved.
Submitting needs every item of the current SOP's self-check checklist acknowledged.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from labelproof.errors import Conflict, InvalidInput, NotFound, StaleRevision
from labelproof.services.context import Actor
from labelproof.services.qa import scoring
from labelproof.services.qa.batches import batch_task, current_answer, validate_for_task
from labelproof.services.qa.events import (
    OPEN_FOR_ANNOTATOR,
    Kind,
    QaAuditAction,
    Stage,
    State,
    audit,
    emit,
)
from labelproof.services.qa.policy import (
    Policy,
    current_policy,
    current_sop,
    current_sop_version,
    unit_hash,
)
from labelproof.services.qa.qualify import check_gold_bar, current_status
from labelproof.services.qa.queue import own_assignment, state_of
from labelproof.services.revisions import payload_digest
from labelproof.store.models import Task
from labelproof.store.qa_models import QaAssignment, QaRevision, QaTaskResult

_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def current_revision(db: Session, assignment_id: int) -> QaRevision | None:
    return db.scalar(
        select(QaRevision)
        .where(QaRevision.assignment_id == assignment_id)
        .order_by(QaRevision.number.desc())
        .limit(1)
    )


def revision_number(db: Session, assignment_id: int, number: int) -> QaRevision:
    rev = db.scalar(
        select(QaRevision).where(
            QaRevision.assignment_id == assignment_id, QaRevision.number == number
        )
    )
    if rev is None:
        raise NotFound(f"revision {number} of assignment {assignment_id} not found")
    return rev


def revision_to_dict(rev: QaRevision) -> dict[str, Any]:
    return {
        "assignment_id": rev.assignment_id,
        "number": rev.number,
        "base_number": rev.base_number,
        "schema_version_id": rev.schema_version_id,
        "sop_version": rev.sop_version,
        "author_id": rev.author_id,
        "created_at": rev.created_at.isoformat(),
        "annotations": rev.annotations,
    }


def _by_key(db: Session, assignment_id: int, key: str) -> QaRevision | None:
    return db.scalar(
        select(QaRevision).where(
            QaRevision.assignment_id == assignment_id, QaRevision.idempotency_key == key
        )
    )


def _stale(current: QaRevision | None, base: int) -> StaleRevision:
    number = current.number if current else 0
    return StaleRevision(
        f"revision {number} is current, not {base}: someone saved first; reload and merge",
        field="base_revision",
        current_revision=number,
        current=revision_to_dict(current) if current else None,
    )


def append_revision(
    db: Session,
    actor: Actor,
    a: QaAssignment,
    *,
    base_revision: int,
    annotations: Any,
    idempotency_key: str,
) -> tuple[QaRevision, bool]:
    """Append the next revision of ``a`` (no authorization: callers check)."""
    if not isinstance(idempotency_key, str) or not _KEY.match(idempotency_key):
        raise InvalidInput(
            "idempotency_key: must be 1-128 characters of A-Z a-z 0-9 . _ : -",
            field="idempotency_key",
        )
    if isinstance(base_revision, bool) or not isinstance(base_revision, int) or base_revision < 0:
        raise InvalidInput(
            f"base_revision: must be a non-negative integer, got {base_revision!r}",
            field="base_revision",
        )
    task = db.get(Task, a.task_id)
    assert task is not None
    items, schema_id = validate_for_task(db, task, annotations)
    digest = payload_digest(db, a.project_id, base_revision, items)
    existing = _by_key(db, a.id, idempotency_key)
    if existing is not None:
        if existing.payload_sha256 != digest:
            raise Conflict(
                f"idempotency key {idempotency_key!r} was already used for a different save",
                field="idempotency_key",
                revision=existing.number,
            )
        return existing, False
    current = current_revision(db, a.id)
    if (current.number if current else 0) != base_revision:
        again = _by_key(db, a.id, idempotency_key)  # a retry committed since the first look
        if again is not None and again.payload_sha256 == digest:
            return again, False
        raise _stale(current, base_revision)
    rev = QaRevision(
        assignment_id=a.id,
        number=base_revision + 1,
        base_number=base_revision,
        schema_version_id=schema_id,
        sop_version=current_sop_version(db, a.project_id),
        author_id=actor.user_id,
        idempotency_key=idempotency_key,
        payload_sha256=digest,
        annotations=items,
    )
    try:
        with db.begin_nested():
            db.add(rev)
            db.flush()
    except IntegrityError:
        again = _by_key(db, a.id, idempotency_key)
        if again is not None and again.payload_sha256 == digest:
            return again, False
        raise _stale(current_revision(db, a.id), base_revision) from None
    audit(
        db,
        actor,
        QaAuditAction.QA_ANNOTATIONS_SAVED,
        "qa_assignment",
        a.id,
        a.project_id,
        {"revision": rev.number, "count": len(items), "sop_version": rev.sop_version},
    )
    return rev, True


def save(
    db: Session,
    actor: Actor,
    *,
    assignment_id: int,
    base_revision: int,
    annotations: Any,
    idempotency_key: str,
) -> tuple[QaRevision, bool]:
    """The annotator saves a revision of their open assignment (annotating or rework)."""
    a = own_assignment(db, actor, assignment_id=assignment_id)
    state = state_of(db, a)
    if state.stage not in OPEN_FOR_ANNOTATOR:
        existing = _by_key(db, a.id, idempotency_key) if isinstance(idempotency_key, str) else None
        if existing is not None:
            return existing, False  # a retry of a save made before the submit
        raise Conflict(
            f"assignment {assignment_id} is {state.public_status}; it cannot be edited now",
            field="assignment_id",
            status=state.public_status,
        )
    return append_revision(
        db,
        actor,
        a,
        base_revision=base_revision,
        annotations=annotations,
        idempotency_key=idempotency_key,
    )


def get_current(db: Session, actor: Actor, *, assignment_id: int) -> QaRevision | None:
    own_assignment(db, actor, assignment_id=assignment_id)
    return current_revision(db, assignment_id)


def audit_needed(db: Session, a: QaAssignment, policy: Policy) -> bool:
    """Lead audit: when enabled, for a seeded-hash sample of assignments at the policy's
    rate (recomputable from the assignment id), and for everyone under ``more_review``."""
    if not policy["lead_audit"]:
        return False
    if unit_hash(policy["audit_seed"], "audit", a.id) < policy["audit_rate"]:
        return True
    status = current_status(db, a.project_id, a.annotator_id)
    return status is not None and status.status == "more_review"


def stage_after_submit(db: Session, a: QaAssignment, mode: str, policy: Policy) -> Stage:
    if mode == "calibration":
        return Stage.ACCEPTED
    if mode == "consensus":
        return Stage.CONSENSUS
    if policy["peer_review"]:
        return Stage.PEER_REVIEW
    return Stage.LEAD_AUDIT if audit_needed(db, a, policy) else Stage.ACCEPTED


def accept(db: Session, a: QaAssignment, *, via: str, revision: int, mode: str) -> None:
    """Record acceptance; a production single task gets its result row."""
    emit(
        db,
        project_id=a.project_id,
        kind=Kind.ACCEPTED,
        actor_id=None,
        assignment=a,
        dedupe_key=f"accept:{a.id}",
        details={"via": via, "revision": revision, "mode": mode},
    )
    if mode == "single":
        rev = revision_number(db, a.id, revision)
        db.add(
            QaTaskResult(
                project_id=a.project_id,
                task_id=a.task_id,
                kind="accepted",
                assignment_id=a.id,
                annotations=rev.annotations,
                agreement={},
                created_by=None,
            )
        )
        db.flush()


def _check_checklist(db: Session, project_id: int, checklist: Any) -> list[str]:
    sop = current_sop(db, project_id)
    required = [item["id"] for item in sop.checklist] if sop else []
    if not isinstance(checklist, list) or not all(isinstance(c, str) for c in checklist):
        raise InvalidInput("checklist: must be a list of checklist item ids", field="checklist")
    unknown = sorted(set(checklist) - set(required))
    if unknown:
        raise InvalidInput(
            f"checklist: {unknown} are not items of the current SOP's checklist",
            field="checklist",
        )
    missing = [r for r in required if r not in checklist]
    if missing:
        raise InvalidInput(
            f"checklist: confirm every self-check item before submitting; missing {missing}",
            field="checklist",
            missing=missing,
        )
    return sorted(set(checklist))


def submit(
    db: Session, actor: Actor, *, assignment_id: int, revision: int, checklist: Any
) -> tuple[QaAssignment, State]:
    """Submit revision ``revision`` (the current one) after the self-check."""
    from labelproof.services.qa.consensus import maybe_merge

    a = own_assignment(db, actor, assignment_id=assignment_id)
    state = state_of(db, a)
    if state.stage not in OPEN_FOR_ANNOTATOR:
        raise Conflict(
            f"assignment {assignment_id} is {state.public_status}; nothing to submit",
            field="assignment_id",
            status=state.public_status,
        )
    current = current_revision(db, a.id)
    if current is None:
        raise InvalidInput(
            "save the annotations (even an empty set) before submitting", field="revision"
        )
    if current.number != revision:
        raise _stale(current, revision)
    acknowledged = _check_checklist(db, a.project_id, checklist)
    placed = batch_task(db, a.task_id)
    assert placed is not None
    mode = placed[0].mode
    policy = current_policy(db, a.project_id)
    cycle = state.cycle + 1
    nxt = stage_after_submit(db, a, mode, policy)
    try:
        with db.begin_nested():
            emit(
                db,
                project_id=a.project_id,
                kind=Kind.SUBMITTED,
                actor_id=actor.user_id,
                assignment=a,
                dedupe_key=f"submit:{a.id}:{cycle}",
                details={
                    "cycle": cycle,
                    "revision": revision,
                    "sop_version": current.sop_version,
                    "checklist": acknowledged,
                    "next": nxt.value,
                    "mode": mode,
                    "batch_id": a.batch_id,
                },
            )
    except IntegrityError:
        raise Conflict(f"assignment {assignment_id} was already submitted") from None
    audit(
        db,
        actor,
        QaAuditAction.ASSIGNMENT_SUBMITTED,
        "qa_assignment",
        a.id,
        a.project_id,
        {"cycle": cycle},
    )
    if mode == "gold" and cycle == 1:
        _score_gold(db, a, current, policy)
    if nxt == Stage.ACCEPTED:
        accept(db, a, via="submit", revision=revision, mode=mode)
    if mode == "consensus":
        maybe_merge(db, a.task_id, policy)
    return a, state_of(db, a)


def _score_gold(db: Session, a: QaAssignment, rev: QaRevision, policy: Policy) -> None:
    answer = current_answer(db, a.task_id)
    if answer is None:
        return  # a gold task without an answer is not scored (the lead must set one)
    counts = scoring.accuracy_counts(answer.annotations, rev.annotations, policy["iou_threshold"])
    labels = sorted({str(i["label"]) for i in answer.annotations})
    emit(
        db,
        project_id=a.project_id,
        kind=Kind.GOLD_SCORED,
        actor_id=None,
        assignment=a,
        dedupe_key=f"gold:{a.id}",
        details={
            **counts.to_dict(),
            "answer_id": answer.id,
            "revision": rev.number,
            "iou_threshold": policy["iou_threshold"],
            "sop_version": rev.sop_version,
            "labels": labels,
        },
    )
    check_gold_bar(db, policy, a.project_id, a.annotator_id)
