"""Clip samplers: ordered frames of one capture (video tasks) or an overview of the whole scene."""
from __future__ import annotations

import numpy as np

from qagen.registry import SAMPLERS
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.fact import Reject


def every_clip(n_frames: int, length: int, stride: int) -> list[tuple[int, ...]]:
    """Every clip of `length` frames taken every `stride` frames, one per start; the stride shrinks
    (and the clip shortens) when the capture is too short for it."""
    span = (length - 1) * stride + 1
    if span > n_frames:
        stride = max(1, (n_frames - 1) // max(1, length - 1))
        span = min(n_frames, (length - 1) * stride + 1)
    return [tuple(range(start, start + span, stride))[:length] for start in range(n_frames - span + 1)]


def _clip(ctx: TaskContext, length: int, stride: int) -> tuple[int, ...]:
    clips = every_clip(len(ctx.scene.frames), length, stride)
    return clips[int(ctx.rng.integers(0, len(clips)))]


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
