"""The QA workflow over HTTP (docs/qa-workflow.md): every route calls one service, which
checks the permission matrix. Responses an annotator can read never say whether a task is
gold, consensus or single, nor which batch it came from."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from labelproof.api.deps import CurrentActor, SessionDep, UnitOfWorkDep
from labelproof.api.routers.qa_bodies import (
    AdjudicateIn,
    AdjudicationOut,
    AnnotationsIn,
    AnswerIn,
    AnswerOut,
    AssignmentOut,
    BatchIn,
    BatchOut,
    BatchTaskOut,
    BatchTasksIn,
    ClaimIn,
    ClaimOut,
    EscalationIn,
    EscalationOut,
    EventOut,
    EventPage,
    FeedbackOut,
    PolicyIn,
    PolicyOut,
    QualificationIn,
    QualificationOut,
    ReassignIn,
    ResultOut,
    ReviewItemOut,
    RevisionOut,
    SaveIn,
    SopIn,
    SopOut,
    StaffAssignmentOut,
    SubmitIn,
    VerdictIn,
)
from labelproof.errors import InvalidInput, NotFound
from labelproof.services.qa import (
    batches,
    calibration,
    consensus,
    escalations,
    figures,
    policy,
    qualify,
    queue,
    review,
    work,
)
from labelproof.services.qa.events import Stage, State
from labelproof.store.models import Asset, Task
from labelproof.store.qa_models import QaAssignment, QaEscalation, QaRevision, QaSopVersion

router = APIRouter(prefix="/api", tags=["qa"])
P = "/projects/{project_id}/qa"


def _sop_out(s: QaSopVersion) -> SopOut:
    return SopOut(
        version=s.version,
        guidelines=s.guidelines,
        checklist=s.checklist,
        example_asset_ids=s.example_asset_ids,
        changelog=s.changelog,
        escalation_id=s.escalation_id,
        created_at=s.created_at,
    )


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


# --- policy and SOP -----------------------------------------------------------------------


@router.post(P + "/policies", status_code=201)
def qa_set_policy(
    project_id: int, body: PolicyIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> PolicyOut:
    """Append a quality-policy version (the given settings over the current ones)."""
    row = uow(
        lambda db: policy.set_policy(
            db, actor, project_id=project_id, settings=body.settings, note=body.note
        )
    )
    return PolicyOut(version=row.version, settings=row.settings)


@router.get(P + "/policy")
def qa_get_policy(project_id: int, db: SessionDep, actor: CurrentActor) -> PolicyOut:
    """The policy in force (version 0: the defaults)."""
    p = policy.get_policy(db, actor, project_id=project_id)
    return PolicyOut(version=p.version, settings=p.settings)


@router.post(P + "/sops", status_code=201)
def qa_publish_sop(project_id: int, body: SopIn, uow: UnitOfWorkDep, actor: CurrentActor) -> SopOut:
    """Publish a new SOP version: guidelines, examples, changelog, self-check checklist."""
    return _sop_out(
        uow(
            lambda db: policy.publish_sop(
                db,
                actor,
                project_id=project_id,
                guidelines=body.guidelines,
                checklist=body.checklist,
                example_asset_ids=body.example_asset_ids,
                changelog=body.changelog,
            )
        )
    )


@router.get(P + "/sops")
def qa_list_sops(project_id: int, db: SessionDep, actor: CurrentActor) -> list[SopOut]:
    """Every SOP version, oldest first."""
    return [_sop_out(s) for s in policy.list_sops(db, actor, project_id=project_id)]


@router.get(P + "/sop")
def qa_current_sop(project_id: int, db: SessionDep, actor: CurrentActor) -> SopOut:
    """The SOP in force (404 before the first)."""
    return _sop_out(policy.get_current_sop(db, actor, project_id=project_id))


# --- batches and answers --------------------------------------------------------------------


@router.post(P + "/batches", status_code=201)
def qa_create_batch(
    project_id: int, body: BatchIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> BatchOut:
    """Create a calibration, production or gold batch."""
    b = uow(
        lambda db: batches.create_batch(
            db, actor, project_id=project_id, name=body.name, kind=body.kind, due_at=body.due_at
        )
    )
    return BatchOut(**{k: getattr(b, k) for k in BatchOut.model_fields})


@router.get(P + "/batches")
def qa_list_batches(project_id: int, db: SessionDep, actor: CurrentActor) -> list[BatchOut]:
    """The project's batches."""
    return [
        BatchOut(**{k: getattr(b, k) for k in BatchOut.model_fields})
        for b in batches.list_batches(db, actor, project_id=project_id)
    ]


@router.post("/qa/batches/{batch_id}/tasks", status_code=201)
def qa_add_batch_tasks(
    batch_id: int, body: BatchTasksIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> list[BatchTaskOut]:
    """Make one task per asset in the batch (production: single or consensus)."""
    rows = uow(
        lambda db: batches.add_tasks(
            db, actor, batch_id=batch_id, asset_ids=body.asset_ids, mode=body.mode
        )
    )
    return [BatchTaskOut(task_id=r.task_id, batch_id=r.batch_id, mode=r.mode) for r in rows]


@router.put("/qa/tasks/{task_id}/answer")
def qa_set_answer(
    task_id: int, body: AnnotationsIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> AnswerOut:
    """Set the known answer of a gold or calibration task (appended)."""
    a = uow(lambda db: batches.set_answer(db, actor, task_id=task_id, annotations=body.annotations))
    return AnswerOut(**{k: getattr(a, k) for k in AnswerOut.model_fields})


@router.get("/qa/tasks/{task_id}/answer")
def qa_get_answer(task_id: int, db: SessionDep, actor: CurrentActor) -> AnswerOut:
    """The known answer of a gold or calibration task (never readable by annotators)."""
    a = batches.get_answer(db, actor, task_id=task_id)
    return AnswerOut(**{k: getattr(a, k) for k in AnswerOut.model_fields})


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
