"""SceneIndex on a tiny ray-cast scene written as PNGs: rows, visibility, truncation, fused boxes."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from qagen.scene.index import COLUMNS, SceneIndex, kept_depth_frames
from qagen.scene.model import Box, Frame, Scene, SceneObject

W, H = 160, 120  # 1/16 of the 640x480 reference area: min_pixels 400 means 25 pixels here
K = np.array([[100.0, 0.0, 80.0], [0.0, 100.0, 60.0], [0.0, 0.0, 1.0]])
FLOOR = 40  # in the masks, but structure: not a scene object
CUBE, BENCH, CRATE = 3, 5, 8
TRUE_BOXES = {  # axis-aligned (lo, hi)
    CUBE: (np.array([-0.3, 2.7, 0.0]), np.array([0.3, 3.3, 0.6])),
    # Seen from frame 1 (eye (10, 0, 1), looking along +Y): the near face spans u in [-100, 100] and
    # v in [30, 90], so exactly half of the projected outline is left of the image.
    BENCH: (np.array([8.2, 1.0, 0.7]), np.array([10.2, 1.4, 1.3])),
    CRATE: (np.array([2.0, 2.0, 0.0]), np.array([2.6, 2.4, 0.5])),
}
CRATE_CENTRE = np.array([2.3, 2.2, 0.25])
EYES_AND_TARGETS = [
    ((0.0, 0.0, 1.0), (0.0, 3.0, 0.3)),
    ((10.0, 0.0, 1.0), (10.0, 1.0, 1.0)),
    *[(tuple(CRATE_CENTRE + offset), tuple(CRATE_CENTRE)) for offset in ((2.0, 0, 1.2), (-2.0, 0, 1.2), (0, 2.0, 1.2), (0, -2.0, 1.2))],
]


def look_at(eye, target) -> np.ndarray:
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    c2w = np.eye(4)
    c2w[:3, :3] = np.stack([right, np.cross(forward, right), forward], axis=1)
    c2w[:3, 3] = eye
    return c2w


def render(c2w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera-z depth and ids by casting one ray per pixel centre at the boxes and the floor z = 0."""
    cols, rows = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    rays = np.stack([cols, rows, np.ones_like(cols)], -1) @ np.linalg.inv(K).T @ c2w[:3, :3].T  # camera z = 1
    origin = c2w[:3, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        floor_t = np.where(rays[..., 2] < 0, -origin[2] / rays[..., 2], np.inf)
        best_t, best_id = floor_t, np.where(np.isfinite(floor_t), FLOOR, 0)
        for oid, (lo, hi) in TRUE_BOXES.items():
            t1, t2 = (lo - origin) / rays, (hi - origin) / rays
            near, far = np.minimum(t1, t2).max(-1), np.maximum(t1, t2).min(-1)
            hit = (near <= far) & (near > 0) & (near < best_t)
            best_t, best_id = np.where(hit, near, best_t), np.where(hit, oid, best_id)
    return np.where(np.isfinite(best_t), best_t, 0.0), best_id


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> tuple[Scene, list[np.ndarray], list[np.ndarray]]:
    root = tmp_path_factory.mktemp("scene")
    (root / "depth").mkdir()
    (root / "instance").mkdir()
    frames, depths, masks = [], [], []
    for i, (eye, target) in enumerate(EYES_AND_TARGETS):
        c2w = look_at(eye, target)
        depth, ids = render(c2w)
        stored = np.round(depth * 1000).astype(np.uint16)
        Image.fromarray(stored).save(root / "depth" / f"{i}.png")
        Image.fromarray(ids.astype(np.uint16)).save(root / "instance" / f"{i}.png")
        depths.append(stored / 1000.0)
        masks.append(ids)
        frames.append(
            Frame(index=10 * (i + 1), c2w=c2w, K_color=K, color_size=(W, H),
                  depth_path=root / "depth" / f"{i}.png", instance_path=root / "instance" / f"{i}.png")
        )  # fmt: skip
    boxes = {oid: Box(center=(lo + hi) / 2, size=hi - lo, rotation=np.eye(3)) for oid, (lo, hi) in TRUE_BOXES.items()}
    objects = [
        SceneObject(CUBE, "cube", boxes[CUBE]),
        SceneObject(BENCH, "bench", boxes[BENCH]),
        SceneObject(CRATE, "crate", None),
    ]
    return Scene(id="tiny", source="test", root=root, frames=frames, objects=objects), depths, masks


@pytest.fixture(scope="module")
def index(scene) -> SceneIndex:
    return SceneIndex.build(scene[0], device="numba", batch_size=4)


def test_rows_match_the_masks_on_disk(scene, index):
    _, depths, masks = scene
    obs = index.obs
    # One row per (frame, object) seen, by frame and then in the scene's object order; never the floor.
    expected = [(f, oid) for f, ids in enumerate(masks) for oid in (CUBE, BENCH, CRATE) if (ids == oid).any()]
    assert list(zip(obs["frame"].tolist(), obs["object"].tolist())) == expected
    assert obs["frame_index"].tolist() == [10 * (f + 1) for f in obs["frame"]]
    for row in range(len(index)):
        mask = masks[obs["frame"][row]] == obs["object"][row]
        rows, cols = np.nonzero(mask)
        assert obs["pixels"][row] == obs["valid_pixels"][row] == mask.sum()
        assert [obs[k][row] for k in ("x1", "y1", "x2", "y2")] == [cols.min(), rows.min(), cols.max(), rows.max()]
        z = np.sort(depths[obs["frame"][row]][mask])
        assert obs["depth_median"][row] == pytest.approx(z[(z.size - 1) // 2], abs=1e-6)
    assert index.mask_size.tolist() == [[W, H]] * len(EYES_AND_TARGETS)
    assert list(index.to_pandas().columns) == list(COLUMNS)


def test_frame_depth_median_is_the_lower_median_of_valid_depth(scene, index):
    _, depths, _ = scene
    assert any((d == 0).any() for d in depths)  # some frames see past the floor: invalid pixels
    for f, depth in enumerate(depths):
        z = np.sort(depth[depth > 0])
        assert index.frame_depth_median[f] == pytest.approx(z[(z.size - 1) // 2], abs=1e-6)


def test_index_keeps_the_depth_of_frames_spread_over_the_capture(scene, index):
    _, depths, _ = scene
    kept = kept_depth_frames(len(depths))
    assert kept.tolist() == sorted(index.depth_maps) and kept[0] == 0 and kept[-1] == len(depths) - 1
    for f in kept:
        np.testing.assert_allclose(index.depth_maps[f], depths[f], atol=1e-6)


def test_fused_box_matches_the_true_box(index):
    assert index.fused == {CRATE}
    assert set(index.boxes) == {CUBE, BENCH, CRATE}
    lo, hi = TRUE_BOXES[CRATE]
    fused = index.boxes[CRATE]
    # 2-98 % quantiles of surface points: exact where a face holds >= 2 % of the points, else a
    # couple of centimetres inside (the bottom, which no camera sees).
    np.testing.assert_allclose(fused.center, (lo + hi) / 2, atol=0.015)
    np.testing.assert_allclose(fused.size, hi - lo, atol=0.03)
    np.testing.assert_array_equal(fused.rotation, np.eye(3))


def test_truncation_of_a_box_half_out_of_the_image(index):
    row = index.rows_for_object(BENCH)[index.obs["frame"][index.rows_for_object(BENCH)] == 1][0]
    assert index.obs["truncation"][row] == pytest.approx(0.5, abs=1e-9)
    assert row not in index.visible(1)
    assert row in index.visible(1, max_truncation=0.6)


def test_visible_rows_obey_every_rule(scene, index):
    _, _, masks = scene
    obs = index.obs
    cube_row = index.rows_for_object(CUBE)[0]
    assert obs["frame"][cube_row] == 0 and obs["truncation"][cube_row] == 0.0
    assert cube_row in index.visible(0)
    seen_any = False
    for f in range(len(masks)):
        visible = index.visible(f)
        for row in range(*np.searchsorted(obs["frame"], [f, f + 1])):
            x, y = obs["marker_x"][row], obs["marker_y"][row]
            rule = obs["pixels"][row] >= 25 and obs["truncation"][row] < 0.3 and np.isfinite(x)
            assert (row in visible) == rule
            if np.isfinite(x):  # markers always sit on the object's own mask, at a pixel centre
                assert masks[f][int(y), int(x)] == obs["object"][row] and x % 1 == y % 1 == 0.5
            seen_any |= rule
    assert seen_any
    # min_pixels is given at 640x480 and scaled by the mask area (1/16 here).
    pixels = obs["pixels"][cube_row]
    assert cube_row in index.visible(0, min_pixels=16 * pixels)
    assert cube_row not in index.visible(0, min_pixels=16 * pixels + 16)


def test_visible_frames_of_the_fused_object(index):
    rows = index.rows_for_object(CRATE)
    frames = index.obs["frame"][rows]
    assert np.all(np.diff(frames) > 0) and {2, 3, 4, 5} <= set(frames.tolist())
    visible = index.visible_frames(CRATE)
    assert set(visible.tolist()) == {f for f in frames.tolist() if index.visible(f).size and CRATE in index.obs["object"][index.visible(f)]}
    assert {2, 3, 4, 5} <= set(visible.tolist())
    assert index.rows_for_object(FLOOR).size == 0


def test_torch_backend_builds_the_same_index(scene, index):
    other = SceneIndex.build(scene[0], device="torch", batch_size=3)
    for name in COLUMNS:
        if name == "depth_median":
            np.testing.assert_allclose(other.obs[name], index.obs[name], atol=0.01)
        elif index.obs[name].dtype.kind == "f":
            np.testing.assert_allclose(other.obs[name], index.obs[name], atol=1e-4, err_msg=name)
        else:
            np.testing.assert_array_equal(other.obs[name], index.obs[name], err_msg=name)


def test_colour_intrinsics_are_scaled_to_the_depth_grid(scene, index):
    """A frame with a 2x colour image and no K_depth lifts exactly like one given the depth K."""
    doubled = [
        dataclasses.replace(f, K_color=np.diag([2.0, 2.0, 1.0]) @ K, color_size=(2 * W, 2 * H), depth_size=(W, H))
        for f in scene[0].frames
    ]
    other = SceneIndex.build(dataclasses.replace(scene[0], frames=doubled), device="numba")
    for name in COLUMNS:
        np.testing.assert_allclose(other.obs[name], index.obs[name], atol=1e-9, err_msg=name)


def test_scene_without_objects_has_no_rows(scene):
    empty = SceneIndex.build(dataclasses.replace(scene[0], objects=[]), device="numba")
    assert len(empty) == 0 and empty.visible(0).size == 0 and empty.boxes == {}
    assert list(empty.to_pandas().columns) == list(COLUMNS)
