"""The fast path for runs of plain COCO box records: numbers parsed straight from the text.

When every record in a chunk has the same layout as the first one (same keys, in the same
order, same whitespace; only numbers differ) and that layout is a plain box
(``id``/``image_id``/``category_id``/``bbox``/``area``/``iscrowd``/``segmentation: []``),
the chunk's numbers are parsed with vectorised code (:mod:`._decimal`, exact) and reshaped
to one row per record. Anything else makes :func:`box_rows` return None and the chunk is
parsed with orjson, which validates fully.

Three checks prove the layout without a Python object per record:

1. *Skeleton*: the chunk with the number characters ``0-9 . - +`` deleted equals the first
   record's skeleton repeated (with the separator between records). Letters, ``e`` and
   ``E`` included, are kept, so an exponent, ``true`` or a string fails here.
2. *Slots*: the chunk reduced to its numbers (letters, quotes and ``{`` deleted, every other
   byte a space) has exactly the first record's count of number tokens per record, each
   preceded by exactly as many delimiters as in the first record. A digit slipped into a
   key, or a value missing next to an extra token, moves a token off its slot.
3. *Tokens*: every token is ``-?[0-9]+(\\.[0-9]+)?`` (JSON's leading-zero rule is not
   checked); the first record's values equal orjson's.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray

from labelproof.formats import _decimal

_NUMBER = b"0123456789.-+"
_LETTERS = bytes(c for c in range(256) if chr(c).isascii() and (chr(c).isalpha() or c == 95))
_GONE = _LETTERS + b'"{'
"""Deleted from the numbers text: they occur only inside keys or before a key, where any
number character slipped in lands in a slot that must stay empty."""
_TO_SPACE = bytes(c if c in _NUMBER else 32 for c in range(256))
_FIELDS = ("id", "image_id", "category_id", "bbox", "area", "iscrowd", "segmentation")
_EXACT_INT = 2.0**53
_SEPARATOR = re.compile(rb"[ \t\n\r]*,[ \t\n\r]*")
_RUN = re.compile(rb"[^ ]+")


def _layout(first: dict[str, Any]) -> tuple[list[str], list[float]] | None:
    """(numeric slot names in text order, their values), or None when not a plain box."""
    slots: list[str] = []
    values: list[float] = []
    for key, value in first.items():
        if key not in _FIELDS:
            return None
        if key == "segmentation":
            if value != []:
                return None
        elif key == "bbox":
            if not (
                isinstance(value, list)
                and len(value) == 4
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            ):
                return None
            slots += ["x", "y", "w", "h"]
            values += [float(v) for v in value]
        elif isinstance(value, bool) or not isinstance(value, int | float):
            return None
        else:
            slots.append(key)
            values.append(float(value))
    return (slots, values) if {"x", "image_id", "category_id"} <= set(slots) else None


def _repeats(skeleton: bytes, tmpl: bytes, sep: bytes) -> int:
    """n when ``skeleton == (tmpl + sep) * (n - 1) + tmpl``, else 0; compared in blocks
    (no copy of the chunk's size)."""
    unit = tmpl + sep
    n, extra = divmod(len(skeleton) + len(sep), len(unit))
    if extra or n == 0:
        return 0
    block = unit * max(1, min(n - 1, (1 << 18) // len(unit)))
    full = (n - 1) // (len(block) // len(unit))
    at = 0
    for _ in range(full):
        if not skeleton.startswith(block, at):
            return 0
        at += len(block)
    last = unit * (n - 1 - full * (len(block) // len(unit))) + tmpl
    return n if skeleton.startswith(last, at) and at + len(last) == len(skeleton) else 0


def _on_slots(starts: NDArray[np.int64], ends: NDArray[np.int64], k: int, unit: bytes) -> bool:
    """Each token is preceded by as many delimiter bytes as the first record's token in the
    same slot (``unit``: the first record and its separator as numbers text), so the
    cumulative count before every token is the first record's plus whole records'."""
    first = [m.span() for m in _RUN.finditer(unit)]
    if len(first) != k or int(starts[0]) != first[0][0]:
        return False
    wrap = len(unit) - first[-1][1] + first[0][0]  # last token to the next record's first
    pattern = np.array([wrap] + [first[j][0] - first[j - 1][1] for j in range(1, k)], np.int64)
    gaps = np.empty(starts.shape[0], np.int64)
    gaps[0] = wrap
    np.subtract(starts[1:], ends[:-1], out=gaps[1:])
    return not (gaps.reshape(-1, k) != pattern).any()


def box_rows(chunk: bytes) -> NDArray[np.void] | None:
    """The records of a chunk of plain box records as an (N,) structured array with one
    float64 field per number (``id``, ``image_id``, ``category_id``, ``x``, ``y``, ``w``,
    ``h``, ``area``, ``iscrowd``, those present, in text order), or None.

    ``chunk`` is a comma-separated run of JSON objects (as cut by ``_json_stream``); None
    means "not provably a run of plain box records: parse it with orjson".
    """
    end = chunk.find(b"}")
    if end < 0:
        return None
    try:
        first = orjson.loads(chunk[: end + 1])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(first, dict):
        return None
    found = _layout(first)
    if found is None:
        return None
    slots, first_values = found
    k = len(slots)
    # 1. skeleton
    nxt = chunk.find(b"{", end)
    if nxt > 0 and _SEPARATOR.fullmatch(chunk, end + 1, nxt) is None:
        return None  # records are separated by a comma and whitespace only
    tmpl = chunk[: end + 1].translate(None, _NUMBER)
    sep = chunk[end + 1 : nxt].translate(None, _NUMBER) if nxt > 0 else b","
    n = _repeats(chunk.translate(None, _NUMBER), tmpl, sep)
    if n == 0:
        return None
    # 2. slots
    numbers = chunk.translate(_TO_SPACE, _GONE)
    if numbers[:1] != b" " or numbers[-1:] != b" ":
        return None
    text = np.frombuffer(numbers, np.uint8)
    starts, ends = _decimal.spans(text)
    unit = chunk[:nxt] if nxt > 0 else chunk[: end + 1] + b","
    if starts.shape[0] != n * k or not _on_slots(starts, ends, k, unit.translate(_TO_SPACE, _GONE)):
        return None
    # 3. tokens
    values = _decimal.parse(text, starts, ends)
    if values is None or values[:k].tolist() != first_values:
        return None
    if n and max(float(values.max()), -float(values.min())) >= _EXACT_INT:
        return None  # (integers beyond 2**53 are not exact as floats: orjson reads them)
    table: NDArray[np.void] = values.view(np.dtype([(name, np.float64) for name in slots]))
    return table
