"""Pixel consensus of k raters' masks: (weighted) majority vote and STAPLE.

STAPLE (Warfield, Zou & Wells, IEEE TMI 2004) estimates the hidden true segmentation T
and each rater j's sensitivity p_j = P(D_j = 1 | T = 1) and specificity
q_j = P(D_j = 0 | T = 0) by expectation-maximisation, with a fixed prior f = P(T = 1)
(default: the raters' mean foreground fraction):

    E: W_i = f a_i / (f a_i + (1 - f) b_i),
       a_i = Π_j p_j^D_ij (1 - p_j)^(1 - D_ij),  b_i = Π_j q_j^(1 - D_ij) (1 - q_j)^D_ij
    M: p_j = Σ_i W_i D_ij / Σ_i W_i,  q_j = Σ_i (1 - W_i)(1 - D_ij) / Σ_i (1 - W_i)

starting from p_j = q_j = 0.99, until no p_j or q_j moves by more than ``tol``. Pixels
with the same votes have the same W, so the iteration runs over the distinct vote
patterns (at most 2^k) weighted by their pixel counts: exact and fast. The consensus is
W >= 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.annotypes import ImageSize
from labelproof.errors import InvalidInput
from labelproof.metrics.consensus._common import non_empty, rater_weights
from labelproof.metrics.similarity.masks import mask_rles

F64 = NDArray[np.float64]
Bits = NDArray[np.bool_]

VOTE_DEFINITION = (
    "Mask vote: a pixel is foreground when the raters marking it hold more than half of the "
    "total weight; agreement = mean IoU of each rater's mask with the consensus (1 for two "
    "empty masks)."
)
STAPLE_DEFINITION = (
    "STAPLE (Warfield et al. 2004): EM estimate of the true mask and each rater's "
    "sensitivity and specificity with a fixed foreground prior; consensus = probability "
    ">= 0.5; agreement = mean IoU of each rater's mask with the consensus."
)
_EPS = 1e-12


@dataclass(frozen=True, slots=True)
class MaskConsensus:
    """A merged mask (canonical geometry) and the raters' agreement with it."""

    geometry: dict[str, Any]
    agreement: float
    n_raters: int
    method: str
    definition: str = VOTE_DEFINITION

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {
            "geometry": self.geometry,
            "agreement": self.agreement,
            "n_raters": self.n_raters,
            "method": self.method,
            "definition": self.definition,
        }


@dataclass(frozen=True, slots=True)
class StapleResult:
    """STAPLE's consensus, per-rater sensitivity and specificity, and the probability map.

    ``probability`` (height, width) holds P(T = 1 | votes) per pixel; it is left out of
    :meth:`to_dict`.
    """

    geometry: dict[str, Any]
    agreement: float
    sensitivity: tuple[float, ...]
    specificity: tuple[float, ...]
    prior: float
    iterations: int
    converged: bool
    n_raters: int
    probability: F64 = field(repr=False, compare=False)
    method: str = "staple"
    definition: str = STAPLE_DEFINITION

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping (without the probability map)."""
        return {
            "geometry": self.geometry,
            "agreement": self.agreement,
            "sensitivity": list(self.sensitivity),
            "specificity": list(self.specificity),
            "prior": self.prior,
            "iterations": self.iterations,
            "converged": self.converged,
            "n_raters": self.n_raters,
            "method": self.method,
            "definition": self.definition,
        }


def decode_masks(masks: Sequence[Any], field: str = "masks") -> Bits:
    """Canonical ``mask`` geometries of one size -> (k, height, width) bool."""
    from pycocotools import mask as mask_utils

    rles = mask_rles(non_empty(masks, field), field)
    size = rles[0]["size"]
    for i, r in enumerate(rles):
        if r["size"] != size:
            path = f"{field}[{i}].rle.size"
            raise InvalidInput(f"{path}: {r['size']} differs from {field}[0]'s {size}", field=path)
    return np.stack([mask_utils.decode(r).astype(bool) for r in rles])


def encode_mask(bits: Bits) -> dict[str, Any]:
    """(height, width) bool -> canonical ``mask`` geometry."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(bits.astype(np.uint8)))
    return {"rle": {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}}


def mean_iou_with(stack: Bits, merged: Bits) -> float:
    """Mean IoU of each mask in stack (k, h, w) with merged (h, w); empty vs empty = 1."""
    inter = (stack & merged).sum(axis=(1, 2))
    union = (stack | merged).sum(axis=(1, 2))
    iou = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return float(iou.mean())


