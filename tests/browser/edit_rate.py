"""What annotators did with model pre-labels, computed from a task's revision history alone
(the definition in docs/workspace.md, "Model suggestions").

A suggestion is an annotation id that first appears with ``source: "model"``; its
suggested content is its type, label, geometry and attributes in that first revision. In
the latest revision the id is:

- gone: **deleted**;
- there with ``source: "human"`` and the same content: **accepted**;
- there with changed content (any source): **edited**;
- there, still ``source: "model"`` and unchanged: **pending** (not decided yet).

edit rate = edited / (accepted + edited + deleted); deletion rate likewise. Both are
None while nothing is decided.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

OUTCOMES = ("accepted", "edited", "deleted", "pending")
_CONTENT = ("type", "label", "geometry", "attributes")


@dataclass(frozen=True)
class SuggestionReport:
    outcomes: dict[str, str]  # suggestion id -> one of OUTCOMES
    counts: dict[str, int]  # outcome -> count (every outcome present, 0 if none)
    edit_rate: float | None
    deletion_rate: float | None


def _content(a: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(a.get(k) for k in _CONTENT)


def suggestion_outcomes(revisions: list[dict[str, Any]]) -> SuggestionReport:
    """``revisions``: a task's revisions oldest first, as ``GET /api/tasks/{t}/revisions``
    returns them (each with ``number`` and ``annotations``)."""
    suggested: dict[str, tuple[Any, ...]] = {}
    for rev in sorted(revisions, key=lambda r: int(r["number"])):
        for a in rev["annotations"]:
            if a.get("source") == "model" and a["id"] not in suggested:
                suggested[a["id"]] = _content(a)
    latest = (
        {a["id"]: a for a in max(revisions, key=lambda r: int(r["number"]))["annotations"]}
        if revisions
        else {}
    )
    outcomes: dict[str, str] = {}
    for ann_id, content in suggested.items():
        now = latest.get(ann_id)
        if now is None:
            outcomes[ann_id] = "deleted"
        elif _content(now) != content:
            outcomes[ann_id] = "edited"
        elif now.get("source") == "human":
            outcomes[ann_id] = "accepted"
        else:
            outcomes[ann_id] = "pending"
    c = Counter(outcomes.values())
    counts = {o: c.get(o, 0) for o in OUTCOMES}
    decided = counts["accepted"] + counts["edited"] + counts["deleted"]
    return SuggestionReport(
        outcomes=outcomes,
        counts=counts,
        edit_rate=counts["edited"] / decided if decided else None,
        deletion_rate=counts["deleted"] / decided if decided else None,
    )
