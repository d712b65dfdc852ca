"""Custody routes: audit proofs and the public key, checkpoints, user clearances, the
two-person destruction of a project with its certificate, and closing a project (which
schedules its destruction after the retention period) or reopening it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from labelproof.api.deps import CurrentActor, RuntimeDep, SessionDep, UnitOfWorkDep
from labelproof.custody.keys import key_id
from labelproof.services.custody import clearance, destruction, evidence, retention

router = APIRouter(prefix="/api", tags=["custody"])


class ClearanceIn(BaseModel):
    clearances: list[str] = Field(default_factory=list, description="pii, phi, cui")
    baa_signed: bool = False
    training_done: bool = False


class ClearanceOut(BaseModel):
    user_id: int
    email: str
    clearance: dict[str, Any]


class DestructionIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class DestructionRequestOut(BaseModel):
    id: int
    project_id: int
    requested_by: int
    reason: str
    status: str = Field(description="pending | scheduled | approved | done | cancelled")
    created_at: datetime
    due_at: datetime | None = Field(
        default=None, description="when a destruction scheduled by retention falls due"
    )


class CloseProjectIn(BaseModel):
    retention_days: int | None = Field(
        default=None,
        ge=0,
        le=retention.MAX_RETENTION_DAYS,
        description="days until destruction falls due; default the installation's (30)",
    )
    schedule_destruction: bool = True


class ProjectClosureOut(BaseModel):
    project_id: int
    closed_at: datetime
    retention_days: int
    destruction_request: DestructionRequestOut | None = Field(
        description="the scheduled destruction; a second person approves it before it is due"
    )


class ProjectReopenedOut(BaseModel):
    project_id: int
    cancelled_requests: list[int]


@router.get("/projects/{project_id}/audit/{event_id}/proof")
def get_audit_proof(
    project_id: int, event_id: int, rt: RuntimeDep, actor: CurrentActor
) -> dict[str, Any]:
    """An inclusion proof of one audit event under a signed checkpoint (verify it offline
    with `labelproof audit proof-verify` and the installation's public key)."""
    return evidence.inclusion_proof(rt, actor, project_id=project_id, event_id=event_id)


@router.get("/audit/public-key")
def get_audit_public_key(rt: RuntimeDep, actor: CurrentActor) -> dict[str, str]:
    """The Ed25519 public key that signs audit checkpoints and destruction certificates."""
    key = rt.custody.signing_key().public_key()
    return {"key_id": key_id(key), "public_key_pem": rt.custody.public_key_pem().decode()}


@router.post("/audit/checkpoints", status_code=201)
def create_audit_checkpoint(rt: RuntimeDep, actor: CurrentActor) -> dict[str, Any]:
    """Sign a checkpoint of the audit log now (organisation admins)."""
    return evidence.checkpoint_now(rt, actor).to_dict()


@router.put("/users/{user_id}/clearance")
def set_user_clearance(
    user_id: int, body: ClearanceIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> ClearanceOut:
    """Replace a user's data-classification clearance (organisation admins)."""
    user = uow(
        lambda db: clearance.set_clearance(db, actor, user_id=user_id, clearance=body.model_dump())
    )
    return ClearanceOut(user_id=user.id, email=user.email, clearance=user.clearance)


@router.post("/projects/{project_id}/destruction-requests", status_code=201)
def request_project_destruction(
    project_id: int, body: DestructionIn, uow: UnitOfWorkDep, actor: CurrentActor
) -> DestructionRequestOut:
    """Ask for a project's destruction; a second admin of the project must approve it."""
    req = uow(
        lambda db: destruction.request_destruction(
            db, actor, project_id=project_id, reason=body.reason
        )
    )
    return _request_out(req)


def _request_out(req: Any) -> DestructionRequestOut:
    return DestructionRequestOut(
        id=req.id,
        project_id=req.project_id,
        requested_by=req.requested_by,
        reason=req.reason,
        status=req.status,
        created_at=req.created_at,
        due_at=req.due_at,
    )


@router.post("/projects/{project_id}/close")
def close_project(
    project_id: int, body: CloseProjectIn, uow: UnitOfWorkDep, rt: RuntimeDep, actor: CurrentActor
) -> ProjectClosureOut:
    """Close a project (program managers, admins); its destruction is scheduled after the
    retention period and needs a second person's approval before it is due."""
    done = uow(
        lambda db: retention.close_project(
            db,
            actor,
            project_id=project_id,
            retention_days=body.retention_days,
            default_days=rt.settings.retention_days,
            schedule_destruction=body.schedule_destruction,
        )
    )
    return ProjectClosureOut(
        project_id=done.project_id,
        closed_at=done.closed_at,
        retention_days=done.retention_days,
        destruction_request=_request_out(done.request) if done.request is not None else None,
    )


@router.post("/projects/{project_id}/reopen")
def reopen_project(project_id: int, uow: UnitOfWorkDep, actor: CurrentActor) -> ProjectReopenedOut:
    """Reopen a closed project; its scheduled destruction is cancelled."""
    ids = uow(lambda db: retention.reopen_project(db, actor, project_id=project_id))
    return ProjectReopenedOut(project_id=project_id, cancelled_requests=ids)


@router.post("/destruction-requests/{request_id}/approve")
def approve_project_destruction(
    request_id: int, rt: RuntimeDep, actor: CurrentActor
) -> dict[str, Any]:
    """Approve (as a second person) and carry out a destruction; returns the signed
    certificate of destruction. A destruction scheduled by retention is only approved here
    (``{"request_id", "status": "approved", "due_at"}``) and carried out when due."""
    return destruction.approve_destruction(rt, actor, request_id=request_id)


@router.get("/destruction-certificates/{certificate_id}")
def get_destruction_certificate(
    certificate_id: str, db: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    """A signed certificate of destruction (organisation admins)."""
    return destruction.get_certificate(db, actor, certificate_id=certificate_id)
