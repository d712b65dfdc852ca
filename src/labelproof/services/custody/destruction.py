"""Destroying a project: two people, crypto-shredding, and a signed certificate.

One admin requests (``request_destruction``), a different person with the same right
approves (``approve_destruction``), and the approval carries it out in this order:

1. One write transaction: the inventory (rows per table, every blob's digest and size, the
   data key's id and the SHA-256 of its wrapped form) is taken, the wrapped data key is
   deleted (crypto-shredding: every sealed blob and derived file becomes unreadable), every
   row of the project is deleted, and a ``project.destroyed`` audit event is appended.
2. The project's blob, tile and thumbnail folders are deleted (they are ciphertext whose key
   no longer exists).
3. SQLite: the write-ahead log is checkpointed and truncated and the file is vacuumed, so
   deleted rows do not linger in free pages. PostgreSQL: the tables are vacuumed.
4. An audit checkpoint covering the destruction event is signed, and the certificate (what,
   when, how, by whom, counts and hashes, the checkpoint) is signed, stored in
   ``destruction_certificates`` and written to ``<data_dir>/certificates/<id>.json``.

Audit events of the project are kept: they are the evidence, and removing them would break
the chain. They hold ids, hashes, sizes and the names of uploaded files.

A destruction scheduled by retention (``retention.py``: status ``scheduled`` with a
``due_at``) is approved the same way, by a person other than the one who closed the project
and holding the destroy right; approval then only marks it ``approved``, and
``retention.run_due`` carries it out once it is due, with the same steps and certificate.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from labelproof.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from labelproof.services.accounts import actor_for
from labelproof.services.audit import AuditAction, AuditRecord, record
from labelproof.services.context import Actor, Runtime
from labelproof.services.custody import chain
from labelproof.services.custody.certificate import sign_certificate
from labelproof.services.permissions import Action, authorize
from labelproof.store import qa_models as qa
from labelproof.store.custody_models import (
    DestructionCertificate,
    DestructionRequest,
    ProjectKey,
    ProjectPreviousKey,
)
from labelproof.store.models import (
    AnnotationRevision,
    Asset,
    AuditEvent,
    Membership,
    Project,
    SchemaVersion,
    Task,
    User,
)

__all__ = ["approve_destruction", "get_certificate", "request_destruction"]

STANDARD = "NIST SP 800-88 Rev. 1"


def request_destruction(
    db: Session, actor: Actor, *, project_id: int, reason: str
) -> DestructionRequest:
    """Ask for a project's destruction; a second person must approve it."""
    project = authorize(db, actor, project_id, Action.PROJECT_DESTROY)
    if not reason.strip() or len(reason) > 2000:
        raise InvalidInput("reason must be 1-2000 characters", field="reason")
    req = DestructionRequest(
        project_id=project.id,
        org_id=project.org_id,
        requested_by=actor.user_id,
        reason=reason.strip(),
        status="pending",
    )
    db.add(req)
    db.flush()
    record(
        db,
        AuditRecord(
            AuditAction.DESTRUCTION_REQUESTED,
            "project",
            str(project.id),
            actor.user_id,
            actor.request_id,
            project.id,
            {"request_id": req.id, "reason": req.reason},
        ),
    )
    return req


def _project_rows(db: Session, project_id: int) -> list[tuple[str, Any]]:
    """(table, DELETE statement) in an order the foreign keys accept."""
    tasks = select(Task.id).where(Task.project_id == project_id)
    assignments = select(qa.QaAssignment.id).where(qa.QaAssignment.project_id == project_id)
    batches = select(qa.QaBatch.id).where(qa.QaBatch.project_id == project_id)
    escalations = select(qa.QaEscalation.id).where(qa.QaEscalation.project_id == project_id)
    return [
        (
            "qa_escalation_answers",
            delete(qa.QaEscalationAnswer).where(
                qa.QaEscalationAnswer.escalation_id.in_(escalations)
            ),
        ),
        ("qa_escalations", delete(qa.QaEscalation).where(qa.QaEscalation.project_id == project_id)),
        (
            "qa_task_results",
            delete(qa.QaTaskResult).where(qa.QaTaskResult.project_id == project_id),
        ),
        (
            "qa_qualifications",
            delete(qa.QaQualification).where(qa.QaQualification.project_id == project_id),
        ),
        ("qa_events", delete(qa.QaEvent).where(qa.QaEvent.project_id == project_id)),
        ("qa_revisions", delete(qa.QaRevision).where(qa.QaRevision.assignment_id.in_(assignments))),
        ("qa_assignments", delete(qa.QaAssignment).where(qa.QaAssignment.project_id == project_id)),
        ("qa_answers", delete(qa.QaAnswer).where(qa.QaAnswer.task_id.in_(tasks))),
        ("qa_batch_tasks", delete(qa.QaBatchTask).where(qa.QaBatchTask.batch_id.in_(batches))),
        ("qa_batches", delete(qa.QaBatch).where(qa.QaBatch.project_id == project_id)),
        (
            "qa_sop_versions",
            delete(qa.QaSopVersion).where(qa.QaSopVersion.project_id == project_id),
        ),
        ("qa_policies", delete(qa.QaPolicy).where(qa.QaPolicy.project_id == project_id)),
        (
            "annotation_revisions",
            delete(AnnotationRevision).where(AnnotationRevision.task_id.in_(tasks)),
        ),
        ("tasks", delete(Task).where(Task.project_id == project_id)),
        ("assets", delete(Asset).where(Asset.project_id == project_id)),
        ("schema_versions", delete(SchemaVersion).where(SchemaVersion.project_id == project_id)),
        ("memberships", delete(Membership).where(Membership.project_id == project_id)),
        (
            "project_previous_keys",
            delete(ProjectPreviousKey).where(ProjectPreviousKey.project_id == project_id),
        ),
        ("project_keys", delete(ProjectKey).where(ProjectKey.project_id == project_id)),
        ("projects", delete(Project).where(Project.id == project_id)),
    ]


