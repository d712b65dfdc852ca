"""The fast path for runs of plain COCO box records: numbers parsed straight from the text.

When every record in a chunk has the same layout as the first one (same keys, in the same
order, same whitespace; only numbers differ) and that layout is a plain box
(``id``/``image_id``/``category_id``/``bbox``/``area``/``iscrowd``/``segmentation: []``),
the chunk's numbers are read with one ``numpy.fromstring`` call (over the text reduced to
its numbers, about 40% of its bytes) and reshaped to one row per record. The layout check
compares the text with the digits removed to the first record's layout repeated, so any
other record (a polygon, a string, ``true``, an exponent) makes the check fail and the
chunk is parsed with orjson instead.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray

_NUMBER_CHARS = b"0123456789.-+"
_DELETE = b"0123456789.-+eE"
_COMMA_TO_SPACE = bytes(32 if c == ord(",") else c for c in range(256))
_NOT_NUMBER = bytes(c for c in range(256) if c not in _NUMBER_CHARS and c != ord(","))
"""Deleting these and turning commas into spaces leaves the numbers, space-separated (in
JSON, two numbers always have a comma between them)."""
_FIELDS = ("id", "image_id", "category_id", "bbox", "area", "iscrowd", "segmentation")


def _layout(first: dict[str, Any]) -> list[str] | None:
    """Numeric slot names in text order, or None when the record is not a plain box."""
    slots: list[str] = []
    for key, value in first.items():
        if key not in _FIELDS:
            return None
        if key == "segmentation":
            if value != []:
                return None
        elif key == "bbox":
            if not (isinstance(value, list) and len(value) == 4):
                return None
            slots += ["x", "y", "w", "h"]
        elif isinstance(value, bool) or not isinstance(value, int | float):
            return None
        else:
            slots.append(key)
    return slots if {"x", "image_id", "category_id"} <= set(slots) else None


def box_rows(chunk: bytes) -> dict[str, NDArray[np.float64]] | None:
    """Columns (slot name -> (N,) float64) of a chunk of plain box records, or None."""
    end = chunk.find(b"}")
    nxt = chunk.find(b"{", end)
    if end < 0:
        return None
    try:
        first = orjson.loads(chunk[: end + 1])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(first, dict):
        return None
    slots = _layout(first)
    if slots is None:
        return None
    tmpl = chunk[: end + 1].translate(None, _DELETE)
    sep = chunk[end + 1 : nxt].translate(None, _DELETE) if nxt > 0 else b","
    skeleton = chunk.translate(None, _DELETE)
    unit = len(tmpl) + len(sep)
    n = (len(skeleton) + len(sep)) // unit
    if n * unit - len(sep) != len(skeleton) or skeleton != (tmpl + sep) * (n - 1) + tmpl:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            numbers = chunk.translate(_COMMA_TO_SPACE, _NOT_NUMBER)
            values = np.fromstring(numbers, dtype=np.float64, sep=" ")
        except ValueError:
            return None
    k = len(slots)
    if values.shape[0] != n * k or (n and np.abs(values).max() >= 2.0**53):
        return None  # (integers beyond 2**53 are not exact as floats: orjson reads them)
    table = values.reshape(n, k)
    return {name: table[:, i] for i, name in enumerate(slots)}
