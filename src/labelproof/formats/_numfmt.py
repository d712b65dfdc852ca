"""Vectorised text formatting: numbers and strings as byte matrices, lines without loops.

A *column* is an (N, W) uint8 matrix, one row per output line, right- or left-padded with
NUL bytes (0) that :func:`join_lines` removes. Numbers are formatted exactly as Python's
``"%.{d}f" % v`` (values within 1e-6 of a rounding tie are re-formatted by Python), except
that a negative value that rounds to zero is written without its sign (``0.00``).
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


_SPLITTER = 134217729.0  # 2**27 + 1, Dekker's split of a double into two 26-bit halves
_EXACT_BELOW = 2.0**31
"""Below this, ``|v| * 10**d`` is within 2.5e-7 of the exact product, so only values whose
fraction is within 1e-6 of .5 need the exact check."""
_LIMIT = 2.0**50


def _split(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    t = _SPLITTER * x
    hi = t - (t - x)
    return hi, x - hi


def _exact_round(a: NDArray[np.float64], decimals: int) -> NDArray[np.int64]:
    """round(a * 10**decimals) of non-negative doubles, ties to even, on the exact binary
    value as Python's ``%.{d}f`` rounds (Dekker's error-free product, no float error)."""
    c = 2.0 * 10.0**decimals  # an exact integer double for decimals <= 15
    p = a * c  # 2 * a * 10**d, rounded; the exact product is p + err
    a_hi, a_lo = _split(a)
    c_hi, c_lo = _split(np.full_like(a, c))
    err = ((a_hi * c_hi - p) + a_hi * c_lo + a_lo * c_hi) + a_lo * c_lo
    m = np.floor(p / 2)
    diff = (p - (2 * m + 1)) + err  # sign of (exact product - (2m + 1)), exact
    odd = np.fmod(m, 2) == 1
    up: NDArray[np.bool_] = (diff > 0) | ((diff == 0) & odd)
    return (m + up).astype(np.int64)


def _rounded(
    values: NDArray[np.floating], decimals: int
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """(|v| * 10**decimals rounded exactly as ``%.{decimals}f`` rounds, minus sign shown) of
    (N,) finite floats; ValueError on NaN, infinity or |v| * 10**decimals >= 2**50."""
    v = np.asarray(values, dtype=np.float64)
    if not np.isfinite(v).all():
        raise ValueError("fixed(): NaN or infinity in values")
    if not 0 <= decimals <= 15:
        raise ValueError(f"fixed(): decimals must be in 0..15, got {decimals}")
    a = np.abs(v)
    scaled = a * 10.0**decimals
    if scaled.size and scaled.max() >= _LIMIT:
        raise ValueError(f"fixed(): a value is too large for {decimals} decimals")
    k = np.rint(scaled).astype(np.int64)
    frac = scaled - np.floor(scaled)
    check = (np.abs(frac - 0.5) < 1e-6) | (scaled >= _EXACT_BELOW)
    if check.any():
        at = np.flatnonzero(check)
        k[at] = _exact_round(a[at], decimals)
    return k, (v < 0) & (k > 0)


def fixed(values: NDArray[np.floating], decimals: int) -> Column:
    """(N,) floats formatted as ``"%.{decimals}f"``, right-aligned (NUL padding on the left);
    NaN and infinities are refused."""
    k, neg = _rounded(values, decimals)
    fast = _right_words(k, decimals) if not neg.any() else None
    if fast is not None:
        return fast
    return _layout(values, decimals, b"", right=True, pad=0, rounded=(k, neg))


def quoted_left(values: NDArray[np.floating], decimals: int) -> Column:
    """(N,) floats as ``%.{decimals}f`` then ``"``, left-aligned and padded with spaces.

    For fixed-width XML rows: ``xtl="`` + this column gives ``xtl="82.17"`` followed by the
    spaces the widest value needs (whitespace between attributes is insignificant in XML).
    """
    k, neg = _rounded(values, decimals)
    fast = _quoted_words(k, decimals) if not neg.any() else None
    if fast is not None:
        return fast
    return _layout(values, decimals, b'"', right=False, pad=ord(" "), rounded=(k, neg))


_SPACES = 0x2020202020202020
_QUOTE_SPACES = 0x2020202020202022
"""'"' then seven spaces (little-endian: the first byte is the lowest)."""


def _digit_word(
    k: NDArray[np.int64], decimals: int
) -> tuple[NDArray[np.uint64], NDArray[np.uint64]] | None:
    """(text word, leading zeros in bits) of ``%.{decimals}f`` of ``k / 10**decimals``: the
    text right-aligned in 8 bytes (first byte lowest) with its leading zero digits (all but
    the units) still in; None unless 1 <= decimals <= 6, 0 <= k < 10**7.

    The seven digits are cut with 32-bit divisions by constants and packed with the dot;
    the leading zeros are the low zero bytes, found from the lowest set bit.
    """
    n = k.shape[0]
    if not 1 <= decimals <= 6 or n == 0 or int(k.max()) >= 10**7 or int(k.min()) < 0:
        return None
    k32 = k.astype(np.uint32)
    halves = [np.zeros(n, np.uint32), np.zeros(n, np.uint32)]
    base = [0, 0]
    q = k32
    for r in range(7):  # digit r from the right, at byte 7 - r (one lower past the dot)
        at = 7 - r - (r >= decimals)
        if r < 6:
            nxt = q // np.uint32(10)
            digit = q - nxt * np.uint32(10)
        else:
            nxt, digit = q, q
        halves[at // 4] |= digit << np.uint32(8 * (at % 4))
        base[at // 4] |= 0x30 << (8 * (at % 4))
        q = nxt
    dot = 7 - decimals
    base[dot // 4] |= 0x2E << (8 * (dot % 4))
    word = (halves[1].astype(np.uint64) << np.uint64(32)) | halves[0].astype(np.uint64)
    # leading zero digits: below the lowest nonzero int digit byte, all but the units
    digits = word & np.uint64((1 << (8 * (6 - decimals))) - 1)
    lead = np.bitwise_count(digits ^ (digits - np.uint64(1))).astype(np.uint64)
    lead -= np.uint64(1)
    lead &= np.uint64(56)
    np.minimum(lead, np.uint64(8 * (6 - decimals)), out=lead)
    word |= np.uint64(base[0] | (base[1] << 32))
    return word, lead


def _quoted_words(k: NDArray[np.int64], decimals: int) -> Column | None:
    """Rows ``%.{decimals}f`` of ``k / 10**decimals`` then ``"``, left-aligned and padded
    with spaces, as two 64-bit words per row with no per-length groups (the text word
    shifted down by its leading zeros, the quote and spaces above it); None where
    :func:`_digit_word` does not apply."""
    found = _digit_word(k, decimals)
    if found is None:
        return None
    word, lead = found
    n = k.shape[0]
    out = np.empty((n, 2), np.uint64)
    first = out[:, 0]
    np.right_shift(word, lead, out=first)
    # '"' right after the text, spaces above it (two shifts: never by 64)
    half = (np.uint64(64) - lead) >> np.uint64(1)
    first |= (np.uint64(_QUOTE_SPACES) << half) << half
    second = (lead == 0).astype(np.uint64)
    second <<= np.uint64(1)  # '"' (0x22) where the text fills the first word, else ' '
    second ^= np.uint64(_SPACES)
    out[:, 1] = second
    width = 8 - int(lead.min()) // 8 + 1
    cols: Column = out.view(np.uint8).reshape(n, 16)[:, :width]
    return cols


def _right_words(k: NDArray[np.int64], decimals: int) -> Column | None:
    """Rows ``%.{decimals}f`` of ``k / 10**decimals`` right-aligned with NUL padding (what
    :func:`fixed` gives), from :func:`_digit_word`; None where it does not apply."""
    found = _digit_word(k, decimals)
    if found is None:
        return None
    word, lead = found
    word &= np.uint64((1 << 64) - 1) << lead  # leading zeros become NUL
    width = 8 - int(lead.min()) // 8
    cols: Column = word.view(np.uint8).reshape(-1, 8)[:, 8 - width :]
    return cols


def _layout(
    values: NDArray[np.floating],
    decimals: int,
    suffix: bytes,
    *,
    right: bool,
    pad: int,
    rounded: tuple[NDArray[np.int64], NDArray[np.bool_]] | None = None,
) -> Column:
    """Rows of ``%.{decimals}f`` text + ``suffix``, aligned and padded with byte ``pad``.

    Rows are formatted in groups of equal text length (a handful), each group a fixed
    layout of digit columns taken with scalar divisors: no (N, W) integer matrices.
    """
    n = np.asarray(values).shape[0]
    if n == 0:
        return np.zeros((0, 1), np.uint8)
    k, neg = rounded if rounded is not None else _rounded(values, decimals)
    # digits of k, at least decimals + 1 of them ("0.05" is k = 5 with three digits)
    n_dig = np.full(n, decimals + 1, np.int64)
    top = int(k.max())
    p = decimals + 1
    while 10**p <= top:
        n_dig += k >= 10**p
        p += 1
    point = 1 if decimals else 0
    tail = np.frombuffer(suffix, np.uint8)
    key = n_dig * 2 + neg
    width = int((n_dig + neg).max()) + point + len(suffix)
    out = np.full((n, width), pad, np.uint8)
    for kv in np.flatnonzero(np.bincount(key)).tolist():
        digits, signed = kv // 2, kv % 2
        same = key == kv
        rows: slice | NDArray[np.intp] = slice(None) if same.all() else np.flatnonzero(same)
        kg = k[rows]
        text_w = signed + digits + point
        block = np.empty((kg.shape[0], text_w + len(suffix)), np.uint8)
        if signed:
            block[:, 0] = ord("-")
        for r in range(digits):  # digit r from the right
            at = signed + digits - 1 - r + (1 if r < decimals else 0)
            block[:, at] = (kg // 10**r) % 10 + ord("0")
        if point:
            block[:, signed + digits - decimals] = ord(".")
        block[:, text_w:] = tail
        if right:
            out[rows, width - block.shape[1] :] = block
        else:
            out[rows, : block.shape[1]] = block
    return out


def fill(parts: Sequence[Column | bytes], n: int, pad: int = ord(" ")) -> Column:
    """Columns side by side in one (N, total width) matrix, NUL padding replaced by ``pad``.

    Every row has the same width, so ``fill(...).tobytes()`` is the text of all rows and row
    i is ``text[i * W:(i + 1) * W]``.
    """
    widths = [len(p) if isinstance(p, bytes) else p.shape[1] for p in parts]
    out = np.empty((n, sum(widths)), np.uint8)
    at = 0
    for p, w in zip(parts, widths, strict=True):
        block = out[:, at : at + w]
        if isinstance(p, bytes):
            block[...] = np.frombuffer(p, np.uint8)
        else:
            block[...] = p
            if n and int(p.min()) == 0:  # (space-padded columns skip this pass)
                np.copyto(block, np.uint8(pad), where=block == 0)
        at += w
    return out


class Rows:
    """:func:`fill` into one matrix kept between calls (batches of rows of one layout): the
    constant parts are written into a row once, while every width and constant stays the
    same, and only the columns are written again."""

    def __init__(self) -> None:
        self.buf = np.zeros((0, 0), np.uint8)
        self.key: tuple[bytes | int, ...] = ()
        self.ready = 0
        """Rows of ``buf`` whose constant parts are written."""

    def fill(self, parts: Sequence[Column | bytes], n: int, pad: int = ord(" ")) -> Column:
        """Like :func:`fill`; the matrix returned is overwritten by the next call."""
        widths = [len(p) if isinstance(p, bytes) else p.shape[1] for p in parts]
        key = tuple(p if isinstance(p, bytes) else w for p, w in zip(parts, widths, strict=True))
        if key != self.key or n > self.buf.shape[0]:
            self.buf = np.empty((n + n // 4, sum(widths)), np.uint8)
            self.key, self.ready = key, 0
        out = self.buf[:n]
        at = 0
        for p, w in zip(parts, widths, strict=True):
            if isinstance(p, bytes):
                if n > self.ready:
                    out[self.ready :, at : at + w] = np.frombuffer(p, np.uint8)
            else:
                block = out[:, at : at + w]
                block[...] = p
                if n and int(p.min()) == 0:
                    np.copyto(block, np.uint8(pad), where=block == 0)
            at += w
        self.ready = max(self.ready, n)
        return out


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
