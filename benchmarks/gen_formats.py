"""Generate a seeded COCO instances file of plain boxes for the format benchmarks.

Issue scale: 50,000 images, 1,000,000 annotations, 80 categories (non-contiguous ids),
log-normal box sizes inside 640x480 images, ~1% crowd, varying annotations per image.
The JSON text is written with vectorised formatting (no Python object per annotation).

    python benchmarks/gen_formats.py --images 5000 --annotations 100000 --out /tmp/f/coco.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import orjson

from labelproof.formats import _numfmt as nf

N_CATS = 80
IMG_W, IMG_H = 640, 480


def generate(n_images: int, n_annotations: int, seed: int, out: Path) -> None:
    rng = np.random.default_rng(seed)
    img_ids = 1 + np.arange(n_images, dtype=np.int64) * 3
    cat_ids = np.arange(1, N_CATS + 1) + np.arange(N_CATS) // 10
    p = 1.0 / np.arange(1, N_CATS + 1) ** 0.8
    img_of = np.sort(rng.integers(0, n_images, n_annotations)) if n_images else np.zeros(0, int)
    n = n_annotations
    w = np.clip(np.exp(rng.normal(np.log(60), 0.9, n)), 2, IMG_W - 1)
    h = np.clip(w * np.exp(rng.normal(0, 0.4, n)), 2, IMG_H - 1)
    x = rng.uniform(0, 1, n) * (IMG_W - w)
    y = rng.uniform(0, 1, n) * (IMG_H - h)
    box = np.floor(np.stack([x, y, w, h], axis=1) * 100) / 100
    cat = cat_ids[rng.choice(N_CATS, n, p=p / p.sum())]
    crowd = (rng.random(n) < 0.01).astype(np.int64)
    area = np.round(box[:, 2] * box[:, 3], 2)
    head = {
        "info": {"description": "labelproof benchmark", "year": 2025},
        "licenses": [],
        "images": [
            {"id": int(i), "file_name": f"{int(i):012d}.jpg", "width": IMG_W, "height": IMG_H}
            for i in img_ids
        ],
        "categories": [
            {"id": int(c), "name": f"class_{int(c)}", "supercategory": "thing"} for c in cat_ids
        ],
    }
    text = orjson.dumps(head)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as f:
        f.write(text[:-1] + b',"annotations":[')
        step = 200_000
        for s in range(0, n, step):
            e = min(n, s + step)
            k = e - s
            parts: list[nf.Column | bytes] = [
                b'{"id":',
                nf.integers(np.arange(s + 1, e + 1)),
                b',"image_id":',
                nf.integers(img_ids[img_of[s:e]]),
                b',"category_id":',
                nf.integers(cat[s:e]),
                b',"bbox":[',
                nf.fixed(box[s:e, 0], 2),
                b",",
                nf.fixed(box[s:e, 1], 2),
                b",",
                nf.fixed(box[s:e, 2], 2),
                b",",
                nf.fixed(box[s:e, 3], 2),
                b'],"area":',
                nf.fixed(area[s:e], 2),
                b',"iscrowd":',
                nf.integers(crowd[s:e]),
                b',"segmentation":[]},',
            ]
            body, _ = nf.join_lines(parts, k)
            if e == n:
                body = body[:-1]
            f.write(body)
        f.write(b"]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=50_000)
    ap.add_argument("--annotations", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True, help="output JSON file")
    args = ap.parse_args()
    generate(args.images, args.annotations, args.seed, args.out)
    print(f"{args.images} images, {args.annotations} annotations -> {args.out}")


if __name__ == "__main__":
    main()
