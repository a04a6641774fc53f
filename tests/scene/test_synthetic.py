"""The synthetic world: arrangement rules, camera conventions, exact renders, and the native layout on disk."""
from __future__ import annotations

import dataclasses
import functools
import json
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from qagen.scene.synthetic import WorldRenderer, build_world, render_frame, write_demo_scenes, write_native
from qagen.scene.synthetic.native_writer import demo_seed, is_complete

SEED = 3
SEEDS = range(8)
SMALL_ON_TOP = {"cup", "book", "vase", "monitor", "tv"}


@functools.lru_cache(maxsize=None)
def _built(seed: int):
    """Worlds shared by the tests that only read them."""
    return build_world("x", seed)


@pytest.fixture(scope="module")
def world():
    return build_world("test_room", SEED)


@pytest.fixture(scope="module")
def frames(world):
    """(pose, colour, depth, instance) for every fourth frame."""
    renderer = WorldRenderer(world)
    return [(pose, *renderer.render(pose)) for pose in world.poses[::4]]


def _footprint(box) -> Polygon:
    return MultiPoint(box.corners()[:, :2]).convex_hull


def _z_range(box) -> tuple[float, float]:
    z = box.corners()[:, 2]
    return float(z.min()), float(z.max())


def _to_box_frame(box, points: np.ndarray) -> np.ndarray:
    return (points - box.center) @ box.rotation


def _back_project(K, pose, depth, us, vs) -> np.ndarray:
    """World points of pixels (us, vs) with depth taken as camera z, rays through pixel centres."""
    rays = np.stack([(us + 0.5 - K[0, 2]) / K[0, 0], (vs + 0.5 - K[1, 2]) / K[1, 1], np.ones(len(us))], axis=1)
    return (rays * depth[vs, us, None]) @ pose[:3, :3].T + pose[:3, 3]


def _project(K, pose, point) -> np.ndarray:
    """(u, v, z) of a world point in the camera."""
    cam = pose[:3, :3].T @ (point - pose[:3, 3])
    return np.array([K[0, 0] * cam[0] / cam[2] + K[0, 2], K[1, 1] * cam[1] / cam[2] + K[1, 2], cam[2]])


def _segment_hits_box(box, a, b, inflate: float) -> bool:
    """Slab test: does segment a-b pass through `box` grown by `inflate` on every side?"""
    la, lb = _to_box_frame(box, a), _to_box_frame(box, b)
    half = box.size / 2 + inflate
    t0, t1 = 0.0, 1.0
    for axis in range(3):
        d = lb[axis] - la[axis]
        if abs(d) < 1e-12:
            if abs(la[axis]) > half[axis]:
                return False
            continue
        lo, hi = sorted(((-half[axis] - la[axis]) / d, (half[axis] - la[axis]) / d))
        t0, t1 = max(t0, lo), min(t1, hi)
        if t0 > t1:
            return False
    return True


def _is_plain_box(obj) -> bool:
    """Objects whose mesh is exactly their box (cabinet, nightstand, box, book)."""
    return len(obj.vertices) == 8


def _worlds_equal(a, b) -> bool:
    def same(x, y):
        if dataclasses.is_dataclass(x):
            return type(x) is type(y) and all(same(getattr(x, f.name), getattr(y, f.name))
                                              for f in dataclasses.fields(x))
        if isinstance(x, (list, tuple)):
            return len(x) == len(y) and all(same(p, q) for p, q in zip(x, y))
        if isinstance(x, np.ndarray):
            return x.dtype == y.dtype and np.array_equal(x, y)
        return x == y

    return same(a, b)


# --- determinism --------------------------------------------------------------------------------


