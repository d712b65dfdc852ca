"""Verifying the stored audit log, and inclusion proofs of single events for auditors."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from labelproof.custody.chain import VerifyReport, verify_log
from labelproof.custody.checkpoint import Checkpoint
from labelproof.custody.merkle import MerkleTree
from labelproof.custody.proofs import PROOF_FORMAT
from labelproof.errors import Conflict, NotFound
from labelproof.services.audit import AuditAction, AuditRecord, record
from labelproof.services.context import Actor, Runtime
from labelproof.services.custody import chain
from labelproof.services.permissions import Action, authorize, require_org_admin
from labelproof.store.models import AuditEvent

__all__ = ["checkpoint_now", "inclusion_proof", "verify_stored_log"]


def verify_stored_log(db: Session, public_key: Ed25519PublicKey) -> VerifyReport:
    """Check every stored event and signed checkpoint; the report names the first fault."""
    entries = chain.read_entries(db)
    return verify_log(entries, chain.read_checkpoints(db), public_key)


def checkpoint_now(rt: Runtime, actor: Actor | None = None) -> Checkpoint:
    """Sign a checkpoint of the whole log now (org admins, or the CLI operator)."""
    with rt.write() as db:
        if actor is not None:
            require_org_admin(actor, actor.org_id)
        cp = chain.make_checkpoint(db, rt.custody)
        record(
            db,
            AuditRecord(
                AuditAction.AUDIT_CHECKPOINT,
                "audit_log",
                str(cp.tree_size),
                actor.user_id if actor else None,
                actor.request_id if actor else "cli",
                details={"tree_size": cp.tree_size, "root": cp.root.hex()},
            ),
        )
    return cp


def _covering(db: Session, index: int) -> Checkpoint | None:
    latest = chain.latest_checkpoint(db)
    return latest if latest is not None and latest.tree_size > index else None


def inclusion_proof(rt: Runtime, actor: Actor, *, project_id: int, event_id: int) -> dict[str, Any]:
    """A ``labelproof-inclusion-proof`` document for one event of a project.

    The proof is against the newest signed checkpoint; when none covers the event yet, one
    is signed now. Verify it offline with ``labelproof audit proof-verify`` and the
    installation's public key.
    """
    with rt.read() as db:
        authorize(db, actor, project_id, Action.AUDIT_READ)
        row = db.get(AuditEvent, event_id)
        if row is None or row.project_id != project_id:
            raise NotFound(f"audit event {event_id} not found in project {project_id}")
        index = chain.event_index(db, event_id)
        checkpoint = _covering(db, index)
    if checkpoint is None:
        with rt.write() as db:
            checkpoint = chain.make_checkpoint(db, rt.custody)
    with rt.read() as db:
        size = checkpoint.tree_size
        hashes = db.scalars(select(AuditEvent.entry_hash).order_by(AuditEvent.id).limit(size))
        packed = b"".join(bytes.fromhex(h or "00" * 32) for h in hashes)
        event = chain.entry_dict(db.get(AuditEvent, event_id))
    if len(packed) != 32 * size:
        raise Conflict(
            f"the log has fewer entries than its checkpoint of size {size}; "
            "run labelproof audit verify"
        )
    tree = MerkleTree.from_packed_leaves(packed)
    if tree.root(size) != checkpoint.root:
        raise Conflict(
            f"the stored log does not match its signed checkpoint of size {size}; "
            "run labelproof audit verify"
        )
    return {
        "format": PROOF_FORMAT,
        "version": 1,
        "event": event,
        "leaf_index": index,
        "tree_size": size,
        "leaf_hash": tree.leaf_hash_at(index).hex(),
        "path": [p.hex() for p in tree.audit_path(index, size)],
        "checkpoint": checkpoint.to_dict(),
    }
