"""``polygon``: ``{"points": [[x, y], ...], "holes": [[[x, y], ...], ...]}`` in px.

Canonical form: closing duplicates and consecutive duplicate vertices removed; the shell
is a *positive* ring and every hole a *negative* one (see
:mod:`labelproof.geometry.rings`: positive = shoelace area > 0 on the stored numbers,
shapely's ``is_ccw``, which looks clockwise on screen since y points down); each ring
keeps its first vertex. Rings need >= 3 distinct points and non-zero area, must be simple,
holes must lie inside the shell and not overlap one another.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from labelproof.annotypes import _checks as c
from labelproof.annotypes._base import AnnotationType, ImageSize, Skeleton
from labelproof.geometry import dedupe_ring, orient_ring, polygon_area, signed_area

_WHERE = re.compile(r"\[\s*([-+0-9.eE]+(?:\s+[-+0-9.eE]+)+)\s*\]")


def _location(reason: str) -> str:
    """``"Self-intersection[12 40.5]"`` -> ``"(12.0, 40.5)"`` (empty when absent)."""
    match = _WHERE.search(reason)
    if not match:
        return ""
    xy = [float(v) for v in match.group(1).split()[:2]]
    return f" at ({c.fmt_num(xy[0])}, {c.fmt_num(xy[1])})"


def _ring(value: Any, field: str, image: ImageSize | None, budget: int) -> NDArray[np.float64]:
    pts = c.points(value, field, min_points=3, max_points=budget)
    if image is not None:
        c.inside_image(pts, image, field)
    ring = dedupe_ring(pts)
    distinct = ring.shape[0] if ring.shape[0] < 3 else np.unique(ring, axis=0).shape[0]
    if distinct < 3:
        c.fail(field, f"needs at least 3 distinct points, got {distinct}")
    d = ring[1:] - ring[0]
    cross = d[:, 0] * d[0, 1] - d[:, 1] * d[0, 0]
    if not cross.any():
        c.fail(field, "ring has zero area (its points are collinear)")
    return ring


def _check_simple(ring: NDArray[np.float64], field: str, what: str) -> None:
    from shapely.geometry import LinearRing, Polygon
    from shapely.validation import explain_validity

    if LinearRing(ring).is_simple:
        return
    reason = explain_validity(Polygon(ring))
    c.fail(field, f"{what} self-intersects{_location(reason)}")


def _check_holes(shell: NDArray[np.float64], holes: list[NDArray[np.float64]], field: str) -> None:
    from shapely.geometry import Polygon
    from shapely.validation import explain_validity

    shell_poly = Polygon(shell)
    for i, hole in enumerate(holes):
        hole_poly = Polygon(hole)
        if not shell_poly.covers(hole_poly):
            outside = hole_poly.difference(shell_poly).representative_point()
            c.fail(
                f"{field}.holes[{i}]",
                f"hole is not inside the shell (e.g. at ({c.fmt_num(outside.x)}, "
                f"{c.fmt_num(outside.y)}))",
            )
    reason = explain_validity(Polygon(shell, holes))
    if reason != "Valid Geometry":
        c.fail(
            f"{field}.holes",
            f"holes overlap or cut the shell: {reason.split('[')[0].lower()}{_location(reason)}",
        )


def _parse(
    geometry: Any, image: ImageSize | None, field: str
) -> tuple[NDArray[np.float64], list[NDArray[np.float64]]]:
    g = c.mapping(geometry, field, required=("points",), optional=("holes",))
    shell = _ring(g["points"], f"{field}.points", image, c.MAX_VERTICES)
    raw_holes = c.sequence(g.get("holes", []), f"{field}.holes")
    budget = c.MAX_VERTICES - shell.shape[0]
    holes: list[NDArray[np.float64]] = []
    for i, raw in enumerate(raw_holes):
        path = f"{field}.holes[{i}]"
        if budget < 3:
            c.fail(path, f"the polygon has more than {c.MAX_VERTICES} vertices in all")
        hole = _ring(raw, path, image, budget)
        budget -= hole.shape[0]
        holes.append(hole)
    _check_simple(shell, f"{field}.points", "polygon")
    for i, hole in enumerate(holes):
        _check_simple(hole, f"{field}.holes[{i}]", "hole")
    # a simple ring that is not collinear has non-zero area; this guards float underflow
    for ring, path in [(shell, f"{field}.points")] + [
        (h, f"{field}.holes[{i}]") for i, h in enumerate(holes)
    ]:
        if signed_area(ring) == 0.0:
            c.fail(path, "ring has zero area")
    if holes:
        _check_holes(shell, holes, field)
    return orient_ring(shell, positive=True), [orient_ring(h, positive=False) for h in holes]


class PolygonType(AnnotationType):
    name: ClassVar[str] = "polygon"
    title: ClassVar[str] = "Polygon (with holes)"

    def validate(
        self,
        geometry: Any,
        *,
        image: ImageSize | None = None,
        skeleton: Skeleton | None = None,
        field: str = "geometry",
    ) -> dict[str, Any]:
        shell, holes = _parse(geometry, image, field)
        return {"points": c.rows(shell), "holes": [c.rows(h) for h in holes]}

    def bounds(self, geometry: Any) -> tuple[float, float, float, float]:
        shell, _ = _parse(geometry, None, "geometry")
        lo, hi = shell.min(axis=0), shell.max(axis=0)
        return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))

    def area(self, geometry: Any) -> float:
        shell, holes = _parse(geometry, None, "geometry")
        return polygon_area(shell, holes)

    def to_polygon(self, geometry: Any) -> dict[str, Any]:
        return self.validate(geometry)

    def example(self) -> dict[str, Any]:
        return {
            "points": [[10.0, 10.0], [60.0, 10.0], [60.0, 50.0], [10.0, 50.0]],
            "holes": [[[20.0, 20.0], [20.0, 30.0], [30.0, 30.0], [30.0, 20.0]]],
        }


def polygon_to_mask(geometry: Any, image: ImageSize) -> dict[str, Any]:
    """Rasterise a polygon (holes subtracted) into canonical ``mask`` geometry of ``image``.

    Uses pycocotools' polygon rasteriser (``frPyObjects``); parts outside the image are
    clipped.
    """
    from labelproof.annotypes._rle import encode, polygon_rle

    shell, holes = _parse(geometry, None, "geometry")
    rle = polygon_rle([shell], image)
    if holes:
        from pycocotools import mask as mask_utils

        bits = mask_utils.decode(rle).astype(bool)
        bits &= ~mask_utils.decode(polygon_rle(holes, image)).astype(bool)
        rle = encode(bits)
    return {"rle": {"size": [image.height, image.width], "counts": rle["counts"].decode("ascii")}}


ANNOTATION_TYPE = PolygonType()
