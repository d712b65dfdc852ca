"""Vectorised, exact parsing of plain decimal numbers (``-?[0-9]+(\\.[0-9]+)?``) in a text.

The text is a uint8 array of number characters and spaces (the delimiter). Each token is
read as one unaligned little-endian 64-bit word ending at its last byte (two words for
tokens of 9 to 16 bytes) and decoded with SWAR arithmetic: the dot is found with a
zero-byte test and squeezed out by shifting the bytes before it up by one, the digits are
checked, and eight ASCII digits become an integer in three multiply-shift steps. A token
with integer mantissa ``M`` and ``f`` fraction digits is then ``M / 10**f``: both are exact
doubles when ``M <= 2**53`` and ``f <= 22``, so one correctly rounded division gives the
correctly rounded value, the same double as Python's ``float()`` of the text (Clinger's
fast path). Tokens outside that range (more than 16 bytes, or more significant digits
than a double holds) are read with ``float()``; a token that is not a plain decimal makes
the whole parse return None.
"""

from __future__ import annotations

import re
from typing import cast

import numpy as np
from numpy.typing import NDArray

PAD = 16
"""How far a token's two-word window reaches back; tokens nearer the start of the text are
read from a padded copy."""
BLOCK = 65536
"""Tokens decoded per step: the dozens of temporary arrays of a step stay in the CPU cache."""

_U = np.uint64
_ZEROS = _U(0x3030303030303030)  # eight ASCII '0'
_HIGH_NIBBLES = _U(0xF0F0F0F0F0F0F0F0)
_SIX = _U(0x0606060606060606)
_DOTS = _U(0x2E2E2E2E2E2E2E2E)
_LOW7 = _U(0x7F7F7F7F7F7F7F7F)
_SEVENTY_SIXES = _U(0x7676767676767676)
_HIGH_BITS = _U(0x8080808080808080)
_ALL = (1 << 64) - 1
_TOP = np.array([0] + [((1 << (8 * n)) - 1) << (64 - 8 * n) for n in range(1, 9)], _U)
"""_TOP[n]: the n highest bytes of a word (a token's last n bytes)."""
_ZERO_UNDER = np.array([0x3030303030303030 & ~int(t) & _ALL for t in _TOP], _U)
"""_ZERO_UNDER[n]: ASCII '0' in the bytes under the n highest."""
# Indexed by the byte that holds the dot (0..7), or 8 for no dot:
_BELOW = np.array([(1 << (8 * b)) - 1 for b in range(8)] + [_ALL], _U)
_ABOVE = np.array([~((1 << (8 * b + 8)) - 1) & _ALL for b in range(8)] + [0], _U)
_SHIFT = np.array([8] * 8 + [0], _U)
_HAS_DOT = np.array([1] * 8 + [0], np.int64)
_FRAC = np.array([7 - b for b in range(7)] + [64, 0], np.int64)
"""Fraction digits; 64 (refused below) for a dot in the last byte ("1.")."""
_POW10 = 10.0 ** np.arange(65)
_SIGN = np.array([1.0, -1.0])
_EXACT = _U(2**53)
_PLAIN = re.compile(rb"-?[0-9]+(?:\.[0-9]+)?")


