"""Per-frame depth for the few tasks that must look at pixels rather than the lifted index: image
points that are not objects (point_depth_order) and the scene scale of camera-motion labels
(median depth seen from a camera, which also holds for non-metric captures).

Pixel tasks ask about a few frames spread over the capture (SceneIndex.kept_depth_frames), whose
depth the index keeps; scenes that were not lifted decode them on demand.
"""
from __future__ import annotations

import math

import numpy as np

from qagen.geometry.lifting import frame_depth_median
from qagen.geometry.projection import times_point
from qagen.scene.index import DEPTH_MAPS_KEPT, kept_depth_frames
from qagen.scene.io import read_frame_depth
from qagen.tasks.context import TaskContext
from qagen.tasks.fact import Reject

# Samplers whose tasks read whole depth maps (frame_depth): a scene's helper processes get its
# index without them (SceneIndex.without_depth_maps), and its own process samples these tasks.
PIXEL_SAMPLERS = frozenset({"pixel_pair"})


def frame_depth(ctx: TaskContext, frame_pos: int) -> np.ndarray:
    """Depth (H, W) of a frame in scene units, NaN where invalid: kept by the index when it is one
    of kept_depth_frames, else decoded (DEPTH_MAPS_KEPT at most held at a time)."""
    cached = ctx.scene_memo.setdefault("depth_maps", {})
    if frame_pos not in cached:
        frame = ctx.scene.frames[frame_pos]
        if ctx.index is not None and ctx.index.depth_maps is None:
            raise RuntimeError(f"{ctx.spec.name} reads depth maps, but its index was sent without them: its "
                               f"sampler {ctx.spec.sampler!r} belongs in pixels.PIXEL_SAMPLERS")
        kept = ctx.index.depth_maps.get(frame_pos) if ctx.index is not None else None
        if kept is not None:
            depth = np.where(kept > 0, kept, np.nan)  # invalid, or moving (the frame's dynamic mask): NaN
        elif frame.depth_path is None:
            raise Reject("no_depth")
        else:
            depth = read_frame_depth(frame, ctx.scene.depth_scale, tuple(frame.depth_size or frame.color_size))
            depth[~(depth > 0)] = np.nan
        if len(cached) >= DEPTH_MAPS_KEPT:
            cached.pop(next(iter(cached)))
        cached[frame_pos] = depth
    return cached[frame_pos]


def draw_depth_frame(ctx: TaskContext) -> int:
    """One of kept_depth_frames at random: decoding a depth map costs more than everything else a
    pixel task does with it, so every format and seed of a scene asks about the same few frames
    (kept by the index when the scene was lifted, decoded once otherwise)."""
    kept = ctx.scene_memo.get("kept_depth_frames")
    if kept is None:
        kept = ctx.scene_memo["kept_depth_frames"] = kept_depth_frames(len(ctx.scene.frames))
    return int(ctx.pick(kept))


def median_depth(ctx: TaskContext, frame_pos: int) -> float:
    """Lower median of a frame's valid depth: the scale of what its camera sees. Taken during
    lifting; scenes that were not lifted (no objects) decode the frame for it."""
    lifted = ctx.index.frame_depth_median if ctx.index is not None else None
    if lifted is not None:
        median = float(lifted[frame_pos])
    else:
        medians = ctx.scene_memo.setdefault("median_depth", {})
        if frame_pos not in medians:
            medians[frame_pos] = frame_depth_median(frame_depth(ctx, frame_pos))
        median = medians[frame_pos]
    if not np.isfinite(median):
        raise Reject("no_valid_depth")
    return median


def pixel_distance(ctx: TaskContext, frame_pos: int, depth: float, col: int, row: int) -> float:
    """Distance from the camera centre to the surface seen at pixel (col, row) of a frame's depth
    grid with camera-z `depth`: `depth` times the length of the pixel's ray K^-1 (u, v, 1), with
    K^-1 kept per frame as Python floats (numpy on one 3-vector costs ten times as much)."""
    inverse = ctx.per_scene("inverse_depth_intrinsics", frame_pos,
                            lambda: np.linalg.inv(ctx.scene.frames[frame_pos].depth_grid()[0]).tolist())
    x, y, z = times_point(inverse, col + 0.5, row + 0.5, 1.0)
    return depth * math.sqrt(x * x + y * y + z * z)
