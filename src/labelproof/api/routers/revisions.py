"""A task's annotations: the current revision, the history, and saving a new revision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from labelproof.api.deps import CurrentActor, RuntimeDep, SessionDep
from labelproof.api.models import RevisionOut, SaveIn, SaveOut
from labelproof.errors import InvalidInput, NotFound
from labelproof.services import revisions

router = APIRouter(prefix="/api/tasks", tags=["annotations"])


@router.get("/{task_id}/annotations")
def get_annotations(task_id: int, db: SessionDep, actor: CurrentActor) -> RevisionOut:
    """The current revision of a task's annotations (404 before the first save)."""
    rev = revisions.get_current(db, actor, task_id=task_id)
    if rev is None:
        raise NotFound(f"task {task_id} has no annotations yet; save with base_revision 0")
    return RevisionOut(**revisions.revision_to_dict(rev))


@router.put(
    "/{task_id}/annotations",
    responses={
        409: {
            "description": "The base revision is stale; body holds the "
            "current revision in details.current."
        }
    },
)
def save_annotations(
    task_id: int,
    body: SaveIn,
    response: Response,
    rt: RuntimeDep,
    actor: CurrentActor,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> SaveOut:
    """Save a new revision on top of ``base_revision``; retries with the same
    ``Idempotency-Key`` return the revision already made (201 first, 200 on replays)."""
    key = body.idempotency_key or idempotency_key
    if not key:
        raise InvalidInput(
            "an idempotency key is required (Idempotency-Key header or idempotency_key field)",
            field="idempotency_key",
        )
    items = [a.model_dump(exclude_none=True) for a in body.annotations]
    result = revisions.save_via(
        rt,
        actor,
        task_id=task_id,
        base_revision=body.base_revision,
        annotations=items,
        idempotency_key=key,
    )
    response.status_code = 201 if result.created else 200
    rev = result.revision
    return SaveOut(
        task_id=rev.task_id,
        number=rev.number,
        base_number=rev.base_number,
        schema_version_id=rev.schema_version_id,
        author_id=rev.author_id,
        created_at=rev.created_at,
        created=result.created,
        count=len(rev.annotations),
    )


@router.get("/{task_id}/revisions")
def list_revisions(task_id: int, db: SessionDep, actor: CurrentActor) -> list[RevisionOut]:
    """Every revision of a task, oldest first."""
    return [
        RevisionOut(**revisions.revision_to_dict(r))
        for r in revisions.list_revisions(db, actor, task_id=task_id)
    ]


@router.get("/{task_id}/revisions/{number}")
def get_revision(task_id: int, number: int, db: SessionDep, actor: CurrentActor) -> RevisionOut:
    """One revision of a task."""
    return RevisionOut(
        **revisions.revision_to_dict(
            revisions.get_revision(db, actor, task_id=task_id, number=number)
        )
    )
