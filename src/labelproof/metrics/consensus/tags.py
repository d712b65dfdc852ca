"""Majority and weighted vote of whole-image tags (class labels)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from labelproof.errors import InvalidInput
from labelproof.metrics.consensus._common import non_empty, rater_weights

TAG_DEFINITION = (
    "Tag vote: each rater's label gets the rater's weight (1 by default); the label with "
    "the largest total wins, ties broken by the alphabetically first label and reported; "
    "agreement = the winner's share of the total weight."
)


@dataclass(frozen=True, slots=True)
class TagConsensus:
    """The voted label of k raters, its weight share (``agreement``) and the vote."""

    label: str
    agreement: float
    votes: Mapping[str, float]
    tie: bool
    tied_labels: tuple[str, ...]
    n_raters: int
    definition: str = TAG_DEFINITION

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {
            "label": self.label,
            "agreement": self.agreement,
            "votes": dict(self.votes),
            "tie": self.tie,
            "tied_labels": list(self.tied_labels),
            "n_raters": self.n_raters,
            "definition": self.definition,
        }


def vote_tags(labels: Sequence[str], *, weights: Sequence[float] | None = None) -> TagConsensus:
    """Vote k raters' labels (k,) with optional rater weights (k,) > 0."""
    items = non_empty(labels, "labels")
    for i, label in enumerate(items):
        if not isinstance(label, str) or not label:
            raise InvalidInput(
                f"labels[{i}]: must be a non-empty string, got {label!r}", field=f"labels[{i}]"
            )
    w = rater_weights(weights, len(items))
    votes: dict[str, float] = {}
    for label, weight in zip(items, w.tolist(), strict=True):
        votes[label] = votes.get(label, 0.0) + weight
    best = max(votes.values())
    tied = tuple(sorted(lbl for lbl, v in votes.items() if v == best))
    return TagConsensus(
        label=tied[0],
        agreement=best / float(w.sum()),
        votes=dict(sorted(votes.items())),
        tie=len(tied) > 1,
        tied_labels=tied if len(tied) > 1 else (),
        n_raters=len(items),
    )
