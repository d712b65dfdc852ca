"""media facts for DICOM and whole-slide assets

Revision ID: 0007
Revises: 0006

Adds ``assets.frames`` (1 for existing rows) and ``assets.media_meta`` (sealed JSON: the
technical facts a viewer needs for a DICOM series or a whole slide; NULL for plain images).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of referenced tables fails on populated SQLite.
    op.add_column("assets", sa.Column("frames", sa.Integer(), server_default="1", nullable=False))
    op.add_column("assets", sa.Column("media_meta", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("media_meta")
        batch_op.drop_column("frames")
