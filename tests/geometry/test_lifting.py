"""lift_frames on hand-built frames with known answers, and every backend against the reference."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from qagen.geometry.lifting import (
    MEDIAN_BINS,
    ExtentGrid,
    extent_histograms,
    frame_depth_median,
    lift_frames,
    lift_frames_reference,
    mask_boxes,
    robust_extents,
)
from qagen.geometry.projection import backproject_pixels

def available_backends() -> tuple[str, ...]:
    """The CPU backends everywhere, and the CUDA ones (plain torch, Triton) on a machine with a GPU,
    so the same tests check the CUDA path wherever one is present."""
    import torch

    from qagen.geometry.lifting_torch import triton_available

    if not torch.cuda.is_available():
        return ("numba", "torch")
    return ("numba", "torch", "torch-cuda") + (("triton",) if triton_available() else ())


BACKENDS = available_backends()
W, H = 16, 12
K = np.array([[100.0, 0.0, 8.0], [0.0, 100.0, 6.0], [0.0, 0.0, 1.0]])
# Camera at (1, 2, 3) looking along world +Y, image down = world -Z.
C2W = np.array([[1.0, 0, 0, 1], [0, 0, 1, 2], [0, -1, 0, 3], [0, 0, 0, 1]])


def plane_frame():
    """Object 0: rows 2-4 x cols 3-6 at 2 m. Object 1: rows 7-8 x cols 9-13 with mixed depths,
    three of them invalid. Background (-1) has depth too, which must be ignored."""
    depth = np.full((1, H, W), 5.0, np.float32)
    ids = np.full((1, H, W), -1, np.int32)
    ids[0, 2:5, 3:7] = 0
    depth[0, 2:5, 3:7] = 2.0
    ids[0, 7:9, 9:14] = 1
    depth[0, 7, 9:14] = [1.0, 1.5, 0.0, np.nan, 3.0]
    depth[0, 8, 9:14] = [1.25, 2.0, 2.5, 0.0, 4.0]
    return depth, ids


@pytest.mark.parametrize("lift", ["reference", *BACKENDS])
def test_fronto_parallel_plane_gives_exact_statistics(lift):
    depth, ids = plane_frame()
    centres = np.full((2, 3), np.nan)
    stats = _lift(lift, depth, ids, K[None], C2W[None], centres)

    assert stats.pixels[0].tolist() == [12, 10]
    assert stats.valid_pixels[0].tolist() == [12, 7]
    assert stats.bbox[0].tolist() == [[3, 2, 6, 4], [9, 7, 13, 8]]
    # Object 0: pixel centres u 3.5..6.5, v 2.5..4.5 at z = 2 -> camera x = 2 (u - 8) / 100, y = 2 (v - 6) / 100;
    # world = (x + 1, z + 2, 3 - y).
    np.testing.assert_allclose(stats.centroid[0, 0], [0.94, 4.0, 3.05], atol=1e-6)
    np.testing.assert_allclose(stats.pmin[0, 0], [0.91, 4.0, 3.03], atol=1e-6)
    np.testing.assert_allclose(stats.pmax[0, 0], [0.97, 4.0, 3.07], atol=1e-6)
    # Object 1: valid depths 1, 1.25, 1.5, 2, 2.5, 3, 4 -> lower median 2; world y = z + 2.
    assert stats.depth_median[0, 0] == pytest.approx(2.0, abs=1e-6)
    assert stats.depth_median[0, 1] == pytest.approx(2.0, abs=3.0 / MEDIAN_BINS)
    assert stats.pmin[0, 1, 1] == pytest.approx(3.0, abs=1e-6)
    assert stats.pmax[0, 1, 1] == pytest.approx(6.0, abs=1e-6)
    # Unknown centres: no marker can be placed.
    assert np.isnan(stats.marker_xy).all() and not stats.centre_on_mask.any()


def camera_point(u: float, v: float, z: float) -> np.ndarray:
    """World point (identity pose) that projects to pixel coordinates (u, v) with K."""
    return np.array([(u - K[0, 2]) / K[0, 0] * z, (v - K[1, 2]) / K[1, 1] * z, z])


@pytest.mark.parametrize("lift", ["reference", *BACKENDS])
def test_marker_rules(lift):
    ids = np.full((1, H, W), -1, np.int32)
    ids[0, 2:10, 4:12] = 0  # ring: an 8x8 square ...
    ids[0, 4:8, 6:10] = -1  # ... with a 4x4 hole around the projected centre
    ids[0, 0:2, 0:3] = 1  # block whose centre projects onto it
    ids[0, 10:12, 0:2] = 2  # centre behind the camera
    ids[0, 10:12, 14:16] = 3  # centre unknown
    ids[0, 11, 5] = ids[0, 11, 10] = 4  # two pixels equally far from its centre
    ids[0, 5:9, 15] = 5  # centre far left of the image
    depth = np.full((1, H, W), 2.0, np.float32)
    centres = np.stack(
        [
            camera_point(8.3, 6.2, 2.0),  # in the hole: nearest ring pixel is (10, 6)
            camera_point(1.7, 0.4, 2.0),  # on pixel (1, 0)
            -camera_point(1.0, 11.0, 2.0),  # behind
            np.full(3, np.nan),
            camera_point(8.0, 11.5, 2.0),  # (5.5, 11.5) and (10.5, 11.5) both 2.5 px away
            camera_point(-900.0, 6.9, 2.0),  # nearest is the column-15 pixel closest in row: row 6
        ]
    )
    stats = _lift(lift, depth, ids, K[None], np.eye(4)[None], centres)

    marker = stats.marker_xy[0]
    np.testing.assert_array_equal(marker[0], [10.5, 6.5])
    np.testing.assert_array_equal(marker[1], [1.5, 0.5])
    assert np.isnan(marker[2]).all() and np.isnan(marker[3]).all()
    np.testing.assert_array_equal(marker[4], [5.5, 11.5])  # tie: first pixel in row-major order
    np.testing.assert_array_equal(marker[5], [15.5, 6.5])
    assert stats.centre_on_mask[0].tolist() == [False, True, False, False, False, False]


def random_batch(seed: int, B: int = 3, H: int = 24, W: int = 40, O: int = 6):
    """Blocks of objects over noisy depth with invalid pixels, random poses, some odd centres."""
    rng = np.random.default_rng(seed)
    depth = rng.uniform(0.3, 4.3, (B, H, W)).astype(np.float32)
    depth[rng.random((B, H, W)) < 0.1] = 0.0
    depth[rng.random((B, H, W)) < 0.05] = np.nan
    ids = np.full((B, H, W), -1, np.int32)
    for b in range(B):
        for o in range(O):
            r, c = rng.integers(0, H - 2), rng.integers(0, W - 2)
            ids[b, r : r + rng.integers(1, 12), c : c + rng.integers(1, 20)] = o
    noise = rng.random((B, H, W)) < 0.05
    ids[noise] = rng.integers(-1, O, noise.sum())
    f = rng.uniform(20, 60, B)
    Ks = np.zeros((B, 3, 3))
    Ks[:, 0, 0], Ks[:, 1, 1], Ks[:, 0, 2], Ks[:, 1, 2], Ks[:, 2, 2] = f, f * 1.1, W / 2, H / 2, 1.0
    c2w = np.tile(np.eye(4), (B, 1, 1))
    for b in range(B):
        q, r = np.linalg.qr(rng.normal(size=(3, 3)))
        c2w[b, :3, :3] = q * np.sign(np.diag(r)) * np.sign(np.linalg.det(q * np.sign(np.diag(r))))
        c2w[b, :3, 3] = rng.normal(size=3)
    centres = rng.normal(size=(O, 3)) * 2
    for o in (0, 2):  # on a mask pixel of frame 0 (off it in the other frames, mostly)
        rows, cols = np.nonzero(ids[0] == o)
        centres[o] = backproject_pixels(cols[0], rows[0], 1.5, Ks[0], c2w[0])
    centres[1] = np.nan
    return depth, ids, Ks, c2w, centres


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("backend", BACKENDS)
def test_backends_agree_with_reference(seed, backend):
    depth, ids, Ks, c2w, centres = random_batch(seed)
    ref = lift_frames_reference(depth, ids, Ks, c2w, centres)
    got = lift_frames(depth, ids, Ks, c2w, centres, device=backend)

    assert (ref.pixels > 0).sum() > 10 and ref.centre_on_mask.any() and np.isfinite(ref.marker_xy).any()
    for name in ("pixels", "valid_pixels", "bbox", "marker_xy", "centre_on_mask"):
        np.testing.assert_array_equal(getattr(got, name), getattr(ref, name), err_msg=name)
    for name in ("centroid", "pmin", "pmax"):
        np.testing.assert_allclose(getattr(got, name), getattr(ref, name), atol=2e-5, err_msg=name)
    median_tolerance = 0.0 if backend == "numba" else 4.0 / MEDIAN_BINS
    np.testing.assert_allclose(got.depth_median, ref.depth_median, atol=median_tolerance, rtol=1e-7)


def test_frame_depth_median_is_exact_over_valid_depth_only():
    depth, _ = plane_frame()
    depth[0, 0, :4] = [-1.0, np.inf, -np.inf, 0.0]  # never valid
    z = np.sort(depth[np.isfinite(depth) & (depth > 0)])
    assert frame_depth_median(depth[0]) == z[(z.size - 1) // 2]
    # Many values: the median bin holds several of them and the partition must pick the exact one.
    rng = np.random.default_rng(1)
    many = rng.uniform(0.5, 8.0, (480, 640)).astype(np.float32)
    many[rng.random(many.shape) < 0.3] = np.nan
    z = np.sort(many[np.isfinite(many)])
    assert frame_depth_median(many) == z[(z.size - 1) // 2]
    assert np.isnan(frame_depth_median(np.zeros((4, 4), np.float32)))


@pytest.mark.parametrize("lift", ["reference", *BACKENDS])
def test_rejects_ids_beyond_the_object_count(lift):
    depth, ids = plane_frame()
    with pytest.raises(ValueError, match=r"ids must lie in \[-1, 1\) for 1 objects, got \[-1, 1\]"):
        _lift(lift, depth, ids, K[None], C2W[None], np.zeros((1, 3)))
    ids[0, 0, 0] = -2
    with pytest.raises(ValueError, match=r"got \[-2, 1\]"):
        _lift(lift, depth, ids, K[None], C2W[None], np.zeros((2, 3)))


def test_rejects_bad_shapes_and_devices():
    depth, ids = plane_frame()
    with pytest.raises(ValueError, match="must both be"):
        lift_frames(depth[:, :5], ids, K[None], C2W[None], np.zeros((2, 3)), device="numba")
    with pytest.raises(ValueError, match="unknown lifting device"):
        lift_frames(depth, ids, K[None], C2W[None], np.zeros((2, 3)), device="tpu")


@pytest.mark.parametrize("backend", BACKENDS)
def test_extent_histograms_count_lifted_points_per_world_axis(backend):
    depth, ids = plane_frame()
    ids[ids == 1] = -1
    grid = ExtentGrid(origin=np.full(3, -0.005), bin_size=0.01, n_bins=800)
    hist = extent_histograms(depth, ids, K[None], C2W[None], 1, grid, device=backend)

    # Object 0's 12 points: world x in {0.91, 0.93, 0.95, 0.97} x3, y = 4.0, z in {3.03, 3.05, 3.07} x4.
    assert hist.shape == (1, 3, 800)
    assert np.nonzero(hist[0, 0])[0].tolist() == [91, 93, 95, 97]
    assert hist[0, 0, [91, 93, 95, 97]].tolist() == [3, 3, 3, 3]
    assert hist[0, 1, 400] == 12 and hist[0, 1].sum() == 12
    assert hist[0, 2, [303, 305, 307]].tolist() == [4, 4, 4] and hist[0, 2].sum() == 12


def test_robust_extents_are_bin_centres_of_the_quantiles():
    grid = ExtentGrid(origin=np.array([0.0, 1.0, -1.0]), bin_size=0.01, n_bins=200)
    hist = np.zeros((2, 3, 200), np.int64)
    hist[0, 0, :100] = 1  # spread: 100 points, one per bin
    hist[0, 1, [10, 90]] = 50  # massed on two faces
    hist[0, 2, [0, 1, 2, 197, 198, 199]] = [1, 1, 96, 96, 1, 1]  # sparse outliers beyond the faces
    lo, hi = robust_extents(hist, grid)
    np.testing.assert_allclose(lo[0], [0.025, 1.105, -0.975])
    np.testing.assert_allclose(hi[0], [0.985, 1.905, 0.975])
    assert np.isnan(lo[1]).all() and np.isnan(hi[1]).all()


def _lift(name, depth, ids, K, c2w, centres):
    if name == "reference":
        return lift_frames_reference(depth, ids, K, c2w, centres)
    return lift_frames(depth, ids, K, c2w, centres, device=name)


def test_mask_boxes_are_each_index_tight_box():
    """Per object index: min/max column and row of its pixels (x2, y2 exclusive); indices below 0
    or from n_objects on are no object; an index without pixels gets NaN."""
    rng = np.random.default_rng(0)
    ids = rng.integers(-1, 9, size=(57, 83)).astype(np.int32)
    ids[ids == 3] = -1  # object 3 has no pixels
    boxes = mask_boxes(ids, 6)
    assert boxes.shape == (6, 4) and np.isnan(boxes[3]).all()
    for o in (0, 1, 2, 4, 5):
        rows, cols = np.nonzero(ids == o)
        assert boxes[o].tolist() == [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
    single = np.full((5, 7), -1, np.int32)
    single[2, 4] = 0
    assert mask_boxes(single, 1).tolist() == [[4, 2, 5, 3]]


def _probe_auto_device(env: dict) -> tuple[str, bool]:
    """(what "auto" resolves to, whether torch was imported to decide) in a fresh interpreter."""
    code = ("import sys; from qagen.geometry.lifting import resolve_device; "
            "print(resolve_device('auto'), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, check=True, capture_output=True,
                         text=True).stdout.split()
    return out[0], out[1] == "True"


def test_auto_device_with_every_cuda_device_hidden_is_numba_without_importing_torch():
    for hidden in ("", "-1"):
        assert _probe_auto_device({"CUDA_VISIBLE_DEVICES": hidden}) == ("numba", False)


def test_auto_device_is_a_cuda_backend_exactly_where_torch_sees_cuda():
    import torch

    device, _ = _probe_auto_device({})
    assert (device in ("torch-cuda", "triton")) == torch.cuda.is_available()
    assert device in ("numba", "torch-cuda", "triton")
