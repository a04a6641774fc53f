"""Samplers: pick frames and objects (with roles) for one candidate question. No answers here."""
from __future__ import annotations

import numpy as np

from qagen.registry import SAMPLERS
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.fact import Reject


def _frames_with_at_least(ctx: TaskContext, k: int) -> np.ndarray:
    key = ("frames_with", k)
    if key not in ctx.cache:
        counts = np.array([len(ctx.visible_rows(pos)) for pos in range(len(ctx.scene.frames))])
        ctx.cache[key] = np.flatnonzero(counts >= k)
    return ctx.cache[key]


def _well_separated(ctx: TaskContext, ids: np.ndarray) -> bool:
    need = ctx.spec.filters.min_separation_m
    if need <= 0:
        return True
    centres = np.stack([ctx.centre(int(i)) for i in ids])
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
    return bool(gaps[np.triu_indices(len(ids), 1)].min() >= need)


@SAMPLERS.register("single_view_objects")
def single_view_objects(ctx: TaskContext, roles: list[str]) -> Candidate:
    """One frame and len(roles) distinct visible objects, in random role order."""
    frames = _frames_with_at_least(ctx, len(roles))
    if frames.size == 0:
        raise Reject("too_few_visible_objects")
    pos = int(ctx.rng.choice(frames))
    ids = ctx.rng.choice(ctx.visible_objects(pos), size=len(roles), replace=False)
    if not _well_separated(ctx, ids):
        raise Reject("objects_too_close")
    return Candidate(frames=(pos,), roles=tuple((r, int(i), 0) for r, i in zip(roles, ids)))


def _clip(ctx: TaskContext, length: int, stride: int) -> tuple[int, ...]:
    n = len(ctx.scene.frames)
    span = (length - 1) * stride + 1
    if span > n:
        stride = max(1, (n - 1) // max(1, length - 1))
        span = min(n, (length - 1) * stride + 1)
    start = int(ctx.rng.integers(0, n - span + 1))
    return tuple(range(start, start + span, stride))[:length]


@SAMPLERS.register("video_clip")
def video_clip(ctx: TaskContext) -> Candidate:
    """An ordered clip of min_frames..max_frames frames taken every frame_stride frames."""
    f = ctx.spec.filters
    if len(ctx.scene.frames) < f.min_frames:
        raise Reject("scene_too_short")
    length = int(ctx.rng.integers(f.min_frames, f.max_frames + 1))
    return Candidate(frames=_clip(ctx, length, f.frame_stride), roles=(), media="video")


@SAMPLERS.register("scene_overview")
def scene_overview(ctx: TaskContext) -> Candidate:
    """max_frames frames spread evenly over the whole capture, in time order (one per scene)."""
    n = len(ctx.scene.frames)
    if n == 0:
        return Candidate(frames=(), roles=(), media="none")
    count = min(n, ctx.spec.filters.max_frames)
    picks = np.unique(np.linspace(0, n - 1, count).round().astype(int))
    return Candidate(frames=tuple(int(p) for p in picks), roles=(), media="video")
