"""The server side of the audit hash chain: append, checkpoint, read back, prove.

Every audit record is chained when its transaction commits (a ``before_commit`` hook of the
runtime's sessions), so the lock that orders the chain is held only from the start of the
commit to its end:

- PostgreSQL: ``pg_advisory_xact_lock`` (released by the commit itself), then the chain head
  row is read; two transactions can never chain after the same entry.
- SQLite: every writing transaction already holds the database's write lock
  (``BEGIN IMMEDIATE``), which serialises the chain.

Ids are given by the chain (head's last id + 1), so the log has no gaps on either database.
Every ``checkpoint_every`` events a checkpoint (size, Merkle root, last hash, time) is
signed with the installation's Ed25519 key and stored in ``audit_checkpoints``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import event, func, insert, select, text, update
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from labelproof.custody.chain import GENESIS_HASH, compute_entry_hash
from labelproof.custody.checkpoint import Checkpoint, format_utc, sign_checkpoint
from labelproof.custody.merkle import MerkleFrontier, leaf_hash
from labelproof.store.custody_models import AuditChainHead, AuditCheckpoint
from labelproof.store.models import AuditEvent

if TYPE_CHECKING:
    from labelproof.services.audit import AuditRecord
    from labelproof.services.custody.keys import Custody

__all__ = [
    "CUSTODY",
    "append_events",
    "checkpoint_from_row",
    "install",
    "make_checkpoint",
    "read_checkpoints",
    "read_entries",
]

logger = logging.getLogger("labelproof.audit")

CUSTODY = "labelproof.custody"
FACTORY = "labelproof.sessions"
PENDING = "labelproof.audit_pending"
REFUSALS = "labelproof.audit_refusals"
#: pg_advisory_xact_lock key of the audit chain ("lpaudit" as an integer).
LOCK_KEY = int.from_bytes(b"lpaudit", "big")
_HEAD = AuditChainHead.__table__


def _lock(db: Session) -> None:
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def _read_head(db: Session) -> tuple[int, int, bytes, MerkleFrontier, int]:
    row = db.execute(select(_HEAD).where(_HEAD.c.id == 1)).mappings().first()
    if row is None:
        db.execute(
            insert(AuditChainHead).values(
                id=1,
                size=0,
                last_id=0,
                last_hash=GENESIS_HASH.hex(),
                frontier=[],
                since_checkpoint=0,
            )
        )
        return 0, 0, GENESIS_HASH, MerkleFrontier(), 0
    frontier = MerkleFrontier(
        int(row["size"]), [(int(h), bytes.fromhex(v)) for h, v in row["frontier"]]
    )
    return (
        int(row["size"]),
        int(row["last_id"]),
        bytes.fromhex(row["last_hash"]),
        frontier,
        int(row["since_checkpoint"]),
    )


def _plain_json(details: dict[str, Any]) -> Any:
    """``details`` as the database will give it back (so the stored hash stays true)."""
    return orjson.loads(orjson.dumps(details, option=orjson.OPT_NON_STR_KEYS))


def append_events(db: Session, records: Sequence[AuditRecord], custody: Custody | None) -> None:
    """Chain and insert ``records`` in order, inside ``db``'s transaction (lock first)."""
    if not records:
        return
    db.flush()
    _lock(db)
    _size, last_id, prev, frontier, since = _read_head(db)
    rows = []
    for rec in records:
        last_id += 1
        row: dict[str, Any] = {
            "id": last_id,
            "at": rec.at.astimezone(UTC),
            "actor_id": rec.actor_id,
            "action": str(rec.action),
            "target_type": rec.target_type,
            "target_id": rec.target_id,
            "project_id": rec.project_id,
            "request_id": rec.request_id,
            "details": _plain_json(rec.details),
        }
        digest = compute_entry_hash(row, prev)
        row["prev_hash"] = prev.hex()
        row["entry_hash"] = digest.hex()
        rows.append(row)
        frontier.append_leaf_hash(leaf_hash(digest))
        prev = digest
    db.execute(insert(AuditEvent), rows)
    since += len(rows)
    values: dict[str, Any] = {
        "size": frontier.size,
        "last_id": last_id,
        "last_hash": prev.hex(),
        "frontier": [[h, v.hex()] for h, v in frontier.nodes],
        "since_checkpoint": since,
    }
    if custody is not None and since >= custody.checkpoint_every:
        _store_checkpoint(db, custody, frontier, prev)
        values["since_checkpoint"] = 0
    db.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(**values))


