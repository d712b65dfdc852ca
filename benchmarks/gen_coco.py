"""Generate a seeded, realistic COCO ground truth + results pair for benchmarks.

bbox (scale 1): 5,000 images, ~36,000 ground truths, 500,000 detections, 80 categories.
segm (scale 1): 1,000 images, ~7,200 ground truths (polygons), 100,000 detections (RLE).
Box sizes are log-normal, about 1% of ground truths are crowd regions, detection scores
come from two beta distributions (true positives high, false positives low) rounded to
float32, categories follow a long-tailed distribution.

    python benchmarks/gen_coco.py --iou-type bbox --scale 0.1 --out /tmp/coco_bench
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import orjson

N_CATS = 80
IMG_W, IMG_H = 640, 480


def _boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 4) log-normal sized boxes inside a 640x480 image."""
    w = np.clip(np.exp(rng.normal(np.log(70), 0.9, n)), 2, IMG_W - 1)
    h = np.clip(w * np.exp(rng.normal(0, 0.4, n)), 2, IMG_H - 1)
    x = rng.uniform(0, 1, n) * (IMG_W - w)
    y = rng.uniform(0, 1, n) * (IMG_H - h)
    return np.round(np.stack([x, y, w, h], axis=1), 2)


def generate(iou_type: str, scale: float, seed: int) -> tuple[dict[str, Any], list[Any]]:
    rng = np.random.default_rng(seed)
    n_img = max(1, round((5000 if iou_type == "bbox" else 1000) * scale))
    n_det = max(1, round((500_000 if iou_type == "bbox" else 100_000) * scale))
    cat_p = 1.0 / np.arange(1, N_CATS + 1) ** 0.8
    cat_p /= cat_p.sum()
    cat_ids = np.arange(1, N_CATS + 1) + (np.arange(N_CATS) // 10)  # non-contiguous ids
    gt_per_img = rng.poisson(7.2, n_img)
    n_gt = int(gt_per_img.sum())
    g_img = np.repeat(np.arange(n_img), gt_per_img)
    g_box = _boxes(rng, n_gt)
    g_cat = cat_ids[rng.choice(N_CATS, n_gt, p=cat_p)]
    g_crowd = rng.random(n_gt) < 0.01
    g_box[g_crowd, 2:] = np.minimum(g_box[g_crowd, 2:] * 2.5, [IMG_W - 1, IMG_H - 1])
    g_box[:, 0] = np.minimum(g_box[:, 0], IMG_W - g_box[:, 2])
    g_box[:, 1] = np.minimum(g_box[:, 1], IMG_H - g_box[:, 3])
    g_area = np.round(g_box[:, 2] * g_box[:, 3] * rng.uniform(0.5, 0.9, n_gt), 2)

    # detections: ~60% around ground truths (jittered, sometimes wrong class), rest random
    n_tp = int(n_det * 0.6)
    src = rng.integers(0, n_gt, n_tp)
    jit = rng.normal(0, 0.12, (n_tp, 4)) * np.repeat(g_box[src, 2:], 2, axis=1)
    d_box_tp = g_box[src] + jit
    d_box_tp[:, 2:] = np.maximum(d_box_tp[:, 2:], 1)
    d_box_tp[:, :2] = np.maximum(d_box_tp[:, :2], 0)
    d_cat_tp = np.where(rng.random(n_tp) < 0.9, g_cat[src], cat_ids[rng.integers(0, N_CATS, n_tp)])
    d_img = np.concatenate([g_img[src], rng.integers(0, n_img, n_det - n_tp)])
    d_box = np.concatenate([d_box_tp, _boxes(rng, n_det - n_tp)])
    d_cat = np.concatenate([d_cat_tp, cat_ids[rng.choice(N_CATS, n_det - n_tp, p=cat_p)]])
    d_score = np.concatenate([rng.beta(5, 2, n_tp), rng.beta(1.2, 6, n_det - n_tp)])
    d_score = d_score.astype(np.float32).astype(np.float64)
    perm = rng.permutation(n_det)
    d_img, d_box, d_cat, d_score = d_img[perm], np.round(d_box[perm], 2), d_cat[perm], d_score[perm]

    img_ids = 100_000 + np.arange(n_img) * 7
    images = [
        {"id": int(i), "width": IMG_W, "height": IMG_H, "file_name": f"{i}.jpg"} for i in img_ids
    ]
    cats = [{"id": int(c), "name": f"class{c}", "supercategory": "thing"} for c in cat_ids]
    anns: list[dict[str, Any]] = []
    for k in range(n_gt):
        x, y, w, h = (float(v) for v in g_box[k])
        a: dict[str, Any] = {
            "id": k + 1,
            "image_id": int(img_ids[g_img[k]]),
            "category_id": int(g_cat[k]),
            "bbox": [x, y, w, h],
            "area": float(g_area[k]),
            "iscrowd": int(g_crowd[k]),
        }
        a["segmentation"] = _ellipse(x, y, w, h) if iou_type == "segm" else []
        anns.append(a)
    gt = {"images": images, "annotations": anns, "categories": cats}
    if iou_type == "bbox":
        dets: list[Any] = [
            {
                "image_id": int(img_ids[i]),
                "category_id": int(c),
                "bbox": [float(v) for v in b],
                "score": float(s),
            }
            for i, c, b, s in zip(d_img, d_cat, d_box, d_score, strict=True)
        ]
    else:
        dets = _segm_dets(img_ids, d_img, d_cat, d_box, d_score)
    return gt, dets


def _ellipse(x: float, y: float, w: float, h: float, n: int = 12) -> list[list[float]]:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    px = x + w / 2 + np.cos(t) * w / 2
    py = y + h / 2 + np.sin(t) * h / 2
    return [[round(float(v), 2) for pair in zip(px, py, strict=True) for v in pair]]


def _segm_dets(img_ids: Any, d_img: Any, d_cat: Any, d_box: Any, d_score: Any) -> list[Any]:
    from pycocotools import mask as mask_utils

    polys = [_ellipse(*(float(v) for v in b))[0] for b in d_box]
    rles = mask_utils.frPyObjects(polys, IMG_H, IMG_W)
    return [
        {
            "image_id": int(img_ids[i]),
            "category_id": int(c),
            "score": float(s),
            "segmentation": {"size": [IMG_H, IMG_W], "counts": r["counts"].decode()},
        }
        for i, c, s, r in zip(d_img, d_cat, d_score, rles, strict=True)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iou-type", choices=["bbox", "segm"], default="bbox")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    args = ap.parse_args()
    gt, dets = generate(args.iou_type, args.scale, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gt.json").write_bytes(orjson.dumps(gt))
    (args.out / "pred.json").write_bytes(orjson.dumps(dets))
    print(
        f"{len(gt['images'])} images, {len(gt['annotations'])} gt, {len(dets)} dets -> {args.out}"
    )


if __name__ == "__main__":
    main()
