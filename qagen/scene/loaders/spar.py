"""SPAR's image layout (FORMATS.md section 3): `spar/<source>/images/<scene>/`.

The frames are a ScanNet-style export under other folder names (`image_color/`, `image_depth/`,
`pose/`, `intrinsic/`), read with the native layout's `read_frames`. SPAR ships no object
annotation, so the boxes come from one placed in the scene folder: a native `scene.json`, or
ScanNet's annotation files (`<scene>_vh_clean_2.ply`, `<scene>_vh_clean_2.0.010000.segs.json`,
`<scene>.aggregation.json`, optional `<scene>.txt` with `axisAlignment`, applied to poses too).
`scene.json` wins when both are there. Optional instance masks follow the annotation:
`instance-filt/` (objectId + 1) with ScanNet's, `instance/` (object ids) with `scene.json`.

`video_idx.txt` lists the source frame of each video frame, one per line; `video_color/` holds
them as `frame{k}_{i}.jpg` (k-th line, source frame i). Both are checked against each other. The
scene's frames are the posed frames; a video frame whose source frame has no usable pose is
counted as skipped (`video_frame_without_pose`).
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from qagen.errors import InputError
from qagen.scene import io
from qagen.scene.loaders import native, scannet
from qagen.scene.model import Scene

SOURCE = "spar"
COLOR_FOLDER, DEPTH_FOLDER = "image_color", "image_depth"
VIDEO_INDEX_FILE = "video_idx.txt"
VIDEO_FOLDER = "video_color"
_VIDEO_NAME = re.compile(r"frame(\d+)_(\d+)")


def is_spar_scene(folder: Path) -> bool:
    return (folder / COLOR_FOLDER).is_dir() and (folder / "pose").is_dir()


def _scene_folders(images: Path) -> list[Path]:
    return [c for c in sorted(images.iterdir()) if not c.name.startswith(".") and c.is_dir() and is_spar_scene(c)]


def find_spar_scenes(root: Path) -> list[Path]:
    """A scene folder itself, the scenes of `<source>/images/` (given either folder), or of every
    `<source>/images/` under `spar/`, sorted."""
    if is_spar_scene(root):
        return [root]
    if (root / "images").is_dir():
        return _scene_folders(root / "images")
    found = _scene_folders(root)
    for child in sorted(root.iterdir()):
        if not child.name.startswith(".") and (child / "images").is_dir():
            found += _scene_folders(child / "images")
    return found


# ---------------------------------------------------------------- video frames


def read_video_index(path: Path) -> list[int]:
    """Source frame index of each video frame, in video order (blank lines ignored)."""
    indices = []
    for line_number, line in enumerate(io.read_text(path, "video index").splitlines(), start=1):
        token = line.strip()
        if not token:
            continue
        if not (token.isascii() and token.isdigit()):
            raise InputError(path, f"line {line_number} is {token!r}, not a frame number")
        indices.append(int(token))
    return indices


def _check_video_frames(scene_dir: Path, indices: list[int]) -> None:
    """`video_color/frame{k}_{i}.jpg` must be exactly the frames `video_idx.txt` lists."""
    folder = scene_dir / VIDEO_FOLDER
    if not folder.is_dir():
        return
    listed = {k: i for k, i in enumerate(indices)}
    found: dict[int, int] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in native.COLOR_SUFFIXES:
            continue
        match = _VIDEO_NAME.fullmatch(path.stem)
        if match is None:
            raise InputError(path, "video frame names must be frame{k}_{i}, k the video position, i the source frame")
        k, i = int(match.group(1)), int(match.group(2))
        if listed.get(k) != i:
            expected = f"line {k + 1} says frame {listed[k]}" if k in listed else f"it lists only {len(indices)} frames"
            raise InputError(path, f"does not match {scene_dir / VIDEO_INDEX_FILE}: {expected}")
        found[k] = i
    missing = sorted(set(listed) - set(found))
    if missing:
        k = missing[0]
        raise InputError(folder, f"video frame {k} (frame{k}_{listed[k]}) listed in {VIDEO_INDEX_FILE} is missing")


def _video_skips(scene_dir: Path, posed: set[int]) -> int:
    """Video frames whose source frame has no usable pose; checks the video files on the way."""
    index_path = scene_dir / VIDEO_INDEX_FILE
    if not index_path.exists():
        if (scene_dir / VIDEO_FOLDER).is_dir():
            raise InputError(scene_dir / VIDEO_FOLDER, f"video frames need {VIDEO_INDEX_FILE} beside them")
        return 0
    indices = read_video_index(index_path)
    _check_video_frames(scene_dir, indices)
    return sum(1 for i in indices if i not in posed)


# ---------------------------------------------------------------- annotation


def _native_annotation(scene_dir: Path) -> native.SceneSpec:
    path = scene_dir / native.SCENE_FILE
    spec = io.read_json_model(path, native.SceneSpec, "scene description")
    if spec.id != scene_dir.name:
        raise InputError(path, f"id {spec.id!r} differs from the scene folder name {scene_dir.name!r}")
    return spec


def load_spar(scene_dir: Path) -> Scene:
    """Load one `images/<scene>/` folder with its placed annotation."""
    if (scene_dir / native.SCENE_FILE).is_file():
        spec = _native_annotation(scene_dir)
        objects, room = native.spec_objects(spec), native.spec_room(spec)
        alignment, instance_folder, instance_offset = None, "instance", 0
        depth_scale, metric, license = spec.depth_scale, spec.metric, spec.license
    elif scannet.aggregation_path(scene_dir).is_file():
        objects, alignment = scannet.read_annotation(scene_dir)
        room, instance_folder, instance_offset = None, scannet.INSTANCE_FOLDER, scannet.INSTANCE_OFFSET
        depth_scale, metric, license = scannet.DEPTH_SCALE, True, None
    else:
        raise InputError(
            scene_dir,
            f"no object annotation: place {native.SCENE_FILE} or ScanNet's "
            f"{scannet.aggregation_path(scene_dir).name} (with mesh and segments) in the scene folder",
        )
    frames, skipped = native.read_frames(
        scene_dir,
        instance_folder=instance_folder,
        depth_intrinsics_required=False,
        color_folder=COLOR_FOLDER,
        depth_folder=DEPTH_FOLDER,
    )
    if alignment is not None:
        frames = [replace(frame, c2w=alignment @ frame.c2w) for frame in frames]
    without_pose = _video_skips(scene_dir, {frame.index for frame in frames})
    if without_pose:
        skipped = dict(sorted({**skipped, "video_frame_without_pose": without_pose}.items()))
    return Scene(
        id=scene_dir.name,
        source=SOURCE,
        root=scene_dir,
        frames=frames,
        objects=objects,
        metric=metric,
        depth_scale=depth_scale,
        instance_offset=instance_offset,
        room=room,
        license=license,
        skipped_frames=skipped,
    )

