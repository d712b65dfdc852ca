"""Shared validation helpers: precise errors that name the field path and the value."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from numbers import Integral, Real
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from labelproof.annotypes._base import ImageSize
from labelproof.errors import InvalidGeometry

MAX_VERTICES = 100_000
"""Most vertices (or points) one shape may have, all rings together."""

EDGE_TOLERANCE_PX = 1e-6
"""Slack for image bounds on *derived* coordinates (box corners), to absorb float rounding."""


def fail(field: str, message: str) -> NoReturn:
    """Raise InvalidGeometry with ``"<field>: <message>"`` and ``field=field``."""
    raise InvalidGeometry(f"{field}: {message}", field=field)


def show(value: Any, limit: int = 60) -> str:
    """A short repr of a value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def type_name(value: Any) -> str:
    return type(value).__name__


def fmt_num(value: float) -> str:
    return repr(float(value))


def mapping(
    value: Any, field: str, *, required: Iterable[str], optional: Iterable[str] = ()
) -> Mapping[str, Any]:
    """Check ``value`` is an object with exactly the required keys (plus optional ones)."""
    if not isinstance(value, Mapping):
        fail(field, f"must be a JSON object, got {type_name(value)} {show(value)}")
    required = tuple(required)
    allowed = set(required) | set(optional)
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        fail(
            field,
            f"unknown key(s) {', '.join(repr(k) for k in unknown)}; "
            f"allowed: {', '.join(sorted(allowed)) or 'none'}",
        )
    missing = [k for k in required if k not in value]
    if missing:
        fail(field, f"missing key(s) {', '.join(repr(k) for k in missing)}")
    return value


def number(value: Any, field: str) -> float:
    """A finite float from an int or float (bools and strings are refused); -0.0 -> 0.0."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        fail(field, f"must be a number, got {type_name(value)} {show(value)}")
    try:
        out = float(value)
    except (OverflowError, ValueError):
        fail(field, f"{show(value)} is not a finite number")
    if not math.isfinite(out):
        fail(field, f"{show(out)} is not a finite number")
    return out + 0.0


def positive(value: Any, field: str) -> float:
    """A finite number > 0."""
    out = number(value, field)
    if out <= 0.0:
        fail(field, f"must be > 0, got {show(value)}")
    return out


def integer(value: Any, field: str) -> int:
    """An int (bools refused; floats refused even when integral)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, Integral):
        fail(field, f"must be an integer, got {type_name(value)} {show(value)}")
    return int(value)


def sequence(value: Any, field: str) -> list[Any] | tuple[Any, ...]:
    """A JSON array (list or tuple)."""
    if not isinstance(value, list | tuple):
        fail(field, f"must be a JSON array, got {type_name(value)} {show(value)}")
    return value


def vector(value: Any, field: str, length: int) -> list[float]:
    """A JSON array of exactly ``length`` finite numbers."""
    seq = sequence(value, field)
    if len(seq) != length:
        fail(field, f"must have {length} numbers, got {len(seq)}")
    return [number(v, f"{field}[{i}]") for i, v in enumerate(seq)]


def points(
    value: Any, field: str, *, min_points: int, max_points: int = MAX_VERTICES, dims: int = 2
) -> NDArray[np.float64]:
    """Parse a JSON array of ``[x, y]`` points into an (N, 2) float array.

    Raises with the path of the first bad entry, e.g. ``geometry.points[2][0]``.
    """
    seq = sequence(value, field)
    if len(seq) > max_points:
        fail(field, f"has {len(seq)} points, more than the limit of {max_points}")
    if len(seq) < min_points:
        fail(field, f"needs at least {min_points} points, got {len(seq)}")
    out = _fast_points(seq, dims)
    if out is None:  # slow path: find and name the first bad entry
        out = np.empty((len(seq), dims), dtype=np.float64)
        for i, p in enumerate(seq):
            out[i] = vector(p, f"{field}[{i}]", dims)
    if not np.isfinite(out).all():
        i, j = (int(k) for k in np.argwhere(~np.isfinite(out))[0])
        fail(f"{field}[{i}][{j}]", f"{show(float(out[i, j]))} is not a finite number")
    return out + 0.0


def first_outside(
    pts: NDArray[np.float64], image: ImageSize, *, tolerance: float = 0.0
) -> int | None:
    """Index of the first point (N, 2) outside [0, width] x [0, height] (+/- tolerance px)."""
    if pts.shape[0] == 0:
        return None
    x, y = pts[:, 0], pts[:, 1]
    bad = (
        (x < -tolerance)
        | (y < -tolerance)
        | (x > image.width + tolerance)
        | (y > image.height + tolerance)
    )
    return int(np.argmax(bad)) if bad.any() else None


def _fast_points(seq: list[Any] | tuple[Any, ...], dims: int) -> NDArray[np.float64] | None:
    """(N, dims) floats when every entry is a list/tuple of ``dims`` ints or floats; else None."""
    if not seq:
        return np.zeros((0, dims), dtype=np.float64)
    if not all(type(p) is list or type(p) is tuple for p in seq):
        return None
    try:
        obj = np.array(seq, dtype=object)
    except ValueError:  # ragged
        return None
    if obj.shape != (len(seq), dims) or not set(map(type, obj.ravel())) <= {float, int}:
        return None
    try:
        return obj.astype(np.float64)
    except OverflowError:
        return None


def inside_image(
    pts: NDArray[np.float64], image: ImageSize, field: str, *, tolerance: float = 0.0
) -> None:
    """Require every point (N, 2) to lie in the image; ``field`` is the array's path."""
    i = first_outside(pts, image, tolerance=tolerance)
    if i is not None:
        fail(
            f"{field}[{i}]",
            f"({fmt_num(pts[i, 0])}, {fmt_num(pts[i, 1])}) is outside the image "
            f"{image.width}x{image.height}",
        )


def rows(arr: NDArray[np.float64]) -> list[list[float]]:
    """(N, D) float array -> JSON-ready nested lists of Python floats."""
    out: list[list[float]] = (np.asarray(arr, dtype=np.float64) + 0.0).tolist()  # -0.0 -> 0.0
    return out


def canonical_json(obj: Any) -> str:
    """Sorted keys, no spaces, floats as repr (round-trip exact), NaN refused."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
