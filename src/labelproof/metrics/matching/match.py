"""Match ground truths to predictions with the similarity of their annotation type.

1. Within each label: Hungarian assignment (``scipy.optimize.linear_sum_assignment``)
   maximising the total similarity, where pairs below ``threshold`` weigh 0; assigned
   pairs below the threshold are dropped.
2. Across labels (``match_across_labels``): the leftovers are assigned the same way,
   ignoring labels; those pairs are class confusions.
Everything else is missed (ground truth) or extra (prediction).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.errors import InvalidInput
from labelproof.metrics.matching.boundary import boundary_distance
from labelproof.metrics.matching.items import Annotation, as_annotations
from labelproof.metrics.matching.result import MatchedPair, MatchResult, f1, mean, ratio
from labelproof.metrics.similarity import AREA_TYPES, SIMILARITY_NAMES, similarity_for

F64 = NDArray[np.float64]


def assign(sim: F64, threshold: float) -> list[tuple[int, int]]:
    """Pairs (row, col) of a maximum-similarity assignment on sim (R, C), keeping only
    pairs with similarity >= threshold; sorted by row."""
    if sim.size == 0:
        return []
    from scipy.optimize import linear_sum_assignment

    weight = np.where(sim >= threshold, sim, 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if sim[r, c] >= threshold]


def _similarity_matrix(
    type_name: str, gt: list[Annotation], pred: list[Annotation], options: Mapping[str, Any]
) -> F64:
    fn = similarity_for(type_name)
    sim = fn([a.geometry for a in gt], [a.geometry for a in pred], **options)
    out = np.asarray(sim, dtype=np.float64)
    if out.shape != (len(gt), len(pred)):
        raise InvalidInput(
            f"type_name: the similarity of {type_name!r} returned shape {out.shape}, "
            f"expected {(len(gt), len(pred))}",
            field="type_name",
        )
    return out


def _pair(g: int, p: int, gt: list[Annotation], pred: list[Annotation], s: float) -> MatchedPair:
    return MatchedPair(g, p, gt[g].label, pred[p].label, s, gt[g].id, pred[p].id)


def match(
    gt: Sequence[Annotation | Mapping[str, Any]],
    pred: Sequence[Annotation | Mapping[str, Any]],
    *,
    type_name: str,
    threshold: float = 0.5,
    match_across_labels: bool = True,
    boundary: bool = True,
    similarity_options: Mapping[str, Any] | None = None,
) -> MatchResult:
    """Match ground truths ``gt`` (N) to predictions ``pred`` (M) of one annotation type.

    Args:
        gt, pred: :class:`Annotation` objects or mappings with ``label``, ``geometry`` and
            optional ``type``, ``id``, ``score``.
        type_name: the annotation type (its similarity is used, see
            :func:`labelproof.metrics.similarity.similarity_for`).
        threshold: minimum similarity of a match, in (0, 1].
        match_across_labels: pair leftovers across labels as confusions.
        boundary: compute the boundary distance of matched polygons and masks.
        similarity_options: keyword options of the type's similarity (e.g. ``sigmas`` and
            ``areas`` for keypoints, ``tolerance`` for polylines).
    """
    if isinstance(threshold, bool) or not (
        isinstance(threshold, int | float) and 0.0 < threshold <= 1.0
    ):
        raise InvalidInput(f"threshold: must be in (0, 1], got {threshold!r}", field="threshold")
    g_items = as_annotations(gt, "gt", type_name)
    p_items = as_annotations(pred, "pred", type_name)
    options = dict(similarity_options or {})
    if type_name == "tag":
        options.pop("labels_a", None)
        options.pop("labels_b", None)
    sim = _similarity_matrix(type_name, g_items, p_items, options)

    g_labels = np.array([a.label for a in g_items], dtype=object)
    p_labels = np.array([a.label for a in p_items], dtype=object)
    matches: list[MatchedPair] = []
    for label in sorted(set(g_labels.tolist()) & set(p_labels.tolist())):
        gi = np.flatnonzero(g_labels == label)
        pi = np.flatnonzero(p_labels == label)
        for r, c in assign(sim[np.ix_(gi, pi)], threshold):
            g, p = int(gi[r]), int(pi[c])
            matches.append(_pair(g, p, g_items, p_items, float(sim[g, p])))
    used_g = {m.gt_index for m in matches}
    used_p = {m.pred_index for m in matches}
    left_g = np.array([i for i in range(len(g_items)) if i not in used_g], dtype=np.int64)
    left_p = np.array([j for j in range(len(p_items)) if j not in used_p], dtype=np.int64)
    confusions: list[MatchedPair] = []
    if match_across_labels and left_g.size and left_p.size:
        sub = sim[np.ix_(left_g, left_p)]
        same = g_labels[left_g][:, None] == p_labels[left_p][None, :]
        sub = np.where(same, 0.0, sub)  # same-label leftovers are below the threshold
        for r, c in assign(sub, threshold):
            g, p = int(left_g[r]), int(left_p[c])
            confusions.append(_pair(g, p, g_items, p_items, float(sim[g, p])))
    used_g |= {m.gt_index for m in confusions}
    used_p |= {m.pred_index for m in confusions}
    matches.sort(key=lambda m: m.gt_index)
    confusions.sort(key=lambda m: m.gt_index)

    sims = [m.similarity for m in matches]
    is_area = type_name in AREA_TYPES
    distances: list[float | None] = []
    if boundary and type_name in ("polygon", "mask"):
        distances = [
            boundary_distance(
                type_name, g_items[m.gt_index].geometry, p_items[m.pred_index].geometry
            )
            for m in matches
        ]
    known = [d for d in distances if d is not None]
    precision = ratio(len(matches), len(p_items))
    recall = ratio(len(matches), len(g_items))
    return MatchResult(
        type_name=type_name,
        threshold=float(threshold),
        similarity_name=SIMILARITY_NAMES.get(type_name, "similarity"),
        n_gt=len(g_items),
        n_pred=len(p_items),
        matches=tuple(matches),
        confusions=tuple(confusions),
        missed=tuple(i for i in range(len(g_items)) if i not in used_g),
        extra=tuple(j for j in range(len(p_items)) if j not in used_p),
        precision=precision,
        recall=recall,
        f1=f1(precision, recall),
        label_accuracy=ratio(len(matches), len(matches) + len(confusions)),
        mean_similarity=mean(sims),
        mean_iou=mean(sims) if is_area else None,
        mean_dice=mean([2.0 * s / (1.0 + s) for s in sims]) if is_area else None,
        mean_boundary_distance_px=mean(known),
        boundary_distances_px=tuple(distances),
    )
