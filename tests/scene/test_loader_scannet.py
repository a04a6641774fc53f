"""The ScanNet loader on the synthetic world written in ScanNet's layout (with an axis alignment)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from qagen.scene import io
from qagen.scene.index import SceneIndex
from qagen.scene.loaders import discover_scenes, load_scene
from qagen.scene.synthetic import WorldRenderer
from support.errors import fails as _fails

BOX_ATOL = 1e-5  # the PLY stores vertices as float32


@pytest.fixture
def scene_copy(small_world_scannet_dir, tmp_path) -> Path:
    """A private copy of the written scene, free to break."""
    return Path(shutil.copytree(small_world_scannet_dir, tmp_path / "scans" / small_world_scannet_dir.name))


def _vertex_box(world_object) -> tuple[np.ndarray, np.ndarray]:
    return world_object.vertices.min(axis=0), world_object.vertices.max(axis=0)


def _is_axis_aligned(rotation: np.ndarray) -> bool:
    return bool(np.allclose(np.abs(rotation), np.round(np.abs(rotation)), atol=1e-9))


def _label_map(path: Path, world, drop: str | None = None) -> Path:
    """A ScanNet-style TSV: nyu40class = '<raw>_nyu' for objects, structure unchanged; category = 'thing'."""
    raw_labels = sorted({o.label for o in world.objects} | {s.label for s in world.structure})
    lines = ["id\traw_category\tcategory\tcount\tnyu40id\tnyu40class"]
    for number, raw in enumerate(raw_labels, start=1):
        if raw == drop:
            continue
        target = raw if raw in ("wall", "floor", "ceiling") else f"{raw}_nyu"
        category = raw if raw in ("wall", "floor", "ceiling") else "thing"
        lines.append(f"{number}\t{raw}\t{category}\t{10 * number}\t{number}\t{target}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_poses_and_intrinsics_recover_the_world_frame(small_world, small_world_scannet_dir):
    world = small_world
    scene = load_scene(small_world_scannet_dir, loader="scannet")

    assert (scene.id, scene.source, scene.room) == (world.scene_id, "scannet", None)
    assert (scene.depth_scale, scene.instance_offset, scene.metric) == (1000.0, 1, True)
    assert scene.skipped_frames == {}
    assert [f.index for f in scene.frames] == list(range(len(world.poses)))
    for frame, pose in zip(scene.frames, world.poses):
        np.testing.assert_allclose(frame.c2w, pose, rtol=0, atol=1e-12)
        assert frame.depth_size == (world.width, world.height)
        assert frame.color_size != frame.depth_size
        assert frame.color_size == io.image_size(frame.color_path)
        scale = np.diag([frame.color_size[0] / world.width, frame.color_size[1] / world.height, 1.0])
        np.testing.assert_allclose(frame.K_color, scale @ world.K, rtol=1e-15)
        np.testing.assert_array_equal(frame.K_depth, world.K)
        assert frame.color_path.name == f"{frame.index}.jpg"
        assert frame.instance_path == small_world_scannet_dir / "instance-filt" / f"{frame.index}.png"


def test_objects_are_the_world_objects_with_0_based_ids(small_world, small_world_scannet_dir):
    scene = load_scene(small_world_scannet_dir, loader="scannet")
    assert [(o.id, o.label) for o in scene.objects] == [(o.id - 1, o.label) for o in small_world.objects]
    assert not {"wall", "floor", "ceiling"} & {o.label for o in scene.objects}


def test_boxes_are_the_axis_aligned_boxes_of_the_meshes(small_world, small_world_scannet_dir):
    scene = load_scene(small_world_scannet_dir, loader="scannet")
    kinds = set()
    for truth in small_world.objects:
        box = scene.object(truth.id - 1).box
        low, high = _vertex_box(truth)
        np.testing.assert_allclose(box.center, (low + high) / 2, atol=BOX_ATOL)
        np.testing.assert_allclose(box.size, high - low, atol=BOX_ATOL)
        np.testing.assert_array_equal(box.rotation, np.eye(3))
        corners = truth.box.corners()
        if _is_axis_aligned(truth.box.rotation):
            kinds.add("axis-aligned")  # the oriented box is itself axis-aligned: same box
            np.testing.assert_allclose(box.center - box.size / 2, corners.min(axis=0), atol=BOX_ATOL)
            np.testing.assert_allclose(box.center + box.size / 2, corners.max(axis=0), atol=BOX_ATOL)
        else:
            kinds.add("yawed")  # the mesh's axis-aligned box lies inside that of the oriented box
            assert (box.center - box.size / 2 >= corners.min(axis=0) - BOX_ATOL).all()
            assert (box.center + box.size / 2 <= corners.max(axis=0) + BOX_ATOL).all()
    assert kinds == {"axis-aligned", "yawed"}


def test_native_and_scannet_layouts_give_the_same_scene(small_world_native_dir, small_world_scannet_dir):
    native = load_scene(small_world_native_dir)
    scannet = load_scene(small_world_scannet_dir, loader="scannet")
    for a, b in zip(native.frames, scannet.frames, strict=True):
        assert a.index == b.index
        np.testing.assert_allclose(a.c2w, b.c2w, atol=1e-12)
        np.testing.assert_array_equal(a.K_depth, b.K_depth)
        assert a.depth_size == b.depth_size
    assert [(o.id - 1, o.label) for o in native.objects] == [(o.id, o.label) for o in scannet.objects]
    for obj in native.objects:
        if _is_axis_aligned(obj.box.rotation):
            corners = obj.box.corners()
            box = scannet.object(obj.id - 1).box
            np.testing.assert_allclose(box.center, obj.box.center, atol=BOX_ATOL)
            np.testing.assert_allclose(box.size, corners.max(axis=0) - corners.min(axis=0), atol=BOX_ATOL)


def test_instance_masks_carry_object_ids_and_structure_ids(small_world_native_dir, small_world_scannet_dir):
    """Same pixels as the native mask (up to edges: ScanNet's masks are colour-sized), ids shifted by
    one; structure pixels hold ids that are not objects."""
    native = load_scene(small_world_native_dir)
    scannet = load_scene(small_world_scannet_dir, loader="scannet")
    object_ids = {o.id for o in scannet.objects}
    for a, b in zip(native.frames[::3], scannet.frames[::3]):
        ids_native = io.read_instance(a.instance_path, native.instance_offset, a.depth_size)
        on_color = io.read_instance(b.instance_path, scannet.instance_offset, b.color_size)
        ids_scannet = io.resample_by_homography(on_color, b.K_color @ np.linalg.inv(b.K_depth), b.depth_size)
        on_object = ids_native >= 0
        assert on_object.any()
        # colour-grid masks sampled onto the depth grid: the same ids but for a few edge pixels
        assert np.mean(ids_scannet[on_object] == ids_native[on_object] - 1) > 0.95
        structure = set(np.unique(on_color).tolist()) - object_ids - {-1}
        assert structure  # walls, floor: ids in the masks that are not objects
        depth = io.read_depth(b.depth_path, scannet.depth_scale, b.depth_size)
        np.testing.assert_array_equal(depth, io.read_depth(a.depth_path, native.depth_scale, a.depth_size))


def test_without_axis_alignment_poses_stay_in_the_stored_frame(small_world, small_world_axis_alignment, scene_copy):
    meta = scene_copy / f"{scene_copy.name}.txt"
    lines = meta.read_text().splitlines()
    meta.write_text("\n".join(line for line in lines if not line.startswith("axisAlignment")) + "\n")
    unaligned = np.linalg.inv(small_world_axis_alignment)
    scene = load_scene(scene_copy, loader="scannet")
    np.testing.assert_allclose(scene.frames[2].c2w, unaligned @ small_world.poses[2], atol=1e-12)
    meta.unlink()
    truth = small_world.objects[0]
    stored = truth.vertices @ unaligned[:3, :3].T + unaligned[:3, 3]
    box = load_scene(scene_copy, loader="scannet").object(truth.id - 1).box
    np.testing.assert_allclose(box.size, stored.max(axis=0) - stored.min(axis=0), atol=BOX_ATOL)


def test_bad_axis_alignment(scene_copy):
    meta = scene_copy / f"{scene_copy.name}.txt"
    meta.write_text("axisAlignment = 2 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1\n")
    _fails("axisAlignment is not rigid", meta, lambda: load_scene(scene_copy, loader="scannet"))
    meta.write_text("axisAlignment = 1 0 0 0\n")
    _fails("16 numbers, found 4", meta, lambda: load_scene(scene_copy, loader="scannet"))


def test_non_finite_pose_is_skipped_and_counted(small_world, scene_copy):
    (scene_copy / "pose" / "5.txt").write_text("-inf -inf -inf -inf\n" * 4)
    (scene_copy / "pose" / "8.txt").write_text("nan nan nan nan\n" * 4)
    scene = load_scene(scene_copy, loader="scannet")
    assert [f.index for f in scene.frames] == [i for i in range(len(small_world.poses)) if i not in (5, 8)]
    assert scene.skipped_frames == {"invalid_pose": 2}


def test_structure_labels_option(small_world, small_world_scannet_dir):
    everything = load_scene(small_world_scannet_dir, loader="scannet", structure_labels=())
    assert len(everything.objects) == len(small_world.objects) + len(small_world.structure)
    extra = [o.label for o in everything.objects[len(small_world.objects):]]
    assert extra == [s.label for s in small_world.structure]
    no_walls = load_scene(small_world_scannet_dir, loader="scannet", structure_labels=("floor", "ceiling"))
    assert sorted({o.label for o in no_walls.objects} - {o.label for o in small_world.objects}) == ["wall"]


def test_label_map_is_applied(small_world, small_world_scannet_dir, tmp_path):
    label_map = _label_map(tmp_path / "labels.tsv", small_world)
    scene = load_scene(small_world_scannet_dir, loader="scannet", label_map=label_map)
    assert [o.label for o in scene.objects] == [f"{o.label}_nyu" for o in small_world.objects]
    by_category = load_scene(small_world_scannet_dir, loader="scannet", label_map=label_map, label_column="category")
    assert {o.label for o in by_category.objects} == {"thing"}
    assert len(by_category.objects) == len(small_world.objects)


def test_raw_label_missing_from_the_map(small_world, small_world_scannet_dir, tmp_path):
    missing = small_world.objects[0].label
    label_map = _label_map(tmp_path / "labels.tsv", small_world, drop=missing)
    error = _fails(f"raw label {missing!r}", label_map,
                   lambda: load_scene(small_world_scannet_dir, loader="scannet", label_map=label_map))
    assert "nyu40class" in error.problem


def test_label_map_without_the_column(small_world, small_world_scannet_dir, tmp_path):
    label_map = _label_map(tmp_path / "labels.tsv", small_world)
    _fails("no column 'mpcat40'", label_map,
           lambda: load_scene(small_world_scannet_dir, loader="scannet", label_map=label_map, label_column="mpcat40"))


def test_segments_that_do_not_match_the_mesh(scene_copy):
    segs = scene_copy / f"{scene_copy.name}_vh_clean_2.0.010000.segs.json"
    content = json.loads(segs.read_text())
    content["segIndices"] = content["segIndices"][:-5]
    segs.write_text(json.dumps(content))
    error = _fails("segIndices but the mesh", segs, lambda: load_scene(scene_copy, loader="scannet"))
    assert "_vh_clean_2.ply" in error.problem


def test_aggregation_problems(scene_copy):
    aggregation = scene_copy / f"{scene_copy.name}.aggregation.json"
    content = json.loads(aggregation.read_text())
    content["segGroups"][1]["objectId"] = content["segGroups"][0]["objectId"]
    aggregation.write_text(json.dumps(content))
    _fails("objectId repeated: [0]", aggregation, lambda: load_scene(scene_copy, loader="scannet"))
    del content["segGroups"][1]["label"]
    aggregation.write_text(json.dumps(content))
    _fails("missing required key 'label' in segGroups[1]", aggregation,
           lambda: load_scene(scene_copy, loader="scannet"))


def test_object_without_vertices(scene_copy):
    aggregation = scene_copy / f"{scene_copy.name}.aggregation.json"
    content = json.loads(aggregation.read_text())
    content["segGroups"][2]["segments"] = [999999]
    aggregation.write_text(json.dumps(content))
    _fails("object 2", aggregation, lambda: load_scene(scene_copy, loader="scannet"))


def test_unreadable_mesh(scene_copy):
    mesh = scene_copy / f"{scene_copy.name}_vh_clean_2.ply"
    mesh.write_bytes(b"ply\nformat nonsense\n")
    _fails("not a readable PLY", mesh, lambda: load_scene(scene_copy, loader="scannet"))


def test_masks_on_the_colour_grid_are_read_onto_the_depth_grid(small_world, small_world_scannet_dir):
    """Released instance-filt masks are colour-sized; the index samples them onto the depth grid."""
    scene = load_scene(small_world_scannet_dir, loader="scannet")
    assert all(f.instance_on_color for f in scene.frames)
    index = SceneIndex.build(scene)
    depth_masks = [WorldRenderer(small_world).render(pose)[2] for pose in small_world.poses]
    for row in range(len(index)):
        frame, object_id = index.obs["frame"][row], index.obs["object"][row]
        truth = int((depth_masks[frame] == object_id + 1).sum())  # ScanNet objectId = world id - 1
        assert abs(int(index.obs["pixels"][row]) - truth) <= max(3, 0.1 * truth)


def test_masks_of_a_third_size_are_rejected(scene_copy):
    Image.fromarray(np.zeros((7, 9), np.uint8)).save(scene_copy / "instance-filt" / "0.png")
    error = _fails("instance mask is 9x7", scene_copy / "instance-filt" / "0.png",
                   lambda: load_scene(scene_copy, loader="scannet"))
    assert "depth/0.png" in error.problem and "color/0.jpg" in error.problem


def test_depth_intrinsics_are_required(scene_copy):
    path = scene_copy / "intrinsic" / "intrinsic_depth.txt"
    path.unlink()
    _fails("missing", path, lambda: load_scene(scene_copy, loader="scannet"))


def test_discover_scannet_scenes(small_world_scannet_dir, tmp_path):
    root = small_world_scannet_dir.parent.parent
    assert discover_scenes(root, "scannet") == [small_world_scannet_dir]
    assert discover_scenes(root / "scans", "scannet") == [small_world_scannet_dir]
    assert discover_scenes(small_world_scannet_dir, "scannet") == [small_world_scannet_dir]
    for name in ("scene0002_00", "scene0001_00"):
        (tmp_path / "scans" / name).mkdir(parents=True)
        (tmp_path / "scans" / name / f"{name}.aggregation.json").write_text("{}")
    (tmp_path / "scans" / "notes").mkdir()
    assert discover_scenes(tmp_path, "scannet") == [tmp_path / "scans" / "scene0001_00",
                                                     tmp_path / "scans" / "scene0002_00"]


def _colour_mask_box(path: Path, object_id: int) -> list[float]:
    """Tight box, in colour pixels (x2, y2 exclusive), of an object in a ScanNet instance-filt PNG."""
    rows, cols = np.nonzero(np.asarray(Image.open(path)).astype(int) == object_id + 1)  # stored: objectId + 1
    return [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]


def test_colour_grid_masks_give_their_boxes_on_the_colour_grid(small_world_scannet_dir):
    scene = load_scene(small_world_scannet_dir, loader="scannet")
    index = SceneIndex.build(scene)
    obs = index.obs
    for row in range(len(index)):
        frame = scene.frames[obs["frame"][row]]
        box = [float(obs[name][row]) for name in ("color_x1", "color_y1", "color_x2", "color_y2")]
        assert box == _colour_mask_box(frame.instance_path, int(obs["object"][row]))


def test_a_thin_part_the_depth_grid_misses_stays_in_the_marker_box(scene_copy):
    """The colour grid is twice as fine as the depth grid here, which samples its odd columns only:
    a one-pixel line on an even column vanishes from the lifted mask but not from the box marker."""
    from qagen.tasks.context import TaskContext
    from qagen.tasks.markers import mask_boxes

    scene = load_scene(scene_copy, loader="scannet")
    index = SceneIndex.build(scene)
    row = int(np.argmax(index.obs["pixels"] * (index.obs["frame"] == 0)))
    object_id = int(index.obs["object"][row])
    path = scene.frames[0].instance_path
    x1, y1, x2, y2 = _colour_mask_box(path, object_id)
    W, H = scene.frames[0].color_size
    line = x2 + 4 + (x2 % 2) if x2 + 5 < W else x1 - 5 - ((x1 - 5) % 2)  # an even column beside the object
    mask = np.asarray(Image.open(path)).copy()
    mask[y1:y2, line] = object_id + 1
    Image.fromarray(mask).save(path)

    index = SceneIndex.build(scene)
    row = int(np.flatnonzero((index.obs["frame"] == 0) & (index.obs["object"] == object_id))[0])
    lifted = 2 * index.obs["x1"][row], 2 * (index.obs["x2"][row] + 1)  # the depth-grid box on the colour grid
    assert not lifted[0] <= line < lifted[1]  # the lifted mask lost the line
    want = [min(x1, line), y1, max(x2, line + 1), y2]
    assert [float(index.obs[n][row]) for n in ("color_x1", "color_y1", "color_x2", "color_y2")] == want
    ctx = TaskContext(scene, index, spec=None, rng=np.random.default_rng(0))
    expected = np.clip(np.rint(np.array(want, float) / [W, H, W, H] * 1000), 0, 1000).astype(int)
    assert mask_boxes(ctx, np.array([row]))[0].tolist() == expected.tolist()
