"""Vectorised text formatting: numbers and strings as byte matrices, lines without loops.

A *column* is an (N, W) uint8 matrix, one row per output line, right- or left-padded with
NUL bytes (0) that :func:`join_lines` removes. Numbers are formatted exactly as Python's
``"%.{d}f" % v`` (values within 1e-6 of a rounding tie are re-formatted by Python).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Column = NDArray[np.uint8]


def _digits(k: NDArray[np.int64], width: int) -> Column:
    """(N, width) ASCII digits of non-negative integers ``k``, zero-filled on the left."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((k[:, None] // powers[None, :]) % 10 + 48).astype(np.uint8)


def _width(k: NDArray[np.int64]) -> int:
    top = int(k.max()) if k.size else 0
    return max(1, len(str(top)))


def integers(values: NDArray[np.integer]) -> Column:
    """(N,) integers as a right-aligned column (leading zeros become padding)."""
    v = np.asarray(values, dtype=np.int64)
    neg = v < 0
    a = np.abs(v)
    width = _width(a)
    d = _digits(a, width)
    lead = np.zeros_like(d, dtype=bool)
    if width > 1:
        # a leading zero is padding unless it is the last digit
        lead[:, :-1] = np.cumprod(d[:, :-1] == 48, axis=1).astype(bool)
    d[lead] = 0
    sign = np.where(neg, ord("-"), 0).astype(np.uint8)[:, None]
    return np.hstack([sign, d]) if neg.any() else d


def fixed(values: NDArray[np.floating], decimals: int) -> Column:
    """(N,) floats formatted as ``"%.{decimals}f"``; NaN and infinities are refused."""
    v = np.asarray(values, dtype=np.float64)
    n = v.shape[0]
    if n == 0:
        return np.zeros((0, 1), np.uint8)
    if not np.isfinite(v).all():
        raise ValueError("fixed(): NaN or infinity in values")
    scale = 10.0**decimals
    scaled = np.abs(v) * scale
    k = np.rint(scaled).astype(np.int64)
    frac = scaled - np.floor(scaled)
    near_tie = np.abs(frac - 0.5) < 1e-6
    if near_tie.any():
        for i in np.flatnonzero(near_tie):
            text = f"{abs(float(v[i])):.{decimals}f}"
            k[i] = int(text.replace(".", ""))
    neg = (v < 0) & (k > 0)
    unit = 10**decimals
    ip = k // unit
    fp = k % unit
    int_col = integers(ip)
    parts = [int_col]
    if decimals > 0:
        dot = np.full((n, 1), ord("."), np.uint8)
        parts += [dot, _digits(fp, decimals)]
    body = np.hstack(parts)
    if neg.any():
        sign = np.where(neg, ord("-"), 0).astype(np.uint8)[:, None]
        body = np.hstack([sign, body])
    return body


def strings(table: Sequence[bytes], index: NDArray[np.integer]) -> Column:
    """Row i is ``table[index[i]]`` (left-aligned, NUL-padded). Strings must not hold NUL."""
    width = max((len(s) for s in table), default=1) or 1
    lut = np.zeros((max(1, len(table)), width), np.uint8)
    for i, s in enumerate(table):
        if b"\0" in s:
            raise ValueError("strings(): NUL byte in a string")
        lut[i, : len(s)] = np.frombuffer(s, np.uint8)
    return lut[np.asarray(index, dtype=np.int64)]


def constant(text: bytes, n: int) -> Column:
    """The same bytes on every one of ``n`` rows."""
    return np.broadcast_to(np.frombuffer(text, np.uint8), (n, len(text)))


def join_lines(parts: Sequence[Column | bytes], n: int) -> tuple[bytes, NDArray[np.int64]]:
    """Concatenate columns row by row, drop padding; returns (text, row end offsets (N,)).

    Row i of the output is ``text[ends[i-1]:ends[i]]`` (``ends[-1] == len(text)``).
    """
    if n == 0:
        return b"", np.zeros(0, np.int64)
    cols = [constant(p, n) if isinstance(p, bytes) else p for p in parts]
    matrix = np.hstack(cols)
    keep = matrix != 0
    ends = np.cumsum(keep.sum(axis=1, dtype=np.int64))
    return matrix[keep].tobytes(), ends
