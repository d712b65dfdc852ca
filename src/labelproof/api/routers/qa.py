"""The QA workflow over HTTP (docs/qa-workflow.md): every route calls one service, which
checks the permission matrix. Responses an annotator can read never say whether a task is
gold, consensus or single, nor which batch it came from."""

from __future__ import annotations

from fastapi import APIRouter

from labelproof.api.deps import CurrentActor, SessionDep, UnitOfWorkDep
from labelproof.api.routers.qa_bodies import (
    AnnotationsIn,
    AnswerOut,
    BatchIn,
    BatchOut,
    BatchTaskOut,
    BatchTasksIn,
    PolicyIn,
    PolicyOut,
    SopIn,
    SopOut,
)
from labelproof.services.qa import (
    batches,
    policy,
)
from labelproof.store.qa_models import QaSopVersion

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
