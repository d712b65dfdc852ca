"""Consensus tasks: merging k submissions, and the lead's adjudication queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from labelproof.errors import Conflict
from labelproof.services.assets import get_task
from labelproof.services.context import Actor
from labelproof.services.permissions import Action, authorize
from labelproof.services.qa.batches import validate_for_task
from labelproof.services.qa.events import ENDED, Kind, QaAuditAction, Stage, audit, emit
from labelproof.services.qa.merge import merge
from labelproof.services.qa.policy import Policy
from labelproof.services.qa.queue import state_of
from labelproof.store.models import utcnow
from labelproof.store.qa_models import QaAssignment, QaEvent, QaRevision, QaTaskResult


def _submitted(db: Session, task_id: int) -> list[tuple[QaAssignment, int]]:
    """(assignment, submitted revision number) of the task's consensus submissions."""
    now = utcnow()
    out = []
    for a in db.scalars(
        select(QaAssignment).where(QaAssignment.task_id == task_id).order_by(QaAssignment.id)
    ):
        s = state_of(db, a, now)
        if s.stage not in ENDED and s.cycle > 0 and s.submitted_revision is not None:
            out.append((a, s.submitted_revision))
    return out


def _annotations(db: Session, assignment_id: int, number: int) -> list[dict[str, Any]]:
    rev = db.scalar(
        select(QaRevision).where(
            QaRevision.assignment_id == assignment_id, QaRevision.number == number
        )
    )
    assert rev is not None
    return list(rev.annotations)


def maybe_merge(db: Session, task_id: int, policy: Policy) -> QaTaskResult | None:
    """When k assignments of a consensus task are submitted: merge them, store the result
    and its agreement, accept them (agreement >= bar) or leave the task to a lead."""
    done = _submitted(db, task_id)
    k = policy["consensus_k"]
    if len(done) < k:
        return None
    done = done[:k]
    a0 = done[0][0]
    sets = [_annotations(db, a.id, n) for a, n in done]
    merged = merge(sets, policy["iou_threshold"])
    value = merged.agreement["value"]
    accepted = value is not None and value >= policy["agreement_bar"]
    result = QaTaskResult(
        project_id=a0.project_id,
        task_id=task_id,
        kind="consensus",
        assignment_id=None,
        annotations=merged.annotations,
        agreement=merged.agreement,
        created_by=None,
    )
    db.add(result)
    db.flush()
    try:
        with db.begin_nested():
            emit(
                db,
                project_id=a0.project_id,
                kind=Kind.CONSENSUS_MERGED,
                actor_id=None,
                task_id=task_id,
                dedupe_key=f"merge:{task_id}",
                details={
                    "agreement": value,
                    "agreement_bar": policy["agreement_bar"],
                    "accepted": accepted,
                    "assignments": [a.id for a, _ in done],
                    "annotators": [a.annotator_id for a, _ in done],
                    "result_id": result.id,
                    "labels": sorted({str(i["label"]) for s in sets for i in s}),
                },
            )
    except IntegrityError:
        raise Conflict(f"task {task_id} was already merged") from None
    if accepted:
        from labelproof.services.qa.work import accept

        for a, n in done:
            accept(db, a, via="consensus", revision=n, mode="consensus")
    return result


def adjudication_queue(db: Session, actor: Actor, *, project_id: int) -> list[QaEvent]:
    """Merges below the agreement bar that no lead has adjudicated yet."""
    authorize(db, actor, project_id, Action.AUDIT_SAMPLE)
    done = set(
        db.scalars(
            select(QaEvent.task_id).where(
                QaEvent.project_id == project_id, QaEvent.kind == Kind.ADJUDICATED
            )
        )
    )
    return [
        e
        for e in db.scalars(
            select(QaEvent)
            .where(QaEvent.project_id == project_id, QaEvent.kind == Kind.CONSENSUS_MERGED)
            .order_by(QaEvent.id)
        )
        if not e.details["accepted"] and e.task_id not in done
    ]


def adjudicate(
    db: Session, actor: Actor, *, task_id: int, annotations: Any, comment: str = ""
) -> QaTaskResult:
    """A lead's answer for a consensus task below the bar; accepts its assignments."""
    task = get_task(db, actor, task_id=task_id, action=Action.AUDIT_SAMPLE)
    merged = db.scalar(
        select(QaEvent).where(QaEvent.task_id == task_id, QaEvent.kind == Kind.CONSENSUS_MERGED)
    )
    if merged is None or merged.details["accepted"]:
        raise Conflict(f"task {task_id} is not waiting for adjudication", field="task_id")
    items, _schema = validate_for_task(db, task, annotations)
    result = QaTaskResult(
        project_id=task.project_id,
        task_id=task_id,
        kind="adjudicated",
        assignment_id=None,
        annotations=items,
        agreement=dict(merged.details),
        created_by=actor.user_id,
    )
    db.add(result)
    db.flush()
    try:
        with db.begin_nested():
            emit(
                db,
                project_id=task.project_id,
                kind=Kind.ADJUDICATED,
                actor_id=actor.user_id,
                task_id=task_id,
                dedupe_key=f"adjudicate:{task_id}",
                details={"result_id": result.id, "comment": comment, "merge_event": merged.id},
            )
    except IntegrityError:
        raise Conflict(f"task {task_id} was already adjudicated") from None
    audit(db, actor, QaAuditAction.ADJUDICATED, "task", task_id, task.project_id)
    from labelproof.services.qa.work import accept

    for assignment_id in merged.details["assignments"]:
        a = db.get(QaAssignment, assignment_id)
        assert a is not None
        s = state_of(db, a)
        if s.stage == Stage.CONSENSUS and s.submitted_revision is not None:
            accept(db, a, via="adjudication", revision=s.submitted_revision, mode="consensus")
    return result


def current_result(db: Session, actor: Actor, *, task_id: int) -> QaTaskResult | None:
    get_task(db, actor, task_id=task_id, action=Action.QA_READ)
    return db.scalar(
        select(QaTaskResult)
        .where(QaTaskResult.task_id == task_id)
        .order_by(QaTaskResult.id.desc())
        .limit(1)
    )
