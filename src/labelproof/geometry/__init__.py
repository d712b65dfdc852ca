"""Pure shape helpers: rings, rotated boxes, cuboids, convex hulls.

Coordinates are float pixels in the full-resolution image, origin top-left, x right,
y down, unless a function says otherwise (cuboids live in scene units). Nothing here
touches a database, the web or global state; only numpy is imported at module level.
"""

from __future__ import annotations

from labelproof.geometry.cuboids import cuboid_corners, rotation_matrix
from labelproof.geometry.hull import convex_hull
from labelproof.geometry.rings import (
    dedupe_ring,
    orient_ring,
    polygon_area,
    ring_perimeter,
    signed_area,
)
from labelproof.geometry.rotated import normalize_degrees, normalize_radians, rotated_box_corners

__all__ = [
    "convex_hull",
    "cuboid_corners",
    "dedupe_ring",
    "normalize_degrees",
    "normalize_radians",
    "orient_ring",
    "polygon_area",
    "ring_perimeter",
    "rotated_box_corners",
    "rotation_matrix",
    "signed_area",
]
