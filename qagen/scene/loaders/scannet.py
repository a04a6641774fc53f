"""ScanNet (FORMATS.md section 2): `<root>/scans/<scene>/` as released, plus a SensReader export.

Objects are the aggregation's segGroups minus structure (walls, floors, ceilings); each box is the
axis-aligned box of the object's mesh vertices, in the axis-aligned frame when `<scene>.txt` gives
`axisAlignment` (the same transform is applied to every camera pose). Object ids are the
aggregation's 0-based `objectId`; instance-filt masks store `objectId + 1`.
"""
from __future__ import annotations

import csv
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict

from qagen.errors import InputError
from qagen.scene import io
from qagen.scene.loaders.native import read_frames
from qagen.scene.model import Box, Scene, SceneObject

STRUCTURE_LABELS = ("wall", "floor", "ceiling")
DEPTH_SCALE = 1000.0  # SensReader depth PNGs are millimetres
INSTANCE_OFFSET = 1  # instance-filt pixel value = objectId + 1
INSTANCE_FOLDER = "instance-filt"


def mesh_path(scene_dir: Path) -> Path:
    return scene_dir / f"{scene_dir.name}_vh_clean_2.ply"


def segments_path(scene_dir: Path) -> Path:
    return scene_dir / f"{scene_dir.name}_vh_clean_2.0.010000.segs.json"


def aggregation_path(scene_dir: Path) -> Path:
    return scene_dir / f"{scene_dir.name}.aggregation.json"


def meta_path(scene_dir: Path) -> Path:
    return scene_dir / f"{scene_dir.name}.txt"


# ---------------------------------------------------------------- annotation files


class _Lenient(BaseModel):
    """Released files carry more keys than qagen needs; types of the ones it reads are strict."""

    model_config = ConfigDict(extra="ignore", strict=True)


class SegGroup(_Lenient):
    objectId: int
    label: str
    segments: list[int]


class Aggregation(_Lenient):
    segGroups: list[SegGroup]


class Segmentation(_Lenient):
    segIndices: list[int]


def read_axis_alignment(path: Path) -> Optional[np.ndarray]:
    """The 4x4 `axisAlignment` from `<scene>.txt`, or None when the file or the line is absent."""
    if not path.exists():
        return None
    for line in io.read_text(path, "scene meta").splitlines():
        key, _, value = line.partition("=")
        if key.strip() != "axisAlignment":
            continue
        try:
            numbers = [float(token) for token in value.split()]
        except ValueError:
            raise InputError(path, "axisAlignment must be 16 numbers") from None
        if len(numbers) != 16:
            raise InputError(path, f"axisAlignment must be 16 numbers, found {len(numbers)}")
        alignment = np.array(numbers).reshape(4, 4)
        io.check_rigid(alignment, path, "axisAlignment")
        return alignment
    return None


def read_mesh_vertices(path: Path) -> np.ndarray:
    """Vertex positions (V, 3) in file order (no merging: segIndices index them)."""
    import trimesh  # here, not at module level: it costs ~0.4 s of start-up that only ScanNet needs

    if not path.is_file():
        raise InputError(path, "mesh file is missing")
    try:
        mesh = trimesh.load(path, process=False)
        vertices = np.asarray(mesh.vertices, dtype=np.float64)
    except Exception as exc:  # trimesh raises many unrelated types for a broken file
        raise InputError(path, f"mesh is not a readable PLY ({type(exc).__name__}: {exc})") from None
    if vertices.ndim != 2 or vertices.shape[1] != 3 or len(vertices) == 0:
        raise InputError(path, "mesh has no vertices")
    if not np.isfinite(vertices).all():
        raise InputError(path, "mesh has non-finite vertex coordinates")
    return vertices


def read_label_map(path: Path, column: str) -> dict[str, str]:
    """raw_category -> `column` from a ScanNet-style TSV (scannetv2-labels.combined.tsv)."""
    rows = list(csv.reader(io.read_text(path, "label map").splitlines(), delimiter="\t"))
    if not rows:
        raise InputError(path, "label map is empty")
    header = rows[0]
    for needed in ("raw_category", column):
        if needed not in header:
            raise InputError(path, f"label map has no column {needed!r} (columns: {', '.join(header)})")
    raw_at, target_at = header.index("raw_category"), header.index(column)
    mapping: dict[str, str] = {}
    for line_number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(raw_at, target_at):
            raise InputError(path, f"line {line_number} has {len(row)} columns, fewer than the header")
        raw, target = row[raw_at], row[target_at].strip()
        if raw in mapping and mapping[raw] != target:
            raise InputError(path, f"raw label {raw!r} is mapped twice ({mapping[raw]!r}, {target!r})")
        mapping[raw] = target
    return mapping


