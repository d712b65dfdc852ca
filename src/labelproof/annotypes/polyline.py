"""``polyline``: ``{"points": [[x, y], ...]}`` in px, an open line of >= 2 distinct points.

Canonical form: consecutive duplicate points removed; the direction is kept (it may
carry meaning, e.g. a lane's driving direction). Self-crossing is allowed.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from labelproof.annotypes import _checks as c
from labelproof.annotypes._base import AnnotationType, ImageSize, Skeleton


def _parse(geometry: Any, image: ImageSize | None, field: str) -> NDArray[np.float64]:
    g = c.mapping(geometry, field, required=("points",))
    pts = c.points(g["points"], f"{field}.points", min_points=2)
    if image is not None:
        c.inside_image(pts, image, f"{field}.points")
    keep = np.ones(pts.shape[0], dtype=bool)
    keep[1:] = np.any(pts[1:] != pts[:-1], axis=1)
    pts = pts[keep]
    if pts.shape[0] < 2:
        c.fail(f"{field}.points", "needs at least 2 distinct points, got 1")
    return pts


class PolylineType(AnnotationType):
    name: ClassVar[str] = "polyline"
    title: ClassVar[str] = "Polyline"

    def validate(
        self,
        geometry: Any,
        *,
        image: ImageSize | None = None,
        skeleton: Skeleton | None = None,
        field: str = "geometry",
    ) -> dict[str, Any]:
        return {"points": c.rows(_parse(geometry, image, field))}

    def bounds(self, geometry: Any) -> tuple[float, float, float, float]:
        pts = _parse(geometry, None, "geometry")
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))

    def area(self, geometry: Any) -> float:
        _parse(geometry, None, "geometry")
        return 0.0

    def length(self, geometry: Any) -> float:
        """Total length in px."""
        pts = _parse(geometry, None, "geometry")
        d = np.diff(pts, axis=0)
        return float(np.hypot(d[:, 0], d[:, 1]).sum())

    def example(self) -> dict[str, Any]:
        return {"points": [[0.0, 10.0], [25.5, 12.0], [40.0, 30.0]]}


ANNOTATION_TYPE = PolylineType()
