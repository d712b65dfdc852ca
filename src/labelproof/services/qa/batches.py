"""Batches (calibration | production | gold), their tasks, and known answers.

A task made here keeps ``mode = 'single'`` in the ``tasks`` table; its QA mode (single,
consensus, gold, calibration) lives in ``qa_batch_tasks``, which annotators cannot read, so
no response an annotator sees tells a gold task from another.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelproof import annotypes
from labelproof.errors import InvalidInput, NotFound
from labelproof.services import schemas
from labelproof.services.assets import create_tasks, get_task
from labelproof.services.context import Actor
from labelproof.services.permissions import Action, authorize
from labelproof.services.qa.events import QaAuditAction, audit
from labelproof.services.revisions import validate_items
from labelproof.store.models import Asset, Task
from labelproof.store.qa_models import QaAnswer, QaBatch, QaBatchTask

BATCH_KINDS = ("calibration", "production", "gold")
PRODUCTION_MODES = ("single", "consensus")


def create_batch(
    db: Session,
    actor: Actor,
    *,
    project_id: int,
    name: str,
    kind: str,
    due_at: datetime | None = None,
) -> QaBatch:
    authorize(db, actor, project_id, Action.BATCH_MANAGE)
    if kind not in BATCH_KINDS:
        raise InvalidInput(f"kind must be one of {list(BATCH_KINDS)}, got {kind!r}", field="kind")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise InvalidInput("name: 1-200 characters", field="name")
    if due_at is not None and due_at.tzinfo is None:
        raise InvalidInput("due_at: must carry a time zone", field="due_at")
    batch = QaBatch(
        project_id=project_id, name=name.strip(), kind=kind, due_at=due_at, created_by=actor.user_id
    )
    db.add(batch)
    db.flush()
    audit(db, actor, QaAuditAction.BATCH_CREATED, "qa_batch", batch.id, project_id, {"kind": kind})
    return batch


def get_batch(db: Session, actor: Actor, *, batch_id: int, action: Action) -> QaBatch:
    batch = db.get(QaBatch, batch_id)
    if batch is None:
        raise NotFound(f"batch {batch_id} not found")
    try:
        authorize(db, actor, batch.project_id, action)
    except NotFound:
        raise NotFound(f"batch {batch_id} not found") from None
    return batch


def list_batches(db: Session, actor: Actor, *, project_id: int) -> list[QaBatch]:
    authorize(db, actor, project_id, Action.QA_READ)
    return list(
        db.scalars(select(QaBatch).where(QaBatch.project_id == project_id).order_by(QaBatch.id))
    )


def add_tasks(
    db: Session, actor: Actor, *, batch_id: int, asset_ids: list[int], mode: str = "single"
) -> list[QaBatchTask]:
    """Make one task per asset in ``batch_id``. Production batches take ``single`` or
    ``consensus``; gold and calibration batches give their own mode."""
    batch = get_batch(db, actor, batch_id=batch_id, action=Action.BATCH_MANAGE)
    if batch.kind == "production":
        if mode not in PRODUCTION_MODES:
            raise InvalidInput(
                f"mode must be one of {list(PRODUCTION_MODES)} in a production batch, got {mode!r}",
                field="mode",
            )
    else:
        mode = batch.kind
    tasks = create_tasks(db, actor, project_id=batch.project_id, asset_ids=asset_ids, mode="single")
    rows = [QaBatchTask(batch_id=batch.id, task_id=t.id, mode=mode) for t in tasks]
    db.add_all(rows)
    db.flush()
    return rows


def batch_task(db: Session, task_id: int) -> tuple[QaBatchTask, QaBatch] | None:
    row = db.execute(
        select(QaBatchTask, QaBatch)
        .join(QaBatch, QaBatch.id == QaBatchTask.batch_id)
        .where(QaBatchTask.task_id == task_id)
    ).first()
    return (row[0], row[1]) if row is not None else None


def validate_for_task(
    db: Session, task: Task, annotations: Any
) -> tuple[list[dict[str, Any]], int]:
    """Canonical annotations for ``task`` under the latest schema, and that schema's id."""
    schema = schemas.latest_version(db, task.project_id)
    asset = db.get(Asset, task.asset_id)
    assert asset is not None
    items = validate_items(
        annotations,
        schema=schema.definition,
        image=annotypes.ImageSize(width=asset.width, height=asset.height),
        frames=asset.frames,
    )
    return items, schema.id


def set_answer(db: Session, actor: Actor, *, task_id: int, annotations: Any) -> QaAnswer:
    """Append the known answer of a gold or calibration task (never shown to annotators)."""
    task = get_task(db, actor, task_id=task_id, action=Action.GOLD_MANAGE)
    placed = batch_task(db, task_id)
    if placed is None or placed[0].mode not in ("gold", "calibration"):
        raise InvalidInput(
            f"task {task_id} is not in a gold or calibration batch; only those have answers",
            field="task_id",
        )
    items, schema_id = validate_for_task(db, task, annotations)
    row = QaAnswer(
        task_id=task_id, schema_version_id=schema_id, annotations=items, created_by=actor.user_id
    )
    db.add(row)
    db.flush()
    audit(
        db, actor, QaAuditAction.ANSWER_SET, "task", task_id, task.project_id, {"count": len(items)}
    )
    return row


def current_answer(db: Session, task_id: int) -> QaAnswer | None:
    return db.scalar(
        select(QaAnswer).where(QaAnswer.task_id == task_id).order_by(QaAnswer.id.desc()).limit(1)
    )


def get_answer(db: Session, actor: Actor, *, task_id: int) -> QaAnswer:
    get_task(db, actor, task_id=task_id, action=Action.GOLD_MANAGE)
    answer = current_answer(db, task_id)
    if answer is None:
        raise NotFound(f"task {task_id} has no answer")
    return answer