def _mapped_label(raw: str, mapping: Optional[dict[str, str]], map_path: Optional[Path], column: str) -> str:
    if mapping is None:
        return raw
    target = mapping.get(raw, "")
    if not target:
        raise InputError(map_path, f"raw label {raw!r} has no {column!r} entry in this label map")
    return target


def _object_boxes(
    vertices: np.ndarray, seg_indices: np.ndarray, groups: Iterable[SegGroup], aggregation: Path
) -> dict[int, Box]:
    """Axis-aligned box of each group's vertices (a vertex belongs to a group through its segment)."""
    boxes = {}
    for group in groups:
        points = vertices[np.isin(seg_indices, group.segments)]
        if len(points) == 0:
            raise InputError(
                aggregation, f"object {group.objectId} ({group.label!r}) has no mesh vertex in its segments"
            )
        low, high = points.min(axis=0), points.max(axis=0)
        boxes[group.objectId] = Box(center=(low + high) / 2, size=high - low, rotation=np.eye(3))
    return boxes


# ---------------------------------------------------------------- loader


def is_scannet_scene(folder: Path) -> bool:
    return aggregation_path(folder).is_file() or mesh_path(folder).is_file()


def find_scannet_scenes(root: Path) -> list[Path]:
    """A scene folder itself, or the scene folders of `root/scans/` (or of `root` when it is `scans/`)."""
    if is_scannet_scene(root):
        return [root]
    parent = root / "scans" if (root / "scans").is_dir() else root
    return sorted(
        child for child in parent.iterdir()
        if not child.name.startswith(".") and child.is_dir() and is_scannet_scene(child)
    )


def read_annotation(
    scene_dir: Path,
    *,
    structure_labels: Iterable[str] = STRUCTURE_LABELS,
    label_map: Optional[str | Path] = None,
    label_column: str = "nyu40class",
) -> tuple[list[SceneObject], Optional[np.ndarray]]:
    """Objects of a ScanNet annotation in `scene_dir` (mesh, segments, aggregation, optional `<scene>.txt`).

    Returns the objects, boxed in the axis-aligned frame when `axisAlignment` is given, and that
    alignment (None when absent), which the caller applies to camera poses too. Labels are mapped
    first, then structure labels removed.
    """
    aggregation = io.read_json_model(aggregation_path(scene_dir), Aggregation, "aggregation")
    seg_indices = io.read_json_model(segments_path(scene_dir), Segmentation, "segmentation").segIndices
    vertices = read_mesh_vertices(mesh_path(scene_dir))
    if len(seg_indices) != len(vertices):
        raise InputError(
            segments_path(scene_dir),
            f"has {len(seg_indices)} segIndices but the mesh {mesh_path(scene_dir)} has {len(vertices)} vertices",
        )
    ids = Counter(group.objectId for group in aggregation.segGroups)
    repeated = sorted(object_id for object_id, n in ids.items() if n > 1)
    if repeated:
        raise InputError(aggregation_path(scene_dir), f"objectId repeated: {repeated}")

    map_path = Path(label_map) if label_map is not None else None
    mapping = read_label_map(map_path, label_column) if map_path is not None else None
    structure = set(structure_labels)
    labels = {
        group.objectId: _mapped_label(group.label, mapping, map_path, label_column)
        for group in aggregation.segGroups
    }
    object_groups = [group for group in aggregation.segGroups if labels[group.objectId] not in structure]

    alignment = read_axis_alignment(meta_path(scene_dir))
    if alignment is not None:
        vertices = vertices @ alignment[:3, :3].T + alignment[:3, 3]
    boxes = _object_boxes(vertices, np.asarray(seg_indices), object_groups, aggregation_path(scene_dir))
    objects = [
        SceneObject(id=group.objectId, label=labels[group.objectId], box=boxes[group.objectId])
        for group in sorted(object_groups, key=lambda group: group.objectId)
    ]
    return objects, alignment


def load_scannet(
    scene_dir: Path,
    *,
    structure_labels: Iterable[str] = STRUCTURE_LABELS,
    label_map: Optional[str | Path] = None,
    label_column: str = "nyu40class",
) -> Scene:
    """Load one `scans/<scene>/` folder. Labels are mapped first, then structure labels removed."""
    objects, alignment = read_annotation(
        scene_dir, structure_labels=structure_labels, label_map=label_map, label_column=label_column
    )
    frames, skipped = read_frames(scene_dir, instance_folder=INSTANCE_FOLDER, depth_intrinsics_required=True)
    if alignment is not None:
        frames = [replace(frame, c2w=alignment @ frame.c2w) for frame in frames]

    return Scene(
        id=scene_dir.name,
        source="scannet",
        root=scene_dir,
        frames=frames,
        objects=objects,
        depth_scale=DEPTH_SCALE,
        instance_offset=INSTANCE_OFFSET,
        skipped_frames=skipped,
    )
