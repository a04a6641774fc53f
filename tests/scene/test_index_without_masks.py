"""Scenes without instance masks: visibility from the boxes that lifted depth points fall in."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from qagen.errors import InputError
from qagen.geometry.boxes3d import label_points_in_boxes
from qagen.scene.index import SceneIndex
from qagen.scene.loaders import load_scene


def test_points_go_to_the_smallest_box_and_not_to_the_surface_below():
    centers = np.array([[0.0, 0.0, 0.5], [0.0, 0.0, 0.9]])  # a big box and a small one inside its top
    sizes = np.array([[1.0, 1.0, 1.0], [0.2, 0.2, 0.2]])
    rotations = np.stack([np.eye(3)] * 2)
    points = np.array([[0.0, 0.0, 0.9], [0.4, 0.0, 0.5], [0.0, 0.0, 0.005], [2.0, 0.0, 0.5], [0.51, 0.0, 0.5]])
    assert label_points_in_boxes(points, centers, rotations, sizes).tolist() == [1, 0, -1, -1, 0]


def test_yawed_box():
    yaw = np.radians(45)
    R = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    inside_corner = R @ np.array([0.95, 0.0, 0.0]) + [0, 0, 0.5]  # along the rotated long axis
    outside = np.array([0.95, 0.0, 0.5])  # along world x: outside the rotated box's short side
    labels = label_points_in_boxes(np.stack([inside_corner, outside]), np.array([[0, 0, 0.5]]), R[None],
                                   np.array([[2.0, 0.4, 1.0]]))
    assert labels.tolist() == [0, -1]


@pytest.fixture(scope="module")
def with_and_without_masks(small_world_native_dir, tmp_path_factory):
    copy = tmp_path_factory.mktemp("no_masks") / small_world_native_dir.name
    shutil.copytree(small_world_native_dir, copy)
    shutil.rmtree(copy / "instance")
    masked, unmasked = load_scene(small_world_native_dir), load_scene(copy)
    assert all(f.instance_path is None for f in unmasked.frames)
    return SceneIndex.build(masked), SceneIndex.build(unmasked)


def test_box_visibility_agrees_with_the_masks(with_and_without_masks):
    masked, unmasked = with_and_without_masks
    frames = len(masked.mask_size)
    agree = total = 0
    for pos in range(frames):
        a = set(masked.obs["object"][masked.visible(pos)].tolist())
        b = set(unmasked.obs["object"][unmasked.visible(pos)].tolist())
        agree += len(a & b)
        total += len(a | b)
    assert total > 0 and agree / total > 0.9


def test_no_masks_and_no_boxes_is_an_error(small_world_native_dir, tmp_path):
    copy = tmp_path / small_world_native_dir.name
    shutil.copytree(small_world_native_dir, copy)
    shutil.rmtree(copy / "instance")
    scene = load_scene(copy)
    scene.objects[0] = type(scene.objects[0])(scene.objects[0].id, scene.objects[0].label, None)
    with pytest.raises(InputError, match="no instance mask and not every object has a box"):
        SceneIndex.build(scene)
