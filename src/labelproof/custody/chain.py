"""The audit log as a hash chain plus an RFC 6962 Merkle tree, and its verification.

Entry hashing (one rule, used by the writer and every verifier):

- ``canonical(event, prev_hash)`` is sorted-key compact JSON (orjson ``OPT_SORT_KEYS``,
  nested keys sorted too) of every audit column, :data:`EVENT_FIELDS`, plus ``prev_hash``
  (64 hex). ``at`` is written ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC.
- ``entry_hash = SHA-256(prev_hash || canonical)`` with ``prev_hash`` the previous entry's
  hash (32 raw bytes), :data:`GENESIS_HASH` (32 zero bytes) for the first entry.
- Merkle leaf ``i`` is ``entry_hash[i]`` (leaf-hashed per RFC 6962), so a signed checkpoint
  of (size, root, last entry hash) pins every entry before it.

A stored or exported entry is the columns plus ``prev_hash`` and ``entry_hash`` (hex). Both
are optional for :func:`verify_log`; with them it names the exact entry that was edited or
whose predecessor was deleted, without them only checkpoints can catch a change.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from labelproof.custody.checkpoint import Checkpoint, format_utc, parse_utc, sign_checkpoint
from labelproof.custody.merkle import MerkleFrontier, MerkleTree, verify_consistency
from labelproof.errors import InvalidInput

__all__ = [
    "EVENT_FIELDS",
    "GENESIS_HASH",
    "AuditLog",
    "Failure",
    "FailureKind",
    "VerifyReport",
    "canonical_bytes",
    "compute_entry_hash",
    "verify_log",
]

EVENT_FIELDS = (
    "id",
    "at",
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "project_id",
    "request_id",
    "details",
)
GENESIS_HASH = bytes(32)
_sha256 = hashlib.sha256
_SORT = orjson.OPT_SORT_KEYS


def _canonical_at(value: Any) -> str:
    if isinstance(value, datetime):
        return format_utc(value)
    if isinstance(value, str):
        if len(value) == 27 and value[10] == "T" and value[-1] == "Z":
            return value
        return format_utc(parse_utc(value))
    raise InvalidInput(f"audit event time must be a datetime or ISO string: {value!r}", field="at")


def canonical_bytes(event: Mapping[str, Any], prev_hash: bytes) -> bytes:
    """The canonical encoding of ``event`` chained after ``prev_hash`` (32 bytes)."""
    return _canonical(event, prev_hash.hex())


def _canonical(event: Mapping[str, Any], prev_hex: str) -> bytes:
    try:
        doc = {name: event[name] for name in EVENT_FIELDS}
    except KeyError as exc:
        raise InvalidInput(f"audit event lacks column {exc.args[0]!r}", field=exc.args[0]) from None
    doc["at"] = _canonical_at(doc["at"])
    doc["prev_hash"] = prev_hex
    try:
        return orjson.dumps(doc, option=_SORT)
    except TypeError as exc:
        raise InvalidInput(f"audit event is not JSON-encodable: {exc}", field="details") from None


def compute_entry_hash(event: Mapping[str, Any], prev_hash: bytes) -> bytes:
    """``SHA-256(prev_hash || canonical_bytes(event, prev_hash))``, 32 bytes."""
    return _sha256(prev_hash + canonical_bytes(event, prev_hash)).digest()


class AuditLog:
    """An in-memory chain: append events, sign checkpoints, export, prove inclusion.

    The server keeps the same values in its rows; this class is the reference writer used by
    exports, tests and benchmarks.
    """

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self._hashes = bytearray()
        self._index_of: dict[int, int] = {}
        self.frontier = MerkleFrontier()

    @property
    def size(self) -> int:
        return len(self.entries)

    @property
    def last_hash(self) -> bytes:
        return bytes(self._hashes[-32:]) if self._hashes else GENESIS_HASH

    def append(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Chain ``event`` (a mapping with every :data:`EVENT_FIELDS` column) and return the
        stored entry: columns (``at`` canonical) plus ``prev_hash`` and ``entry_hash`` hex."""
        prev = self.last_hash
        entry = {name: event[name] for name in EVENT_FIELDS if name in event}
        canonical = canonical_bytes(event, prev)
        digest = _sha256(prev + canonical).digest()
        entry["at"] = _canonical_at(event["at"])
        entry["prev_hash"] = prev.hex()
        entry["entry_hash"] = digest.hex()
        self._index_of[int(entry["id"])] = len(self.entries)
        self.entries.append(entry)
        self._hashes += digest
        self.frontier.append(digest)
        return entry

    def tree(self) -> MerkleTree:
        return MerkleTree.from_packed_leaves(bytes(self._hashes))

    def checkpoint(self, private_key: Ed25519PrivateKey, at: datetime | None = None) -> Checkpoint:
        """A signed checkpoint of the whole log as it stands."""
        return sign_checkpoint(
            tree_size=self.size,
            root=self.frontier.root(),
            last_entry_hash=self.last_hash,
            private_key=private_key,
            at=at,
        )

    def index_of(self, event_id: int) -> int:
        try:
            return self._index_of[event_id]
        except KeyError:
            raise InvalidInput(f"no audit event with id {event_id}", field="event_id") from None


