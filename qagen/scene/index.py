"""SceneIndex: the lifted, columnar per (frame, object) observation table that samplers query.

Built once per scene by reading every frame's depth and instance mask (decoded in a thread pool,
overlapping the lifting of the previous batch) and reducing them with `lift_frames`. Samplers
never touch pixels again: they ask which rows are visible in a frame, or in which frames an object
is visible, and read the columns of those rows.
"""
from __future__ import annotations

import copy
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from qagen.errors import InputError
from qagen.geometry.lifting import (
    ExtentGrid,
    extent_histograms,
    frame_depth_median,
    lift_frames,
    mask_boxes,
    resolve_device,
    robust_extents,
)
from qagen.geometry.boxes3d import label_points_in_boxes
from qagen.geometry.projection import backproject_pixels, box_truncation
from qagen.scene.io import instance_table, read_frame_depth, read_instance, read_instance_values, resample_by_homography
from qagen.scene.model import Box, Frame, Scene

REFERENCE_AREA = 640 * 480  # min_pixels is given at this mask area and scaled with the real one
FUSE_MARGIN_M = 20.0  # fused-extent histograms span the camera centres +- this on every axis
FUSE_BIN_M = 0.01
FUSE_QUANTILES = (0.02, 0.98)
PREFETCH_BATCHES = 2
DEPTH_MAPS_KEPT = 6  # whole depth maps the index keeps for the tasks that read pixels

COLUMNS = {
    "frame": np.int64, "frame_index": np.int64, "object": np.int64, "pixels": np.int64, "valid_pixels": np.int64,
    "x1": np.int32, "y1": np.int32, "x2": np.int32, "y2": np.int32,
    "cx": np.float64, "cy": np.float64, "cz": np.float64,
    "minx": np.float64, "miny": np.float64, "minz": np.float64, "maxx": np.float64, "maxy": np.float64, "maxz": np.float64,
    "depth_median": np.float64, "truncation": np.float64,
    "marker_x": np.float32, "marker_y": np.float32, "centre_on_mask": np.bool_,
    # the tight mask box on the colour grid, in its pixels (x2, y2 exclusive), where the mask is given
    # there (ScanNet): finer than the lifting grid, which can miss thin parts; NaN elsewhere
    "color_x1": np.float32, "color_y1": np.float32, "color_x2": np.float32, "color_y2": np.float32,
}  # fmt: skip