def spans(text: NDArray[np.uint8]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(starts (T,), ends (T,)) int64 byte offsets of the runs of non-space bytes in
    ``text`` (N,), which must start and end with a space."""
    filled = text != 32
    edges = np.flatnonzero(filled[1:] != filled[:-1])
    edges += 1
    return edges[0::2], edges[1::2]


def _dot_at(words: NDArray[np.uint64], keep: NDArray[np.uint64]) -> NDArray[np.uint8]:
    """Byte index (0..7) of the lowest '.' among the bytes ``keep`` of each word; 8 if none.

    The zero-byte test is exact (no carries between bytes); the count of bits under the one
    0x80 mark, shifted by 3, is its byte index. With two dots the index is off by one, and
    at least one dot stays among the digits and fails the digit check.
    """
    t = words ^ _DOTS
    marks = ~(((t & _LOW7) + _LOW7) | t | _LOW7) & keep
    at: NDArray[np.uint8] = np.bitwise_count(marks - _U(1)) >> np.uint8(3)
    return at


def _squeeze(words: NDArray[np.uint64], at: NDArray[np.uint8]) -> NDArray[np.uint64]:
    """Remove byte ``at`` (0..7; 8 = none) by moving the bytes under it up by one."""
    return ((words & _BELOW[at]) << _SHIFT[at]) | (words & _ABOVE[at])


def _digits_ok(words: NDArray[np.uint64]) -> NDArray[np.bool_]:
    """Every byte is an ASCII digit."""
    ok: NDArray[np.bool_] = ((words & _HIGH_NIBBLES) == _ZEROS) & (
        ((words + _SIX) & _HIGH_NIBBLES) == _ZEROS
    )
    return ok


def _eight_digits(words: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Integer value of eight ASCII digits per word, the first (most significant) in the
    lowest byte."""
    return _digit_value(words - _ZEROS)


def _digit_value(v: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Integer value of eight digit values (0..9, one per byte, the first lowest)."""
    v = (v * _U(10)) + (v >> _U(8))
    lo = (v & _U(0x000000FF000000FF)) * _U(100 + (1000000 << 32))
    hi = ((v >> _U(16)) & _U(0x000000FF000000FF)) * _U(1 + (10000 << 32))
    return (lo + hi) >> _U(32)


_Decoded = tuple[NDArray[np.uint64], NDArray[np.int64], NDArray[np.bool_]]


def _short(
    window: NDArray[np.uint64], ends: NDArray[np.int64], digits: NDArray[np.int64]
) -> _Decoded:
    """(mantissa, fraction digits, ok) of tokens of 1..8 bytes; ``digits`` is the token
    length less its sign (1..8).

    Table-free: every mask comes from the dot's zero-byte mark with word arithmetic (small
    table look-ups cost several times a word operation). ``low`` covers the bytes up to
    and including the lowest dot (all bytes when there is none); its top bit says "no dot"
    (a dot in the top byte, "1.", is refused). NumPy shifts a uint64 by 64 to 0.
    """
    n = digits.view(np.uint64)
    w = window[ends - 8]
    t = w ^ _DOTS
    marks = ~(((t & _LOW7) + _LOW7) | t | _LOW7)
    marks &= _U(_ALL) << ((_U(8) - n) << _U(3))  # the token's bytes only
    low = marks - _U(1)
    low ^= marks
    none = low >> _U(63)  # 1: no dot (or a refused one in the top byte)
    shift = (none ^ _U(1)) << _U(3)
    above = ~low
    squeezed = ((w & (low >> shift)) << shift) | (w & above)  # the dot squeezed out
    y = cast("NDArray[np.uint64]", squeezed)
    nd = n + none - _U(1)
    v = y ^ _ZEROS  # ASCII digits become their values; the bytes under the token 0
    v &= _U(_ALL) << ((_U(8) - nd) << _U(3))
    frac = np.bitwise_count(above) >> np.uint8(3)
    # every byte <= 9: adding 0x76 sets no high bit (a byte >= 0x80 has one already)
    ok = ((v | (v + _SEVENTY_SIXES)) & _HIGH_BITS) == _U(0)
    ok &= nd > frac
    ok &= (marks >> _U(63)) == _U(0)
    return _digit_value(v), frac.astype(np.int64), ok


def _long(
    window: NDArray[np.uint64], ends: NDArray[np.int64], digits: NDArray[np.int64]
) -> _Decoded:
    """(mantissa, fraction digits, ok) of tokens of 9..16 bytes less the sign (two words:
    ``lo`` then ``hi``)."""
    hi = window[ends - 8]
    lo = window[ends - 16]
    at_hi = _dot_at(hi, _TOP[8])
    at_lo = _dot_at(lo, _TOP[digits - 8])
    in_hi = at_hi < 8
    at_lo = np.where(in_hi, np.uint8(8), at_lo)  # one dot squeezed; a second fails below
    carry = np.where(in_hi, lo >> _U(56), _U(0))
    hi = _squeeze(hi, at_hi) | carry
    lo = np.where(in_hi, lo << _U(8), _squeeze(lo, at_lo))
    nd = digits - _HAS_DOT[at_hi] - _HAS_DOT[at_lo]
    frac = np.where(in_hi, _FRAC[at_hi], np.where(at_lo < 8, 15 - at_lo.astype(np.int64), 0))
    n_hi, n_lo = np.minimum(nd, 8), np.clip(nd - 8, 0, 8)
    hi = (hi & _TOP[n_hi]) | _ZERO_UNDER[n_hi]
    lo = (lo & _TOP[n_lo]) | _ZERO_UNDER[n_lo]
    ok = _digits_ok(hi) & _digits_ok(lo) & (nd > frac)
    return _eight_digits(lo) * _U(100_000_000) + _eight_digits(hi), frac, ok


def parse(
    text: NDArray[np.uint8], starts: NDArray[np.int64], ends: NDArray[np.int64]
) -> NDArray[np.float64] | None:
    """(T,) float64 values of the tokens ``text[starts[i]:ends[i]]``, each exactly
    ``float()`` of its text; None when a token is not ``-?[0-9]+(\\.[0-9]+)?``.

    ``text`` (N,) uint8 is C-contiguous; tokens are non-empty, in ascending order.
    """
    n = starts.shape[0]
    values = np.empty(n, np.float64)
    if n == 0:
        return values
    if text.dtype != np.uint8 or not text.flags.c_contiguous:
        raise ValueError("parse(): the text must be a contiguous uint8 array")
    head = int(np.searchsorted(starts, PAD))
    if head:  # tokens too close to the start for their windows: read from a padded copy
        stop = int(ends[head - 1])
        padded = np.concatenate([np.full(PAD, 32, np.uint8), text[:stop]])
        if not _parse_into(padded, starts[:head] + PAD, ends[:head] + PAD, values[:head]):
            return None
    if not _parse_into(text, starts[head:], ends[head:], values[head:]):
        return None
    return values


def _parse_into(
    text: NDArray[np.uint8],
    starts: NDArray[np.int64],
    ends: NDArray[np.int64],
    out: NDArray[np.float64],
) -> bool:
    """Write the tokens' values to ``out``; False when one is not a plain decimal. Every
    token starts at least :data:`PAD` bytes into ``text``."""
    if text.shape[0] < 8:
        return bool(starts.shape[0] == 0)
    window = np.ndarray((text.shape[0] - 7,), np.dtype("<u8"), buffer=text, strides=(1,))
    slow: list[NDArray[np.int64]] = []
    signed = bool((text == ord("-")).any())  # (no '-' anywhere: no sign work per token)
    for lo in range(0, starts.shape[0], BLOCK):
        hi = min(starts.shape[0], lo + BLOCK)
        e = ends[lo:hi]
        d = e - starts[lo:hi]
        if signed:
            neg = text[starts[lo:hi]] == ord("-")
            d -= neg
        longest = int(d.max())
        mant, frac, ok = _short(window, e, np.minimum(d, 8) if longest > 8 else d)
        if longest > 8:
            at = np.flatnonzero(d > 8)
            two = at[d[at] <= 16]
            mant[two], frac[two], ok[two] = _long(window, e[two], d[two])
            many = at[d[at] > 16]
            ok[many] = True
            slow += [lo + many, lo + two[mant[two] > _EXACT]]
        if not ok.all():
            return False
        np.divide(mant.astype(np.float64), _POW10[frac], out=out[lo:hi])
        if signed:
            out[lo:hi] *= _SIGN[neg.view(np.uint8)]
    if slow:
        raw = text.tobytes()
        for i in np.concatenate(slow).tolist():
            token = raw[int(starts[i]) : int(ends[i])]
            if _PLAIN.fullmatch(token) is None:
                return False
            out[i] = float(token)
    return True
