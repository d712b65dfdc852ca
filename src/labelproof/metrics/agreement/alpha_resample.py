"""Krippendorff's alpha as a function of unit weights, for every level of measurement.

Each builder takes the reliability matrix restricted to its pairable units, ``x`` (R raters,
U' units with >= 2 ratings each), float64 with NaN for missing, precomputes per-unit sums once
and returns a statistic ``weights (U',) -> alpha``. Weights of all ones give the point
estimate; a bootstrap passes how many times each unit was drawn.

Notation: m_u ratings in unit u, w_u = 1/(m_u - 1), n_c the number of pairable values equal to
category c, n = sum_c n_c, and

    alpha = 1 - (n - 1) * sum_u w_u sum_{i != j in u} d(v_i, v_j) / sum_{c, k} n_c n_k d_ck

which is Krippendorff's 1 - D_o / D_e with the coincidence matrix summed out.

Cost per evaluation (N = R * U' cells, K distinct values):
- nominal: O(N) (a weighted bincount of the sparse per-unit category counts);
- interval: O(U') (per-unit moments are fixed; d = (a - b)^2 expands into sums);
- ordinal: O(N + K) (the ordinal distance is the interval distance between mid-ranks
  M_c = sum_{g<c} n_g + n_c / 2, which move with the margins);
- ratio: O(U' + K^2) (D_e needs the K x K distance matrix; O(K^2) memory up to 2048 values,
  row blocks beyond that).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from labelproof.errors import InvalidInput
from labelproof.metrics.agreement.ratings import FloatMatrix, encode
from labelproof.metrics.agreement.result import Level, undefined
from labelproof.metrics.agreement.units import (
    agreeing_pairs,
    dot,
    pair_weights,
    ratings_per_unit,
    unit_counts,
    weighted_bincount,
)

FloatArray = npt.NDArray[np.float64]
Statistic = Callable[[FloatArray], float]

_DENSE_DISTANCE_MAX = 2048


def no_pairable() -> Exception:
    """The error for alpha when no unit has two ratings."""
    return undefined(
        "alpha is undefined: no unit has ratings from at least two raters, so there is no "
        "pairable value",
        reason="no_pairable",
    )


def no_variation(value: float | None = None) -> Exception:
    """The error for alpha when every pairable value is the same (D_e = 0)."""
    seen = "" if value is None else f" (every pairable value is {value:g})"
    return undefined(
        "alpha is undefined: the pairable values show no variation"
        f"{seen}, so the expected disagreement is zero (0/0)",
        reason="no_variation",
    )


def _nominal(x: FloatMatrix) -> Statistic:
    m = ratings_per_unit(~np.isnan(x)).astype(np.float64)
    w = pair_weights(m.astype(np.intp))
    disagree = w * (m * (m - 1.0) - 2.0 * agreeing_pairs(x))
    codes, domain = encode(x)
    unit, category, count = unit_counts(codes)

    def statistic(weights: FloatArray) -> float:
        margins = weighted_bincount(category, weights[unit] * count, domain.size)
        n = float(margins.sum())
        expected = n * n - dot(margins, margins)
        if expected <= 0.0:
            raise no_variation()
        return 1.0 - (n - 1.0) * dot(weights, disagree) / expected

    return statistic


def moments(y0: FloatMatrix, m: npt.NDArray[Any]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-unit S1 = sum y, S2 = sum y^2 and m S2 - S1^2 (>= 0) of ``y0`` (R, U), 0 = missing.

    ``m`` (U,) is the number of ratings per unit (any numeric dtype).
    """
    s1 = y0.sum(axis=0)
    s2 = np.einsum("ru,ru->u", y0, y0)
    within = m * s2
    within -= s1 * s1
    np.maximum(within, 0.0, out=within)
    return s1, s2, within