@dataclass
class SceneIndex:
    """One row per (frame, object) with pixels > 0, sorted by frame then object order in the scene."""

    obs: dict[str, np.ndarray]  # COLUMNS -> equal-length arrays
    mask_size: np.ndarray  # (F, 2) int: (W, H) of each frame's depth / instance grid
    boxes: dict[int, Box]  # annotated or fused; objects never seen with valid depth have none
    fused: set[int]  # ids whose box was fused from lifted points
    frame_depth_median: np.ndarray | None = None  # (F,) per frame; None when no pixels were read
    # kept_depth_frames -> depth (0 invalid); None in a copy sent without them (without_depth_maps)
    depth_maps: dict[int, np.ndarray] | None = field(default_factory=dict)
    _frame_start: np.ndarray = field(init=False, repr=False)
    _object_rows: dict[int, np.ndarray] = field(init=False, repr=False)
    _visible: dict[tuple, np.ndarray] = field(init=False, repr=False)  # memo: samplers ask the same again

    def __post_init__(self) -> None:
        self._visible = {}
        frames = self.obs["frame"]
        self._frame_start = np.searchsorted(frames, np.arange(len(self.mask_size) + 1))
        objects = self.obs["object"]
        order = np.argsort(objects, kind="stable")
        ids, starts = np.unique(objects[order], return_index=True)
        self._object_rows = dict(zip(ids.tolist(), np.split(order, starts[1:]))) if ids.size else {}

    def __len__(self) -> int:
        return len(self.obs["frame"])

    @classmethod
    def build(cls, scene: Scene, *, device: str = "auto", batch_size: int = 32, workers: int | None = None) -> "SceneIndex":
        """Lift every frame of `scene`: one pass, or two when some objects need their box fused."""
        if not scene.objects:  # nothing to observe (e.g. a SpatialVID clip): no pixels are read
            empty = {name: np.empty(0, dtype=dtype) for name, dtype in COLUMNS.items()}
            mask_size = np.array([f.depth_grid()[1] for f in scene.frames], dtype=np.int64).reshape(-1, 2)
            return cls(obs=empty, mask_size=mask_size, boxes={}, fused=set())
        no_depth = [f.index for f in scene.frames if f.depth_path is None]
        if no_depth:
            raise InputError(scene.root, f"the scene index needs depth; frame {no_depth[0]} has none")
        unmasked = [f.index for f in scene.frames if f.instance_path is None]
        if unmasked and any(o.box is None for o in scene.objects):
            raise InputError(scene.root, f"frame {unmasked[0]} has no instance mask and not every object has a box: "
                                         "visibility needs one or the other")
        device = resolve_device(device)
        object_ids = np.array([o.id for o in scene.objects], dtype=np.int64)
        boxes = {o.id: o.box for o in scene.objects if o.box is not None}
        unboxed = np.array([o.id for o in scene.objects if o.box is None], dtype=np.int64)
        workers = workers or min(8, max(2, os.cpu_count() or 1))
        with ThreadPoolExecutor(workers) as pool:
            if unboxed.size:
                boxes.update(_fuse_boxes(scene, unboxed, pool, device, batch_size))
            centres = np.array([boxes[i].center if i in boxes else (np.nan,) * 3 for i in object_ids.tolist()], float)
            obs, medians, depth_maps = _observe(scene, object_ids, centres, pool, device, batch_size)
        mask_size = np.array([f.depth_grid()[1] for f in scene.frames], dtype=np.int64).reshape(-1, 2)
        obs["truncation"] = _truncation(scene, obs, boxes, mask_size)
        obs = {name: obs[name] for name in COLUMNS}
        return cls(obs=obs, mask_size=mask_size, boxes=boxes, fused=set(unboxed.tolist()) & set(boxes),
                   frame_depth_median=medians, depth_maps=depth_maps)

    def without_depth_maps(self) -> "SceneIndex":
        """A shallow copy without the kept depth maps and with no memos: what a process sampling
        tasks that read no pixels needs, at about 1 % of the bytes to send."""
        light = copy.copy(self)
        light.depth_maps, light._visible = None, {}
        return light

    def visible(self, frame_pos: int, min_pixels: int = 400, max_truncation: float = 0.3) -> np.ndarray:
        """Rows of frame `frame_pos` whose object is visible (TASKS.md): enough pixels at the
        reference area, truncation below `max_truncation`, and a placeable marker."""
        key = (int(frame_pos), min_pixels, max_truncation)
        if key not in self._visible:
            rows = np.arange(self._frame_start[frame_pos], self._frame_start[frame_pos + 1])
            visible = rows[self._visible_mask(rows, min_pixels, max_truncation)]
            visible.setflags(write=False)
            self._visible[key] = visible
        return self._visible[key]

    def rows_for_object(self, object_id: int) -> np.ndarray:
        """All rows of `object_id`, in frame order."""
        return self._object_rows.get(int(object_id), np.empty(0, dtype=np.int64))

    def visible_frames(self, object_id: int, min_pixels: int = 400, max_truncation: float = 0.3) -> np.ndarray:
        """Frame positions where `object_id` is visible, ascending."""
        rows = self.rows_for_object(object_id)
        return self.obs["frame"][rows[self._visible_mask(rows, min_pixels, max_truncation)]]

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame(self.obs, columns=list(COLUMNS))

    def _visible_mask(self, rows: np.ndarray, min_pixels: int, max_truncation: float) -> np.ndarray:
        size = self.mask_size[self.obs["frame"][rows]]
        needed = min_pixels * (size[:, 0] * size[:, 1]) / REFERENCE_AREA
        return (
            (self.obs["pixels"][rows] >= needed)
            & (self.obs["truncation"][rows] < max_truncation)
            & np.isfinite(self.obs["marker_x"][rows])
        )


def kept_depth_frames(n_frames: int) -> np.ndarray:
    """Positions of the DEPTH_MAPS_KEPT frames, spread evenly over the capture, whose whole depth
    the index keeps: pixel tasks ask about these frames only, and need not decode them again."""
    return np.unique(np.linspace(0, n_frames - 1, min(n_frames, DEPTH_MAPS_KEPT)).round().astype(int))


