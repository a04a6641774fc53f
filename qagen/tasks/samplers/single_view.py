"""Single-view samplers: one frame and some of the objects visible in it."""
from __future__ import annotations

from itertools import combinations

from qagen.geometry.relations import length_gap_needed
from qagen.registry import SAMPLERS
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.fact import Reject


def _frames_with_at_least(ctx: TaskContext, k: int) -> list[int]:
    """Frame positions with at least k visible objects (memoised per scene and visibility filters:
    most single-view tasks share it)."""
    frames = ctx.per_visibility("frames_with_at_least")
    if k not in frames:
        frames[k] = [pos for pos in range(len(ctx.scene.frames)) if len(ctx.visible_rows(pos)) >= k]
    return frames[k]


def _well_separated(ctx: TaskContext, ids) -> bool:
    """Every two of the objects' centres are at least filters.min_separation_m apart."""
    return all(int(b) in ctx.apart_from(int(a)) for a, b in combinations(ids, 2))


@SAMPLERS.register("single_view_objects")
def single_view_objects(ctx: TaskContext, roles: list[str]) -> Candidate:
    """One frame and len(roles) distinct visible objects, in random role order."""
    frames = _frames_with_at_least(ctx, len(roles))
    if not frames:
        raise Reject("too_few_visible_objects")
    pos = ctx.pick(frames)
    ids = ctx.sample(ctx.visible_ids(pos), len(roles))
    if not _well_separated(ctx, ids):
        raise Reject("objects_too_close")
    return Candidate(frames=(pos,), roles=tuple((r, i, 0) for r, i in zip(roles, ids)))


@SAMPLERS.register("same_label_objects")
def same_label_objects(ctx: TaskContext, roles: list[str], sizes_differ: bool = False) -> Candidate:
    """One frame and len(roles) visible objects that share a label, in random role order: the
    labels say nothing about which is which, so a comparison between them (which is taller) cannot
    be answered from the question's words and the usual sizes of things. With `sizes_differ` (two
    roles), only pairs whose height, length or width differ by the spec's length margin: objects of
    one label are often alike, and drawing among qualifying pairs spares the rejections."""
    key = ("same_label_sets", len(roles), sizes_differ)
    if key not in ctx.cache:  # (frame, ids of one label) over the scene, RNG-free
        ctx.cache[key] = _same_label_sets(ctx, len(roles), sizes_differ)
    sets = ctx.cache[key]
    if not sets:
        raise Reject("no_same_label_pair_differs_in_size" if sizes_differ else "no_label_seen_twice_in_a_frame", final=True)
    pos, ids = ctx.pick(sets)
    picks = ctx.sample(ids, len(roles))
    return Candidate(frames=(pos,), roles=tuple((r, int(i), 0) for r, i in zip(roles, picks)))


def _same_label_sets(ctx: TaskContext, k: int, sizes_differ: bool) -> list[tuple[int, list[int]]]:
    """Per frame, the visible objects of each label seen at least k times; with `sizes_differ`, the
    pairs of them that differ in some size by the length margin instead."""
    if sizes_differ and k != 2:
        raise ValueError("same_label_objects: sizes_differ compares pairs, so it needs exactly two roles")
    sets = []
    for pos in range(len(ctx.scene.frames)):
        by_label: dict[str, list[int]] = {}
        for object_id in ctx.visible_ids(pos):
            by_label.setdefault(ctx.label(object_id), []).append(object_id)
        groups = [ids for _, ids in sorted(by_label.items()) if len(ids) >= k]
        if sizes_differ:
            groups = [[a, b] for ids in groups for a, b in combinations(ids, 2) if _sizes_differ(ctx, a, b)]
        sets += [(pos, ids) for ids in groups]
    return sets


def _sizes_differ(ctx: TaskContext, a: int, b: int) -> bool:
    m = ctx.spec.margins
    size_a, size_b = ctx.box(a).sizes(), ctx.box(b).sizes()
    return any(abs(size_a[s] - size_b[s]) >= length_gap_needed(size_a[s], size_b[s], m.length_abs_m, m.length_rel)
               for s in size_a)
