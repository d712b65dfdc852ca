"""``CocoEvaluator``: COCO detection / segmentation / keypoint evaluation as an accumulator.

Numbers equal pycocotools 2.0 ``COCOeval`` (evaluate + accumulate + summarize); see
docs/decisions/0002-coco-evaluation.md for how, and for what input we reject.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from labelproof.errors import InvalidDataset, InvalidInput
from labelproof.metrics.coco._columns import I64
from labelproof.metrics.coco._engine import run
from labelproof.metrics.coco._load import (
    DetMode,
    DtBatch,
    GtBatch,
    detection_mode,
    gc_paused,
    load_dt,
    load_dt_array,
    load_gt,
    read_json,
)
from labelproof.metrics.coco.params import CocoParams, IouType

DET_STAT_NAMES = (
    "AP@[.50:.95] area=all maxDets={m2}",
    "AP@.50 area=all maxDets={m2}",
    "AP@.75 area=all maxDets={m2}",
    "AP@[.50:.95] area=small maxDets={m2}",
    "AP@[.50:.95] area=medium maxDets={m2}",
    "AP@[.50:.95] area=large maxDets={m2}",
    "AR@[.50:.95] area=all maxDets={m0}",
    "AR@[.50:.95] area=all maxDets={m1}",
    "AR@[.50:.95] area=all maxDets={m2}",
    "AR@[.50:.95] area=small maxDets={m2}",
    "AR@[.50:.95] area=medium maxDets={m2}",
    "AR@[.50:.95] area=large maxDets={m2}",
)
KPT_STAT_NAMES = (
    "AP@[.50:.95] area=all maxDets=20",
    "AP@.50 area=all maxDets=20",
    "AP@.75 area=all maxDets=20",
    "AP@[.50:.95] area=medium maxDets=20",
    "AP@[.50:.95] area=large maxDets=20",
    "AR@[.50:.95] area=all maxDets=20",
    "AR@.50 area=all maxDets=20",
    "AR@.75 area=all maxDets=20",
    "AR@[.50:.95] area=medium maxDets=20",
    "AR@[.50:.95] area=large maxDets=20",
)

DEFINITION = (
    "COCO average precision as pycocotools 2.0 COCOeval computes it: per category, "
    "detections are ranked by score and greedily matched to ground truths by {sim} at each "
    "threshold; precision is made monotone and read at 101 recall points; AP is the mean "
    "over thresholds, recall points and categories that have a non-ignored ground truth "
    "(-1 where none has). Crowd ground truths (and, for keypoints, those with no labelled "
    "keypoint) are ignored; so are ground truths whose 'area' is outside the area range. "
    "AR is recall at the given number of detections per image, averaged likewise."
)
_SIM = {"bbox": "box IoU", "segm": "mask IoU", "keypoints": "OKS"}


@dataclass(frozen=True)
class CocoResult:
    """The result of a COCO evaluation.

    Attributes:
        params: what was evaluated.
        stats: the ``COCOeval.summarize()`` numbers (12 for bbox/segm, 10 for keypoints).
        stat_names: a name for each number of ``stats``.
        per_category_ap: category id -> AP@[.50:.95], area all, last maxDets (-1: no
            ground truth). With ``use_cats`` off the single key is -1.
        rec_thrs: recall thresholds (R,) of the curves.
        curves: category id -> {"iou_mean" | "iou_50" | "iou_75": precision (R,)} at area
            all, last maxDets (None where undefined).
        n_images, n_gt, n_dt: images, ground truths, detections evaluated.
        definition: what the numbers mean, in words.
        precision: (T, R, K, A, M) table, as ``COCOeval.eval["precision"]``.
        recall: (T, K, A, M) table, as ``COCOeval.eval["recall"]``.
    """

    params: CocoParams
    stats: tuple[float, ...]
    stat_names: tuple[str, ...]
    per_category_ap: dict[int, float]
    rec_thrs: tuple[float, ...]
    curves: dict[int, dict[str, list[float] | None]]
    n_images: int
    n_gt: int
    n_dt: int
    definition: str
    precision: npt.NDArray[np.float64] = field(repr=False, compare=False)
    recall: npt.NDArray[np.float64] = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (without the full precision/recall tables)."""
        return {
            "iou_type": self.params.iou_type,
            "stats": list(self.stats),
            "stat_names": list(self.stat_names),
            "per_category_ap": {str(k): v for k, v in self.per_category_ap.items()},
            "curves": {
                "recall_thresholds": list(self.rec_thrs),
                "precision": {str(k): v for k, v in self.curves.items()},
            },
            "params": self.params.to_dict(),
            "n_images": self.n_images,
            "n_gt": self.n_gt,
            "n_dt": self.n_dt,
            "definition": self.definition,
        }


