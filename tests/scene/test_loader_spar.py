"""The SPAR loader on the synthetic world written in SPAR's image layout, with a ScanNet annotation
(axis-aligned) or a scene.json placed beside the frames."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from qagen.scene import io
from qagen.scene.loaders import discover_scenes, load_scene
from qagen.scene.synthetic import WorldRenderer
from qagen.scene.synthetic.native_writer import DEPTH_SCALE, scene_json
from qagen.scene.synthetic.scannet_writer import write_scannet
from support.errors import fails as _fails
from support.truth import assert_objects_match_world

VIDEO_INDEX = [0, 3, 6, 9, 12]  # frame 12 has no pose: the small world has 10 frames
BOX_ATOL = 1e-5  # the PLY stores vertices as float32


def _spar_layout(scannet_dir: Path, images: Path) -> Path:
    """Move a ScanNet-layout scene into `images/<scene>/` the way SPAR names its folders."""
    scene_dir = Path(shutil.copytree(scannet_dir, images / scannet_dir.name))
    (scene_dir / "color").rename(scene_dir / "image_color")
    (scene_dir / "depth").rename(scene_dir / "image_depth")
    shutil.rmtree(scene_dir / "instance-filt")  # SPAR ships no instance masks
    (scene_dir / "video_idx.txt").write_text("".join(f"{i}\n" for i in VIDEO_INDEX))
    (scene_dir / "video_color").mkdir()
    for k, i in enumerate(VIDEO_INDEX):
        shutil.copy(scene_dir / "image_color" / f"{min(i, 9)}.jpg", scene_dir / "video_color" / f"frame{k}_{i}.jpg")
    return scene_dir


@pytest.fixture(scope="module")
def spar_root(small_world_scannet_dir, tmp_path_factory) -> Path:
    """`spar/` with one scannet scene annotated by ScanNet's files (stored unaligned, with axisAlignment)."""
    root = tmp_path_factory.mktemp("spar") / "spar"
    _spar_layout(small_world_scannet_dir, root / "scannet" / "images")
    return root


@pytest.fixture(scope="module")
def spar_native_scene(small_world, tmp_path_factory) -> Path:
    """The world in SPAR's layout, stored in the world frame, with scene.json instead of ScanNet's files."""
    scannet_dir = write_scannet(small_world, tmp_path_factory.mktemp("unaligned"), color_size=(320, 240))
    scene_dir = _spar_layout(scannet_dir, tmp_path_factory.mktemp("spar_native") / "images")
    for name in (f"{scene_dir.name}.aggregation.json", f"{scene_dir.name}_vh_clean_2.ply",
                 f"{scene_dir.name}_vh_clean_2.0.010000.segs.json", f"{scene_dir.name}.txt"):
        (scene_dir / name).unlink()
    (scene_dir / "scene.json").write_text(json.dumps(scene_json(small_world)))
    return scene_dir


@pytest.fixture
def scene_copy(spar_root, tmp_path) -> Path:
    """A private copy of the SPAR scene, free to break."""
    source = spar_root / "scannet" / "images"
    scene = next(source.iterdir())
    return Path(shutil.copytree(scene, tmp_path / "images" / scene.name))


def test_frames_match_the_world_in_the_aligned_frame(small_world, spar_root):
    world = small_world
    scene_dir = spar_root / "scannet" / "images" / world.scene_id
    scene = load_scene(scene_dir, loader="spar")

    assert (scene.id, scene.source, scene.root, scene.metric) == (world.scene_id, "spar", scene_dir, True)
    assert (scene.depth_scale, scene.instance_offset, scene.room) == (1000.0, 1, None)
    assert scene.skipped_frames == {"video_frame_without_pose": 1}
    assert scene.capabilities == {"frames", "poses", "depth", "labels", "boxes", "metric"}
    assert [f.index for f in scene.frames] == list(range(len(world.poses)))
    renderer = WorldRenderer(world)
    for frame, pose in zip(scene.frames, world.poses):
        np.testing.assert_allclose(frame.c2w, pose, rtol=0, atol=1e-12)
        assert frame.color_size == (320, 240) and frame.depth_size == (world.width, world.height)
        np.testing.assert_allclose(frame.K_color, np.diag([2.0, 2.0, 1.0]) @ world.K, rtol=1e-15)
        np.testing.assert_array_equal(frame.K_depth, world.K)
        # records name images relative to spar/<source>/images, as SPAR's own jsonl does
        relative = frame.color_path.relative_to(scene.root.parent).as_posix()
        assert relative == f"{world.scene_id}/image_color/{frame.index}.jpg"
        assert frame.instance_path is None and frame.depth_format == "png16"
    first = scene.frames[0]
    expected_mm = np.rint(renderer.render(world.poses[0])[1] * DEPTH_SCALE).astype(np.float32)
    depth = io.read_frame_depth(first, scene.depth_scale, first.depth_size)
    np.testing.assert_array_equal(depth, expected_mm / np.float32(DEPTH_SCALE))


