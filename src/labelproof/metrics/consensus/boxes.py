"""Box fusion across k raters, in the style of weighted boxes fusion (WBF).

All boxes of all raters are sorted by weight (rater weight x box score, score 1 when not
given), heaviest first. Each box joins the cluster whose fused box it overlaps most with
IoU >= ``iou_threshold``, provided that cluster has no box of the same rater yet;
otherwise it starts a cluster. A cluster's fused box is the weighted average of its
members' corners (x0, y0, x1, y1). Agreement of a cluster = the weight of its raters over
the weight of all k raters (1 when every rater drew it); ``mean_iou`` = mean IoU of the
members with the fused box. Run it once per label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.errors import InvalidInput
from labelproof.metrics.consensus._common import non_empty, rater_weights
from labelproof.metrics.similarity import box_iou_array
from labelproof.metrics.similarity.boxes import boxes_to_array

F64 = NDArray[np.float64]

BOX_DEFINITION = (
    "Box fusion (WBF style): boxes clustered greedily by IoU with the fused box, at most one "
    "box per rater per cluster, heaviest first; fused corners = weighted mean (rater weight "
    "x score); agreement = weight of the cluster's raters / weight of all raters."
)


@dataclass(frozen=True, slots=True)
class FusedBox:
    """One fused box: geometry, agreement, its raters' boxes as (rater, index) pairs."""

    geometry: dict[str, float]
    agreement: float
    support: int
    mean_iou: float
    score: float
    members: tuple[tuple[int, int], ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {
            "geometry": dict(self.geometry),
            "agreement": self.agreement,
            "support": self.support,
            "mean_iou": self.mean_iou,
            "score": self.score,
            "members": [list(m) for m in self.members],
        }


@dataclass(frozen=True, slots=True)
class BoxConsensus:
    """The fused boxes of k raters, heaviest cluster first; ``agreement`` is the mean
    agreement of the fused boxes (None when nobody drew a box)."""

    boxes: tuple[FusedBox, ...]
    agreement: float | None
    n_raters: int
    iou_threshold: float
    definition: str = BOX_DEFINITION

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {
            "boxes": [b.to_dict() for b in self.boxes],
            "agreement": self.agreement,
            "n_raters": self.n_raters,
            "iou_threshold": self.iou_threshold,
            "definition": self.definition,
        }


def _corners(xywh: F64) -> F64:
    return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)


def _xywh(c: F64) -> F64:
    return np.concatenate([c[:, :2], c[:, 2:] - c[:, :2]], axis=1)


def fuse_boxes(
    boxes: Sequence[Sequence[Any]],
    *,
    weights: Sequence[float] | None = None,
    scores: Sequence[Sequence[float]] | None = None,
    iou_threshold: float = 0.55,
) -> BoxConsensus:
    """Fuse the canonical ``box`` geometries of k raters (``boxes[r]``: rater r's boxes).

    Args:
        weights: (k,) rater weights > 0 (default 1).
        scores: per rater, one score in [0, 1] per box (default 1).
        iou_threshold: minimum IoU of a box with a cluster's fused box to join it.
    """
    raters = non_empty(boxes, "boxes")
    if not (isinstance(iou_threshold, int | float) and 0.0 < iou_threshold <= 1.0):
        raise InvalidInput(
            f"iou_threshold: must be in (0, 1], got {iou_threshold!r}", field="iou_threshold"
        )
    w = rater_weights(weights, len(raters))
    arrays = [boxes_to_array(r, f"boxes[{i}]") for i, r in enumerate(raters)]
    if scores is not None and len(scores) != len(raters):
        raise InvalidInput(f"scores: need {len(raters)} lists, got {len(scores)}", field="scores")
    rows: list[tuple[float, int, int]] = []
    for r, arr in enumerate(arrays):
        sc = [1.0] * arr.shape[0] if scores is None else list(scores[r])
        if len(sc) != arr.shape[0]:
            raise InvalidInput(
                f"scores[{r}]: need {arr.shape[0]} scores, got {len(sc)}", field=f"scores[{r}]"
            )
        for i, s in enumerate(sc):
            if not (isinstance(s, int | float) and 0.0 <= s <= 1.0):
                path = f"scores[{r}][{i}]"
                raise InvalidInput(f"{path}: must be in [0, 1], got {s!r}", field=path)
            rows.append((float(w[r]) * float(s), r, i))
    rows.sort(key=lambda t: (-t[0], t[1], t[2]))
    corners = [_corners(a) for a in arrays]
    clusters: list[dict[str, Any]] = []
    for weight, r, i in rows:
        box = corners[r][i]
        best = -1
        if clusters:
            fused = np.array([c["fused"] for c in clusters])
            ious = box_iou_array(_xywh(box[None]), _xywh(fused))[0]
            for j in np.argsort(-ious, kind="stable").tolist():
                if ious[j] < iou_threshold:
                    break
                if r not in clusters[j]["raters"]:
                    best = j
                    break
        if best < 0:
            clusters.append({"members": [], "raters": set(), "boxes": [], "w": []})
            best = len(clusters) - 1
        c = clusters[best]
        c["members"].append((r, i))
        c["raters"].add(r)
        c["boxes"].append(box)
        c["w"].append(weight)
        bw = np.array(c["w"])
        if bw.sum() > 0:
            c["fused"] = (np.array(c["boxes"]) * bw[:, None]).sum(axis=0) / bw.sum()
        else:  # zero scores: plain mean
            c["fused"] = np.array(c["boxes"]).mean(axis=0)
    total = float(w.sum())
    out: list[FusedBox] = []
    for c in clusters:
        fused = np.asarray(c["fused"], dtype=np.float64)
        xywh = _xywh(fused[None])[0]
        members = np.array(c["boxes"])
        ious = box_iou_array(_xywh(members), xywh[None])[:, 0]
        out.append(
            FusedBox(
                geometry={
                    "x": float(xywh[0]),
                    "y": float(xywh[1]),
                    "w": float(xywh[2]),
                    "h": float(xywh[3]),
                },
                agreement=float(sum(w[r] for r in c["raters"])) / total,
                support=len(c["raters"]),
                mean_iou=float(ious.mean()),
                score=float(np.mean(c["w"])),
                members=tuple(sorted(c["members"])),
            )
        )
    out.sort(key=lambda b: (-b.agreement, -b.score, b.members))
    return BoxConsensus(
        boxes=tuple(out),
        agreement=float(np.mean([b.agreement for b in out])) if out else None,
        n_raters=len(raters),
        iou_threshold=float(iou_threshold),
    )
