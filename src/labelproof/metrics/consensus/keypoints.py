"""Keypoint consensus: visibility-weighted average positions, majority visibility.

For keypoint i, each rater r with v_ri > 0 contributes its position with weight
w_r x v_ri (visible 2, occluded 1; unlabelled points are excluded). The merged visibility
is the most common v_ri among the k raters (by rater weight; ties go to the higher
visibility); a merged v of 0 gives the canonical unlabelled point [0, 0, 0]. Agreement =
mean OKS of each rater against the merged keypoints as ground truth (default sigmas and
the merged labelled points' box as area; None when nothing is labelled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelproof.metrics.consensus._common import non_empty, rater_weights
from labelproof.metrics.similarity.keypoints import keypoint_oks_array, keypoints_to_array

KEYPOINT_DEFINITION = (
    "Keypoint merge: position = mean of the labelled raters' points weighted by rater "
    "weight x visibility (2 visible, 1 occluded); visibility = weighted majority of the "
    "raters' v (ties to the higher); agreement = mean OKS of the raters against the merge."
)


@dataclass(frozen=True, slots=True)
class KeypointConsensus:
    """Merged canonical keypoints and the raters' mean OKS against them."""

    geometry: dict[str, Any]
    agreement: float | None
    n_raters: int
    definition: str = KEYPOINT_DEFINITION

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {
            "geometry": self.geometry,
            "agreement": self.agreement,
            "n_raters": self.n_raters,
            "definition": self.definition,
        }


def merge_keypoints(
    annotations: Sequence[Any],
    *,
    weights: Sequence[float] | None = None,
    sigmas: Sequence[float] | None = None,
) -> KeypointConsensus:
    """Merge k raters' canonical ``keypoints`` geometries of one skeleton (K points each)."""
    arr = keypoints_to_array(non_empty(annotations, "annotations"), "annotations")  # (k, K, 3)
    w = rater_weights(weights, arr.shape[0])
    vis = np.rint(arr[:, :, 2]).astype(np.int64)
    pw = w[:, None] * np.where(vis > 0, vis, 0)  # (k, K)
    total = pw.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        xy = (pw[:, :, None] * arr[:, :, :2]).sum(axis=0) / total[:, None]
    tally = np.stack([(w[:, None] * (vis == v)).sum(axis=0) for v in (0, 1, 2)])  # (3, K)
    merged_v = 2 - np.argmax(tally[::-1], axis=0)  # ties go to the higher visibility
    points: list[list[Any]] = []
    for i in range(arr.shape[1]):
        v = int(merged_v[i])
        if v == 0 or total[i] == 0:
            points.append([0.0, 0.0, 0])
        else:
            points.append([float(xy[i, 0]), float(xy[i, 1]), v])
    merged = np.array([[p[0], p[1], p[2]] for p in points], dtype=np.float64)[None]
    agreement: float | None = None
    if (merged[0, :, 2] > 0).any():
        agreement = float(keypoint_oks_array(merged, arr, sigmas=sigmas).mean())
    return KeypointConsensus(
        geometry={"points": points}, agreement=agreement, n_raters=int(arr.shape[0])
    )
