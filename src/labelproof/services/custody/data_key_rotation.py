"""Data key rotation per project: a new current key, a resumable re-encryption pass, then
the old key is retired.

1. :func:`rotate_project` (one write transaction) moves the project's wrapped key to
   ``project_previous_keys`` and wraps a new one in ``project_keys``; new ciphertexts use
   it from the next write (this process at once, other processes within
   ``keys.KEY_RECHECK_S`` seconds). Every ciphertext names its key, so nothing becomes
   unreadable. Audit: ``custody.data_key_rotated``.
2. :func:`reencrypt_project` moves what still names a previous key to the current one:
   sealed database fields in bounded batches, each batch its own write transaction (a row is
   replaced only if it still holds the ciphertext read, so a concurrent write wins), then
   the project's blobs (streamed through a pipe: no plaintext touches the disk) and its
   sealed tiles and thumbnails, each file replaced atomically. Stopping at any point and
   running it again continues. Audit: ``custody.data_key_reencrypted`` with the counts.
3. :func:`retire_previous_keys` deletes a previous key only after a scan finds no
   ciphertext naming it (fields, blobs, derived files); otherwise it refuses, naming how
   many remain. Audit: ``custody.data_key_retired``.

Keyed digests (the idempotency digest of a save, ``filename_hmac`` in audit events) are
made under the key current at the time: a save retried across a rotation is not recognised
as the same and is refused as a conflict instead.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Table, func, select, update

from labelproof.custody.crypto import (
    BLOB_MAGIC,
    KEY_ID_SIZE,
    STREAM_MAGIC,
    DataKey,
    decrypt,
    decrypt_stream,
    encrypt,
    encrypt_stream,
    new_data_key,
)
from labelproof.custody.errors import TamperedCiphertext, UnknownKey
from labelproof.errors import Conflict, NotFound
from labelproof.services.audit import AuditRecord, record
from labelproof.services.context import Runtime, new_request_id
from labelproof.services.custody.blobs import derived_aad
from labelproof.services.custody.events import CustodyAction
from labelproof.services.custody.fields import field_aad, sealed_tables
from labelproof.store.blobs import blob_aad
from labelproof.store.custody_models import ProjectKey, ProjectPreviousKey
from labelproof.store.models import Base, utcnow

__all__ = [
    "DEFAULT_BATCH",
    "Reencryption",
    "ciphertexts_naming",
    "reencrypt_project",
    "retire_previous_keys",
    "rotate_project",
]

DEFAULT_BATCH = 200
_KEY_AT = slice(5, 5 + KEY_ID_SIZE)  # magic (4) | version (1) | key id (8)
DERIVED = ("tiles", "thumbs")


def rotate_project(rt: Runtime, project_id: int) -> dict[str, Any]:
    """Make a new data key current for the project; the old one becomes a previous key."""
    with rt.write() as db:
        row = db.scalar(
            select(ProjectKey).where(ProjectKey.project_id == project_id).with_for_update()
        )
        if row is None:
            raise NotFound(f"project {project_id} has no data key (nothing stored, or destroyed)")
        old_id = row.key_id
        db.add(
            ProjectPreviousKey(
                project_id=project_id,
                key_id=row.key_id,
                wrapped=row.wrapped,
                created_at=row.created_at,
                replaced_at=utcnow(),
            )
        )
        fresh = new_data_key()
        row.key_id = fresh.key_id.hex()
        row.wrapped = rt.custody.provider.wrap(project_id, fresh.key)
        row.created_at = utcnow()
        previous = db.scalar(
            select(func.count(ProjectPreviousKey.id)).where(
                ProjectPreviousKey.project_id == project_id
            )
        )
        record(
            db,
            AuditRecord(
                CustodyAction.DATA_KEY_ROTATED,
                "project",
                str(project_id),
                None,
                new_request_id(),
                project_id,
                {"from_key_id": old_id, "to_key_id": row.key_id},
            ),
        )
    rt.custody.forget(project_id)
    return {
        "project_id": project_id,
        "from_key_id": old_id,
        "to_key_id": fresh.key_id.hex(),
        "previous_keys": int(previous or 0) + 1,
    }


@dataclass
class Reencryption:
    """What a re-encryption pass moved to the current key (counts per kind)."""

    project_id: int
    to_key_id: str
    from_key_ids: list[str]
    fields: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    blobs: int = 0
    derived_files: int = 0
    complete: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ring(rt: Runtime, project_id: int) -> list[DataKey]:
    rt.custody.forget(project_id)  # the keys as stored now, not as cached
    with rt.read() as db:
        return rt.custody.data_keys(db, project_id)


def _columns() -> list[tuple[Table, str]]:
    tables = Base.metadata.tables
    return [(tables[t], c) for t, cols in sorted(sealed_tables().items()) for c in cols]


def reencrypt_project(
    rt: Runtime, project_id: int, *, batch: int = DEFAULT_BATCH, max_batches: int | None = None
) -> Reencryption:
    """Move the project's ciphertexts that name a previous key to the current key.

    Bounded batches of ``batch`` rows, each its own write transaction; ``max_batches`` stops
    early (the pass is resumable: run it again). ``complete`` is True when nothing named a
    previous key at the end of this pass.
    """
    ring = _ring(rt, project_id)
    current, old = ring[0], [k.key_id for k in ring[1:]]
    report = Reencryption(project_id, current.key_id.hex(), [k.hex() for k in old])
    if not old:
        report.complete = True
        return report
    for table, column in _columns():
        col = table.c[column]
        moved = 0
        while max_batches is None or report.batches < max_batches:
            with rt.write() as db:
                rows = db.execute(
                    select(table.c.id, col)
                    .where(func.substr(col, 6, KEY_ID_SIZE).in_(old))
                    .order_by(table.c.id)
                    .limit(batch)
                ).all()
                for row_id, blob in rows:
                    blob = bytes(blob)
                    aad = field_aad(table.name, column, int(row_id), project_id)
                    try:
                        plain = decrypt(ring, blob, aad)
                    except (TamperedCiphertext, UnknownKey) as exc:
                        raise TamperedCiphertext(
                            f"{table.name}.{column} of row {row_id} does not open under"
                            f" project {project_id}'s keys: {exc.message}; re-encryption stopped",
                            field=f"{table.name}.{column}",
                        ) from None
                    db.execute(
                        update(table)
                        .where(table.c.id == row_id, col == blob)
                        .values({column: encrypt(current, plain, aad)})
                    )
                moved += len(rows)
            report.batches += 1
            if len(rows) < batch:
                break
        if moved:
            report.fields[f"{table.name}.{column}"] = moved
    if max_batches is None or report.batches < max_batches:
        report.blobs = _reencrypt_blobs(rt, project_id, ring)
        report.derived_files = _reencrypt_derived(rt, project_id, ring)
        report.complete = sum(ciphertexts_naming(rt, project_id, old).values()) == 0
    with rt.write() as db:
        record(
            db,
            AuditRecord(
                CustodyAction.DATA_KEY_REENCRYPTED,
                "project",
                str(project_id),
                None,
                new_request_id(),
                project_id,
                {
                    "to_key_id": report.to_key_id,
                    "from_key_ids": report.from_key_ids,
                    "fields": report.fields,
                    "batches": report.batches,
                    "blobs": report.blobs,
                    "derived_files": report.derived_files,
                    "complete": report.complete,
                },
            ),
        )
    return report


def _names(path: Path, magic: bytes, old: list[bytes]) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(13)
    except OSError:
        return False
    return head[:4] == magic and head[_KEY_AT] in old


def _blob_files(rt: Runtime, project_id: int) -> list[Path]:
    root = rt.blobs.project_root(project_id)
    return [p for p in root.glob("??/??/*") if p.is_file() and len(p.name) == 64]


def _derived_files(rt: Runtime, project_id: int) -> list[Path]:
    out: list[Path] = []
    for kind in DERIVED:
        folder = rt.settings.data_dir / kind / str(project_id)
        if folder.exists():
            out.extend(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    return out


def _replace_atomically(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".reseal-")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _restream(
    ring: list[DataKey], current: DataKey, src: BinaryIO, dst: BinaryIO, aad: bytes
) -> None:
    """Decrypt ``src`` and encrypt into ``dst`` through a pipe: plaintext only in memory."""
    r_fd, w_fd = os.pipe()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(w_fd, "wb") as w:
                decrypt_stream(ring, src, w, aad)
        except BaseException as exc:  # reported to the consumer below
            failure.append(exc)

    thread = threading.Thread(target=produce, name="labelproof-reencrypt", daemon=True)
    thread.start()
    with os.fdopen(r_fd, "rb") as r:
        encrypt_stream(current, r, dst, aad)
    thread.join()
    if failure:
        raise failure[0]


def _reencrypt_blobs(rt: Runtime, project_id: int, ring: list[DataKey]) -> int:
    old = [k.key_id for k in ring[1:]]
    moved = 0
    for path in _blob_files(rt, project_id):
        if not _names(path, STREAM_MAGIC, old):
            continue
        aad = blob_aad(project_id, path.name)
        with open(path, "rb") as src:
            _replace_atomically(
                path, lambda out, src=src, aad=aad: _restream(ring, ring[0], src, out, aad)
            )
        moved += 1
    return moved


def _reencrypt_derived(rt: Runtime, project_id: int, ring: list[DataKey]) -> int:
    old = [k.key_id for k in ring[1:]]
    moved = 0
    for path in _derived_files(rt, project_id):
        if not _names(path, BLOB_MAGIC, old):
            continue
        aad = derived_aad(rt, path)
        data = decrypt(ring, path.read_bytes(), aad)
        _replace_atomically(
            path, lambda out, data=data, aad=aad: out.write(encrypt(ring[0], data, aad))
        )
        moved += 1
    return moved


def ciphertexts_naming(rt: Runtime, project_id: int, key_ids: list[bytes]) -> dict[str, int]:
    """How many stored ciphertexts name any of ``key_ids``: per sealed column, blobs, and
    derived files (zero everywhere means the keys can be retired)."""
    counts: dict[str, int] = {}
    with rt.read() as db:
        for table, column in _columns():
            col = table.c[column]
            n = db.scalar(
                select(func.count())
                .select_from(table)
                .where(func.substr(col, 6, KEY_ID_SIZE).in_(key_ids))
            )
            if n:
                counts[f"{table.name}.{column}"] = int(n)
    blobs = sum(1 for p in _blob_files(rt, project_id) if _names(p, STREAM_MAGIC, key_ids))
    derived = sum(1 for p in _derived_files(rt, project_id) if _names(p, BLOB_MAGIC, key_ids))
    if blobs:
        counts["blobs"] = blobs
    if derived:
        counts["derived_files"] = derived
    return counts


def retire_previous_keys(rt: Runtime, project_id: int) -> list[str]:
    """Delete the project's previous data keys once no ciphertext names them; returns the
    retired key ids. Raises ``Conflict`` naming what still uses them otherwise."""
    with rt.read() as db:
        ids = list(
            db.scalars(
                select(ProjectPreviousKey.key_id).where(ProjectPreviousKey.project_id == project_id)
            )
        )
    if not ids:
        return []
    left = ciphertexts_naming(rt, project_id, [bytes.fromhex(k) for k in ids])
    if left:
        raise Conflict(
            f"previous data key(s) of project {project_id} still named by {left}; run"
            " `labelproof keys rotate-project --reencrypt` again first"
        )
    with rt.write() as db:
        db.execute(
            ProjectPreviousKey.__table__.delete().where(  # type: ignore[attr-defined]
                ProjectPreviousKey.project_id == project_id,
                ProjectPreviousKey.key_id.in_(ids),
            )
        )
        record(
            db,
            AuditRecord(
                CustodyAction.DATA_KEY_RETIRED,
                "project",
                str(project_id),
                None,
                new_request_id(),
                project_id,
                {"key_ids": ids, "verified": "no field, blob or derived file names them"},
            ),
        )
    rt.custody.forget(project_id)
    return ids
