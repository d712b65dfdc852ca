"""``rotated_box``: ``{"cx", "cy", "w", "h", "angle"}``, angle in degrees clockwise on screen."""

from __future__ import annotations

from typing import Any, ClassVar

from labelproof.annotypes import _checks as c
from labelproof.annotypes._base import AnnotationType, ImageSize, Skeleton
from labelproof.geometry import normalize_degrees, rotated_box_corners


class RotatedBoxType(AnnotationType):
    name: ClassVar[str] = "rotated_box"
    title: ClassVar[str] = "Rotated box"

    def validate(
        self,
        geometry: Any,
        *,
        image: ImageSize | None = None,
        skeleton: Skeleton | None = None,
        field: str = "geometry",
    ) -> dict[str, Any]:
        g = c.mapping(geometry, field, required=("cx", "cy", "w", "h", "angle"))
        out = {
            "cx": c.number(g["cx"], f"{field}.cx"),
            "cy": c.number(g["cy"], f"{field}.cy"),
            "w": c.positive(g["w"], f"{field}.w"),
            "h": c.positive(g["h"], f"{field}.h"),
            "angle": normalize_degrees(c.number(g["angle"], f"{field}.angle")),
        }
        if image is not None:
            corners = rotated_box_corners(**out)
            i = c.first_outside(corners, image, tolerance=c.EDGE_TOLERANCE_PX)
            if i is not None:
                c.fail(
                    field,
                    f"corner {i} ({c.fmt_num(corners[i, 0])}, {c.fmt_num(corners[i, 1])}) "
                    f"is outside the image {image.width}x{image.height}",
                )
        return out

    def _corners(self, geometry: Any) -> list[list[float]]:
        return c.rows(rotated_box_corners(**self.validate(geometry)))

    def bounds(self, geometry: Any) -> tuple[float, float, float, float]:
        pts = self._corners(geometry)
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        return (min(xs), min(ys), max(xs), max(ys))

    def area(self, geometry: Any) -> float:
        g = self.validate(geometry)
        return float(g["w"] * g["h"])

    def to_polygon(self, geometry: Any) -> dict[str, Any]:
        """The 4 corners (unrotated top-left first) as a positive ring."""
        return {"points": self._corners(geometry), "holes": []}

    def example(self) -> dict[str, Any]:
        return {"cx": 50.0, "cy": 40.0, "w": 30.0, "h": 10.0, "angle": 30.0}


ANNOTATION_TYPE = RotatedBoxType()
