"""Two-view samplers for camera tasks: two frames of one capture some steps apart, shown in either
order (a static scene seen from B then A is as valid as from A then B, and it balances left/right
moves), optionally sharing visible objects so that the views overlap."""
from __future__ import annotations

import numpy as np

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
    gap = int(ctx.rng.integers(min_gap, top + 1))
    first = int(ctx.rng.integers(0, n - gap))
    return (first, first + gap) if ctx.rng.random() < 0.5 else (first + gap, first)


@SAMPLERS.register("camera_pair")
def camera_pair(ctx: TaskContext, min_gap: int = 1, max_gap: int = 10, min_shared: int = 0) -> Candidate:
    """Two images; with min_shared > 0 they must show at least that many common visible objects.
    Such pairs are drawn from a table of them, with frame_pair's odds (few pairs may qualify), when
    the capture has at most PAIR_TABLE_LIMIT candidate pairs; longer captures draw and reject."""
    if min_shared <= 0:
        return Candidate(frames=frame_pair(ctx, min_gap, max_gap), roles=())
    table = _sharing_pairs(ctx, min_gap, max_gap, min_shared)
    if table is None:
        first, second = frame_pair(ctx, min_gap, max_gap)
        if np.intersect1d(ctx.visible_objects(first), ctx.visible_objects(second)).size < min_shared:
            raise Reject("too_few_shared_objects")
        return Candidate(frames=(first, second), roles=())
    pairs, cdf = table
    if not len(pairs):
        raise Reject("too_few_shared_objects", final=True)
    first, second = (int(p) for p in pairs[int(ctx.draw(cdf))])
    return Candidate(frames=(first, second) if ctx.rng.random() < 0.5 else (second, first), roles=())


def _sharing_pairs(ctx: TaskContext, min_gap: int, max_gap: int,
                   min_shared: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Frame pairs (earlier, later) min_gap..max_gap apart showing >= min_shared common visible
    objects, and the chances frame_pair would draw them, as `cumulative` odds (memoised per task);
    None when the capture has more than PAIR_TABLE_LIMIT candidate pairs (the table grows with its
    square)."""
    key = ("sharing_pairs", min_gap, max_gap, min_shared)
    if key not in ctx.cache:
        n = len(ctx.scene.frames)
        gaps = range(min_gap, min(max_gap, n - 1) + 1)
        if not gaps:
            raise Reject("scene_too_short", final=True)
        if sum(n - gap for gap in gaps) > PAIR_TABLE_LIMIT:
            ctx.cache[key] = None
            return None
        visible = ViewTable.of(ctx).visible.astype(np.int32)
        pairs, odds = [np.empty((0, 2), int)], [np.empty(0)]
        for gap in gaps:
            firsts = np.flatnonzero((visible[:-gap] * visible[gap:]).sum(axis=1) >= min_shared)
            pairs.append(np.stack([firsts, firsts + gap], axis=1))
            odds.append(np.full(firsts.size, 1.0 / (len(gaps) * (n - gap))))
        pairs, odds = np.concatenate(pairs), np.concatenate(odds)
        ctx.cache[key] = pairs, cumulative(odds)
    return ctx.cache[key]


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
