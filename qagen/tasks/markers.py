"""Marker placement (TASKS.md): a point sits on the object's projected centre when that pixel is on
its mask, otherwise on the mask pixel nearest to it; a box is the tight box of the visible mask.

The lifting stage already chose the pixel on the mask grid; here it is carried to the colour image
(same optical centre, other intrinsics) and normalised to 0-1000. A mask given on the colour grid
(ScanNet) gives its box there directly: resampled to the lifting grid it can lose thin parts.

Pixel markers (tasks about image points, not objects, e.g. point_depth_order): a sampler puts
`extra["points"] = {role: (image, column, row)}` on the mask/depth grid in its Candidate; a spec
marker whose role is listed there is placed on that pixel's centre (rule "pixel").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qagen.geometry.projection import times_point
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.fact import Marker


def mask_boxes(ctx: TaskContext, rows: np.ndarray) -> np.ndarray:
    """Tight mask boxes of index rows, (N, 4) [x1, y1, x2, y2] in 0-1000 of the colour image."""
    return _row_markers(ctx).boxes[np.atleast_1d(rows)]


def place_markers(ctx: TaskContext, cand: Candidate) -> tuple[Marker, ...]:
    placed = []
    pixels = cand.extra.get("points", {})
    for spec in ctx.spec.markers:
        if spec.role in pixels:
            image, col, row = pixels[spec.role]
            xy = _pixel_point(ctx, cand.frames[image], col, row)
            placed.append(Marker(spec.role, "point", spec.color, image, xy=xy, rule="pixel"))
            continue
        object_id, image = cand.object_id(spec.role), cand.image_of(spec.role)
        if image is None:
            image = 0
        row, markers = ctx.row(cand.frames[image], object_id), _row_markers(ctx)
        if spec.kind == "point":
            rule = "centre" if markers.centre_on_mask[row] else "nearest"
            placed.append(Marker(spec.role, "point", spec.color, image, xy=markers.point_tuples[row], rule=rule))
        else:
            placed.append(Marker(spec.role, "box", spec.color, image, box=markers.box_tuples[row], rule="mask_box"))
    return tuple(placed)


def _pixel_point(ctx: TaskContext, frame_pos: int, col: int, row: int) -> tuple[int, int]:
    """The centre of a mask-grid pixel in 0-1000 of the colour image: _to_colour_1000 of one
    point, in Python floats (numpy on one point costs some 30 us), memoised per scene (the answer
    and the fact place the same pixels)."""

    def compute() -> tuple[int, int]:
        rows = ctx.per_scene("mask_to_colour_rows", frame_pos, lambda: _homographies(ctx)[frame_pos].tolist())
        width, height = ctx.scene.frames[frame_pos].color_size
        x, y, w = times_point(rows, col + 0.5, row + 0.5, 1.0)
        x, y = x / w, y / w
        return min(max(round(x / width * 1000.0), 0), 1000), min(max(round(y / height * 1000.0), 0), 1000)

    return ctx.per_scene("pixel_points", (frame_pos, col, row), compute)


@dataclass(frozen=True)
class RowMarkers:
    """Every index row's mask box (an array, for vectorised use) and, as Python values for the
    one-row lookups of every fact, its point marker, box and whether the point is the centre."""

    boxes: np.ndarray  # (N, 4) int
    point_tuples: list[tuple[int, int]]
    box_tuples: list[tuple[int, int, int, int]]
    centre_on_mask: list[bool]


def _row_markers(ctx: TaskContext) -> RowMarkers:
    """The scene's RowMarkers, carried over from the mask grid in one vectorised pass per scene."""
    if "row_markers" not in ctx.scene_memo:
        obs = ctx.index.obs
        frames = obs["frame"]
        placeable = np.isfinite(obs["marker_x"])  # rows without a marker are never visible
        xy = np.stack([np.where(placeable, obs["marker_x"], 0), np.where(placeable, obs["marker_y"], 0)], axis=-1)
        points = _to_colour_1000(ctx, frames, xy)
        low = _to_colour_1000(ctx, frames, np.stack([obs["x1"], obs["y1"]], axis=-1))
        high = _to_colour_1000(ctx, frames, np.stack([obs["x2"] + 1, obs["y2"] + 1], axis=-1))
        boxes = np.concatenate([low, high], axis=-1)
        on_color = np.isfinite(obs["color_x1"])  # the mask's own box on the colour grid, where it has one
        if on_color.any():
            color = np.stack([obs[name][on_color] for name in ("color_x1", "color_y1", "color_x2", "color_y2")], -1)
            size = np.tile(_colour_sizes(ctx)[frames[on_color]], 2)
            boxes[on_color] = np.clip(np.rint(color / size * 1000.0), 0, 1000).astype(int)
        ctx.scene_memo["row_markers"] = RowMarkers(
            boxes, [tuple(p) for p in points.tolist()], [tuple(b) for b in boxes.tolist()],
            np.asarray(obs["centre_on_mask"], dtype=bool).tolist(),
        )
    return ctx.scene_memo["row_markers"]


def _colour_sizes(ctx: TaskContext) -> np.ndarray:
    """(F, 2) float: every frame's colour image (W, H), kept per scene."""
    if "colour_sizes" not in ctx.scene_memo:
        ctx.scene_memo["colour_sizes"] = np.array([f.color_size for f in ctx.scene.frames], dtype=float).reshape(-1, 2)
    return ctx.scene_memo["colour_sizes"]


def _homographies(ctx: TaskContext) -> np.ndarray:
    """(F, 3, 3): every frame's Frame.mask_to_color homography, kept per scene."""
    if "mask_to_colour" not in ctx.scene_memo:
        ctx.scene_memo["mask_to_colour"] = np.stack([f.mask_to_color() for f in ctx.scene.frames]).reshape(-1, 3, 3)
    return ctx.scene_memo["mask_to_colour"]


def _to_colour_1000(ctx: TaskContext, frames: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Points (N, 2) on the mask grid of frames (N,) -> integers in 0-1000 of each colour image,
    as FORMATS.md fixes, through each frame's Frame.mask_to_color homography."""
    homography, sizes = _homographies(ctx), _colour_sizes(ctx)
    xy = np.asarray(xy, dtype=float)
    homog = (homography[frames] @ np.concatenate([xy, np.ones((len(xy), 1))], axis=1)[..., None])[..., 0]
    colour = homog[:, :2] / homog[:, 2:3]
    return np.clip(np.rint(colour / sizes[frames] * 1000.0), 0, 1000).astype(int)
