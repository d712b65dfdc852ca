"""Who may work production: calibration decisions, manual decisions and live gold accuracy.

Statuses (appended in ``qa_qualifications``; the newest is current): ``qualified``,
``more_review`` (qualified, every submission goes to a lead audit), ``not_qualified``,
``requalify`` (must pass calibration again) and ``paused``. Production claims need
``qualified`` or ``more_review`` when the policy requires qualification.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelproof.errors import InvalidInput, NotFound
from labelproof.services.context import Actor
from labelproof.services.permissions import Action, authorize
from labelproof.services.qa import scoring
from labelproof.services.qa.events import Kind, QaAuditAction, audit, emit
from labelproof.services.qa.policy import Policy
from labelproof.store.models import Membership
from labelproof.store.qa_models import QaEvent, QaQualification

STATUSES = ("qualified", "more_review", "not_qualified", "requalify", "paused")
WORKING = ("qualified", "more_review")
ACTION_STATUS = {"requalify": "requalify", "pause": "paused", "more_review": "more_review"}


def current_status(db: Session, project_id: int, user_id: int) -> QaQualification | None:
    return db.scalar(
        select(QaQualification)
        .where(QaQualification.project_id == project_id, QaQualification.user_id == user_id)
        .order_by(QaQualification.id.desc())
        .limit(1)
    )


def may_work_production(db: Session, project_id: int, user_id: int) -> tuple[bool, str | None]:
    row = current_status(db, project_id, user_id)
    status = row.status if row is not None else None
    return status in WORKING, status


def decide(
    db: Session,
    actor: Actor | None,
    *,
    project_id: int,
    user_id: int,
    status: str,
    reason: str,
    evidence: dict[str, Any],
) -> QaQualification:
    """Append a decision and its event (no authorization: callers check)."""
    if status not in STATUSES:
        raise InvalidInput(
            f"status must be one of {list(STATUSES)}, got {status!r}", field="status"
        )
    row = QaQualification(
        project_id=project_id,
        user_id=user_id,
        status=status,
        reason=reason,
        evidence=evidence,
        decided_by=actor.user_id if actor else None,
    )
    db.add(row)
    db.flush()
    emit(
        db,
        project_id=project_id,
        kind=Kind.QUALIFICATION,
        actor_id=actor.user_id if actor else None,
        subject_id=user_id,
        details={"status": status, "reason": reason, "evidence": evidence},
    )
    audit(db, actor, QaAuditAction.QUALIFICATION, "user", user_id, project_id, {"status": status})
    return row


def set_status(
    db: Session, actor: Actor, *, project_id: int, user_id: int, status: str, reason: str
) -> QaQualification:
    """A lead's or program manager's own decision about a project member."""
    authorize(db, actor, project_id, Action.QUALIFY)
    member = db.scalar(
        select(Membership).where(Membership.project_id == project_id, Membership.user_id == user_id)
    )
    if member is None:
        raise NotFound(f"user {user_id} is not a member of project {project_id}", field="user_id")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason: say why", field="reason")
    return decide(
        db,
        actor,
        project_id=project_id,
        user_id=user_id,
        status=status,
        reason=reason.strip(),
        evidence={"manual": True},
    )


def list_current(db: Session, actor: Actor, *, project_id: int) -> list[QaQualification]:
    """The current decision of every person who has one."""
    authorize(db, actor, project_id, Action.QA_READ)
    latest: dict[int, QaQualification] = {}
    for row in db.scalars(
        select(QaQualification)
        .where(QaQualification.project_id == project_id)
        .order_by(QaQualification.id)
    ):
        latest[row.user_id] = row
    return sorted(latest.values(), key=lambda r: r.user_id)


# --- live gold accuracy ----------------------------------------------------------------


def gold_counts(db: Session, project_id: int, user_id: int) -> tuple[scoring.Counts, int]:
    """Summed counts of the person's scored gold tasks, and how many tasks."""
    total, n = scoring.Counts(), 0
    for e in db.scalars(
        select(QaEvent).where(
            QaEvent.project_id == project_id,
            QaEvent.kind == Kind.GOLD_SCORED,
            QaEvent.subject_id == user_id,
        )
    ):
        d = e.details
        total = total + scoring.Counts(d["correct"], d["matched"], d["missed"], d["extra"])
        n += 1
    return total, n


