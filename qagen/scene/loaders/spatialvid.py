"""SpatialVID clips (FORMATS.md section 5): camera poses, disparity and dynamic masks per clip.

Layout, for a clip `<id>` of group `group_NNNN` under a dataset folder `<base>`:
    <base>/annotations/group_NNNN/<id>/  poses.npy, intrinsics.npy, dyn_masks.npz, indexes.txt, ...
    <base>/depths/group_NNNN/<id>.zip     one EXR per annotated frame (channel Z: disparity)
    <base>/videos/group_NNNN/<id>.mp4
The annotation folder is the scene folder (a scene pointer). What the loader makes of it:
- poses: `[tx ty tz qx qy qz qw]` world-to-camera, inverted to camera-to-world. Quaternions must be
  unit; a camera centre that jumps in one step by more than a quarter of the clip's whole path (and
  ten times the median step) is rejected: what a corrupt row produces, or camera-to-world poses
  read as world-to-camera when the camera turns fast far from the origin. A smooth camera-to-world
  trajectory read the wrong way stays smooth and cannot be told apart from the poses alone.
- intrinsics: normalised `[fx/W fy/H cx/W cy/H]` per frame, scaled to each image's pixels.
- depth: frame k is the k-th EXR of the zip in numeric name order; depth = 1 / disparity, read
  lazily by `qagen.scene.io.read_frame_depth` (depth format `exr_disparity`, needs the
  `spatialvid` extra), with the frame's dynamic mask (resized nearest to the depth grid) read as
  invalid depth, so moving things are never lifted.
- frames report the mp4 frame index (second column of indexes.txt) as their index.
- colour: records need image files, so the annotated frames are taken from `<id>/frames/<index>.jpg`
  in the annotation folder. Missing ones are decoded from the mp4 once, at load (needs the
  `spatialvid` extra for imageio-ffmpeg), and kept there for later loads; frames extracted by
  other means may be placed there instead.
- `metric` is false (the clip's scale is arbitrary) and there are no objects.
`instructions.json` and `caption.json` are not read: camera motion is recomputed from poses.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from qagen.errors import InputError
from qagen.scene import io
from qagen.scene.model import Frame, Scene

SOURCE = "spatialvid"
ANNOTATIONS, DEPTHS, VIDEOS = "annotations", "depths", "videos"
POSES, INTRINSICS, MASKS, INDEXES = "poses.npy", "intrinsics.npy", "dyn_masks.npz", "indexes.txt"
FRAMES_FOLDER = "frames"
DEPTH_FORMAT = "exr_disparity"
QUATERNION_TOLERANCE = 1e-3  # max | |q| - 1 |
JUMP_SHARE_OF_PATH = 0.25  # one step longer than this share of the whole camera path is a jump ...
JUMP_OVER_MEDIAN = 10.0  # ... when it is also this many times the median step
_DEPTH_MEMBER = re.compile(r"(\d+)\.exr")


def is_spatialvid_clip(folder: Path) -> bool:
    return (folder / POSES).is_file()


def find_spatialvid_clips(root: Path) -> list[Path]:
    """The clip folder itself, or the clips of a group folder, of `annotations/`, or of `<base>/annotations/`."""
    if is_spatialvid_clip(root):
        return [root]
    base = root / ANNOTATIONS if (root / ANNOTATIONS).is_dir() else root
    clips = {path.parent for pattern in (f"*/{POSES}", f"*/*/{POSES}") for path in base.glob(pattern)}
    return sorted(clip for clip in clips if not any(part.startswith(".") for part in clip.relative_to(base).parts))


# ---------------------------------------------------------------- cameras


def _rotations(quaternions: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotation matrices of unit quaternions [qx qy qz qw]."""
    x, y, z, w = quaternions.T
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], axis=-1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], axis=-1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], axis=-1),
        ],
        axis=1,
    )


def camera_to_world(poses: np.ndarray, path: Path) -> np.ndarray:
    """(N, 4, 4) camera-to-world matrices from world-to-camera rows [tx ty tz qx qy qz qw]."""
    norms = np.linalg.norm(poses[:, 3:], axis=1)
    off = np.abs(norms - 1.0) > QUATERNION_TOLERANCE
    if off.any():
        k = int(np.argmax(off))
        raise InputError(path, f"frame {k}: quaternion [qx qy qz qw] has norm {norms[k]:.6g}, not 1")
    world_to_camera = _rotations(poses[:, 3:] / norms[:, None])
    c2w = np.tile(np.eye(4), (len(poses), 1, 1))
    c2w[:, :3, :3] = np.transpose(world_to_camera, (0, 2, 1))
    c2w[:, :3, 3] = -np.einsum("nij,nj->ni", c2w[:, :3, :3], poses[:, :3])
    _check_centre_jumps(c2w[:, :3, 3], path)
    return c2w


def _check_centre_jumps(centres: np.ndarray, path: Path) -> None:
    steps = np.linalg.norm(np.diff(centres, axis=0), axis=1)
    if len(steps) < 3:
        return
    k = int(np.argmax(steps))
    whole = float(steps.sum())
    if steps[k] > JUMP_SHARE_OF_PATH * whole and steps[k] > JUMP_OVER_MEDIAN * float(np.median(steps)):
        raise InputError(
            path,
            f"the camera centre jumps by {steps[k]:.4g} between frames {k} and {k + 1}, more than a quarter of "
            f"the clip's whole path ({whole:.4g}): poses must be world-to-camera [tx ty tz qx qy qz qw]",
        )


