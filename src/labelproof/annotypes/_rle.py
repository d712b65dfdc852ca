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


def parse_counts(text: str, field: str) -> NDArray[np.int64]:
    """Decode a compressed COCO RLE string into run lengths (may include bad values).

    Vectorised with numpy; raises naming the position of an invalid character, a count
    longer than 7 characters, or a truncated last count.
    """
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError as exc:
        c.fail(field, f"invalid character {text[exc.start]!r} at position {exc.start}")
    if not raw:
        return np.zeros(0, dtype=np.int64)
    v = np.frombuffer(raw, dtype=np.uint8).astype(np.int64) - 48
    bad = (v < 0) | (v >= 64)
    if bad.any():
        p = int(np.argmax(bad))
        c.fail(field, f"invalid character {text[p]!r} at position {p}")
    more = (v & 0x20) != 0
    if more[-1]:
        c.fail(field, f"truncated at character {len(raw)} (the last count is incomplete)")
    ends = np.flatnonzero(~more)
    starts = np.r_[0, ends[:-1] + 1]
    lengths = ends - starts + 1
    if lengths.max() > _MAX_GROUPS:
        i = int(np.argmax(lengths > _MAX_GROUPS))
        c.fail(field, f"count {i} is too long at position {int(starts[i])}")
    k = np.arange(v.size) - np.repeat(starts, lengths)
    x = np.add.reduceat((v & 0x1F) << (5 * k), starts)
    negative = (v[ends] & 0x10) != 0
    x[negative] -= np.left_shift(1, 5 * lengths[negative])
    # counts after the third are stored as differences to the count two before
    counts = x.copy()
    counts[1::2] = np.cumsum(x[1::2])
    counts[2::2] = np.cumsum(x[2::2])
    return counts


def check_counts(
    counts: NDArray[np.int64] | list[int], height: int, width: int, field: str
) -> list[int]:
    """Require non-negative run lengths summing to height * width; return them canonical.

    Canonical: zero-length runs after the first are merged away, so the encoding of a
    given mask is unique.
    """
    arr = np.asarray(counts, dtype=np.int64)
    if arr.size and (arr < 0).any():
        i = int(np.argmax(arr < 0))
        c.fail(field, f"run {i} has negative length {int(arr[i])}")
    total = int(arr.sum())
    if total != height * width:
        c.fail(
            field,
            f"runs cover {total} pixels but the mask {height}x{width} (h x w) has {height * width}",
        )
    nonzero = np.flatnonzero(arr)
    values = nonzero % 2
    group_starts = np.r_[0, np.flatnonzero(np.diff(values)) + 1]
    merged = np.add.reduceat(arr[nonzero], group_starts)
    out: list[int] = merged.tolist()
    return [0, *out] if values[0] == 1 else out


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
