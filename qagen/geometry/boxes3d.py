"""Which oriented 3D box a point belongs to: per-frame visibility for scenes without instance masks
(FORMATS.md: "without it, per-frame visibility comes from projecting boxes against depth")."""
from __future__ import annotations

import numpy as np

SIDE_TOLERANCE_M = 0.02  # depth noise on the box's sides and top
BOTTOM_CLEARANCE_M = 0.01  # points this close above a box's bottom face belong to what it stands on


def label_points_in_boxes(points: np.ndarray, centers: np.ndarray, rotations: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Index of the smallest box containing each point (N,), -1 where none does.

    Boxes are (O, 3) centres, (O, 3, 3) rotations (columns = box axes) and (O, 3) full sizes. A
    point on the floor or a table top under an object is left to the surface it lies on: the
    lowest BOTTOM_CLEARANCE_M of each box (along world Z) does not count.
    """
    out = np.full(len(points), -1, dtype=np.int64)
    for o in np.argsort(np.prod(sizes, axis=1)):
        local = (points - centers[o]) @ rotations[o]
        inside = np.all(np.abs(local) <= sizes[o] / 2 + SIDE_TOLERANCE_M, axis=1)
        bottom = centers[o][2] - np.abs(rotations[o][2]) @ sizes[o] / 2
        inside &= points[:, 2] >= bottom + BOTTOM_CLEARANCE_M
        take = inside & (out < 0)
        out[take] = o
    return out
