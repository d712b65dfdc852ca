"""Sensitive fields in the database, sealed under the project's data key (AES-256-GCM).

One mechanism for every sealed column (``labelproof.store.sealed.Sealed`` on the models):

- **Sealing** happens in the runtime's sessions at flush. A row whose id is known is
  sealed in ``before_flush`` and its INSERT (or UPDATE) carries the ciphertext: a stored
  row, or a new row given its id in advance (a save takes it in the statement that checks
  its base revision, ``store.db.next_id``). A new row without an id is inserted with the
  placeholder ``b""`` and sealed right after its INSERT (``after_insert``, one UPDATE on the
  same connection in the same transaction), because its id, which the associated data
  names, is known only then. No plaintext is ever sent to the database.
- **Opening** happens when a row is loaded (``load`` / ``refresh`` events). A ciphertext
  that fails authentication raises :class:`TamperedCiphertext` naming table, column and
  row, and records an ``custody.ciphertext_refused`` audit event (kept although the
  request rolls back). Nothing of the bytes is returned.
- **Associated data** binds each ciphertext to its place: ``labelproof field v1 | table.
  column | row id | project id``, so a ciphertext copied to another row, column, table or
  project does not open. The data key is the project's (the one its blobs use), so
  destroying the project's key crypto-shreds these fields too.
- **Digests** that must compare equal plaintexts (the idempotency check of a save, file
  names in audit events) are HMAC-SHA256 under a key derived from the project's data key
  (:func:`digest`), never a plain SHA-256 that anyone could confirm a guess against.

Values are JSON (orjson) before sealing, so lists, objects, strings and ``None`` all seal.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any, cast

import orjson
from sqlalchemy import Table, event, update
from sqlalchemy.orm import Mapper, Session, UOWTransaction, attributes, sessionmaker

from labelproof.custody.crypto import KEY_ID_SIZE, DataKey, decrypt, encrypt
from labelproof.custody.errors import TamperedCiphertext, UnknownKey
from labelproof.errors import ConfigurationError, NotFound
from labelproof.store.models import Base
from labelproof.store.sealed import PENDING, Sealed, sealed_fields

__all__ = [
    "digest",
    "field_aad",
    "install",
    "open_value",
    "project_digest",
    "seal_value",
]

logger = logging.getLogger("labelproof.custody")

_SEAL_CONTEXT = "_lp_seal_context"
_KEY_ID_AT = slice(5, 5 + KEY_ID_SIZE)  # blob header: magic (4) | version (1) | key id (8)


def field_aad(table: str, column: str, row_id: int, project_id: int) -> bytes:
    """Associated data of one sealed field: where the ciphertext belongs."""
    return f"labelproof field v1|{table}.{column}|{row_id}|{project_id}".encode()


def seal_value(
    key: DataKey, value: Any, *, table: str, column: str, row_id: int, project_id: int
) -> bytes:
    """``value`` as JSON, sealed under ``key`` and bound to its table, column, row, project."""
    plain = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    return encrypt(key, plain, field_aad(table, column, row_id, project_id))


def open_value(
    key: DataKey, blob: bytes, *, table: str, column: str, row_id: int, project_id: int
) -> Any:
    """The value sealed by :func:`seal_value`; ``TamperedCiphertext`` if it does not open."""
    return orjson.loads(decrypt(key, blob, field_aad(table, column, row_id, project_id)))


def digest(key: DataKey, value: Any, *, purpose: str) -> str:
    """HMAC-SHA256 (hex) of ``value``'s canonical JSON under a key derived from ``key``.

    ``purpose`` separates uses (``"payload"``, ``"filename"``): equal values give equal
    digests within one project and purpose only; without the project's key a digest
    confirms nothing, and after the key is destroyed nothing can be linked to it.
    """
    derived = hmac.new(key.key, f"labelproof digest v1|{purpose}".encode(), hashlib.sha256)
    canonical = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hmac.new(derived.digest(), canonical, hashlib.sha256).hexdigest()


def project_digest(db: Session, project_id: int, value: Any, *, purpose: str) -> str:
    """:func:`digest` under the project's data key (made in ``db``'s transaction if needed)."""
    return digest(_custody(db).data_key(db, project_id, create=True), value, purpose=purpose)


def _custody(db: Session) -> Any:
    from labelproof.services.custody.chain import CUSTODY

    custody = db.info.get(CUSTODY)
    if custody is None:
        raise ConfigurationError(
            "sealed fields need a session of the runtime (open_runtime): it holds the keys",
            field="session",
        )
    return custody


def _table(obj: object) -> str:
    return str(type(obj).__table__.name)  # type: ignore[attr-defined]


def _column(obj: object, spec: Sealed[Any]) -> str:
    mapper: Mapper[Any] = type(obj).__mapper__  # type: ignore[attr-defined]
    return str(mapper.columns[spec.column_attr].name)


def _project_of(db: Session, obj: object, spec: Sealed[Any]) -> int:
    """The row's project: its own ``project_id``, or its parent's (``project_via``)."""
    if spec.project_via is None:
        return int(obj.project_id)  # type: ignore[attr-defined]
    table, fk = spec.project_via
    parent_cls = next(
        m.class_ for m in Base.registry.mappers if getattr(m.class_, "__tablename__", None) == table
    )
    parent = db.get(parent_cls, getattr(obj, fk))
    if parent is None:
        raise NotFound(f"{table} {getattr(obj, fk)} not found", field=fk)
    return int(parent.project_id)


# --- flush: seal --------------------------------------------------------------------------


def _before_flush(db: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    custody = None
    for obj in [*db.new, *db.dirty]:
        specs = sealed_fields(type(obj))
        if not specs:
            continue
        if obj in db.new:
            for spec in specs:
                spec.fill_default(obj)
        pending = [s for s in specs if s.is_pending(obj)]
        if not pending:
            continue
        custody = custody or _custody(db)
        project_id = _project_of(db, obj, pending[0])
        key = custody.data_key(db, project_id, create=True)
        row_id = getattr(obj, "id", None)
        if row_id is None:  # sealed after its INSERT, once the id is known
            obj.__dict__[_SEAL_CONTEXT] = (project_id, key)
            continue
        for spec in pending:
            blob = seal_value(
                key,
                obj.__dict__[spec.plain_key],
                table=_table(obj),
                column=_column(obj, spec),
                row_id=int(row_id),
                project_id=project_id,
            )
            setattr(obj, spec.column_attr, blob)


def _after_insert(mapper: Mapper[Any], connection: Any, obj: Any) -> None:
    context = obj.__dict__.pop(_SEAL_CONTEXT, None)
    if context is None:
        return
    project_id, key = context
    table = cast(Table, mapper.local_table)
    values: dict[str, bytes] = {}
    for spec in sealed_fields(type(obj)):
        if not spec.is_pending(obj):
            continue
        column = _column(obj, spec)
        values[column] = seal_value(
            key,
            obj.__dict__[spec.plain_key],
            table=table.name,
            column=column,
            row_id=int(obj.id),
            project_id=project_id,
        )
    if not values:
        return
    connection.execute(update(table).where(table.c.id == obj.id).values(values))
    for spec in sealed_fields(type(obj)):
        column = _column(obj, spec)
        if column in values:
            attributes.set_committed_value(obj, spec.column_attr, values[column])


def _refuse_unsealed(_mapper: Mapper[Any], _connection: Any, obj: Any) -> None:
    """A session without the sealing hooks must not store a placeholder as if sealed."""
    if _SEAL_CONTEXT in obj.__dict__:
        return
    for spec in sealed_fields(type(obj)):
        if spec.is_pending(obj):
            raise ConfigurationError(
                f"{type(obj).__name__}.{spec.name} is sealed: write it through a session of"
                " the runtime (open_runtime), which holds the keys",
                field=spec.name,
            )


# --- load: open ---------------------------------------------------------------------------


def _open_row(db: Session | None, obj: Any, only: set[str] | None = None) -> None:
    specs = sealed_fields(type(obj))
    if not specs or db is None:
        return
    from labelproof.services.custody.chain import CUSTODY

    custody = db.info.get(CUSTODY)
    if custody is None:
        return  # the descriptor says so if the plaintext is asked for
    for spec in specs:
        if only is not None and spec.column_attr not in only:
            continue
        if spec.column_attr not in obj.__dict__:
            continue  # not loaded (deferred or expired)
        blob = obj.__dict__[spec.column_attr]
        if blob is None:
            spec.open_null(obj)  # a nullable sealed column added after the row was written
            continue
        spec.set_opened(obj, _open_one(db, custody, obj, spec, bytes(blob)))


def _open_one(db: Session, custody: Any, obj: Any, spec: Sealed[Any], blob: bytes) -> Any:
    table, column, row_id = _table(obj), _column(obj, spec), int(obj.id)
    project_id: int | None = getattr(obj, "project_id", None)
    try:
        if blob == PENDING:
            raise TamperedCiphertext("the column holds no ciphertext", field="ciphertext")
        owner, key = custody.key_by_id(db, blob[_KEY_ID_AT])
        project_id = owner if project_id is None else project_id  # else: must be the owner
        return open_value(
            key, blob, table=table, column=column, row_id=row_id, project_id=project_id
        )
    except (TamperedCiphertext, UnknownKey, NotFound) as exc:
        _refuse(db, table, column, row_id, project_id, exc.message)
        raise TamperedCiphertext(
            f"{table}.{column} of row {row_id} does not open: {exc.message}; the stored"
            " value was altered or moved, and nothing of it is returned",
            field=f"{table}.{column}",
            table=table,
            column=column,
            row_id=row_id,
        ) from None


def _refuse(
    db: Session, table: str, column: str, row_id: int, project_id: int | None, reason: str
) -> None:
    from labelproof.services.audit import AuditAction, AuditRecord, record_refusal

    logger.error("sealed field %s.%s of row %s refused: %s", table, column, row_id, reason)
    record_refusal(
        db,
        AuditRecord(
            AuditAction.CIPHERTEXT_REFUSED,
            table,
            str(row_id),
            None,
            "system",
            project_id,
            {"column": column, "reason": reason},
        ),
    )


def _on_load(obj: Any, context: Any) -> None:
    _open_row(context.session, obj)


def _on_refresh(obj: Any, context: Any, attrs: Any) -> None:
    _open_row(context.session, obj, set(attrs) if attrs is not None else None)


def _after_commit(db: Session) -> None:
    from labelproof.services.custody.chain import CUSTODY

    custody = db.info.get(CUSTODY)
    if custody is not None:
        custody.promote_new_keys(db, committed=True)


def _after_soft_rollback(db: Session, _previous: Any) -> None:
    from labelproof.services.custody.chain import CUSTODY

    custody = db.info.get(CUSTODY)
    if custody is not None:
        custody.promote_new_keys(db, committed=False)


_installed_on_models = False


def install(sessions: sessionmaker[Session]) -> None:
    """Seal at flush and open at load for ``sessions`` (whose ``info`` holds the custody)."""
    global _installed_on_models
    if not _installed_on_models:
        event.listen(Base, "load", _on_load, propagate=True)
        event.listen(Base, "refresh", _on_refresh, propagate=True)
        event.listen(Base, "after_insert", _after_insert, propagate=True)
        event.listen(Base, "before_insert", _refuse_unsealed, propagate=True)
        event.listen(Base, "before_update", _refuse_unsealed, propagate=True)
        _installed_on_models = True
    event.listen(sessions, "before_flush", _before_flush)
    event.listen(sessions, "after_commit", _after_commit)
    event.listen(sessions, "after_soft_rollback", _after_soft_rollback)


def sealed_tables() -> dict[str, list[str]]:
    """Every sealed column, by table (for migrations, scans and documentation)."""
    out: dict[str, list[str]] = {}
    for mapper in Base.registry.mappers:
        for spec in sealed_fields(mapper.class_):
            column = str(mapper.columns[spec.column_attr].name)
            out.setdefault(str(mapper.class_.__tablename__), []).append(column)
    return out
