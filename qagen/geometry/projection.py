"""Pinhole projection between world points and pixels, batched over leading axes.

Conventions (FORMATS.md): OpenCV camera (x right, y down, z forward), `c2w` is camera-to-world,
`K` is in pixels of its image, a pixel is (x=column, y=row) and the centre of pixel (c, r) sits at
(c + 0.5, r + 0.5). Everything that projects or back-projects goes through these helpers so that
the half-pixel convention lives in one place.
"""
from __future__ import annotations

import numpy as np


def world_to_camera(points: np.ndarray, c2w: np.ndarray) -> np.ndarray:
    """Points (..., N, 3) in world coordinates to the camera of `c2w` (..., 4, 4)."""
    rotation = c2w[..., :3, :3]
    origin = c2w[..., :3, 3]
    return (points - origin[..., None, :]) @ rotation


def project_points(points: np.ndarray, K: np.ndarray, c2w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project world points (..., N, 3) into pixels: returns (uv (..., N, 2), camera z (..., N)).

    Points at z <= 0 get meaningless uv (possibly inf or NaN); callers decide with z.
    """
    cam = world_to_camera(points, c2w)
    z = cam[..., 2]
    uvw = cam @ np.swapaxes(K, -1, -2)
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = uvw[..., :2] / uvw[..., 2:3]
    return uv, z


def backproject_pixels(
    cols: np.ndarray, rows: np.ndarray, depth: np.ndarray, K: np.ndarray, c2w: np.ndarray
) -> np.ndarray:
    """World points (..., 3) of pixel centres (cols + 0.5, rows + 0.5) at camera-z `depth`."""
    pixel = np.stack([cols + 0.5, rows + 0.5, np.ones_like(depth, dtype=float)], axis=-1)
    rays = pixel @ np.linalg.inv(K).T
    cam = rays * np.asarray(depth, dtype=float)[..., None]
    return cam @ c2w[:3, :3].T + c2w[:3, 3]


def box_truncation(corners: np.ndarray, K: np.ndarray, c2w: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Share of the projected outline of each box that lies outside its image.

    corners (N, 8, 3) world, K (N, 3, 3), c2w (N, 4, 4), size (N, 2) as (W, H). The outline is
    the 2D bounding rectangle of the 8 projected corners; a box with any corner at or behind the
    camera plane counts as fully truncated (1.0). NaN corners (no box) give NaN.
    """
    uv, z = project_points(corners, K, c2w)
    width = size[..., 0].astype(float)
    height = size[..., 1].astype(float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # corners behind: overridden below
        lo = uv.min(axis=-2)
        hi = uv.max(axis=-2)
        area = (hi[..., 0] - lo[..., 0]) * (hi[..., 1] - lo[..., 1])
        inside_w = np.clip(np.minimum(hi[..., 0], width) - np.maximum(lo[..., 0], 0.0), 0.0, None)
        inside_h = np.clip(np.minimum(hi[..., 1], height) - np.maximum(lo[..., 1], 0.0), 0.0, None)
        within = (lo[..., 0] >= 0) & (lo[..., 1] >= 0) & (hi[..., 0] <= width) & (hi[..., 1] <= height)
        truncation = np.where(area > 0, 1.0 - inside_w * inside_h / area, np.where(within, 0.0, 1.0))
    in_front = np.all(z > 0, axis=-1)
    unknown = np.isnan(corners).any(axis=(-1, -2))
    return np.where(unknown, np.nan, np.where(in_front, truncation, 1.0))


def times_point(rows, x: float, y: float, z: float) -> tuple[float, float, float]:
    """A 3x3 matrix (its rows, as Python floats) times one point (x, y, z), in Python floats: for
    the one-point transforms of sampling (a pixel's ray, its colour-image point, a camera change),
    where numpy's calls cost several times the arithmetic."""
    (a, b, c), (d, e, f), (g, h, i) = rows
    return a * x + b * y + c * z, d * x + e * y + f * z, g * x + h * y + i * z
