"""Tables of the QA workflow (docs/qa-workflow.md).

Everything here is appended, never updated: policies, SOP versions, answers, assignments
(a claim), assignment revisions, events, escalations and their answers, qualification
decisions and task results. The state of an assignment is a view over its events
(``labelproof.services.qa.state``). Two unique constraints make the workflow race-free:
``qa_assignments (task_id, slot_key, attempt)`` (a task slot is claimed once per attempt)
and ``qa_events.dedupe_key`` (a verdict on one submission at one stage is recorded once).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from labelproof.store.models import ID, Base, UTCDateTime, utcnow
from labelproof.store.sealed import Sealed


def _id() -> Mapped[int]:
    return mapped_column(ID, primary_key=True, autoincrement=True)


def _ts() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


def _sealed(name: str) -> Mapped[bytes]:
    """The ciphertext column of a sealed field (``labelproof.store.sealed``)."""
    return mapped_column(name, LargeBinary, nullable=False)


def _fk(target: str, *, nullable: bool = False, index: bool = False) -> Mapped[Any]:
    return mapped_column(ID, ForeignKey(target), nullable=nullable, index=index)


class QaPolicy(Base):
    """One version of a project's quality policy (settings JSON, see services.qa.policy)."""

    __tablename__ = "qa_policies"
    __table_args__ = (UniqueConstraint("project_id", "version"),)
    id: Mapped[int] = _id()
    project_id: Mapped[int] = _fk("projects.id")
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    settings: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_by: Mapped[int] = _fk("users.id")
    created_at: Mapped[datetime] = _ts()


class QaSopVersion(Base):
    """One version of the project's standard operating procedure (guidelines)."""

    __tablename__ = "qa_sop_versions"
    __table_args__ = (UniqueConstraint("project_id", "version"),)
    id: Mapped[int] = _id()
    project_id: Mapped[int] = _fk("projects.id")
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    sealed_guidelines: Mapped[bytes] = _sealed("guidelines")
    guidelines = Sealed[str]("sealed_guidelines")
    example_asset_ids: Mapped[list[Any]] = mapped_column(nullable=False)
    sealed_changelog: Mapped[bytes] = _sealed("changelog")
    changelog = Sealed[str]("sealed_changelog", default="")
    checklist: Mapped[list[Any]] = mapped_column(nullable=False)
    escalation_id: Mapped[int | None] = mapped_column(ID)
    created_by: Mapped[int] = _fk("users.id")
    created_at: Mapped[datetime] = _ts()


