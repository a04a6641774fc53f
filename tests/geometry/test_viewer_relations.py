"""Viewer frame and margin comparisons on exact cases."""
import numpy as np
import pytest

from qagen.geometry.relations import compare_lengths, round_to, side
from qagen.geometry.projection import world_to_camera
from qagen.geometry.viewer import heading_axes, to_viewer, viewer_axes


def look_at(eye, target):
    """c2w for an OpenCV camera at eye looking at target with world +Z up."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, [0, 0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    c2w = np.eye(4)
    c2w[:3, :3] = np.stack([x, y, z], axis=1)
    c2w[:3, 3] = eye
    return c2w


def test_level_camera_viewer_axes_match_camera_axes():
    c2w = look_at([0, 0, 1.5], [0, 5, 1.5])  # looking along +Y
    right, forward, up = viewer_axes(c2w)
    np.testing.assert_allclose(forward, [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(right, c2w[:3, 0], atol=1e-12)
    np.testing.assert_allclose(right, [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(up, [0, 0, 1])


def test_pitched_camera_keeps_horizontal_forward():
    c2w = look_at([0, 0, 2.0], [0, 3, 0.0])  # pitched down
    right, forward, _ = viewer_axes(c2w)
    np.testing.assert_allclose(forward, [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(right, [1, 0, 0], atol=1e-12)
    cam = world_to_camera(np.array([[0, 3, 0.0]]), c2w)[0]
    assert cam[2] > 0 and abs(cam[0]) < 1e-9


def test_straight_down_camera_has_no_viewer_frame():
    c2w = np.eye(4)
    c2w[:3, :3] = np.diag([1.0, -1.0, -1.0])  # z forward = world -Z
    with pytest.raises(ValueError):
        viewer_axes(c2w)


def test_observer_facing_target():
    axes = heading_axes(np.array([0, 0, 1.0]), np.array([-2, 0, 0.0]))  # facing -X
    rel = to_viewer(np.array([[0, 1.0, 1.0]]), np.array([0, 0, 1.0]), axes)[0]
    # facing -X, +Y is to the observer's right
    np.testing.assert_allclose(rel, [1.0, 0.0, 0.0], atol=1e-12)


def test_margins():
    assert side(0.2, 0.15, "right", "left") == "right"
    assert side(-0.2, 0.15, "right", "left") == "left"
    assert side(0.1, 0.15, "right", "left") == ""
    assert compare_lengths(1.0, 1.2, 0.15, 0.1) == -1
    assert compare_lengths(3.0, 3.2, 0.15, 0.1) == 0  # 0.2 < 10% of 3.0 = 0.3
    assert round_to(0.35000001, 0.1) == 0.4 and round_to(123.4, 1.0) == 123.0 and round_to(0.30000000004, 0.1) == 0.3