def test_boxes_come_from_the_scannet_annotation(small_world, spar_root):
    scene = load_scene(spar_root / "scannet" / "images" / small_world.scene_id, loader="spar")
    assert [(o.id, o.label) for o in scene.objects] == [(o.id - 1, o.label) for o in small_world.objects]
    for obj, world_object in zip(scene.objects, small_world.objects):
        np.testing.assert_allclose(obj.box.center - obj.box.size / 2, world_object.vertices.min(axis=0), atol=BOX_ATOL)
        np.testing.assert_allclose(obj.box.center + obj.box.size / 2, world_object.vertices.max(axis=0), atol=BOX_ATOL)
        np.testing.assert_array_equal(obj.box.rotation, np.eye(3))


def test_scene_json_gives_the_boxes_and_room(small_world, spar_native_scene):
    scene = load_scene(spar_native_scene, loader="spar")
    assert (scene.source, scene.instance_offset, scene.license) == ("spar", 0, "CC0-1.0")
    assert_objects_match_world(scene.objects, small_world)
    np.testing.assert_array_equal(scene.room.floor_polygon, small_world.room.floor_polygon)
    for frame, pose in zip(scene.frames, small_world.poses):
        np.testing.assert_array_equal(frame.c2w, pose)


def test_scene_json_must_name_the_folder(spar_native_scene, tmp_path):
    scene_dir = Path(shutil.copytree(spar_native_scene, tmp_path / spar_native_scene.name))
    content = json.loads((scene_dir / "scene.json").read_text())
    content["id"] = "another_scene"
    (scene_dir / "scene.json").write_text(json.dumps(content))
    _fails("differs from the scene folder", scene_dir / "scene.json", lambda: load_scene(scene_dir, loader="spar"))


def test_invalid_pose_is_skipped_and_its_video_frame_counted(scene_copy):
    (scene_copy / "pose" / "3.txt").write_text("\n".join(["-inf -inf -inf -inf"] * 4) + "\n")
    scene = load_scene(scene_copy, loader="spar")
    assert 3 not in [f.index for f in scene.frames]
    assert scene.skipped_frames == {"invalid_pose": 1, "video_frame_without_pose": 2}


def test_without_depth_intrinsics_depth_k_is_scaled_from_colour(small_world, scene_copy):
    (scene_copy / "intrinsic" / "intrinsic_depth.txt").unlink()
    scene = load_scene(scene_copy, loader="spar")
    np.testing.assert_allclose(scene.frames[0].K_depth, small_world.K, rtol=1e-14)


def test_a_scene_needs_an_annotation(scene_copy):
    (scene_copy / f"{scene_copy.name}.aggregation.json").unlink()
    _fails("no object annotation", scene_copy, lambda: load_scene(scene_copy, loader="spar"))


def test_video_frames_must_match_the_video_index(scene_copy):
    (scene_copy / "video_color" / "frame2_6.jpg").rename(scene_copy / "video_color" / "frame2_7.jpg")
    _fails("line 3 says frame 6", scene_copy / "video_color" / "frame2_7.jpg", lambda: load_scene(scene_copy, "spar"))
    (scene_copy / "video_color" / "frame2_7.jpg").unlink()
    _fails("video frame 2 (frame2_6)", scene_copy / "video_color", lambda: load_scene(scene_copy, "spar"))


def test_video_index_problems(scene_copy):
    index = scene_copy / "video_idx.txt"
    index.write_text("0\n3\nsix\n")
    _fails("line 3 is 'six'", index, lambda: load_scene(scene_copy, "spar"))
    index.write_text("0\n3\n")
    extra = scene_copy / "video_color" / "frame2_6.jpg"
    _fails("it lists only 2 frames", extra, lambda: load_scene(scene_copy, "spar"))
    index.unlink()
    _fails("need video_idx.txt", scene_copy / "video_color", lambda: load_scene(scene_copy, "spar"))
    shutil.rmtree(scene_copy / "video_color")
    assert load_scene(scene_copy, "spar").skipped_frames == {}


def test_discover_spar_scenes(spar_root, small_world):
    scene_dir = spar_root / "scannet" / "images" / small_world.scene_id
    assert discover_scenes(spar_root, "spar") == [scene_dir]
    assert discover_scenes(spar_root / "scannet", "spar") == [scene_dir]
    assert discover_scenes(spar_root / "scannet" / "images", "spar") == [scene_dir]
    assert discover_scenes(scene_dir, "spar") == [scene_dir]
