"""Model suggestions (pre-labels) of a project: what annotators did with them and the edit
rate, computed from the tasks' revision histories alone (``labelproof.metrics.suggestions``
holds the definitions). Readers: whoever may read QA figures."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelproof.errors import NotFound
from labelproof.metrics.suggestions import (
    DEFINITIONS,
    SuggestionOutcome,
    suggestion_figures,
    suggestion_outcomes,
)
from labelproof.services.context import Actor
from labelproof.services.permissions import Action, authorize
from labelproof.store.models import AnnotationRevision, Task

#: Revisions read from the database at a time (each holds a task's whole annotation list).
_CHUNK = 200


def _histories(
    db: Session, project_id: int, task_id: int | None
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """(task id, its revisions oldest first) for every task of the project with revisions."""
    q = (
        select(AnnotationRevision)
        .join(Task, Task.id == AnnotationRevision.task_id)
        .where(Task.project_id == project_id)
        .order_by(AnnotationRevision.task_id, AnnotationRevision.number)
        .execution_options(yield_per=_CHUNK)
    )
    if task_id is not None:
        q = q.where(AnnotationRevision.task_id == task_id)
    rows = db.scalars(q)
    for tid, revs in groupby(rows, key=lambda r: r.task_id):
        yield (
            tid,
            [
                {"number": r.number, "author_id": r.author_id, "annotations": r.annotations}
                for r in revs
            ],
        )


def outcomes(
    db: Session, actor: Actor, *, project_id: int, task_id: int | None = None
) -> list[tuple[int, SuggestionOutcome]]:
    """(task id, outcome) of every suggestion in the project (or in one of its tasks)."""
    authorize(db, actor, project_id, Action.QA_READ)
    if task_id is not None:
        task = db.get(Task, task_id)
        if task is None or task.project_id != project_id:
            raise NotFound(f"task {task_id} not found in project {project_id}")
    out: list[tuple[int, SuggestionOutcome]] = []
    for tid, history in _histories(db, project_id, task_id):
        out.extend((tid, o) for o in suggestion_outcomes(history).values())
    return out


def figures(
    db: Session, actor: Actor, *, project_id: int, task_id: int | None = None
) -> dict[str, Any]:
    """Counts, edit, deletion and acceptance rates overall, per annotator and per label."""
    found = outcomes(db, actor, project_id=project_id, task_id=task_id)
    f = suggestion_figures(o for _, o in found)
    annotators = sorted(
        f.by_annotator.items(), key=lambda kv: (kv[0] is None, kv[0] if kv[0] is not None else 0)
    )
    return {
        "project_id": project_id,
        "task_id": task_id,
        "tasks": len({tid for tid, _ in found}),
        "overall": f.overall.as_dict(),
        "by_annotator": [{"user_id": who, **c.as_dict()} for who, c in annotators],
        "by_label": [{"label": label, **c.as_dict()} for label, c in f.by_label.items()],
        "definitions": dict(DEFINITIONS),
    }
