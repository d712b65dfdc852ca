"""QA figures, computed from the project's ``qa_events`` rows alone (so anyone holding the
event log can recompute them). Every figure carries its definition and its n."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelproof.services.context import Actor
from labelproof.services.permissions import Action, authorize
from labelproof.services.qa.events import Kind
from labelproof.services.qa.scoring import ACCURACY_DEFINITION
from labelproof.store.qa_models import QaEvent

DEFINITIONS = {
    "gold_accuracy": "Per annotator, over their scored gold tasks (first submission of each): "
    + ACCURACY_DEFINITION,
    "agreement": "Per annotator: the agreement of their latest calibration decision (nominal "
    "Krippendorff's alpha with the lead's reference over matched units; 1.0 when every value "
    "agreed); n = units.",
    "rework_rate": "Submitted assignments (production, consensus and gold; not calibration) "
    "rejected at least once at peer review or lead audit / submitted assignments.",
    "rework_loops": "Number of rejections (each sends the work back to its annotator once).",
    "exception_rate": "Submitted assignments that were rejected at least once or whose "
    "consensus fell below the agreement bar / submitted assignments (not calibration).",
    "ambiguity_rate": "Escalations raised under an SOP version / assignments claimed under "
    "that SOP version; per class: escalations naming the class / the same denominator.",
    "errors": "Error tags of peer-review and lead-audit verdicts (reject and fix), counted by "
    "type, class, annotator, stage and the SOP version of the reviewed revision.",
    "turnaround": "Seconds between an assignment's claim, its first submission and its "
    "acceptance (accepted assignments only for the acceptance times); mean and median.",
    "consensus": "Consensus merges: mean agreement (see docs/qa-workflow.md) and how many "
    "fell below the agreement bar.",
}


@dataclass(frozen=True)
class EventRow:
    """The fields of a ``qa_events`` row the figures read."""

    id: int
    kind: str
    at: datetime
    assignment_id: int | None
    task_id: int | None
    subject_id: int | None
    details: dict[str, Any]


def _rate(num: int, den: int) -> dict[str, Any]:
    return {"value": None if den == 0 else num / den, "count": num, "n": den}


def _durations(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "mean_s": statistics.fmean(values) if values else None,
        "median_s": statistics.median(values) if values else None,
    }


def compute(events: Sequence[EventRow]) -> dict[str, Any]:
    """Figures from events in id order (see :data:`DEFINITIONS`)."""
    owner: dict[int, int] = {}
    claimed_at: dict[int, datetime] = {}
    claim_sop: dict[int, int] = {}
    submitted_at: dict[int, datetime] = {}
    accepted_at: dict[int, datetime] = {}
    mode: dict[int, str] = {}
    rejections: Counter[int] = Counter()
    below_bar: set[int] = set()
    gold: dict[int, Counter[str]] = defaultdict(Counter)
    qualification: dict[int, dict[str, Any]] = {}
    escalations: Counter[int] = Counter()
    esc_by_sop: Counter[int] = Counter()
    esc_by_class: Counter[tuple[int, str]] = Counter()
    error_rows: Counter[tuple[str, str, int, str, int]] = Counter()
    merges: list[dict[str, Any]] = []
    for e in events:
        d, a = e.details, e.assignment_id
        if e.kind == Kind.CLAIMED and a is not None and e.subject_id is not None:
            owner[a], claimed_at[a], claim_sop[a] = e.subject_id, e.at, int(d["sop_version"])
        elif e.kind == Kind.SUBMITTED and a is not None:
            submitted_at.setdefault(a, e.at)
            mode[a] = str(d["mode"])
        elif e.kind == Kind.ACCEPTED and a is not None:
            accepted_at[a] = e.at
        elif e.kind == Kind.REVIEWED and a is not None:
            if d["verdict"] == "reject":
                rejections[a] += 1
            for err in d["errors"]:
                key = (err["type"], err["label"] or "", owner[a], d["stage"], int(d["sop_version"]))
                error_rows[key] += 1
        elif e.kind == Kind.GOLD_SCORED and e.subject_id is not None:
            gold[e.subject_id].update(
                {k: int(d[k]) for k in ("correct", "matched", "missed", "extra")}
            )
            gold[e.subject_id]["tasks"] += 1
        elif e.kind == Kind.QUALIFICATION and e.subject_id is not None:
            qualification[e.subject_id] = d
        elif e.kind == Kind.ESCALATION_RAISED and e.subject_id is not None:
            escalations[e.subject_id] += 1
            esc_by_sop[int(d["sop_version"])] += 1
            if d.get("label"):
                esc_by_class[(int(d["sop_version"]), str(d["label"]))] += 1
        elif e.kind == Kind.CONSENSUS_MERGED:
            merges.append(d)
            if not d["accepted"]:
                below_bar.update(int(x) for x in d["assignments"])
    work = [a for a in submitted_at if mode[a] != "calibration"]
    reworked = [a for a in work if rejections[a] > 0]
    exceptional = [a for a in work if rejections[a] > 0 or a in below_bar]
    claims_by_sop = Counter(claim_sop.values())
    annotators = []
    for user in sorted(set(owner.values()) | set(gold) | set(qualification)):
        mine = [a for a in work if owner.get(a) == user]
        g = gold.get(user, Counter())
        den = g["matched"] + g["missed"] + g["extra"]
        q = qualification.get(user, {})
        evidence = q.get("evidence", {})
        alpha = evidence.get("alpha_vs_reference") or {}
        annotators.append(
            {
                "user_id": user,
                "status": q.get("status"),
                "gold_accuracy": {
                    **_rate(g["correct"], den),
                    "matched": g["matched"],
                    "missed": g["missed"],
                    "extra": g["extra"],
                    "tasks": g["tasks"],
                },
                "agreement": {"value": evidence.get("agreement"), "n": alpha.get("n_units", 0)},
                "rework_rate": _rate(sum(1 for a in mine if rejections[a] > 0), len(mine)),
                "rework_loops": sum(rejections[a] for a in mine),
                "escalations": escalations[user],
            }
        )
    values = [float(m["agreement"]) for m in merges if m["agreement"] is not None]
    return {
        "definitions": DEFINITIONS,
        "n_events": len(events),
        "annotators": annotators,
        "rework_rate": _rate(len(reworked), len(work)),
        "rework_loops": sum(rejections[a] for a in work),
        "exception_rate": _rate(len(exceptional), len(work)),
        "ambiguity": {
            "by_sop_version": [
                {"sop_version": v, **_rate(esc_by_sop[v], claims_by_sop[v])}
                for v in sorted(set(claims_by_sop) | set(esc_by_sop))
            ],
            "by_class": [
                {"sop_version": v, "label": c, **_rate(n, claims_by_sop[v])}
                for (v, c), n in sorted(esc_by_class.items())
            ],
        },
        "errors": {
            "rows": [
                {
                    "type": t,
                    "label": c or None,
                    "annotator": u,
                    "stage": s,
                    "sop_version": v,
                    "count": n,
                }
                for (t, c, u, s, v), n in sorted(error_rows.items())
            ],
            "total": sum(error_rows.values()),
        },
        "turnaround": {
            "claim_to_submit": _durations(
                [(submitted_at[a] - claimed_at[a]).total_seconds() for a in submitted_at]
            ),
            "submit_to_accept": _durations(
                [(accepted_at[a] - submitted_at[a]).total_seconds() for a in accepted_at]
            ),
            "claim_to_accept": _durations(
                [(accepted_at[a] - claimed_at[a]).total_seconds() for a in accepted_at]
            ),
        },
        "consensus": {
            "n": len(merges),
            "mean_agreement": statistics.fmean(values) if values else None,
            "below_bar": sum(1 for m in merges if not m["accepted"]),
        },
    }


def load_events(
    db: Session, project_id: int, offset: int = 0, limit: int | None = None
) -> list[QaEvent]:
    query = select(QaEvent).where(QaEvent.project_id == project_id).order_by(QaEvent.id)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(db.scalars(query))


def as_row(e: QaEvent) -> EventRow:
    return EventRow(e.id, e.kind, e.at, e.assignment_id, e.task_id, e.subject_id, e.details)


def figures(db: Session, actor: Actor, *, project_id: int) -> dict[str, Any]:
    authorize(db, actor, project_id, Action.QA_READ)
    return compute([as_row(e) for e in load_events(db, project_id)])


def list_events(
    db: Session, actor: Actor, *, project_id: int, offset: int = 0, limit: int = 1000
) -> tuple[list[QaEvent], int]:
    authorize(db, actor, project_id, Action.QA_READ)
    total = db.scalar(
        select(func.count()).select_from(QaEvent).where(QaEvent.project_id == project_id)
    )
    return load_events(db, project_id, offset, limit), int(total or 0)
