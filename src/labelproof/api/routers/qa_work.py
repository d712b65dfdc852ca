"""The QA workflow over HTTP, the work itself: the annotator's queue, saves and submits,
peer review, lead audit, reassignment and consensus adjudication (docs/qa-workflow.md).
Responses an annotator can read never say whether a task is gold, consensus or single."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from labelproof.api.deps import CurrentActor, SessionDep, UnitOfWorkDep
from labelproof.api.routers.qa_bodies import (
    AdjudicateIn,
    AdjudicationOut,
    AssignmentOut,
    ClaimIn,
    ClaimOut,
    FeedbackOut,
    ReassignIn,
    ResultOut,
    ReviewItemOut,
    RevisionOut,
    SaveIn,
    StaffAssignmentOut,
    SubmitIn,
    VerdictIn,
)
from labelproof.errors import InvalidInput, NotFound
from labelproof.services.qa import (
    consensus,
    queue,
    review,
    work,
)
from labelproof.services.qa.events import Stage, State
from labelproof.store.models import Asset, Task
from labelproof.store.qa_models import QaAssignment, QaRevision

router = APIRouter(prefix="/api", tags=["qa"])
P = "/projects/{project_id}/qa"


def _assignment_out(db: Any, a: QaAssignment, state: State) -> AssignmentOut:
    asset = db.get(Asset, db.get(Task, a.task_id).asset_id)
    current = work.current_revision(db, a.id)
    return AssignmentOut(
        id=a.id,
        task_id=a.task_id,
        asset_id=asset.id,
        width=asset.width,
        height=asset.height,
        status=state.public_status,
        revision=current.number if current else 0,
        sop_version=a.sop_version,
        claimed_at=a.claimed_at,
        expires_at=a.expires_at,
        feedback=[
            FeedbackOut(
                cycle=int(h.get("cycle", 0)),
                at=datetime.fromisoformat(h["at"]),
                errors=[
                    {
                        k: e[k]
                        for k in ("type", "annotation_id", "label", "region", "comment")
                        if e.get(k) is not None
                    }
                    for e in h.get("errors") or []
                ],
                comment=str(h.get("comment") or ""),
            )
            for h in state.history
            if h.get("kind") == "reviewed" and h.get("verdict") == "reject"
        ],
    )


def _staff_out(a: QaAssignment, s: State) -> StaffAssignmentOut:
    return StaffAssignmentOut(
        id=a.id,
        task_id=a.task_id,
        batch_id=a.batch_id,
        annotator_id=a.annotator_id,
        stage=s.stage.value,
        cycle=s.cycle,
        rejections=s.rejections,
        submitted_revision=s.submitted_revision,
        sop_version=a.sop_version,
        policy_version=a.policy_version,
        claimed_at=a.claimed_at,
        expires_at=a.expires_at,
        history=s.history,
    )


def _rev_out(rev: QaRevision) -> RevisionOut:
    return RevisionOut(**work.revision_to_dict(rev))


# --- the annotator's queue ----------------------------------------------------------------------


@router.post(P + "/claim")
def qa_claim(project_id: int, body: ClaimIn, uow: UnitOfWorkDep, actor: CurrentActor) -> ClaimOut:
    """Claim the next task (or get back the one you hold); ``assignment`` is null when the
    queue is empty."""

    def run(db: Any) -> ClaimOut:
        a = queue.claim(db, actor, project_id=project_id, queue=body.queue)
        if a is None:
            return ClaimOut(assignment=None)
        return ClaimOut(assignment=_assignment_out(db, a, queue.state_of(db, a)))

    return uow(run)


@router.get(P + "/assignments/mine")
def qa_my_assignments(project_id: int, db: SessionDep, actor: CurrentActor) -> list[AssignmentOut]:
    """Your assignments in this project, oldest first."""
    return [
        _assignment_out(db, a, s) for a, s in queue.my_assignments(db, actor, project_id=project_id)
    ]


@router.get("/qa/assignments/{assignment_id}")
def qa_get_assignment(assignment_id: int, db: SessionDep, actor: CurrentActor) -> AssignmentOut:
    """One of your assignments."""
    a = queue.own_assignment(db, actor, assignment_id=assignment_id)
    return _assignment_out(db, a, queue.state_of(db, a))


@router.get("/qa/assignments/{assignment_id}/annotations")
def qa_get_assignment_annotations(
    assignment_id: int, db: SessionDep, actor: CurrentActor
) -> RevisionOut:
    """The current revision of your assignment (404 before the first save)."""
    rev = work.get_current(db, actor, assignment_id=assignment_id)
    if rev is None:
        raise NotFound(f"assignment {assignment_id} has no annotations yet; save with base 0")
    return _rev_out(rev)


@router.put("/qa/assignments/{assignment_id}/annotations")
def qa_save_assignment_annotations(
    assignment_id: int,
    body: SaveIn,
    response: Response,
    uow: UnitOfWorkDep,
    actor: CurrentActor,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> RevisionOut:
    """Save a revision on top of ``base_revision`` (409 with the current one when stale;
    201 first, 200 on a replay of the same idempotency key)."""
    key = body.idempotency_key or idempotency_key
    if not key:
        raise InvalidInput(
            "an idempotency key is required (Idempotency-Key header or idempotency_key field)",
            field="idempotency_key",
        )
    rev, created = uow(
        lambda db: work.save(
            db,
            actor,
            assignment_id=assignment_id,
            base_revision=body.base_revision,
            annotations=body.annotations,
            idempotency_key=key,
        )
    )
    response.status_code = 201 if created else 200
    return _rev_out(rev)


@router.post("/qa/assignments/{assignment_id}/submit")
def qa_submit(
    assignment_id: int, body: SubmitIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> AssignmentOut:
    """Submit the current revision, confirming every self-check item of the SOP."""

    def run(db: Any) -> AssignmentOut:
        a, s = work.submit(
            db, actor, assignment_id=assignment_id, revision=body.revision, checklist=body.checklist
        )
        return _assignment_out(db, a, s)

    return uow(run)


# --- review, audit, reassignment -----------------------------------------------------------------


@router.get(P + "/reviews")
def qa_review_queue(
    project_id: int, db: SessionDep, actor: CurrentActor
) -> list[StaffAssignmentOut]:
    """Submissions waiting for peer review (not your own)."""
    return [
        _staff_out(a, queue.state_of(db, a))
        for a in review.review_queue(db, actor, project_id=project_id, stage=Stage.PEER_REVIEW)
    ]


@router.get("/qa/reviews/{assignment_id}")
def qa_review_item(assignment_id: int, db: SessionDep, actor: CurrentActor) -> ReviewItemOut:
    """A submission as its reviewer sees it."""
    a, s, rev = review.review_item(db, actor, assignment_id=assignment_id, stage=Stage.PEER_REVIEW)
    return ReviewItemOut(assignment=_staff_out(a, s), revision=_rev_out(rev) if rev else None)


def _verdict(assignment_id: int, body: VerdictIn, uow: Any, actor: Any, stage: Stage) -> Any:
    def run(db: Any) -> StaffAssignmentOut:
        a, s = review.decide(
            db,
            actor,
            assignment_id=assignment_id,
            stage=stage,
            verdict=body.verdict,
            errors=[e.model_dump() for e in body.errors],
            comment=body.comment,
            annotations=body.annotations,
        )
        return _staff_out(a, s)

    return uow(run)


@router.post("/qa/assignments/{assignment_id}/reviews", status_code=201)
def qa_peer_review(
    assignment_id: int, body: VerdictIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> StaffAssignmentOut:
    """Peer-review verdict: accept, fix (with the corrected annotations) or reject."""
    out: StaffAssignmentOut = _verdict(assignment_id, body, uow, actor, Stage.PEER_REVIEW)
    return out


@router.get(P + "/audits")
def qa_audit_queue(
    project_id: int, db: SessionDep, actor: CurrentActor
) -> list[StaffAssignmentOut]:
    """Submissions sampled for a lead audit (not your own)."""
    return [
        _staff_out(a, queue.state_of(db, a))
        for a in review.review_queue(db, actor, project_id=project_id, stage=Stage.LEAD_AUDIT)
    ]


@router.post("/qa/assignments/{assignment_id}/audits", status_code=201)
def qa_lead_audit(
    assignment_id: int, body: VerdictIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> StaffAssignmentOut:
    """Lead-audit verdict: accept, fix or reject."""
    out: StaffAssignmentOut = _verdict(assignment_id, body, uow, actor, Stage.LEAD_AUDIT)
    return out


@router.post("/qa/assignments/{assignment_id}/reassign")
def qa_reassign(
    assignment_id: int, body: ReassignIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> StaffAssignmentOut:
    """End an unsubmitted claim so its task returns to the queue."""

    def run(db: Any) -> StaffAssignmentOut:
        a = queue.reassign(db, actor, assignment_id=assignment_id, reason=body.reason)
        return _staff_out(a, queue.state_of(db, a))

    return uow(run)


@router.get("/qa/assignments/{assignment_id}/history")
def qa_assignment_history(
    assignment_id: int, db: SessionDep, actor: CurrentActor
) -> StaffAssignmentOut:
    """An assignment's stage and events (QA readers)."""
    from labelproof.services.permissions import Action

    a = queue.staff_assignment(db, actor, assignment_id=assignment_id, action=Action.QA_READ)
    return _staff_out(a, queue.state_of(db, a))


