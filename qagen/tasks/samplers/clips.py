"""Clip samplers: ordered frames of one capture (video tasks) or an overview of the whole scene."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from qagen.registry import SAMPLERS
from qagen.tasks.context import Candidate, TaskContext, cumulative
from qagen.tasks.fact import Reject


@lru_cache(maxsize=256)
def every_clip(n_frames: int, length: int, stride: int) -> tuple[tuple[int, ...], ...]:
    """Every clip of `length` frames taken every `stride` frames, one per start; the stride shrinks
    (and the clip shortens) when the capture is too short for it."""
    span = (length - 1) * stride + 1
    if span > n_frames:
        stride = max(1, (n_frames - 1) // max(1, length - 1))
        span = min(n_frames, (length - 1) * stride + 1)
    return tuple(tuple(range(start, start + span, stride))[:length] for start in range(n_frames - span + 1))


def _clip(ctx: TaskContext, length: int, stride: int) -> tuple[int, ...]:
    clips = every_clip(len(ctx.scene.frames), length, stride)
    return ctx.pick(clips)


@SAMPLERS.register("video_clip")
def video_clip(ctx: TaskContext) -> Candidate:
    """An ordered clip of min_frames..max_frames frames taken every frame_stride frames."""
    f = ctx.spec.filters
    if len(ctx.scene.frames) < f.min_frames:
        raise Reject("scene_too_short", final=True)
    length = ctx.integer(f.min_frames, f.max_frames + 1)
    return Candidate(frames=_clip(ctx, length, f.frame_stride), roles=(), media="video")


def _clips_by_length(ctx: TaskContext) -> dict[int, tuple[np.ndarray, float]]:
    """Every clip video_clip can draw, per requested length: (clips (C, L) as frame positions, the
    chance video_clip draws each one)."""
    f = ctx.spec.filters
    if len(ctx.scene.frames) < f.min_frames:
        raise Reject("scene_too_short", final=True)
    lengths = range(f.min_frames, f.max_frames + 1)
    out = {}
    for length in lengths:
        clips = every_clip(len(ctx.scene.frames), length, f.frame_stride)
        out[length] = (np.array(clips, dtype=np.int64), 1.0 / (len(lengths) * len(clips)))
    return out


def qualifying_clips(ctx: TaskContext, qualifies) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """The clips video_clip can draw for which `qualifies(clips (C, L)) -> bool (C,)` holds, and
    their chances renormalised, as `cumulative` odds for TaskContext.draw: a sampler that needs a
    rare property of its clip tests every clip at once and draws among those that have it, with
    video_clip's odds, instead of drawing and rejecting."""
    found, odds = [], []
    for clips, chance in _clips_by_length(ctx).values():
        ok = np.flatnonzero(qualifies(clips))
        found += map(tuple, clips[ok].tolist())
        odds += [chance] * ok.size
    return found, cumulative(odds)


@SAMPLERS.register("scene_overview")
def scene_overview(ctx: TaskContext) -> Candidate:
    """max_frames frames spread evenly over the whole capture, in time order (one per scene)."""
    n = len(ctx.scene.frames)
    if n == 0:
        return Candidate(frames=(), roles=(), media="none")
    count = min(n, ctx.spec.filters.max_frames)
    picks = np.unique(np.linspace(0, n - 1, count).round().astype(int))
    return Candidate(frames=tuple(int(p) for p in picks), roles=(), media="video")
