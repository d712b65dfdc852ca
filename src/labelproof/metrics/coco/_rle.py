"""COCO segmentations (polygons, uncompressed or compressed RLE) to compressed RLE dicts.

The conversion is pycocotools ``COCO.annToRLE``: polygons are rasterised with
``frPyObjects`` at the image size and merged; an uncompressed RLE is compressed; a
compressed RLE is kept. Sizes must equal the image's ``[height, width]``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from labelproof.metrics.coco._columns import I64, Records


def to_rles(recs: Records, segs: list[Any], heights: I64, widths: I64) -> list[dict[str, Any]]:
    """One compressed RLE dict per segmentation; ``heights``/``widths`` (N,) image sizes."""
    from pycocotools import mask as mask_utils

    out: list[dict[str, Any] | None] = [None] * len(segs)
    polys: dict[tuple[int, int], list[tuple[int, list[list[float]]]]] = {}
    key = "segmentation"
    for i, s in enumerate(segs):
        h, w = int(heights[i]), int(widths[i])
        if isinstance(s, dict):
            size, counts = s.get("size"), s.get("counts")
            if not (isinstance(size, list) and len(size) == 2):
                raise recs.error(i, key, f"RLE needs 'size': [height, width], got {size!r}")
            if size[0] != h or size[1] != w:
                raise recs.error(i, key, f"RLE size {size} differs from the image size [{h}, {w}]")
            if isinstance(counts, str):
                out[i] = s
            elif isinstance(counts, list):
                if not all(
                    isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts
                ):
                    raise recs.error(i, key, "RLE counts must be non-negative integers")
                if sum(counts) != h * w:
                    raise recs.error(
                        i, key, f"RLE counts sum to {sum(counts)}, not height*width = {h * w}"
                    )
                out[i] = mask_utils.frPyObjects({"size": [h, w], "counts": counts}, h, w)
            else:
                raise recs.error(i, key, "RLE 'counts' must be a string or a list of integers")
        elif isinstance(s, list):
            if not s:
                raise recs.error(i, key, "has no polygon")
            for j, p in enumerate(s):
                if not (
                    isinstance(p, list)
                    and len(p) >= 6
                    and len(p) % 2 == 0
                    and all(
                        isinstance(v, int | float)
                        and not isinstance(v, bool)
                        and math.isfinite(v)
                        and v >= 0
                        for v in p
                    )
                ):
                    raise recs.error(
                        i,
                        key,
                        f"polygon {j} must be an even list of >= 6 finite non-negative numbers",
                    )
            if h <= 0 or w <= 0:
                raise recs.error(i, key, "a polygon needs the image's height and width")
            polys.setdefault((h, w), []).append((i, s))
        else:
            raise recs.error(i, key, "must be a list of polygons or an RLE object")
    for (h, w), items in polys.items():
        flat = [p for _, s in items for p in s]
        rles = mask_utils.frPyObjects(flat, h, w)
        k = 0
        for i, s in items:
            part = rles[k : k + len(s)]
            k += len(s)
            out[i] = part[0] if len(part) == 1 else mask_utils.merge(part)
    result = [r for r in out if r is not None]
    assert len(result) == len(segs)
    return result


def rle_boxes(rles: list[dict[str, Any]]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Bounding boxes (N, 4) ``[x, y, w, h]`` of compressed RLEs."""
    from pycocotools import mask as mask_utils

    if not rles:
        return np.zeros((0, 4), dtype=np.float64)
    return np.asarray(mask_utils.toBbox(rles), dtype=np.float64).reshape(-1, 4)


def rle_areas(rles: list[dict[str, Any]]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Pixel counts (N,) of compressed RLEs.

    ``pycocotools.mask.area`` overflows on lists of 256 or more under numpy 2 (it sizes a
    scratch array as uint8), so it is called in chunks of 255.
    """
    from pycocotools import mask as mask_utils

    out = np.zeros(len(rles), dtype=np.float64)
    for i in range(0, len(rles), 255):
        out[i : i + 255] = mask_utils.area(rles[i : i + 255])
    return out
