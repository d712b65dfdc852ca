"""account security: TOTP second factor, org 2FA policy, session activity

Revision ID: 0005
Revises: 0004

Adds ``organizations.require_totp``; ``users.totp_secret`` (sealed, base64),
``totp_enabled_at``, ``totp_last_step`` (replay guard) and ``password_changed_at``;
``credentials.last_used_at`` (idle timeout), ``client_ip`` and ``user_agent``.
Existing sessions count as used at upgrade time.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite 3.35+ and PostgreSQL): a batch "move and copy" would drop and
    # rebuild tables that other tables reference, which SQLite refuses with foreign keys on.
    op.add_column(
        "organizations",
        sa.Column("require_totp", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("users", sa.Column("totp_secret", sa.String(length=200), nullable=True))
    op.add_column("users", sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.add_column(
        "users", sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "credentials", sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("credentials", sa.Column("client_ip", sa.String(length=64), nullable=True))
    op.add_column("credentials", sa.Column("user_agent", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_column("user_agent")
        batch_op.drop_column("client_ip")
        batch_op.drop_column("last_used_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_changed_at")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("require_totp")