def _normalised_intrinsics(path: Path, count: int) -> np.ndarray:
    table = io.read_float_table(path, "intrinsics", 4)
    if len(table) != count:
        raise InputError(path, f"has {len(table)} rows but {POSES} has {count} frames")
    bad = ~((table[:, :2] > 0).all(axis=1) & (np.abs(table[:, 2:] - 0.5) <= 0.25).all(axis=1))
    if bad.any():
        k = int(np.argmax(bad))
        raise InputError(
            path,
            f"row {k} is {table[k].tolist()}: intrinsics must be normalised [fx/W fy/H cx/W cy/H] "
            "(positive focal lengths, principal point within a quarter of the image from its centre)",
        )
    return table


def intrinsics_for(normalised: np.ndarray, size: io.Size) -> np.ndarray:
    """3x3 K in pixels of an image of `size` (W, H) from [fx/W fy/H cx/W cy/H]."""
    fx, fy, cx, cy = normalised
    width, height = size
    return np.array([[fx * width, 0.0, cx * width], [0.0, fy * height, cy * height], [0.0, 0.0, 1.0]])


# ---------------------------------------------------------------- per-frame files


def _video_frame_indices(path: Path, count: int) -> list[int]:
    """Second column of indexes.txt: the mp4 frame of each annotated frame, increasing."""
    table = io.read_matrix(path, "frame indexes")
    if table.shape[1] != 2:
        raise InputError(path, f"each line must hold two numbers, found {table.shape[1]}")
    if len(table) != count:
        raise InputError(path, f"lists {len(table)} frames but {POSES} has {count}")
    indices = table[:, 1]
    if not (np.isfinite(indices).all() and (indices == np.round(indices)).all() and (indices >= 0).all()):
        raise InputError(path, "the second column must hold non-negative integer frame indices")
    if (np.diff(indices) <= 0).any():
        raise InputError(path, "frame indices in the second column must increase")
    return [int(i) for i in indices]


def _depth_members(path: Path, count: int) -> list[str]:
    """The zip's EXR names in numeric order, one per annotated frame."""
    numbered = {}
    for name in io.zip_members(path, "depth"):
        match = _DEPTH_MEMBER.fullmatch(name)
        if match is None:
            raise InputError(path, f"member {name!r} is not a %05d.exr depth frame")
        numbered[int(match.group(1))] = name
    if len(numbered) != count:
        raise InputError(path, f"holds {len(numbered)} depth frames but {POSES} has {count}")
    return [numbered[number] for number in sorted(numbered)]


def _color_frames(clip: Path, video: Path, indices: list[int]) -> tuple[list[Path], io.Size]:
    """Colour image of each annotated frame, extracted from the video where missing, and their size."""
    paths = [clip / FRAMES_FOLDER / f"{index}.jpg" for index in indices]
    missing = {index: path for index, path in zip(indices, paths) if not path.is_file()}
    if missing:
        io.extract_video_frames(video, missing)
    size = io.image_size(paths[0])
    for path in paths[1:]:
        if io.image_size(path) != size:
            raise InputError(path, f"colour frame is {io.image_size(path)} but {paths[0].name} is {size}")
    return paths, size


# ---------------------------------------------------------------- loader


def clip_files(clip: Path) -> tuple[Path, Path]:
    """(depth zip, video) of an annotation clip folder `<base>/annotations/group_NNNN/<id>/`."""
    if clip.parent.parent.name != ANNOTATIONS:
        raise InputError(clip, f"a SpatialVID clip folder sits in <base>/{ANNOTATIONS}/group_NNNN/<id>/")
    base, group = clip.parent.parent.parent, clip.parent.name
    return base / DEPTHS / group / f"{clip.name}.zip", base / VIDEOS / group / f"{clip.name}.mp4"


def load_spatialvid(clip: Path) -> Scene:
    """Load one annotation clip folder (the scene pointer)."""
    depth_zip, video = clip_files(clip)
    c2w = camera_to_world(io.read_float_table(clip / POSES, "poses", 7), clip / POSES)
    count = len(c2w)
    normalised = _normalised_intrinsics(clip / INTRINSICS, count)
    indices = _video_frame_indices(clip / INDEXES, count)
    members = _depth_members(depth_zip, count)
    depth_size = io.exr_size(depth_zip, members[0])
    _, mask_count = io.dynamic_mask_layout(clip / MASKS)
    if mask_count != count:
        raise InputError(clip / MASKS, f"holds masks for {mask_count} frames but {POSES} has {count}")
    color_paths, color_size = _color_frames(clip, video, indices)
    frames = [
        Frame(
            index=indices[k],
            c2w=c2w[k],
            K_color=intrinsics_for(normalised[k], color_size),
            color_size=color_size,
            color_path=color_paths[k],
            depth_path=depth_zip,
            K_depth=intrinsics_for(normalised[k], depth_size),
            depth_size=depth_size,
            depth_format=DEPTH_FORMAT,
            depth_member=members[k],
            dynamic_mask_path=clip / MASKS,
            dynamic_mask_index=k,
        )
        for k in range(count)
    ]
    return Scene(id=clip.name, source=SOURCE, root=clip, frames=frames, objects=[], metric=False)
