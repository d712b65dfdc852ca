"""IoU of COCO RLE masks with pycocotools (no crowd handling).

Shapes: ``a`` holds N masks, ``b`` M masks, all of one image size; the result is an
(N, M) float64 matrix in [0, 1] (``pycocotools.mask.iou`` with ``iscrowd`` all 0). Two
empty masks have IoU 0, pycocotools' convention (the union is empty).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.errors import InvalidGeometry
from labelproof.metrics.similarity._common import as_list, empty, key, parse_each

F64 = NDArray[np.float64]


def _rle(g: Any, path: str) -> dict[str, Any]:
    rle = key(g, "rle", path)
    size = key(rle, "size", f"{path}.rle")
    counts = key(rle, "counts", f"{path}.rle")
    if isinstance(counts, str):
        counts = counts.encode("ascii")
    if not isinstance(counts, bytes):
        raise InvalidGeometry(
            f"{path}.rle.counts: must be a compressed RLE string (canonical form), got "
            f"{type(counts).__name__}",
            field=f"{path}.rle.counts",
        )
    h, w = (int(v) for v in size)
    return {"size": [h, w], "counts": counts}


def mask_rles(geometries: Sequence[Any], field: str = "a") -> list[dict[str, Any]]:
    """Canonical ``mask`` geometries -> pycocotools RLE objects (counts as bytes)."""
    return parse_each(as_list(geometries, field), field, _rle)


def _check_sizes(ra: list[dict[str, Any]], rb: list[dict[str, Any]]) -> None:
    if not ra and not rb:
        return
    first = (ra or rb)[0]["size"]
    for name, rles in (("a", ra), ("b", rb)):
        for i, r in enumerate(rles):
            if r["size"] != first:
                path = f"{name}[{i}].rle.size"
                raise InvalidGeometry(
                    f"{path}: {r['size']} differs from the first mask's size {first}; "
                    "masks compared must share one image size",
                    field=path,
                )


def mask_iou(a: Sequence[Any], b: Sequence[Any]) -> F64:
    """IoU of canonical ``mask`` geometries: a (N) x b (M) -> (N, M) float64 in [0, 1]."""
    ra, rb = mask_rles(a, "a"), mask_rles(b, "b")
    _check_sizes(ra, rb)
    if not ra or not rb:
        return empty(len(ra), len(rb))
    from pycocotools import mask as mask_utils

    iou = mask_utils.iou(ra, rb, [0] * len(rb))
    return np.asarray(iou, dtype=np.float64).reshape(len(ra), len(rb))
