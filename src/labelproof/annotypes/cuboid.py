"""``cuboid``: a 3D box ``{"center", "size", "rotation"}`` (+ optional ``"projection"``).

Scene units and radians; R = Rz(yaw) @ Ry(pitch) @ Rx(roll) about the centre. Canonical
form: floats, each rotation angle mapped into [-pi, pi). The optional projection (the 8
corners drawn on the image, [[x, y] * 8] px) is the only part bounded by the image.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from labelproof.annotypes import _checks as c
from labelproof.annotypes._base import AnnotationType, ImageSize, Skeleton
from labelproof.geometry import convex_hull, normalize_radians, signed_area


class CuboidType(AnnotationType):
    name: ClassVar[str] = "cuboid"
    title: ClassVar[str] = "Cuboid (3D)"

    def validate(
        self,
        geometry: Any,
        *,
        image: ImageSize | None = None,
        skeleton: Skeleton | None = None,
        field: str = "geometry",
    ) -> dict[str, Any]:
        g = c.mapping(
            geometry, field, required=("center", "size", "rotation"), optional=("projection",)
        )
        center = c.vector(g["center"], f"{field}.center", 3)
        size = c.vector(g["size"], f"{field}.size", 3)
        for i, v in enumerate(size):
            if v <= 0.0:
                c.fail(f"{field}.size[{i}]", f"must be > 0, got {c.show(g['size'][i])}")
        rotation = [normalize_radians(a) for a in c.vector(g["rotation"], f"{field}.rotation", 3)]
        out: dict[str, Any] = {"center": center, "size": size, "rotation": rotation}
        if "projection" in g:
            path = f"{field}.projection"
            proj = c.points(g["projection"], path, min_points=8, max_points=8)
            if image is not None:
                c.inside_image(proj, image, path)
            out["projection"] = c.rows(proj)
        return out

    def _hull(self, geometry: Any) -> np.ndarray[Any, np.dtype[np.float64]] | None:
        g = self.validate(geometry)
        if "projection" not in g:
            return None
        return convex_hull(g["projection"])

    def bounds(self, geometry: Any) -> tuple[float, float, float, float] | None:
        """Bounds of the projection, or None without one."""
        g = self.validate(geometry)
        if "projection" not in g:
            return None
        pts = np.asarray(g["projection"])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))

    def area(self, geometry: Any) -> float:
        """Area of the projection's convex hull in px^2, 0.0 without a projection."""
        hull = self._hull(geometry)
        return 0.0 if hull is None else abs(signed_area(hull))

    def to_polygon(self, geometry: Any) -> dict[str, Any] | None:
        """The projection's convex hull, or None without a (non-degenerate) projection."""
        hull = self._hull(geometry)
        if hull is None or hull.shape[0] < 3:
            return None
        return {"points": c.rows(hull), "holes": []}

    def example(self) -> dict[str, Any]:
        return {
            "center": [1.0, 2.0, 0.5],
            "size": [4.0, 2.0, 1.5],
            "rotation": [0.0, 0.0, 0.5],
            "projection": [
                [100.0, 200.0],
                [180.0, 210.0],
                [220.0, 190.0],
                [140.0, 180.0],
                [100.0, 150.0],
                [180.0, 160.0],
                [220.0, 140.0],
                [140.0, 130.0],
            ],
        }


ANNOTATION_TYPE = CuboidType()