def check_gold_bar(db: Session, policy: Policy, project_id: int, user_id: int) -> None:
    """Apply the policy's action when the person's live gold accuracy is below the bar."""
    counts, n = gold_counts(db, project_id, user_id)
    accuracy = counts.accuracy
    if accuracy is None or n < policy["min_gold_scored"] or accuracy >= policy["accuracy_bar"]:
        return
    row = current_status(db, project_id, user_id)
    if row is None or row.status != "qualified":
        return  # already acted on (or never qualified): act once per drop
    status = ACTION_STATUS[policy["below_bar_action"]]
    evidence = {
        "gold_accuracy": accuracy,
        "gold": counts.to_dict(),
        "n_tasks": n,
        "accuracy_bar": policy["accuracy_bar"],
        "policy_version": policy.version,
        "definition": scoring.ACCURACY_DEFINITION,
    }
    emit(
        db,
        project_id=project_id,
        kind=Kind.GOLD_BELOW_BAR,
        actor_id=None,
        subject_id=user_id,
        details={"action": policy["below_bar_action"], **evidence},
    )
    audit(
        db,
        None,
        QaAuditAction.GOLD_BELOW_BAR,
        "user",
        user_id,
        project_id,
        {"action": policy["below_bar_action"], "gold_accuracy": accuracy},
    )
    decide(
        db,
        None,
        project_id=project_id,
        user_id=user_id,
        status=status,
        reason=f"gold accuracy {accuracy:.4f} fell below the bar {policy['accuracy_bar']}",
        evidence=evidence,
    )


# --- calibration -------------------------------------------------------------------------


def _agreement_value(alpha: dict[str, Any]) -> float | None:
    if alpha["value"] is not None:
        return float(alpha["value"])
    return 1.0 if alpha["undefined"] == "no_variation" else None


def evaluate_candidates(
    references: Sequence[Sequence[scoring.Item]],
    work: Mapping[int, Mapping[int, Sequence[scoring.Item]]],
    policy: Policy,
) -> dict[str, Any]:
    """Calibration figures (no database): ``references[t]`` is task t's reference set and
    ``work[user][t]`` a candidate's set for task t (absent when not done)."""
    from labelproof.metrics.agreement import matched_iou_agreement

    threshold = policy["iou_threshold"]
    users = sorted(work)
    per_user: dict[int, dict[str, Any]] = {}
    group_rows: list[list[str | None]] = [[] for _ in users]
    unit_classes: list[str] = []
    for u in users:
        counts, rows, ious = scoring.Counts(), [[], []], []  # type: ignore[var-annotated]
        for t, ref in enumerate(references):
            if t not in work[u]:
                continue
            sets = [ref, work[u][t]]
            counts = counts + scoring.accuracy_counts(ref, work[u][t], threshold)
            units = scoring.cluster(sets, threshold)
            values = scoring.unit_values(sets, units)
            rows[0] += values[0]
            rows[1] += values[1]
            ious += scoring.pair_ious(sets, units, 1)
        alpha = scoring.label_alpha(rows)
        per_user[u] = {
            "tasks_done": len(work[u]),
            "accuracy": counts.to_dict(),
            "alpha_vs_reference": alpha,
            "agreement": _agreement_value(alpha),
            "iou": matched_iou_agreement(ious, threshold).to_dict(),
        }
    for t, ref in enumerate(references):
        sets = [ref] + [work[u].get(t, []) for u in users]
        units = scoring.cluster(sets, threshold)
        values = scoring.unit_values(sets, units)
        for i, u in enumerate(users):
            group_rows[i] += [v if t in work[u] else None for v in values[i + 1]]
        unit_classes += [scoring.unit_label(sets, unit, anchor=0) for unit in units]
    per_class = {
        c: scoring.label_alpha(
            [[row[j] for j, uc in enumerate(unit_classes) if uc == c] for row in group_rows]
        )
        for c in sorted(set(unit_classes))
    }
    return {
        "users": per_user,
        "group_alpha": scoring.label_alpha(group_rows) if len(users) >= 2 else None,
        "group_alpha_per_class": per_class if len(users) >= 2 else {},
        "n_tasks": len(references),
        "accuracy_definition": scoring.ACCURACY_DEFINITION,
        "agreement_definition": scoring.ALPHA_DEFINITION
        + " Per candidate: alpha between the candidate and the reference; a candidate "
        "whose every value equals the reference's (alpha undefined, no variation) has "
        "agreement 1.0.",
    }
