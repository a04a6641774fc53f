"""The viewer frame: how "left", "right", "front" and "above" are defined for a camera.

TASKS.md: forward = camera +z projected on the horizontal plane, up = world +Z,
right = forward x up (equals camera +x when the camera is level). Written once, used by every
task that speaks of directions.
"""
from __future__ import annotations

import math

import numpy as np

WORLD_UP = np.array([0.0, 0.0, 1.0])


def camera_centre(c2w: np.ndarray) -> np.ndarray:
    return np.asarray(c2w, dtype=float)[:3, 3].copy()


def viewer_axes(c2w: np.ndarray) -> np.ndarray:
    """Rows (right, forward, up) of the camera's viewer frame in world coordinates.

    Raises ValueError for a camera looking straight up or down, where "forward" is undefined.
    """
    return _facing(np.asarray(c2w, dtype=float)[:3, 2], "camera looks straight up or down: its viewer frame is undefined")


def heading_axes(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Viewer axes (right, forward, up) of an observer at `position` facing `target` horizontally."""
    return _facing(np.asarray(target, dtype=float) - np.asarray(position, dtype=float),
                   "observer and target are on one vertical line: facing is undefined")


def _facing(direction: np.ndarray, undefined: str) -> np.ndarray:
    """Axes whose forward is `direction` made horizontal; right = forward x up = (f_y, -f_x, 0)."""
    fx, fy = float(direction[0]), float(direction[1])
    norm = math.hypot(fx, fy)
    if norm < 1e-6:
        raise ValueError(undefined)
    fx, fy = fx / norm, fy / norm
    return np.array([[fy, -fx, 0.0], [fx, fy, 0.0], [0.0, 0.0, 1.0]])


def to_viewer(points: np.ndarray, origin: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """Coordinates (right, forward, up) of world points relative to `origin` in the given axes."""
    return (np.asarray(points, dtype=float) - np.asarray(origin, dtype=float)) @ axes.T
