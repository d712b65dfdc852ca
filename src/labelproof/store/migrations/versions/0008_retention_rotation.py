"""retention, data key rotation and 2FA recovery codes

Revision ID: 0008
Revises: 0007

Adds ``projects.closed_at`` and ``projects.retention_days`` (NULL: the installation's
default), ``destruction_requests.due_at`` (a destruction scheduled by retention),
``project_previous_keys`` (a project's former data keys, wrapped, kept until no ciphertext
names them) and ``recovery_codes`` (SHA-256 of one-time second-factor recovery codes).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain ADD COLUMN / CREATE TABLE: a batch rebuild of referenced tables fails on a
    # populated SQLite database.
    op.add_column("projects", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("projects", sa.Column("retention_days", sa.Integer(), nullable=True))
    op.add_column(
        "destruction_requests", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "project_previous_keys",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_previous_keys_project_id_projects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_previous_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_project_previous_keys_key_id")),
    )
    op.create_index(
        op.f("ix_project_previous_keys_project_id"),
        "project_previous_keys",
        ["project_id"],
        unique=False,
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_recovery_codes_user_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_index(op.f("ix_project_previous_keys_project_id"), table_name="project_previous_keys")
    op.drop_table("project_previous_keys")
    with op.batch_alter_table("destruction_requests", schema=None) as batch_op:
        batch_op.drop_column("due_at")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("retention_days")
        batch_op.drop_column("closed_at")
