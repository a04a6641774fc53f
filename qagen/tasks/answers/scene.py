"""Answers over a clip or a whole scene: instance counts, floor area."""
from __future__ import annotations

import numpy as np

from qagen.geometry.relations import round_to
from qagen.registry import ANSWERS
from qagen.tasks.answers.common import AREA_STEP
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.engine import Solved
from qagen.tasks.fact import Answer, Reject


@ANSWERS.register("instance_count")
def instance_count(ctx: TaskContext, cand: Candidate, max_count: int = 9) -> Solved:
    """Distinct instances of one label seen over the clip (not detections)."""
    seen: dict[int, bool] = {}
    for pos in cand.frames:
        for oid in ctx.visible_ids(pos):
            seen[oid] = True
    if not seen:
        raise Reject("nothing_visible")
    label = str(ctx.pick(sorted({ctx.label(i) for i in seen})))
    instances = [i for i in seen if ctx.label(i) == label]
    # An instance of the label glimpsed in the clip but never clearly visible makes the count ambiguous.
    observed = _objects_observed(ctx)
    glimpsed = {i for pos in cand.frames for i in observed.get(pos, ()) if ctx.label(i) == label}
    if glimpsed - set(instances):
        raise Reject("instance_partly_visible")
    count = len(instances)
    if count > max_count:
        raise Reject("count_too_large")
    answer = Answer("number", count, exact=count, unit="count", extra={"label": label})
    # Counts 1..4 share one set of select options (render/kinds/numeric.py count_options), so they
    # are balanced one by one there, larger counts together.
    return Solved(answer, slots={"label": label}, balance_key=str(min(count, 4)))


def _objects_observed(ctx: TaskContext) -> dict[int, set[int]]:
    """Frame position -> ids of the objects the index observed there, however little (memoised
    per scene: every clip would otherwise scan the whole observation table)."""

    def compute() -> dict[int, set[int]]:
        observed: dict[int, set[int]] = {}
        obs = ctx.index.obs
        for pos, oid in zip(np.asarray(obs["frame"]).tolist(), np.asarray(obs["object"]).tolist()):
            observed.setdefault(pos, set()).add(oid)
        return observed

    return ctx.per_scene("objects_observed", "by_frame", compute)


@ANSWERS.register("floor_area")
def floor_area(ctx: TaskContext, cand: Candidate) -> Solved:
    """Floor area in m2: of the room polygon, else as the source states it."""
    area = ctx.scene.room.floor_area() if ctx.scene.room is not None else float(ctx.scene.room_area)
    return Solved(Answer("number", round_to(area, AREA_STEP), exact=area, unit="m2"))
