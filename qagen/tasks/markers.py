"""Marker placement (TASKS.md): a point sits on the object's projected centre when that pixel is on
its mask, otherwise on the mask pixel nearest to it; a box is the tight box of the visible mask.

The lifting stage already chose the pixel on the mask grid; here it is carried to the colour image
(same optical centre, other intrinsics) and normalised to 0-1000.

Pixel markers (tasks about image points, not objects, e.g. point_depth_order): a sampler puts
`extra["points"] = {role: (image, column, row)}` on the mask/depth grid in its Candidate; a spec
marker whose role is listed there is placed on that pixel's centre (rule "pixel").
"""
from __future__ import annotations

import numpy as np

from qagen.scene.model import Frame
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.fact import MarkerPlacement


def mask_to_color(frame: Frame, xy: np.ndarray) -> np.ndarray:
    """Pixel positions (N, 2) on the depth/mask grid -> positions on the colour image."""
    H = frame.K_color @ np.linalg.inv(frame.depth_grid()[0])
    homog = np.c_[np.asarray(xy, dtype=float), np.ones(len(xy))] @ H.T
    return homog[:, :2] / homog[:, 2:3]


def normalise(frame: Frame, xy: np.ndarray) -> np.ndarray:
    """Colour-image pixels -> integers in 0-1000 per axis, as FORMATS.md fixes."""
    W, H = frame.color_size
    out = np.rint(np.asarray(xy, dtype=float) / np.array([W, H]) * 1000.0)
    return np.clip(out, 0, 1000).astype(int)


def mask_boxes(ctx: TaskContext, frame_pos: int, rows: np.ndarray) -> np.ndarray:
    """Tight mask boxes of index rows, (N, 4) [x1, y1, x2, y2] in 0-1000 of the colour image."""
    obs, frame = ctx.index.obs, ctx.scene.frames[frame_pos]
    rows = np.atleast_1d(rows)
    lo = np.stack([obs["x1"][rows], obs["y1"][rows]], axis=-1).astype(float)
    hi = np.stack([obs["x2"][rows] + 1, obs["y2"][rows] + 1], axis=-1).astype(float)
    return np.concatenate([normalise(frame, mask_to_color(frame, lo)), normalise(frame, mask_to_color(frame, hi))], axis=-1)


def place_markers(ctx: TaskContext, cand: Candidate) -> tuple[MarkerPlacement, ...]:
    placed = []
    pixels = cand.extra.get("points", {})
    for spec in ctx.spec.markers:
        if spec.role in pixels:
            image, col, row = pixels[spec.role]
            frame = ctx.scene.frames[cand.frames[image]]
            (x, y), = normalise(frame, mask_to_color(frame, np.array([[col + 0.5, row + 0.5]])))
            placed.append(MarkerPlacement(spec.role, "point", spec.color, image, xy=(int(x), int(y)), rule="pixel"))
            continue
        obs = ctx.index.obs
        object_id, image = cand.object_id(spec.role), cand.image_of(spec.role)
        if image is None:
            image = 0
        frame_pos = cand.frames[image]
        frame = ctx.scene.frames[frame_pos]
        row = ctx.row(frame_pos, object_id)
        if spec.kind == "point":
            xy = np.array([[obs["marker_x"][row], obs["marker_y"][row]]])
            (x, y), = normalise(frame, mask_to_color(frame, xy))
            rule = "centre" if bool(obs["centre_on_mask"][row]) else "nearest"
            placed.append(MarkerPlacement(spec.role, "point", spec.color, image, xy=(int(x), int(y)), rule=rule))
        else:
            box = tuple(int(v) for v in mask_boxes(ctx, frame_pos, row)[0])
            placed.append(MarkerPlacement(spec.role, "box", spec.color, image, box=box, rule="mask_box"))
    return tuple(placed)