class _DenseIds:
    """Object ids, or the stored values of instance masks, to dense indices into `object_ids`
    (-1: no object, or one not among them). Masks go through one gather per frame; the table for
    their stored values is made once per value width (8- or 16-bit), not per frame."""

    def __init__(self, object_ids: np.ndarray, instance_offset: int):
        ids = object_ids[object_ids >= 0]
        self.by_id = np.full(int(ids.max(initial=-1)) + 3, -1, dtype=np.int32)  # id + 1 -> index; last entry: unknown
        self.by_id[ids + 1] = np.nonzero(object_ids >= 0)[0]
        self.object_ids = object_ids
        self.offset = instance_offset
        self._by_stored: dict[int, np.ndarray] = {}  # value width -> stored value -> index

    def from_ids(self, ids: np.ndarray, out: np.ndarray) -> None:
        ids += 1
        np.clip(ids, 0, len(self.by_id) - 1, out=ids)
        np.take(self.by_id, ids, out=out)

    def from_stored(self, stored: np.ndarray, out: np.ndarray) -> None:
        width = stored.dtype.itemsize
        if width not in self._by_stored:  # threads may both build it: the same table either way
            ids = instance_table(self.offset, width) + 1
            self._by_stored[width] = self.by_id[np.clip(ids, 0, len(self.by_id) - 1)]
        np.take(self._by_stored[width], stored, out=out)

    def boxes(self, ids: np.ndarray, out: np.ndarray) -> None:
        """The tight box of every object in a mask of object ids, into `out` (O, 4) in dense order."""
        by_id = mask_boxes(ids, len(self.by_id) - 2)  # ids 0 .. the largest known
        known = self.object_ids >= 0
        out[known] = by_id[self.object_ids[known]]


def _read_into(scene: Scene, frame: Frame, dense: _DenseIds, depth_out: np.ndarray, ids_out: np.ndarray,
               median_out: np.ndarray, color_boxes_out: np.ndarray) -> None:
    """Decode one frame straight into its slot of the batch (threads copy in parallel, not the
    lifter), and take its depth median while the depth is at hand (one element of `median_out`);
    a mask on the colour grid also gives its boxes there (`color_boxes_out`, (O, 4))."""
    size = frame.depth_grid()[1]
    depth_out[...] = read_frame_depth(frame, scene.depth_scale, size)
    median_out[0] = frame_depth_median(depth_out)
    if frame.instance_path is None:
        dense.from_ids(_ids_from_boxes(scene, frame, depth_out), ids_out)
    elif frame.instance_on_color:
        stored = read_instance(frame.instance_path, scene.instance_offset, tuple(frame.color_size))
        dense.from_ids(resample_by_homography(stored, frame.mask_to_color(), size), ids_out)
        dense.boxes(stored, color_boxes_out)
    else:
        dense.from_stored(read_instance_values(frame.instance_path, size), ids_out)


def _ids_from_boxes(scene: Scene, frame: Frame, depth: np.ndarray) -> np.ndarray:
    """Object ids per pixel from the boxes the lifted depth points fall in (no instance mask)."""
    K, (W, H) = frame.depth_grid()
    rows, cols = np.nonzero(depth > 0)
    points = backproject_pixels(cols, rows, depth[rows, cols], K, frame.c2w)
    objects = scene.objects
    inside = label_points_in_boxes(points, np.array([o.box.center for o in objects]),
                                   np.array([o.box.rotation for o in objects]), np.array([o.box.size for o in objects]))
    ids = np.full((H, W), -1, dtype=np.int32)
    ids[rows, cols] = np.where(inside >= 0, np.array([o.id for o in objects])[inside], -1)
    return ids


def _batches(scene: Scene, object_ids: np.ndarray, pool: ThreadPoolExecutor, batch_size: int) -> Iterator[tuple]:
    """(frame positions, depth, dense ids into `object_ids`, K, c2w, depth medians, colour-grid
    boxes (NaN without a colour-grid mask)) per batch of same-size frames, read ahead in `pool`."""
    dense = _DenseIds(object_ids, scene.instance_offset)
    spans: list[list[int]] = []
    for pos, frame in enumerate(scene.frames):
        if spans and len(spans[-1]) < batch_size and scene.frames[spans[-1][0]].depth_grid()[1] == frame.depth_grid()[1]:
            spans[-1].append(pos)
        else:
            spans.append([pos])
    pending: deque = deque()
    upcoming = iter(spans)

    def submit_next() -> None:
        positions = next(upcoming, None)
        if positions is None:
            return
        W, H = scene.frames[positions[0]].depth_grid()[1]
        depth, ids = np.empty((len(positions), H, W), np.float32), np.empty((len(positions), H, W), np.int32)
        medians = np.empty(len(positions))
        color_boxes = np.full((len(positions), len(object_ids), 4), np.nan)
        reads = [pool.submit(_read_into, scene, scene.frames[p], dense, depth[i], ids[i], medians[i:i + 1],
                             color_boxes[i]) for i, p in enumerate(positions)]
        pending.append((np.array(positions), depth, ids, medians, color_boxes, reads))

    for _ in range(PREFETCH_BATCHES):
        submit_next()
    while pending:
        positions, depth, ids, medians, color_boxes, reads = pending.popleft()
        submit_next()
        for read in reads:
            read.result()
        frames = [scene.frames[p] for p in positions]
        K = np.stack([f.depth_grid()[0] for f in frames]).astype(float)
        yield positions, depth, ids, K, np.stack([f.c2w for f in frames]).astype(float), medians, color_boxes


