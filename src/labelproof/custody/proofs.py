"""Portable evidence: inclusion proofs for single events and whole-log export files.

An inclusion proof lets an auditor who holds only the public key check that one event is
in the log a signed checkpoint vouches for::

    {"format": "labelproof-inclusion-proof", "version": 1,
     "event": {<columns>, "prev_hash": hex, "entry_hash": hex},
     "leaf_index": i, "tree_size": n, "leaf_hash": hex, "path": [hex, ...],
     "checkpoint": {<Checkpoint.to_dict()>}}

A log export is ``{"format": "labelproof-audit-export", "version": 1, "entries": [...],
"checkpoints": [...]}`` with entries as :class:`~labelproof.custody.chain.AuditLog` stores
them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from labelproof.custody.chain import AuditLog, compute_entry_hash
from labelproof.custody.checkpoint import Checkpoint
from labelproof.custody.errors import InvalidProof
from labelproof.custody.merkle import leaf_hash, verify_inclusion
from labelproof.errors import InvalidFile, InvalidInput

__all__ = [
    "EXPORT_FORMAT",
    "PROOF_FORMAT",
    "ProofResult",
    "dump_export",
    "inclusion_proof_for",
    "load_export",
    "verify_proof",
]

PROOF_FORMAT = "labelproof-inclusion-proof"
EXPORT_FORMAT = "labelproof-audit-export"


def inclusion_proof_for(log: AuditLog, event_id: int, checkpoint: Checkpoint) -> dict[str, Any]:
    """A JSON-ready proof that event ``event_id`` is inside the tree ``checkpoint`` signs.

    The checkpoint must cover the event (``index < checkpoint.tree_size <= log.size``) and
    match this log (its root is recomputed).
    """
    index = log.index_of(event_id)
    size = checkpoint.tree_size
    if size > log.size:
        raise InvalidInput(
            f"checkpoint size {size} is beyond the log's {log.size} entries", field="checkpoint"
        )
    if index >= size:
        raise InvalidInput(
            f"event {event_id} (index {index}) is not covered by a checkpoint of size {size}",
            field="event_id",
        )
    tree = log.tree()
    if tree.root(size) != checkpoint.root:
        raise InvalidInput(
            f"checkpoint at size {size} does not match this log's root", field="checkpoint"
        )
    return {
        "format": PROOF_FORMAT,
        "version": 1,
        "event": dict(log.entries[index]),
        "leaf_index": index,
        "tree_size": size,
        "leaf_hash": tree.leaf_hash_at(index).hex(),
        "path": [p.hex() for p in tree.audit_path(index, size)],
        "checkpoint": checkpoint.to_dict(),
    }


@dataclass(frozen=True)
class ProofResult:
    """``ok`` with the proven event's id, or the reason the proof fails."""

    ok: bool
    reason: str
    event_id: int | None = None
    checkpoint: Checkpoint | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reason": self.reason,
            "event_id": self.event_id,
            "checkpoint": self.checkpoint.to_dict() if self.checkpoint else None,
        }


def _load_doc(doc: Mapping[str, Any] | str | bytes, what: str) -> Mapping[str, Any]:
    if isinstance(doc, str | bytes):
        try:
            doc = orjson.loads(doc)
        except orjson.JSONDecodeError as exc:
            raise InvalidProof(f"{what} is not JSON: {exc}", field=what) from None
    if not isinstance(doc, Mapping):
        raise InvalidProof(f"{what} must be a JSON object", field=what)
    return doc


def verify_proof(
    proof: Mapping[str, Any] | str | bytes, public_key: Ed25519PublicKey
) -> ProofResult:
    """Check an inclusion proof with nothing but the public key.

    Raises :class:`InvalidProof` for a document that is not a proof; returns ``ok=False``
    with a reason for a proof that is well-formed but false.
    """
    doc = _load_doc(proof, "proof")
    if doc.get("format") != PROOF_FORMAT or doc.get("version") != 1:
        raise InvalidProof(
            f"not a {PROOF_FORMAT} v1 document (format={doc.get('format')!r})", field="format"
        )
    checkpoint = Checkpoint.from_dict(doc.get("checkpoint"))
    event = doc.get("event")
    index, size, path = doc.get("leaf_index"), doc.get("tree_size"), doc.get("path")
    if not isinstance(event, Mapping):
        raise InvalidProof("event must be an object", field="event")
    if not isinstance(index, int) or not isinstance(size, int):
        raise InvalidProof("leaf_index and tree_size must be integers", field="leaf_index")
    if not isinstance(path, list):
        raise InvalidProof("path must be a list of hex hashes", field="path")
    try:
        path_bytes = [bytes.fromhex(p) for p in path]
        prev = bytes.fromhex(event["prev_hash"])
        stated = bytes.fromhex(event["entry_hash"])
        stated_leaf = bytes.fromhex(doc.get("leaf_hash", ""))
    except (TypeError, ValueError, KeyError) as exc:
        raise InvalidProof(f"proof hashes are not hex: {exc}", field="path") from None
    event_id = event.get("id")
    eid = event_id if isinstance(event_id, int) else None
    if not checkpoint.verify_signature(public_key):
        return ProofResult(False, "the checkpoint is not signed by this public key", eid)
    if size != checkpoint.tree_size:
        return ProofResult(False, "tree_size differs from the signed checkpoint's", eid)
    try:
        recomputed = compute_entry_hash(event, prev)
    except InvalidInput as exc:
        raise InvalidProof(f"event is malformed: {exc.message}", field="event") from None
    if recomputed != stated:
        return ProofResult(False, "the event's content does not match its entry hash", eid)
    leaf = leaf_hash(recomputed)
    if stated_leaf and stated_leaf != leaf:
        return ProofResult(False, "leaf_hash is not the hash of the entry", eid)
    if not verify_inclusion(leaf, index, size, path_bytes, checkpoint.root):
        return ProofResult(False, "the audit path does not lead to the signed root", eid)
    return ProofResult(True, f"event {eid} is entry {index} of {size} signed", eid, checkpoint)


def dump_export(entries: Sequence[Mapping[str, Any]], checkpoints: Sequence[Checkpoint]) -> bytes:
    """An export document (JSON bytes) of stored entries and signed checkpoints."""
    return orjson.dumps(
        {
            "format": EXPORT_FORMAT,
            "version": 1,
            "entries": list(entries),
            "checkpoints": [c.to_dict() for c in checkpoints],
        }
    )


def load_export(source: Path | bytes) -> tuple[list[dict[str, Any]], list[Checkpoint]]:
    """Entries and checkpoints of an export document (a path or its bytes)."""
    if isinstance(source, Path):
        try:
            source = source.read_bytes()
        except OSError as exc:
            raise InvalidFile(f"cannot read audit export: {exc}", field="file") from None
    try:
        doc = orjson.loads(source)
    except orjson.JSONDecodeError as exc:
        raise InvalidFile(f"audit export is not JSON: {exc}", field="file") from None
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise InvalidFile(f"not a {EXPORT_FORMAT} document", field="format")
    if doc.get("version") != 1:
        raise InvalidFile(f"unsupported export version {doc.get('version')!r}", field="version")
    entries, checkpoints = doc.get("entries"), doc.get("checkpoints")
    if not isinstance(entries, list) or not isinstance(checkpoints, list):
        raise InvalidFile("entries and checkpoints must be lists", field="entries")
    return entries, [Checkpoint.from_dict(c) for c in checkpoints]