def _store_checkpoint(
    db: Session, custody: Custody, frontier: MerkleFrontier, last: bytes
) -> Checkpoint:
    cp = sign_checkpoint(
        tree_size=frontier.size,
        root=frontier.root(),
        last_entry_hash=last,
        private_key=custody.signing_key(),
    )
    import base64

    db.execute(
        insert(AuditCheckpoint).values(
            tree_size=cp.tree_size,
            root=cp.root.hex(),
            last_entry_hash=cp.last_entry_hash.hex(),
            at=cp.at,
            key_id=cp.key_id,
            signature=base64.b64encode(cp.signature).decode(),
        )
    )
    return cp


def make_checkpoint(db: Session, custody: Custody) -> Checkpoint:
    """Sign a checkpoint of the log as it stands (in ``db``'s write transaction)."""
    db.flush()
    _lock(db)
    _size, _last_id, last, frontier, _since = _read_head(db)
    cp = _store_checkpoint(db, custody, frontier, last)
    db.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(since_checkpoint=0))
    return cp


def checkpoint_from_row(row: AuditCheckpoint) -> Checkpoint:
    return Checkpoint.from_dict(
        {
            "tree_size": row.tree_size,
            "root": row.root,
            "last_entry_hash": row.last_entry_hash,
            "at": format_utc(row.at),
            "key_id": row.key_id,
            "signature": row.signature,
        }
    )


def entry_dict(row: Any) -> dict[str, Any]:
    """A stored event as the custody library reads it (columns + hashes, ``at`` canonical)."""
    return {
        "id": row.id,
        "at": format_utc(row.at),
        "actor_id": row.actor_id,
        "action": row.action,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "project_id": row.project_id,
        "request_id": row.request_id,
        "details": row.details,
        "prev_hash": row.prev_hash,
        "entry_hash": row.entry_hash,
    }


def read_entries(db: Session, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Every stored event in id order (or the first ``limit``)."""
    query = select(AuditEvent).order_by(AuditEvent.id)
    if limit is not None:
        query = query.limit(limit)
    return [entry_dict(r) for r in db.execute(query.execution_options(yield_per=5000)).scalars()]


def read_checkpoints(db: Session) -> list[Checkpoint]:
    rows = db.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id))
    return [checkpoint_from_row(r) for r in rows]


def latest_checkpoint(db: Session) -> Checkpoint | None:
    row = db.scalar(
        select(AuditCheckpoint)
        .order_by(AuditCheckpoint.tree_size.desc(), AuditCheckpoint.id.desc())
        .limit(1)
    )
    return checkpoint_from_row(row) if row is not None else None


def event_index(db: Session, event_id: int) -> int:
    """The 0-based position of an event in the log (its Merkle leaf index)."""
    return int(db.scalar(select(func.count()).where(AuditEvent.id < event_id)) or 0)


# --- session hooks ----------------------------------------------------------------------


def _before_commit(session: Session) -> None:
    records = list(session.info.pop(PENDING, ())) + list(session.info.pop(REFUSALS, ()))
    if records:
        append_events(session, records, session.info.get(CUSTODY))


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    session.info.pop(PENDING, None)  # not committed: those events went with their changes
    refusals = session.info.pop(REFUSALS, None)
    factory = session.info.get(FACTORY)
    if not refusals or factory is None:
        return
    # A refused request's own transaction rolls back; its refusals are kept in a new one.
    try:
        with factory() as side:
            append_events(side, refusals, session.info.get(CUSTODY))
            side.commit()
    except Exception:  # never hide the refusal itself behind a logging failure
        logger.exception("could not record %d refusal audit event(s)", len(refusals))


def install(sessions: sessionmaker[Session], custody: Custody) -> None:
    """Chain every audit record of ``sessions`` at commit and keep refusals of rolled-back
    transactions (see :func:`labelproof.services.audit.record` and ``record_refusal``)."""
    sessions.configure(info={CUSTODY: custody, FACTORY: sessions})
    event.listen(sessions, "before_commit", _before_commit)
    event.listen(sessions, "after_transaction_end", _after_transaction_end)


def now() -> datetime:
    return datetime.now(UTC)
