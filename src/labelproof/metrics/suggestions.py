"""What annotators did with model pre-labels, from revision histories alone.

A *suggestion* is an annotation id whose first appearance in a task's history has
``source: "model"``; its suggested content is its type, label, geometry and attributes in
that revision. In the task's latest revision the id is:

- gone: **deleted**;
- there with changed content (any source): **edited**;
- there with ``source: "human"`` and the same content: **accepted**;
- there, still ``source: "model"`` and unchanged: **pending** (not decided yet).

Only the outcome counts: a suggestion edited and later moved back exactly is accepted.
``edit rate = edited / (accepted + edited + deleted)``; the deletion and acceptance rates
likewise; all are None while nothing is decided. A decided suggestion is credited to the
author of the revision that gave it its final state (the last revision in which its
presence, content or source changed); pending ones to nobody.

Revisions are mappings shaped like ``GET /api/tasks/{t}/revisions`` items: ``number``,
``annotations`` and (for per-annotator figures) ``author_id``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

OUTCOMES = ("accepted", "edited", "deleted", "pending")
_CONTENT = ("type", "label", "geometry", "attributes")

#: The definitions, worded for people reading the figures (the API returns them).
DEFINITIONS = {
    "suggestion": "An annotation id whose first appearance in a task's revision history has "
    "source 'model' (a pre-label); its suggested content is that revision's type, label, "
    "geometry and attributes.",
    "outcome": "In the task's latest revision: deleted (gone), edited (content changed), "
    "accepted (same content, source 'human'), pending (unchanged, still 'model').",
    "edit_rate": "edited / (accepted + edited + deleted); None while nothing is decided.",
    "deletion_rate": "deleted / (accepted + edited + deleted).",
    "acceptance_rate": "accepted / (accepted + edited + deleted).",
    "annotator": "A decided suggestion counts for the author of the revision that gave it its "
    "final state (the last revision changing its presence, content or source); pending "
    "suggestions count for nobody.",
}


@dataclass(frozen=True)
class SuggestionOutcome:
    """What became of one suggestion."""

    id: str
    type: str
    label: str
    confidence: float | None
    outcome: str
    #: Author id of the revision that gave the suggestion its final state (None: pending
    #: or unknown author).
    decided_by: int | None
    #: That revision's number (None while pending).
    decided_in: int | None


@dataclass(frozen=True)
class SuggestionCounts:
    suggestions: int
    accepted: int
    edited: int
    deleted: int
    pending: int
    edit_rate: float | None
    deletion_rate: float | None
    acceptance_rate: float | None

    @property
    def decided(self) -> int:
        return self.accepted + self.edited + self.deleted

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SuggestionFigures:
    overall: SuggestionCounts
    #: author id (None: pending suggestions) -> counts of the suggestions credited to them
    by_annotator: dict[int | None, SuggestionCounts]
    #: suggested label -> counts
    by_label: dict[str, SuggestionCounts]


def _content(a: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(a.get(k) for k in _CONTENT)


def _state(a: Mapping[str, Any] | None) -> tuple[Any, ...] | None:
    return None if a is None else (*_content(a), a.get("source"))


def suggestion_outcomes(revisions: Iterable[Mapping[str, Any]]) -> dict[str, SuggestionOutcome]:
    """The outcome of every suggestion in one task's history (revisions in any order)."""
    revs: Sequence[Mapping[str, Any]] = sorted(revisions, key=lambda r: int(r["number"]))
    first: dict[str, Mapping[str, Any]] = {}  # id -> its first appearance
    suggested: dict[str, Mapping[str, Any]] = {}
    # id -> (state in the previous revision, author and number of the last change)
    track: dict[str, tuple[tuple[Any, ...] | None, int | None, int | None]] = {}
    for rev in revs:
        by_id = {a["id"]: a for a in rev["annotations"]}
        author = rev.get("author_id")
        number = int(rev["number"])
        for ann_id, a in by_id.items():
            if ann_id not in first:
                first[ann_id] = a
                if a.get("source") == "model":
                    suggested[ann_id] = a
                    track[ann_id] = (_state(a), None, None)
        for ann_id, (prev, _who, _when) in track.items():
            now = _state(by_id.get(ann_id))
            if now != prev:
                track[ann_id] = (now, author, number)
    latest = {a["id"]: a for a in revs[-1]["annotations"]} if revs else {}
    out: dict[str, SuggestionOutcome] = {}
    for ann_id, s in suggested.items():
        now = latest.get(ann_id)
        if now is None:
            outcome = "deleted"
        elif _content(now) != _content(s):
            outcome = "edited"
        elif now.get("source") == "human":
            outcome = "accepted"
        else:
            outcome = "pending"
        _, who, when = track[ann_id]
        conf = s.get("confidence")
        out[ann_id] = SuggestionOutcome(
            id=ann_id,
            type=str(s.get("type")),
            label=str(s.get("label")),
            confidence=float(conf) if isinstance(conf, int | float) else None,
            outcome=outcome,
            decided_by=None if outcome == "pending" else who,
            decided_in=None if outcome == "pending" else when,
        )
    return out


def count_outcomes(outcomes: Iterable[SuggestionOutcome]) -> SuggestionCounts:
    """Counts and rates over any set of outcomes (one task, a project, one label...)."""
    n = dict.fromkeys(OUTCOMES, 0)
    for o in outcomes:
        n[o.outcome] += 1
    decided = n["accepted"] + n["edited"] + n["deleted"]

    def rate(k: str) -> float | None:
        return n[k] / decided if decided else None

    return SuggestionCounts(
        suggestions=sum(n.values()),
        accepted=n["accepted"],
        edited=n["edited"],
        deleted=n["deleted"],
        pending=n["pending"],
        edit_rate=rate("edited"),
        deletion_rate=rate("deleted"),
        acceptance_rate=rate("accepted"),
    )


def suggestion_figures(outcomes: Iterable[SuggestionOutcome]) -> SuggestionFigures:
    """Counts and rates overall, per annotator (``decided_by``) and per suggested label."""
    items = list(outcomes)
    by_who: dict[int | None, list[SuggestionOutcome]] = defaultdict(list)
    by_label: dict[str, list[SuggestionOutcome]] = defaultdict(list)
    for o in items:
        by_who[o.decided_by].append(o)
        by_label[o.label].append(o)
    return SuggestionFigures(
        overall=count_outcomes(items),
        by_annotator={k: count_outcomes(v) for k, v in by_who.items()},
        by_label={k: count_outcomes(v) for k, v in sorted(by_label.items())},
    )