def _interval(x: FloatMatrix) -> Statistic:
    valid = ~np.isnan(x)
    m = ratings_per_unit(valid).astype(np.float64)
    w = pair_weights(m.astype(np.intp))
    unit_min = np.fmin.reduce(x, axis=0)
    unit_max = np.fmax.reduce(x, axis=0)
    centre = (float(unit_min.min()) + float(unit_max.max())) / 2.0
    s1, s2, within = moments(np.where(valid, x - centre, 0.0), m)
    disagree = 2.0 * w * within

    def statistic(weights: FloatArray) -> float:
        drawn = weights > 0
        low, high = float(unit_min[drawn].min()), float(unit_max[drawn].max())
        if low == high:
            raise no_variation(low)
        n, t1, t2 = dot(weights, m), dot(weights, s1), dot(weights, s2)
        expected = 2.0 * (n * t2 - t1 * t1)
        return 1.0 - (n - 1.0) * dot(weights, disagree) / expected

    return statistic


def _ordinal(x: FloatMatrix) -> Statistic:
    m = ratings_per_unit(~np.isnan(x)).astype(np.float64)
    w = pair_weights(m.astype(np.intp))
    codes, domain = encode(x)
    unit, category, count = unit_counts(codes)
    n_units = x.shape[1]

    def statistic(weights: FloatArray) -> float:
        margins = weighted_bincount(category, weights[unit] * count, domain.size)
        if np.count_nonzero(margins) <= 1:
            raise no_variation()
        n = float(margins.sum())
        midrank = np.cumsum(margins) - margins / 2.0 - n / 2.0
        y = midrank[category]
        s1 = weighted_bincount(unit, count * y, n_units)
        s2 = weighted_bincount(unit, count * y * y, n_units)
        within = np.maximum(m * s2 - s1 * s1, 0.0)
        observed = 2.0 * dot(weights * w, within)
        t1, t2 = dot(margins, midrank), dot(margins, midrank * midrank)
        expected = 2.0 * (n * t2 - t1 * t1)
        return 1.0 - (n - 1.0) * observed / expected

    return statistic


def ratio_distance(a: FloatArray, b: FloatArray) -> FloatArray:
    """Krippendorff's ratio distance ((a - b) / (a + b))^2, 0 where a + b = 0; broadcasts."""
    total = a + b
    diff = np.divide(a - b, total, out=np.zeros(np.broadcast(a, b).shape), where=total != 0)
    return diff * diff


def _ratio_expected(domain: FloatArray, margins: FloatArray) -> float:
    """sum_{c,k} n_c n_k d_ck for the ratio distance, O(K^2) time, O(K * 2048) memory."""
    total = 0.0
    for start in range(0, domain.size, _DENSE_DISTANCE_MAX):
        block = slice(start, start + _DENSE_DISTANCE_MAX)
        distances = ratio_distance(domain[block, np.newaxis], domain[np.newaxis, :])
        total += float(margins[block] @ distances @ margins)
    return total


def _ratio(x: FloatMatrix) -> Statistic:
    if (x < 0).any():
        r, u = (int(i) for i in np.argwhere(x < 0)[0])
        raise InvalidInput(
            f"matrix[{r}][{u}] = {x[r, u]:g} is negative; the ratio level needs values >= 0 "
            "(an absolute zero)",
            field="matrix",
        )
    m = ratings_per_unit(~np.isnan(x))
    w = pair_weights(m)
    pair_sum = np.zeros(x.shape[1])
    for i in range(x.shape[0]):
        for j in range(i + 1, x.shape[0]):
            pair_sum += np.nan_to_num(ratio_distance(x[i], x[j]), nan=0.0)
    disagree = 2.0 * w * pair_sum
    codes, domain = encode(x)
    unit, category, count = unit_counts(codes)

    def statistic(weights: FloatArray) -> float:
        margins = weighted_bincount(category, weights[unit] * count, domain.size)
        if np.count_nonzero(margins) <= 1:
            raise no_variation()
        n = float(margins.sum())
        return 1.0 - (n - 1.0) * dot(weights, disagree) / _ratio_expected(domain, margins)

    return statistic


def alpha_statistic(x: FloatMatrix, level: Level) -> Statistic:
    """Alpha as a function of unit weights, for ``x`` (R, U') with every unit pairable."""
    builders = {"nominal": _nominal, "ordinal": _ordinal, "interval": _interval, "ratio": _ratio}
    return builders[level](x)
