"""Readers in qagen.scene.io: exact values for good files, a named InputError for every bad one."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from qagen.errors import InputError
from qagen.scene import io
from support.errors import fails


def _png(path: Path, array: np.ndarray) -> Path:
    Image.fromarray(array).save(path)
    return path


def _text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


DEPTH_MM = np.array([[0, 1000, 2500, 65535], [1, 2, 3, 4], [500, 0, 750, 1250]], dtype=np.uint16)
POSE = np.array(
    [[0.0, -1.0, 0.0, 1.5], [0.0, 0.0, -1.0, 2.0], [1.0, 0.0, 0.0, 1.2], [0.0, 0.0, 0.0, 1.0]]
)


def _matrix_text(matrix) -> str:
    return "\n".join(" ".join(str(v) for v in row) for row in matrix) + "\n"


# ---------------------------------------------------------------- images


def test_image_size_reads_width_then_height(tmp_path):
    assert io.image_size(_png(tmp_path / "a.png", np.zeros((3, 5, 3), np.uint8))) == (5, 3)


def test_read_depth_divides_by_scale_and_keeps_zero_invalid(tmp_path):
    depth = io.read_depth(_png(tmp_path / "d.png", DEPTH_MM), 1000.0, expected_size=(4, 3))
    assert depth.dtype == np.float32 and depth.shape == (3, 4)
    np.testing.assert_array_equal(depth, (DEPTH_MM.astype(np.float32) / np.float32(1000)).astype(np.float32))
    assert depth[0, 0] == 0 and depth[2, 1] == 0
    assert io.read_depth(tmp_path / "d.png", 4000.0)[0, 1] == pytest.approx(0.25)


def test_read_depth_rejects_8_bit(tmp_path):
    path = _png(tmp_path / "d8.png", DEPTH_MM.astype(np.uint8))
    _fails(path, "16-bit", lambda: io.read_depth(path, 1000.0))


def test_read_depth_rejects_colour_png(tmp_path):
    path = _png(tmp_path / "rgb.png", np.zeros((3, 4, 3), np.uint8))
    _fails(path, "16-bit", lambda: io.read_depth(path, 1000.0))


def test_read_depth_wrong_size_names_both_sizes_and_the_reference(tmp_path):
    path = _png(tmp_path / "d.png", DEPTH_MM)
    error = _fails(path, "depth is 4x3", lambda: io.read_depth(path, 1000.0, (8, 6), expected_from="intrinsic_depth.txt"))
    assert "intrinsic_depth.txt says 8x6" in error.problem


def test_read_depth_rejects_bad_scale(tmp_path):
    path = _png(tmp_path / "d.png", DEPTH_MM)
    _fails(path, "depth scale", lambda: io.read_depth(path, 0.0))


def test_missing_image_is_named(tmp_path):
    path = tmp_path / "nothing.png"
    _fails(path, "missing", lambda: io.read_depth(path, 1000.0))
    _fails(path, "missing", lambda: io.image_size(path))
    _fails(path, "missing", lambda: io.read_instance(path, 0))


def test_garbage_image_is_named(tmp_path):
    path = tmp_path / "garbage.png"
    path.write_bytes(b"this is not a png at all" * 10)
    _fails(path, "not a readable image", lambda: io.read_depth(path, 1000.0))
    _fails(path, "not a readable image", lambda: io.image_size(path))


def test_truncated_png_header_ok_pixels_fail(tmp_path):
    full = _png(tmp_path / "full.png", np.arange(64 * 48, dtype=np.uint16).reshape(48, 64))
    path = tmp_path / "truncated.png"
    path.write_bytes(full.read_bytes()[:80])
    assert io.image_size(path) == (64, 48)  # the header survives
    _fails(path, "truncated or corrupt", lambda: io.read_depth(path, 1000.0))


def test_read_instance_shifts_by_offset_and_marks_none(tmp_path):
    stored = np.array([[0, 1, 2], [7, 0, 300]], dtype=np.uint16)
    native = io.read_instance(_png(tmp_path / "i16.png", stored), 0)
    assert native.dtype == np.int32
    np.testing.assert_array_equal(native, [[-1, 1, 2], [7, -1, 300]])
    scannet = io.read_instance(_png(tmp_path / "i8.png", stored.clip(0, 255).astype(np.uint8)), 1, (3, 2))
    np.testing.assert_array_equal(scannet, [[-1, 0, 1], [6, -1, 254]])


def test_read_instance_rejects_colour_and_wrong_size(tmp_path):
    rgb = _png(tmp_path / "rgb.png", np.zeros((2, 3, 3), np.uint8))
    _fails(rgb, "single-channel", lambda: io.read_instance(rgb, 0))
    mask = _png(tmp_path / "m.png", np.zeros((2, 3), np.uint16))
    _fails(mask, "instance mask is 3x2 but the depth image says 4x2", lambda: io.read_instance(mask, 0, (4, 2)))


def test_read_color_returns_rgb_uint8(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (3, 5, 3), dtype=np.uint8)
    color = io.read_color(_png(tmp_path / "c.png", pixels), (5, 3))
    assert color.dtype == np.uint8
    np.testing.assert_array_equal(color, pixels)
    depth = _png(tmp_path / "d.png", DEPTH_MM)
    _fails(depth, "8-bit RGB", lambda: io.read_color(depth))


# ---------------------------------------------------------------- poses


def test_read_pose_roundtrip(tmp_path):
    pose = io.read_pose(_text(tmp_path / "0.txt", _matrix_text(POSE)))
    assert pose.dtype == np.float64
    np.testing.assert_array_equal(pose, POSE)


@pytest.mark.parametrize("bad", ["-inf", "nan", "inf"])
def test_non_finite_pose_is_invalid_pose(tmp_path, bad):
    path = _text(tmp_path / "12.txt", "\n".join([f"{bad} {bad} {bad} {bad}"] * 4) + "\n")
    error = _fails(path, "non-finite", lambda: io.read_pose(path), error=io.InvalidPose)
    assert isinstance(error, InputError)


def test_pose_3x4_is_a_plain_input_error(tmp_path):
    path = _text(tmp_path / "p.txt", _matrix_text(POSE[:3]))
    error = _fails(path, "4x4", lambda: io.read_pose(path))
    assert not isinstance(error, io.InvalidPose)


def test_pose_with_scaled_rotation_is_not_rigid(tmp_path):
    scaled = POSE.copy()
    scaled[:3, :3] *= 1.01
    path = _text(tmp_path / "p.txt", _matrix_text(scaled))
    _fails(path, "not orthonormal", lambda: io.read_pose(path))


def test_pose_with_reflection_is_not_rigid(tmp_path):
    mirrored = POSE.copy()
    mirrored[:3, 0] *= -1
    path = _text(tmp_path / "p.txt", _matrix_text(mirrored))
    _fails(path, "determinant", lambda: io.read_pose(path))


def test_pose_with_projective_last_row_is_not_rigid(tmp_path):
    projective = POSE.copy()
    projective[3] = (0, 0, 0.5, 1)
    path = _text(tmp_path / "p.txt", _matrix_text(projective))
    _fails(path, "last row", lambda: io.read_pose(path))


def test_pose_text_problems(tmp_path):
    words = _text(tmp_path / "words.txt", "1 0 0 0\n0 1 0 x\n0 0 1 0\n0 0 0 1\n")
    _fails(words, "only numbers", lambda: io.read_pose(words))
    ragged = _text(tmp_path / "ragged.txt", "1 0 0 0\n0 1 0\n0 0 1 0\n0 0 0 1\n")
    _fails(ragged, "different numbers of values", lambda: io.read_pose(ragged))
    empty = _text(tmp_path / "empty.txt", "\n\n")
    _fails(empty, "empty", lambda: io.read_pose(empty))
    _fails(tmp_path / "absent.txt", "missing", lambda: io.read_pose(tmp_path / "absent.txt"))


def test_pose_tolerates_rounded_text(tmp_path):
    angle = 0.3
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    pose = np.eye(4)
    pose[:3, :3] = rotation
    text = "\n".join(" ".join(f"{v:.6f}" for v in row) for row in pose)
    np.testing.assert_allclose(io.read_pose(_text(tmp_path / "p.txt", text)), pose, atol=1e-6)


# ---------------------------------------------------------------- intrinsics

K = np.array([[577.5, 0.0, 319.5], [0.0, 578.7, 239.5], [0.0, 0.0, 1.0]])


def test_read_intrinsics_from_4x4_and_3x3(tmp_path):
    four = np.eye(4)
    four[:3, :3] = K
    np.testing.assert_array_equal(io.read_intrinsics(_text(tmp_path / "k4.txt", _matrix_text(four))), K)
    np.testing.assert_array_equal(io.read_intrinsics(_text(tmp_path / "k3.txt", _matrix_text(K))), K)


@pytest.mark.parametrize(
    "change, fragment",
    [
        ((0, 0, -577.5), "fx > 0"),
        ((1, 1, 0.0), "fy > 0"),
        ((0, 1, 2.0), "skew"),
        ((2, 0, 0.1), "form"),
        ((0, 2, float("nan")), "non-finite"),
    ],
)
def test_bad_intrinsics(tmp_path, change, fragment):
    row, column, value = change
    bad = K.copy()
    bad[row, column] = value
    path = _text(tmp_path / "intrinsic_color.txt", _matrix_text(bad))
    _fails(path, fragment, lambda: io.read_intrinsics(path))


def test_intrinsics_of_wrong_shape(tmp_path):
    path = _text(tmp_path / "k.txt", _matrix_text(K[:2]))
    _fails(path, "3x3 or 4x4", lambda: io.read_intrinsics(path))


def _fails(path: Path, fragment: str, call, error=InputError) -> InputError:
    """`call()` raises `error` that names `path` (also in its message) and says `fragment`."""
    err = fails(fragment, path, call, error)
    assert path.name in str(err)
    return err