def _person(user: User | None, user_id: int) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "email": user.email if user else None,
        "name": user.display_name if user else None,
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def approve_destruction(rt: Runtime, approver: Actor, *, request_id: int) -> dict[str, Any]:
    """Approve a pending request (a different person than the requester) and destroy the
    project; returns the signed certificate of destruction.

    A request scheduled by retention is only marked approved (it is carried out when due by
    ``retention.run_due``); the answer is then ``{"request_id", "status": "approved",
    "due_at"}``.
    """
    with rt.read() as db:
        req = db.get(DestructionRequest, request_id)
        if req is None:
            raise NotFound(f"destruction request {request_id} not found")
        try:
            authorize(db, approver, req.project_id, Action.PROJECT_DESTROY)
        except NotFound:
            raise NotFound(f"destruction request {request_id} not found") from None
        if req.status not in ("pending", "scheduled"):
            raise Conflict(f"destruction request {request_id} is {req.status}, not pending")
        if approver.user_id == req.requested_by:
            raise PermissionDenied(
                "a second person must approve a destruction; you requested this one"
            )
        scheduled = req.status == "scheduled"
        if not scheduled:
            requester_user = db.get(User, req.requested_by)
            if requester_user is None:
                raise Conflict("the requester no longer exists; request the destruction again")
            requester = actor_for(requester_user, approver.request_id)
            authorize(db, requester, req.project_id, Action.PROJECT_DESTROY)
    if scheduled:
        from labelproof.services.custody.retention import approve_scheduled

        return approve_scheduled(rt, approver, request_id=request_id)
    return _destroy(rt, request_id, requester, approver)


