"""Single-view answers of the other reference datasets: grounding and referring (SpatialForge),
near/far and left/right of labelled objects (SpatialForge), size comparison and one dimension of
an object (SpaceVista, VSI-Bench), and the depth order of two marked pixels (SpatialVID).

Referring expressions: the label alone when it is unique among the visible objects; otherwise the
label with position words ("the chair on the left", "the nearest lamp"), used only when the object
is the extreme of its label group along that direction by the task's margin, both in the viewer
frame and in the image (so the words agree with what the picture shows).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional

import numpy as np

from qagen.geometry.boxes2d import iou_with
from qagen.geometry.relations import length_gap_needed, round_to, side
from qagen.geometry.projection import world_to_camera
from qagen.geometry.viewer import camera_centre, to_viewer, viewer_axes
from qagen.registry import ANSWERS
from qagen.scene.model import Box
from qagen.tasks.answers.common import CM_STEP, camera_distance, object_depth, pick_extreme, steered
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.engine import Solved
from qagen.tasks.fact import Answer, Reject
from qagen.tasks.markers import mask_boxes, place_markers
from qagen.tasks.pixels import frame_depth, pixel_distance

MAX_DISTRACTOR_IOU = 0.5
CRITERION_PHRASES = {"nearer": "nearer to the camera", "farther": "farther from the camera"}
LAYOUTS = ("nearer_lower", "nearer_higher")  # is the nearer of two marked pixels the lower one in the image


# ------------------------------------------------------------------------------------------------
# Referring expressions

@dataclass(frozen=True)
class Direction:
    """One way to single out an object among others of its label."""

    words_of_two: tuple[str, str]  # (largest, smallest) value, two objects: "the {label} on the right"
    words_of_many: tuple[str, str]  # three or more: "the rightmost {label}"
    value: Callable[[np.ndarray, np.ndarray], float]  # (viewer coords, camera coords) -> value
    image_value: Optional[Callable[[np.ndarray], float]]  # camera coords -> value that must agree
    length: bool  # margin: length comparison (True) or axis separation (False)


DIRECTIONS = (
    Direction(("the {label} on the right", "the {label} on the left"),
              ("the rightmost {label}", "the leftmost {label}"),
              lambda viewer, cam: viewer[0], lambda cam: cam[0] / cam[2], False),
    Direction(("the farther {label}", "the nearer {label}"), ("the farthest {label}", "the nearest {label}"),
              lambda viewer, cam: float(np.linalg.norm(cam)), None, True),
    Direction(("the {label} higher up", "the {label} lower down"), ("the highest {label}", "the lowest {label}"),
              lambda viewer, cam: viewer[2], lambda cam: -cam[1] / cam[2], False),
)


def _gap_needed(ctx: TaskContext, a: float, b: float, length: bool) -> float:
    m = ctx.spec.margins
    return length_gap_needed(a, b, m.length_abs_m, m.length_rel) if length else m.axis_m


def describe(ctx: TaskContext, frame_pos: int, object_id: int) -> tuple[str, Optional[float]]:
    """A referring expression that picks `object_id` out of the objects visible in the frame, and
    its margin (None for a unique label); Reject when no direction separates it by the margin.
    Memoised per task: the distractors of every fact of a frame describe its other objects."""
    return ctx.remembered(("description", frame_pos, object_id), lambda: _describe(ctx, frame_pos, object_id))


def _describe(ctx: TaskContext, frame_pos: int, object_id: int) -> tuple[str, Optional[float]]:
    label = ctx.label(object_id)
    same = [int(i) for i in ctx.visible_objects(frame_pos) if ctx.label(int(i)) == label]
    if len(same) == 1:
        return f"the {label}", None
    c2w = ctx.c2w(frame_pos)
    centres = np.stack([ctx.centre(i) for i in same])
    viewer = to_viewer(centres, camera_centre(c2w), viewer_axes(c2w))
    cam = world_to_camera(centres, c2w)
    target = same.index(object_id)
    for d in DIRECTIONS:
        values = np.array([d.value(v, c) for v, c in zip(viewer, cam)])
        for extreme, words in ((np.argmax, 0), (np.argmin, 1)):
            if extreme(values) != target:
                continue
            others = np.delete(values, target)
            runner = others.max() if words == 0 else others.min()
            gap = abs(values[target] - runner)
            need = _gap_needed(ctx, values[target], runner, d.length)
            if gap < need:
                continue
            if d.image_value is not None:
                image = np.array([d.image_value(c) for c in cam])
                if extreme(image) != target:
                    continue
            phrase = (d.words_of_two if len(same) == 2 else d.words_of_many)[words]
            return phrase.format(label=label), float(gap - need)
    raise Reject("no_unique_description")


def _descriptions_of_others(ctx: TaskContext, frame_pos: int, object_id: int) -> list[str]:
    out = []
    for other in (int(i) for i in ctx.visible_objects(frame_pos)):
        if other == object_id:
            continue
        try:
            out.append(describe(ctx, frame_pos, other)[0])
        except Reject:
            continue
    return sorted(set(out))


def _needed_distractors(ctx: TaskContext, minimum: Optional[int]) -> int:
    if minimum is not None:
        return minimum
    return ctx.spec.select.options - 1 if ctx.spec.select and "select" in ctx.spec.formats else 0


@ANSWERS.register("object_box")
def object_box(ctx: TaskContext, cand: Candidate, min_distractors: Optional[int] = None) -> Solved:
    """Box (0-1000) of the described object; distractors are other visible objects' boxes with
    IoU < 0.5 (at least select.options - 1 of them when the task has a select format)."""
    pos, object_id = cand.frames[0], cand.object_id("a")
    description, margin = describe(ctx, pos, object_id)
    box = tuple(int(v) for v in mask_boxes(ctx, ctx.row(pos, object_id))[0])
    others = [int(i) for i in ctx.visible_objects(pos) if int(i) != object_id]
    boxes = [tuple(int(v) for v in b) for b in mask_boxes(ctx, np.array([ctx.row(pos, i) for i in others], dtype=np.int64))]
    keep = [k for k, overlap in enumerate(iou_with(box, boxes)) if overlap < MAX_DISTRACTOR_IOU] if others else []
    if len(keep) < _needed_distractors(ctx, min_distractors):
        raise Reject("too_few_distractor_boxes")
    answer = Answer("box", list(box), extra={"description": description,
                                             "distractor_boxes": [list(boxes[k]) for k in keep],
                                             "distractor_objects": [others[k] for k in keep]})
    return Solved(answer, margin=margin, slots={"description": description})


@ANSWERS.register("object_description")
def object_description(ctx: TaskContext, cand: Candidate, min_distractors: Optional[int] = None) -> Solved:
    """A short description (label, plus position words when the label repeats in view) that
    identifies the boxed object; distractors are the descriptions of other visible objects."""
    pos, object_id = cand.frames[0], cand.object_id("a")
    description, margin = describe(ctx, pos, object_id)
    others = [t for t in _descriptions_of_others(ctx, pos, object_id) if t != description]
    if len(others) < _needed_distractors(ctx, min_distractors):
        raise Reject("too_few_distractor_descriptions")
    marker = next(m for m in place_markers(ctx, cand) if m.role == "a")
    answer = Answer("text", description, extra={"distractor_texts": others, "label": ctx.label(object_id)})
    return Solved(answer, margin=margin, slots={"box": "[" + ", ".join(str(v) for v in marker.box) + "]"})


# ------------------------------------------------------------------------------------------------
# Labelled pairs

@ANSWERS.register("nearer_object")
def nearer_object(ctx: TaskContext, cand: Candidate) -> Solved:
    """Which of a, b is nearer to (or farther from) the camera by depth, outside the length margin;
    the distances from the camera centre must order them alike (the words say "nearer")."""
    depths = {r: object_depth(ctx, cand, r) for r in ("a", "b")}
    if min(depths.values()) <= 0:
        raise Reject("centre_behind_camera")
    distances = {r: camera_distance(ctx, cand.frames[0], cand.object_id(r)) for r in ("a", "b")}
    if (depths["a"] < depths["b"]) != (distances["a"] < distances["b"]):
        raise Reject("depth_and_distance_disagree")
    criterion, solved = steered(ctx, ("nearer", "farther"), lambda criterion: pick_extreme(ctx, depths, criterion))
    return replace(solved, slots={"criterion_phrase": CRITERION_PHRASES[criterion]})


@ANSWERS.register("left_or_right")
def left_or_right(ctx: TaskContext, cand: Candidate) -> Solved:
    """Is a to the left or right of b in the viewer frame (0.15 m margin); the image must agree."""
    c2w = ctx.c2w(cand.frames[0])
    centres = np.stack([ctx.centre(cand.object_id(r)) for r in ("a", "b")])
    right = to_viewer(centres, camera_centre(c2w), viewer_axes(c2w))[:, 0]
    margin = ctx.spec.margins.axis_m
    word = side(right[0] - right[1], margin, "right", "left")
    if not word:
        raise Reject("left_right_within_margin")
    cam = world_to_camera(centres, c2w)
    if (cam[0, 0] / cam[0, 2] > cam[1, 0] / cam[1, 2]) != (word == "right"):
        raise Reject("image_order_disagrees")
    answer = Answer("relation", [word], extra={"slots": ["left_right"]})
    return Solved(answer, margin=float(abs(right[0] - right[1]) - margin), slots={"side": word},
                  balance_key=word, balance_values=("left", "right"))


# ------------------------------------------------------------------------------------------------
# Sizes

def object_box_3d(ctx: TaskContext, object_id: int) -> Box:
    """The object's 3D box (from the index when the scene was lifted, else as loaded)."""
    return ctx.box(object_id) if ctx.index is not None else ctx.scene.object(object_id).box