class CocoEvaluator:
    """Accumulate COCO ground truth and detections, then compute pycocotools' numbers.

    ``update`` may be called several times: each call adds images (with their
    annotations and categories) and/or detections; detections may only name images and
    categories already added. ``compute`` evaluates everything added; ``reset`` forgets it.
    """

    def __init__(
        self,
        iou_type: IouType = "bbox",
        *,
        iou_thrs: Sequence[float] | None = None,
        rec_thrs: Sequence[float] | None = None,
        max_dets: Sequence[int] | None = None,
        area_rng: Sequence[tuple[float, float]] | None = None,
        area_lbl: Sequence[str] | None = None,
        use_cats: bool = True,
        cat_ids: Sequence[int] | None = None,
        img_ids: Sequence[int] | None = None,
        kpt_sigmas: Sequence[float] | None = None,
    ) -> None:
        kw: dict[str, Any] = {"iou_type": iou_type, "use_cats": use_cats}
        for name, val in (
            ("iou_thrs", iou_thrs),
            ("rec_thrs", rec_thrs),
            ("max_dets", max_dets),
            ("area_lbl", area_lbl),
            ("cat_ids", cat_ids),
            ("img_ids", img_ids),
            ("kpt_sigmas", kpt_sigmas),
        ):
            if val is not None:
                kw[name] = tuple(val)
        if area_rng is not None:
            kw["area_rng"] = tuple(tuple(r) for r in area_rng)
        self.params = CocoParams(**kw)
        self.reset()

    def reset(self) -> None:
        """Forget every image, annotation and detection added."""
        self._gts: list[GtBatch] = []
        self._dts: list[DtBatch] = []
        self._mode: DetMode | None = None
        self._img_ids = np.zeros(0, np.int64)
        self._img_h = np.zeros(0, np.int64)
        self._img_w = np.zeros(0, np.int64)
        self._cat_ids = np.zeros(0, np.int64)
        self._ann_ids = np.zeros(0, np.int64)

    def update(
        self,
        *,
        gt: Mapping[str, Any] | None = None,
        predictions: Sequence[Mapping[str, Any]] | npt.NDArray[Any] | None = None,
        gt_source: str = "<ground truth>",
        pred_source: str = "<predictions>",
    ) -> None:
        """Add ground truth and/or detections.

        Args:
            gt: a parsed COCO ground-truth dict (``images``, ``annotations``,
                ``categories``).
            predictions: a COCO results list (dicts with ``image_id``, ``category_id``,
                ``score`` and ``bbox`` / ``segmentation`` / ``keypoints``), or an (N, 7)
                array ``[image_id, x, y, w, h, score, category_id]`` (boxes).
            gt_source, pred_source: names used in error messages (e.g. file paths).

        Raises:
            InvalidDataset: naming the source, the record and the field at fault.
        """
        with gc_paused():
            if gt is not None:
                self._add_gt(gt, gt_source)
            if predictions is not None:
                self._add_dt(predictions, pred_source)

    def _n_kpt(self) -> int:
        return len(self.params.kpt_sigmas)

    def _add_gt(self, gt: Mapping[str, Any], source: str) -> None:
        batch = load_gt(gt, source, self.params.iou_type, self._n_kpt())
        for ids, known, what in (
            (batch.img_ids, self._img_ids, "image id"),
            (batch.ann_ids, self._ann_ids, "annotation id"),
        ):
            again = np.isin(ids, known)
            if again.any():
                v = int(ids[np.flatnonzero(again)[0]])
                raise InvalidDataset(
                    f"{source}: {what} {v} was already added", field="id", source=source
                )
        ids = np.concatenate([self._img_ids, batch.img_ids])
        order = np.argsort(ids, kind="stable")
        self._img_ids = ids[order]
        self._img_h = np.concatenate([self._img_h, batch.heights])[order]
        self._img_w = np.concatenate([self._img_w, batch.widths])[order]
        self._cat_ids = np.union1d(self._cat_ids, batch.cat_ids)
        self._ann_ids = np.concatenate([self._ann_ids, batch.ann_ids])
        self._gts.append(batch)

    def _add_dt(self, preds: Any, source: str) -> None:
        if isinstance(preds, np.ndarray):
            if self.params.iou_type != "bbox":
                raise InvalidInput(
                    f"a detection array carries boxes only; use records for {self.params.iou_type}",
                    field="predictions",
                )
            if self._mode is None and len(preds):
                self._mode = "bbox"
            batch = load_dt_array(
                preds, source, (self._img_ids, self._img_h, self._img_w), self._cat_ids
            )
        else:
            if not isinstance(preds, list):
                preds = list(preds)
            if not preds:
                return
            if self._mode is None:
                self._mode = detection_mode(preds, source)
            batch = load_dt(
                preds,
                source,
                self.params.iou_type,
                self._mode,
                self._n_kpt(),
                (self._img_ids, self._img_h, self._img_w),
                self._cat_ids,
            )
        self._dts.append(batch)

    def compute(self, stage: Callable[[str], None] | None = None) -> CocoResult:
        """Evaluate everything added; ``stage`` is called with the name of each step."""
        p = self.params
        gt = _concat_gt(self._gts, p.iou_type)
        dt = _concat_dt(self._dts, p.iou_type, self._n_kpt())
        out = run(gt, dt, p, stage)
        return _result(p, out.precision, out.recall, out.img_ids, out.cat_ids, out.n_gt, out.n_dt)