class FailureKind(StrEnum):
    EDITED = "edited"  # an entry's content no longer matches its stored hash
    DELETED = "deleted"  # an id gap, or a broken link after which ids jump
    CHAIN_BREAK = "chain_break"  # prev_hash does not match the previous entry (no id gap)
    REORDERED = "reordered"  # ids not strictly increasing
    TRUNCATED = "truncated"  # a signed checkpoint covers more entries than the log has
    FORK = "fork"  # a signed root disagrees with the log, or two checkpoints disagree
    BAD_SIGNATURE = "bad_signature"  # a checkpoint not signed by the given key
    MALFORMED = "malformed"  # an entry lacking a column or with a wrong type


@dataclass(frozen=True)
class Failure:
    """The first thing wrong with the log. ``entry_id``/``index`` name the first bad entry
    (for a fork, the first entry after the last checkpoint that still matched)."""

    kind: FailureKind
    message: str
    entry_id: int | None = None
    index: int | None = None
    checkpoint_size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "message": self.message,
            "entry_id": self.entry_id,
            "index": self.index,
            "checkpoint_size": self.checkpoint_size,
        }


@dataclass(frozen=True)
class VerifyReport:
    """``entries``: entries whose chain verified; ``checkpoints``: checkpoints that matched."""

    ok: bool
    entries: int
    checkpoints: int
    root: str
    failure: Failure | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "root": self.root,
            "failure": self.failure.to_dict() if self.failure else None,
        }


def _stored_hash(entry: Mapping[str, Any], name: str) -> bytes | None:
    value = entry.get(name)
    if value is None:
        return None
    raw = bytes.fromhex(value)
    if len(raw) != 32:
        raise ValueError(f"{name} must be 32 bytes")
    return raw


def _walk_chain(
    events: Iterable[Mapping[str, Any]], allow_id_gaps: bool
) -> tuple[bytes, array[int], Failure | None]:
    """Entry hashes (packed) and ids of the good prefix, and the first chain failure."""
    hashes: list[bytes] = []
    ids: array[int] = array("q")
    prev = GENESIS_HASH
    prev_hex = prev.hex()
    last_id: int | None = None
    sha = _sha256
    for index, event in enumerate(events):
        eid = event.get("id") if isinstance(event, Mapping) else None
        if not isinstance(eid, int) or isinstance(eid, bool):
            msg = f"entry {index} has no integer id"
            return b"".join(hashes), ids, Failure(FailureKind.MALFORMED, msg, None, index)
        if last_id is not None and eid <= last_id:
            msg = f"entry id {eid} follows id {last_id}: entries are out of order"
            return b"".join(hashes), ids, Failure(FailureKind.REORDERED, msg, eid, index)
        expected = eid if last_id is None else last_id + 1
        gap = eid != expected
        stored_prev_text = event.get("prev_hash")
        stored_text = event.get("entry_hash")
        try:
            canonical = _canonical(event, prev_hex)
            # Stored hashes are compared as text first (the common, matching case); only a
            # mismatch is decoded, so upper-case hex still compares equal.
            stored_prev = None
            if stored_prev_text is not None and stored_prev_text != prev_hex:
                stored_prev = _stored_hash(event, "prev_hash")
        except (InvalidInput, ValueError, TypeError) as exc:
            msg = f"entry id {eid} is malformed: {exc}"
            return b"".join(hashes), ids, Failure(FailureKind.MALFORMED, msg, eid, index)
        if stored_prev is not None and stored_prev != prev:
            if gap:
                msg = f"ids {expected}..{eid - 1} are missing and the chain breaks at id {eid}"
                return b"".join(hashes), ids, Failure(FailureKind.DELETED, msg, eid, index)
            msg = (
                f"entry id {eid} does not link to the entry before it"
                " (an entry was removed or replaced)"
            )
            return b"".join(hashes), ids, Failure(FailureKind.CHAIN_BREAK, msg, eid, index)
        if gap and not allow_id_gaps:
            msg = f"ids {expected}..{eid - 1} are missing before id {eid}"
            return b"".join(hashes), ids, Failure(FailureKind.DELETED, msg, eid, index)
        digest = sha(prev + canonical).digest()
        digest_hex = digest.hex()
        if stored_text is not None and stored_text != digest_hex:
            try:
                stored = _stored_hash(event, "entry_hash")
            except (ValueError, TypeError) as exc:
                msg = f"entry id {eid} is malformed: {exc}"
                return b"".join(hashes), ids, Failure(FailureKind.MALFORMED, msg, eid, index)
            if stored != digest:
                plain_gap = gap and stored_prev_text is None
                kind = FailureKind.DELETED if plain_gap else FailureKind.EDITED
                msg = f"entry id {eid} does not match its stored hash (content changed)"
                if plain_gap:
                    msg = f"entry id {eid} does not match its stored hash after missing ids"
                return b"".join(hashes), ids, Failure(kind, msg, eid, index)
        hashes.append(digest)
        ids.append(eid)
        prev, prev_hex = digest, digest_hex
        last_id = eid
    return b"".join(hashes), ids, None


