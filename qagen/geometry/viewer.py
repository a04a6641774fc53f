"""The viewer frame: how "left", "right", "front" and "above" are defined for a camera.

TASKS.md: forward = camera +z projected on the horizontal plane, up = world +Z,
right = forward x up (equals camera +x when the camera is level). Written once, used by every
task that speaks of directions.
"""
from __future__ import annotations

import numpy as np

WORLD_UP = np.array([0.0, 0.0, 1.0])


def camera_centre(c2w: np.ndarray) -> np.ndarray:
    return np.asarray(c2w, dtype=float)[:3, 3].copy()


def viewer_axes(c2w: np.ndarray) -> np.ndarray:
    """Rows (right, forward, up) of the camera's viewer frame in world coordinates.

    Raises ValueError for a camera looking straight up or down, where "forward" is undefined.
    """
    forward = np.asarray(c2w, dtype=float)[:3, 2].copy()
    forward[2] = 0.0
    norm = np.linalg.norm(forward)
    if norm < 1e-6:
        raise ValueError("camera looks straight up or down: its viewer frame is undefined")
    forward /= norm
    right = np.cross(forward, WORLD_UP)
    return np.stack([right, forward, WORLD_UP])


def heading_axes(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Viewer axes (right, forward, up) of an observer at `position` facing `target` horizontally."""
    forward = np.asarray(target, dtype=float) - np.asarray(position, dtype=float)
    forward[2] = 0.0
    norm = np.linalg.norm(forward)
    if norm < 1e-6:
        raise ValueError("observer and target are on one vertical line: facing is undefined")
    forward /= norm
    return np.stack([np.cross(forward, WORLD_UP), forward, WORLD_UP])


def to_viewer(points: np.ndarray, origin: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """Coordinates (right, forward, up) of world points relative to `origin` in the given axes."""
    return (np.asarray(points, dtype=float) - np.asarray(origin, dtype=float)) @ axes.T
