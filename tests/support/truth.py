"""Ground truth computed straight from a synthetic World with plain numpy — deliberately not with
qagen's own geometry code, so that the tests check qagen against an independent computation."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def world_object(world, object_id):
    return next(o for o in world.objects if o.id == object_id)


def centre(world, object_id) -> np.ndarray:
    return np.asarray(world_object(world, object_id).box.center, dtype=float)


def depth_in(world, object_id, frame) -> float:
    """Camera z of the object's box centre in the frame's camera."""
    pose = world.poses[frame]
    return float((pose[:3, :3].T @ (centre(world, object_id) - pose[:3, 3]))[2])


def camera_distance(world, object_id, frame) -> float:
    return float(np.linalg.norm(centre(world, object_id) - world.poses[frame][:3, 3]))


def viewer(world, frame) -> tuple[np.ndarray, np.ndarray]:
    """(right, forward) of the frame's camera on the horizontal plane."""
    forward = world.poses[frame][:3, 2].copy()
    forward[2] = 0.0
    forward /= np.linalg.norm(forward)
    return np.cross(forward, [0.0, 0.0, 1.0]), forward


def lower_median(values: np.ndarray) -> float:
    """Element (n - 1) // 2 of the sorted values: qagen's median of depths."""
    ordered = np.sort(np.asarray(values, dtype=float).ravel())
    return float(ordered[(ordered.size - 1) // 2])


def round_step(x: float, step: float = 0.1) -> float:
    return round(round(x / step) * step, 6)


def instance_mask(native_dir: Path, frame: int) -> np.ndarray:
    """The instance PNG the renderer wrote for a frame (object ids, 0 = none)."""
    return np.asarray(Image.open(Path(native_dir) / "instance" / f"{frame:06d}.png"))


def marker_on_object(marker: dict, mask: np.ndarray, object_id: int) -> bool:
    """A point marker's pixel belongs to the object; a box marker is the tight box of its mask."""
    H, W = mask.shape
    if marker["kind"] == "point":
        x, y = marker["xy"]
        return bool(mask[min(int(y / 1000 * H), H - 1), min(int(x / 1000 * W), W - 1)] == object_id)
    rows, cols = np.nonzero(mask == object_id)
    expected = [cols.min() / W * 1000, rows.min() / H * 1000, (cols.max() + 1) / W * 1000, (rows.max() + 1) / H * 1000]
    return bool(np.abs(np.subtract(marker["box"], expected)).max() <= 1)


def assert_objects_match_world(objects, world) -> None:
    """Loaded objects carry the World's ids, labels and exact boxes, in the World's order."""
    assert [(o.id, o.label) for o in objects] == [(o.id, o.label) for o in world.objects]
    for loaded, truth in zip(objects, world.objects):
        np.testing.assert_array_equal(loaded.box.center, truth.box.center)
        np.testing.assert_array_equal(loaded.box.size, truth.box.size)
        np.testing.assert_array_equal(loaded.box.rotation, truth.box.rotation)
