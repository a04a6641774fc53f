"""Types of the procedural synthetic world (the embedded default and the tests' ground truth).

A `World` is the exact truth a scene is rendered from: object meshes and boxes, the room, the
camera path. Writers turn it into the native layout (and the ScanNet layout for tests), and the
loaders read those files back: no test takes a path around the loaders.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qagen.scene.model import Box, Room


@dataclass(frozen=True)
class WorldObject:
    id: int  # >= 1; 0 means "no object" in instance masks
    label: str
    box: Box
    vertices: np.ndarray  # (V, 3) float64 world coordinates of the object's surface mesh
    triangles: np.ndarray  # (T, 3) int32
    color: tuple[int, int, int]  # base RGB used for shading


@dataclass(frozen=True)
class Structure:
    """Floor, walls (and ceiling): rendered and written as ScanNet segGroups, never asked about."""

    label: str  # "floor", "wall", "ceiling"
    vertices: np.ndarray
    triangles: np.ndarray
    color: tuple[int, int, int]


@dataclass(frozen=True)
class World:
    scene_id: str
    room: Room
    objects: list[WorldObject]
    structure: list[Structure]
    K: np.ndarray  # (3, 3) intrinsics shared by colour and depth
    width: int
    height: int
    poses: list[np.ndarray]  # camera-to-world 4x4, OpenCV axes, one per frame