def _fuse_boxes(scene: Scene, unboxed: np.ndarray, pool, device: str, batch_size: int) -> dict[int, Box]:
    """Axis-aligned boxes from the 2-98 % quantiles of each unboxed object's lifted points over all frames."""
    camera_centres = np.array([f.c2w[:3, 3] for f in scene.frames], dtype=float)
    grid = ExtentGrid.covering(camera_centres.min(0) - FUSE_MARGIN_M, camera_centres.max(0) + FUSE_MARGIN_M, FUSE_BIN_M)
    hist = np.zeros((unboxed.size, 3, grid.n_bins), dtype=np.int64)
    for _, depth, ids, K, c2w, _, _ in _batches(scene, unboxed, pool, batch_size):
        hist += extent_histograms(depth, ids, K, c2w, unboxed.size, grid, device=device)
    lo, hi = robust_extents(hist, grid, *FUSE_QUANTILES)
    return {
        int(oid): Box(center=(lo[i] + hi[i]) / 2, size=hi[i] - lo[i], rotation=np.eye(3))
        for i, oid in enumerate(unboxed)
        if np.isfinite(lo[i]).all()
    }


def _observe(scene: Scene, object_ids: np.ndarray, centres: np.ndarray, pool, device: str,
             batch_size: int) -> tuple[dict[str, np.ndarray], np.ndarray, dict[int, np.ndarray]]:
    """The observation columns (all but truncation), every frame's depth median, the kept depth maps."""
    frame_indices = np.array([f.index for f in scene.frames], dtype=np.int64)
    frame_medians = np.full(len(scene.frames), np.nan)
    keep, depth_maps = set(kept_depth_frames(len(scene.frames)).tolist()), {}
    parts = []
    batches = _batches(scene, object_ids, pool, batch_size) if object_ids.size else ()
    for positions, depth, ids, K, c2w, medians, color_boxes in batches:
        frame_medians[positions] = medians
        depth_maps.update({int(p): depth[i].copy() for i, p in enumerate(positions) if p in keep})
        stats = lift_frames(depth, ids, K, c2w, centres, device=device)
        b, o = np.nonzero(stats.pixels > 0)
        bbox = stats.bbox[b, o]
        frame_pos = positions[b]
        parts.append({
            "frame": frame_pos,
            "frame_index": frame_indices[frame_pos],
            "object": object_ids[o],
            "pixels": stats.pixels[b, o],
            "valid_pixels": stats.valid_pixels[b, o],
            **{name: bbox[:, i] for i, name in enumerate(("x1", "y1", "x2", "y2"))},
            **_xyz(("cx", "cy", "cz"), stats.centroid[b, o]),
            **_xyz(("minx", "miny", "minz"), stats.pmin[b, o]),
            **_xyz(("maxx", "maxy", "maxz"), stats.pmax[b, o]),
            "depth_median": stats.depth_median[b, o],
            "marker_x": stats.marker_xy[b, o, 0],
            "marker_y": stats.marker_xy[b, o, 1],
            "centre_on_mask": stats.centre_on_mask[b, o],
            **{name: color_boxes[b, o, i] for i, name in enumerate(("color_x1", "color_y1", "color_x2", "color_y2"))},
        })  # fmt: skip
    columns = {
        name: np.concatenate([p[name] for p in parts]).astype(dtype) if parts else np.empty(0, dtype)
        for name, dtype in COLUMNS.items()
        if name != "truncation"
    }
    return columns, frame_medians, depth_maps


def _xyz(names: tuple[str, str, str], values: np.ndarray) -> dict[str, np.ndarray]:
    return {name: values[:, i] for i, name in enumerate(names)}


def _truncation(scene: Scene, obs: dict[str, np.ndarray], boxes: dict[int, Box], mask_size: np.ndarray) -> np.ndarray:
    """Truncation of every row's box in its frame, in one vectorised projection (NaN without a box)."""
    if len(obs["frame"]) == 0:
        return np.empty(0)
    object_ids = np.unique(obs["object"])
    corners = np.stack([boxes[i].corners() if i in boxes else np.full((8, 3), np.nan) for i in object_ids.tolist()])
    K = np.stack([f.depth_grid()[0] for f in scene.frames]).astype(float)
    c2w = np.stack([f.c2w for f in scene.frames]).astype(float)
    frame = obs["frame"]
    return box_truncation(corners[np.searchsorted(object_ids, obs["object"])], K[frame], c2w[frame], mask_size[frame])