def evaluate_coco_files(
    gt_path: str | Path,
    pred_path: str | Path,
    iou_type: IouType = "bbox",
    *,
    stage: Callable[[str], None] | None = None,
    **params: Any,
) -> CocoResult:
    """Evaluate a COCO results file against a COCO ground-truth file.

    ``params`` are those of ``CocoEvaluator`` (``max_dets``, ``iou_thrs``, ``use_cats``,
    ``cat_ids``, ``img_ids``, ``kpt_sigmas``, ...).
    """
    say = stage or (lambda _s: None)
    ev = CocoEvaluator(iou_type, **params)
    say("reading ground truth")
    gt = read_json(gt_path)
    ev.update(gt=gt, gt_source=str(gt_path))
    del gt
    say("reading detections")
    preds = read_json(pred_path)
    if not isinstance(preds, list):
        raise InvalidDataset(
            f"{pred_path}: detections must be a JSON list of objects",
            field="",
            source=str(pred_path),
        )
    ev.update(predictions=preds, pred_source=str(pred_path))
    del preds
    return ev.compute(stage)


def _concat_gt(batches: list[GtBatch], iou_type: str) -> GtBatch:
    def cat(name: str) -> Any:
        vals = [getattr(b, name) for b in batches]
        if not vals or vals[0] is None:
            return None
        return np.concatenate(vals)

    e = np.zeros(0, np.int64)
    if not batches:
        return GtBatch(
            e,
            e,
            e,
            e,
            e,
            e,
            e,
            np.zeros(0),
            np.zeros(0, bool),
            np.zeros((0, 4)),
            None,
            None,
            [] if iou_type == "segm" else None,
        )
    rles = None
    if iou_type == "segm":
        rles = [r for b in batches for r in (b.rles or [])]
    return GtBatch(
        img_ids=cat("img_ids"),
        heights=cat("heights"),
        widths=cat("widths"),
        cat_ids=np.unique(cat("cat_ids")),
        ann_ids=cat("ann_ids"),
        ann_img=cat("ann_img"),
        ann_cat=cat("ann_cat"),
        area=cat("area"),
        crowd=cat("crowd"),
        bbox=cat("bbox"),
        keypoints=cat("keypoints"),
        num_keypoints=cat("num_keypoints"),
        rles=rles,
    )