def test_same_seed_gives_the_same_world_and_pixels(world):
    again = build_world("test_room", SEED)
    assert _worlds_equal(world, again)
    pose = world.poses[len(world.poses) // 2]
    first, second = WorldRenderer(world).render(pose), render_frame(again, pose)
    for a, b in zip(first, second):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_a_longer_walk_is_the_same_world_captured_more_densely(world):
    """`frames` changes only the number of poses along the same loop: same room, objects and
    intrinsics, the same first pose, steps no longer than the default walk's."""
    dense = build_world("test_room", SEED, frames=150)
    assert len(dense.poses) == 150 and len(world.poses) != 150
    assert _worlds_equal(dataclasses.replace(dense, poses=world.poses), world)
    assert np.allclose(dense.poses[0], world.poses[0])
    assert _longest_step(dense.poses) <= _longest_step(world.poses) + 1e-9


def _longest_step(poses) -> float:
    return max(np.linalg.norm(b[:3, 3] - a[:3, 3]) for a, b in zip(poses, poses[1:]))


def test_different_seeds_give_different_rooms():
    worlds = [_built(seed) for seed in SEEDS]
    for a, b in combinations(worlds, 2):
        assert not _worlds_equal(a, b)
        assert a.room.floor_polygon.shape != b.room.floor_polygon.shape or not np.allclose(
            a.room.floor_polygon, b.room.floor_polygon)


# --- room, objects, arrangement -----------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_room_is_a_rectangle_or_an_l(seed):
    room = _built(seed).room
    ring = room.floor_polygon
    assert len(ring) in (4, 6)
    edges = np.roll(ring, -1, axis=0) - ring
    assert np.all(np.min(np.abs(edges), axis=1) == 0), "walls are axis-aligned"
    assert Polygon(ring).is_valid and Polygon(ring).exterior.is_ccw
    width, depth = np.ptp(ring, axis=0)
    assert 3.5 <= width <= 8.0 and 3.5 <= depth <= 8.0
    assert 2.5 <= room.height <= 3.0


@pytest.mark.parametrize("seed", SEEDS)
def test_objects_stand_inside_the_room_apart_and_supported(seed):
    world = _built(seed)
    floor = Polygon(world.room.floor_polygon)
    objects = world.objects
    assert 10 <= len(objects) <= 20
    assert [o.id for o in objects] == list(range(1, len(objects) + 1))
    for obj in objects:
        assert floor.contains(_footprint(obj.box).buffer(0.05 - 1e-9)), obj
        bottom, top = _z_range(obj.box)
        assert top <= world.room.height - 0.1
        assert np.allclose(obj.box.rotation[:, 2], [0, 0, 1]) and np.allclose(obj.box.rotation[2], [0, 0, 1])
        if bottom == pytest.approx(0.0, abs=1e-12):
            assert obj.label not in SMALL_ON_TOP
        else:  # stands on exactly one other object, inside its top surface
            supports = [o for o in objects if o is not obj and _z_range(o.box)[1] == pytest.approx(bottom, abs=1e-9)
                        and _footprint(o.box).contains(_footprint(obj.box))]
            assert len(supports) == 1, obj
    for a, b in combinations(objects, 2):
        (a0, a1), (b0, b1) = _z_range(a.box), _z_range(b.box)
        stacked = a1 <= b0 + 1e-9 or b1 <= a0 + 1e-9
        assert stacked or _footprint(a.box).distance(_footprint(b.box)) >= 0.05 - 1e-9, (a.id, b.id)


@pytest.mark.parametrize("seed", SEEDS)
def test_each_box_is_the_tight_box_of_its_mesh(seed):
    for obj in _built(seed).objects:
        local = _to_box_frame(obj.box, obj.vertices)
        np.testing.assert_allclose(local.min(axis=0), -obj.box.size / 2, atol=1e-9)
        np.testing.assert_allclose(local.max(axis=0), obj.box.size / 2, atol=1e-9)
        assert obj.triangles.max() < len(obj.vertices)


def test_labels_vary_across_rooms_and_repeat_within_rooms():
    worlds = [_built(seed) for seed in range(5)]
    assert len({o.label for w in worlds for o in w.objects}) >= 12
    for w in worlds:
        labels = [o.label for o in w.objects]
        assert len(set(labels)) < len(labels)
        assert all(o.color == next(p.color for p in w.objects if p.label == o.label) for o in w.objects)
    colors = {o.label: o.color for w in worlds for o in w.objects}
    assert len(set(colors.values())) == len(colors), "one distinct colour per label"


def test_some_objects_are_turned_about_z():
    yaws = [np.arctan2(o.box.rotation[1, 0], o.box.rotation[0, 0]) for seed in SEEDS
            for o in _built(seed).objects]
    off_axis = [y for y in yaws if min(abs(y - k * np.pi / 2) for k in range(-2, 3)) > np.radians(5)]
    assert len(off_axis) >= 5


# --- camera -------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_camera_walk_rules(seed):
    world = _built(seed)
    K = world.K
    assert (world.width, world.height) == (640, 480)
    assert K[0, 0] == K[1, 1] and 520 <= K[0, 0] <= 580 and (K[0, 2], K[1, 2]) == (320, 240)
    assert 30 <= len(world.poses) <= 60
    floor = Polygon(world.room.floor_polygon)
    footprints = [_footprint(o.box) for o in world.objects]
    for pose in world.poses:
        R = pose[:3, :3]
        np.testing.assert_allclose(R.T @ R, np.eye(3), atol=1e-12)
        assert np.linalg.det(R) == pytest.approx(1.0)
        np.testing.assert_array_equal(pose[3], [0, 0, 0, 1])
        assert 1.2 <= pose[2, 3] <= 1.7
        pitch_down = np.degrees(np.arcsin(-R[2, 2]))
        assert 10 - 1e-9 <= pitch_down <= 30 + 1e-9
        assert abs(np.degrees(np.arcsin(R[2, 0]))) <= 3, "roll"
        here = Point(pose[:2, 3])
        assert floor.buffer(-0.6).contains(here)
        assert all(f.distance(here) >= 0.3 for f in footprints)
    for a, b in zip(world.poses, world.poses[1:]):
        assert np.linalg.norm(b[:3, 3] - a[:3, 3]) <= 0.28
        turn = np.degrees(np.arccos(np.clip((np.trace(a[:3, :3].T @ b[:3, :3]) - 1) / 2, -1, 1)))
        assert turn <= 15


def test_opencv_axes_in_poses_and_pixels(world, frames):
    K = world.K
    for pose in world.poses:
        ahead = pose[:3, 3] + 2.0 * pose[:3, 2]
        u, v, z = _project(K, pose, ahead)
        assert z == pytest.approx(2.0)
        u_up, v_up, _ = _project(K, pose, ahead + [0, 0, 0.3])
        assert v_up < v, "world up is up in the image"
        assert u_up == pytest.approx(u, abs=0.1 * 0.3 * K[0, 0])  # small roll only
        right = _project(K, pose, ahead + 0.3 * pose[:3, 0])
        assert right[0] > u
    for pose, _, depth, _ in frames:
        us = np.arange(0, 640, 8)
        top = _back_project(K, pose, depth, us, np.full(len(us), 5))
        bottom = _back_project(K, pose, depth, us, np.full(len(us), 474))
        assert top[:, 2].mean() > bottom[:, 2].mean()


def test_most_frames_show_several_objects(frames):
    counts = []
    for _, _, _, instance in frames:
        ids, pixels = np.unique(instance, return_counts=True)
        counts.append(int(np.sum((ids > 0) & (pixels >= 400))))
    assert np.mean(np.array(counts) >= 3) >= 0.7, counts


# --- rendering ----------------------------------------------------------------------------------


def test_render_arrays_have_the_promised_types(world, frames):
    for _, color, depth, instance in frames:
        assert color.shape == (480, 640, 3) and color.dtype == np.uint8
        assert depth.shape == (480, 640) and depth.dtype == np.float32
        assert instance.shape == (480, 640) and instance.dtype == np.uint16
        assert np.all(depth > 0), "the room is closed: every ray hits something"
        assert set(np.unique(instance)) <= {0} | {o.id for o in world.objects}


def test_depth_is_the_camera_z_of_the_surface_hit(world, frames):
    """Back-projecting with depth as camera z lands exactly on the surface hit: on a plain box's
    faces for box objects, on the floor, ceiling or a wall for structure pixels."""
    rng = np.random.default_rng(0)
    floor = Polygon(world.room.floor_polygon)
    boxes = {o.id: o.box for o in world.objects if _is_plain_box(o)}
    checked_objects = 0
    for pose, _, depth, instance in frames:
        us, vs = rng.integers(0, 640, 3000), rng.integers(0, 480, 3000)
        points = _back_project(world.K, pose, depth, us, vs)
        ids = instance[vs, us]
        for point in points[ids == 0]:
            on_floor_or_ceiling = min(abs(point[2]), abs(point[2] - world.room.height)) < 1e-3
            on_wall = floor.exterior.distance(Point(point[:2])) < 1e-3 and 0 <= point[2] <= world.room.height
            assert on_floor_or_ceiling or on_wall, point
        for object_id, point in zip(ids, points):
            if object_id in boxes:
                box = boxes[object_id]
                scaled = np.abs(_to_box_frame(box, point)) - box.size / 2
                assert np.max(scaled) == pytest.approx(0.0, abs=1e-3)
                checked_objects += 1
    assert checked_objects >= 200


def test_instance_at_the_projected_centre_of_an_unoccluded_object(world, frames):
    floor = Polygon(world.room.floor_polygon)
    checked = 0
    for pose, _, _, instance in frames:
        camera = pose[:3, 3]
        for obj in world.objects:
            u, v, z = _project(world.K, pose, obj.box.center)
            if not (_is_plain_box(obj) and z > 0.3 and 2 <= u < 638 and 2 <= v < 478):
                continue
            if not floor.contains(LineString([camera[:2], obj.box.center[:2]])):
                continue
            if any(_segment_hits_box(o.box, camera, obj.box.center, inflate=0.02)
                   for o in world.objects if o is not obj):
                continue
            assert instance[int(v), int(u)] == obj.id
            checked += 1
    assert checked >= 5


def test_mask_pixels_lie_inside_their_object_box(world, frames):
    centers = np.array([o.box.center for o in world.objects])
    rotations = np.array([o.box.rotation for o in world.objects])
    halves = np.array([o.box.size / 2 for o in world.objects])
    seen = set()
    for pose, _, depth, instance in frames:
        vs, us = np.nonzero(instance)
        k = instance[vs, us].astype(int) - 1
        points = _back_project(world.K, pose, depth, us, vs)
        local = np.einsum("nij,ni->nj", rotations[k], points - centers[k])
        excess = np.max(np.abs(local) - halves[k], axis=1)
        assert excess.max() <= 0.01
        seen.update(k + 1)
    assert len(seen) >= 8


# --- native layout on disk ----------------------------------------------------------------------


def _short(world, n):
    return dataclasses.replace(world, poses=world.poses[:n])


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_write_native_layout_and_values(world, tmp_path):
    short = _short(world, 3)
    renderer = WorldRenderer(world)
    scene_dir = write_native(short, tmp_path)
    assert scene_dir == tmp_path / "test_room"
    assert [p.name for p in tmp_path.iterdir()] == ["test_room"], "no temporary folders left behind"
    frames = [f"{i:06d}" for i in range(3)]
    expected = {"scene.json", "intrinsic/intrinsic_color.txt", "intrinsic/intrinsic_depth.txt"}
    expected |= {f"{kind}/{f}.{ext}" for f in frames
                 for kind, ext in (("color", "jpg"), ("depth", "png"), ("instance", "png"), ("pose", "txt"))}
    assert _files(scene_dir) == expected

    meta = json.loads((scene_dir / "scene.json").read_text())
    assert set(meta) == {"id", "source", "up", "metric", "depth_scale", "license", "objects", "room"}
    assert (meta["id"], meta["source"], meta["up"], meta["metric"], meta["depth_scale"], meta["license"]) == (
        "test_room", "synthetic", [0, 0, 1], True, 1000, "CC0-1.0")
    assert [(o["id"], o["label"]) for o in meta["objects"]] == [(o.id, o.label) for o in world.objects]
    for stored, obj in zip(meta["objects"], world.objects):
        assert set(stored["box"]) == {"center", "size", "rotation"}
        for key in ("center", "size", "rotation"):
            np.testing.assert_array_equal(np.array(stored["box"][key]), getattr(obj.box, key))
    np.testing.assert_array_equal(np.array(meta["room"]["floor_polygon"]), world.room.floor_polygon)
    assert meta["room"]["height"] == world.room.height

    K4 = np.eye(4)
    K4[:3, :3] = world.K
    for name in ("intrinsic_color.txt", "intrinsic_depth.txt"):
        np.testing.assert_array_equal(np.loadtxt(scene_dir / "intrinsic" / name), K4)
    for name, pose in zip(frames, short.poses):
        color, depth, instance = renderer.render(pose)
        np.testing.assert_array_equal(np.loadtxt(scene_dir / "pose" / f"{name}.txt"), pose)
        stored_depth = np.asarray(Image.open(scene_dir / "depth" / f"{name}.png"))
        assert stored_depth.dtype == np.uint16
        np.testing.assert_array_equal(stored_depth, np.rint(depth * 1000).astype(np.uint16))
        stored_instance = np.asarray(Image.open(scene_dir / "instance" / f"{name}.png"))
        assert stored_instance.dtype == np.uint16
        np.testing.assert_array_equal(stored_instance, instance)
        stored_color = np.asarray(Image.open(scene_dir / "color" / f"{name}.jpg"))
        assert stored_color.shape == color.shape
        assert np.abs(stored_color.astype(int) - color).mean() < 3


def test_write_native_replaces_a_previous_scene(world, tmp_path):
    write_native(_short(world, 3), tmp_path)
    scene_dir = write_native(_short(world, 2), tmp_path)
    assert sorted(p.name for p in (scene_dir / "pose").iterdir()) == ["000000.txt", "000001.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["test_room"]


def test_is_complete_notices_missing_files_and_other_worlds(world, tmp_path):
    short = _short(world, 2)
    scene_dir = write_native(short, tmp_path)
    assert is_complete(short, scene_dir)
    assert not is_complete(_short(world, 3), scene_dir)
    assert not is_complete(dataclasses.replace(build_world("test_room", SEED + 1), poses=short.poses), scene_dir)
    (scene_dir / "instance" / "000001.png").unlink()
    assert not is_complete(short, scene_dir)


def test_demo_scenes_are_named_seeded_and_cached(tmp_path):
    (path,) = write_demo_scenes(tmp_path, n=1, seed=3)
    assert path == tmp_path / "demo_0000"
    world = build_world("demo_0000", demo_seed(3, 0))
    assert is_complete(world, path)
    stamps = {p: p.stat().st_mtime_ns for p in path.rglob("*")}
    assert write_demo_scenes(tmp_path, n=1, seed=3) == [path]
    assert {p: p.stat().st_mtime_ns for p in path.rglob("*")} == stamps, "a complete scene is not rewritten"
    assert len({demo_seed(3, k) for k in range(3)} | {demo_seed(4, 0)}) == 4
