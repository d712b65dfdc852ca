"""encrypted fields: annotation payloads, comments, questions and asset metadata sealed
under the project's data key

Revision ID: 0004
Revises: 0003

(Work in progress: the schema change and the in-place encryption of existing rows follow.)
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
