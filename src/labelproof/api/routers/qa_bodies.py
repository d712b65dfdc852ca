"""Request and response bodies of the QA routes (``labelproof.api.routers.qa``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class PolicyIn(BaseModel):
    settings: dict[str, Any] = Field(default_factory=dict)
    note: str = Field(default="", max_length=20_000)


class PolicyOut(BaseModel):
    version: int
    settings: dict[str, Any]


class SopIn(BaseModel):
    guidelines: str = Field(min_length=1, max_length=200_000)
    checklist: list[Any] = Field(default_factory=list, max_length=100)
    example_asset_ids: list[int] = Field(default_factory=list, max_length=1000)
    changelog: str = Field(default="", max_length=20_000)


class SopOut(BaseModel):
    version: int
    guidelines: str
    checklist: list[dict[str, str]]
    example_asset_ids: list[int]
    changelog: str
    escalation_id: int | None
    created_at: datetime


class BatchIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["calibration", "production", "gold"]
    due_at: datetime | None = None


class BatchOut(BaseModel):
    id: int
    project_id: int
    name: str
    kind: str
    due_at: datetime | None
    created_at: datetime


class BatchTasksIn(BaseModel):
    asset_ids: list[int] = Field(min_length=1, max_length=10_000)
    mode: Literal["single", "consensus"] = "single"


class BatchTaskOut(BaseModel):
    task_id: int
    batch_id: int
    mode: str


class AnnotationsIn(BaseModel):
    annotations: list[dict[str, Any]] = Field(max_length=20_000)


class AnswerOut(BaseModel):
    task_id: int
    schema_version_id: int
    annotations: list[dict[str, Any]]
    created_at: datetime


class ClaimIn(BaseModel):
    queue: Literal["production", "calibration"] = "production"


class FeedbackOut(BaseModel):
    """Why work came back for rework: the reviewer's errors and comment (no stage, no task
    kind, so gold and audited work read like any other)."""

    cycle: int
    at: datetime
    errors: list[dict[str, Any]]
    comment: str


class AssignmentOut(BaseModel):
    """An assignment as its annotator sees it: the same fields for every kind of task."""

    id: int
    task_id: int
    asset_id: int
    width: int
    height: int
    status: str
    revision: int
    sop_version: int
    claimed_at: datetime
    expires_at: datetime
    feedback: list[FeedbackOut] = Field(default_factory=list)


class ClaimOut(BaseModel):
    assignment: AssignmentOut | None


class SaveIn(BaseModel):
    base_revision: int = Field(ge=0)
    annotations: list[dict[str, Any]] = Field(max_length=20_000)
    idempotency_key: str | None = Field(default=None, max_length=128)


class RevisionOut(BaseModel):
    assignment_id: int
    number: int
    base_number: int
    schema_version_id: int
    sop_version: int
    author_id: int
    created_at: datetime
    annotations: list[dict[str, Any]]


class SubmitIn(BaseModel):
    revision: int = Field(ge=1)
    checklist: list[str] = Field(default_factory=list, max_length=100)


class StaffAssignmentOut(BaseModel):
    id: int
    task_id: int
    batch_id: int
    annotator_id: int
    stage: str
    cycle: int
    rejections: int
    submitted_revision: int | None
    sop_version: int
    policy_version: int
    claimed_at: datetime
    expires_at: datetime
    history: list[dict[str, Any]]


class ReviewItemOut(BaseModel):
    assignment: StaffAssignmentOut
    revision: RevisionOut | None


class ErrorIn(BaseModel):
    type: Literal[
        "missed_object",
        "extra_object",
        "wrong_class",
        "loose_geometry",
        "wrong_attribute",
        "sop_violation",
    ]
    annotation_id: str | None = Field(default=None, max_length=128)
    label: str | None = Field(default=None, max_length=200)
    region: dict[str, float] | None = None
    comment: str = Field(default="", max_length=10_000)


class VerdictIn(BaseModel):
    verdict: Literal["accept", "fix", "reject"]
    errors: list[ErrorIn] = Field(default_factory=list, max_length=1000)
    comment: str = Field(default="", max_length=10_000)
    annotations: list[dict[str, Any]] | None = Field(default=None, max_length=20_000)


class ReassignIn(BaseModel):
    reason: str = Field(default="", max_length=10_000)


class AdjudicateIn(AnnotationsIn):
    comment: str = Field(default="", max_length=10_000)


class AdjudicationOut(BaseModel):
    task_id: int
    agreement: float | None
    agreement_bar: float
    assignments: list[int]
    result_id: int


class ResultOut(BaseModel):
    task_id: int
    kind: str
    annotations: list[dict[str, Any]]
    agreement: dict[str, Any]
    created_at: datetime


class QualificationIn(BaseModel):
    status: Literal["qualified", "more_review", "not_qualified", "requalify", "paused"]
    reason: str = Field(min_length=1, max_length=10_000)


class QualificationOut(BaseModel):
    user_id: int
    status: str
    reason: str
    evidence: dict[str, Any]
    decided_by: int | None
    created_at: datetime


class EscalationIn(BaseModel):
    question: str = Field(min_length=1, max_length=10_000)
    task_id: int | None = None
    assignment_id: int | None = None
    label: str | None = Field(default=None, max_length=200)
    annotation_id: str | None = Field(default=None, max_length=128)
    region: dict[str, float] | None = None


class EscalationOut(BaseModel):
    id: int
    task_id: int
    assignment_id: int | None
    raised_by: int
    label: str | None
    annotation_id: str | None
    region: dict[str, float] | None
    question: str
    sop_version: int
    created_at: datetime
    answer: str | None = None
    published_sop_version: int | None = None


class AnswerIn(BaseModel):
    answer: str = Field(min_length=1, max_length=20_000)
    publish_sop: SopIn | None = None


class EventOut(BaseModel):
    id: int
    kind: str
    at: datetime
    actor_id: int | None
    assignment_id: int | None
    task_id: int | None
    subject_id: int | None
    details: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventOut]
    total: int
    offset: int
    limit: int
