"""Scene meta-info (FORMATS.md section 4): object-level ground truth without frames, e.g. VSI-Bench's
`*_meta_info_val.json`, one file holding many scenes.

Scene pointers. The pipeline hands loaders one `Path` per scene; a meta-info scene is named by
its file and its key in that file, joined by `#`: `Path("scannet_meta_info_val.json#scene0000_00")`
(`scene_pointer` builds one, `split_pointer` reads one). Everything after the first `#` of the
last path component is the scene id. `find_metainfo_scenes` returns one pointer per scene of a
file, or of every `*meta_info*.json` in a folder.

Conventions of the data (metres, +Z up) are kept as they are. Each box's `normalizedAxes` rows are
its axes, so its rotation is `reshape(3, 3).T`; a left-handed axis triple describes the same box
with one axis negated, so it is accepted with its last axis flipped and counted. Object ids are
1, 2, ... in file order: labels in the order `object_bbox` lists them, boxes in list order.
No floor polygon is given, only `room_size` (m2), carried as `Scene.room_area`. Where
`object_counts` disagrees with the boxes of a label, the boxes are the objects and the label is
counted in `Scene.load_warnings["object_count_mismatch"]`.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import numpy as np
import pydantic
from pydantic import BaseModel, ConfigDict, Field

from qagen.errors import InputError
from qagen.scene import io
from qagen.scene.model import Box, Scene, SceneObject

SOURCE = "metainfo"
POINTER_SEPARATOR = "#"
FILE_PATTERN = "*meta_info*.json"
BOUNDS_TOLERANCE_M = 0.01  # how far min/max may stick out of the oriented box's axis-aligned bounds

Vector3 = tuple[float, float, float]
PositiveFloat = Annotated[float, Field(gt=0)]


class _Lenient(BaseModel):
    """Released files carry more keys than qagen needs; the types of the keys it reads are strict."""

    model_config = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False, frozen=True)


class MetaBox(_Lenient):
    centroid: Vector3
    axesLengths: tuple[PositiveFloat, PositiveFloat, PositiveFloat]
    normalizedAxes: Annotated[list[float], Field(min_length=9, max_length=9)]
    min: Vector3
    max: Vector3


class MetaScene(_Lenient):
    dataset: str
    video_path: str
    room_size: PositiveFloat
    room_center: Vector3
    object_counts: dict[str, Annotated[int, Field(ge=0)]]
    object_bbox: dict[str, list[MetaBox]]


# ---------------------------------------------------------------- pointers


def scene_pointer(meta_file: Path, scene_id: str) -> Path:
    return meta_file.with_name(f"{meta_file.name}{POINTER_SEPARATOR}{scene_id}")


def split_pointer(pointer: Path) -> tuple[Path, str]:
    """(meta-info file, scene id) of a pointer made by `scene_pointer`."""
    name, separator, scene_id = pointer.name.partition(POINTER_SEPARATOR)
    if not separator or not scene_id or not name.endswith(".json"):
        raise InputError(pointer, f"a meta-info scene is named <file>.json{POINTER_SEPARATOR}<scene id>")
    return pointer.with_name(name), scene_id


def _read_scenes(path: Path) -> dict:
    """The file's scenes, parsed once per process for as long as the file is unchanged (one file
    holds every scene of a dataset; each scene pointer would otherwise parse it again)."""
    stat = path.stat() if path.is_file() else None
    return _parse_scenes(path, stat.st_mtime_ns if stat else None, stat.st_size if stat else None)


@lru_cache(maxsize=4)
def _parse_scenes(path: Path, mtime_ns, size) -> dict:
    try:
        content = json.loads(io.read_text(path, "meta-info"))
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON ({exc})") from None
    if not isinstance(content, dict):
        raise InputError(path, f"meta-info must be an object of scene id -> scene, found a {type(content).__name__}")
    return content


def find_metainfo_scenes(root: Path) -> list[Path]:
    """One pointer per scene of `root` (a meta-info file) or of each `*meta_info*.json` in it."""
    if root.is_file():
        files = [root]
    else:
        files = sorted(p for p in root.glob(FILE_PATTERN) if not p.name.startswith(".") and p.is_file())
    return [scene_pointer(path, scene_id) for path in files for scene_id in sorted(_read_scenes(path))]


# ---------------------------------------------------------------- boxes


def _box(spec: MetaBox, where: str, path: Path) -> tuple[Box, bool]:
    """The oriented box, and whether its axes were left-handed (last axis flipped)."""
    rotation = np.array(spec.normalizedAxes, dtype=float).reshape(3, 3).T
    reflected = bool(np.linalg.det(rotation) < 0)
    if reflected:
        rotation[:, 2] *= -1
    problem = io.rotation_problem(rotation)
    if problem is not None:
        raise InputError(path, f"{where}.normalizedAxes: {problem}")
    box = Box(center=np.array(spec.centroid), size=np.array(spec.axesLengths), rotation=rotation)
    low, high = np.array(spec.min), np.array(spec.max)
    if (low > high).any():
        raise InputError(path, f"{where}: min {list(spec.min)} exceeds max {list(spec.max)}; are they swapped?")
    corners = box.corners()
    outside = (low < corners.min(axis=0) - BOUNDS_TOLERANCE_M) | (high > corners.max(axis=0) + BOUNDS_TOLERANCE_M)
    if outside.any():
        raise InputError(
            path,
            f"{where}: min/max {list(spec.min)}, {list(spec.max)} reach outside the box given by centroid, "
            f"axesLengths and normalizedAxes (its bounds are {corners.min(axis=0).round(4).tolist()}, "
            f"{corners.max(axis=0).round(4).tolist()})",
        )
    return box, reflected


def _count_mismatches(scene: MetaScene) -> int:
    labels = set(scene.object_counts) | set(scene.object_bbox)
    return sum(1 for label in labels if scene.object_counts.get(label, 0) != len(scene.object_bbox.get(label, [])))


# ---------------------------------------------------------------- loader


def load_metainfo(pointer: Path) -> Scene:
    """Load the scene a `<file>.json#<scene id>` pointer names."""
    path, scene_id = split_pointer(pointer)
    scenes = _read_scenes(path)
    if scene_id not in scenes:
        raise InputError(path, f"has no scene {scene_id!r} ({len(scenes)} scenes in the file)")
    try:
        scene = MetaScene.model_validate_json(json.dumps(scenes[scene_id]))  # JSON mode: arrays fill tuples
    except pydantic.ValidationError as exc:
        raise InputError(path, f"scene {scene_id!r}: {io.describe_validation_error(exc)}") from None

    objects, reflected = [], 0
    for label, boxes in scene.object_bbox.items():
        if not label:
            raise InputError(path, f"scene {scene_id!r}: object_bbox has an empty label")
        for k, spec in enumerate(boxes):
            box, flipped = _box(spec, f"scene {scene_id!r} object_bbox.{label}[{k}]", path)
            reflected += flipped
            objects.append(SceneObject(id=len(objects) + 1, label=label, box=box))
    warnings = {"object_count_mismatch": _count_mismatches(scene), "reflected_box_axes": reflected}
    return Scene(
        id=scene_id,
        source=SOURCE,
        root=pointer,
        frames=[],
        objects=objects,
        metric=True,
        room_area=scene.room_size,
        load_warnings={reason: n for reason, n in warnings.items() if n > 0},
    )
