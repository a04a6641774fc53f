"""VSI-Bench-style meta-info content written from a synthetic World's boxes (FORMATS.md section 4),
for the meta-info loader's tests and the scene-level task tests."""
from __future__ import annotations

import math

import numpy as np

from qagen.scene.model import Box

TILT_DEG = 20.0
ROOM_SIZE = 23.75


def tilted(box: Box) -> Box:
    """The box turned about world X (as most ScanNet meta-info boxes are), around its centre."""
    c, s = math.cos(math.radians(TILT_DEG)), math.sin(math.radians(TILT_DEG))
    tilt = np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    return Box(center=box.center, size=box.size, rotation=tilt @ box.rotation)


def box_entry(box: Box) -> dict:
    corners = box.corners()
    return {
        "centroid": box.center.tolist(),
        "axesLengths": box.size.tolist(),
        "normalizedAxes": box.rotation.T.ravel().tolist(),  # rows are the box axes
        "min": corners.min(axis=0).tolist(),
        "max": corners.max(axis=0).tolist(),
    }


def world_boxes(world) -> dict[str, list[Box]]:
    """label -> boxes in the world's object order, the first object tilted."""
    boxes: dict[str, list[Box]] = {}
    for k, obj in enumerate(world.objects):
        boxes.setdefault(obj.label, []).append(tilted(obj.box) if k == 0 else obj.box)
    return boxes


def meta_scene(boxes: dict[str, list[Box]], room_size: float = ROOM_SIZE) -> dict:
    """One scene's entry; object ids the loader gives are 1, 2, ... in this label-then-box order."""
    return {
        "dataset": "synthetic",
        "video_path": "videos/small.mp4",
        "room_size": room_size,
        "room_center": [1.0, 2.0, 0.0],
        "object_counts": {label: len(group) for label, group in boxes.items()},
        "object_bbox": {label: [box_entry(box) for box in group] for label, group in boxes.items()},
        "frames_used": [0, 8, 16],  # released files carry keys qagen does not read
    }