def _concat_dt(batches: list[DtBatch], iou_type: str, n_kpt: int) -> DtBatch:
    e = np.zeros(0, np.int64)
    if not batches:
        return DtBatch(
            e, e, np.zeros(0), np.zeros(0), np.zeros((0, 4)), np.zeros((0, 3 * n_kpt)), []
        )
    if len(batches) == 1:
        return batches[0]

    def cat(name: str) -> Any:
        vals = [getattr(b, name) for b in batches]
        return None if vals[0] is None else np.concatenate(vals)

    rles = [r for b in batches for r in (b.rles or [])] if iou_type == "segm" else None
    return DtBatch(
        img=cat("img"),
        cat=cat("cat"),
        score=cat("score"),
        area=cat("area"),
        bbox=cat("bbox"),
        keypoints=cat("keypoints"),
        rles=rles,
    )


def _result(
    p: CocoParams,
    precision: Any,
    recall: Any,
    img_ids: I64,
    cat_ids: I64,
    n_gt: int,
    n_dt: int,
) -> CocoResult:
    from labelproof.metrics.coco._accumulate import summarize

    assert p.max_dets is not None and p.area_lbl is not None
    thrs = p.iou_thrs_array()
    kp = p.iou_type == "keypoints"
    stats = summarize(precision, recall, thrs, p.area_lbl, p.max_dets, kp)
    names: tuple[str, ...] = KPT_STAT_NAMES
    if not kp:
        m0, m1, m2 = p.max_dets[:3]
        fmt = [s.format(m0=m0, m1=m1, m2=m2) for s in DET_STAT_NAMES]
        names = (DET_STAT_NAMES[0].format(m2=100), *fmt[1:])
    keys = [int(c) for c in cat_ids] if p.use_cats else [-1]
    per_cat: dict[int, float] = {}
    curves: dict[int, dict[str, list[float] | None]] = {}
    t50 = np.flatnonzero(thrs == 0.5)
    t75 = np.flatnonzero(thrs == 0.75)
    for k, cid in enumerate(keys):
        pk = precision[:, :, k, 0, -1]  # (T, R)
        valid = pk[pk > -1]
        per_cat[cid] = float(np.mean(valid)) if len(valid) else -1.0
        defined = bool((pk > -1).all())
        curves[cid] = {
            "iou_mean": [float(v) for v in pk.mean(axis=0)] if defined else None,
            "iou_50": [float(v) for v in pk[t50[0]]] if defined and len(t50) else None,
            "iou_75": [float(v) for v in pk[t75[0]]] if defined and len(t75) else None,
        }
    return CocoResult(
        params=p,
        stats=tuple(stats),
        stat_names=names,
        per_category_ap=per_cat,
        rec_thrs=p.rec_thrs,
        curves=curves,
        n_images=len(img_ids),
        n_gt=n_gt,
        n_dt=n_dt,
        definition=DEFINITION.format(sim=_SIM[p.iou_type]),
        precision=precision,
        recall=recall,
    )
