"""The work queue: claiming the next task, expiring claims, reading one's assignments.

A claim is race-free on both databases:
- SQLite: writers already run one at a time (``Runtime.write()`` + ``BEGIN IMMEDIATE``).
- PostgreSQL: a claim first locks the project's batch rows (``SELECT ... FOR NO KEY
  UPDATE``, which does not block inserts of tasks into those batches), so claims in one
  project run one after the other and each sees the previous one's assignment.
- Both: ``qa_assignments (task_id, slot_key, attempt)`` is unique, so even a claim that
  bypassed the lock could not take a slot twice; such a collision is retried.

Slots: a single or gold-production task has one slot (``s0``), a consensus task ``k``
(``s0`` .. ``s{k-1}``, at most one per annotator), and a gold or calibration task one per
annotator (``u<id>``). A slot is free again when its assignment expired (claim TTL passed
before the first submission) or was reassigned; ``attempt`` counts its claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Exists, ScalarSelect, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from labelproof.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from labelproof.services.context import Actor
from labelproof.services.permissions import Action, authorize
from labelproof.services.qa.events import ENDED, Kind, QaAuditAction, State, audit, emit, fold
from labelproof.services.qa.policy import Policy, current_policy, current_sop_version, unit_hash
from labelproof.services.qa.qualify import may_work_production
from labelproof.store.models import utcnow
from labelproof.store.qa_models import QaAssignment, QaBatch, QaBatchTask, QaEvent

QUEUES = ("production", "calibration")
_RETRIES = 5


def events_of(db: Session, assignment_id: int) -> list[QaEvent]:
    return list(
        db.scalars(
            select(QaEvent).where(QaEvent.assignment_id == assignment_id).order_by(QaEvent.id)
        )
    )


def state_of(db: Session, assignment: QaAssignment, now: datetime | None = None) -> State:
    return fold(assignment, events_of(db, assignment.id), now or utcnow())


def _ended() -> Exists:
    """SQL: the assignment ``QaAssignment`` has an expired or reassigned event."""
    return exists().where(
        QaEvent.assignment_id == QaAssignment.id, QaEvent.kind.in_([str(k) for k in ENDED])
    )


def expire_claims(db: Session, project_id: int, now: datetime | None = None) -> int:
    """Append ``expired`` for claims whose TTL passed before a first submission."""
    now = now or utcnow()
    done = exists().where(
        QaEvent.assignment_id == QaAssignment.id,
        QaEvent.kind.in_([Kind.SUBMITTED, Kind.EXPIRED, Kind.REASSIGNED]),
    )
    stale = list(
        db.scalars(
            select(QaAssignment).where(
                QaAssignment.project_id == project_id, QaAssignment.expires_at <= now, ~done
            )
        )
    )
    for a in stale:
        emit(
            db,
            project_id=project_id,
            kind=Kind.EXPIRED,
            actor_id=None,
            assignment=a,
            dedupe_key=f"end:{a.id}",
            details={"expires_at": a.expires_at.isoformat()},
        )
    return len(stale)


def _lock_project_queue(db: Session, project_id: int) -> None:
    db.execute(
        select(QaBatch.id)
        .where(QaBatch.project_id == project_id)
        .order_by(QaBatch.id)
        .with_for_update(key_share=True)
    ).all()


def _active_count(task_col: Any) -> ScalarSelect[int]:
    return (
        select(func.count())
        .select_from(QaAssignment)
        .where(QaAssignment.task_id == task_col, ~_ended())
        .scalar_subquery()
    )


def _candidates(
    db: Session, actor: Actor, project_id: int, kinds: Sequence[str], policy: Policy
) -> list[tuple[int, str]]:
    """(task_id, mode) the actor may claim in batches of ``kinds``, oldest first."""
    mine_any = exists().where(
        QaAssignment.task_id == QaBatchTask.task_id, QaAssignment.annotator_id == actor.user_id
    )
    mine_active = exists().where(
        QaAssignment.task_id == QaBatchTask.task_id,
        QaAssignment.annotator_id == actor.user_id,
        ~_ended(),
    )
    active = _active_count(QaBatchTask.task_id)
    rows = db.execute(
        select(QaBatchTask.task_id, QaBatchTask.mode)
        .join(QaBatch, QaBatch.id == QaBatchTask.batch_id)
        .where(QaBatch.project_id == project_id, QaBatch.kind.in_(list(kinds)))
        .where(
            # gold: never one seen before; calibration: one active claim each;
            # single: one active claim; consensus: k distinct annotators.
            ((QaBatchTask.mode == "gold") & ~mine_any)
            | ((QaBatchTask.mode == "calibration") & ~mine_active)
            | ((QaBatchTask.mode == "single") & (active < 1))
            | ((QaBatchTask.mode == "consensus") & (active < policy["consensus_k"]) & ~mine_active)
        )
        .order_by(QaBatchTask.task_id)
        .limit(50)
    ).all()
    return [(int(r[0]), str(r[1])) for r in rows]


def _slot(db: Session, actor: Actor, task_id: int, mode: str, k: int) -> tuple[str, int]:
    if mode in ("gold", "calibration"):
        key = f"u{actor.user_id}"
    else:
        taken = set(
            db.scalars(
                select(QaAssignment.slot_key).where(QaAssignment.task_id == task_id, ~_ended())
            )
        )
        free = [f"s{i}" for i in range(k if mode == "consensus" else 1) if f"s{i}" not in taken]
        if not free:
            raise Conflict("no free slot", field="task_id")
        key = free[0]
    attempt = (
        db.scalar(
            select(func.count())
            .select_from(QaAssignment)
            .where(QaAssignment.task_id == task_id, QaAssignment.slot_key == key)
        )
        or 0
    )
    return key, int(attempt)


def _open_assignment(
    db: Session, actor: Actor, project_id: int, kinds: Sequence[str]
) -> QaAssignment | None:
    """The actor's claim still being annotated in this queue (a claim returns it again)."""
    submitted = exists().where(
        QaEvent.assignment_id == QaAssignment.id, QaEvent.kind == Kind.SUBMITTED
    )
    return db.scalar(
        select(QaAssignment)
        .join(QaBatch, QaBatch.id == QaAssignment.batch_id)
        .where(
            QaAssignment.project_id == project_id,
            QaAssignment.annotator_id == actor.user_id,
            QaBatch.kind.in_(list(kinds)),
            ~_ended(),
            ~submitted,
            QaAssignment.expires_at > utcnow(),
        )
        .order_by(QaAssignment.id)
        .limit(1)
    )


