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

The head row stays the truth. A runtime keeps the head its last commit wrote in memory
(:class:`HeadCache`) and appends with a compare-and-set: ``UPDATE audit_chain_head ... WHERE
size, last_id, last_hash and since_checkpoint are what the cache says``. One row updated: the
cache was right and the head read is saved; none: another process (or a checkpoint) moved
the head, so it is read, and the events chained again, under the same lock. The cache takes
a head only after the transaction that wrote it committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import orjson
from sqlalchemy import CursorResult, Table, bindparam, event, func, insert, select, text, update
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
HEAD_CACHE = "labelproof.audit_head_cache"
#: ``Session.info``: the head this session's open transaction wrote (cached once committed).
HEAD_WRITTEN = "labelproof.audit_head_written"
#: pg_advisory_xact_lock key of the audit chain ("lpaudit" as an integer).
LOCK_KEY = int.from_bytes(b"lpaudit", "big")
_HEAD = cast(Table, AuditChainHead.__table__)


@dataclass(frozen=True)
class Head:
    """The chain head as stored: size, last id and hash, frontier nodes, since checkpoint."""

    size: int
    last_id: int
    last_hash: bytes
    nodes: tuple[tuple[int, bytes], ...]
    since_checkpoint: int

    def frontier(self) -> MerkleFrontier:
        return MerkleFrontier(self.size, self.nodes)


class HeadCache:
    """The audit chain head a runtime last committed (thread-safe); only ever a guess that
    :func:`append_events` checks against the head row (compare-and-set)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._head: Head | None = None

    def get(self) -> Head | None:
        with self._lock:
            return self._head

    def offer(self, head: Head, *, read: bool = False) -> None:
        """Keep ``head`` (written by a committed transaction) unless a longer one is known;
        ``read``: it was chained on the head row as read, so it replaces whatever is cached
        (a longer cached head that the row no longer has, e.g. after a restore, goes)."""
        with self._lock:
            if read or self._head is None or head.size >= self._head.size:
                self._head = head

    def clear(self) -> None:
        with self._lock:
            self._head = None


def _lock(db: Session) -> None:
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def _read_head(db: Session) -> Head:
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
        return Head(0, 0, GENESIS_HASH, (), 0)
    return Head(
        int(row["size"]),
        int(row["last_id"]),
        bytes.fromhex(row["last_hash"]),
        tuple((int(h), bytes.fromhex(v)) for h, v in row["frontier"]),
        int(row["since_checkpoint"]),
    )


def _plain_json(details: dict[str, Any]) -> Any:
    """``details`` as the database will give it back (so the stored hash stays true)."""
    return orjson.loads(orjson.dumps(details, option=orjson.OPT_NON_STR_KEYS))


def _chain(
    records: Sequence[AuditRecord], head: Head, custody: Custody | None
) -> tuple[list[dict[str, Any]], Head, bool]:
    """The event rows chained after ``head``, the new head, and whether a checkpoint is due."""
    last_id, prev, frontier = head.last_id, head.last_hash, head.frontier()
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
    since = head.since_checkpoint + len(rows)
    due = custody is not None and since >= custody.checkpoint_every
    new = Head(frontier.size, last_id, prev, tuple(frontier.nodes), 0 if due else since)
    return rows, new, due


_EVENTS = insert(cast(Table, AuditEvent.__table__))
_HEAD_COLUMNS = ("size", "last_id", "last_hash", "frontier", "since_checkpoint")
#: The head moves only from the head this runtime last committed (compare-and-set).
_CAS = (
    update(_HEAD)
    .where(
        _HEAD.c.id == 1,
        *(_HEAD.c[c] == bindparam(f"was_{c}") for c in _HEAD_COLUMNS if c != "frontier"),
    )
    .values({c: bindparam(c) for c in _HEAD_COLUMNS})
)
_SET = update(_HEAD).where(_HEAD.c.id == 1).values({c: bindparam(c) for c in _HEAD_COLUMNS})


def _head_values(head: Head) -> dict[str, Any]:
    return {
        "size": head.size,
        "last_id": head.last_id,
        "last_hash": head.last_hash.hex(),
        "frontier": [[h, v.hex()] for h, v in head.nodes],
        "since_checkpoint": head.since_checkpoint,
    }


def append_events(db: Session, records: Sequence[AuditRecord], custody: Custody | None) -> None:
    """Chain and insert ``records`` in order, inside ``db``'s transaction (lock first).

    With a head cached by this runtime, the head row is moved by a compare-and-set and not
    read; if another writer moved it since, it is read and the records chained again."""
    if not records:
        return
    db.flush()
    _lock(db)
    cache: HeadCache | None = db.info.get(HEAD_CACHE)
    guess = cache.get() if cache is not None else None
    moved = False
    if guess is not None:
        rows, head, due = _chain(records, guess, custody)
        params = {**_head_values(head), **{f"was_{k}": v for k, v in _head_values(guess).items()}}
        moved = cast(CursorResult[Any], db.execute(_CAS, params)).rowcount == 1
    if not moved:
        rows, head, due = _chain(records, _read_head(db), custody)
        db.execute(_SET, _head_values(head))
    db.execute(_EVENTS, rows[0] if len(rows) == 1 else rows)
    if due and custody is not None:
        _store_checkpoint(db, custody, head.frontier(), head.last_hash)
    if cache is not None:
        db.info[HEAD_WRITTEN] = (head, not moved)


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
    head = _read_head(db)
    cp = _store_checkpoint(db, custody, head.frontier(), head.last_hash)
    db.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(since_checkpoint=0))
    db.info.pop(HEAD_WRITTEN, None)  # the cached head is now stale: the next append reads
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


def _after_commit(session: Session) -> None:
    written = session.info.pop(HEAD_WRITTEN, None)
    cache = session.info.get(HEAD_CACHE)
    if written is not None and cache is not None:
        head, read = written
        cache.offer(head, read=read)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    session.info.pop(HEAD_WRITTEN, None)  # rolled back: the row still holds the old head
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
    sessions.configure(info={CUSTODY: custody, FACTORY: sessions, HEAD_CACHE: HeadCache()})
    event.listen(sessions, "before_commit", _before_commit)
    event.listen(sessions, "after_commit", _after_commit)
    event.listen(sessions, "after_transaction_end", _after_transaction_end)


def now() -> datetime:
    return datetime.now(UTC)
