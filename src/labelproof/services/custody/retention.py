"""Retention: closing a project schedules its destruction; due destructions are carried out.

- :func:`close_project` (program managers and admins, ``Action.PROJECT_CLOSE``) sets
  ``projects.closed_at`` and ``retention_days`` (default ``LABELPROOF_RETENTION_DAYS``, 30)
  and files a destruction request with status ``scheduled`` and ``due_at`` = closing time +
  retention days.
- The usual second person approves it **before** it is due
  (``POST /api/destruction-requests/{id}/approve``): someone other than the one who closed
  the project, holding the destroy right; the request becomes ``approved``. Approval is a
  separate, later act rather than a second admin's signature at closing time, so closing
  stays a program manager's routine step and nothing is ever destroyed that a second person
  did not deliberately agree to, at any point during the retention period.
- :func:`run_due` (``labelproof custody run-due``, and in the server a timer thread every
  ``LABELPROOF_RETENTION_INTERVAL`` seconds) carries out every approved request whose
  deadline passed, through the same path as an immediate destruction (crypto-shred, delete,
  signed certificate, which names the schedule). A due request without approval is never
  executed and never skipped silently: each run records ``project.destruction_overdue`` and
  lists it.
- :func:`reopen_project` before the deadline (or after it, while it waits for approval)
  cancels the schedule (``project.destruction_cancelled``) and reopens the project.

Times come from a ``now`` argument (tests inject a clock); the default is the wall clock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelproof.errors import Conflict, InvalidInput, LabelproofError, NotFound, PermissionDenied
from labelproof.services.accounts import actor_for
from labelproof.services.audit import AuditRecord, record
from labelproof.services.context import Actor, Runtime, new_request_id
from labelproof.services.custody.events import CustodyAction
from labelproof.services.permissions import Action, authorize
from labelproof.store.custody_models import DestructionRequest
from labelproof.store.models import Project, User

__all__ = [
    "MAX_RETENTION_DAYS",
    "Closure",
    "DueReport",
    "approve_scheduled",
    "close_project",
    "reopen_project",
    "run_due",
    "start_timer",
]

logger = logging.getLogger("labelproof.retention")

MAX_RETENTION_DAYS = 36_500
ACTIVE = ("scheduled", "approved")


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


@dataclass(frozen=True)
class Closure:
    project_id: int
    closed_at: datetime
    retention_days: int
    request: DestructionRequest | None


def close_project(
    db: Session,
    actor: Actor,
    *,
    project_id: int,
    retention_days: int | None,
    default_days: int,
    schedule_destruction: bool = True,
    now: datetime | None = None,
) -> Closure:
    """Close a project; with ``schedule_destruction`` its destruction falls due after the
    retention period (``retention_days``, else ``default_days``)."""
    project = authorize(db, actor, project_id, Action.PROJECT_CLOSE)
    if project.closed_at is not None:
        raise Conflict(f"project {project_id} is already closed; reopen it first")
    days = default_days if retention_days is None else retention_days
    if not 0 <= days <= MAX_RETENTION_DAYS:
        raise InvalidInput(
            f"retention_days must be 0..{MAX_RETENTION_DAYS}, got {days}", field="retention_days"
        )
    at = _now(now)
    project.closed_at = at
    project.retention_days = days
    due = at + timedelta(days=days)
    req = None
    if schedule_destruction:
        req = DestructionRequest(
            project_id=project.id,
            org_id=project.org_id,
            requested_by=actor.user_id,
            reason=f"retention: {days} day(s) after the project was closed",
            status="scheduled",
            due_at=due,
            created_at=at,
        )
        db.add(req)
        db.flush()
    record(
        db,
        AuditRecord(
            CustodyAction.PROJECT_CLOSED,
            "project",
            str(project.id),
            actor.user_id,
            actor.request_id,
            project.id,
            {"retention_days": days, "destruction_due_at": _iso(due) if req else None},
        ),
    )
    if req is not None:
        record(
            db,
            AuditRecord(
                CustodyAction.DESTRUCTION_SCHEDULED,
                "project",
                str(project.id),
                actor.user_id,
                actor.request_id,
                project.id,
                {"request_id": req.id, "due_at": _iso(due), "retention_days": days},
            ),
        )
    return Closure(project.id, at, days, req)


def reopen_project(
    db: Session, actor: Actor, *, project_id: int, now: datetime | None = None
) -> list[int]:
    """Reopen a closed project; cancels its scheduled destruction (returns the ids)."""
    project = authorize(db, actor, project_id, Action.PROJECT_CLOSE)
    if project.closed_at is None:
        raise Conflict(f"project {project_id} is not closed")
    at = _now(now)
    cancelled: list[int] = []
    requests = db.scalars(
        select(DestructionRequest)
        .where(
            DestructionRequest.project_id == project.id,
            DestructionRequest.status.in_(ACTIVE),
        )
        .with_for_update()
    )
    for req in requests:
        before = req.status
        req.status = "cancelled"
        req.decided_at = at
        cancelled.append(req.id)
        record(
            db,
            AuditRecord(
                CustodyAction.DESTRUCTION_CANCELLED,
                "project",
                str(project.id),
                actor.user_id,
                actor.request_id,
                project.id,
                {"request_id": req.id, "was": before, "due_at": _iso(req.due_at)},
            ),
        )
    project.closed_at = None
    record(
        db,
        AuditRecord(
            CustodyAction.PROJECT_REOPENED,
            "project",
            str(project.id),
            actor.user_id,
            actor.request_id,
            project.id,
            {"cancelled_requests": cancelled},
        ),
    )
    return cancelled


def approve_scheduled(
    rt: Runtime, approver: Actor, *, request_id: int, now: datetime | None = None
) -> dict[str, Any]:
    """Approve a destruction scheduled by retention (carried out when due)."""
    with rt.write() as db:
        req = db.get(DestructionRequest, request_id, with_for_update=True)
        if req is None:
            raise NotFound(f"destruction request {request_id} not found")
        authorize(db, approver, req.project_id, Action.PROJECT_DESTROY)
        if req.status != "scheduled":
            raise Conflict(f"destruction request {request_id} is {req.status}, not scheduled")
        if approver.user_id == req.requested_by:
            raise PermissionDenied(
                "a second person must approve a destruction; you closed this project"
            )
        req.status = "approved"
        req.approved_by = approver.user_id
        req.decided_at = _now(now)
        record(
            db,
            AuditRecord(
                CustodyAction.DESTRUCTION_APPROVED,
                "project",
                str(req.project_id),
                approver.user_id,
                approver.request_id,
                req.project_id,
                {"request_id": req.id, "due_at": _iso(req.due_at)},
            ),
        )
        return {"request_id": req.id, "status": req.status, "due_at": _iso(req.due_at)}


@dataclass
class DueReport:
    """What one run did: destroyed (with certificate ids), waiting for approval, failed."""

    destroyed: list[dict[str, Any]] = field(default_factory=list)
    awaiting_approval: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "destroyed": self.destroyed,
            "awaiting_approval": self.awaiting_approval,
            "failed": self.failed,
        }


def run_due(rt: Runtime, *, now: datetime | None = None) -> DueReport:
    """Carry out every approved destruction whose deadline passed; report (and audit)
    every due one still waiting for approval."""
    from labelproof.services.custody.destruction import _destroy

    at = _now(now)
    report = DueReport()
    with rt.read() as db:
        due = [
            (r.id, r.project_id, r.status, r.requested_by, r.approved_by, r.due_at)
            for r in db.scalars(
                select(DestructionRequest)
                .where(
                    DestructionRequest.status.in_(ACTIVE),
                    DestructionRequest.due_at.is_not(None),
                    DestructionRequest.due_at <= at,
                )
                .order_by(DestructionRequest.due_at, DestructionRequest.id)
            )
        ]
    rid = new_request_id()
    for request_id, project_id, status, requested_by, approved_by, due_at in due:
        item = {"request_id": request_id, "project_id": project_id, "due_at": _iso(due_at)}
        if status == "scheduled":
            with rt.write() as db:
                record(
                    db,
                    AuditRecord(
                        CustodyAction.DESTRUCTION_OVERDUE,
                        "project",
                        str(project_id),
                        None,
                        rid,
                        project_id,
                        {**item, "reason": "no second-person approval", "checked_at": _iso(at)},
                    ),
                )
            report.awaiting_approval.append(item)
            continue
        try:
            requester, approver, schedule = _people(rt, requested_by, approved_by, project_id)
            document = _destroy(
                rt,
                request_id,
                requester,
                approver,
                expected="approved",
                schedule={
                    **schedule,
                    "request_id": request_id,
                    "due_at": _iso(due_at),
                    "executed_at": _iso(at),
                },
            )
        except LabelproofError as exc:
            logger.error("scheduled destruction %s failed: %s", request_id, exc.message)
            report.failed.append({**item, "error": exc.message})
            continue
        report.destroyed.append({**item, "certificate_id": document["certificate_id"]})
    return report


def _people(
    rt: Runtime, requested_by: int, approved_by: int | None, project_id: int
) -> tuple[Actor, Actor, dict[str, Any]]:
    with rt.read() as db:
        requester = db.get(User, requested_by)
        approver = db.get(User, approved_by) if approved_by is not None else None
        project = db.get(Project, project_id)
        if requester is None or approver is None or project is None:
            raise Conflict("the person who closed or approved is gone, or the project is")
        rid = new_request_id()
        schedule = {
            "trigger": "retention schedule",
            "closed_at": _iso(project.closed_at),
            "retention_days": project.retention_days,
        }
        return actor_for(requester, rid), actor_for(approver, rid), schedule


def start_timer(
    rt: Runtime, interval_s: float, *, clock: Callable[[], datetime] | None = None
) -> Callable[[], None]:
    """Run :func:`run_due` every ``interval_s`` seconds on a daemon thread; returns a
    function that stops it. Errors are logged, never fatal to the server."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval_s):
            try:
                report = run_due(rt, now=clock() if clock else None)
                if report.destroyed or report.awaiting_approval or report.failed:
                    logger.warning("retention run: %s", report.to_dict())
            except Exception:  # a failing run must not stop the next one
                logger.exception("retention run failed")

    thread = threading.Thread(target=loop, name="labelproof-retention", daemon=True)
    thread.start()

    def cancel() -> None:
        stop.set()
        thread.join(timeout=interval_s + 5)

    return cancel
