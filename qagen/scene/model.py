"""The typed scene contract every loader returns.

Conventions (see FORMATS.md, held everywhere inside qagen): metres, right-handed world with +Z up,
OpenCV cameras (x right, y down, z forward), poses are 4x4 camera-to-world, intrinsics are 3x3 in
pixels of the image they belong to. Loaders convert into these; nothing downstream converts again.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Optional

import numpy as np

from qagen.scene.keyframes import keyframe_positions

CAPABILITIES = ("frames", "poses", "depth", "instances", "labels", "boxes", "metric", "room")


@dataclass(frozen=True)
class Box:
    """Oriented 3D box: `size` is the full extent along the box's own axes (columns of `rotation`)."""

    center: np.ndarray  # (3,)
    size: np.ndarray  # (3,)
    rotation: np.ndarray  # (3, 3), columns are the box axes in world coordinates

    def corners(self) -> np.ndarray:
        """The 8 corners in world coordinates, shape (8, 3)."""
        signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=float)
        return self.center + (signs * (self.size / 2.0)) @ self.rotation.T

    def vertical_extent(self) -> float:
        """Height: extent of the box along world Z."""
        return float(np.abs(self.rotation[2, :]) @ self.size)

    def horizontal_sides(self) -> tuple[float, float]:
        """(length, width): the longer and shorter horizontal side.

        For a box rotated only about Z these are the two horizontal axis sizes; for a tilted box,
        the two box axes that are most horizontal.
        """
        verticality = np.abs(self.rotation[2, :])
        horizontal_axes = np.argsort(verticality)[:2]
        a, b = (float(self.size[i]) for i in horizontal_axes)
        return (max(a, b), min(a, b))

    def sizes(self) -> dict[str, float]:
        """TASKS.md sizes in metres: height (vertical), length / width (longer / shorter horizontal side)."""
        return dict(self._sizes)

    @cached_property
    def _sizes(self) -> dict[str, float]:
        """sizes(), worked out once per box: size tasks ask about the same few boxes hundreds of times."""
        length, width = self.horizontal_sides()
        return {"height": self.vertical_extent(), "length": length, "width": width}

    def to_json(self) -> dict:
        return {
            "center": [float(v) for v in self.center],
            "size": [float(v) for v in self.size],
            "rotation": [[float(v) for v in row] for row in self.rotation],
        }


@dataclass(frozen=True)
class SceneObject:
    id: int
    label: str
    box: Optional[Box] = None  # scene-level annotation; None until fused from lifted points


@dataclass(frozen=True)
class Room:
    floor_polygon: np.ndarray  # (N, 2) in world XY, metres
    height: float

    def floor_area(self) -> float:
        x, y = self.floor_polygon[:, 0], self.floor_polygon[:, 1]
        return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


@dataclass(frozen=True)
class Frame:
    """One captured view. Pixel arrays are read lazily through `qagen.scene.io`."""

    index: int  # source frame index (what records report)
    c2w: np.ndarray  # (4, 4)
    K_color: np.ndarray  # (3, 3) in colour-image pixels
    color_size: tuple[int, int]  # (W, H)
    color_path: Optional[Path] = None
    depth_path: Optional[Path] = None
    K_depth: Optional[np.ndarray] = None  # (3, 3) in depth-image pixels
    depth_size: Optional[tuple[int, int]] = None  # (W, H)
    instance_path: Optional[Path] = None
    instance_on_color: bool = False  # mask on the colour grid (ScanNet's instance-filt), else on the depth grid
    timestamp: Optional[float] = None
    depth_format: str = "png16"  # how depth_path is decoded: a name in qagen.scene.io.DEPTH_READERS
    depth_member: Optional[str] = None  # the file inside depth_path when that is an archive (SpatialVID's zip)
    dynamic_mask_path: Optional[Path] = None  # masks of moving things (SpatialVID): their pixels read as invalid depth
    dynamic_mask_index: Optional[int] = None  # this frame's entry in dynamic_mask_path

    def depth_grid(self) -> tuple[np.ndarray, tuple[int, int]]:
        """K and (W, H) of the depth / instance grid; without K_depth, K_color scaled to that grid."""
        size = tuple(self.depth_size or self.color_size)
        if self.K_depth is not None:
            return self.K_depth, size
        return np.diag([size[0] / self.color_size[0], size[1] / self.color_size[1], 1.0]) @ self.K_color, size

    def mask_to_color(self) -> np.ndarray:
        """Homography from depth / instance grid pixels to colour pixels: the two share the optical
        centre, so it is K_color K_depth^-1."""
        return self.K_color @ np.linalg.inv(self.depth_grid()[0])


@dataclass
class Scene:
    id: str
    source: str
    root: Path  # scene folder; image paths in records are written relative to its parent
    frames: list[Frame]
    objects: list[SceneObject]
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    metric: bool = True
    depth_scale: float = 1000.0  # stored depth value / depth_scale = metres
    instance_offset: int = 0  # stored instance value - offset = object id (ScanNet: 1)
    room: Optional[Room] = None
    license: Optional[str] = None
    skipped_frames: dict[str, int] = field(default_factory=dict)  # reason -> count
    room_area: Optional[float] = None  # m2, when the source states the floor area but no polygon (meta-info)
    load_warnings: dict[str, int] = field(default_factory=dict)  # reason -> count of inconsistencies tolerated at load

    def object(self, object_id: int) -> SceneObject:
        return self._objects_by_id[object_id]

    def every(self, stride: int) -> "Scene":
        """The scene with every `stride`-th frame, the first kept: a dense capture (ScanNet exported
        at every frame) thinned to keyframes, between which the camera moves enough for frame gaps
        to mean what the tasks expect. Frames keep their indices, so records name the originals."""
        if stride < 1:
            raise ValueError(f"frame stride must be a positive integer, not {stride}")
        return self if stride == 1 else replace(self, frames=self.frames[::stride])

    def keyframes(self, stride: int | str = "auto") -> "Scene":
        """The scene thinned by `stride`, or with "auto" to the keyframes qagen.scene.keyframes
        chooses from its poses (frames keep their indices, so records name the originals)."""
        if stride != "auto":
            return self.every(int(stride))
        if not self.frames:
            return self
        kept = keyframe_positions(np.stack([f.c2w for f in self.frames]), self.metric)
        return self if len(kept) == len(self.frames) else replace(self, frames=[self.frames[i] for i in kept])

    @cached_property
    def _objects_by_id(self) -> dict[int, SceneObject]:
        return {obj.id: obj for obj in self.objects}

    @cached_property
    def image_names(self) -> tuple[Optional[str], ...]:
        """Each frame's colour image as records name it: relative to the folder above the scene."""
        return tuple(f.color_path.relative_to(self.root.parent).as_posix() if f.color_path else None
                     for f in self.frames)

    @property
    def capabilities(self) -> frozenset[str]:
        have = set()
        if self.frames:
            have.add("frames")
            have.add("poses")
            if all(f.depth_path is not None for f in self.frames):
                have.add("depth")
            if all(f.instance_path is not None for f in self.frames):
                have.add("instances")
        if self.objects:
            have.add("labels")
            if all(o.box is not None for o in self.objects):
                have.add("boxes")
        if self.metric:
            have.add("metric")
        if self.room is not None or self.room_area is not None:
            have.add("room")
        return frozenset(have)
