"""Rotated boxes and angle normalisation."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray


def normalize_degrees(angle: float) -> float:
    """Map an angle in degrees into [-180, 180); -0.0 becomes 0.0."""
    out = math.fmod(angle + 180.0, 360.0)
    if out < 0.0:
        out += 360.0
    out -= 180.0
    if out >= 180.0:  # float rounding at the upper edge
        out -= 360.0
    if out < -180.0:
        out = -180.0
    return out + 0.0


def normalize_radians(angle: float) -> float:
    """Map an angle in radians into [-pi, pi); -0.0 becomes 0.0."""
    two_pi = 2.0 * math.pi
    out = math.fmod(angle + math.pi, two_pi)
    if out < 0.0:
        out += two_pi
    out -= math.pi
    if out >= math.pi:
        out -= two_pi
    if out < -math.pi:
        out = -math.pi
    return out + 0.0


def rotated_box_corners(
    cx: float, cy: float, w: float, h: float, angle: float
) -> NDArray[np.float64]:
    """Corners of a rotated box.

    Args:
        cx, cy: centre in px.
        w, h: width and height in px (before rotation).
        angle: degrees, positive = clockwise on screen (image y points down), about the
            centre.

    Returns:
        (4, 2) corners in px, in the order of the unrotated top-left, top-right,
        bottom-right, bottom-left; a positive ring (shoelace area > 0, see
        :mod:`labelproof.geometry.rings`).
    """
    theta = math.radians(angle)
    c, s = math.cos(theta), math.sin(theta)
    half = np.array(
        [[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]], dtype=np.float64
    )
    # With y down, rotating +x toward +y is clockwise on screen.
    rot = np.array([[c, -s], [s, c]], dtype=np.float64)
    return np.asarray(half @ rot.T + np.array([cx, cy]), dtype=np.float64)
