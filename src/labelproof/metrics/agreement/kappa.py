"""Cohen's kappa (two raters) and Fleiss' kappa (a fixed number of ratings per unit).

Both are nominal (unweighted) statistics. Conventions (docs/decisions/0003-agreement.md):
- Cohen uses the units both raters rated (a unit missing either rating is left out).
- p_e = 1 (both raters, or all ratings, used one and the same category): ``AgreementUndefined``
  with reason ``no_variation``, where scikit-learn returns NaN with a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from labelproof.errors import InvalidInput
from labelproof.metrics.agreement.bootstrap import percentile_ci
from labelproof.metrics.agreement.ratings import FloatMatrix, encode, reliability_matrix
from labelproof.metrics.agreement.result import (
    DEFAULT_BOOTSTRAP,
    AgreementResult,
    check_bootstrap,
    undefined,
)
from labelproof.metrics.agreement.units import dot, weighted_bincount

FloatArray = npt.NDArray[np.float64]

COHEN_DEFINITION = (
    "Cohen's kappa = (p_o - p_e) / (1 - p_e), with p_o the fraction of units rated by both "
    "raters on which they agree and p_e = sum_c p_ac p_bc from each rater's own category "
    "proportions over those units."
)
FLEISS_DEFINITION = (
    "Fleiss' kappa = (P - P_e) / (1 - P_e), with P the mean over units of "
    "(sum_j n_ij^2 - n) / (n (n - 1)) for n ratings per unit and P_e = sum_j p_j^2, p_j the "
    "share of all ratings in category j."
)


def _no_variation(metric: str) -> Exception:
    return undefined(
        f"{metric} is undefined: every rating is the same category, so chance agreement "
        "p_e = 1 and kappa is 0/0",
        reason="no_variation",
    )


def cohen_from_matrix(
    x: FloatMatrix, *, bootstrap: int, seed: int | None, confidence: float
) -> AgreementResult:
    """Cohen's kappa of a normalised (2, U) matrix, NaN = missing."""
    if x.shape[0] != 2:
        raise InvalidInput(
            f"Cohen's kappa needs exactly 2 raters, got {x.shape[0]}; use fleiss or alpha",
            field="raters",
        )
    both = ~np.isnan(x).any(axis=0)
    n_both = int(np.count_nonzero(both))
    if x.shape[1] == 0:
        raise undefined("Cohen's kappa is undefined without units", reason="no_units")
    if n_both == 0:
        raise undefined(
            "Cohen's kappa is undefined: no unit was rated by both raters", reason="no_pairable"
        )
    codes, domain = encode(x[:, both])
    k = max(domain.size, 1)
    keys = codes[0] * k + codes[1]

    def statistic(weights: FloatArray) -> float:
        table = weighted_bincount(keys, weights, k * k).reshape(k, k)
        total = float(table.sum())
        chance = dot(table.sum(axis=1), table.sum(axis=0))
        if chance >= total * total:
            raise _no_variation("Cohen's kappa")
        agree = float(np.trace(table))
        return (total * agree - chance) / (total * total - chance)

    value = statistic(np.ones(n_both))
    ci, n_defined = percentile_ci(
        statistic, n_both, n_bootstrap=bootstrap, seed=seed, confidence=confidence
    )
    return AgreementResult(
        value=value,
        ci=ci,
        n_units=x.shape[1],
        n_pairable=2 * n_both,
        n_raters=2,
        metric="cohen",
        level="nominal",
        definition=COHEN_DEFINITION,
        confidence=confidence,
        n_bootstrap=bootstrap,
        n_bootstrap_defined=n_defined,
        seed=seed,
    )


