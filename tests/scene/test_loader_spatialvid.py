"""The SpatialVID loader on a clip written from the synthetic world in SpatialVID's layout: world-to-
camera quaternion poses, normalised intrinsics, a zip of float16 disparity EXRs, CSR dynamic masks
at video resolution, indexes.txt, and an mp4 or pre-extracted frames."""
from __future__ import annotations

import io as stdlib_io
import shutil
import sys
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import OpenEXR
import pytest
from PIL import Image

from qagen.scene import io
from qagen.scene.loaders import discover_scenes, load_scene
from qagen.scene.synthetic import World, WorldRenderer
from support.errors import fails as _fails

GROUP, CLIP = "group_0007", "0a1b2c3d-clip"
VIDEO_SIZE = (320, 240)  # twice the depth grid: masks and colour are at video resolution
NEGATIVE_BLOCK = (slice(0, 4), slice(0, 6))  # pixels of frame 0 stored with negative disparity


def video_index(k: int) -> int:
    return 3 * k + 2


@dataclass(frozen=True)
class Clip:
    base: Path
    disparity: list[np.ndarray]  # float16 (H, W) as stored
    masks: list[np.ndarray]  # bool at video resolution
    colors: list[np.ndarray]  # uint8 renders at video resolution

    @property
    def folder(self) -> Path:
        return self.base / "annotations" / GROUP / CLIP

    @property
    def depth_zip(self) -> Path:
        return self.base / "depths" / GROUP / f"{CLIP}.zip"


def _quaternion_xyzw(m: np.ndarray) -> np.ndarray:
    """Unit quaternion [x y z w] of a rotation matrix (largest-component branch for stability)."""
    trace = np.trace(m)
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        return np.array([(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4])
    i = int(np.argmax(np.diag(m)))
    j, k = (i + 1) % 3, (i + 2) % 3
    s = 2.0 * np.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
    q = np.empty(4)
    q[i], q[j], q[k], q[3] = s / 4, (m[j, i] + m[i, j]) / s, (m[k, i] + m[i, k]) / s, (m[k, j] - m[j, k]) / s
    return q


def _exr_bytes(channels: dict[str, np.ndarray]) -> bytes:
    buffer = stdlib_io.BytesIO()
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    OpenEXR.File(header, channels).write(buffer)
    return buffer.getvalue()


def _csr(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(data, indices, indptr) of a boolean mask, as scipy's csr_matrix stores it."""
    rows, cols = np.nonzero(mask)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=mask.shape[0]))]).astype(np.int32)
    return np.ones(len(cols), dtype=bool), cols.astype(np.int32), indptr


def write_masks(path: Path, masks: list[np.ndarray]) -> None:
    arrays = {"shape": np.array(masks[0].shape)}
    for k, mask in enumerate(masks):
        arrays[f"f_{k}_data"], arrays[f"f_{k}_indices"], arrays[f"f_{k}_indptr"] = _csr(mask)
    np.savez_compressed(path, **arrays)


