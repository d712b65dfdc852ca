"""3D cuboids: rotation matrices and corners (scene units, radians)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

# Corner signs in the contract's order: bottom face (z - dz/2) counter-clockwise seen
# from above starting at (-dx/2, -dy/2), then the top face above it in the same order.
_CORNER_SIGNS = np.array(
    [
        [-1, -1, -1],
        [1, -1, -1],
        [1, 1, -1],
        [-1, 1, -1],
        [-1, -1, 1],
        [1, -1, 1],
        [1, 1, 1],
        [-1, 1, 1],
    ],
    dtype=np.float64,
)


def rotation_matrix(roll: float, pitch: float, yaw: float) -> NDArray[np.float64]:
    """R = Rz(yaw) @ Ry(pitch) @ Rx(roll), shape (3, 3); angles in radians."""
    cr, sr = math.cos(roll), math.sin(roll)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cy, sy = math.cos(yaw), math.sin(yaw)
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]], dtype=np.float64)
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]], dtype=np.float64)
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]], dtype=np.float64)
    return np.asarray(rz @ ry @ rx, dtype=np.float64)


def cuboid_corners(
    center: Sequence[float], size: Sequence[float], rotation: Sequence[float]
) -> NDArray[np.float64]:
    """The 8 corners of a cuboid, shape (8, 3), in the contract's corner order.

    Args:
        center: (x, y, z) in scene units.
        size: (dx, dy, dz) in scene units.
        rotation: (roll, pitch, yaw) in radians, applied about the centre.
    """
    half = _CORNER_SIGNS * (np.asarray(size, dtype=np.float64) / 2.0)
    rot = rotation_matrix(*(float(a) for a in rotation))
    return np.asarray(half @ rot.T + np.asarray(center, dtype=np.float64), dtype=np.float64)
