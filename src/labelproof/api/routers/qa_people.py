"""The QA workflow over HTTP, people and evidence: calibration, qualifications,
escalations, the quality figures and the event log (docs/qa-workflow.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from labelproof.api.deps import CurrentActor, SessionDep, UnitOfWorkDep
from labelproof.api.routers.qa_bodies import (
    AnswerIn,
    EscalationIn,
    EscalationOut,
    EventOut,
    EventPage,
    QualificationIn,
    QualificationOut,
)
from labelproof.services.qa import (
    calibration,
    escalations,
    figures,
    qualify,
)
from labelproof.store.qa_models import QaEscalation

router = APIRouter(prefix="/api", tags=["qa"])
P = "/projects/{project_id}/qa"


# --- calibration and qualification ------------------------------------------------------------


@router.post("/qa/batches/{batch_id}/evaluate")
def qa_evaluate_calibration(
    batch_id: int, uow: UnitOfWorkDep, actor: CurrentActor
) -> dict[str, Any]:
    """Score a calibration batch and decide who qualifies (decisions keep the evidence)."""
    out: dict[str, Any] = uow(lambda db: calibration.evaluate(db, actor, batch_id=batch_id))
    return out


def _qual_out(q: Any) -> QualificationOut:
    return QualificationOut(**{k: getattr(q, k) for k in QualificationOut.model_fields})


@router.get(P + "/qualifications")
def qa_list_qualifications(
    project_id: int, db: SessionDep, actor: CurrentActor
) -> list[QualificationOut]:
    """Everyone's current qualification with its evidence."""
    return [_qual_out(q) for q in qualify.list_current(db, actor, project_id=project_id)]


@router.put(P + "/qualifications/{user_id}")
def qa_set_qualification(
    project_id: int, user_id: int, body: QualificationIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> QualificationOut:
    """Decide a member's qualification by hand (with the reason)."""
    return _qual_out(
        uow(
            lambda db: qualify.set_status(
                db,
                actor,
                project_id=project_id,
                user_id=user_id,
                status=body.status,
                reason=body.reason,
            )
        )
    )


# --- escalations -----------------------------------------------------------------------------


def _esc_out(e: Any, ans: Any) -> EscalationOut:
    return EscalationOut(
        **{
            k: getattr(e, k)
            for k in EscalationOut.model_fields
            if k not in ("answer", "published_sop_version")
        },
        answer=ans.answer if ans else None,
        published_sop_version=ans.published_sop_version if ans else None,
    )


@router.post(P + "/escalations", status_code=201)
def qa_raise_escalation(
    project_id: int, body: EscalationIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> EscalationOut:
    """Flag a task or a region as ambiguous, with a question (and the class)."""
    e = uow(
        lambda db: escalations.raise_escalation(
            db, actor, project_id=project_id, **body.model_dump()
        )
    )
    return _esc_out(e, None)


@router.get(P + "/escalations")
def qa_list_escalations(
    project_id: int, db: SessionDep, actor: CurrentActor
) -> list[EscalationOut]:
    """Escalations (leads: all; others: the ones they raised)."""
    return [
        _esc_out(e, a) for e, a in escalations.list_escalations(db, actor, project_id=project_id)
    ]


@router.post("/qa/escalations/{escalation_id}/answer", status_code=201)
def qa_answer_escalation(
    escalation_id: int, body: AnswerIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> EscalationOut:
    """Answer an escalation; ``publish_sop`` appends a new SOP version from the answer."""

    def run(db: Any) -> EscalationOut:
        ans, _published = escalations.answer(
            db,
            actor,
            escalation_id=escalation_id,
            text=body.answer,
            publish=body.publish_sop.model_dump() if body.publish_sop else None,
        )
        return _esc_out(db.get(QaEscalation, escalation_id), ans)

    return uow(run)


# --- figures ----------------------------------------------------------------------------------


@router.get(P + "/figures")
def qa_figures(project_id: int, db: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    """Quality figures from the event log, each with its definition and n."""
    return figures.figures(db, actor, project_id=project_id)


@router.get(P + "/events")
def qa_events(
    project_id: int,
    db: SessionDep,
    actor: CurrentActor,
    offset: int = Query(0, ge=0),
    limit: int = Query(1000, ge=1, le=10_000),
) -> EventPage:
    """The QA event log, oldest first: everything the figures are computed from."""
    rows, total = figures.list_events(db, actor, project_id=project_id, offset=offset, limit=limit)
    return EventPage(
        items=[EventOut(**{k: getattr(e, k) for k in EventOut.model_fields}) for e in rows],
        total=total,
        offset=offset,
        limit=limit,
    )
