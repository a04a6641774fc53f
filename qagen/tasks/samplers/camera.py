"""Two-view samplers for camera tasks: two frames of one capture some steps apart, shown in either
order (a static scene seen from B then A is as valid as from A then B, and it balances left/right
moves), optionally sharing visible objects so that the views overlap."""
from __future__ import annotations

import numpy as np

from qagen.geometry.projection import world_to_camera
from qagen.registry import SAMPLERS
from qagen.tasks.context import Candidate, TaskContext, cumulative
from qagen.tasks.fact import Reject
from qagen.tasks.samplers.multi_view import ViewTable

CLIP_GAPS = {"min_gap": 2, "max_gap": 8}  # default frames between a clip's ends
PAIR_TABLE_LIMIT = 200_000  # candidate frame pairs up to which pairs sharing objects are tabled


def frame_pair(ctx: TaskContext, min_gap: int, max_gap: int) -> tuple[int, int]:
    """Two frame positions min_gap..max_gap apart, in random order."""
    n = len(ctx.scene.frames)
    top = min(max_gap, n - 1)
    if top < min_gap:
        raise Reject("scene_too_short", final=True)
    gap = ctx.integer(min_gap, top + 1)
    first = ctx.integer(0, n - gap)
    return (first, first + gap) if ctx.rng.random() < 0.5 else (first + gap, first)


@SAMPLERS.register("camera_pair")
def camera_pair(ctx: TaskContext, min_gap: int = 1, max_gap: int = 10, min_shared: int = 0,
                second_in_view: bool = False) -> Candidate:
    """Two images; with min_shared > 0 they must show at least that many common visible objects.
    Such pairs are drawn from a table of them, with frame_pair's odds (few pairs may qualify), when
    the capture has at most PAIR_TABLE_LIMIT candidate pairs; longer captures draw and reject.

    `second_in_view`: the table keeps the orders whose second camera centre lies in front of the
    first camera, by at least margins.length_abs_m, and inside its image (where
    camera_centre_projection can answer; in a walk that is a minority of the pairs)."""
    if min_shared <= 0:
        return Candidate(frames=frame_pair(ctx, min_gap, max_gap), roles=())
    key = ("camera_pairs", min_gap, max_gap, min_shared, second_in_view)
    if key not in ctx.cache:
        tables = ctx.per_visibility("camera_pairs")  # per scene: tasks with the same arguments share one
        shared_key = (*key, ctx.spec.margins.length_abs_m)  # the margin decides second_in_view
        if shared_key not in tables:
            tables[shared_key] = _pair_table(ctx, min_gap, max_gap, min_shared, second_in_view)
        ctx.cache[key] = tables[shared_key]
    table = ctx.cache[key]
    if table is None:
        first, second = frame_pair(ctx, min_gap, max_gap)
        if np.intersect1d(ctx.visible_objects(first), ctx.visible_objects(second)).size < min_shared:
            raise Reject("too_few_shared_objects")
        return Candidate(frames=(first, second), roles=())
    pairs, cdf = table
    if not len(pairs):
        raise Reject("no_camera_in_view_of_another" if second_in_view else "too_few_shared_objects", final=True)
    first, second = (int(p) for p in pairs[int(ctx.draw(cdf))])
    if second_in_view:  # the table is of ordered pairs
        return Candidate(frames=(first, second), roles=())
    return Candidate(frames=(first, second) if ctx.rng.random() < 0.5 else (second, first), roles=())


def _pair_table(ctx: TaskContext, min_gap: int, max_gap: int, min_shared: int,
                second_in_view: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """camera_pair's table and its `cumulative` odds: pairs (earlier, later), or with
    `second_in_view` the qualifying ordered pairs, each with half of its pair's odds."""
    found = _sharing_pairs(ctx, min_gap, max_gap, min_shared)
    if found is None:
        return None
    pairs, odds = found
    if second_in_view:
        pairs, odds = np.concatenate([pairs, pairs[:, ::-1]]), np.concatenate([odds, odds]) / 2
        keep = _second_in_view(ctx, pairs)
        pairs, odds = pairs[keep], odds[keep]
    return pairs, cumulative(odds)


def _second_in_view(ctx: TaskContext, pairs: np.ndarray) -> np.ndarray:
    """(P,) bool for ordered pairs (first, second): the second camera's centre is at least
    margins.length_abs_m in front of the first camera and projects inside its colour image."""
    frames = ctx.scene.frames
    c2w = np.stack([f.c2w for f in frames])
    K = np.stack([f.K_color for f in frames])
    size = np.array([f.color_size for f in frames], dtype=float)
    first, second = pairs[:, 0], pairs[:, 1]
    cam = world_to_camera(c2w[second, None, :3, 3], c2w[first])[:, 0]  # (P, 3)
    uvw = (K[first] @ cam[..., None])[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        xy = uvw[:, :2] / uvw[:, 2:3] / size[first] * 1000.0
    inside = np.all((xy >= 0.0) & (xy <= 1000.0), axis=1)
    return (cam[:, 2] >= ctx.spec.margins.length_abs_m) & inside


def _sharing_pairs(ctx: TaskContext, min_gap: int, max_gap: int,
                   min_shared: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Frame pairs (earlier, later) min_gap..max_gap apart showing >= min_shared common visible
    objects, and the chances frame_pair would draw them (unnormalised); None when the capture has
    more than PAIR_TABLE_LIMIT candidate pairs (the table grows with its square)."""
    n = len(ctx.scene.frames)
    gaps = range(min_gap, min(max_gap, n - 1) + 1)
    if not gaps:
        raise Reject("scene_too_short", final=True)
    if sum(n - gap for gap in gaps) > PAIR_TABLE_LIMIT:
        return None
    visible = ViewTable.of(ctx).visible.astype(np.int32)
    pairs, odds = [np.empty((0, 2), int)], [np.empty(0)]
    for gap in gaps:
        firsts = np.flatnonzero((visible[:-gap] * visible[gap:]).sum(axis=1) >= min_shared)
        pairs.append(np.stack([firsts, firsts + gap], axis=1))
        odds.append(np.full(firsts.size, 1.0 / (len(gaps) * (n - gap))))
    return np.concatenate(pairs), np.concatenate(odds)


@SAMPLERS.register("camera_clip")
def camera_clip(ctx: TaskContext, min_gap: int = CLIP_GAPS["min_gap"],
                max_gap: int = CLIP_GAPS["max_gap"]) -> Candidate:
    """A short clip from one frame to another min_gap..max_gap frames away (either direction),
    at most filters.max_frames frames spread evenly, ends included."""
    first, last = frame_pair(ctx, min_gap, max_gap)
    count = min(abs(last - first) + 1, max(2, ctx.spec.filters.max_frames))
    step = (last - first) / (count - 1)  # np.linspace(first, last, count).round(), without its overhead
    frames = [round(i * step + first) for i in range(count - 1)] + [last]
    return Candidate(frames=tuple(dict.fromkeys(frames)), roles=(), media="video")
