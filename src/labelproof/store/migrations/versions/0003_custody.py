"""custody: audit hash chain and checkpoints, project data keys, clearances, destruction

Revision ID: 0003
Revises: 0002

Existing audit events are chained in id order (``prev_hash``/``entry_hash`` filled in and
the chain head written), so an upgraded installation verifies from its first event.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id_column() -> sa.Column[Any]:
    return sa.Column("id", _ID, autoincrement=True, nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("entry_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("clearance", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    op.create_table(
        "audit_checkpoints",
        _id_column(),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("last_entry_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.create_index("ix_audit_checkpoints_size", ["tree_size"], unique=False)
    op.create_table(
        "audit_chain_head",
        sa.Column("id", _ID, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("frontier", sa.JSON(), nullable=False),
        sa.Column("since_checkpoint", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "project_keys",
        _id_column(),
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_keys_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_keys")),
        sa.UniqueConstraint("project_id", name=op.f("uq_project_keys_project_id")),
    )
    op.create_table(
        "destruction_requests",
        _id_column(),
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("requested_by", _ID, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approved_by", _ID, nullable=True),
        sa.Column("certificate_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destruction_requests")),
    )
    with op.batch_alter_table("destruction_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_destruction_requests_project_id"), ["project_id"], unique=False
        )
    op.create_table(
        "destruction_certificates",
        _id_column(),
        sa.Column("certificate_id", sa.String(length=64), nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destruction_certificates")),
        sa.UniqueConstraint(
            "certificate_id", name=op.f("uq_destruction_certificates_certificate_id")
        ),
    )
    with op.batch_alter_table("destruction_certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_destruction_certificates_org_id"), ["org_id"], unique=False
        )
    _chain_existing_events()


def _chain_existing_events() -> None:
    """Hash the events already in the log, in id order, and write the chain head."""
    from labelproof.custody.chain import GENESIS_HASH, compute_entry_hash
    from labelproof.custody.merkle import MerkleFrontier, leaf_hash
    from labelproof.store.models import UTCDateTime

    conn = op.get_bind()
    names = ("id", "actor_id", "action", "target_type", "target_id", "project_id", "request_id")
    events = sa.table(
        "audit_events",
        *(sa.column(n) for n in names),
        sa.column("at", UTCDateTime()),
        sa.column("details", sa.JSON()),
        sa.column("prev_hash"),
        sa.column("entry_hash"),
    )
    prev = GENESIS_HASH
    frontier = MerkleFrontier()
    last_id = 0
    cols = [c for c in events.c if c.name not in ("prev_hash", "entry_hash")]
    for row in conn.execute(sa.select(*cols).order_by(events.c.id)).mappings():
        event = dict(row)
        digest = compute_entry_hash(event, prev)
        conn.execute(
            events.update()
            .where(events.c.id == event["id"])
            .values(prev_hash=prev.hex(), entry_hash=digest.hex())
        )
        frontier.append_leaf_hash(leaf_hash(digest))
        prev = digest
        last_id = int(event["id"])
    head = sa.table(
        "audit_chain_head",
        sa.column("id"),
        sa.column("size"),
        sa.column("last_id"),
        sa.column("last_hash"),
        sa.column("frontier", sa.JSON()),
        sa.column("since_checkpoint"),
    )
    conn.execute(
        head.insert().values(
            id=1,
            size=frontier.size,
            last_id=last_id,
            last_hash=prev.hex(),
            frontier=[[h, v.hex()] for h, v in frontier.nodes],
            since_checkpoint=frontier.size,
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("destruction_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_destruction_certificates_org_id"))
    op.drop_table("destruction_certificates")
    with op.batch_alter_table("destruction_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_destruction_requests_project_id"))
    op.drop_table("destruction_requests")
    op.drop_table("project_keys")
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_checkpoints_size")
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("clearance")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("entry_hash")
        batch_op.drop_column("prev_hash")
