"""COCO run-length encoding helpers (pycocotools' column-major RLE).

An RLE of an h x w mask is a list of run lengths over the pixels in column-major order
(down the first column, then the next), alternating background and foreground and
starting with background (the first run may be 0). The *compressed* string form packs
each count, after the third one as a difference to the count two before, into 5-bit
groups stored as characters 48 + (group | continuation bit 0x20), with bit 0x10 of the
last group as the sign. The string is parsed here, in Python, so a malformed one is
reported precisely instead of reaching pycocotools' C decoder.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.annotypes import _checks as c
from labelproof.annotypes._base import ImageSize

MAX_PIXELS = 2**32 - 1
"""pycocotools counts pixels in 32-bit unsigned integers."""

_MAX_GROUPS = 7  # 35 bits: more than any count of MAX_PIXELS needs


def parse_counts(text: str, field: str) -> list[int]:
    """Decode a compressed COCO RLE string into run lengths (may include bad values)."""
    counts: list[int] = []
    p, n = 0, len(text)
    while p < n:
        x, k, more = 0, 0, True
        while more:
            if p >= n:
                c.fail(field, f"truncated at character {n} (the last count is incomplete)")
            ch = ord(text[p]) - 48
            if not 0 <= ch < 64:
                c.fail(field, f"invalid character {text[p]!r} at position {p}")
            x |= (ch & 0x1F) << (5 * k)
            more = bool(ch & 0x20)
            p += 1
            k += 1
            if k > _MAX_GROUPS:
                c.fail(field, f"count {len(counts)} is too long at position {p - 1}")
            if not more and ch & 0x10:
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def check_counts(counts: list[int], height: int, width: int, field: str) -> list[int]:
    """Require non-negative run lengths summing to height * width; return them canonical.

    Canonical: zero-length runs after the first are merged away, so the encoding of a
    given mask is unique.
    """
    total = 0
    for i, v in enumerate(counts):
        if v < 0:
            c.fail(field, f"run {i} has negative length {v}")
        total += v
    if total != height * width:
        c.fail(
            field,
            f"runs cover {total} pixels but the mask {height}x{width} (h x w) has {height * width}",
        )
    out: list[int] = []
    value = 0  # value of the run being built
    for i, v in enumerate(counts):
        run_value = i % 2
        if v == 0:
            continue
        if out and run_value == value:
            out[-1] += v
            continue
        if not out and run_value == 1:
            out.append(0)
        out.append(v)
        value = run_value
    return out or [0]


def counts_to_string(counts: list[int], height: int, width: int) -> str:
    """Compressed string of run lengths, through pycocotools."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.frPyObjects({"size": [height, width], "counts": counts}, height, width)
    return str(rle["counts"].decode("ascii"))


def encode(bits: NDArray[np.bool_]) -> dict[str, Any]:
    """pycocotools RLE (``counts`` as bytes) of a boolean mask of shape (h, w)."""
    from pycocotools import mask as mask_utils

    return dict(mask_utils.encode(np.asfortranarray(bits.astype(np.uint8))))


def polygon_rle(rings: list[NDArray[np.float64]], image: ImageSize) -> dict[str, Any]:
    """Union of the rasterised rings (each (N, 2) px, N >= 3) as one pycocotools RLE."""
    from pycocotools import mask as mask_utils

    flat = [ring.reshape(-1).tolist() for ring in rings]
    rles = mask_utils.frPyObjects(flat, image.height, image.width)
    return dict(mask_utils.merge(rles)) if len(rles) > 1 else dict(rles[0])
