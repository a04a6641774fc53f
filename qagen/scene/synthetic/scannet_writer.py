"""Write a synthetic world in ScanNet's layout, so tests can load one scene through both loaders.

Everything ScanNet-specific is reproduced on purpose: 0-based `objectId` (= world id - 1),
instance-filt pixels `objectId + 1` (walls, floor and ceiling included, as in real masks), frame
files without zero padding, colour and depth at different sizes with one K each, and geometry
stored in the unaligned frame (`axisAlignment^-1` applied) so loading with the alignment gives
back the world frame.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Optional

import numpy as np
import trimesh
from PIL import Image

from qagen.scene.model import Box
from qagen.scene.synthetic.native_writer import DEPTH_SCALE, JPEG_QUALITY
from qagen.scene.synthetic.render import WorldRenderer
from qagen.scene.synthetic.world import World, WorldObject

SEGMENTS_PER_PART = 2  # each object or structure piece is split into this many over-segments
SEGMENT_ID_STEP = 7  # segment ids are sparse and unordered in real files; keep them non-contiguous


def _rigid_inverse(matrix: np.ndarray) -> np.ndarray:
    inverse = np.eye(4)
    inverse[:3, :3] = matrix[:3, :3].T
    inverse[:3, 3] = -matrix[:3, :3].T @ matrix[:3, 3]
    return inverse


def _save_matrix(path: Path, matrix: np.ndarray) -> None:
    np.savetxt(path, matrix, fmt="%.17g")


def _parts(world: World) -> list[tuple[int, str, np.ndarray, np.ndarray, tuple[int, int, int]]]:
    """(objectId, label, vertices, triangles, colour): objects first, then structure pieces."""
    parts = [(obj.id - 1, obj.label, obj.vertices, obj.triangles, obj.color) for obj in world.objects]
    first_structure_id = max((obj.id for obj in world.objects), default=0)
    parts += [
        (first_structure_id + k, piece.label, piece.vertices, piece.triangles, piece.color)
        for k, piece in enumerate(world.structure)
    ]
    return parts


def _write_annotation(world: World, scene_dir: Path, to_unaligned: np.ndarray) -> None:
    """Mesh, over-segmentation and aggregation of all parts."""
    scene_id = world.scene_id
    vertices, triangles, colors, seg_indices, groups = [], [], [], [], []
    offset, next_segment = 0, 3
    for object_id, label, part_vertices, part_triangles, color in _parts(world):
        chunks = np.array_split(np.arange(len(part_vertices)), SEGMENTS_PER_PART)
        segments = []
        for chunk in chunks:
            if len(chunk):
                seg_indices += [next_segment] * len(chunk)
                segments.append(next_segment)
                next_segment += SEGMENT_ID_STEP
        groups.append({"id": object_id, "objectId": object_id, "segments": segments, "label": label})
        vertices.append(part_vertices)
        triangles.append(np.asarray(part_triangles) + offset)
        colors.append(np.tile([*color, 255], (len(part_vertices), 1)))
        offset += len(part_vertices)
    world_vertices = np.concatenate(vertices)
    unaligned = world_vertices @ to_unaligned[:3, :3].T + to_unaligned[:3, 3]
    mesh = trimesh.Trimesh(unaligned, np.concatenate(triangles), vertex_colors=np.concatenate(colors), process=False)
    mesh.export(scene_dir / f"{scene_id}_vh_clean_2.ply")
    segs = {"params": {"kThresh": "0.0001", "segMinVerts": "20"}, "sceneId": scene_id, "segIndices": seg_indices}
    (scene_dir / f"{scene_id}_vh_clean_2.0.010000.segs.json").write_text(json.dumps(segs))
    aggregation = {
        "sceneId": f"scannet.{scene_id}",
        "appId": "qagen.synthetic",
        "segGroups": groups,
        "segmentsFile": f"scannet.{scene_id}_vh_clean_2.0.010000.segs.json",
    }
    (scene_dir / f"{scene_id}.aggregation.json").write_text(json.dumps(aggregation, indent=1))


def _write_meta(world: World, scene_dir: Path, axis_alignment: Optional[np.ndarray], color_size) -> None:
    lines = []
    if axis_alignment is not None:
        lines.append("axisAlignment = " + " ".join(f"{v:.17g}" for v in np.asarray(axis_alignment).ravel()))
    lines += [
        f"colorHeight = {color_size[1]}",
        f"colorWidth = {color_size[0]}",
        f"depthHeight = {world.height}",
        f"depthWidth = {world.width}",
        f"numColorFrames = {len(world.poses)}",
        "sceneType = Synthetic",
    ]
    (scene_dir / f"{world.scene_id}.txt").write_text("\n".join(lines) + "\n")


def _structure_as_objects(world: World) -> World:
    """The world with walls, floor and ceiling as objects of id objectId + 1, for instance masks."""
    extra = []
    for object_id, label, vertices, triangles, color in _parts(world)[len(world.objects):]:
        low, high = vertices.min(axis=0), vertices.max(axis=0)
        box = Box(center=(low + high) / 2, size=high - low, rotation=np.eye(3))
        extra.append(WorldObject(object_id + 1, label, box, vertices, triangles, color))
    return replace(world, objects=list(world.objects) + extra, structure=[])


def _write_frames(world: World, scene_dir: Path, to_unaligned: np.ndarray, color_size) -> None:
    for folder in ("color", "depth", "pose", "intrinsic", "instance-filt"):
        (scene_dir / folder).mkdir()
    depth_world = _structure_as_objects(world)
    scale = np.diag([color_size[0] / world.width, color_size[1] / world.height, 1.0])
    color_world = replace(depth_world, K=scale @ world.K, width=color_size[0], height=color_size[1])
    for name, K in (("intrinsic_color.txt", color_world.K), ("intrinsic_depth.txt", world.K)):
        intrinsic = np.eye(4)
        intrinsic[:3, :3] = K
        _save_matrix(scene_dir / "intrinsic" / name, intrinsic)

    depth_renderer = WorldRenderer(depth_world)
    color_renderer = depth_renderer if tuple(color_size) == (world.width, world.height) else WorldRenderer(color_world)
    for index, pose in enumerate(world.poses):
        _, depth, _ = depth_renderer.render(pose)
        color, _, instance = color_renderer.render(pose)  # masks on the colour grid, as released
        depth_mm = np.clip(np.rint(depth * DEPTH_SCALE), 0, np.iinfo(np.uint16).max).astype(np.uint16)
        mask = instance.astype(np.uint8) if instance.max() <= np.iinfo(np.uint8).max else instance
        Image.fromarray(color).save(scene_dir / "color" / f"{index}.jpg", quality=JPEG_QUALITY)
        Image.fromarray(depth_mm).save(scene_dir / "depth" / f"{index}.png", compress_level=1)
        Image.fromarray(mask).save(scene_dir / "instance-filt" / f"{index}.png", compress_level=1)
        _save_matrix(scene_dir / "pose" / f"{index}.txt", to_unaligned @ pose)


def write_scannet(
    world: World,
    out_root: Path,
    axis_alignment: Optional[np.ndarray] = None,
    color_size: tuple[int, int] = (640, 480),
) -> Path:
    """Write `world` to `<out_root>/scans/<scene_id>/` (replacing it) and return that folder.

    Depth is rendered at the world's size with its K; colour and instance masks at `color_size`
    with K scaled to it (ScanNet's released instance-filt masks are colour-sized). `axis_alignment` (4x4 rigid) maps the stored frame to the world frame.
    """
    scene_dir = Path(out_root) / "scans" / world.scene_id
    if scene_dir.exists():
        shutil.rmtree(scene_dir)
    scene_dir.mkdir(parents=True)
    to_unaligned = np.eye(4) if axis_alignment is None else _rigid_inverse(np.asarray(axis_alignment, dtype=float))
    _write_annotation(world, scene_dir, to_unaligned)
    _write_meta(world, scene_dir, axis_alignment, color_size)
    _write_frames(world, scene_dir, to_unaligned, color_size)
    return scene_dir
