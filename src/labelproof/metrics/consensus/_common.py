"""Shared input checks of the consensus merges."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.errors import InvalidInput


def rater_weights(weights: Sequence[float] | None, k: int) -> NDArray[np.float64]:
    """(k,) rater weights: all 1 by default; each must be a finite number > 0."""
    if weights is None:
        return np.ones(k, dtype=np.float64)
    if len(weights) != k:
        raise InvalidInput(
            f"weights: need {k} weights (one per rater), got {len(weights)}", field="weights"
        )
    out = np.empty(k, dtype=np.float64)
    for i, w in enumerate(weights):
        ok = isinstance(w, int | float) and not isinstance(w, bool) and np.isfinite(w) and w > 0
        if not ok:
            raise InvalidInput(
                f"weights[{i}]: must be a number > 0, got {w!r}", field=f"weights[{i}]"
            )
        out[i] = float(w)
    return out


def non_empty(values: Sequence[Any], field: str) -> list[Any]:
    """A list of at least one rater's annotation."""
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise InvalidInput(f"{field}: must be a sequence (one entry per rater)", field=field)
    if len(values) == 0:
        raise InvalidInput(f"{field}: needs at least one rater", field=field)
    return list(values)