def cohen_kappa(
    a: Sequence[Any] | npt.NDArray[Any],
    b: Sequence[Any] | npt.NDArray[Any],
    *,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> AgreementResult:
    """Unweighted Cohen's kappa of two raters' labels ``a`` and ``b`` (U,) each.

    Labels are hashable values; ``None`` or NaN is a missing rating and drops that unit.
    """
    check_bootstrap(bootstrap, confidence)
    if len(a) != len(b):
        raise InvalidInput(
            f"a has {len(a)} ratings but b has {len(b)}; both need one per unit", field="b"
        )
    rows = [list(a), list(b)]
    x = reliability_matrix(rows, level="nominal", field="ratings")
    return cohen_from_matrix(x, bootstrap=bootstrap, seed=seed, confidence=confidence)


def _check_counts(counts: npt.ArrayLike) -> npt.NDArray[np.float64]:
    table = np.asarray(counts)
    if table.ndim != 2:
        raise InvalidInput(
            f"counts must be 2-D (units x categories), got shape {table.shape}", field="counts"
        )
    if table.dtype.kind not in "iuf" and table.size:
        raise InvalidInput(f"counts must be numbers, got dtype {table.dtype}", field="counts")
    values = table.astype(np.float64)
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise InvalidInput(
            f"counts[{i}][{j}] = {table[i, j].item()!r} is not a non-negative whole number",
            field="counts",
        )
    return values


def fleiss_kappa(
    counts: npt.ArrayLike,
    *,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> AgreementResult:
    """Fleiss' kappa of ``counts`` (N units, K categories): n_ij raters put unit i in j.

    Every unit needs the same number n >= 2 of ratings (row sum).
    """
    check_bootstrap(bootstrap, confidence)
    table = _check_counts(counts)
    if table.shape[0] == 0:
        raise undefined("Fleiss' kappa is undefined without units", reason="no_units")
    per_unit = table.sum(axis=1)
    n = float(per_unit[0])
    differs = np.flatnonzero(per_unit != n)
    if differs.size:
        i = int(differs[0])
        raise InvalidInput(
            f"counts[{i}] has {per_unit[i]:g} ratings but counts[0] has {n:g}; Fleiss' kappa "
            "needs the same number of ratings for every unit (use alpha otherwise)",
            field="counts",
        )
    if n < 2:
        raise undefined(
            f"Fleiss' kappa is undefined with {n:g} rating per unit; it needs at least 2",
            reason="no_pairable",
        )
    agreement = (np.einsum("ij,ij->i", table, table) - n) / (n * (n - 1.0))

    def statistic(weights: FloatArray) -> float:
        n_units = float(weights.sum())
        shares = np.einsum("u,uk->k", weights, table) / (n_units * n)
        chance = dot(shares, shares)
        if chance >= 1.0:
            raise _no_variation("Fleiss' kappa")
        return (dot(weights, agreement) / n_units - chance) / (1.0 - chance)

    value = statistic(np.ones(table.shape[0]))
    ci, n_defined = percentile_ci(
        statistic, table.shape[0], n_bootstrap=bootstrap, seed=seed, confidence=confidence
    )
    return AgreementResult(
        value=value,
        ci=ci,
        n_units=table.shape[0],
        n_pairable=int(per_unit.sum()),
        n_raters=int(n),
        metric="fleiss",
        level="nominal",
        definition=FLEISS_DEFINITION,
        confidence=confidence,
        n_bootstrap=bootstrap,
        n_bootstrap_defined=n_defined,
        seed=seed,
    )


def fleiss_counts(x: FloatMatrix) -> npt.NDArray[np.float64]:
    """Category counts (U units, K categories) of a normalised matrix ``x`` (R, U).

    Raises ``InvalidInput`` naming the first unit whose number of ratings differs from the
    first unit's (Fleiss' kappa needs the same number of ratings per unit).
    """
    valid = ~np.isnan(x)
    per_unit = valid.sum(axis=0)
    if per_unit.size and (per_unit != per_unit[0]).any():
        u = int(np.flatnonzero(per_unit != per_unit[0])[0])
        raise InvalidInput(
            f"unit {u} has {per_unit[u]} ratings but unit 0 has {per_unit[0]}; Fleiss' kappa "
            "needs the same number of ratings for every unit (use alpha otherwise)",
            field=f"matrix[:, {u}]",
        )
    codes, domain = encode(x)
    k = max(domain.size, 1)
    unit = np.broadcast_to(np.arange(x.shape[1]), x.shape)
    table = np.bincount(unit[valid] * k + codes[valid], minlength=x.shape[1] * k)
    return table.reshape(x.shape[1], k).astype(np.float64)
