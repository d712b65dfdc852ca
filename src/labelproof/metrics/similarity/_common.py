"""Shared helpers of the similarity kernels: empty results and structural parsing.

The kernels work on *canonical* geometry (what ``labelproof.annotypes.validate`` returns);
they only check structure (keys present, numbers where numbers belong) and raise
``InvalidGeometry`` naming the field path, e.g. ``a[3].points``, when it is wrong. They do
not re-validate simplicity or ranges: validate once at the edge of the system.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from labelproof.errors import InvalidGeometry, InvalidInput

F64 = NDArray[np.float64]
T = TypeVar("T")


def empty(n: int, m: int) -> F64:
    """A zero-filled (n, m) float64 matrix (the result shape for empty input)."""
    return np.zeros((n, m), dtype=np.float64)


def as_list(values: Any, field: str) -> list[Any]:
    """``values`` as a list; InvalidInput when it is not a sequence (a str is not)."""
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence):
        raise InvalidInput(
            f"{field}: must be a sequence of geometries, got {type(values).__name__}",
            field=field,
        )
    return list(values)


def parse_each(geometries: Sequence[Any], field: str, parse: Callable[[Any, str], T]) -> list[T]:
    """``parse(g, path)`` for every geometry, turning structural errors into
    InvalidGeometry naming ``field[i]``."""
    out: list[T] = []
    for i, g in enumerate(geometries):
        path = f"{field}[{i}]"
        try:
            out.append(parse(g, path))
        except InvalidInput:
            raise
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise InvalidGeometry(
                f"{path}: not canonical geometry ({type(exc).__name__}: {exc})", field=path
            ) from exc
    return out


def key(g: Any, name: str, path: str) -> Any:
    """``g[name]``; InvalidGeometry naming ``path.name`` when g is not a mapping or lacks it."""
    if not isinstance(g, Mapping):
        raise InvalidGeometry(f"{path}: must be a JSON object, got {type(g).__name__}", field=path)
    if name not in g:
        raise InvalidGeometry(f"{path}.{name}: missing", field=f"{path}.{name}")
    return g[name]


def points(value: Any, path: str, dims: int = 2, min_points: int = 1) -> F64:
    """(n, dims) float64 array from a list of points; InvalidGeometry on a bad shape."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != dims or arr.shape[0] < min_points:
        raise InvalidGeometry(
            f"{path}: must be a list of at least {min_points} [{', '.join('xyzv'[:dims])}] "
            f"points, got shape {arr.shape}",
            field=path,
        )
    if not np.isfinite(arr).all():
        raise InvalidGeometry(f"{path}: contains NaN or infinity", field=path)
    return arr


def check_pairs(a: Sequence[Any], b: Sequence[Any]) -> None:
    """Paired kernels need equal lengths."""
    if len(a) != len(b):
        raise InvalidInput(
            f"b: paired similarity needs as many geometries as a ({len(a)}), got {len(b)}",
            field="b",
        )
