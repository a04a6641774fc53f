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
    return _apply_homography(_mask_to_color_homography(frame)[None], np.asarray(xy, dtype=float))


def normalise(frame: Frame, xy: np.ndarray) -> np.ndarray:
    """Colour-image pixels -> integers in 0-1000 per axis, as FORMATS.md fixes."""
    return _normalise(np.asarray(xy, dtype=float), np.array(frame.color_size, dtype=float))


def mask_boxes(ctx: TaskContext, frame_pos: int, rows: np.ndarray) -> np.ndarray:
    """Tight mask boxes of index rows, (N, 4) [x1, y1, x2, y2] in 0-1000 of the colour image."""
    return _row_markers(ctx)[1][np.atleast_1d(rows)]


def _row_markers(ctx: TaskContext) -> tuple[np.ndarray, np.ndarray]:
    """Every index row's point marker (N, 2) and mask box (N, 4) in 0-1000 of its colour image,
    carried over from the mask grid in one vectorised pass per scene."""
    if "row_markers" not in ctx.scene_memo:
        obs, frames = ctx.index.obs, ctx.scene.frames
        homography = np.stack([_mask_to_color_homography(f) for f in frames]).reshape(-1, 3, 3)[obs["frame"]]
        size = np.array([f.color_size for f in frames], dtype=float).reshape(-1, 2)[obs["frame"]]

        def carried(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            return _normalise(_apply_homography(homography, np.stack([x, y], axis=-1).astype(float)), size)

        placeable = np.isfinite(obs["marker_x"])  # rows without a marker are never visible
        points = carried(np.where(placeable, obs["marker_x"], 0), np.where(placeable, obs["marker_y"], 0))
        boxes = np.concatenate([carried(obs["x1"], obs["y1"]), carried(obs["x2"] + 1, obs["y2"] + 1)], axis=-1)
        ctx.scene_memo["row_markers"] = points, boxes
    return ctx.scene_memo["row_markers"]


def _mask_to_color_homography(frame: Frame) -> np.ndarray:
    return frame.K_color @ np.linalg.inv(frame.depth_grid()[0])


def _apply_homography(homography: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """(N, 2) points through (N, 3, 3) homographies, or one (1, 3, 3) for all."""
    homog = (homography @ np.c_[xy, np.ones(len(xy))][..., None])[..., 0]
    return homog[:, :2] / homog[:, 2:3]


def _normalise(xy: np.ndarray, size: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(xy / size * 1000.0), 0, 1000).astype(int)


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
            x, y = _row_markers(ctx)[0][row]
            rule = "centre" if bool(obs["centre_on_mask"][row]) else "nearest"
            placed.append(MarkerPlacement(spec.role, "point", spec.color, image, xy=(int(x), int(y)), rule=rule))
        else:
            box = tuple(int(v) for v in mask_boxes(ctx, frame_pos, row)[0])
            placed.append(MarkerPlacement(spec.role, "box", spec.color, image, box=box, rule="mask_box"))
    return tuple(placed)