def _want_gold(db: Session, actor: Actor, project_id: int, policy: Policy) -> bool:
    """Gold is mixed in at the policy's rate: the n-th production claim of an annotator is a
    gold one when a seeded hash of (annotator, n) falls below ``gold_rate``."""
    n = db.scalar(
        select(func.count())
        .select_from(QaAssignment)
        .join(QaBatch, QaBatch.id == QaAssignment.batch_id)
        .where(
            QaAssignment.project_id == project_id,
            QaAssignment.annotator_id == actor.user_id,
            QaBatch.kind.in_(["production", "gold"]),
        )
    )
    return bool(unit_hash(policy["gold_seed"], "gold", actor.user_id, n or 0) < policy["gold_rate"])


def claim(
    db: Session, actor: Actor, *, project_id: int, queue: str = "production"
) -> QaAssignment | None:
    """Claim the next task of ``queue`` (production or calibration); None when it is empty.

    Returns the actor's open claim in that queue if they hold one. Production needs a
    current qualification when the policy requires it.
    """
    authorize(db, actor, project_id, Action.QUEUE_WORK)
    if queue not in QUEUES:
        raise InvalidInput(f"queue must be one of {list(QUEUES)}, got {queue!r}", field="queue")
    policy = current_policy(db, project_id)
    if queue == "production" and policy["require_qualification"]:
        allowed, status = may_work_production(db, project_id, actor.user_id)
        if not allowed:
            raise PermissionDenied(
                f"you are not qualified for production work in project {project_id} "
                f"(status {status!r}); complete the calibration batch first"
            )
    _lock_project_queue(db, project_id)
    now = utcnow()
    expire_claims(db, project_id, now)
    kinds = ["production", "gold"] if queue == "production" else ["calibration"]
    held = _open_assignment(db, actor, project_id, kinds)
    if held is not None:
        return held
    order: list[list[str]]
    if queue == "production":
        gold_first = _want_gold(db, actor, project_id, policy)
        order = [["gold"], ["production"]] if gold_first else [["production"]]
    else:
        order = [["calibration"]]
    for _ in range(_RETRIES):
        for batch_kinds in order:
            found = _candidates(db, actor, project_id, batch_kinds, policy)
            if not found:
                continue
            if batch_kinds == ["gold"] and not _candidates(
                db, actor, project_id, ["production"], policy
            ):
                continue  # gold only ever hides among production tasks
            made = _try_claim(db, actor, project_id, found[0], policy, now)
            if made is not None:
                return made
            break
        else:
            return None
    raise Conflict("the queue changed too often while claiming; try again")


