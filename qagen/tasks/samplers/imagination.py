"""Samplers for the observer-moved (spatial imagination) and relative-direction tasks.

- `imagination_views`: 2-5 views chosen by covisibility with the first (multi_view.pick_views);
  the `first` roles (where the observer stands and what it faces) are marked on the first image,
  the `others` on later images, so the question needs more than the starting view.
- `imagination_clip`: an ordered clip (clips.video_clip) and one object per role seen in it, each
  marked on a frame that shows it; pairs in `apart` must never be visible in one frame of the clip
  (the `hard` variants).
- `unique_label_objects`: scene-level, no media: objects whose label is unique in the scene, so
  that the label alone refers to them.
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np

from qagen.registry import SAMPLERS
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.fact import Reject
from qagen.tasks.samplers.clips import qualifying_clips, video_clip
from qagen.tasks.samplers.multi_view import DEFAULT_IMAGES, DEFAULT_OVERLAP, ViewTable, pick_views


@SAMPLERS.register("imagination_views")
def imagination_views(ctx: TaskContext, first: list[str], others: list[str],
                      images: Sequence[int] = DEFAULT_IMAGES, overlap: Sequence[float] = DEFAULT_OVERLAP) -> Candidate:
    """Views by covisibility; `first` roles on image 1, each of `others` on a later image showing it."""
    table = ViewTable.of(ctx)
    views = pick_views(ctx, table, images, overlap)
    on_first = table.visible_ids(views[0])
    if len(on_first) < len(first):
        raise Reject("first_view_shows_too_few_objects")
    taken = [int(i) for i in ctx.sample(on_first, len(first))]
    roles = [(role, oid, 0) for role, oid in zip(first, taken)]
    for role in others:
        options = [(image, oid) for image, view in enumerate(views) if image > 0
                   for oid in table.visible_ids(view) if oid not in taken]
        if not options:
            raise Reject("too_few_objects_in_later_views")
        image, oid = ctx.pick(options)
        taken.append(oid)
        roles.append((role, oid, image))
    return Candidate(frames=tuple(views), roles=tuple(roles))


@SAMPLERS.register("imagination_clip")
def imagination_clip(ctx: TaskContext, roles: list[str], apart: Sequence[Sequence[str]] = ()) -> Candidate:
    """A clip and one object per role seen in it, marked on a random frame that shows it; the role
    pairs in `apart` are never visible together in one frame of the clip (picked first, jointly)."""
    table = ViewTable.of(ctx)
    if apart:  # rare in most captures: draw among the clips that have such a pair
        if "clips_with_apart_pair" not in ctx.cache:
            ctx.cache["clips_with_apart_pair"] = qualifying_clips(ctx, lambda clips: _has_apart_pair(table, clips, len(roles)))
        clips, cdf = ctx.cache["clips_with_apart_pair"]
        if not clips:
            raise Reject("no_objects_apart_in_clip", final=True)
        clip = clips[int(ctx.draw(cdf))]
    else:
        clip = video_clip(ctx).frames
    shown = table.visible[list(clip)]  # (images, objects)
    seen = shown.any(axis=0)
    free = seen.copy()  # seen and not picked yet
    picked: dict[str, int] = {}  # role -> column of the table
    if apart:
        counts = shown.astype(np.int32)
        together = counts.T @ counts > 0  # (objects, objects): in one frame of the clip (self included)
    for first, second in apart:
        if first in picked or second in picked:
            raise ValueError(f"imagination_clip: apart pairs must not share a role ({first}, {second})")
        pairs = np.argwhere(free[:, None] & free[None, :] & ~together)
        if not len(pairs):
            raise Reject("no_objects_apart_in_clip")
        picked[first], picked[second] = (int(c) for c in ctx.pick(pairs))
        free[[picked[first], picked[second]]] = False
    for role in (r for r in roles if r not in picked):
        pool = np.flatnonzero(free)
        if not pool.size:
            raise Reject("too_few_objects_in_clip")
        picked[role] = int(pool[ctx.integer(pool.size)])
        free[picked[role]] = False
    marked = tuple((role, int(table.objects[picked[role]]), int(ctx.pick(np.flatnonzero(shown[:, picked[role]]))))
                   for role in roles)
    return Candidate(frames=clip, roles=marked, media="video")


def _has_apart_pair(table: ViewTable, clips: np.ndarray, objects: int) -> np.ndarray:
    """(C,) for clips (C, L): at least `objects` objects are seen in the clip, and two of them are
    never visible in one frame of it."""
    shown = table.visible[clips].astype(np.float32)  # (C, L, O); counts up to L are exact
    seen = shown.any(axis=1)
    together = shown.transpose(0, 2, 1) @ shown > 0  # (C, O, O); a matmul, ~4x faster than einsum
    return (seen.sum(axis=1) >= objects) & (seen[:, :, None] & seen[:, None, :] & ~together).any(axis=(1, 2))


@SAMPLERS.register("unique_label_objects")
def unique_label_objects(ctx: TaskContext, roles: list[str]) -> Candidate:
    """Scene-level (no media): distinct objects whose labels are unique in the scene, in random roles."""
    if "scene_unique_ids" not in ctx.cache:
        counts = Counter(o.label for o in ctx.scene.objects)
        ctx.cache["scene_unique_ids"] = [o.id for o in ctx.scene.objects if counts[o.label] == 1]
    unique = ctx.cache["scene_unique_ids"]
    if len(unique) < len(roles):
        raise Reject("too_few_uniquely_labelled_objects")
    ids = ctx.sample(unique, len(roles))
    return Candidate(frames=(), roles=tuple((role, int(oid), None) for role, oid in zip(roles, ids)), media="none")
