"""Answers of the scene-level variants (VSI-Bench style, from object boxes alone): object counts,
distances between uniquely labelled objects, and which object is closest to an anchor.

Counts are the scene's objects (its boxes): a meta-info file's `object_counts` may disagree with its
boxes (the loader counts that in load_warnings) and is not used. Distances are between box centres
by default; `distance: closest_points` measures between the boxes' surfaces (VSI-Bench's
convention), exactly, with qagen.geometry.box_distance.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from qagen.geometry.box_distance import box_distance
from qagen.geometry.relations import round_to
from qagen.registry import ANSWERS
from qagen.tasks.answers.common import M_STEP, object_centre, pick_extreme, steered
from qagen.tasks.answers.single_view_extra import object_box_3d
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.engine import Solved
from qagen.tasks.fact import Answer, Reject

DISTANCE_WORDS = {"centres": "between their centres", "closest_points": "between their closest points"}
COUNT_KEYS = 3  # counts of 3 and more share one balance key


def object_distance(ctx: TaskContext, id_a: int, id_b: int, distance: str) -> float:
    """Distance in metres between two objects, by the convention `distance` names (memoised per
    scene: the scene-level tasks and their formats draw the same pairs again and again)."""
    return ctx.per_scene("object_distance", (id_a, id_b, distance), lambda: _object_distance(ctx, id_a, id_b, distance))


def _object_distance(ctx: TaskContext, id_a: int, id_b: int, distance: str) -> float:
    if distance == "centres":
        return float(np.linalg.norm(object_centre(ctx, id_a) - object_centre(ctx, id_b)))
    if distance == "closest_points":
        a, b = object_box_3d(ctx, id_a), object_box_3d(ctx, id_b)
        return box_distance(a.center, a.rotation, a.size, b.center, b.rotation, b.size)
    raise ValueError(f"distance must be one of {sorted(DISTANCE_WORDS)}, not {distance!r}")


@ANSWERS.register("scene_object_count")
def scene_object_count(ctx: TaskContext, cand: Candidate) -> Solved:
    """How many objects of the sampled label the scene holds."""
    label = cand.extra["label"]
    count = sum(1 for o in ctx.scene.objects if o.label == label)
    answer = Answer("number", count, exact=count, unit="count", extra={"label": label})
    return Solved(answer, balance_key=str(min(count, COUNT_KEYS)))


@ANSWERS.register("scene_object_distance")
def scene_object_distance(ctx: TaskContext, cand: Candidate, distance: str = "centres") -> Solved:
    """Distance between a and b in metres; centres closer than filters.min_separation_m are rejected."""
    id_a, id_b = cand.object_id("a"), cand.object_id("b")
    if object_distance(ctx, id_a, id_b, "centres") < ctx.spec.filters.min_separation_m:
        raise Reject("objects_too_close")
    exact = object_distance(ctx, id_a, id_b, distance)
    answer = Answer("number", round_to(exact, M_STEP), exact=exact, unit="m", extra={"distance": distance})
    return Solved(answer, slots={"distance_words": DISTANCE_WORDS[distance]})


@ANSWERS.register("closest_to_anchor_scene")
def closest_to_anchor_scene(ctx: TaskContext, cand: Candidate, distance: str = "centres",
                            criteria: tuple[str, ...] = ("closest", "farthest")) -> Solved:
    """Which candidate (every role but the anchor a) is closest to (or farthest from) a, winning by
    the length margin."""
    anchor = cand.object_id("a")
    distances = {r: object_distance(ctx, anchor, oid, distance) for r, oid, _ in cand.roles if r != "a"}
    labels = {r: ctx.label(oid) for r, oid, _ in cand.roles if r != "a"}  # kinds differ in where they stand
    solved = steered(ctx, criteria, lambda criterion: pick_extreme(ctx, distances, criterion, labels))[1]
    answer = replace(solved.answer, extra={**solved.answer.extra, "distance": distance})
    return replace(solved, answer=answer, slots={"distance_words": DISTANCE_WORDS[distance]})