def vote_masks(masks: Sequence[Any], *, weights: Sequence[float] | None = None) -> MaskConsensus:
    """Weighted majority vote of k canonical masks of one size (weights (k,) > 0)."""
    stack = decode_masks(masks)
    w = rater_weights(weights, stack.shape[0])
    share = np.tensordot(w, stack.astype(np.float64), axes=1) / w.sum()
    merged = share > 0.5
    return MaskConsensus(
        geometry=encode_mask(merged),
        agreement=mean_iou_with(stack, merged),
        n_raters=int(stack.shape[0]),
        method="majority" if weights is None else "weighted majority",
    )


def vote_polygons(
    polygons: Sequence[Any], image: ImageSize, *, weights: Sequence[float] | None = None
) -> MaskConsensus:
    """Rasterise k canonical polygons into ``image`` and vote the masks (the consensus is a
    mask; it is not turned back into a polygon)."""
    from labelproof.annotypes import get_type

    polygon = get_type("polygon")
    items = non_empty(polygons, "polygons")
    masks = [polygon.to_mask(p, image) for p in items]
    return vote_masks(masks, weights=weights)


def staple(
    masks: Sequence[Any],
    *,
    prior: float | None = None,
    max_iterations: int = 100,
    tol: float = 1e-8,
) -> StapleResult:
    """STAPLE consensus of k canonical masks of one size (see the module docstring)."""
    if isinstance(max_iterations, bool) or not (
        isinstance(max_iterations, int) and max_iterations >= 1
    ):
        raise InvalidInput(
            f"max_iterations: must be an integer >= 1, got {max_iterations!r}",
            field="max_iterations",
        )
    stack = decode_masks(masks)
    k, h, w = stack.shape
    if k > 62:
        raise InvalidInput(f"masks: STAPLE takes at most 62 raters, got {k}", field="masks")
    votes = stack.reshape(k, -1)
    codes = (votes.astype(np.int64) << np.arange(k, dtype=np.int64)[:, None]).sum(axis=0)
    uniq, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    d = ((uniq[:, None] >> np.arange(k)) & 1).astype(np.float64)  # (U, k)
    c = counts.astype(np.float64)
    f = float(votes.mean()) if prior is None else float(prior)
    if not 0.0 <= f <= 1.0:
        raise InvalidInput(f"prior: must be in [0, 1], got {prior!r}", field="prior")
    f = min(max(f, _EPS), 1.0 - _EPS)
    p = np.full(k, 0.99)
    q = np.full(k, 0.99)
    weight = np.zeros(uniq.shape[0])
    converged = False
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        log_a = d @ np.log(p) + (1.0 - d) @ np.log(1.0 - p)
        log_b = (1.0 - d) @ np.log(q) + d @ np.log(1.0 - q)
        z = np.log(f) - np.log(1.0 - f) + log_a - log_b
        weight = 0.5 * (1.0 + np.tanh(0.5 * z))  # logistic, overflow-free
        on = (c * weight).sum()
        off = (c * (1.0 - weight)).sum()
        new_p = (c * weight) @ d / on if on > 0 else p
        new_q = (c * (1.0 - weight)) @ (1.0 - d) / off if off > 0 else q
        new_p = np.clip(new_p, _EPS, 1.0 - _EPS)
        new_q = np.clip(new_q, _EPS, 1.0 - _EPS)
        delta = max(float(np.abs(new_p - p).max()), float(np.abs(new_q - q).max()))
        p, q = new_p, new_q
        if delta < tol:
            converged = True
            break
    log_a = d @ np.log(p) + (1.0 - d) @ np.log(1.0 - p)
    log_b = (1.0 - d) @ np.log(q) + d @ np.log(1.0 - q)
    weight = 0.5 * (1.0 + np.tanh(0.5 * (np.log(f) - np.log(1.0 - f) + log_a - log_b)))
    prob = weight[inverse].reshape(h, w)
    merged = prob >= 0.5
    return StapleResult(
        geometry=encode_mask(merged),
        agreement=mean_iou_with(stack, merged),
        sensitivity=tuple(float(v) for v in p),
        specificity=tuple(float(v) for v in q),
        prior=f,
        iterations=iterations,
        converged=converged,
        n_raters=k,
        probability=prob,
    )
