"""Per-frame depth for the few tasks that must look at pixels rather than the lifted index: image
points that are not objects (point_depth_order) and the scene scale of camera-motion labels
(median depth seen from a camera, which also holds for non-metric captures).

Depth maps are read on demand and memoised in the task context (a handful at a time).
"""
from __future__ import annotations

import numpy as np

from qagen.scene.io import read_frame_depth
from qagen.scene.model import Frame
from qagen.tasks.context import TaskContext
from qagen.tasks.fact import Reject

DEPTHS_KEPT = 4


def frame_depth(ctx: TaskContext, frame_pos: int) -> np.ndarray:
    """Depth (H, W) of a frame in scene units, NaN where invalid."""
    cached = ctx.scene_memo.setdefault("depth_maps", {})
    if frame_pos not in cached:
        frame = ctx.scene.frames[frame_pos]
        if frame.depth_path is None:
            raise Reject("no_depth")
        depth = read_frame_depth(frame, ctx.scene.depth_scale, tuple(frame.depth_size or frame.color_size))
        depth[~(depth > 0)] = np.nan  # invalid, or moving (the frame's dynamic mask)
        if len(cached) >= DEPTHS_KEPT:
            cached.pop(next(iter(cached)))
        cached[frame_pos] = depth
    return cached[frame_pos]


def median_depth(ctx: TaskContext, frame_pos: int) -> float:
    """Median valid depth of a frame: the scale of what its camera sees."""
    medians = ctx.scene_memo.setdefault("median_depth", {})
    if frame_pos not in medians:
        depth = frame_depth(ctx, frame_pos)
        valid = depth[np.isfinite(depth)]
        medians[frame_pos] = float(np.median(valid)) if valid.size else float("nan")
    if not np.isfinite(medians[frame_pos]):
        raise Reject("no_valid_depth")
    return medians[frame_pos]


def pixel_distance(frame: Frame, depth: float, col: int, row: int) -> float:
    """Distance from the camera centre to the surface seen at pixel (col, row) with camera-z `depth`."""
    ray = np.linalg.solve(frame.depth_grid()[0], np.array([col + 0.5, row + 0.5, 1.0]))
    return float(depth * np.linalg.norm(ray))
