"""Seeded percentile bootstrap over units.

Method (the same for every statistic): draw ``n_units`` units with replacement, uniformly,
from the units that take part in the statistic (for alpha and percent agreement the units
with at least two ratings, for Cohen the units both raters rated, for Fleiss every unit);
recompute the statistic on the resample; repeat ``n_bootstrap`` times with
``numpy.random.default_rng(seed)``; the interval is the (1 - confidence)/2 and
(1 + confidence)/2 quantiles (numpy's default linear interpolation) of the replicates.

A resample is passed to a statistic as unit weights: ``weights[u]`` is how many times unit
``u`` was drawn, so a statistic evaluates sums over units as ``weights @ per_unit``.
Replicates whose statistic is undefined (e.g. every drawn unit has the same single value) are
left out and counted; the interval is ``None`` when none is defined.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from labelproof.metrics.agreement.result import AgreementUndefined

FloatArray = npt.NDArray[np.float64]
Statistic = Callable[[FloatArray], float]
"""Maps unit weights (U,) float64 (integer-valued) to the statistic on that resample."""


def percentile_ci(
    statistic: Statistic,
    n_units: int,
    *,
    n_bootstrap: int,
    seed: int | None,
    confidence: float = 0.95,
) -> tuple[tuple[float, float] | None, int]:
    """Percentile bootstrap interval of ``statistic`` over ``n_units`` units.

    Returns ``(ci, n_defined)``: ``ci`` is ``(low, high)`` or ``None`` (bootstrap turned off,
    no units, or no defined replicate); ``n_defined`` is the number of replicates used.
    """
    if n_bootstrap <= 0 or n_units <= 0:
        return None, 0
    rng = np.random.default_rng(seed)
    values: list[float] = []
    for _ in range(n_bootstrap):
        drawn = rng.integers(0, n_units, size=n_units)
        weights = np.bincount(drawn, minlength=n_units).astype(np.float64)
        try:
            values.append(statistic(weights))
        except AgreementUndefined:
            continue
    if not values:
        return None, 0
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(np.asarray(values), [tail, 1.0 - tail])
    return (float(low), float(high)), len(values)
