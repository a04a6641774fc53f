"""Answers of the observer-moved tasks (spatial imagination), relative direction and the top-down
layout of spatial_imagination_map_mv.

TASKS.md "Observer moved": the observer stands at the centre of `stand` (eyes at that height) and
faces the centre of `face` horizontally; left/right, front/behind are taken along that observer's
axes, above/below along world Z, closer/farther as distances to the observer. Relations carry
`viewer: "observer"` so that they are spelled from the observer's point of view ("you").
"""
from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np

from qagen.geometry.directions import QUADRANTS, bearing_deg, horizontal_gap, observer_offsets, sector
from qagen.geometry.relations import compare_lengths, length_gap_needed, round_to, side
from qagen.geometry.viewer import camera_centre, to_viewer, viewer_axes
from qagen.registry import ANSWERS
from qagen.tasks.answers.common import M_STEP, object_centres, read_only
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.engine import Solved
from qagen.tasks.fact import Answer, Reject
from qagen.tasks.relation_options import with_shown_tuples
from qagen.tasks.slots import SLOT_WORDS

OBSERVER = "observer"
MIN_FACING_M = 0.5  # stand and face closer than this (horizontally) give an unstable heading
OC_SLOTS = ["left_right", "above_below", "front_behind"]
OO_SLOTS = ["left_right", "above_below", "closer_farther"]
OWN_SLOTS = ["a_front_behind", "b_front_behind"]  # each object alone: in front of / behind the observer


def _observer_view(ctx: TaskContext, cand: Candidate, roles: list[str], min_facing_m: float) -> dict[str, np.ndarray]:
    """(right, forward, up) of each role's centre for the observer at `stand` facing `face`
    (read-only rows of a per-scene table: the observer tasks and their formats come back to the
    same observers again and again, and one matrix product places every object for one)."""
    stand, face = cand.object_id("stand"), cand.object_id("face")
    rows, centres = object_centres(ctx)
    at, facing = centres[rows[stand]], centres[rows[face]]
    if horizontal_gap(at, facing) < min_facing_m:
        raise Reject("facing_object_too_close")
    offsets = ctx.per_scene("observer_offsets", (stand, face),
                            lambda: read_only(observer_offsets(centres, at, facing)))
    return {role: offsets[rows[cand.object_id(role)]] for role in roles}


def _axis(delta: float, need: float, positive: str, negative: str) -> tuple[str, float]:
    """Slot word (or "" inside the margin) and how far the value is from the margin."""
    return side(float(delta), need, positive, negative), abs(float(delta)) - need


def _nearer(da: float, db: float, ctx: TaskContext) -> tuple[str, float]:
    m = ctx.spec.margins
    word = {-1: "closer", 0: "", 1: "farther"}[compare_lengths(da, db, m.length_abs_m, m.length_rel)]
    return word, abs(da - db) - length_gap_needed(da, db, m.length_abs_m, m.length_rel)


def _relation(ctx: TaskContext, calls: list[tuple[str, float]], slots: list[str], exact: dict,
              balanced: tuple[str, ...]) -> Solved:
    """A relation answer from per-slot (word, slack), balanced on the combinations of the slots in
    `balanced`. An empty slot counts as a random one of its words: it cannot bypass the balancer,
    and it shifts neither side."""
    words = [w for w, _ in calls]
    if not any(words):
        raise Reject("all_relations_indistinguishable")
    parts = [words[slots.index(s)] or str(ctx.pick(SLOT_WORDS[s])) for s in balanced]
    answer = Answer("relation", words, exact={k: float(v) for k, v in exact.items()},
                    extra={"slots": list(slots), "viewer": OBSERVER})
    return with_shown_tuples(ctx, Solved(
        answer,
        margin=float(min(slack for w, slack in calls if w)),
        balance_key="/".join(parts),
        balance_values=_word_combinations(balanced),
    ))


@lru_cache(maxsize=None)
def _word_combinations(slots: tuple[str, ...]) -> tuple[str, ...]:
    """Every combination of the slots' words, "/"-joined (a handful of slot tuples exist)."""
    return tuple("/".join(p) for p in itertools.product(*(SLOT_WORDS[s] for s in slots)))


