"""Similarity of whole-image tags: their geometry is ``{}``, so only labels can differ."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.errors import InvalidInput
from labelproof.metrics.similarity._common import as_list

F64 = NDArray[np.float64]


def tag_similarity(
    a: Sequence[Any],
    b: Sequence[Any],
    *,
    labels_a: Sequence[str] | None = None,
    labels_b: Sequence[str] | None = None,
) -> F64:
    """Tag similarity: a (N) x b (M) -> (N, M), 1.0 where the labels are equal, else 0.0.

    Labels live outside the geometry, so they are passed separately (``labels_a`` (N),
    ``labels_b`` (M)); without them every pair is 1.0 (the geometries ``{}`` are equal).
    """
    la, lb = as_list(a, "a"), as_list(b, "b")
    n, m = len(la), len(lb)
    if (labels_a is None) != (labels_b is None):
        raise InvalidInput("labels_a and labels_b must be given together", field="labels_a")
    if labels_a is None or labels_b is None:
        return np.ones((n, m), dtype=np.float64)
    if len(labels_a) != n or len(labels_b) != m:
        raise InvalidInput(
            f"labels: need {n} and {m} labels, got {len(labels_a)} and {len(labels_b)}",
            field="labels_a" if len(labels_a) != n else "labels_b",
        )
    xa = np.asarray(list(labels_a), dtype=object)
    xb = np.asarray(list(labels_b), dtype=object)
    return np.asarray(xa[:, None] == xb[None, :], dtype=np.float64).reshape(n, m)
