"""Write synthetic worlds to disk in the native layout (FORMATS.md), the way users' captures look.

A scene folder appears only once it is complete: everything is written into a temporary sibling
folder that is renamed into place at the end, so an interrupted run never leaves a scene that
looks finished.
"""
from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from qagen.scene.synthetic.build import build_world
from qagen.scene.synthetic.world import World

DEPTH_SCALE = 1000  # stored depth value / DEPTH_SCALE = metres (millimetres)
JPEG_QUALITY = 90
FRAME_KINDS = (("color", "jpg"), ("depth", "png"), ("instance", "png"), ("pose", "txt"))
INTRINSIC_FILES = ("intrinsic_color.txt", "intrinsic_depth.txt")


def frame_name(index: int) -> str:
    return f"{index:06d}"


def scene_json(world: World) -> dict:
    """The scene.json content of a world."""
    return {
        "id": world.scene_id,
        "source": "synthetic",
        "up": [0, 0, 1],
        "metric": True,
        "depth_scale": DEPTH_SCALE,
        "license": "CC0-1.0",
        "objects": [{"id": o.id, "label": o.label, "box": o.box.to_json()} for o in world.objects],
        "room": {
            "floor_polygon": [[float(x), float(y)] for x, y in world.room.floor_polygon],
            "height": float(world.room.height),
        },
    }


def _save_matrix(path: Path, matrix: np.ndarray) -> None:
    np.savetxt(path, matrix, fmt="%.17g")


def _write_contents(world: World, folder: Path) -> None:
    for kind, _ in FRAME_KINDS:
        (folder / kind).mkdir()
    (folder / "intrinsic").mkdir()
    (folder / "scene.json").write_text(json.dumps(scene_json(world), indent=1))
    intrinsic = np.eye(4)
    intrinsic[:3, :3] = world.K
    for name in INTRINSIC_FILES:
        _save_matrix(folder / "intrinsic" / name, intrinsic)
    from qagen.scene.synthetic.render import WorldRenderer  # open3d (1 s, 200 MB): only to write a scene

    renderer = WorldRenderer(world)
    for index, pose in enumerate(world.poses):
        name = frame_name(index)
        color, depth, instance = renderer.render(pose)
        depth_stored = np.clip(np.rint(depth * DEPTH_SCALE), 0, np.iinfo(np.uint16).max).astype(np.uint16)
        Image.fromarray(color).save(folder / "color" / f"{name}.jpg", quality=JPEG_QUALITY)
        Image.fromarray(depth_stored).save(folder / "depth" / f"{name}.png", compress_level=1)
        Image.fromarray(instance).save(folder / "instance" / f"{name}.png", compress_level=1)
        _save_matrix(folder / "pose" / f"{name}.txt", pose)


def is_complete(world: World, scene_dir: Path) -> bool:
    """Whether `scene_dir` already holds exactly this world: same scene.json and every file."""
    try:
        stored = json.loads((scene_dir / "scene.json").read_text())
    except (OSError, ValueError):
        return False
    if stored != json.loads(json.dumps(scene_json(world))):
        return False
    files = [scene_dir / "intrinsic" / name for name in INTRINSIC_FILES]
    files += [scene_dir / kind / f"{frame_name(i)}.{ext}" for i in range(len(world.poses)) for kind, ext in FRAME_KINDS]
    return all(f.is_file() for f in files)


def _fresh_sibling(target: Path, purpose: str) -> Path:
    """A new hidden folder next to `target` (made with the usual permissions, unlike mkdtemp's)."""
    folder = target.parent / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.{purpose}"
    folder.mkdir()
    return folder


def write_native(world: World, out_dir: Path) -> Path:
    """Write `world` to `<out_dir>/<scene_id>/` (replacing what is there) and return that folder."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / world.scene_id
    staging = _fresh_sibling(target, "partial")
    try:
        _write_contents(world, staging)
        if target.exists():
            retired = _fresh_sibling(target, "old")
            os.rename(target, retired / world.scene_id)
            shutil.rmtree(retired)
        try:
            os.rename(staging, target)
        except OSError:
            if not is_complete(world, target):  # a concurrent writer finished first, or not
                raise
            shutil.rmtree(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def demo_seed(seed: int, index: int) -> int:
    """The world seed of demo scene `index` under the run seed `seed` (a non-negative integer)."""
    if seed < 0:
        raise ValueError(f"the demo-scene seed must be a non-negative integer, not {seed}")
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def write_demo_scenes(out_dir: Path, n: int, seed: int, frames: Optional[int] = None) -> list[Path]:
    """Write demo scenes `demo_0000` ... into `out_dir`, keeping those already complete and
    identical; `frames` per camera walk instead of the default 30-60 (build_world)."""
    paths = []
    for index in range(n):
        world = build_world(f"demo_{index:04d}", demo_seed(seed, index), frames)
        target = Path(out_dir) / world.scene_id
        paths.append(target if is_complete(world, target) else write_native(world, out_dir))
    return paths
