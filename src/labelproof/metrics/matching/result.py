"""Result types of matching: matched pairs, the per-set result and shared rate helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MATCH_DEFINITION = (
    "Matching: within each label, ground truths and predictions are paired by Hungarian "
    "assignment maximising the total similarity of the type (IoU, OKS, polyline "
    "similarity, label equality for tags), pairs below the threshold left unmatched; "
    "leftovers are then paired the same way across labels and reported as confusions. "
    "TP = same-label matches; precision = TP / predictions, recall = TP / ground truths, "
    "F1 their harmonic mean; label accuracy = TP / (TP + confusions); geometry quality "
    "(mean similarity, IoU, Dice = 2 IoU / (1 + IoU), mean symmetric boundary distance in "
    "px for polygons and masks) is averaged over the TP pairs. A rate whose denominator is "
    "0 is null."
)


def ratio(num: float, den: float) -> float | None:
    """num / den, or None when den is 0."""
    return None if den == 0 else num / den


def f1(precision: float | None, recall: float | None) -> float | None:
    """Harmonic mean; None when either is None, 0 when both are 0."""
    if precision is None or recall is None:
        return None
    if precision + recall == 0.0:
        return 0.0
    return 2.0 * precision * recall / (precision + recall)


def mean(values: list[float]) -> float | None:
    """Arithmetic mean, None for no values."""
    return sum(values) / len(values) if values else None


@dataclass(frozen=True, slots=True)
class MatchedPair:
    """A ground truth paired with a prediction (indices into the inputs)."""

    gt_index: int
    pred_index: int
    gt_label: str
    pred_label: str
    similarity: float
    gt_id: str | int | None = None
    pred_id: str | int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {
            "gt_index": self.gt_index,
            "pred_index": self.pred_index,
            "gt_label": self.gt_label,
            "pred_label": self.pred_label,
            "similarity": self.similarity,
            "gt_id": self.gt_id,
            "pred_id": self.pred_id,
        }


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Matching of one set of ground truths (n_gt) with one set of predictions (n_pred).

    ``matches`` are same-label pairs (true positives), ``confusions`` cross-label pairs,
    ``missed`` ground-truth indices left unpaired, ``extra`` prediction indices left
    unpaired. Rates are None when their denominator is 0 (see ``definition``).
    """

    type_name: str
    threshold: float
    similarity_name: str
    n_gt: int
    n_pred: int
    matches: tuple[MatchedPair, ...]
    confusions: tuple[MatchedPair, ...]
    missed: tuple[int, ...]
    extra: tuple[int, ...]
    precision: float | None
    recall: float | None
    f1: float | None
    label_accuracy: float | None
    mean_similarity: float | None
    mean_iou: float | None
    mean_dice: float | None
    mean_boundary_distance_px: float | None
    boundary_distances_px: tuple[float | None, ...] = ()
    definition: str = MATCH_DEFINITION

    @property
    def tp(self) -> int:
        """Same-label matches."""
        return len(self.matches)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {
            "type_name": self.type_name,
            "threshold": self.threshold,
            "similarity_name": self.similarity_name,
            "n_gt": self.n_gt,
            "n_pred": self.n_pred,
            "tp": self.tp,
            "matches": [m.to_dict() for m in self.matches],
            "confusions": [m.to_dict() for m in self.confusions],
            "missed": list(self.missed),
            "extra": list(self.extra),
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "label_accuracy": self.label_accuracy,
            "mean_similarity": self.mean_similarity,
            "mean_iou": self.mean_iou,
            "mean_dice": self.mean_dice,
            "mean_boundary_distance_px": self.mean_boundary_distance_px,
            "boundary_distances_px": list(self.boundary_distances_px),
            "definition": self.definition,
        }
