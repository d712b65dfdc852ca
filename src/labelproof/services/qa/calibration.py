"""Evaluating a calibration batch and deciding who qualifies for production.

Every candidate annotates the batch's tasks; the lead's answers (``qa_answers``) are the
reference. A candidate qualifies when they submitted every task, their accuracy against
the reference reaches the policy's ``accuracy_bar`` and their agreement with the reference
(nominal Krippendorff's alpha over matched units) reaches ``agreement_bar``. The decision
stores the evidence: values, counts (n), thresholds and definitions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelproof.errors import InvalidInput
from labelproof.services.context import Actor
from labelproof.services.permissions import Action
from labelproof.services.qa.batches import current_answer, get_batch
from labelproof.services.qa.policy import current_policy
from labelproof.services.qa.qualify import decide, evaluate_candidates
from labelproof.services.qa.queue import state_of
from labelproof.services.qa.work import revision_number
from labelproof.store.models import utcnow
from labelproof.store.qa_models import QaAssignment, QaBatchTask


def evaluate(
    db: Session, actor: Actor, *, batch_id: int, decide_now: bool = True
) -> dict[str, Any]:
    """Figures of a calibration batch; with ``decide_now`` each candidate's decision is
    appended (qualified / not_qualified) with its evidence."""
    batch = get_batch(db, actor, batch_id=batch_id, action=Action.QUALIFY)
    if batch.kind != "calibration":
        raise InvalidInput(
            f"batch {batch_id} is a {batch.kind} batch, not calibration", field="batch_id"
        )
    policy = current_policy(db, batch.project_id)
    task_ids = list(
        db.scalars(
            select(QaBatchTask.task_id)
            .where(QaBatchTask.batch_id == batch_id)
            .order_by(QaBatchTask.task_id)
        )
    )
    references = []
    for t in task_ids:
        answer = current_answer(db, t)
        if answer is None:
            raise InvalidInput(
                f"calibration task {t} has no reference answer; a lead sets it first",
                field="task_id",
            )
        references.append(list(answer.annotations))
    index = {t: i for i, t in enumerate(task_ids)}
    work: dict[int, dict[int, list[dict[str, Any]]]] = {}
    now = utcnow()
    for a in db.scalars(
        select(QaAssignment).where(QaAssignment.batch_id == batch_id).order_by(QaAssignment.id)
    ):
        s = state_of(db, a, now)
        if s.cycle == 0 or s.submitted_revision is None:
            continue
        rev = revision_number(db, a.id, s.submitted_revision)
        work.setdefault(a.annotator_id, {})[index[a.task_id]] = list(rev.annotations)
    report = evaluate_candidates(references, work, policy)
    bars = {
        "accuracy_bar": policy["accuracy_bar"],
        "agreement_bar": policy["agreement_bar"],
        "iou_threshold": policy["iou_threshold"],
    }
    decisions: dict[int, str] = {}
    for user_id, fig in report["users"].items():
        complete = fig["tasks_done"] == len(task_ids)
        accuracy = fig["accuracy"]["accuracy"]
        agreement = fig["agreement"]
        passed = (
            complete
            and accuracy is not None
            and accuracy >= policy["accuracy_bar"]
            and agreement is not None
            and agreement >= policy["agreement_bar"]
        )
        decisions[user_id] = "qualified" if passed else "not_qualified"
        if decide_now:
            why = (
                "passed calibration"
                if passed
                else "incomplete calibration"
                if not complete
                else "below the accuracy or agreement bar"
            )
            decide(
                db,
                actor,
                project_id=batch.project_id,
                user_id=user_id,
                status=decisions[user_id],
                reason=f"{why} (batch {batch_id})",
                evidence={
                    "batch_id": batch_id,
                    "policy_version": policy.version,
                    **bars,
                    **fig,
                    "n_tasks": len(task_ids),
                    "accuracy_definition": report["accuracy_definition"],
                    "agreement_definition": report["agreement_definition"],
                },
            )
    return {
        "batch_id": batch_id,
        "policy_version": policy.version,
        **bars,
        **report,
        "users": {str(u): fig for u, fig in report["users"].items()},
        "decisions": {str(u): d for u, d in decisions.items()},
    }
