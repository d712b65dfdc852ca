"""Mask conversions between COCO RLE (canonical, column-major, whole image) and CVAT's mask
RLE (row-major run lengths over the mask's bounding box ``left, top, width, height``,
background run first)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def decode_coco(rle: dict[str, Any]) -> NDArray[np.bool_]:
    """(H, W) bool mask of canonical COCO RLE geometry ``{"size", "counts"}``."""
    from pycocotools import mask as mask_utils

    obj = {"size": rle["size"], "counts": rle["counts"].encode()}
    return np.asarray(mask_utils.decode(obj), dtype=bool)


def encode_coco(bits: NDArray[np.bool_]) -> dict[str, Any]:
    """Canonical ``{"size": [H, W], "counts": str}`` of an (H, W) bool mask."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(bits.astype(np.uint8)))
    return {"size": [int(bits.shape[0]), int(bits.shape[1])], "counts": rle["counts"].decode()}


def runs(flat: NDArray[np.bool_]) -> list[int]:
    """Run lengths of a 1-D bool array, starting with a (possibly empty) False run."""
    if flat.size == 0:
        return [0]
    change = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    edges = np.concatenate([[0], change, [flat.size]])
    lengths = np.diff(edges).tolist()
    return [0, *lengths] if flat[0] else lengths


def to_cvat(bits: NDArray[np.bool_]) -> tuple[list[int], int, int, int, int] | None:
    """(runs, left, top, width, height) of the mask's bounding box; None when empty."""
    ys, xs = np.nonzero(bits)
    if ys.size == 0:
        return None
    top, left = int(ys.min()), int(xs.min())
    h, w = int(ys.max()) - top + 1, int(xs.max()) - left + 1
    crop = bits[top : top + h, left : left + w]
    return runs(crop.ravel()), left, top, w, h


def from_cvat(
    counts: list[int], left: int, top: int, width: int, height: int, image_w: int, image_h: int
) -> NDArray[np.bool_]:
    """(H, W) bool mask of the image from CVAT runs; ValueError on a bad run list."""
    if any(c < 0 for c in counts) or sum(counts) != width * height:
        raise ValueError(f"runs sum to {sum(counts)}, the box holds {width * height} pixels")
    if left < 0 or top < 0 or left + width > image_w or top + height > image_h:
        raise ValueError("the mask box is outside the image")
    values = np.zeros(len(counts), bool)
    values[1::2] = True
    crop = np.repeat(values, counts).reshape(height, width)
    out = np.zeros((image_h, image_w), bool)
    out[top : top + height, left : left + width] = crop
    return out