def _destroy(
    rt: Runtime,
    request_id: int,
    requester: Actor,
    approver: Actor,
    *,
    expected: str = "pending",
    schedule: dict[str, Any] | None = None,
) -> dict[str, Any]:
    cert_id = str(uuid.uuid4())
    with rt.write() as db:
        req = db.get(DestructionRequest, request_id, with_for_update=True)
        if req is None or req.status != expected:
            raise Conflict(f"destruction request {request_id} is no longer {expected}")
        project = authorize(db, approver, req.project_id, Action.PROJECT_DESTROY)
        pid = project.id
        subject = {
            "organization_id": project.org_id,
            "project_id": pid,
            "project_name": project.name,
            "classification": project.classification,
            "vertical": project.vertical,
            "created_at": project.created_at.astimezone(UTC).isoformat(),
        }
        key_row = db.scalar(select(ProjectKey).where(ProjectKey.project_id == pid))
        previous_ids = sorted(
            db.scalars(
                select(ProjectPreviousKey.key_id).where(ProjectPreviousKey.project_id == pid)
            )
        )
        assets = list(
            db.execute(select(Asset.sha256, Asset.size_bytes).where(Asset.project_id == pid))
        )
        blobs = rt.blobs.sealed_digests(pid)
        counts: dict[str, int] = {}
        for table, statement in _project_rows(db, pid):
            counts[table] = int(db.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
        rt.custody.forget(pid)
        req.status = "done"
        req.approved_by = approver.user_id
        req.certificate_id = cert_id
        req.decided_at = datetime.now(UTC)
        digests = sorted({sha for sha, _size in blobs})
        destroyed: dict[str, Any] = {
            "rows": counts,
            "blobs": {
                "count": len(blobs),
                "stored_bytes": sum(size for _sha, size in blobs),
                "plaintext_bytes": sum(int(s) for _sha, s in assets),
                "sha256": digests,
                "sha256_of_list": hashlib.sha256("\n".join(digests).encode()).hexdigest(),
            },
            "data_key": {
                "key_id": key_row.key_id if key_row else None,
                "algorithm": "AES-256-GCM",
                "wrapped_sha256": hashlib.sha256(key_row.wrapped).hexdigest() if key_row else None,
                "previous_key_ids": previous_ids,
            },
        }
        record(
            db,
            AuditRecord(
                AuditAction.PROJECT_DESTROYED,
                "project",
                str(pid),
                approver.user_id,
                approver.request_id,
                pid,
                {
                    "certificate_id": cert_id,
                    "request_id": request_id,
                    "requested_by": requester.user_id,
                    "rows": counts,
                    "blobs": len(blobs),
                    "key_id": destroyed["data_key"]["key_id"],
                },
            ),
        )
        people = {
            "performed_by": _person(db.get(User, approver.user_id), approver.user_id),
            "approved_by": _person(db.get(User, approver.user_id), approver.user_id),
            "requested": {
                **_person(db.get(User, requester.user_id), requester.user_id),
                "at": req.created_at.astimezone(UTC).isoformat(),
                "reason": req.reason,
            },
        }
    removed_files = _remove_files(rt, pid)
    compacted = _compact_database(rt)
    with rt.write() as db:
        checkpoint = chain.make_checkpoint(db, rt.custody)
        event_id = db.scalar(
            select(func.max(AuditEvent.id)).where(
                AuditEvent.action == str(AuditAction.PROJECT_DESTROYED),
                AuditEvent.project_id == pid,
            )
        )
        document = sign_certificate(
            {
                "certificate_id": cert_id,
                "standard": STANDARD,
                "subject": subject,
                "sanitization": {
                    "category": "Purge",
                    "technique": "Cryptographic Erase",
                    "description": (
                        "the project's AES-256-GCM data key (wrapped by the master key) was "
                        "deleted; its encrypted blobs, tiles and thumbnails were deleted; "
                        "every row of the project was deleted"
                    ),
                    "tool": "labelproof",
                    "media": "labelproof data directory and database",
                },
                "destroyed": {**destroyed, "derived_files": removed_files["derived"]},
                **people,
                "completed_at": _now(),
                "verification": {
                    "method": "re-read after deletion",
                    "data_key_row_absent": _key_absent(rt, pid),
                    "blob_folder_absent": not rt.blobs.project_root(pid).exists(),
                    "project_row_absent": _project_absent(rt, pid),
                    "database_compacted": compacted,
                },
                "audit": {"event_id": event_id, "checkpoint": checkpoint.to_dict()},
                **({"retention": schedule} if schedule is not None else {}),
            },
            rt.custody.signing_key(),
        )
        db.add(
            DestructionCertificate(
                certificate_id=cert_id,
                org_id=subject["organization_id"],
                project_id=pid,
                document=document,
            )
        )
    _write_certificate_file(rt, cert_id, document)
    return document


def _remove_files(rt: Runtime, project_id: int) -> dict[str, int]:
    derived = 0
    for kind in ("tiles", "thumbs"):
        folder = rt.settings.data_dir / kind / str(project_id)
        if folder.exists():
            derived += sum(1 for p in folder.rglob("*") if p.is_file())
            shutil.rmtree(folder)
    root = rt.blobs.project_root(project_id)
    if root.exists():
        shutil.rmtree(root)
    return {"derived": derived}


def _compact_database(rt: Runtime) -> bool:
    """Leave no deleted row in free pages or the write-ahead log (best effort on PostgreSQL)."""
    if rt.settings.is_sqlite:
        with rt.writer_lock:
            raw = rt.engine.raw_connection()
            try:
                cur = raw.cursor()
                cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                cur.execute("VACUUM")
                busy = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                cur.close()
            finally:
                raw.close()
        return bool(busy is not None and busy[0] == 0)
    with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in (
            "annotation_revisions",
            "assets",
            "tasks",
            "qa_revisions",
            "qa_answers",
            "qa_task_results",
            "projects",
            "project_keys",
        ):
            conn.execute(text(f"VACUUM {table}"))
    return True


def _key_absent(rt: Runtime, project_id: int) -> bool:
    with rt.read() as db:
        return db.scalar(select(ProjectKey.id).where(ProjectKey.project_id == project_id)) is None


def _project_absent(rt: Runtime, project_id: int) -> bool:
    with rt.read() as db:
        return db.get(Project, project_id) is None


def _write_certificate_file(rt: Runtime, cert_id: str, document: dict[str, Any]) -> None:
    folder = rt.settings.certificate_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{cert_id}.json"
    tmp = folder / f".{cert_id}.json.tmp"
    tmp.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    os.replace(tmp, path)


def get_certificate(db: Session, actor: Actor, *, certificate_id: str) -> dict[str, Any]:
    """A stored certificate (organisation admins of the project's organisation)."""
    from labelproof.services.permissions import require_org_admin

    row = db.scalar(
        select(DestructionCertificate).where(
            DestructionCertificate.certificate_id == certificate_id
        )
    )
    if row is None or (row.org_id != actor.org_id and not actor.is_superuser):
        raise NotFound(f"certificate {certificate_id} not found")
    require_org_admin(actor, row.org_id)
    return dict(row.document)