class QaBatch(Base):
    __tablename__ = "qa_batches"
    id: Mapped[int] = _id()
    project_id: Mapped[int] = _fk("projects.id", index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # calibration|production|gold
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[int] = _fk("users.id")
    created_at: Mapped[datetime] = _ts()


class QaBatchTask(Base):
    """A task's place in one batch and its QA mode (single | consensus | gold | calibration).

    The task row itself keeps mode ``single`` so nothing an annotator can read tells a gold
    task from another.
    """

    __tablename__ = "qa_batch_tasks"
    __table_args__ = (UniqueConstraint("task_id"),)
    id: Mapped[int] = _id()
    batch_id: Mapped[int] = _fk("qa_batches.id", index=True)
    task_id: Mapped[int] = _fk("tasks.id")
    mode: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = _ts()


class QaAnswer(Base):
    """The known answer of a gold task or a calibration task (the lead's); appended."""

    __tablename__ = "qa_answers"
    id: Mapped[int] = _id()
    task_id: Mapped[int] = _fk("tasks.id", index=True)
    schema_version_id: Mapped[int] = _fk("schema_versions.id")
    sealed_annotations: Mapped[bytes] = _sealed("annotations")
    annotations = Sealed[list[Any]]("sealed_annotations", project_via=("tasks", "task_id"))
    created_by: Mapped[int] = _fk("users.id")
    created_at: Mapped[datetime] = _ts()


class QaAssignment(Base):
    """A claim of one task slot by one annotator; its life is in ``qa_events``."""

    __tablename__ = "qa_assignments"
    __table_args__ = (
        UniqueConstraint("task_id", "slot_key", "attempt"),
        Index("ix_qa_assignments_annotator", "project_id", "annotator_id"),
    )
    id: Mapped[int] = _id()
    project_id: Mapped[int] = _fk("projects.id")
    task_id: Mapped[int] = _fk("tasks.id", index=True)
    batch_id: Mapped[int] = _fk("qa_batches.id")
    annotator_id: Mapped[int] = _fk("users.id")
    slot_key: Mapped[str] = mapped_column(String(32), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    policy_version: Mapped[int] = mapped_column(Integer, nullable=False)
    sop_version: Mapped[int] = mapped_column(Integer, nullable=False)
    claimed_at: Mapped[datetime] = _ts()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class QaRevision(Base):
    """One save of an assignment's whole annotation set (annotator, reviewer or lead)."""

    __tablename__ = "qa_revisions"
    __table_args__ = (
        UniqueConstraint("assignment_id", "number"),
        UniqueConstraint("assignment_id", "idempotency_key"),
    )
    id: Mapped[int] = _id()
    assignment_id: Mapped[int] = _fk("qa_assignments.id")
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    base_number: Mapped[int] = mapped_column(Integer, nullable=False)
    schema_version_id: Mapped[int] = _fk("schema_versions.id")
    sop_version: Mapped[int] = mapped_column(Integer, nullable=False)
    author_id: Mapped[int] = _fk("users.id")
    idempotency_key: Mapped[str] = mapped_column(String(128), nullable=False)
    payload_sha256: Mapped[str] = mapped_column(String(64), nullable=False)  # HMAC, see fields
    sealed_annotations: Mapped[bytes] = _sealed("annotations")
    annotations = Sealed[list[Any]](
        "sealed_annotations", project_via=("qa_assignments", "assignment_id")
    )
    created_at: Mapped[datetime] = _ts()


class QaEvent(Base):
    """One thing that happened in the workflow; figures are computed from these rows."""

    __tablename__ = "qa_events"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_qa_events_project", "project_id", "id"),
        Index("ix_qa_events_assignment", "assignment_id", "id"),
    )
    id: Mapped[int] = _id()
    project_id: Mapped[int] = _fk("projects.id")
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = _ts()
    actor_id: Mapped[int | None] = mapped_column(ID)
    assignment_id: Mapped[int | None] = mapped_column(ID)
    task_id: Mapped[int | None] = mapped_column(ID)
    subject_id: Mapped[int | None] = mapped_column(ID)
    dedupe_key: Mapped[str | None] = mapped_column(String(128))
    sealed_details: Mapped[bytes] = _sealed("details")
    details = Sealed[dict[str, Any]]("sealed_details")


class QaEscalation(Base):
    __tablename__ = "qa_escalations"
    id: Mapped[int] = _id()
    project_id: Mapped[int] = _fk("projects.id", index=True)
    task_id: Mapped[int] = _fk("tasks.id")
    assignment_id: Mapped[int | None] = mapped_column(ID)
    raised_by: Mapped[int] = _fk("users.id")
    label: Mapped[str | None] = mapped_column(String(200))
    sealed_region: Mapped[bytes] = _sealed("region")
    region = Sealed[dict[str, Any] | None]("sealed_region")
    annotation_id: Mapped[str | None] = mapped_column(String(128))
    sealed_question: Mapped[bytes] = _sealed("question")
    question = Sealed[str]("sealed_question")
    sop_version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = _ts()


class QaEscalationAnswer(Base):
    __tablename__ = "qa_escalation_answers"
    __table_args__ = (UniqueConstraint("escalation_id"),)
    id: Mapped[int] = _id()
    escalation_id: Mapped[int] = _fk("qa_escalations.id")
    answered_by: Mapped[int] = _fk("users.id")
    sealed_answer: Mapped[bytes] = _sealed("answer")
    answer = Sealed[str]("sealed_answer", project_via=("qa_escalations", "escalation_id"))
    published_sop_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _ts()


class QaQualification(Base):
    """A decision on whether a person may work production tasks, with its evidence."""

    __tablename__ = "qa_qualifications"
    __table_args__ = (Index("ix_qa_qualifications_user", "project_id", "user_id", "id"),)
    id: Mapped[int] = _id()
    project_id: Mapped[int] = _fk("projects.id")
    user_id: Mapped[int] = _fk("users.id")
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    evidence: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    decided_by: Mapped[int | None] = mapped_column(ID)
    created_at: Mapped[datetime] = _ts()


class QaTaskResult(Base):
    """The accepted annotations of a task: one reviewed assignment, a consensus merge or a
    lead's adjudication; appended (the newest is current)."""

    __tablename__ = "qa_task_results"
    id: Mapped[int] = _id()
    project_id: Mapped[int] = _fk("projects.id")
    task_id: Mapped[int] = _fk("tasks.id", index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # accepted|consensus|adjudicated
    assignment_id: Mapped[int | None] = mapped_column(ID)
    sealed_annotations: Mapped[bytes] = _sealed("annotations")
    annotations = Sealed[list[Any]]("sealed_annotations")
    agreement: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    created_by: Mapped[int | None] = mapped_column(ID)
    created_at: Mapped[datetime] = _ts()
