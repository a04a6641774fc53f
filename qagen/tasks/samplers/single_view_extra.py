"""Samplers for the single-view tasks of SpatialForge, SpaceVista, VSI-Bench and SpatialVID:
objects named by a label that is unique in view, pairs of image points on valid depth (pixel
markers, no objects), and one object whose label is unique in the whole scene."""
from __future__ import annotations

import math
from collections import Counter

import numpy as np

from qagen.registry import SAMPLERS
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.fact import Reject
from qagen.tasks.pixels import draw_depth_frame, frame_depth
from qagen.tasks.samplers.clips import scene_overview

PIXEL_TRIES = 60


def unique_label_objects(ctx: TaskContext, frame_pos: int) -> list[int]:
    """Visible objects of a frame whose label no other visible object shares."""
    key = ("unique_label_objects", frame_pos)
    if key not in ctx.cache:
        ids = [int(i) for i in ctx.visible_objects(frame_pos)]
        counts = Counter(ctx.label(i) for i in ids)
        ctx.cache[key] = [i for i in ids if counts[ctx.label(i)] == 1]
    return ctx.cache[key]


@SAMPLERS.register("labelled_objects")
def labelled_objects(ctx: TaskContext, roles: list[str]) -> Candidate:
    """One frame and len(roles) visible objects, each the only one of its label in view, so the
    question can name them by label alone; random role order."""
    key = ("frames_with_unique_labels", len(roles))
    if key not in ctx.cache:
        ctx.cache[key] = [pos for pos in range(len(ctx.scene.frames)) if len(unique_label_objects(ctx, pos)) >= len(roles)]
    frames = ctx.cache[key]
    if not frames:
        raise Reject("too_few_uniquely_labelled_objects", final=True)
    pos = int(ctx.pick(frames))
    ids = ctx.sample(unique_label_objects(ctx, pos), len(roles))
    return Candidate(frames=(pos,), roles=tuple((r, int(i), 0) for r, i in zip(roles, ids)))


def _smooth(depth: np.ndarray, col: int, row: int, radius: int, smooth_rel: float) -> bool:
    """Valid depth on the pixel's whole (2r+1)^2 neighbourhood, within smooth_rel of its centre:
    no pixel on a depth edge, where a point marker would be ambiguous. (A few values: Python
    floats, where numpy's calls cost more than the check; NaN and inf fail every comparison.)"""
    patch = depth[row - radius:row + radius + 1, col - radius:col + radius + 1].tolist()
    centre = patch[radius][radius]
    limit = smooth_rel * centre
    return all(abs(value - centre) <= limit for line in patch for value in line)


def _random_pixel(ctx: TaskContext, depth: np.ndarray, border: int, radius: int, smooth_rel: float,
                  away_from: tuple[int, int] | None, min_apart: float, nearer_lower: bool | None = None) -> tuple[int, int]:
    """The first smooth pixel of up to PIXEL_TRIES random ones; with `away_from`, one at least
    min_apart from it and, when `nearer_lower` is given, such that "the nearer of the two is the
    lower in the image" is that (not a tie in rows). Drawn one at a time: most pixels qualify, so
    the first usually does."""
    H, W = depth.shape
    for _ in range(PIXEL_TRIES):
        col, row = ctx.integer(border, W - border), ctx.integer(border, H - border)
        if away_from is not None:
            other_col, other_row = away_from
            if math.hypot(col - other_col, row - other_row) < min_apart:
                continue
            if nearer_lower is not None:
                nearer = float(depth[row, col]) < float(depth[other_row, other_col])
                if row == other_row or (nearer == (row > other_row)) != nearer_lower:
                    continue
        if _smooth(depth, col, row, radius, smooth_rel):
            return col, row
    raise Reject("no_smooth_valid_pixel")


@SAMPLERS.register("pixel_pair")
def pixel_pair(ctx: TaskContext, border: float = 0.05, min_apart: float = 0.15, radius: int = 1,
               smooth_rel: float = 0.05) -> Candidate:
    """One frame and two pixels on valid, locally smooth depth (roles a, b as pixel markers in
    extra["points"]), at least `border` of the image size from its edges and `min_apart` of the
    image diagonal from each other. Needs no labels, instances or metric depth. Whether the nearer
    pixel is the lower one is drawn first, as often yes as no: in most views the lower pixel is the
    nearer, and pairs drawn freely would mostly have to be turned away by the answer's balance."""
    pos = draw_depth_frame(ctx)
    depth = frame_depth(ctx, pos)
    H, W = depth.shape
    edge = max(radius, int(round(border * min(W, H))))
    apart = min_apart * float(np.hypot(W, H))
    nearer_lower = bool(ctx.rng.random() < 0.5)
    a = _random_pixel(ctx, depth, edge, radius, smooth_rel, None, apart)
    b = _random_pixel(ctx, depth, edge, radius, smooth_rel, a, apart, nearer_lower)
    return Candidate(frames=(pos,), roles=(), extra={"points": {"a": (0, *a), "b": (0, *b)}})


@SAMPLERS.register("scene_unique_object")
def scene_unique_object(ctx: TaskContext) -> Candidate:
    """One object whose label is unique in the scene (so the label alone refers to it), shown with
    filters.max_frames frames spread over the capture that include at least one where it is
    visible; without frames (meta-info scenes) the question has no media."""
    overview, objects, why_none = _overview_objects(ctx)
    if not objects:
        raise Reject(why_none, final=True)
    return Candidate(overview.frames, roles=(("a", int(ctx.pick(objects)), None),), media=overview.media)


def _overview_objects(ctx: TaskContext) -> tuple[Candidate, list[int], str]:
    """The scene overview, the uniquely labelled objects it shows, and why there are none when
    there are none; worked out once per task."""
    if "overview_objects" not in ctx.cache:
        counts = Counter(o.label for o in ctx.scene.objects)
        objects = [o.id for o in ctx.scene.objects if counts[o.label] == 1]
        overview, why_none = scene_overview(ctx), "no_uniquely_labelled_object"
        if overview.frames and ctx.index is not None and objects:
            seen = set().union(*(ctx.visible_ids(p) for p in overview.frames))
            objects, why_none = [i for i in objects if i in seen], "object_not_seen_in_clip"
        ctx.cache["overview_objects"] = overview, objects, why_none
    return ctx.cache["overview_objects"]
