"""Directions seen by an imagined observer (TASKS.md "Observer moved", VSI-Bench relative direction).

The observer stands at the centre of one object (eyes at that centre's height) and faces the
centre of another horizontally; the viewer axes are `heading_axes`. Bearings are measured in the
horizontal plane from the facing direction, + to the left (counter-clockwise seen from above, as
yaw is in TASKS.md), wrapped to (-180, 180].
"""
from __future__ import annotations

import math

import numpy as np

from qagen.geometry.viewer import heading_axes, to_viewer

# (name, from_deg, to_deg): the bearings counter-clockwise from `from_deg` to `to_deg`.
QUADRANTS: tuple[tuple[str, float, float], ...] = (
    ("front-left", 0.0, 90.0),
    ("back-left", 90.0, 180.0),
    ("back-right", -180.0, -90.0),
    ("front-right", -90.0, 0.0),
)


def horizontal_gap(p: np.ndarray, q: np.ndarray) -> float:
    """Distance between two points in the horizontal plane (how well p -> q defines a heading)."""
    d = np.asarray(q, dtype=float) - np.asarray(p, dtype=float)
    return float(math.hypot(d[0], d[1]))


def observer_offsets(points: np.ndarray, stand: np.ndarray, face: np.ndarray) -> np.ndarray:
    """(right, forward, up) of world points (N, 3) for an observer at `stand` facing `face`."""
    return to_viewer(points, stand, heading_axes(stand, face))


def wrap_deg(angle: float) -> float:
    """An angle in degrees wrapped to (-180, 180]."""
    wrapped = math.fmod(angle, 360.0)
    if wrapped <= -180.0:
        wrapped += 360.0
    elif wrapped > 180.0:
        wrapped -= 360.0
    return wrapped


def bearing_deg(offset: np.ndarray) -> float:
    """Bearing of a (right, forward, ...) offset from the facing direction, + to the left."""
    return wrap_deg(math.degrees(math.atan2(-float(offset[0]), float(offset[1]))))


def sector(bearing: float, sectors: tuple[tuple[str, float, float], ...] = QUADRANTS) -> tuple[str, float]:
    """The sector holding `bearing` and its angular distance (deg) to the nearer sector boundary.

    A bearing exactly on a boundary belongs to the sector that starts there, with distance 0.
    """
    for name, start, end in sectors:
        width = (end - start) % 360.0 or 360.0
        for turn in (bearing, bearing - 360.0, bearing + 360.0):  # plain comparisons: no rounding at the seam
            if start <= turn < start + width:
                return name, float(min(turn - start, start + width - turn))
    raise ValueError(f"bearing {bearing} lies in none of the sectors {[s[0] for s in sectors]}")
