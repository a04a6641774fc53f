"""Multi-view answers: relations in the first image's viewer frame ("camera 1") and boxes of an
object matched from image 1 into image 2.

Depths, distances and closest/farther choices across images need no code of their own: the
single-view answers already take each role's depth in the image that marks it and distances from
the first image's camera (cand.frames[0]).
"""
from __future__ import annotations

import numpy as np

from qagen.geometry.boxes2d import iou_with
from qagen.geometry.relations import side
from qagen.registry import ANSWERS
from qagen.tasks.answers.common import viewer_coordinates
from qagen.tasks.answers.single_view import relation_oo_tuple
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.engine import Solved
from qagen.tasks.fact import Answer, Reject
from qagen.tasks.markers import mask_boxes
from qagen.tasks.relation_options import with_shown_tuples

CAMERA_SLOTS = ["cam_left_right", "cam_above_below", "cam_front_behind"]
PAIR_SLOTS = ["ab_left_right", "ab_above_below", "ab_closer_farther", "a_front_behind", "b_front_behind"]
PAIR_BALANCE = ("left/closer", "left/farther", "right/closer", "right/farther")  # both binary slots 50/50
MAX_DISTRACTOR_IOU = 0.5


def _first_camera_coordinates(ctx: TaskContext, cand: Candidate, role: str) -> np.ndarray:
    """(right, forward, up) of the role's centre relative to the first image's camera, in its viewer frame."""
    try:
        return viewer_coordinates(ctx, cand.frames[0], cand.object_id(role))
    except ValueError:
        raise Reject("first_camera_looks_straight_up_or_down") from None


def _axis_margin(values: list[float], slots: list[str], need: float) -> float:
    """How far the closest decided axis call is beyond its margin."""
    return min(abs(v) - need for v, s in zip(values, slots) if s)


@ANSWERS.register("relation_to_first_camera")
def relation_to_first_camera(ctx: TaskContext, cand: Candidate, require_left_right: bool = False) -> Solved:
    """(left/right, above/below, front/behind) of a's centre relative to camera 1, empty inside the margin.

    `require_left_right`: reject candidates whose left/right is undecided. Seen from a camera held
    above the furniture, above/below and front/behind are nearly always "below" and "in front", so
    only left/right carries information a text-only guesser cannot take from priors.
    """
    right, forward, up = _first_camera_coordinates(ctx, cand, "a")
    need = ctx.spec.margins.axis_m
    slots = [side(right, need, "right", "left"), side(up, need, "above", "below"), side(forward, need, "front", "behind")]
    if not any(slots):
        raise Reject("all_relations_indistinguishable")
    if require_left_right and not slots[0]:
        raise Reject("left_right_indistinguishable")
    return with_shown_tuples(ctx, Solved(
        Answer("relation", slots, extra={"slots": list(CAMERA_SLOTS)}),
        margin=float(_axis_margin([right, up, forward], slots, need)),
        balance_key=slots[0] or None,
        balance_values=("left", "right"),
    ))


@ANSWERS.register("relation_oo_first_camera")
def relation_oo_first_camera(ctx: TaskContext, cand: Candidate) -> Solved:
    """a relative to b (left/right, above/below, closer/farther) seen from camera 1, then whether
    a and b are each in front of or behind camera 1."""
    # first: a first camera without a viewer frame is rejected here (relation_oo_tuple needs one too)
    forwards = [float(_first_camera_coordinates(ctx, cand, role)[1]) for role in ("a", "b")]
    pair = relation_oo_tuple(ctx, cand)  # uses cand.frames[0], the first image's camera
    need = ctx.spec.margins.axis_m
    facing = [side(f, need, "front", "behind") for f in forwards]
    slots = list(pair.answer.value) + facing
    margins = [pair.margin] + ([_axis_margin(forwards, facing, need)] if any(facing) else [])
    left_right, closer_farther = slots[0], slots[2]
    return with_shown_tuples(ctx, Solved(
        Answer("relation", slots, extra={"slots": list(PAIR_SLOTS)}),
        margin=float(min(margins)),
        balance_key=f"{left_right}/{closer_farther}" if left_right and closer_farther else None,
        balance_values=PAIR_BALANCE,
    ))


@ANSWERS.register("box_in_second_view")
def box_in_second_view(ctx: TaskContext, cand: Candidate, distractors: int | None = None,
                       same_label_first: bool = False) -> Solved:
    """The box of a (marked in image 1) in image 2, with other visible objects' boxes in image 2 as
    distractors (IoU with the truth < 0.5).

    `distractors` is the fewest distractor boxes a candidate needs (default: one less than the
    select options). With `same_label_first`, exactly that many are kept, objects sharing a's label
    first (the hard negatives of a matching question).
    """
    second = cand.frames[1]
    needed = distractors if distractors is not None else (ctx.spec.select.options - 1 if ctx.spec.select else 0)
    target = cand.object_id("a")
    rows = ctx.visible_rows(second)
    objects = np.asarray(ctx.index.obs["object"])[rows]
    boxes = mask_boxes(ctx, rows)
    truth = boxes[objects == target][0]
    others = objects != target
    overlap = iou_with(truth, boxes)
    keep = others & (overlap < MAX_DISTRACTOR_IOU)
    ids, overlap = objects[keep], overlap[keep]
    order = ctx.rng.permutation(ids.size)
    if same_label_first:
        same = np.array([ctx.label(int(i)) == ctx.label(target) for i in ids[order]], dtype=bool)
        order = np.concatenate([order[same], order[~same]])[:needed]
    if order.size < needed:
        raise Reject("too_few_distractor_boxes")
    chosen = ids[order]
    answer = Answer(
        "box",
        [int(v) for v in truth],
        extra={
            "distractor_boxes": [[int(v) for v in boxes[objects == i][0]] for i in chosen],
            "distractor_objects": [int(i) for i in chosen],
        },
    )
    closest = float(overlap[order].max()) if order.size else 0.0
    return Solved(answer, margin=MAX_DISTRACTOR_IOU - closest)
