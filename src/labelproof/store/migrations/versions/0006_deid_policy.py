"""de-identification at ingest: project policy, asset report

Revision ID: 0006
Revises: 0005

Adds ``projects.deid_policy`` (JSON; NULL = the classification's default, so projects
classified pii/phi/cui strip photo metadata from their next upload on) and
``assets.deid_report`` (JSON; NULL for assets stored before, or with the policy off).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of referenced tables fails on populated SQLite.
    op.add_column("projects", sa.Column("deid_policy", sa.JSON(), nullable=True))
    op.add_column("assets", sa.Column("deid_report", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("deid_report")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("deid_policy")
