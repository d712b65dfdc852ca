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

from labelproof.metrics.agreement.alpha_resample import (
    alpha_statistic,
    moments,
    no_pairable,
    no_variation,
)
from labelproof.metrics.agreement.ratings import FloatMatrix
from labelproof.metrics.agreement.units import (
    agreeing_pairs,
    category_margins,
    dot,
    ratings_per_unit,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

NOMINAL_BLOCK_CELLS = 1 << 19
"""Cells (raters x units) per block at the nominal level: 512 KiB boolean temporaries."""
INTERVAL_BLOCK_CELLS = 1 << 17
"""Cells per block at the interval level: 1 MiB float64 temporaries (larger ones are slower
to allocate than to compute with)."""
_NEAR_ZERO = 1e-10

_MAX_CANDIDATES = 16


def _blocks(x: FloatMatrix, cells: int) -> Iterator[FloatMatrix]:
    step = max(256, cells // max(x.shape[0], 1))
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
    """Nominal alpha of ``x`` (R, U), R, U >= 1.

    Returns ``(alpha, n_pairable_values, n_pairable_units)``; raises ``AgreementUndefined``
    when no value or every pairable value is the same.
    """
    n_raters = x.shape[0]
    lo = float(np.fmin.reduce(x, axis=None))
    hi = float(np.fmax.reduce(x, axis=None))
    small = lo.is_integer() and hi - lo < _MAX_CANDIDATES
    candidates = np.arange(lo, hi + 1.0) if small else np.empty(0)
    counts = np.zeros(candidates.size)
    w_by_m = _Tables(n_raters).w
    n = units = 0
    weighted_agreement = 0.0
    for block in _blocks(x, NOMINAL_BLOCK_CELLS):
        missing = np.isnan(block)
        m = n_raters - ratings_per_unit(missing)
        lonely = np.flatnonzero(m == 1)
        n += block.size - int(np.count_nonzero(missing)) - lonely.size
        units += int(np.count_nonzero(m >= 2))
        weighted_agreement += dot(np.take(w_by_m, m), agreeing_pairs(block))
        if small:
            # A unit's only rating is not pairable: count those values back out.
            alone = np.fmax.reduce(block[:, lonely], axis=0)
            for i, value in enumerate(candidates):
                counts[i] += np.count_nonzero(block == value) - np.count_nonzero(alone == value)
    if n == 0:
        raise no_pairable()
    if not small or counts.sum() != n:
        counts = category_margins(x, ratings_per_unit(~np.isnan(x)) >= 2)
    expected = float(n) * n - dot(counts, counts)
    if expected <= 0.0:
        raise no_variation()
    observed = n - 2.0 * weighted_agreement
    return 1.0 - (n - 1.0) * observed / expected, n, units


def interval_alpha(x: FloatMatrix) -> tuple[float, int, int]:
    """Interval alpha of ``x`` (R, U), R, U >= 1.

    Returns ``(alpha, n_pairable_values, n_pairable_units)``; raises ``AgreementUndefined``
    when no value or every pairable value is the same.
    """
    n_raters = x.shape[0]
    # Shift by the smallest value: alpha is unchanged, the sums stay small, and
    # fmax(value, lo) - lo is the shifted value, or exactly 0 for a missing (NaN) one.
    lo = float(np.fmin.reduce(x, axis=None))
    w_by_m = _Tables(n_raters).w
    n = units = 0
    t1 = t2 = observed = 0.0
    for block in _blocks(x, INTERVAL_BLOCK_CELLS):
        missing = np.isnan(block)
        m = n_raters - ratings_per_unit(missing)
        lonely = np.flatnonzero(m == 1)
        filled = np.fmax(block, lo)
        filled -= lo
        s1, s2, within = moments(filled, m)
        # A unit's only rating is not pairable; its within-unit term is exactly 0 already.
        n += block.size - int(np.count_nonzero(missing)) - lonely.size
        units += int(np.count_nonzero(m >= 2))
        t1 += float(s1.sum()) - float(s1[lonely].sum())
        t2 += float(s2.sum()) - float(s2[lonely].sum())
        observed += 2.0 * dot(np.take(w_by_m, m), within)
    if n == 0:
        raise no_pairable()
    expected = 2.0 * (n * t2 - t1 * t1)
    if expected <= _NEAR_ZERO * 2.0 * n * t2:
        # No variation, or too close to tell with these sums: decide exactly (and, if there
        # is variation, compute with per-unit minima and maxima) on the pairable units.
        m_all = ratings_per_unit(~np.isnan(x))
        kept = x[:, m_all >= 2]
        return alpha_statistic(kept, "interval")(np.ones(kept.shape[1])), n, units
    return 1.0 - (n - 1.0) * observed / expected, n, units
