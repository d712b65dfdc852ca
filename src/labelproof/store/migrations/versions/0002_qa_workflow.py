"""QA workflow: policies, SOP versions, batches, assignments, revisions, events, escalations

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qa_batches",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_qa_batches_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_qa_batches_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_batches")),
    )
    with op.batch_alter_table("qa_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_batches_project_id"), ["project_id"], unique=False)

    op.create_table(
        "qa_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "assignment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("dedupe_key", sa.String(length=128), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_qa_events_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_events")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_qa_events_dedupe_key")),
    )
    with op.batch_alter_table("qa_events", schema=None) as batch_op:
        batch_op.create_index("ix_qa_events_assignment", ["assignment_id", "id"], unique=False)
        batch_op.create_index("ix_qa_events_project", ["project_id", "id"], unique=False)

    op.create_table(
        "qa_policies",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_qa_policies_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_qa_policies_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_policies")),
        sa.UniqueConstraint(
            "project_id", "version", name=op.f("uq_qa_policies_project_id_version")
        ),
    )
    op.create_table(
        "qa_qualifications",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column(
            "decided_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_qa_qualifications_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_qa_qualifications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_qualifications")),
    )
    with op.batch_alter_table("qa_qualifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_qa_qualifications_user", ["project_id", "user_id", "id"], unique=False
        )

    op.create_table(
        "qa_sop_versions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("guidelines", sa.Text(), nullable=False),
        sa.Column("example_asset_ids", sa.JSON(), nullable=False),
        sa.Column("changelog", sa.Text(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column(
            "escalation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_qa_sop_versions_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_qa_sop_versions_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_sop_versions")),
        sa.UniqueConstraint(
            "project_id", "version", name=op.f("uq_qa_sop_versions_project_id_version")
        ),
    )
    op.create_table(
        "qa_answers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "schema_version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_qa_answers_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["schema_version_id"],
            ["schema_versions.id"],
            name=op.f("fk_qa_answers_schema_version_id_schema_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_qa_answers_task_id_tasks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_answers")),
    )
    with op.batch_alter_table("qa_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_answers_task_id"), ["task_id"], unique=False)

    op.create_table(
        "qa_assignments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "annotator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("slot_key", sa.String(length=32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("sop_version", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotator_id"], ["users.id"], name=op.f("fk_qa_assignments_annotator_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["qa_batches.id"], name=op.f("fk_qa_assignments_batch_id_qa_batches")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_qa_assignments_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_qa_assignments_task_id_tasks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_assignments")),
        sa.UniqueConstraint(
            "task_id",
            "slot_key",
            "attempt",
            name=op.f("uq_qa_assignments_task_id_slot_key_attempt"),
        ),
    )
    with op.batch_alter_table("qa_assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_qa_assignments_annotator", ["project_id", "annotator_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_qa_assignments_task_id"), ["task_id"], unique=False)

    op.create_table(
        "qa_batch_tasks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["qa_batches.id"], name=op.f("fk_qa_batch_tasks_batch_id_qa_batches")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_qa_batch_tasks_task_id_tasks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_batch_tasks")),
        sa.UniqueConstraint("task_id", name=op.f("uq_qa_batch_tasks_task_id")),
    )
    with op.batch_alter_table("qa_batch_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_batch_tasks_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "qa_escalations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "assignment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "raised_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("region", sa.JSON(), nullable=True),
        sa.Column("annotation_id", sa.String(length=128), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("sop_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_qa_escalations_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["raised_by"], ["users.id"], name=op.f("fk_qa_escalations_raised_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_qa_escalations_task_id_tasks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_escalations")),
    )
    with op.batch_alter_table("qa_escalations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_qa_escalations_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "qa_task_results",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "assignment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("agreement", sa.JSON(), nullable=False),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_qa_task_results_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_qa_task_results_task_id_tasks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_task_results")),
    )
    with op.batch_alter_table("qa_task_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_task_results_task_id"), ["task_id"], unique=False)

    op.create_table(
        "qa_escalation_answers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "escalation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "answered_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("published_sop_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by"], ["users.id"], name=op.f("fk_qa_escalation_answers_answered_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["qa_escalations.id"],
            name=op.f("fk_qa_escalation_answers_escalation_id_qa_escalations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_escalation_answers")),
        sa.UniqueConstraint("escalation_id", name=op.f("uq_qa_escalation_answers_escalation_id")),
    )
    op.create_table(
        "qa_revisions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "assignment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("base_number", sa.Integer(), nullable=False),
        sa.Column(
            "schema_version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("sop_version", sa.Integer(), nullable=False),
        sa.Column(
            "author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["qa_assignments.id"],
            name=op.f("fk_qa_revisions_assignment_id_qa_assignments"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_qa_revisions_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["schema_version_id"],
            ["schema_versions.id"],
            name=op.f("fk_qa_revisions_schema_version_id_schema_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_revisions")),
        sa.UniqueConstraint(
            "assignment_id",
            "idempotency_key",
            name=op.f("uq_qa_revisions_assignment_id_idempotency_key"),
        ),
        sa.UniqueConstraint(
            "assignment_id", "number", name=op.f("uq_qa_revisions_assignment_id_number")
        ),
    )


def downgrade() -> None:
    op.drop_table("qa_revisions")
    op.drop_table("qa_escalation_answers")
    with op.batch_alter_table("qa_task_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_task_results_task_id"))

    op.drop_table("qa_task_results")
    with op.batch_alter_table("qa_escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_escalations_project_id"))

    op.drop_table("qa_escalations")
    with op.batch_alter_table("qa_batch_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_batch_tasks_batch_id"))

    op.drop_table("qa_batch_tasks")
    with op.batch_alter_table("qa_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_assignments_task_id"))
        batch_op.drop_index("ix_qa_assignments_annotator")

    op.drop_table("qa_assignments")
    with op.batch_alter_table("qa_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_answers_task_id"))

    op.drop_table("qa_answers")
    op.drop_table("qa_sop_versions")
    with op.batch_alter_table("qa_qualifications", schema=None) as batch_op:
        batch_op.drop_index("ix_qa_qualifications_user")

    op.drop_table("qa_qualifications")
    op.drop_table("qa_policies")
    with op.batch_alter_table("qa_events", schema=None) as batch_op:
        batch_op.drop_index("ix_qa_events_project")
        batch_op.drop_index("ix_qa_events_assignment")

    op.drop_table("qa_events")
    with op.batch_alter_table("qa_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_batches_project_id"))

    op.drop_table("qa_batches")
