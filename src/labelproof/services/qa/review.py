"""Peer review and lead audit: queues and verdicts (accept, fix, reject with error types).

A verdict is recorded once per submission and stage (the event's dedupe key), so two
reviewers acting at once cannot both decide. Nobody reviews their own work. A rejection
returns the assignment to its annotator (``rework``); each rejection counts as a rework
loop. A fix appends the reviewer's corrected revision to the assignment's stream.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from labelproof.errors import Conflict, InvalidInput, PermissionDenied
from labelproof.services.context import Actor
from labelproof.services.permissions import Action, authorize
from labelproof.services.qa.batches import batch_task
from labelproof.services.qa.events import Kind, QaAuditAction, Stage, State, audit, emit
from labelproof.services.qa.policy import current_policy
from labelproof.services.qa.queue import pending, staff_assignment, state_of
from labelproof.services.qa.work import accept, append_revision, audit_needed, revision_number
from labelproof.store.qa_models import QaAssignment, QaRevision

ERROR_TYPES = (
    "missed_object",
    "extra_object",
    "wrong_class",
    "loose_geometry",
    "wrong_attribute",
    "sop_violation",
)
VERDICTS = ("accept", "fix", "reject")
STAGE_ACTION = {Stage.PEER_REVIEW: Action.REVIEW, Stage.LEAD_AUDIT: Action.AUDIT_SAMPLE}


def review_queue(db: Session, actor: Actor, *, project_id: int, stage: Stage) -> list[QaAssignment]:
    """Assignments waiting at ``stage`` that are not the actor's own work."""
    authorize(db, actor, project_id, STAGE_ACTION[stage])
    return [a for a in pending(db, project_id, stage) if a.annotator_id != actor.user_id]


def review_item(
    db: Session, actor: Actor, *, assignment_id: int, stage: Stage
) -> tuple[QaAssignment, State, QaRevision | None]:
    """An assignment as its reviewer sees it: state and the revision under review."""
    a = staff_assignment(db, actor, assignment_id=assignment_id, action=STAGE_ACTION[stage])
    s = state_of(db, a)
    rev = revision_number(db, a.id, s.submitted_revision) if s.submitted_revision else None
    return a, s, rev


def _errors(raw: Any, rev: QaRevision) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or len(raw) > 1000:
        raise InvalidInput("errors: must be a list of at most 1000 items", field="errors")
    by_id = {str(i["id"]): i for i in rev.annotations}
    out = []
    for i, e in enumerate(raw):
        field = f"errors[{i}]"
        if not isinstance(e, dict) or set(e) - {
            "type",
            "annotation_id",
            "label",
            "region",
            "comment",
        }:
            raise InvalidInput(
                f"{field}: an object with type, annotation_id, label, region, comment",
                field=field,
            )
        if e.get("type") not in ERROR_TYPES:
            raise InvalidInput(
                f"{field}.type: must be one of {list(ERROR_TYPES)}, got {e.get('type')!r}",
                field=f"{field}.type",
            )
        ann_id, label = e.get("annotation_id"), e.get("label")
        if ann_id is not None:
            if ann_id not in by_id:
                raise InvalidInput(
                    f"{field}.annotation_id: {ann_id!r} is not in revision {rev.number}",
                    field=f"{field}.annotation_id",
                )
            label = label or by_id[ann_id]["label"]
        if label is not None and (not isinstance(label, str) or len(label) > 200):
            raise InvalidInput(f"{field}.label: a class name", field=f"{field}.label")
        region = e.get("region")
        if region is not None and not (
            isinstance(region, dict)
            and set(region) == {"x", "y", "w", "h"}
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in region.values())
        ):
            raise InvalidInput(f"{field}.region: {{x, y, w, h}} in pixels", field=f"{field}.region")
        comment = e.get("comment", "")
        if not isinstance(comment, str) or len(comment) > 10_000:
            raise InvalidInput(f"{field}.comment: text", field=f"{field}.comment")
        out.append(
            {
                "type": e["type"],
                "annotation_id": ann_id,
                "label": label,
                "region": region,
                "comment": comment,
            }
        )
    return out


def decide(
    db: Session,
    actor: Actor,
    *,
    assignment_id: int,
    stage: Stage,
    verdict: str,
    errors: Any = (),
    comment: str = "",
    annotations: Any = None,
) -> tuple[QaAssignment, State]:
    """Record a verdict at ``stage`` (peer_review or lead_audit) on the submission."""
    a = staff_assignment(db, actor, assignment_id=assignment_id, action=STAGE_ACTION[stage])
    if a.annotator_id == actor.user_id:
        raise PermissionDenied("nobody reviews their own work")
    state = state_of(db, a)
    if state.stage != stage or state.submitted_revision is None:
        raise Conflict(
            f"assignment {assignment_id} is at {state.stage.value}, not {stage.value}",
            field="assignment_id",
            stage=state.stage.value,
        )
    if verdict not in VERDICTS:
        raise InvalidInput(
            f"verdict must be one of {list(VERDICTS)}, got {verdict!r}", field="verdict"
        )
    rev = revision_number(db, a.id, state.submitted_revision)
    errs = _errors(list(errors), rev)
    if verdict == "reject" and not errs:
        raise InvalidInput("a rejection names at least one error type", field="errors")
    if verdict == "accept" and errs:
        raise InvalidInput("an acceptance carries no errors; use fix or reject", field="errors")
    if (annotations is None) != (verdict != "fix"):
        raise InvalidInput(
            "annotations go with a fix verdict, and only with it", field="annotations"
        )
    placed = batch_task(db, a.task_id)
    assert placed is not None
    mode = placed[0].mode
    policy = current_policy(db, a.project_id)
    fix_revision = None
    if verdict == "fix":
        fixed, _ = append_revision(
            db,
            actor,
            a,
            base_revision=rev.number,
            annotations=annotations,
            idempotency_key=f"fix-{a.id}-{state.cycle}-{stage.value}",
        )
        fix_revision = fixed.number
    if verdict == "reject":
        nxt = Stage.REWORK
    elif stage == Stage.PEER_REVIEW and audit_needed(db, a, policy):
        nxt = Stage.LEAD_AUDIT
    else:
        nxt = Stage.ACCEPTED
    try:
        with db.begin_nested():
            emit(
                db,
                project_id=a.project_id,
                kind=Kind.REVIEWED,
                actor_id=actor.user_id,
                assignment=a,
                dedupe_key=f"review:{a.id}:{state.cycle}:{stage.value}",
                details={
                    "stage": stage.value,
                    "verdict": verdict,
                    "cycle": state.cycle,
                    "revision": rev.number,
                    "fix_revision": fix_revision,
                    "errors": errs,
                    "comment": comment,
                    "next": nxt.value,
                    "sop_version": rev.sop_version,
                    "mode": mode,
                },
            )
    except IntegrityError:
        raise Conflict(f"assignment {assignment_id} already has a {stage.value} verdict") from None
    audit(
        db,
        actor,
        QaAuditAction.ASSIGNMENT_REVIEWED,
        "qa_assignment",
        a.id,
        a.project_id,
        {"stage": stage.value, "verdict": verdict, "errors": [e["type"] for e in errs]},
    )
    if nxt == Stage.ACCEPTED:
        accept(db, a, via=stage.value, revision=fix_revision or rev.number, mode=mode)
    return a, state_of(db, a)
