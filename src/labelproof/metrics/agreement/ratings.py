"""Reliability data: the (raters x units) matrix every agreement statistic reads.

Callers give either a numeric numpy array with NaN for a missing rating, or rows (one per
rater) of hashable labels with ``None`` (or NaN) for a missing rating. Both become one float64
matrix of shape (R raters, U units) with NaN for missing:

- numbers stay numbers at the ordinal, interval and ratio levels;
- at the nominal level, labels given as rows are replaced by integer codes (only equality
  matters; ``1`` and ``1.0`` are one label, as Python's ``==`` says);
- with an explicit ordered ``categories`` list (nominal or ordinal), each value is replaced by
  its index in that list, so the order of the list is the order of the values.

Interval and ratio levels need numbers: an ordered category list says nothing about the
distances between categories, so it is refused there rather than guessed.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from numbers import Real
from typing import Any

import numpy as np
import numpy.typing as npt

from labelproof.errors import InvalidInput
from labelproof.metrics.agreement.result import Level

FloatMatrix = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

MatrixLike = npt.NDArray[Any] | Sequence[Sequence[Any]]
"""(R raters, U units): a numeric array with NaN missing, or rows of labels / None."""


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _cell_name(field: str, r: int, u: int) -> str:
    return f"{field}[{r}][{u}]"


def category_index(categories: Sequence[Hashable] | None, level: Level) -> dict[Hashable, int]:
    """Map each of ``categories`` to its position; {} for None. Checks distinct, hashable."""
    if categories is None:
        return {}
    if level in ("interval", "ratio"):
        raise InvalidInput(
            f"categories= is for the nominal and ordinal levels; level {level!r} needs numbers "
            "whose differences mean something",
            field="categories",
        )
    index: dict[Hashable, int] = {}
    for i, category in enumerate(categories):
        if _is_missing(category):
            raise InvalidInput(f"categories[{i}] is missing (None/NaN)", field="categories")
        try:
            if category in index:
                raise InvalidInput(
                    f"categories[{i}] = {category!r} repeats categories[{index[category]}]",
                    field="categories",
                )
        except TypeError:
            raise InvalidInput(
                f"categories[{i}] = {category!r} is not hashable", field="categories"
            ) from None
        index[category] = i
    if not index:
        raise InvalidInput("categories is empty", field="categories")
    return index


def _numeric_array(data: npt.NDArray[Any], field: str) -> FloatMatrix:
    matrix = np.asarray(data, dtype=np.float64)
    # Two NaN-skipping reductions find an infinity without a full-size temporary.
    if (
        matrix.size
        and np.isinf([np.fmin.reduce(matrix, axis=None), np.fmax.reduce(matrix, axis=None)]).any()
    ):
        r, u = (int(i) for i in np.argwhere(np.isinf(matrix))[0])
        raise InvalidInput(
            f"{_cell_name(field, r, u)} = {matrix[r, u]} is not a finite value", field=field
        )
    return matrix


def _rows(data: MatrixLike, field: str) -> list[Sequence[Any] | npt.NDArray[Any]]:
    if isinstance(data, str | bytes):
        raise InvalidInput(f"{field} must be rows of ratings, got a string", field=field)
    rows: list[Sequence[Any] | npt.NDArray[Any]] = []
    width: int | None = None
    for r, row in enumerate(data):
        if isinstance(row, str | bytes) or not isinstance(row, Sequence | np.ndarray):
            raise InvalidInput(
                f"{field}[{r}] must be a sequence of ratings (one per unit), got {row!r}",
                field=field,
            )
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise InvalidInput(
                f"{field}[{r}] has {len(row)} ratings but {field}[0] has {width}; every rater "
                "row needs one cell per unit (None for missing)",
                field=field,
            )
        rows.append(row)
    return rows


def reliability_matrix(
    data: MatrixLike,
    *,
    level: Level = "nominal",
    categories: Sequence[Hashable] | None = None,
    field: str = "matrix",
) -> FloatMatrix:
    """Normalise reliability data to a float64 matrix (R raters, U units), NaN = missing.

    Raises ``InvalidInput`` naming the cell (``matrix[r][u]``) for a ragged row, an infinite
    value, a value outside ``categories``, or a non-number at the ordinal (without
    ``categories``), interval or ratio level.
    """
    index = category_index(categories, level)
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        if data.ndim != 2:
            raise InvalidInput(
                f"{field} must be 2-D (raters x units), got shape {data.shape}", field=field
            )
        if not index:
            return _numeric_array(data, field)
    rows = _rows(data, field)
    n_units = len(rows[0]) if rows else 0
    out = np.full((len(rows), n_units), np.nan, dtype=np.float64)
    labels: dict[Hashable, int] = {}
    for r, row in enumerate(rows):
        for u, raw in enumerate(row):
            value = raw.item() if isinstance(raw, np.generic) else raw
            if _is_missing(value):
                continue
            try:
                hash(value)
            except TypeError:
                raise InvalidInput(
                    f"{_cell_name(field, r, u)} = {value!r} is not a hashable label", field=field
                ) from None
            if index:
                code = index.get(value)
                if code is None:
                    raise InvalidInput(
                        f"{_cell_name(field, r, u)} = {value!r} is not one of the categories",
                        field=field,
                    )
                out[r, u] = code
            elif level == "nominal":
                # Only equality matters: every label (numbers too; 1 == 1.0) gets a code.
                out[r, u] = labels.setdefault(value, len(labels))
            elif _is_number(value):
                number = float(value)
                if not math.isfinite(number):
                    raise InvalidInput(
                        f"{_cell_name(field, r, u)} = {value!r} is not a finite value",
                        field=field,
                    )
                out[r, u] = number
            else:
                hint = " (or pass an ordered categories= list)" if level == "ordinal" else ""
                raise InvalidInput(
                    f"{_cell_name(field, r, u)} = {value!r} is not a number; level {level!r} "
                    f"needs numbers{hint}",
                    field=field,
                )
    return out


def encode(matrix: FloatMatrix) -> tuple[IntArray, FloatMatrix]:
    """Integer category codes of a reliability matrix.

    Returns ``codes`` (R, U) intp with -1 for missing and codes ``0..K-1`` in increasing order
    of value, and ``domain`` (K,) float64, the distinct values in increasing order. Small
    integer-valued data takes an O(R*U) path; anything else sorts the values once.
    """
    valid = ~np.isnan(matrix)
    if not valid.any():
        return np.full(matrix.shape, -1, dtype=np.intp), np.empty(0, dtype=np.float64)
    lo = float(np.fmin.reduce(matrix, axis=None))
    hi = float(np.fmax.reduce(matrix, axis=None))
    if hi - lo <= 4 * matrix.size + 1024:
        shifted = np.where(valid, matrix - lo, 0.0)
        raw = shifted.astype(np.intp)
        if np.array_equal(raw, shifted):
            present = np.bincount(raw[valid], minlength=int(hi - lo) + 1) > 0
            lookup = np.cumsum(present) - 1
            codes = np.where(valid, lookup[raw], -1).astype(np.intp, copy=False)
            domain = lo + np.flatnonzero(present).astype(np.float64)
            return codes, domain
    domain, inverse = np.unique(matrix[valid], return_inverse=True)
    codes = np.full(matrix.shape, -1, dtype=np.intp)
    codes[valid] = inverse
    return codes, domain.astype(np.float64, copy=False)