# --- consensus ------------------------------------------------------------------------------


@router.get(P + "/adjudications")
def qa_adjudication_queue(
    project_id: int, db: SessionDep, actor: CurrentActor
) -> list[AdjudicationOut]:
    """Consensus tasks below the agreement bar, waiting for a lead."""
    return [
        AdjudicationOut(
            task_id=e.task_id or 0,
            agreement=e.details["agreement"],
            agreement_bar=e.details["agreement_bar"],
            assignments=e.details["assignments"],
            result_id=e.details["result_id"],
        )
        for e in consensus.adjudication_queue(db, actor, project_id=project_id)
    ]


@router.post("/qa/tasks/{task_id}/adjudicate", status_code=201)
def qa_adjudicate(
    task_id: int, body: AdjudicateIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> ResultOut:
    """A lead's answer for a consensus task below the bar."""
    r = uow(
        lambda db: consensus.adjudicate(
            db, actor, task_id=task_id, annotations=body.annotations, comment=body.comment
        )
    )
    return ResultOut(**{k: getattr(r, k) for k in ResultOut.model_fields})


@router.get("/qa/tasks/{task_id}/result")
def qa_task_result(task_id: int, db: SessionDep, actor: CurrentActor) -> ResultOut:
    """The accepted annotations of a task (reviewed, merged or adjudicated)."""
    r = consensus.current_result(db, actor, task_id=task_id)
    if r is None:
        raise NotFound(f"task {task_id} has no accepted result yet")
    return ResultOut(**{k: getattr(r, k) for k in ResultOut.model_fields})
