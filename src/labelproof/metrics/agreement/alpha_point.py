"""Point estimates of alpha at the nominal and interval levels: the hot paths.

Both walk the reliability matrix ``x`` (R raters, U units; float64, NaN = missing) in blocks of
units and keep only scalar running sums, so every temporary stays around a megabyte (cache
sized, and never the large fresh allocations whose page faults would dominate the time).
Per block, with m_u ratings in unit u and w_u = 1 / (m_u - 1) for m_u >= 2:

- nominal: D_o sum = n - 2 sum_u w_u A_u, A_u the agreeing rater pairs of unit u (R(R-1)/2
  vector comparisons), and D_e sum = n^2 - sum_c n_c^2 with the margins n_c counted by one
  comparison per candidate value when the values are few small integers (codes, labels);
- interval: sum_{i != j} (v_i - v_j)^2 = 2 (m_u S2_u - S1_u^2) with the per-unit sums S1, S2 of
  the values shifted to the middle of their range, and D_e sum = 2 (n T2 - T1^2) with T1, T2
  the same sums over every pairable value. O(R U) whatever the number of distinct values.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from labelproof.metrics.agreement.alpha_resample import moments, no_variation
from labelproof.metrics.agreement.ratings import FloatMatrix
from labelproof.metrics.agreement.units import (
    agreeing_pairs,
    category_margins,
    ratings_per_unit,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

BLOCK_CELLS = 1 << 17
"""Cells (raters x units) per block: 1 MiB of float64 temporaries."""

_MAX_CANDIDATES = 16


def _blocks(x: FloatMatrix) -> Iterator[FloatMatrix]:
    step = max(256, BLOCK_CELLS // max(x.shape[0], 1))
    for start in range(0, x.shape[1], step):
        yield x[:, start : start + step]


class _Tables:
    """Per-unit weights looked up from m_u (0..R) instead of computed per unit."""

    def __init__(self, n_raters: int) -> None:
        m = np.arange(n_raters + 1, dtype=np.float64)
        self.m = m
        self.pairable = (m >= 2).astype(np.float64)
        self.w = np.divide(1.0, m - 1.0, out=np.zeros_like(m), where=m >= 2)


def nominal_alpha(x: FloatMatrix) -> tuple[float, int, int]:
    """Nominal alpha of ``x`` (R, U) with at least one pairable value.

    Returns ``(alpha, n_pairable_values, n_pairable_units)``; raises ``AgreementUndefined``
    when every pairable value is the same.
    """
    lo = float(np.fmin.reduce(x, axis=None))
    hi = float(np.fmax.reduce(x, axis=None))
    small = lo.is_integer() and hi - lo < _MAX_CANDIDATES
    candidates = np.arange(lo, hi + 1.0) if small else np.empty(0)
    counts = np.zeros(candidates.size)
    tables = _Tables(x.shape[0])
    n = units = 0.0
    weighted_agreement = 0.0
    for block in _blocks(x):
        m = ratings_per_unit(~np.isnan(block))
        n += float(np.take(tables.m, m) @ np.take(tables.pairable, m))
        units += float(np.count_nonzero(m >= 2))
        weighted_agreement += float(np.take(tables.w, m) @ agreeing_pairs(block))
        if small:
            # Values of units with a single rating are not pairable: count them back out.
            lonely = block[:, np.flatnonzero(m == 1)]
            for i, value in enumerate(candidates):
                counts[i] += np.count_nonzero(block == value) - np.count_nonzero(lonely == value)
    if not small or counts.sum() != n:
        counts = category_margins(x, ratings_per_unit(~np.isnan(x)) >= 2)
    expected = n * n - float(counts @ counts)
    if expected <= 0.0:
        raise no_variation()
    observed = n - 2.0 * weighted_agreement
    return 1.0 - (n - 1.0) * observed / expected, int(n), int(units)


def _first_pairable_value(x: FloatMatrix) -> float:
    for block in _blocks(x):
        pairable = np.flatnonzero(ratings_per_unit(~np.isnan(block)) >= 2)
        if pairable.size:
            return float(np.fmax.reduce(block[:, pairable[0]]))
    raise ValueError("no pairable value")  # callers check first; not reachable


def interval_alpha(x: FloatMatrix) -> tuple[float, int, int]:
    """Interval alpha of ``x`` (R, U) with at least one pairable value.

    Returns ``(alpha, n_pairable_values, n_pairable_units)``; raises ``AgreementUndefined``
    when every pairable value is the same.
    """
    # Shifting every value by one pairable value v0 leaves alpha unchanged, keeps the sums
    # small, and makes "no variation" exact: then every shifted pairable value is 0, T2 = 0.
    origin = _first_pairable_value(x)
    tables = _Tables(x.shape[0])
    n = t1 = t2 = observed = units = 0.0
    for block in _blocks(x):
        m = ratings_per_unit(~np.isnan(block))
        shifted = block - origin
        filled = np.fmax(shifted, 0.0)  # NaN -> 0 in both halves, value = max + min
        filled += np.fmin(shifted, 0.0, out=shifted)
        mf = np.take(tables.m, m)
        s1, s2, within = moments(filled, mf)
        keep = np.take(tables.pairable, m)
        n += float(mf @ keep)
        t1 += float(s1 @ keep)
        t2 += float(s2 @ keep)
        units += float(keep.sum())
        observed += 2.0 * float(np.take(tables.w, m) @ within)
    if t2 == 0.0:
        raise no_variation(origin)
    return 1.0 - (n - 1.0) * observed / (2.0 * (n * t2 - t1 * t1)), int(n), int(units)
