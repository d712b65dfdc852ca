"""Percent agreement: the share of agreeing rater pairs, averaged over units.

For unit u with m_u >= 2 ratings, P_u = sum_c n_uc (n_uc - 1) / (m_u (m_u - 1)) is the
fraction of its rater pairs that gave the same label; the statistic is the mean of P_u over
those units (Fleiss' P-bar, extended to a varying number of ratings). With two raters it is
the fraction of units both rated on which they agree. Reported as a fraction in [0, 1].
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import numpy.typing as npt

from labelproof.metrics.agreement.bootstrap import percentile_ci
from labelproof.metrics.agreement.ratings import FloatMatrix, MatrixLike, reliability_matrix
from labelproof.metrics.agreement.result import (
    DEFAULT_BOOTSTRAP,
    AgreementResult,
    check_bootstrap,
    undefined,
)
from labelproof.metrics.agreement.units import agreeing_pairs, dot, ratings_per_unit

FloatArray = npt.NDArray[np.float64]

PERCENT_DEFINITION = (
    "Percent agreement = the mean over units u with m_u >= 2 ratings of "
    "sum_c n_uc (n_uc - 1) / (m_u (m_u - 1)), the fraction of the unit's rater pairs that "
    "agree."
)


def percent_from_matrix(
    x: FloatMatrix, *, bootstrap: int, seed: int | None, confidence: float
) -> AgreementResult:
    """Percent agreement of a normalised matrix ``x`` (R, U), NaN = missing."""
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise undefined(
            f"percent agreement is undefined without data: shape {x.shape}", reason="no_units"
        )
    m = ratings_per_unit(~np.isnan(x))
    pairable = m >= 2
    n_units = int(np.count_nonzero(pairable))
    if n_units == 0:
        raise undefined(
            "percent agreement is undefined: no unit has ratings from at least two raters",
            reason="no_pairable",
        )
    mp = m[pairable].astype(np.float64)
    per_unit = 2.0 * agreeing_pairs(x)[pairable] / (mp * (mp - 1.0))

    def statistic(weights: FloatArray) -> float:
        return dot(weights, per_unit) / float(weights.sum())

    value = statistic(np.ones(n_units))
    ci, n_defined = percentile_ci(
        statistic, n_units, n_bootstrap=bootstrap, seed=seed, confidence=confidence
    )
    return AgreementResult(
        value=value,
        ci=ci,
        n_units=x.shape[1],
        n_pairable=int(mp.sum()),
        n_raters=x.shape[0],
        metric="percent",
        level="nominal",
        definition=PERCENT_DEFINITION,
        confidence=confidence,
        n_bootstrap=bootstrap,
        n_bootstrap_defined=n_defined,
        seed=seed,
    )


def percent_agreement(
    matrix: MatrixLike,
    *,
    categories: Sequence[Hashable] | None = None,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> AgreementResult:
    """Percent agreement of reliability data ``matrix`` (R raters, U units), exact matches."""
    check_bootstrap(bootstrap, confidence)
    x = reliability_matrix(matrix, level="nominal", categories=categories)
    return percent_from_matrix(x, bootstrap=bootstrap, seed=seed, confidence=confidence)
