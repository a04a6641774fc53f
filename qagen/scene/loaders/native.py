"""The native layout (FORMATS.md section 1): scene.json plus ScanNet-style exported frames.

The frame half of the layout (color/ depth/ pose/ intrinsic/ and an instance folder) is exactly
what ScanNet's SensReader exports, so `read_frames` is shared with the ScanNet loader.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from qagen.errors import InputError
from qagen.scene import io
from qagen.scene.model import Box, Frame, Room, Scene, SceneObject

SCENE_FILE = "scene.json"
COLOR_SUFFIXES = (".jpg", ".jpeg", ".png")

# ---------------------------------------------------------------- scene.json schema

PositiveFloat = Annotated[float, Field(gt=0)]
Vector3 = tuple[float, float, float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class BoxSpec(_Strict):
    center: Vector3
    size: tuple[PositiveFloat, PositiveFloat, PositiveFloat]
    rotation: tuple[Vector3, Vector3, Vector3]

    @field_validator("rotation")
    @classmethod
    def _proper_rotation(cls, rotation):
        problem = io.rotation_problem(np.array(rotation))
        if problem is not None:
            raise ValueError(problem)
        return rotation


class ObjectSpec(_Strict):
    id: Annotated[int, Field(ge=1)]  # 0 means "no object" in instance masks
    label: Annotated[str, Field(min_length=1)]
    box: Optional[BoxSpec] = None


class RoomSpec(_Strict):
    floor_polygon: Annotated[list[tuple[float, float]], Field(min_length=3)]
    height: PositiveFloat


class SceneSpec(_Strict):
    id: Annotated[str, Field(min_length=1)]
    source: Annotated[str, Field(min_length=1)]
    objects: list[ObjectSpec]
    up: Vector3 = (0.0, 0.0, 1.0)
    metric: bool = True
    depth_scale: PositiveFloat = 1000.0
    license: Optional[str] = None
    room: Optional[RoomSpec] = None

    @field_validator("up")
    @classmethod
    def _z_up(cls, up):
        if tuple(up) != (0.0, 0.0, 1.0):
            raise ValueError("native scenes must be +Z up ([0, 0, 1]); rotate the data before writing it")
        return up

    @model_validator(mode="after")
    def _unique_object_ids(self):
        counts = Counter(obj.id for obj in self.objects)
        repeated = sorted(object_id for object_id, n in counts.items() if n > 1)
        if repeated:
            raise ValueError(f"object ids must be unique, repeated: {repeated}")
        return self


def _box(spec: BoxSpec) -> Box:
    return Box(center=np.array(spec.center), size=np.array(spec.size), rotation=np.array(spec.rotation))


def spec_objects(spec: SceneSpec) -> list[SceneObject]:
    """The objects a scene.json describes (also used by layouts that borrow scene.json for boxes)."""
    return [
        SceneObject(id=obj.id, label=obj.label, box=_box(obj.box) if obj.box is not None else None)
        for obj in spec.objects
    ]


def spec_room(spec: SceneSpec) -> Optional[Room]:
    if spec.room is None:
        return None
    return Room(floor_polygon=np.array(spec.room.floor_polygon, dtype=float), height=spec.room.height)


# ---------------------------------------------------------------- frames


def numbered_files(folder: Path, suffixes: tuple[str, ...], kind: str) -> dict[int, Path]:
    """Files `<integer><suffix>` in `folder`, keyed by frame number whatever the zero padding.

    Other suffixes and hidden files (`._7.jpg` from macOS) are ignored; a matching file whose stem
    is not an integer, or two files with the same number (`7.jpg` and `007.jpg`), is an error.
    """
    found: dict[int, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in suffixes or path.name.startswith(".") or not path.is_file():
            continue
        if not (path.stem.isascii() and path.stem.isdigit()):
            raise InputError(path, f"{kind} file names must be frame numbers, e.g. 000120{path.suffix}")
        number = int(path.stem)
        if number in found:
            raise InputError(path, f"frame {number} has two {kind} files: {found[number].name} and {path.name}")
        found[number] = path
    return found


def _required_folder(folder: Path, kind: str) -> Path:
    if not folder.is_dir():
        raise InputError(folder, f"{kind} folder is missing")
    return folder


def scaled_intrinsics(K: np.ndarray, from_size: io.Size, to_size: io.Size) -> np.ndarray:
    """K of the same camera after resizing its image from `from_size` to `to_size` (W, H).

    Pixel (c, r) covers [c, c+1) x [r, r+1) (qagen's convention, see geometry/projection.py), so
    resizing scales the first two rows of K and nothing else.
    """
    return np.diag([to_size[0] / from_size[0], to_size[1] / from_size[1], 1.0]) @ K


def _check_principal_point(K: np.ndarray, K_path: Path, size: io.Size, image: Path, kind: str) -> None:
    """Real principal points sit near the image centre; one far from it means K is for another size."""
    cx, cy = K[0, 2], K[1, 2]
    if abs(cx - size[0] / 2) > size[0] / 4 or abs(cy - size[1] / 2) > size[1] / 4:
        raise InputError(
            K_path,
            f"principal point ({cx:g}, {cy:g}) suits an image of about {2 * cx:.0f}x{2 * cy:.0f}, "
            f"but the {kind} image {image} is {size[0]}x{size[1]}",
        )


def _check_same_size(path: Path, kind: str, reference: Path, size: io.Size) -> None:
    actual = io.image_size(path)
    if actual != size:
        raise InputError(path, f"{kind} is {actual[0]}x{actual[1]} but {reference} is {size[0]}x{size[1]}")


def read_frames(
    scene_dir: Path,
    *,
    instance_folder: str,
    depth_intrinsics_required: bool,
    color_folder: str = "color",
    depth_folder: str = "depth",
) -> tuple[list[Frame], dict[str, int]]:
    """Frames of a ScanNet-style export, sorted by frame number, and skipped-frame counts by reason.

    A frame is a numbered pose file; it needs a colour and a depth image of that number. Image
    sizes come from the first frame's headers and every other frame's headers must agree. Poses
    with non-finite values are skipped and counted; images without a pose are counted. Layouts
    that rename the image folders (SPAR's image_color/, image_depth/) say so with the folder names.
    """
    poses = numbered_files(_required_folder(scene_dir / "pose", "pose"), (".txt",), "pose")
    if not poses:
        raise InputError(scene_dir / "pose", "pose folder has no numbered .txt files")
    colors = numbered_files(_required_folder(scene_dir / color_folder, "colour"), COLOR_SUFFIXES, "colour image")
    depths = numbered_files(_required_folder(scene_dir / depth_folder, "depth"), (".png",), "depth image")
    instance_dir = scene_dir / instance_folder
    instances = numbered_files(instance_dir, (".png",), "instance mask") if instance_dir.is_dir() else None

    skipped = Counter({"missing_pose": len((set(colors) | set(depths)) - set(poses))})
    valid: list[tuple[int, np.ndarray]] = []
    for number in sorted(poses):
        try:
            valid.append((number, io.read_pose(poses[number])))
        except io.InvalidPose:
            skipped["invalid_pose"] += 1
    skipped_frames = {reason: n for reason, n in sorted(skipped.items()) if n > 0}
    if not valid:
        return [], skipped_frames

    def frame_file(files: dict[int, Path], number: int, kind: str) -> Path:
        if number not in files:
            raise InputError(poses[number], f"frame {number} has this pose but no {kind}")
        return files[number]

    first = valid[0][0]
    first_color, first_depth = frame_file(colors, first, "colour image"), frame_file(depths, first, "depth image")
    color_size, depth_size = io.image_size(first_color), io.image_size(first_depth)
    K_color_path = scene_dir / "intrinsic" / "intrinsic_color.txt"
    K_depth_path = scene_dir / "intrinsic" / "intrinsic_depth.txt"
    K_color = io.read_intrinsics(K_color_path)
    _check_principal_point(K_color, K_color_path, color_size, first_color, "colour")
    if depth_intrinsics_required or K_depth_path.exists():
        K_depth = io.read_intrinsics(K_depth_path)
        _check_principal_point(K_depth, K_depth_path, depth_size, first_depth, "depth")
    else:
        K_depth = K_color if depth_size == color_size else scaled_intrinsics(K_color, color_size, depth_size)

    frames = []
    for number, c2w in valid:
        color_path = frame_file(colors, number, "colour image")
        depth_path = frame_file(depths, number, "depth image")
        _check_same_size(color_path, "colour image", first_color, color_size)
        _check_same_size(depth_path, "depth image", first_depth, depth_size)
        instance_path = None
        if instances is not None:
            instance_path = frame_file(instances, number, f"instance mask in {instance_dir}")
            mask_size = io.image_size(instance_path)
            if mask_size not in (depth_size, color_size):
                raise InputError(instance_path, f"instance mask is {mask_size[0]}x{mask_size[1]} but {depth_path} is "
                                                f"{depth_size[0]}x{depth_size[1]} and {color_path} is {color_size[0]}x{color_size[1]}")
        frames.append(
            Frame(
                index=number,
                c2w=c2w,
                K_color=K_color,
                color_size=color_size,
                color_path=color_path,
                depth_path=depth_path,
                K_depth=K_depth,
                depth_size=depth_size,
                instance_path=instance_path,
                instance_on_color=instance_path is not None and mask_size != depth_size,
            )
        )
    return frames, skipped_frames


# ---------------------------------------------------------------- loader


def is_native_scene(folder: Path) -> bool:
    return (folder / SCENE_FILE).is_file()


def find_native_scenes(root: Path) -> list[Path]:
    """`root` itself when it is a scene folder, else its scene sub-folders, sorted by name.

    Hidden folders are skipped: writers stage unfinished scenes in them.
    """
    if is_native_scene(root):
        return [root]
    return sorted(
        child for child in root.iterdir() if not child.name.startswith(".") and child.is_dir() and is_native_scene(child)
    )


def load_native(scene_dir: Path) -> Scene:
    spec = io.read_json_model(scene_dir / SCENE_FILE, SceneSpec, "scene description")
    frames, skipped = read_frames(scene_dir, instance_folder="instance", depth_intrinsics_required=False)
    return Scene(
        id=spec.id,
        source=spec.source,
        root=scene_dir,
        frames=frames,
        objects=spec_objects(spec),
        up=spec.up,
        metric=spec.metric,
        depth_scale=spec.depth_scale,
        instance_offset=0,
        room=spec_room(spec),
        license=spec.license,
        skipped_frames=skipped,
    )