@ANSWERS.register("observer_relation_oc")
def observer_relation_oc(ctx: TaskContext, cand: Candidate, min_facing_m: float = MIN_FACING_M) -> Solved:
    """Where `a` is for the moved observer: left/right, above/below (of the observer's eyes), front/behind."""
    right, forward, up = _observer_view(ctx, cand, ["a"], min_facing_m)["a"]
    need = ctx.spec.margins.axis_m
    calls = [_axis(right, need, "right", "left"), _axis(up, need, "above", "below"),
             _axis(forward, need, "front", "behind")]
    exact = {"right_m": right, "up_m": up, "forward_m": forward}
    # Objects in view mostly lie in front of a moved observer: balancing makes "behind" half of them.
    return _relation(ctx, calls, OC_SLOTS, exact, ("left_right", "front_behind"))


@ANSWERS.register("observer_relation_oo")
def observer_relation_oo(ctx: TaskContext, cand: Candidate, min_facing_m: float = MIN_FACING_M,
                         each_front_behind: bool = False) -> Solved:
    """`a` relative to `b` for the moved observer: left/right, above/below, closer to/farther from
    the observer; with `each_front_behind`, then whether a and b are each in front of or behind it
    (SPAR's five slots)."""
    view = _observer_view(ctx, cand, ["a", "b"], min_facing_m)
    (ra, fa, ua), (rb, fb, ub) = view["a"], view["b"]
    need = ctx.spec.margins.axis_m
    da, db = float(np.linalg.norm(view["a"])), float(np.linalg.norm(view["b"]))
    calls = [_axis(ra - rb, need, "right", "left"), _axis(ua - ub, need, "above", "below"), _nearer(da, db, ctx)]
    slots = list(OO_SLOTS)
    exact = {"right_m": ra - rb, "up_m": ua - ub, "distance_a_m": da, "distance_b_m": db}
    if each_front_behind:
        if not any(w for w, _ in calls):
            raise Reject("pair_relations_indistinguishable")
        calls += [_axis(fa, need, "front", "behind"), _axis(fb, need, "front", "behind")]
        slots += OWN_SLOTS
        exact.update(forward_a_m=fa, forward_b_m=fb)
    # Roles a and b are drawn in random order, which makes left/right and closer/farther 50/50 by
    # symmetry once left/right is balanced; each object's own front/behind is not, like OC's, and
    # the two go together (both in front is the commonest): all four pairs are balanced.
    balanced = ("left_right", "a_front_behind", "b_front_behind") if each_front_behind else ("left_right",)
    return _relation(ctx, calls, slots, exact, balanced)


@ANSWERS.register("relative_direction")
def relative_direction(ctx: TaskContext, cand: Candidate, min_facing_m: float = MIN_FACING_M) -> Solved:
    """Quadrant (front-left, front-right, back-left, back-right) of `query` for the observer at
    `stand` facing `face`, at least margins.sector_deg from a quadrant boundary."""
    offset = _observer_view(ctx, cand, ["query"], min_facing_m)["query"]
    m = ctx.spec.margins
    if np.hypot(offset[0], offset[1]) < m.axis_m:
        raise Reject("query_at_the_observer")
    bearing = bearing_deg(offset)
    name, slack = sector(bearing, QUADRANTS)
    if slack < m.sector_deg:
        raise Reject("direction_within_sector_margin")
    answer = Answer("relation", [name], exact={"bearing_deg": bearing},
                    extra={"slots": ["quadrant"], "viewer": OBSERVER})
    return Solved(answer, margin=slack - m.sector_deg, balance_key=name,
                  balance_values=tuple(q for q, _, _ in QUADRANTS))


@ANSWERS.register("top_down_layout")
def top_down_layout(ctx: TaskContext, cand: Candidate) -> Solved:
    """(x, y) in metres of every object's centre seen from above in the first image's viewer frame:
    origin at camera 1, x to its right, y forward (horizontal). Objects closer than the spec's
    min_separation_m to each other are rejected: their places would not read apart."""
    c2w = ctx.c2w(cand.frames[0])
    roles = [role for role, _, _ in cand.roles]
    xy = to_viewer(np.stack([ctx.centre(cand.object_id(r)) for r in roles]), camera_centre(c2w), viewer_axes(c2w))[:, :2]
    gaps = np.linalg.norm(xy[:, None] - xy[None], axis=-1)[np.triu_indices(len(roles), 1)]
    need = ctx.spec.filters.min_separation_m
    if gaps.min() < need:
        raise Reject("layout_objects_too_close")
    value = {r: [round_to(float(x), M_STEP), round_to(float(y), M_STEP)] for r, (x, y) in zip(roles, xy)}
    exact = {r: [float(x), float(y)] for r, (x, y) in zip(roles, xy)}
    answer = Answer("layout", value, exact=exact, unit="m", extra={"axes": ["right", "forward"], "origin": "camera 1"})
    return Solved(answer, margin=float(gaps.min() - need))