def write_depth_zip(path: Path, disparity: list[np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for k, values in enumerate(disparity):
            archive.writestr(f"{k:05d}.exr", _exr_bytes({"Z": values}))


def _video_world(world: World) -> World:
    scale = np.diag([VIDEO_SIZE[0] / world.width, VIDEO_SIZE[1] / world.height, 1.0])
    return replace(world, K=scale @ world.K, width=VIDEO_SIZE[0], height=VIDEO_SIZE[1])


def write_clip(world: World, base: Path) -> Clip:
    """The world as one SpatialVID clip with frames pre-extracted into the annotation folder."""
    clip = base / "annotations" / GROUP / CLIP
    (clip / "frames").mkdir(parents=True)
    poses, disparity, masks, colors = [], [], [], []
    depth_renderer, video_renderer = WorldRenderer(world), WorldRenderer(_video_world(world))
    for k, c2w in enumerate(world.poses):
        w2c = c2w[:3, :3].T
        poses.append(np.concatenate([-w2c @ c2w[:3, 3], _quaternion_xyzw(w2c)]))
        depth = depth_renderer.render(c2w)[1]
        with np.errstate(divide="ignore"):
            stored = np.where(depth > 0, 1.0 / depth, np.nan).astype(np.float16)
        if k == 0:
            stored[NEGATIVE_BLOCK] = -0.5
        disparity.append(stored)
        color, _, instance = video_renderer.render(c2w)
        ids, counts = np.unique(instance[instance > 0], return_counts=True)
        masks.append(instance == ids[np.argmax(counts)] if k % 4 else np.zeros(instance.shape, dtype=bool))
        colors.append(color)
        Image.fromarray(color).save(clip / "frames" / f"{video_index(k)}.jpg", quality=95)
    np.save(clip / "poses.npy", np.array(poses))
    normalised = [world.K[0, 0] / world.width, world.K[1, 1] / world.height,
                  world.K[0, 2] / world.width, world.K[1, 2] / world.height]
    np.save(clip / "intrinsics.npy", np.tile(normalised, (len(poses), 1)))
    (clip / "indexes.txt").write_text("".join(f"{k} {video_index(k)}\n" for k in range(len(poses))))
    (clip / "instructions.json").write_text('{"0->1": ["Dolly In"]}')
    (clip / "caption.json").write_text('{"SceneSummary": "a furnished room"}')
    write_masks(clip / "dyn_masks.npz", masks)
    write_depth_zip(base / "depths" / GROUP / f"{CLIP}.zip", disparity)
    return Clip(base, disparity, masks, colors)


@pytest.fixture(scope="module")
def clip(small_world, tmp_path_factory) -> Clip:
    return write_clip(small_world, tmp_path_factory.mktemp("spatialvid") / "SpatialVID-HQ")


@pytest.fixture
def clip_copy(clip, tmp_path) -> Clip:
    """A private copy of the clip's dataset folder, free to break."""
    return replace(clip, base=Path(shutil.copytree(clip.base, tmp_path / "SpatialVID-HQ")))


def test_cameras_match_the_world(small_world, clip):
    world = small_world
    scene = load_scene(clip.folder, loader="spatialvid")

    assert (scene.id, scene.source, scene.root) == (CLIP, "spatialvid", clip.folder)
    assert (scene.metric, scene.objects) == (False, [])
    assert scene.capabilities == {"frames", "poses", "depth"}
    assert [f.index for f in scene.frames] == [video_index(k) for k in range(len(world.poses))]
    for k, (frame, pose) in enumerate(zip(scene.frames, world.poses)):
        np.testing.assert_allclose(frame.c2w, pose, rtol=0, atol=1e-12)
        assert frame.depth_size == (world.width, world.height) and frame.color_size == VIDEO_SIZE
        np.testing.assert_allclose(frame.K_depth, world.K, rtol=1e-14)
        np.testing.assert_allclose(frame.K_color, _video_world(world).K, rtol=1e-14)
        assert frame.color_path == clip.folder / "frames" / f"{frame.index}.jpg"
        assert frame.color_path.relative_to(scene.root.parent).as_posix() == f"{CLIP}/frames/{frame.index}.jpg"
        assert (frame.depth_path, frame.depth_member) == (clip.depth_zip, f"{k:05d}.exr")
        assert (frame.depth_format, frame.dynamic_mask_index) == ("exr_disparity", k)


def test_depth_is_inverted_disparity_without_moving_or_invalid_pixels(small_world, clip):
    scene = load_scene(clip.folder, loader="spatialvid")
    renderer = WorldRenderer(small_world)
    for k, frame in enumerate(scene.frames):
        depth = io.read_frame_depth(frame, scene.depth_scale, frame.depth_size)
        stored = clip.disparity[k].astype(np.float32)
        moving = clip.masks[k][1::2, 1::2]  # nearest by pixel centres at half resolution
        valid = np.isfinite(stored) & (stored > 0) & ~moving
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = np.where(valid, np.float32(1.0) / stored, np.float32(0.0))
        np.testing.assert_array_equal(depth, expected)
        rendered = renderer.render(small_world.poses[k])[1]
        np.testing.assert_allclose(depth[valid], rendered[valid], rtol=1e-3)
        assert moving.any() == bool(k % 4) and not depth[moving].any()
    assert not io.read_frame_depth(scene.frames[0], 1.0)[NEGATIVE_BLOCK].any()


def test_dynamic_masks_resize_to_any_grid(clip):
    mask = clip.masks[1]
    full = io.read_dynamic_mask(clip.folder / "dyn_masks.npz", 1, VIDEO_SIZE)
    np.testing.assert_array_equal(full, mask)
    np.testing.assert_array_equal(io.read_dynamic_mask(clip.folder / "dyn_masks.npz", 1, (80, 60)), mask[2::4, 2::4])


def test_frames_are_extracted_from_the_video_when_missing(clip_copy):
    shutil.rmtree(clip_copy.folder / "frames")
    video = clip_copy.base / "videos" / GROUP / f"{CLIP}.mp4"
    video.parent.mkdir(parents=True)
    by_index = {video_index(k): color for k, color in enumerate(clip_copy.colors)}
    filler = np.full((VIDEO_SIZE[1], VIDEO_SIZE[0], 3), 128, dtype=np.uint8)
    writer = imageio_ffmpeg.write_frames(str(video), VIDEO_SIZE, fps=10, quality=9, macro_block_size=16)
    writer.send(None)
    for index in range(max(by_index) + 3):
        writer.send(np.ascontiguousarray(by_index.get(index, filler)))
    writer.close()

    scene = load_scene(clip_copy.folder, loader="spatialvid")
    for frame in scene.frames:
        extracted = io.read_color(frame.color_path, frame.color_size).astype(float)
        assert np.abs(extracted - by_index[frame.index]).mean() < 6.0  # the right frame, through lossy codecs
    assert sorted(p.name for p in (clip_copy.folder / "frames").iterdir()) == sorted(
        f"{i}.jpg" for i in by_index
    )


def test_missing_frames_without_a_video(clip_copy):
    (clip_copy.folder / "frames" / f"{video_index(3)}.jpg").unlink()
    video = clip_copy.base / "videos" / GROUP / f"{CLIP}.mp4"
    _fails("video file is missing", video, lambda: load_scene(clip_copy.folder, "spatialvid"))


def test_a_video_too_short_for_the_indexes(clip_copy):
    shutil.rmtree(clip_copy.folder / "frames")
    video = clip_copy.base / "videos" / GROUP / f"{CLIP}.mp4"
    video.parent.mkdir(parents=True)
    writer = imageio_ffmpeg.write_frames(str(video), VIDEO_SIZE, fps=10, macro_block_size=16)
    writer.send(None)
    for color in clip_copy.colors[:5]:
        writer.send(np.ascontiguousarray(color))
    writer.close()
    _fails("video has 5 frames", video, lambda: load_scene(clip_copy.folder, "spatialvid"))


def _rewrite(path: Path, edit) -> None:
    array = np.load(path)
    edit(array)
    np.save(path, array)


def _poses_fail(clip: Clip, edit, fragment: str) -> None:
    path = clip.folder / "poses.npy"
    _rewrite(path, edit)
    _fails(fragment, path, lambda: load_scene(clip.folder, "spatialvid"))


def test_non_unit_quaternion(clip_copy):
    _poses_fail(clip_copy, lambda p: p[2, 3:].__imul__(1.1), "frame 2: quaternion [qx qy qz qw] has norm 1.1")


def test_a_camera_centre_jump_is_rejected(clip_copy):
    _poses_fail(clip_copy, lambda p: p[5, :3].__iadd__(40.0), "jumps by")


def test_malformed_poses(clip_copy):
    _poses_fail(clip_copy, lambda p: p.__setitem__((1, 0), np.nan), "row 1 has non-finite values")
    np.save(clip_copy.folder / "poses.npy", np.zeros((10, 6)))
    _fails("(N, 7) float array", clip_copy.folder / "poses.npy", lambda: load_scene(clip_copy.folder, "spatialvid"))


def test_intrinsics_in_pixels_are_rejected(small_world, clip_copy):
    path = clip_copy.folder / "intrinsics.npy"
    pixels = [small_world.K[0, 0], small_world.K[1, 1], small_world.K[0, 2], small_world.K[1, 2]]
    np.save(path, np.tile(pixels, (len(small_world.poses), 1)))
    _fails("must be normalised", path, lambda: load_scene(clip_copy.folder, "spatialvid"))
    np.save(path, np.tile([0.7, 0.9, 0.5, 0.5], (3, 1)))
    _fails("has 3 rows but poses.npy has 10", path, lambda: load_scene(clip_copy.folder, "spatialvid"))


def test_frame_index_problems(clip_copy):
    path = clip_copy.folder / "indexes.txt"
    path.write_text("".join(f"{k} {30 - k}\n" for k in range(10)))
    _fails("must increase", path, lambda: load_scene(clip_copy.folder, "spatialvid"))
    path.write_text("".join(f"{k}\n" for k in range(10)))
    _fails("two numbers", path, lambda: load_scene(clip_copy.folder, "spatialvid"))
    path.write_text("".join(f"{k} {k}.5\n" for k in range(10)))
    _fails("non-negative integer", path, lambda: load_scene(clip_copy.folder, "spatialvid"))


def test_depth_archive_problems(clip_copy):
    write_depth_zip(clip_copy.depth_zip, clip_copy.disparity[:9])
    def load():
        return load_scene(clip_copy.folder, "spatialvid")

    _fails("holds 9 depth frames but poses.npy has 10", clip_copy.depth_zip, load)
    clip_copy.depth_zip.unlink()
    _fails("depth archive is missing", clip_copy.depth_zip, load)
    clip_copy.depth_zip.write_bytes(b"not a zip")
    _fails("not a readable zip", clip_copy.depth_zip, load)


def test_depth_frame_problems_surface_when_read(clip_copy):
    with zipfile.ZipFile(clip_copy.depth_zip, "w") as archive:
        archive.writestr("00000.exr", _exr_bytes({"Y": clip_copy.disparity[0]}))
        for k in range(1, 9):
            archive.writestr(f"{k:05d}.exr", _exr_bytes({"Z": clip_copy.disparity[k][:60]}))
        archive.writestr("00009.exr", b"broken")
    frames = load_scene(clip_copy.folder, "spatialvid").frames

    def read(k: int):
        return lambda: io.read_frame_depth(frames[k], 1.0, frames[k].depth_size)

    _fails("00000.exr has no channel 'Z' (channels: Y)", clip_copy.depth_zip, read(0))
    _fails("depth 00001.exr is 160x60 but the scene says 160x120", clip_copy.depth_zip, read(1))
    _fails("00009.exr is not a readable EXR", clip_copy.depth_zip, read(9))


def test_dynamic_mask_problems(clip_copy):
    path = clip_copy.folder / "dyn_masks.npz"
    write_masks(path, clip_copy.masks[:8])
    _fails("holds masks for 8 frames but poses.npy has 10", path, lambda: load_scene(clip_copy.folder, "spatialvid"))
    arrays = dict(np.load(path))
    arrays.update({f"f_{k}_{part}": v for k, mask in ((8, clip_copy.masks[8]), (9, clip_copy.masks[9]))
                   for part, v in zip(("data", "indices", "indptr"), _csr(mask))})
    arrays["f_1_indices"] = arrays["f_1_indices"] + VIDEO_SIZE[0]
    del arrays["f_9_indptr"]
    np.savez(path, **arrays)
    _fails("frame 9 of the dynamic masks lacks f_9_indptr", path, lambda: load_scene(clip_copy.folder, "spatialvid"))
    arrays["f_9_indptr"] = _csr(clip_copy.masks[9])[2]
    np.savez(path, **arrays)
    scene = load_scene(clip_copy.folder, "spatialvid")
    _fails("column indices must be integers in [0, 320)", path, lambda: io.read_frame_depth(scene.frames[1], 1.0))
    del arrays["shape"]
    np.savez(path, **arrays)
    _fails("no 'shape' entry", path, lambda: load_scene(clip_copy.folder, "spatialvid"))


def test_missing_extra_is_named(clip, monkeypatch):
    monkeypatch.setitem(sys.modules, "OpenEXR", None)  # as if the spatialvid extra were not installed
    def load():
        return load_scene(clip.folder, "spatialvid")

    error = _fails("needs the optional dependency OpenEXR", clip.depth_zip, load)
    assert "qagen[spatialvid]" in error.problem


def test_a_clip_must_sit_in_the_annotations_tree(clip, tmp_path):
    moved = Path(shutil.copytree(clip.folder, tmp_path / "loose" / CLIP))
    _fails("sits in <base>/annotations/group_NNNN/<id>/", moved, lambda: load_scene(moved, "spatialvid"))


def test_discover_clips(clip):
    for root in (clip.base, clip.base / "annotations", clip.base / "annotations" / GROUP, clip.folder):
        assert discover_scenes(root, "spatialvid") == [clip.folder]
