"""Geometry every answer function shares: centres, depths, distances, rounding, extreme picks.

Definitions are TASKS.md's: centre = 3D box centre, depth = camera z of the centre, distances
between centres, margins for every comparison.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence, TypeVar

import numpy as np

from qagen.geometry.camera_motion import ViewPose, view_pose
from qagen.geometry.relations import length_gap_needed, round_to
from qagen.geometry.projection import world_to_camera
from qagen.geometry.viewer import camera_centre, to_viewer
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.engine import Solved
from qagen.tasks.fact import Answer, Reject

M_STEP, CM_STEP, AREA_STEP = 0.1, 1.0, 0.1
T = TypeVar("T")


def metres(exact: float, unit: str = "m") -> Answer:
    return Answer("number", round_to(exact, M_STEP), exact=float(exact), unit=unit)


def read_only(array: np.ndarray) -> np.ndarray:
    """The array, locked: a memoised array is shared by every caller."""
    array.setflags(write=False)
    return array


def frame_view(ctx: TaskContext, frame_pos: int) -> ViewPose:
    """The ViewPose of a frame's camera (memoised per scene). Raises ValueError, as viewer_axes
    does, for a camera looking straight up or down."""
    return ctx.per_scene("frame_view", frame_pos, lambda: view_pose(ctx.c2w(frame_pos)))


def object_centre(ctx: TaskContext, object_id: int) -> np.ndarray:
    """Box centre from the lifted index, or from the scene's boxes for a source without frames."""
    if ctx.index is not None:
        return ctx.centre(object_id)
    return np.asarray(ctx.scene.object(object_id).box.center, dtype=float)


def object_centres(ctx: TaskContext) -> tuple[dict[int, int], np.ndarray]:
    """Each object's row and the (O, 3) table of object_centre, for the objects with a box (per
    scene): what the per-scene rows below are computed from, all objects at once."""
    found = ctx.scene_memo.get("object_centres")
    if found is None:
        ids = list(ctx.index.boxes) if ctx.index is not None else [o.id for o in ctx.scene.objects if o.box is not None]
        centres = np.array([object_centre(ctx, object_id) for object_id in ids], dtype=float).reshape(-1, 3)
        found = ctx.scene_memo["object_centres"] = ({object_id: row for row, object_id in enumerate(ids)},
                                                    read_only(centres))
    return found


def viewer_coordinates(ctx: TaskContext, frame_pos: int, object_id: int) -> np.ndarray:
    """(right, forward, up) of the object's centre relative to the frame's camera, in its viewer
    frame (read-only; every object's, per frame and scene). Raises ValueError as frame_view."""
    rows, centres = object_centres(ctx)

    def compute() -> np.ndarray:
        view = frame_view(ctx, frame_pos)
        return read_only(to_viewer(centres, view.centre, view.axes))

    return ctx.per_scene("viewer_coordinates", frame_pos, compute)[rows[object_id]]


def object_depth(ctx: TaskContext, cand: Candidate, role: str) -> float:
    """Camera z of the role's centre in the image that marks it (every object's, per frame and scene)."""
    pos, object_id = cand.frames[cand.image_of(role) or 0], cand.object_id(role)
    rows, centres = object_centres(ctx)
    depths = ctx.per_scene("object_depth", pos, lambda: world_to_camera(centres, ctx.c2w(pos))[:, 2].tolist())
    return depths[rows[object_id]]


def camera_distance(ctx: TaskContext, frame_pos: int, object_id: int) -> float:
    """Distance from the frame's camera to the object's centre (every object's, per frame and scene)."""
    rows, centres = object_centres(ctx)
    distances = ctx.per_scene("camera_distance", frame_pos, lambda: np.linalg.norm(
        centres - camera_centre(ctx.c2w(frame_pos)), axis=1).tolist())
    return distances[rows[object_id]]


def centre_distance(ctx: TaskContext, id_a: int, id_b: int) -> float:
    """Distance between two objects' centres (from every object to id_a's, per scene)."""
    rows, centres = object_centres(ctx)
    distances = ctx.per_scene("centre_distance", id_a, lambda: np.linalg.norm(
        centres - centres[rows[id_a]], axis=1).tolist())
    return distances[rows[id_b]]


def pick_extreme(ctx: TaskContext, distances: dict[str, float], criterion: str,
                 labels: Optional[dict[str, str]] = None) -> Solved:
    """The role with the smallest (closer) or largest (farther) distance, if it wins by the margin.
    With the roles' `labels`, the balancer also keeps the labels from predicting the answer."""
    m = ctx.spec.margins
    order = sorted(distances, key=distances.get, reverse=criterion in ("farther", "farthest"))
    best, runner = order[0], order[1]
    gap = abs(distances[best] - distances[runner])
    need = length_gap_needed(distances[best], distances[runner], m.length_abs_m, m.length_rel)
    if gap < need:
        raise Reject("distances_within_margin")
    answer = Answer(
        "choice",
        best,
        exact={r: float(d) for r, d in distances.items()},
        unit="m",
        extra={"options": list(distances), "criterion": criterion},
    )
    odds = (criterion, labels[best], tuple(labels[r] for r in distances)) if labels is not None else None
    return Solved(answer, margin=float(gap - need), balance_key=f"{criterion}:{best}",
                  balance_values=tuple(f"{criterion}:{r}" for r in distances), label_odds=odds)


def steered(ctx: TaskContext, choices: Sequence[T], solve: Callable[[T], Solved]) -> tuple[T, Solved]:
    """solve(choice) for a choice drawn at random among those that do not raise Reject and whose
    answer the balancer still wants (any that does not raise when none is wanted). For free choices
    such as which criterion to ask: steering them to the lagging answers keeps the balance exact
    without resampling the geometry. The choices are tried in a random order and the first wanted
    one is taken (uniform among the wanted, as a draw among all solved ones would be, without
    solving the rest). Reject (the last reason) when every choice raises."""
    fallback, rejection = None, None
    for choice in ctx.sample(choices, len(choices)):
        try:
            solved = solve(choice)
        except Reject as rej:
            rejection = rej.reason  # not the exception: its traceback would tie this frame in a cycle
            continue
        if ctx.wants(solved):
            return choice, solved
        if fallback is None:
            fallback = choice, solved  # the first in a random order: uniform among those solved
    if fallback is None:
        raise Reject(rejection)
    return fallback
