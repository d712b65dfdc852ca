"""Parameters of a COCO evaluation, with pycocotools' defaults.

The defaults and the way they are normalised (image ids and category ids de-duplicated and
sorted, ``max_dets`` sorted) are those of pycocotools 2.0 ``Params`` and
``COCOeval.evaluate``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from labelproof.errors import InvalidInput

IouType = Literal["bbox", "segm", "keypoints"]
IOU_TYPES: tuple[IouType, ...] = ("bbox", "segm", "keypoints")

#: COCO person keypoint sigmas (17 keypoints), as in pycocotools.
_SIGMAS_X10 = [0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07]
_SIGMAS_X10 += [0.87, 0.87, 0.89, 0.89]
COCO_KPT_SIGMAS: tuple[float, ...] = tuple(float(s) for s in np.array(_SIGMAS_X10) / 10.0)


def default_iou_thrs() -> tuple[float, ...]:
    """IoU thresholds .50:.05:.95 (10 values), computed exactly as pycocotools does."""
    n = int(np.round((0.95 - 0.5) / 0.05)) + 1
    return tuple(float(v) for v in np.linspace(0.5, 0.95, n, endpoint=True))


def default_rec_thrs() -> tuple[float, ...]:
    """Recall thresholds 0:.01:1 (101 values), computed exactly as pycocotools does."""
    n = int(np.round((1.00 - 0.0) / 0.01)) + 1
    return tuple(float(v) for v in np.linspace(0.0, 1.00, n, endpoint=True))


_DET_AREAS = ((0.0, 1e5**2), (0.0, 32.0**2), (32.0**2, 96.0**2), (96.0**2, 1e5**2))
_KPT_AREAS = ((0.0, 1e5**2), (32.0**2, 96.0**2), (96.0**2, 1e5**2))


@dataclass(frozen=True)
class CocoParams:
    """What a COCO evaluation computes.

    Attributes:
        iou_type: ``"bbox"``, ``"segm"`` or ``"keypoints"``.
        iou_thrs: IoU (or OKS) thresholds, shape (T,); default .50:.05:.95.
        rec_thrs: recall thresholds, shape (R,); default 0:.01:1.
        max_dets: detections kept per image (per category when ``use_cats``), ascending;
            default (1, 10, 100) for bbox/segm, (20,) for keypoints.
        area_rng: area ranges in square pixels, ``((lo, hi), ...)`` inclusive at both ends.
        area_lbl: one label per range (``"all"``, ``"small"``, ...).
        use_cats: False evaluates class-agnostically (pycocotools ``useCats=0``).
        cat_ids: categories evaluated; None means every category of the ground truth.
        img_ids: images evaluated; None means every image of the ground truth.
        kpt_sigmas: per-keypoint OKS sigmas, shape (K,); keypoints only.
    """

    iou_type: IouType = "bbox"
    iou_thrs: tuple[float, ...] = field(default_factory=default_iou_thrs)
    rec_thrs: tuple[float, ...] = field(default_factory=default_rec_thrs)
    max_dets: tuple[int, ...] | None = None
    area_rng: tuple[tuple[float, float], ...] | None = None
    area_lbl: tuple[str, ...] | None = None
    use_cats: bool = True
    cat_ids: tuple[int, ...] | None = None
    img_ids: tuple[int, ...] | None = None
    kpt_sigmas: tuple[float, ...] = COCO_KPT_SIGMAS

    def __post_init__(self) -> None:
        if self.iou_type not in IOU_TYPES:
            raise InvalidInput(
                f"iou_type must be one of {', '.join(IOU_TYPES)}, got {self.iou_type!r}",
                field="iou_type",
            )
        kp = self.iou_type == "keypoints"
        if self.max_dets is None:
            object.__setattr__(self, "max_dets", (20,) if kp else (1, 10, 100))
        if self.area_rng is None:
            object.__setattr__(self, "area_rng", _KPT_AREAS if kp else _DET_AREAS)
            if self.area_lbl is None:
                lbl = ("all", "medium", "large") if kp else ("all", "small", "medium", "large")
                object.__setattr__(self, "area_lbl", lbl)
        if self.area_lbl is None:
            raise InvalidInput("area_lbl is required with a custom area_rng", field="area_lbl")
        object.__setattr__(self, "iou_thrs", _floats(self.iou_thrs, "iou_thrs", 0.0, 1.0))
        object.__setattr__(self, "rec_thrs", _floats(self.rec_thrs, "rec_thrs", 0.0, 1.0))
        object.__setattr__(self, "kpt_sigmas", _floats(self.kpt_sigmas, "kpt_sigmas", 0.0, None))
        md = self.max_dets
        assert md is not None
        if len(md) == 0 or any(not _is_int(m) or m < 1 for m in md):
            raise InvalidInput(f"max_dets must be positive integers, got {md!r}", field="max_dets")
        object.__setattr__(self, "max_dets", tuple(sorted(int(m) for m in md)))
        if not kp and len(md) < 3:
            raise InvalidInput(
                f"max_dets needs at least 3 values for {self.iou_type} (the summary reads "
                f"the 1st, 2nd and 3rd), got {md!r}",
                field="max_dets",
            )
        rng = self.area_rng
        assert rng is not None and self.area_lbl is not None
        if len(rng) != len(self.area_lbl) or len(rng) == 0:
            raise InvalidInput(
                "area_rng and area_lbl must have the same non-zero length", field="area_rng"
            )
        pairs = []
        for i, r in enumerate(rng):
            if len(r) != 2 or not all(isinstance(v, int | float) for v in r):
                raise InvalidInput(f"area_rng[{i}] must be (lo, hi), got {r!r}", field="area_rng")
            pairs.append((float(r[0]), float(r[1])))
        object.__setattr__(self, "area_rng", tuple(pairs))
        object.__setattr__(self, "area_lbl", tuple(str(x) for x in self.area_lbl))
        for name in ("cat_ids", "img_ids"):
            ids = getattr(self, name)
            if ids is None:
                continue
            if any(not _is_int(i) for i in ids):
                raise InvalidInput(f"{name} must be integers, got {ids!r}", field=name)
            object.__setattr__(self, name, tuple(sorted({int(i) for i in ids})))

    def iou_thrs_array(self) -> npt.NDArray[np.float64]:
        """The IoU thresholds as a float64 array, shape (T,)."""
        return np.asarray(self.iou_thrs, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as JSON-ready values."""
        return {
            "iou_type": self.iou_type,
            "iou_thrs": list(self.iou_thrs),
            "rec_thrs": list(self.rec_thrs),
            "max_dets": list(self.max_dets or ()),
            "area_rng": [list(r) for r in self.area_rng or ()],
            "area_lbl": list(self.area_lbl or ()),
            "use_cats": self.use_cats,
            "cat_ids": None if self.cat_ids is None else list(self.cat_ids),
            "img_ids": None if self.img_ids is None else list(self.img_ids),
            "kpt_sigmas": list(self.kpt_sigmas) if self.iou_type == "keypoints" else None,
        }


def _is_int(v: object) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def _floats(values: Sequence[float], name: str, lo: float, hi: float | None) -> tuple[float, ...]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float | np.floating | np.integer):
            raise InvalidInput(f"{name} must be numbers, got {v!r}", field=name)
        f = float(v)
        if (
            not math.isfinite(f)
            or f < lo
            or (hi is not None and f > hi)
            or (hi is None and f <= lo)
        ):
            bound = f"[{lo}, {hi}]" if hi is not None else f"> {lo}"
            raise InvalidInput(f"{name} values must be in {bound}, got {v!r}", field=name)
        out.append(f)
    if not out:
        raise InvalidInput(f"{name} must not be empty", field=name)
    return tuple(out)
