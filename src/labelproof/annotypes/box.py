"""``box``: an axis-aligned box ``{"x", "y", "w", "h"}`` in px, w > 0, h > 0."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from labelproof.annotypes import _checks as c
from labelproof.annotypes._base import AnnotationType, ImageSize, Skeleton


class BoxType(AnnotationType):
    name: ClassVar[str] = "box"
    title: ClassVar[str] = "Bounding box"

    def validate(
        self,
        geometry: Any,
        *,
        image: ImageSize | None = None,
        skeleton: Skeleton | None = None,
        field: str = "geometry",
    ) -> dict[str, Any]:
        g = c.mapping(geometry, field, required=("x", "y", "w", "h"))
        x = c.number(g["x"], f"{field}.x")
        y = c.number(g["y"], f"{field}.y")
        w = c.positive(g["w"], f"{field}.w")
        h = c.positive(g["h"], f"{field}.h")
        if image is not None:
            _inside(x, y, w, h, image, field)
        return {"x": x, "y": y, "w": w, "h": h}

    def bounds(self, geometry: Any) -> tuple[float, float, float, float]:
        g = self.validate(geometry)
        return (g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"])

    def area(self, geometry: Any) -> float:
        g = self.validate(geometry)
        return float(g["w"] * g["h"])

    def to_polygon(self, geometry: Any) -> dict[str, Any]:
        """The 4 corners, top-left first, as a positive ring (see ``polygon``)."""
        x0, y0, x1, y1 = self.bounds(geometry)
        pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
        return {"points": c.rows(pts), "holes": []}

    def example(self) -> dict[str, Any]:
        return {"x": 10.0, "y": 20.0, "w": 30.5, "h": 40.0}


def _inside(x: float, y: float, w: float, h: float, image: ImageSize, field: str) -> None:
    tol = c.EDGE_TOLERANCE_PX
    if not 0.0 <= x <= image.width:
        c.fail(f"{field}.x", f"{c.fmt_num(x)} is outside the image width {image.width}")
    if not 0.0 <= y <= image.height:
        c.fail(f"{field}.y", f"{c.fmt_num(y)} is outside the image height {image.height}")
    if x + w > image.width + tol:
        c.fail(
            f"{field}.w",
            f"x + w = {c.fmt_num(x + w)} is beyond the image width {image.width}",
        )
    if y + h > image.height + tol:
        c.fail(
            f"{field}.h",
            f"y + h = {c.fmt_num(y + h)} is beyond the image height {image.height}",
        )


ANNOTATION_TYPE = BoxType()
