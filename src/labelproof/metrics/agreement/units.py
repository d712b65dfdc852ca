"""Per-unit building blocks shared by the agreement statistics.

Every function takes a reliability matrix ``x`` of shape (R raters, U units), float64, NaN for
a missing rating, and works column-wise (one column = one unit).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from labelproof.metrics.agreement.ratings import FloatMatrix, IntArray, encode

FloatArray = npt.NDArray[np.float64]
BoolMatrix = npt.NDArray[np.bool_]

PAIR_LOOP_MAX_RATERS = 8
"""Up to this many raters, agreeing pairs are counted rater pair by rater pair (R(R-1)/2
vector comparisons); above it, from per-unit category counts."""


def dot(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float:
    """a . b of two vectors without BLAS: a BLAS call may wake its thread pool, which costs
    far more than the product on a busy machine."""
    return float(np.einsum("i,i->", a, b))


def weighted_bincount(index: IntArray, weights: FloatArray, size: int) -> FloatArray:
    """sum of ``weights`` per value of ``index`` (n,), as a float64 array of length ``size``."""
    return np.asarray(np.bincount(index, weights=weights, minlength=size), dtype=np.float64)


def ratings_per_unit(valid: BoolMatrix) -> npt.NDArray[np.integer[Any]]:
    """m_u: the number of ratings of each unit, shape (U,), from ``valid`` (R, U).

    uint8 for fewer than 256 raters (cheap to add row by row), intp otherwise.
    """
    if valid.shape[0] < 256:
        as_bytes = valid.view(np.uint8)
        m = np.zeros(valid.shape[1], dtype=np.uint8)
        for row in as_bytes:
            m += row
        return m
    return np.asarray(np.count_nonzero(valid, axis=0), dtype=np.intp)


def pair_weights(m: npt.NDArray[np.integer[Any]]) -> FloatArray:
    """w_u = 1 / (m_u - 1) for units with m_u >= 2 ratings, 0 otherwise; shape (U,)."""
    mf = m.astype(np.float64)
    return np.divide(1.0, mf - 1.0, out=np.zeros_like(mf), where=m >= 2)


def unit_counts(codes: IntArray) -> tuple[IntArray, IntArray, FloatArray]:
    """Sparse per-unit category counts n_uc of integer codes (R, U), -1 = missing.

    Returns three arrays of equal length (one entry per (unit, category) that occurs):
    ``unit`` (column index), ``category`` (code) and ``count`` (n_uc >= 1, float64).
    """
    n_units = codes.shape[1]
    n_cat = int(codes.max()) + 1 if codes.size else 0
    present = codes >= 0
    unit_of = np.broadcast_to(np.arange(n_units, dtype=np.intp), codes.shape)
    keys = unit_of[present] * max(n_cat, 1) + codes[present]
    if n_units * n_cat <= max(4 * keys.size, 1 << 20):
        table = np.bincount(keys, minlength=n_units * n_cat)
        nonzero = np.flatnonzero(table)
        uniq, counts = nonzero, table[nonzero]
    else:
        uniq, counts = np.unique(keys, return_counts=True)
    return (
        (uniq // max(n_cat, 1)).astype(np.intp),
        (uniq % max(n_cat, 1)).astype(np.intp),
        counts.astype(np.float64),
    )


def agreeing_pairs(x: FloatMatrix) -> FloatArray:
    """A_u: the number of unordered rater pairs of a unit that gave the same value, (U,)."""
    n_raters, n_units = x.shape
    if n_raters <= PAIR_LOOP_MAX_RATERS:
        agree = np.zeros(n_units, dtype=np.uint8)
        for i in range(n_raters):
            for j in range(i + 1, n_raters):
                # NaN == anything is False, so missing ratings never agree.
                agree += np.equal(x[i], x[j]).view(np.uint8)
        return agree.astype(np.float64)
    codes, _ = encode(x)
    unit, _, count = unit_counts(codes)
    return weighted_bincount(unit, count * (count - 1.0) / 2.0, n_units)


def category_margins(x: FloatMatrix, pairable: BoolMatrix) -> FloatArray:
    """n_c: how many pairable values (in units with >= 2 ratings) each distinct value has.

    ``x`` is (R, U), ``pairable`` is (U,). Returns (K,) float64 counts, one per candidate value
    in increasing order; a candidate may have count 0 (only sums over categories are
    meaningful, not the positions).
    """
    lo = float(np.fmin.reduce(x, axis=None))
    hi = float(np.fmax.reduce(x, axis=None))
    lonely = x[:, ~pairable]
    if lo.is_integer() and hi - lo < 16:
        # Few small integers: one comparison per candidate value beats sorting or bincount,
        # and the counts add up to the number of ratings only if every value is an integer.
        candidates = np.arange(lo, hi + 1.0)
        counts = np.array([np.count_nonzero(x == v) for v in candidates], dtype=np.float64)
        if counts.sum() == np.count_nonzero(~np.isnan(x)):
            lonely_counts = np.array([np.count_nonzero(lonely == v) for v in candidates])
            return np.asarray(counts - lonely_counts, dtype=np.float64)
    codes, domain = encode(x)
    keep = codes[:, pairable]
    return np.bincount(keep[keep >= 0], minlength=domain.size).astype(np.float64)
