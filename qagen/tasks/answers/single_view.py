"""Single-view answers: depths, distances, sizes and relations of objects seen in one image."""
from __future__ import annotations

from dataclasses import replace

from qagen.geometry.relations import compare_lengths, length_gap_needed, round_to, side
from qagen.registry import ANSWERS
from qagen.tasks.answers.common import (
    CM_STEP, M_STEP, camera_distance, centre_distance, metres, object_depth, pick_extreme, steered, viewer_coordinates,
)
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.engine import Solved
from qagen.tasks.markers import place_markers
from qagen.tasks.relation_options import with_shown_tuples
from qagen.tasks.fact import Answer, Reject


@ANSWERS.register("target_depth")
def target_depth(ctx: TaskContext, cand: Candidate) -> Solved:
    """Depth of the target (b), given the reference (a)'s depth."""
    ref, target = object_depth(ctx, cand, "a"), object_depth(ctx, cand, "b")
    if min(ref, target) <= 0:
        raise Reject("centre_behind_camera")
    return Solved(metres(target), slots={"ref_depth": round_to(ref, M_STEP)})


@ANSWERS.register("depth_difference")
def depth_difference(ctx: TaskContext, cand: Candidate) -> Solved:
    """|depth(b) - depth(c)|, given the reference (a)'s depth."""
    ref, db, dc = (object_depth(ctx, cand, r) for r in ("a", "b", "c"))
    if min(ref, db, dc) <= 0:
        raise Reject("centre_behind_camera")
    if abs(db - dc) < ctx.spec.margins.length_abs_m:
        raise Reject("depth_difference_within_margin")
    return Solved(metres(abs(db - dc)), slots={"ref_depth": round_to(ref, M_STEP)})


@ANSWERS.register("camera_distance")
def camera_distance_answer(ctx: TaskContext, cand: Candidate) -> Solved:
    return Solved(metres(camera_distance(ctx, cand.frames[0], cand.object_id("a"))))


@ANSWERS.register("center_distance")
def center_distance_answer(ctx: TaskContext, cand: Candidate) -> Solved:
    return Solved(metres(centre_distance(ctx, cand.object_id("a"), cand.object_id("b"))))


@ANSWERS.register("object_dimensions")
def object_dimensions(ctx: TaskContext, cand: Candidate) -> Solved:
    """Length, width (longer/shorter horizontal side) and height of the marked object, in cm."""
    box = ctx.box(cand.object_id("a"))
    length, width = box.horizontal_sides()
    exact = {"length_cm": length * 100, "width_cm": width * 100, "height_cm": box.vertical_extent() * 100}
    value = {k: round_to(v, CM_STEP) for k, v in exact.items()}
    return Solved(Answer("vector", value, exact=exact, unit="cm"))


RELATION_OO_SLOTS = (("right", "left"), ("above", "below"), ("closer", "farther"))


@ANSWERS.register("relation_oo")
def relation_oo(ctx: TaskContext, cand: Candidate) -> Solved:
    """(left/right, above/below, closer/farther) of a relative to b in the camera's viewer frame,
    with the tuples its question shows beside it."""
    return with_shown_tuples(ctx, relation_oo_tuple(ctx, cand))


def relation_oo_tuple(ctx: TaskContext, cand: Candidate) -> Solved:
    """The relation of a to b alone, for answers that build on it."""
    pos, a, b = cand.frames[0], cand.object_id("a"), cand.object_id("b")
    rel = viewer_coordinates(ctx, pos, a) - viewer_coordinates(ctx, pos, b)
    m = ctx.spec.margins
    da, db = camera_distance(ctx, pos, a), camera_distance(ctx, pos, b)
    near = compare_lengths(da, db, m.length_abs_m, m.length_rel)
    slots = [
        side(rel[0], m.axis_m, "right", "left"),
        side(rel[2], m.axis_m, "above", "below"),
        {-1: "closer", 0: "", 1: "farther"}[near],
    ]
    if not any(slots):
        raise Reject("all_relations_indistinguishable")
    margin = min(
        [abs(rel[0]) - m.axis_m] * bool(slots[0])
        + [abs(rel[2]) - m.axis_m] * bool(slots[1])
        + [abs(da - db) - length_gap_needed(da, db, m.length_abs_m, m.length_rel)] * bool(slots[2])
    )
    return Solved(
        Answer("relation", slots, extra={"slots": ["left_right", "above_below", "closer_farther"]}),
        margin=float(margin),
        balance_key=slots[0] or "-",
        balance_values=("left", "right"),
    )


@ANSWERS.register("closer_to_anchor")
def closer_to_anchor(ctx: TaskContext, cand: Candidate) -> Solved:
    """Which of b, c is closer to (or farther from) the anchor a.

    With markers on several images, objects marked on an image near the anchor's tend to be near
    it in space (a clip's frames follow the camera), so the question's frame numbers would hint
    at the answer. There the balance also spreads whether the answer is the option marked nearer
    the anchor's image, and options marked equally far from it are turned away."""
    anchor = cand.object_id("a")
    distances = {r: centre_distance(ctx, anchor, cand.object_id(r)) for r in ("b", "c")}
    labels = {r: ctx.label(cand.object_id(r)) for r in ("b", "c")}  # kinds differ in where they stand
    images = {r: cand.image_of(r) or 0 for r in ("a", "b", "c")}
    gaps = {r: abs(images[r] - images["a"]) for r in ("b", "c")}
    one_image = len(set(images.values())) == 1
    if not one_image and gaps["b"] == gaps["c"]:
        raise Reject("options_marked_equally_far_from_the_anchor")

    def solve(criterion: str) -> Solved:
        solved = pick_extreme(ctx, distances, criterion, labels)
        if one_image:
            return solved
        best = solved.answer.value
        order = "near" if gaps[best] < gaps["c" if best == "b" else "b"] else "far"
        return replace(solved, balance_key=f"{solved.balance_key}:{order}",
                       balance_values=tuple(f"{k}:{o}" for k in solved.balance_values for o in ("near", "far")))

    return steered(ctx, ("closer", "farther"), solve)[1]


@ANSWERS.register("closest_to_camera")
def closest_to_camera(ctx: TaskContext, cand: Candidate) -> Solved:
    """Which marked object is closest to (or farthest from) the camera. How far from the camera an
    object stands follows its kind (a sofa stands back, a book lies near), so the balancer keeps
    the labels from predicting the answer."""
    distances = {r: camera_distance(ctx, cand.frames[0], oid) for r, oid, _ in cand.roles}
    labels = {r: ctx.label(oid) for r, oid, _ in cand.roles}
    markers = place_markers(ctx, cand)
    # In one view, lower in the image is mostly nearer, and points are given as coordinates: the
    # answer's place among the points by height is balanced too (as point_depth_order's is).
    one_view = all(m.xy is not None for m in markers) and len({m.image for m in markers}) == 1
    by_height = [m.role for m in sorted(markers, key=lambda m: -m.xy[1])] if one_view else []

    def solve(criterion: str) -> Solved:
        solved = pick_extreme(ctx, distances, criterion, labels)
        if not one_view:
            return solved
        place = by_height.index(solved.answer.value)
        return replace(solved, balance_key=f"{solved.balance_key}:{place}",
                       balance_values=tuple(f"{k}:{i}" for k in solved.balance_values for i in range(len(markers))))

    return steered(ctx, ("closest", "farthest"), solve)[1]
