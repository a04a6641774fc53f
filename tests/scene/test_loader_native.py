"""The native loader against the synthetic world it was written from, and its rejections."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from qagen.errors import RegistryError
from qagen.scene import io
from qagen.scene.loaders import LOADERS, discover_scenes, load_scene
from qagen.scene.model import CAPABILITIES
from qagen.scene.synthetic import WorldRenderer
from support.errors import fails as _fails
from support.truth import assert_objects_match_world


@pytest.fixture
def scene_copy(small_world_native_dir, tmp_path) -> Path:
    """A private copy of the written scene, free to break."""
    return Path(shutil.copytree(small_world_native_dir, tmp_path / small_world_native_dir.name))


def _edit_scene_json(scene_dir: Path, edit) -> None:
    path = scene_dir / "scene.json"
    content = json.loads(path.read_text())
    edit(content)
    path.write_text(json.dumps(content))


def test_every_field_matches_the_world(small_world, small_world_native_dir):
    world = small_world
    scene = load_scene(small_world_native_dir)

    assert (scene.id, scene.source, scene.license) == (world.scene_id, "synthetic", "CC0-1.0")
    assert scene.root == small_world_native_dir
    assert scene.up == (0.0, 0.0, 1.0) and scene.metric
    assert (scene.depth_scale, scene.instance_offset) == (1000.0, 0)
    assert scene.skipped_frames == {}
    assert scene.capabilities == frozenset(CAPABILITIES)

    assert [f.index for f in scene.frames] == list(range(len(world.poses)))
    for frame, pose in zip(scene.frames, world.poses):
        np.testing.assert_array_equal(frame.c2w, pose)
        np.testing.assert_array_equal(frame.K_color, world.K)
        np.testing.assert_array_equal(frame.K_depth, world.K)
        assert frame.color_size == frame.depth_size == (world.width, world.height)
        assert frame.color_path == small_world_native_dir / "color" / f"{frame.index:06d}.jpg"
        assert frame.depth_path == small_world_native_dir / "depth" / f"{frame.index:06d}.png"
        assert frame.instance_path == small_world_native_dir / "instance" / f"{frame.index:06d}.png"

    assert_objects_match_world(scene.objects, world)

    np.testing.assert_array_equal(scene.room.floor_polygon, world.room.floor_polygon)
    assert scene.room.height == world.room.height


def test_frame_pixels_read_through_io_match_the_renderer(small_world, small_world_native_dir):
    scene = load_scene(small_world_native_dir)
    frame = scene.frames[4]
    color, depth, instance = WorldRenderer(small_world).render(small_world.poses[4])

    loaded_depth = io.read_depth(frame.depth_path, scene.depth_scale, frame.depth_size)
    np.testing.assert_allclose(loaded_depth, depth, atol=0.5 / scene.depth_scale + 1e-6)
    assert ((loaded_depth == 0) == (depth == 0)).all()
    loaded_instance = io.read_instance(frame.instance_path, scene.instance_offset, frame.depth_size)
    np.testing.assert_array_equal(loaded_instance, np.where(instance == 0, -1, instance.astype(np.int32)))
    assert io.read_color(frame.color_path, frame.color_size).shape == color.shape


def test_discover_scenes_lists_scene_folders_sorted(tmp_path, small_world_native_dir):
    for name in ("b_scene", "a_scene", ".a_scene.1234.partial"):  # hidden: a writer's unfinished scene
        (tmp_path / name).mkdir()
        (tmp_path / name / "scene.json").write_text("{}")
    (tmp_path / "not_a_scene").mkdir()
    assert discover_scenes(tmp_path) == [tmp_path / "a_scene", tmp_path / "b_scene"]
    assert discover_scenes(small_world_native_dir, "native") == [small_world_native_dir]
    _fails("no native scenes", tmp_path / "not_a_scene", lambda: discover_scenes(tmp_path / "not_a_scene"))


def test_loader_names_resolve_with_close_matches(tmp_path):
    assert LOADERS.names() == ["metainfo", "native", "scannet", "spar", "spatialvid"]
    with pytest.raises(RegistryError, match="did you mean 'native'"):
        load_scene(tmp_path, loader="natve")
    _fails("does not exist", tmp_path / "absent", lambda: load_scene(tmp_path / "absent"))


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda c: c.update(colour="red"), "unknown key 'colour' in the top level"),
        (lambda c: c["objects"][2]["box"].update(scale=2), "unknown key 'scale' in objects[2].box"),
        (lambda c: c["room"].update(walls=4), "unknown key 'walls' in room"),
        (lambda c: c.pop("id"), "missing required key 'id'"),
        (lambda c: c["objects"][0].pop("label"), "missing required key 'label' in objects[0]"),
        (lambda c: c["objects"][1]["box"].update(rotation=[[1, 0, 0], [0, 2, 0], [0, 0, 1]]), "orthonormal"),
        (lambda c: c["objects"][1]["box"].update(rotation=[[1, 0, 0], [0, 1, 0], [0, 0, -1]]), "determinant"),
        (lambda c: c["objects"][1]["box"].update(size=[1, 0, 1]), "objects[1].box.size"),
        (lambda c: c["objects"][1].update(id=c["objects"][0]["id"]), "object ids must be unique"),
        (lambda c: c["objects"][1].update(id=0), "objects[1].id"),
        (lambda c: c.update(metric="yes"), "metric"),
        (lambda c: c.update(up=[0, 1, 0]), "+Z up"),
        (lambda c: c.update(depth_scale=-1), "depth_scale"),
        (lambda c: c["room"].update(floor_polygon=[[0, 0], [1, 0]]), "room.floor_polygon"),
    ],
)
def test_scene_json_problems_name_the_key(scene_copy, edit, fragment):
    _edit_scene_json(scene_copy, edit)
    _fails(fragment, scene_copy / "scene.json", lambda: load_scene(scene_copy))


def test_scene_json_that_is_not_json(scene_copy):
    (scene_copy / "scene.json").write_text('{"id": "x",')
    _fails("invalid JSON", scene_copy / "scene.json", lambda: load_scene(scene_copy))


def test_without_room_and_instances(scene_copy):
    _edit_scene_json(scene_copy, lambda c: c.pop("room"))
    shutil.rmtree(scene_copy / "instance")
    scene = load_scene(scene_copy)
    assert scene.room is None
    assert all(frame.instance_path is None for frame in scene.frames)
    assert scene.capabilities == frozenset(CAPABILITIES) - {"room", "instances"}


def test_missing_depth_for_a_posed_frame(scene_copy):
    (scene_copy / "depth" / "000006.png").unlink()
    _fails("frame 6 has this pose but no depth image", scene_copy / "pose" / "000006.txt",
           lambda: load_scene(scene_copy))


def test_missing_instance_mask_when_the_folder_exists(scene_copy):
    (scene_copy / "instance" / "000002.png").unlink()
    _fails("no instance mask", scene_copy / "pose" / "000002.txt", lambda: load_scene(scene_copy))


def test_non_finite_pose_is_skipped_and_counted(small_world, scene_copy):
    (scene_copy / "pose" / "000003.txt").write_text("-inf -inf -inf -inf\n" * 4)
    scene = load_scene(scene_copy)
    assert [f.index for f in scene.frames] == [i for i in range(len(small_world.poses)) if i != 3]
    assert scene.skipped_frames == {"invalid_pose": 1}
    np.testing.assert_array_equal(scene.frames[3].c2w, small_world.poses[4])


def test_images_without_a_pose_are_counted(scene_copy):
    (scene_copy / "pose" / "000009.txt").unlink()
    scene = load_scene(scene_copy)
    assert scene.frames[-1].index == 8
    assert scene.skipped_frames == {"missing_pose": 1}


def test_non_rigid_pose_stops_the_load(scene_copy):
    (scene_copy / "pose" / "000001.txt").write_text("2 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0 1\n")
    _fails("not orthonormal", scene_copy / "pose" / "000001.txt", lambda: load_scene(scene_copy))


def test_frames_match_by_number_whatever_the_padding(small_world, scene_copy):
    for path in (scene_copy / "color").iterdir():
        path.rename(path.with_name(f"{int(path.stem)}{path.suffix}"))
    for path in (scene_copy / "pose").iterdir():
        path.rename(path.with_name(f"{int(path.stem):09d}{path.suffix}"))
    (scene_copy / "color" / "._7.jpg").write_bytes(b"macOS resource fork")  # hidden: ignored
    (scene_copy / "color" / "notes.txt").write_text("other suffixes are ignored")
    scene = load_scene(scene_copy)
    assert [f.index for f in scene.frames] == list(range(len(small_world.poses)))
    assert scene.frames[7].color_path.name == "7.jpg"
    np.testing.assert_array_equal(scene.frames[7].c2w, small_world.poses[7])


def test_frame_file_that_is_not_numbered(scene_copy):
    shutil.copy(scene_copy / "depth" / "000005.png", scene_copy / "depth" / "frame5.png")
    _fails("must be frame numbers", scene_copy / "depth" / "frame5.png", lambda: load_scene(scene_copy))


def test_two_files_for_one_frame_number(scene_copy):
    shutil.copy(scene_copy / "depth" / "000005.png", scene_copy / "depth" / "5.png")
    error = _fails("frame 5 has two depth image files", scene_copy / "depth" / "5.png",
                   lambda: load_scene(scene_copy))
    assert "000005.png" in error.problem


def test_depth_of_another_size_on_one_frame(small_world, scene_copy):
    Image.fromarray(np.zeros((60, 80), np.uint16)).save(scene_copy / "depth" / "000005.png")
    error = _fails("depth image is 80x60", scene_copy / "depth" / "000005.png", lambda: load_scene(scene_copy))
    assert f"depth/000000.png is {small_world.width}x{small_world.height}" in error.problem


def test_mask_of_another_size_than_its_depth(small_world, scene_copy):
    Image.fromarray(np.zeros((60, 80), np.uint16)).save(scene_copy / "instance" / "000002.png")
    error = _fails("instance mask is 80x60", scene_copy / "instance" / "000002.png", lambda: load_scene(scene_copy))
    assert "depth/000002.png" in error.problem


def test_depth_intrinsics_for_another_image_size(small_world, scene_copy):
    K = np.eye(4)
    K[:3, :3] = np.diag([4.0, 4.0, 1.0]) @ small_world.K  # K of a 640x480 image
    np.savetxt(scene_copy / "intrinsic" / "intrinsic_depth.txt", K)
    error = _fails("suits an image of about 640x480", scene_copy / "intrinsic" / "intrinsic_depth.txt",
                   lambda: load_scene(scene_copy))
    assert f"depth/000000.png is {small_world.width}x{small_world.height}" in error.problem


def test_depth_intrinsics_default_to_scaled_colour_intrinsics(small_world, scene_copy):
    """Colour stored at twice the depth size, no intrinsic_depth.txt: K_depth is K_color scaled down."""
    (scene_copy / "intrinsic" / "intrinsic_depth.txt").unlink()
    big = (2 * small_world.width, 2 * small_world.height)
    for path in (scene_copy / "color").iterdir():
        with Image.open(path) as image:
            image.resize(big).save(path)
    K_color = np.eye(4)
    K_color[:3, :3] = np.diag([2.0, 2.0, 1.0]) @ small_world.K
    np.savetxt(scene_copy / "intrinsic" / "intrinsic_color.txt", K_color)

    frame = load_scene(scene_copy).frames[0]
    assert frame.color_size == big and frame.depth_size == (small_world.width, small_world.height)
    np.testing.assert_allclose(frame.K_color, K_color[:3, :3])
    np.testing.assert_allclose(frame.K_depth, small_world.K, rtol=1e-12)


def test_depth_intrinsics_default_to_colour_intrinsics_at_equal_size(small_world, scene_copy):
    (scene_copy / "intrinsic" / "intrinsic_depth.txt").unlink()
    np.testing.assert_array_equal(load_scene(scene_copy).frames[0].K_depth, small_world.K)


def test_missing_pose_folder(scene_copy):
    shutil.rmtree(scene_copy / "pose")
    _fails("pose folder is missing", scene_copy / "pose", lambda: load_scene(scene_copy))
