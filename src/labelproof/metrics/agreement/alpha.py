"""Krippendorff's alpha for nominal, ordinal, interval and ratio data with missing values.

Conventions (see docs/decisions/0003-agreement.md):
- Only pairable values count: values in units rated by at least two raters.
- No units, or no pairable value: ``AgreementUndefined`` (reason ``no_units`` /
  ``no_pairable``); the ``krippendorff`` package raises ``ValueError`` there too.
- Every pairable value the same (expected disagreement D_e = 0): ``AgreementUndefined``
  (reason ``no_variation``). The ``krippendorff`` package raises when the whole matrix has a
  single value and returns NaN when only unpairable values differ; we never return NaN.
- Everything else equals the ``krippendorff`` package to 1e-9 (tested).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from labelproof.metrics.agreement.alpha_point import interval_alpha, nominal_alpha
from labelproof.metrics.agreement.alpha_resample import alpha_statistic, no_pairable
from labelproof.metrics.agreement.bootstrap import percentile_ci
from labelproof.metrics.agreement.ratings import FloatMatrix, MatrixLike, reliability_matrix
from labelproof.metrics.agreement.result import (
    DEFAULT_BOOTSTRAP,
    AgreementResult,
    Level,
    check_bootstrap,
    check_level,
    undefined,
)
from labelproof.metrics.agreement.units import ratings_per_unit

_COINCIDENCE = (
    "with the coincidences o_ck = sum_u n_uc (n_uk - [c = k]) / (m_u - 1) over units u with "
    "m_u >= 2 ratings, n_c = sum_k o_ck and n = sum_c n_c"
)
DEFINITIONS: dict[Level, str] = {
    "nominal": "Krippendorff's alpha = 1 - (n - 1) sum_{c != k} o_ck / (n^2 - sum_c n_c^2), "
    + _COINCIDENCE
    + ".",
    "ordinal": "Krippendorff's alpha = 1 - (n - 1) sum_{c,k} o_ck d_ck / sum_{c,k} n_c n_k d_ck "
    "where d_ck = (sum_{g=c}^{k} n_g - (n_c + n_k) / 2)^2, " + _COINCIDENCE + ".",
    "interval": "Krippendorff's alpha = 1 - (n - 1) sum_{c,k} o_ck d_ck / sum_{c,k} n_c n_k "
    "d_ck where d_ck = (c - k)^2, " + _COINCIDENCE + ".",
    "ratio": "Krippendorff's alpha = 1 - (n - 1) sum_{c,k} o_ck d_ck / sum_{c,k} n_c n_k d_ck "
    "where d_ck = ((c - k) / (c + k))^2, " + _COINCIDENCE + ".",
}


def alpha_value(x: FloatMatrix, level: Level) -> tuple[float, int, int]:
    """Alpha of a normalised matrix ``x`` (R, U), NaN = missing.

    Returns ``(alpha, n_pairable_values, n_pairable_units)``; raises ``AgreementUndefined``.
    """
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise undefined(
            f"alpha is undefined without data: the matrix has shape {x.shape} (raters x units)",
            reason="no_units",
        )
    if level == "nominal":
        return nominal_alpha(x)
    if level == "interval":
        return interval_alpha(x)
    m = ratings_per_unit(~np.isnan(x))
    pairable = m >= 2
    if not pairable.any():
        raise no_pairable()
    kept = x if pairable.all() else x[:, pairable]
    n_units = kept.shape[1]
    value = alpha_statistic(kept, level)(np.ones(n_units))
    return value, int(m[pairable].sum()), n_units


def alpha_result(
    x: FloatMatrix,
    level: Level,
    *,
    bootstrap: int,
    seed: int | None,
    confidence: float,
) -> AgreementResult:
    """Alpha with its bootstrap interval for a normalised matrix ``x`` (R, U)."""
    value, n_pairable, n_units = alpha_value(x, level)
    ci, n_defined = None, 0
    if bootstrap > 0:
        m = ratings_per_unit(~np.isnan(x))
        statistic = alpha_statistic(x[:, m >= 2], level)
        ci, n_defined = percentile_ci(
            statistic, n_units, n_bootstrap=bootstrap, seed=seed, confidence=confidence
        )
    return AgreementResult(
        value=value,
        ci=ci,
        n_units=x.shape[1],
        n_pairable=n_pairable,
        n_raters=x.shape[0],
        metric="alpha",
        level=level,
        definition=DEFINITIONS[level],
        confidence=confidence,
        n_bootstrap=bootstrap,
        n_bootstrap_defined=n_defined,
        seed=seed,
    )


def krippendorff_alpha(
    matrix: MatrixLike,
    *,
    level: Level = "nominal",
    categories: Sequence[Hashable] | None = None,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> AgreementResult:
    """Krippendorff's alpha of reliability data ``matrix`` (R raters, U units).

    ``matrix`` is a numeric array with NaN for missing, or rows of labels with ``None`` for
    missing (see ``labelproof.metrics.agreement.ratings``). ``categories`` orders labels for
    the ordinal level. ``bootstrap`` resamples of the pairable units (0 = no interval) give
    the ``confidence`` percentile interval, seeded by ``seed``.

    Raises ``InvalidInput`` for malformed data and ``AgreementUndefined`` when alpha is 0/0.
    """
    checked = check_level(level)
    check_bootstrap(bootstrap, confidence)
    x = reliability_matrix(matrix, level=checked, categories=categories)
    return alpha_result(x, checked, bootstrap=bootstrap, seed=seed, confidence=confidence)
