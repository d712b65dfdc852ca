"""Model suggestions (pre-labels): outcomes and edit rate from the revision history."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel

from labelproof.api.deps import CurrentActor, SessionDep
from labelproof.services import suggestions

router = APIRouter(prefix="/api/projects", tags=["annotations"])


class SuggestionCountsOut(BaseModel):
    suggestions: int
    accepted: int
    edited: int
    deleted: int
    pending: int
    edit_rate: float | None
    deletion_rate: float | None
    acceptance_rate: float | None


class AnnotatorSuggestionsOut(SuggestionCountsOut):
    #: None: the suggestions nobody has decided yet (pending).
    user_id: int | None


class LabelSuggestionsOut(SuggestionCountsOut):
    label: str


class SuggestionFiguresOut(BaseModel):
    project_id: int
    task_id: int | None
    tasks: int
    overall: SuggestionCountsOut
    by_annotator: list[AnnotatorSuggestionsOut]
    by_label: list[LabelSuggestionsOut]
    definitions: dict[str, str]


@router.get("/{project_id}/suggestions/figures")
def suggestion_figures(
    project_id: int,
    db: SessionDep,
    actor: CurrentActor,
    task_id: int | None = Query(None, description="Only this task of the project."),
) -> SuggestionFiguresOut:
    """What annotators did with model suggestions (accepted, edited, deleted, pending) and
    the edit rate, per project, annotator and label, from the revision history alone."""
    return SuggestionFiguresOut(
        **suggestions.figures(db, actor, project_id=project_id, task_id=task_id)
    )
