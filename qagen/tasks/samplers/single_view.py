"""Single-view samplers: one frame and some of the objects visible in it."""
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


@SAMPLERS.register("same_label_objects")
def same_label_objects(ctx: TaskContext, roles: list[str]) -> Candidate:
    """One frame and len(roles) visible objects that share a label, in random role order: the
    labels say nothing about which is which, so a comparison between them (which is taller) cannot
    be answered from the question's words and the usual sizes of things."""
    key = ("same_label_groups", len(roles))
    if key not in ctx.cache:  # (frame, ids of one label) with enough objects, over the scene
        groups = []
        for pos in range(len(ctx.scene.frames)):
            by_label: dict[str, list[int]] = {}
            for object_id in ctx.visible_objects(pos).tolist():
                by_label.setdefault(ctx.label(object_id), []).append(object_id)
            groups += [(pos, ids) for _, ids in sorted(by_label.items()) if len(ids) >= len(roles)]
        ctx.cache[key] = groups
    groups = ctx.cache[key]
    if not groups:
        raise Reject("no_label_seen_twice_in_a_frame")
    pos, ids = groups[int(ctx.rng.integers(len(groups)))]
    picks = ctx.rng.choice(ids, size=len(roles), replace=False)
    return Candidate(frames=(pos,), roles=tuple((r, int(i), 0) for r, i in zip(roles, picks)))

