"""encrypted fields: annotation payloads, comments, questions, SOP text and file names sealed
under the project's data key

Revision ID: 0004
Revises: 0003

Each sealed column becomes binary (BLOB / bytea) holding AES-256-GCM ciphertext
(``labelproof.services.custody.fields``): a new column is added, every existing row is
sealed into it in place (in this transaction), the plaintext column is dropped and the new
one takes its name. Idempotency digests (``payload_sha256``) are recomputed as the
project-keyed HMAC. Projects without a data key get one (wrapped by the master key, made
on a fresh installation only while no wrapped key exists, as at start).

Plain ``ALTER TABLE`` statements are used on SQLite too (3.35+): rebuilding a table that
other tables reference would fail under ``foreign_keys=ON``.

Audit events written before this migration keep the file names they recorded: the chain
forbids editing them (docs/security.md, known limits).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: table -> (sealed columns with their plaintext type, how the project is found)
SEALED: dict[str, tuple[dict[str, Any], tuple[str, str] | None]] = {
    "assets": ({"filename": sa.String()}, None),
    "annotation_revisions": ({"annotations": sa.JSON()}, ("tasks", "task_id")),
    "qa_sop_versions": ({"guidelines": sa.Text(), "changelog": sa.Text()}, None),
    "qa_answers": ({"annotations": sa.JSON()}, ("tasks", "task_id")),
    "qa_revisions": ({"annotations": sa.JSON()}, ("qa_assignments", "assignment_id")),
    "qa_events": ({"details": sa.JSON()}, None),
    "qa_escalations": ({"region": sa.JSON(), "question": sa.Text()}, None),
    "qa_escalation_answers": ({"answer": sa.Text()}, ("qa_escalations", "escalation_id")),
    "qa_task_results": ({"annotations": sa.JSON()}, None),
}
#: tables whose idempotency digest is an HMAC of {"base": base_number, "items": annotations}
PAYLOAD_DIGEST = ("annotation_revisions", "qa_revisions")


def _sql(statement: str) -> None:
    op.get_bind().exec_driver_sql(statement)


def upgrade() -> None:
    conn = op.get_bind()
    pg = conn.dialect.name == "postgresql"
    binary, empty = ("BYTEA", "''::bytea") if pg else ("BLOB", "x''")
    for table, (columns, _via) in SEALED.items():
        for column in columns:
            _sql(
                f"ALTER TABLE {table} ADD COLUMN {column}__sealed {binary} NOT NULL DEFAULT {empty}"
            )
    keys = _Keys(conn)
    for table, (columns, via) in SEALED.items():
        _seal_rows(conn, keys, table, columns, via)
    for table, (columns, _via) in SEALED.items():
        for column in columns:
            _sql(f"ALTER TABLE {table} DROP COLUMN {column}")
            _sql(f"ALTER TABLE {table} RENAME COLUMN {column}__sealed TO {column}")
            if pg:
                _sql(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT")


class _Keys:
    """Project data keys for the conversion, made (and wrapped) where a project has none."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.provider: Any = None
        self.keys: dict[int, Any] = {}

    def _provider(self) -> Any:
        if self.provider is None:
            self.provider = _master_key(self.conn)
        return self.provider

    def of(self, project_id: int) -> Any:
        from labelproof.custody.crypto import DataKey, new_data_key

        if project_id in self.keys:
            return self.keys[project_id]
        row = self.conn.execute(
            sa.text("SELECT key_id, wrapped FROM project_keys WHERE project_id = :p"),
            {"p": project_id},
        ).first()
        if row is not None:
            key = DataKey(
                bytes.fromhex(row.key_id), self._provider().unwrap(project_id, row.wrapped)
            )
        else:
            from labelproof.store.models import utcnow

            key = new_data_key()
            self.conn.execute(
                sa.table(
                    "project_keys",
                    sa.column("project_id"),
                    sa.column("key_id"),
                    sa.column("wrapped", sa.LargeBinary()),
                    sa.column("created_at", sa.DateTime(timezone=True)),
                ).insert(),
                {
                    "project_id": project_id,
                    "key_id": key.key_id.hex(),
                    "wrapped": self._provider().wrap(project_id, key.key),
                    "created_at": utcnow(),
                },
            )
        self.keys[project_id] = key
        return key


def _master_key(conn: sa.Connection) -> Any:
    """The master key, by the rule of ``services.custody.keys`` (env, else key file)."""
    from labelproof.custody.keyring import (
        MASTER_KEY_ENV,
        LocalKeyProvider,
        write_master_key_file,
    )

    if os.environ.get(MASTER_KEY_ENV):
        return LocalKeyProvider.from_env()
    key_dir: Path | None = op.get_context().config.attributes.get("key_dir")  # type: ignore[union-attr]
    if key_dir is None:
        raise RuntimeError(
            "migration 0004 seals existing rows and needs the master key: upgrade through"
            f" labelproof (open_runtime), or set {MASTER_KEY_ENV}"
        )
    path = Path(key_dir) / "master.key"
    if not path.exists():
        wrapped = conn.execute(sa.text("SELECT id FROM project_keys LIMIT 1")).first()
        if wrapped is not None:
            raise RuntimeError(
                f"no master key: {path} is missing and {MASTER_KEY_ENV} is not set, but the"
                " database holds wrapped data keys; restore the key that made them"
            )
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileExistsError):
            write_master_key_file(path)
    return LocalKeyProvider.from_file(path)


def _seal_rows(
    conn: sa.Connection,
    keys: _Keys,
    table: str,
    columns: dict[str, Any],
    via: tuple[str, str] | None,
) -> None:
    from labelproof.services.custody.fields import digest, seal_value

    digests = table in PAYLOAD_DIGEST
    extra = ["base_number"] if digests else []
    t = sa.table(
        table,
        sa.column("id"),
        *(sa.column(c, typ) for c, typ in columns.items()),
        *(sa.column(c) for c in extra),
        *(sa.column(f"{c}__sealed", sa.LargeBinary()) for c in columns),
        *([sa.column("payload_sha256")] if digests else []),
        *([sa.column(via[1])] if via else [sa.column("project_id")]),
    )
    if via is None:
        project = t.c.project_id
        query = sa.select(t.c.id, project, *(t.c[c] for c in [*columns, *extra]))
    else:
        parent = sa.table(via[0], sa.column("id"), sa.column("project_id"))
        project = parent.c.project_id
        query = sa.select(t.c.id, project, *(t.c[c] for c in [*columns, *extra])).join(
            parent, parent.c.id == t.c[via[1]]
        )
    for row in conn.execute(query.order_by(t.c.id)).mappings().all():
        key = keys.of(int(row["project_id"]))
        values: dict[str, Any] = {
            f"{c}__sealed": seal_value(
                key,
                row[c],
                table=table,
                column=c,
                row_id=int(row["id"]),
                project_id=int(row["project_id"]),
            )
            for c in columns
        }
        if digests:
            values["payload_sha256"] = digest(
                key, {"base": row["base_number"], "items": row["annotations"]}, purpose="payload"
            )
        conn.execute(t.update().where(t.c.id == row["id"]).values(values))


def downgrade() -> None:
    raise NotImplementedError(
        "0004 sealed the plaintext of sensitive columns; downgrading would write it back in"
        " clear. Export the projects instead."
    )
