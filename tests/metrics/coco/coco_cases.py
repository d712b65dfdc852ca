"""Helpers for the COCO tests: seeded random datasets and pycocotools as the reference."""

from __future__ import annotations

import contextlib
import copy
import io
from typing import Any

import numpy as np

from labelproof.metrics.coco import CocoEvaluator, CocoResult

N_KPT = 17


def random_dataset(
    seed: int,
    *,
    n_images: int = 12,
    n_cats: int = 4,
    iou_type: str = "bbox",
    tie_scores: bool = False,
    crowd_rate: float = 0.1,
    empty_images: bool = True,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A random COCO ground truth and results list with the usual corner cases."""
    from pycocotools import mask as mask_utils

    rng = np.random.default_rng(seed)
    images, anns, dets = [], [], []
    cats = [{"id": int(c), "name": f"c{c}"} for c in rng.choice(50, n_cats, replace=False) + 1]
    cat_ids = [c["id"] for c in cats]
    ann_id = int(rng.integers(0, 2))  # sometimes a ground truth with id 0
    for i in range(n_images):
        h, w = int(rng.integers(40, 200)), int(rng.integers(40, 200))
        img_id = int(rng.integers(1, 10_000)) * 10 + i
        images.append({"id": img_id, "height": h, "width": w})
        n_gt = 0 if (empty_images and i % 5 == 4) else int(rng.integers(0, 8))
        for _ in range(n_gt):
            bw = float(rng.uniform(1, w / 2)) if rng.random() > 0.3 else float(rng.uniform(1, 12))
            bh = float(rng.uniform(1, h / 2)) if rng.random() > 0.3 else float(rng.uniform(1, 12))
            x, y = float(rng.uniform(0, w - bw)), float(rng.uniform(0, h - bh))
            if rng.random() < 0.5:
                x, y, bw, bh = round(x), round(y), max(1, round(bw)), max(1, round(bh))
            cat = int(rng.choice(cat_ids))
            crowd = int(rng.random() < crowd_rate)
            a: dict[str, Any] = {
                "id": ann_id,
                "image_id": img_id,
                "category_id": cat,
                "bbox": [x, y, bw, bh],
                "iscrowd": crowd,
                "area": float(bw * bh * rng.choice([1.0, 0.7, 1.3])),
            }
            if rng.random() < 0.1:
                a["ignore"] = 1
            if iou_type == "segm":
                a["segmentation"] = _poly(rng, x, y, bw, bh)
                if crowd and rng.random() < 0.5:
                    rle = mask_utils.frPyObjects(a["segmentation"], h, w)
                    m = mask_utils.decode(mask_utils.merge(rle))
                    a["segmentation"] = _uncompressed(m)
            if iou_type == "keypoints":
                kp, nk = _keypoints(rng, x, y, bw, bh)
                a["keypoints"], a["num_keypoints"] = kp, nk
            anns.append(a)
            ann_id += 1
            for _ in range(int(rng.integers(0, 4))):
                dets.append(_det(rng, a, cat_ids, h, w, iou_type, tie_scores, img_id))
        for _ in range(int(rng.integers(0, 5))):
            bw, bh = float(rng.uniform(2, w / 2)), float(rng.uniform(2, h / 2))
            fake = {
                "bbox": [float(rng.uniform(0, w - bw)), float(rng.uniform(0, h - bh)), bw, bh],
                "category_id": int(rng.choice(cat_ids)),
                "keypoints": _keypoints(rng, 0, 0, bw, bh)[0],
            }
            dets.append(_det(rng, fake, cat_ids, h, w, iou_type, tie_scores, img_id))
    gt = {"images": images, "annotations": anns, "categories": cats}
    return gt, dets


def _poly(rng: np.random.Generator, x: float, y: float, w: float, h: float) -> list[list[float]]:
    n = int(rng.integers(3, 8))
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    cx, cy = x + w / 2, y + h / 2
    px = cx + np.cos(ang) * w / 2 * rng.uniform(0.6, 1.0, n)
    py = cy + np.sin(ang) * h / 2 * rng.uniform(0.6, 1.0, n)
    return [[float(v) for pair in zip(px, py, strict=True) for v in pair]]


def _uncompressed(m: np.ndarray) -> dict[str, Any]:
    flat = m.flatten(order="F")
    counts, last, run = [], 0, 0
    for v in flat:
        if v != last:
            counts.append(run)
            run, last = 0, v
        run += 1
    counts.append(run)
    return {"size": list(m.shape), "counts": [int(c) for c in counts]}


def _keypoints(
    rng: np.random.Generator, x: float, y: float, w: float, h: float
) -> tuple[list[float], int]:
    out: list[float] = []
    nk = 0
    for _ in range(N_KPT):
        v = int(rng.choice([0, 1, 2], p=[0.3, 0.2, 0.5]))
        if v:
            out += [float(rng.uniform(x, x + w)), float(rng.uniform(y, y + h)), float(v)]
            nk += 1
        else:
            out += [0.0, 0.0, 0.0]
    if rng.random() < 0.1:
        out = [0.0] * (3 * N_KPT)
        nk = 0
    return out, nk


def _det(
    rng: np.random.Generator,
    a: dict[str, Any],
    cat_ids: list[int],
    h: int,
    w: int,
    iou_type: str,
    ties: bool,
    img_id: int,
) -> dict[str, Any]:
    from pycocotools import mask as mask_utils

    x, y, bw, bh = a["bbox"]
    j = rng.normal(0, 0.15, 4) * [bw, bh, bw, bh]
    nx, ny = max(0.0, x + j[0]), max(0.0, y + j[1])
    nw, nh = max(0.5, bw + j[2]), max(0.5, bh + j[3])
    nw, nh = min(nw, w - nx), min(nh, h - ny)
    score = float(rng.choice([0.5, 0.7, 0.9])) if ties else float(rng.random())
    cat = a["category_id"] if rng.random() < 0.85 else int(rng.choice(cat_ids))
    d: dict[str, Any] = {"image_id": img_id, "category_id": cat, "score": score}
    if iou_type == "bbox":
        d["bbox"] = [float(nx), float(ny), float(nw), float(nh)]
    elif iou_type == "segm":
        src = a.get("segmentation")
        if isinstance(src, list) and rng.random() < 0.8:
            pts = np.array(src[0]) + rng.normal(0, 0.03 * max(bw, bh), len(src[0]))
            poly = [[float(v) for v in np.clip(pts, 0, None)]]
        else:
            poly = _poly(rng, nx, ny, nw, nh)
        rle = mask_utils.merge(mask_utils.frPyObjects(poly, h, w))
        d["segmentation"] = {"size": [h, w], "counts": rle["counts"].decode()}
    else:
        kp = np.array(a["keypoints"], dtype=float).reshape(-1, 3)
        kp[:, 0] = np.clip(kp[:, 0] + rng.normal(0, 0.7, len(kp)), 0, None)
        kp[:, 1] = np.clip(kp[:, 1] + rng.normal(0, 0.7, len(kp)), 0, None)
        kp[:, 2] = 1
        d["keypoints"] = [float(v) for v in kp.ravel()]
    return d


def reference(
    gt: dict[str, Any], dets: list[dict[str, Any]], iou_type: str, **params: Any
) -> tuple[np.ndarray, dict[str, Any]]:
    """pycocotools' ``stats`` and ``eval`` for the same input, its prints silenced."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO()
        cg.dataset = copy.deepcopy(gt)
        cg.createIndex()
        cd = cg.loadRes(copy.deepcopy(dets))
        ev = COCOeval(cg, cd, iou_type)
        names = {
            "iou_thrs": "iouThrs",
            "max_dets": "maxDets",
            "use_cats": "useCats",
            "cat_ids": "catIds",
            "img_ids": "imgIds",
            "kpt_sigmas": "kpt_oks_sigmas",
            "area_rng": "areaRng",
            "area_lbl": "areaRngLbl",
            "rec_thrs": "recThrs",
        }
        for k, v in params.items():
            val: Any = v
            if k in ("iou_thrs", "kpt_sigmas", "rec_thrs"):
                val = np.array(v, dtype=float)
            elif k == "use_cats":
                val = int(v)
            elif k in ("cat_ids", "img_ids", "max_dets", "area_lbl", "area_rng"):
                val = [list(x) if isinstance(x, tuple) else x for x in v]
            setattr(ev.params, names[k], val)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats), ev.eval


def ours(
    gt: dict[str, Any], dets: list[dict[str, Any]], iou_type: str, **params: Any
) -> CocoResult:
    ev = CocoEvaluator(iou_type, **params)  # type: ignore[arg-type]
    ev.update(gt=copy.deepcopy(gt), predictions=copy.deepcopy(dets))
    return ev.compute()


def assert_same(
    gt: dict[str, Any], dets: list[dict[str, Any]], iou_type: str, **params: Any
) -> CocoResult:
    """Compare stats (1e-9) and the full precision/recall tables with pycocotools."""
    ref_stats, ref_eval = reference(gt, dets, iou_type, **params)
    res = ours(gt, dets, iou_type, **params)
    np.testing.assert_allclose(np.asarray(res.stats), ref_stats, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.precision, ref_eval["precision"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.recall, ref_eval["recall"], rtol=0, atol=1e-12)
    return res
