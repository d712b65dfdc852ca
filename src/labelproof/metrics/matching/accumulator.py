"""Accumulate matching results over images, per class and per annotator."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from labelproof.metrics.matching.items import Annotation
from labelproof.metrics.matching.match import match
from labelproof.metrics.matching.result import MATCH_DEFINITION, MatchResult, f1, ratio
from labelproof.metrics.similarity import AREA_TYPES


@dataclass(frozen=True, slots=True)
class MatchStats:
    """Counts and rates of one group (everything, one class or one annotator)."""

    n_gt: int
    n_pred: int
    tp: int
    confusions: int
    fn: int
    fp: int
    precision: float | None
    recall: float | None
    f1: float | None
    label_accuracy: float | None
    mean_similarity: float | None
    mean_iou: float | None
    mean_dice: float | None
    mean_boundary_distance_px: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass
class _Tally:
    n_gt: int = 0
    n_pred: int = 0
    tp: int = 0
    confusions: int = 0
    sim_sum: float = 0.0
    dice_sum: float = 0.0
    dist_sum: float = 0.0
    dist_n: int = 0

    def stats(self, area: bool) -> MatchStats:
        precision = ratio(self.tp, self.n_pred)
        recall = ratio(self.tp, self.n_gt)
        mean_sim = ratio(self.sim_sum, self.tp)
        return MatchStats(
            n_gt=self.n_gt,
            n_pred=self.n_pred,
            tp=self.tp,
            confusions=self.confusions,
            fn=self.n_gt - self.tp,
            fp=self.n_pred - self.tp,
            precision=precision,
            recall=recall,
            f1=f1(precision, recall),
            label_accuracy=ratio(self.tp, self.tp + self.confusions),
            mean_similarity=mean_sim,
            mean_iou=mean_sim if area else None,
            mean_dice=ratio(self.dice_sum, self.tp) if area else None,
            mean_boundary_distance_px=ratio(self.dist_sum, self.dist_n),
        )


@dataclass(frozen=True, slots=True)
class MatchSummary:
    """Matching accumulated over ``n_updates`` calls (``n_images`` distinct images).

    ``confusion`` counts (ground-truth label, predicted label) of cross-label pairs; a
    class's ``fn`` counts its missed and confused ground truths, ``fp`` the predictions of
    that class that are not true positives.
    """

    type_name: str
    threshold: float
    n_updates: int
    n_images: int
    overall: MatchStats
    per_class: Mapping[str, MatchStats]
    per_annotator: Mapping[str, MatchStats]
    confusion: Mapping[tuple[str, str], int]
    definition: str = MATCH_DEFINITION

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping (confusions as a list of {gt_label, pred_label, count})."""
        return {
            "type_name": self.type_name,
            "threshold": self.threshold,
            "n_updates": self.n_updates,
            "n_images": self.n_images,
            "overall": self.overall.to_dict(),
            "per_class": {k: v.to_dict() for k, v in self.per_class.items()},
            "per_annotator": {k: v.to_dict() for k, v in self.per_annotator.items()},
            "confusion": [
                {"gt_label": g, "pred_label": p, "count": n}
                for (g, p), n in sorted(self.confusion.items())
            ],
            "definition": self.definition,
        }


@dataclass
class MatchAccumulator:
    """Match image after image (:meth:`update`), then :meth:`compute` the totals.

    Args:
        type_name, threshold, match_across_labels, boundary, similarity_options: as
            :func:`labelproof.metrics.matching.match`.
    """

    type_name: str
    threshold: float = 0.5
    match_across_labels: bool = True
    boundary: bool = True
    similarity_options: Mapping[str, Any] | None = None
    _overall: _Tally = field(default_factory=_Tally, init=False, repr=False)
    _classes: dict[str, _Tally] = field(default_factory=dict, init=False, repr=False)
    _annotators: dict[str, _Tally] = field(default_factory=dict, init=False, repr=False)
    _confusion: Counter[tuple[str, str]] = field(default_factory=Counter, init=False, repr=False)
    _images: set[Hashable] = field(default_factory=set, init=False, repr=False)
    _updates: int = field(default=0, init=False, repr=False)

    def update(
        self,
        gt: Sequence[Annotation | Mapping[str, Any]],
        pred: Sequence[Annotation | Mapping[str, Any]],
        *,
        annotator: str | None = None,
        image: Hashable | None = None,
    ) -> MatchResult:
        """Match one image's ground truths and one annotator's predictions; returns the
        per-image result and adds it to the totals (``annotator`` made ``pred``)."""
        result = match(
            gt,
            pred,
            type_name=self.type_name,
            threshold=self.threshold,
            match_across_labels=self.match_across_labels,
            boundary=self.boundary,
            similarity_options=self.similarity_options,
        )
        g_labels = [_label(x) for x in gt]
        p_labels = [_label(x) for x in pred]
        tallies = [self._overall]
        if annotator is not None:
            tallies.append(self._annotators.setdefault(str(annotator), _Tally()))
        for t in tallies:
            _add(t, result, None)
        for label in set(g_labels) | set(p_labels):
            t = self._classes.setdefault(label, _Tally())
            t.n_gt += g_labels.count(label)
            t.n_pred += p_labels.count(label)
            _add(t, result, label, counts=False)
        for c in result.confusions:
            self._confusion[(c.gt_label, c.pred_label)] += 1
        self._updates += 1
        self._images.add(image if image is not None else ("update", self._updates))
        return result

    def compute(self) -> MatchSummary:
        """The totals so far."""
        area = self.type_name in AREA_TYPES
        return MatchSummary(
            type_name=self.type_name,
            threshold=float(self.threshold),
            n_updates=self._updates,
            n_images=len(self._images),
            overall=self._overall.stats(area),
            per_class={k: self._classes[k].stats(area) for k in sorted(self._classes)},
            per_annotator={k: self._annotators[k].stats(area) for k in sorted(self._annotators)},
            confusion=dict(self._confusion),
        )

    def reset(self) -> None:
        """Forget everything accumulated."""
        self._overall = _Tally()
        self._classes = {}
        self._annotators = {}
        self._confusion = Counter()
        self._images = set()
        self._updates = 0


def _label(item: Annotation | Mapping[str, Any]) -> str:
    return item.label if isinstance(item, Annotation) else str(item["label"])


def _add(t: _Tally, result: MatchResult, label: str | None, counts: bool = True) -> None:
    """Add a result's counts to a tally; with ``label`` only that ground-truth class."""
    if counts:
        t.n_gt += result.n_gt
        t.n_pred += result.n_pred
    dists = result.boundary_distances_px or (None,) * len(result.matches)
    for m, d in zip(result.matches, dists, strict=True):
        if label is not None and m.gt_label != label:
            continue
        t.tp += 1
        t.sim_sum += m.similarity
        t.dice_sum += 2.0 * m.similarity / (1.0 + m.similarity)
        if d is not None:
            t.dist_sum += d
            t.dist_n += 1
    t.confusions += sum(1 for c in result.confusions if label is None or c.gt_label == label)