def _try_claim(
    db: Session,
    actor: Actor,
    project_id: int,
    candidate: tuple[int, str],
    policy: Policy,
    now: datetime,
) -> QaAssignment | None:
    task_id, mode = candidate
    placed = db.scalar(select(QaBatchTask.batch_id).where(QaBatchTask.task_id == task_id))
    assert placed is not None
    slot_key, attempt = _slot(db, actor, task_id, mode, policy["consensus_k"])
    assignment = QaAssignment(
        project_id=project_id,
        task_id=task_id,
        batch_id=placed,
        annotator_id=actor.user_id,
        slot_key=slot_key,
        attempt=attempt,
        policy_version=policy.version,
        sop_version=current_sop_version(db, project_id),
        claimed_at=now,
        expires_at=now + timedelta(seconds=policy["claim_ttl_s"]),
    )
    try:
        with db.begin_nested():
            db.add(assignment)
            db.flush()
    except IntegrityError:
        return None
    emit(
        db,
        project_id=project_id,
        kind=Kind.CLAIMED,
        actor_id=actor.user_id,
        assignment=assignment,
        at=now,
        details={"sop_version": assignment.sop_version, "policy_version": policy.version},
    )
    audit(db, actor, QaAuditAction.ASSIGNMENT_CLAIMED, "qa_assignment", assignment.id, project_id)
    return assignment


def load_assignment(db: Session, assignment_id: int) -> QaAssignment:
    a = db.get(QaAssignment, assignment_id)
    if a is None:
        raise NotFound(f"assignment {assignment_id} not found")
    return a


def own_assignment(db: Session, actor: Actor, *, assignment_id: int) -> QaAssignment:
    """An assignment of the actor (QUEUE_WORK); another person's is NotFound."""
    a = load_assignment(db, assignment_id)
    try:
        authorize(db, actor, a.project_id, Action.QUEUE_WORK)
    except NotFound:
        raise NotFound(f"assignment {assignment_id} not found") from None
    if a.annotator_id != actor.user_id:
        raise NotFound(f"assignment {assignment_id} not found")
    return a


def staff_assignment(
    db: Session, actor: Actor, *, assignment_id: int, action: Action
) -> QaAssignment:
    a = load_assignment(db, assignment_id)
    try:
        authorize(db, actor, a.project_id, action)
    except NotFound:
        raise NotFound(f"assignment {assignment_id} not found") from None
    return a


def my_assignments(
    db: Session, actor: Actor, *, project_id: int
) -> list[tuple[QaAssignment, State]]:
    authorize(db, actor, project_id, Action.QUEUE_WORK)
    rows = list(
        db.scalars(
            select(QaAssignment)
            .where(
                QaAssignment.project_id == project_id, QaAssignment.annotator_id == actor.user_id
            )
            .order_by(QaAssignment.id)
        )
    )
    now = utcnow()
    return [(a, state_of(db, a, now)) for a in rows]


def reassign(db: Session, actor: Actor, *, assignment_id: int, reason: str = "") -> QaAssignment:
    """A lead ends an open assignment so its slot returns to the queue."""
    a = staff_assignment(db, actor, assignment_id=assignment_id, action=Action.AUDIT_SAMPLE)
    state = state_of(db, a)
    if state.stage in ENDED or state.cycle > 0:
        raise Conflict(
            f"assignment {assignment_id} is {state.stage.value}; only an unsubmitted claim "
            "can be reassigned",
            field="assignment_id",
        )
    try:
        with db.begin_nested():
            emit(
                db,
                project_id=a.project_id,
                kind=Kind.REASSIGNED,
                actor_id=actor.user_id,
                assignment=a,
                dedupe_key=f"end:{a.id}",
                details={"reason": reason},
            )
    except IntegrityError:
        raise Conflict(f"assignment {assignment_id} already ended") from None
    audit(db, actor, QaAuditAction.ASSIGNMENT_REASSIGNED, "qa_assignment", a.id, a.project_id)
    return a


def pending(db: Session, project_id: int, stage: str) -> list[QaAssignment]:
    """Assignments of the project whose current stage is ``stage`` (oldest first)."""
    ids = db.scalars(
        select(QaEvent.assignment_id)
        .where(
            QaEvent.project_id == project_id,
            QaEvent.kind.in_([Kind.SUBMITTED, Kind.REVIEWED]),
        )
        .distinct()
    )
    out = []
    now = utcnow()
    for a in db.scalars(
        select(QaAssignment).where(QaAssignment.id.in_(list(ids))).order_by(QaAssignment.id)
    ):
        if state_of(db, a, now).stage == stage:
            out.append(a)
    return out