def object_sizes(ctx: TaskContext, object_id: int) -> dict[str, float]:
    """The object's Box.sizes() (memoised per scene, read-only: the size tasks and their formats
    measure the same objects again and again)."""
    return ctx.per_scene("object_sizes", object_id, lambda: object_box_3d(ctx, object_id).sizes())


SIZE_CRITERIA = {"taller": "height", "longer": "length", "wider": "width"}
SIZE_NOTES = {
    "taller": "Height is an object's vertical extent.",
    "longer": "Length is an object's longer horizontal side.",
    "wider": "Width is an object's shorter horizontal side.",
}


@ANSWERS.register("larger_object")
def larger_object(ctx: TaskContext, cand: Candidate, criteria: tuple[str, ...] = tuple(SIZE_CRITERIA)) -> Solved:
    """Which of a, b is taller / longer / wider, when the gap passes the length margin. Balanced
    on the answer (a as often as b); the criterion asked is steered to one that clears the margin
    and gives the answer the balance lacks. Balancing each criterion apart would stall a scene
    whose same-label pairs differ mostly in one size: one pair seen differing in width would hold
    every other key back until a second one turned up."""
    measured = {r: object_sizes(ctx, cand.object_id(r)) for r in ("a", "b")}

    def solve(criterion: str) -> Solved:
        values = {r: measured[r][SIZE_CRITERIA[criterion]] for r in ("a", "b")}
        best, runner = sorted(values, key=values.get, reverse=True)
        m = ctx.spec.margins
        gap = values[best] - values[runner]
        need = length_gap_needed(values[best], values[runner], m.length_abs_m, m.length_rel)
        if gap < need:
            raise Reject("sizes_within_margin")
        answer = Answer("choice", best, exact=values, unit="m", extra={"options": ["a", "b"], "criterion": criterion})
        return Solved(answer, margin=float(gap - need), slots={"criterion_note": SIZE_NOTES[criterion]},
                      balance_key=best, balance_values=("a", "b"))

    return steered(ctx, tuple(criteria), solve)[1]