def _reclassify_gap(
    failure: Failure, ids: array[int], rest: Iterable[Mapping[str, Any]]
) -> Failure:
    """A "deleted" gap whose missing ids turn up later is a reordering, not a deletion."""
    low = ids[-1] + 1 if ids else None
    high = failure.entry_id
    if low is None or high is None:
        return failure
    for event in rest:
        eid = event.get("id") if isinstance(event, Mapping) else None
        if isinstance(eid, int) and low <= eid < high:
            msg = f"entry id {high} comes before id {eid}: entries are out of order"
            return Failure(FailureKind.REORDERED, msg, high, failure.index)
    return failure


def verify_log(
    events: Iterable[Mapping[str, Any]],
    checkpoints: Sequence[Checkpoint],
    public_key: Ed25519PublicKey,
    *,
    allow_id_gaps: bool = False,
) -> VerifyReport:
    """Verify an audit log (in id order) against signed checkpoints; name the first fault.

    ``events`` are mappings with every :data:`EVENT_FIELDS` column and, optionally, the stored
    ``prev_hash``/``entry_hash`` (hex). ``allow_id_gaps`` accepts id gaps whose chain links
    hold (a PostgreSQL sequence skips ids of rolled-back transactions); a deletion still shows
    as a broken link or as a checkpoint mismatch. Checks, in log order: ids increase; each
    stored link and hash matches; every checkpoint is signed by ``public_key``; two
    checkpoints of one size agree; each checkpoint's root and last hash equal the recomputed
    ones at its size, consecutive checkpoints are consistent (RFC 9162 §2.1.4); the log is
    not shorter than any checkpoint. Runs in one pass plus one Merkle build.
    """
    iterator = iter(events)
    packed, ids, chain_failure = _walk_chain(iterator, allow_id_gaps)
    if chain_failure is not None and chain_failure.kind is FailureKind.DELETED:
        chain_failure = _reclassify_gap(chain_failure, ids, iterator)
    n = len(ids)
    tree = MerkleTree.from_packed_leaves(packed)
    full_root = tree.root().hex()

    def report(failure: Failure | None, good_checkpoints: int) -> VerifyReport:
        return VerifyReport(failure is None, n, good_checkpoints, full_root, failure)

    ordered = sorted(checkpoints, key=lambda c: c.tree_size)
    for cp in ordered:
        if not cp.verify_signature(public_key):
            msg = (
                f"checkpoint at size {cp.tree_size} (key {cp.key_id}) is not validly signed"
                " by the given public key"
            )
            return report(Failure(FailureKind.BAD_SIGNATURE, msg, checkpoint_size=cp.tree_size), 0)
    for a, b in pairwise(ordered):
        if a.tree_size == b.tree_size and (a.root, a.last_entry_hash) != (
            b.root,
            b.last_entry_hash,
        ):
            msg = f"two signed checkpoints at size {a.tree_size} disagree (equivocation)"
            return report(Failure(FailureKind.FORK, msg, checkpoint_size=a.tree_size), 0)

    good = 0
    good_size = 0
    previous: Checkpoint | None = None
    for cp in ordered:
        size = cp.tree_size
        if size > n:
            if chain_failure is not None:
                return report(chain_failure, good)
            first_missing = ids[-1] + 1 if n else None
            msg = (
                f"the log has {n} entries but a checkpoint signed {format_utc(cp.at)} covers {size}"
            )
            return report(Failure(FailureKind.TRUNCATED, msg, first_missing, n, size), good)
        last = packed[(size - 1) * 32 : size * 32] if size else GENESIS_HASH
        if tree.root(size) != cp.root or last != cp.last_entry_hash:
            first_id = ids[good_size] if good_size < n else None
            msg = (
                f"the log's entries {good_size}..{size - 1} differ from the checkpoint signed"
                f" {format_utc(cp.at)} at size {size}"
            )
            return report(Failure(FailureKind.FORK, msg, first_id, good_size, size), good)
        if previous is not None and previous.tree_size < size:
            proof = tree.consistency_proof(previous.tree_size, size)
            if not verify_consistency(previous.tree_size, size, previous.root, cp.root, proof):
                msg = f"checkpoints at sizes {previous.tree_size} and {size} are not consistent"
                return report(Failure(FailureKind.FORK, msg, None, None, size), good)
        good += 1
        good_size = size
        previous = cp
    return report(chain_failure, good)
