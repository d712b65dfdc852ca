"""Escalations: an annotator flags a task or region as ambiguous; a lead answers, and an
answer may publish a new SOP version. Each escalation is counted against the SOP version
its assignment was claimed under (or the current one), per class."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from labelproof.errors import Conflict, InvalidInput, NotFound
from labelproof.services.assets import get_task
from labelproof.services.context import Actor
from labelproof.services.permissions import MATRIX, Action, Role, authorize, role_in_project
from labelproof.services.qa.events import Kind, QaAuditAction, audit, emit
from labelproof.services.qa.policy import current_sop_version, publish_sop
from labelproof.services.qa.queue import own_assignment
from labelproof.store.models import Project
from labelproof.store.qa_models import QaEscalation, QaEscalationAnswer


def raise_escalation(
    db: Session,
    actor: Actor,
    *,
    project_id: int,
    question: str,
    task_id: int | None = None,
    assignment_id: int | None = None,
    label: str | None = None,
    annotation_id: str | None = None,
    region: dict[str, Any] | None = None,
) -> QaEscalation:
    authorize(db, actor, project_id, Action.ESCALATE)
    if not isinstance(question, str) or not question.strip() or len(question) > 10_000:
        raise InvalidInput("question: 1-10000 characters", field="question")
    sop_version = current_sop_version(db, project_id)
    if assignment_id is not None:
        a = own_assignment(db, actor, assignment_id=assignment_id)
        if a.project_id != project_id:
            raise NotFound(f"assignment {assignment_id} not found", field="assignment_id")
        task_id, sop_version = a.task_id, a.sop_version
    if task_id is None:
        raise InvalidInput("give the task_id or the assignment_id", field="task_id")
    task = get_task(db, actor, task_id=task_id)
    if task.project_id != project_id:
        raise NotFound(f"task {task_id} not found", field="task_id")
    if region is not None and not (
        isinstance(region, dict)
        and set(region) == {"x", "y", "w", "h"}
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in region.values())
    ):
        raise InvalidInput("region: {x, y, w, h} in pixels", field="region")
    row = QaEscalation(
        project_id=project_id,
        task_id=task_id,
        assignment_id=assignment_id,
        raised_by=actor.user_id,
        label=label,
        region=region,
        annotation_id=annotation_id,
        question=question.strip(),
        sop_version=sop_version,
    )
    db.add(row)
    db.flush()
    emit(
        db,
        project_id=project_id,
        kind=Kind.ESCALATION_RAISED,
        actor_id=actor.user_id,
        task_id=task_id,
        subject_id=actor.user_id,
        details={
            "escalation_id": row.id,
            "assignment_id": assignment_id,
            "label": label,
            "sop_version": sop_version,
        },
    )
    audit(db, actor, QaAuditAction.ESCALATION_RAISED, "qa_escalation", row.id, project_id)
    return row


def answer(
    db: Session,
    actor: Actor,
    *,
    escalation_id: int,
    text: str,
    publish: dict[str, Any] | None = None,
) -> tuple[QaEscalationAnswer, int | None]:
    """Answer an escalation; ``publish`` (guidelines, checklist, example_asset_ids,
    changelog) appends a new SOP version made from this answer."""
    esc = db.get(QaEscalation, escalation_id)
    if esc is None:
        raise NotFound(f"escalation {escalation_id} not found")
    try:
        authorize(db, actor, esc.project_id, Action.ESCALATION_ANSWER)
    except NotFound:
        raise NotFound(f"escalation {escalation_id} not found") from None
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("answer: say what the annotator should do", field="answer")
    published = None
    if publish is not None:
        sop = publish_sop(
            db,
            actor,
            project_id=esc.project_id,
            guidelines=publish.get("guidelines", ""),
            checklist=publish.get("checklist", []),
            example_asset_ids=publish.get("example_asset_ids", []),
            changelog=publish.get("changelog") or f"escalation {escalation_id}: {text.strip()}",
            escalation_id=escalation_id,
        )
        published = sop.version
    row = QaEscalationAnswer(
        escalation_id=escalation_id,
        answered_by=actor.user_id,
        answer=text.strip(),
        published_sop_version=published,
    )
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        raise Conflict(f"escalation {escalation_id} is already answered") from None
    emit(
        db,
        project_id=esc.project_id,
        kind=Kind.ESCALATION_ANSWERED,
        actor_id=actor.user_id,
        task_id=esc.task_id,
        subject_id=esc.raised_by,
        details={"escalation_id": esc.id, "published_sop_version": published, "label": esc.label},
    )
    audit(
        db,
        actor,
        QaAuditAction.ESCALATION_ANSWERED,
        "qa_escalation",
        esc.id,
        esc.project_id,
        {"published_sop_version": published},
    )
    return row, published


def list_escalations(
    db: Session, actor: Actor, *, project_id: int
) -> list[tuple[QaEscalation, QaEscalationAnswer | None]]:
    """Leads see every escalation; others see the ones they raised."""
    authorize(db, actor, project_id, Action.ESCALATE)
    project = db.get(Project, project_id)
    assert project is not None
    role = role_in_project(db, actor, project) or Role.ANNOTATOR
    query = select(QaEscalation, QaEscalationAnswer).outerjoin(
        QaEscalationAnswer, QaEscalationAnswer.escalation_id == QaEscalation.id
    )
    query = query.where(QaEscalation.project_id == project_id).order_by(QaEscalation.id)
    if Action.ESCALATION_ANSWER not in MATRIX[role]:
        query = query.where(QaEscalation.raised_by == actor.user_id)
    return [(e, ans) for e, ans in db.execute(query).all()]