DIMENSION_WORDS = {
    "longest": "longest dimension",
    "height": "height",
    "length": "length (longer horizontal side)",
    "width": "width (shorter horizontal side)",
}


@ANSWERS.register("object_dimension")
def object_dimension(ctx: TaskContext, cand: Candidate,
                     dimensions: tuple[str, ...] = ("longest", "height", "width")) -> Solved:
    """One dimension of object a in cm: the longest side of its box, its height or its width."""
    dimension = str(ctx.pick(list(dimensions)))
    measured = object_sizes(ctx, cand.object_id("a"))
    exact = max(measured.values()) if dimension == "longest" else measured[dimension]
    answer = Answer("number", round_to(exact * 100, CM_STEP), exact=exact * 100, unit="cm",
                    extra={"dimension": dimension})
    return Solved(answer, slots={"dimension_words": DIMENSION_WORDS[dimension]},
                  balance_key=dimension, balance_values=tuple(dimensions))


# ------------------------------------------------------------------------------------------------
# Pixels

@ANSWERS.register("nearer_pixel")
def nearer_pixel(ctx: TaskContext, cand: Candidate) -> Solved:
    """Which marked pixel is nearer to (or farther from) the camera: camera-z depth and distance
    along the ray must order them alike, each by the relative margin (length_rel; no absolute
    margin, so it holds for non-metric depth). Balanced on the chosen point and on whether the
    nearer point is the lower one in the image, so image height alone does not give it away."""
    pos = cand.frames[0]
    depth = frame_depth(ctx, pos)
    points = cand.extra["points"]
    z = {r: float(depth[row, col]) for r, (_, col, row) in points.items()}
    dist = {r: pixel_distance(ctx, pos, z[r], col, row) for r, (_, col, row) in points.items()}
    rel = ctx.spec.margins.length_rel
    gaps = [abs(v["a"] - v["b"]) - rel * min(v.values()) for v in (z, dist)]
    if (z["a"] < z["b"]) != (dist["a"] < dist["b"]):
        raise Reject("depth_and_distance_disagree")
    if min(gaps) < 0:
        raise Reject("depths_within_margin")
    nearer, lower = min(dist, key=dist.get), max(points, key=lambda r: points[r][2])
    layout = LAYOUTS[0] if nearer == lower else LAYOUTS[1]  # balanced: no "lower is nearer" shortcut
    markers = {m.role: m for m in place_markers(ctx, cand)}

    def solve(criterion: str) -> Solved:
        chosen = nearer if criterion == "nearer" else max(dist, key=dist.get)
        slots = {f"xy_{r}": f"[{markers[r].xy[0]}, {markers[r].xy[1]}]" for r in ("a", "b")}
        slots["criterion_phrase"] = CRITERION_PHRASES[criterion]
        slots["answer_point_color"] = markers[chosen].color
        answer = Answer("point_choice", chosen, exact=z, unit="m" if ctx.scene.metric else None,
                        extra={"options": ["a", "b"], "criterion": criterion})
        return Solved(answer, margin=float(min(gaps)), slots=slots, balance_key=f"{criterion}:{chosen}:{layout}",
                      balance_values=tuple(f"{criterion}:{r}:{k}" for r in ("a", "b") for k in LAYOUTS))

    return steered(ctx, ("nearer", "farther"), solve)[1]
