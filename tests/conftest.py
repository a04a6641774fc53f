"""Shared pytest fixtures. Each block says what it is for; add new blocks with clearly prefixed names."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qagen.scene.synthetic import World


def build_world(scene_id: str, seed: int) -> "World":
    """The synthetic package is imported on first use: tests that render nothing (e.g. the lifting
    kernels, also run on GPU machines without open3d) do not need open3d."""
    from qagen.scene.synthetic import build_world as build

    return build(scene_id, seed)


def write_native(world: "World", out_dir: Path) -> Path:
    from qagen.scene.synthetic import write_native as write

    return write(world, out_dir)


def write_scannet(world: "World", out_root: Path, **options) -> Path:
    from qagen.scene.synthetic.scannet_writer import write_scannet as write

    return write(world, out_root, **options)

# ------------------------------------------------------------------------------------------------
# small_world*: one small synthetic world written once per session in the native and the ScanNet
# layouts (scene loaders and anything that needs a loaded Scene with exact ground truth).
# The written folders are shared: copy them (shutil.copytree) before changing any file.

SMALL_WORLD_SEED = 3  # a room with both axis-aligned and yawed objects
SMALL_WORLD_FRAMES = 10
SMALL_WORLD_SIZE = (160, 120)  # (W, H) of colour, depth and instance images in the native layout
SMALL_WORLD_SCANNET_COLOR_SIZE = (320, 240)  # ScanNet keeps colour and depth at different sizes


@pytest.fixture(scope="session")
def small_world() -> World:
    """The synthetic room of SMALL_WORLD_SEED, cut to its first frames and shrunk images: cheap to render."""
    return shrink(build_world("small_0003", SMALL_WORLD_SEED), SMALL_WORLD_FRAMES, SMALL_WORLD_SIZE)


@pytest.fixture(scope="session")
def small_world_axis_alignment() -> np.ndarray:
    """A ScanNet-like axisAlignment: a yaw about +Z and a shift (maps stored coordinates to the world)."""
    yaw = np.radians(35.0)
    alignment = np.eye(4)
    alignment[:2, :2] = [[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]]
    alignment[:3, 3] = (1.5, -2.0, 0.1)
    return alignment


@pytest.fixture(scope="session")
def small_world_native_dir(small_world, tmp_path_factory) -> Path:
    """`small_world` written in the native layout; returns the scene folder."""
    return write_native(small_world, tmp_path_factory.mktemp("small_world_native"))


@pytest.fixture(scope="session")
def small_world_scannet_dir(small_world, small_world_axis_alignment, tmp_path_factory) -> Path:
    """`small_world` written in the ScanNet layout with `small_world_axis_alignment`; returns scans/<id>/."""
    return write_scannet(
        small_world,
        tmp_path_factory.mktemp("small_world_scannet"),
        axis_alignment=small_world_axis_alignment,
        color_size=SMALL_WORLD_SCANNET_COLOR_SIZE,
    )


# ------------------------------------------------------------------------------------------------
# pipeline_root: two small synthetic rooms under one root in the native layout (runs of the whole
# pipeline: determinism across workers, manifest, resume, mixing). Shared: copy before changing.

PIPELINE_SEEDS = (3, 5)


def shrink(world: World, frames: int, size: tuple[int, int]) -> World:
    """The world cut to its first frames with smaller images (same field of view)."""
    scale = np.diag([size[0] / world.width, size[1] / world.height, 1.0])
    return replace(world, poses=world.poses[:frames], K=scale @ world.K, width=size[0], height=size[1])


def strided_world(scene_id: str, seed: int, step: int, frames: int | None = None) -> "World":
    """Every `step`-th view of a room's walk (at most `frames` of them), with small images."""
    world = build_world(scene_id, seed)
    poses = world.poses[::step]
    return shrink(replace(world, poses=poses), frames or len(poses), SMALL_WORLD_SIZE)


@pytest.fixture(scope="session")
def pipeline_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pipeline_root")
    for seed in PIPELINE_SEEDS:
        write_native(shrink(build_world(f"room_{seed:04d}", seed), 12, (160, 120)), root)
    return root


# ------------------------------------------------------------------------------------------------
# multi_view_*: a furnished room seen from 16 views (every second frame of its walk, small images):
# multi-view tasks need views that overlap only in part and several visible objects per view,
# with repeated labels (matching against same-label objects, references by marker colour).

MULTI_VIEW_SEED = 5
MULTI_VIEW_FRAMES = 16
MULTI_VIEW_STEP = 2


@pytest.fixture(scope="session")
def multi_view_world() -> World:
    return strided_world("multi_view_0005", MULTI_VIEW_SEED, MULTI_VIEW_STEP, MULTI_VIEW_FRAMES)


@pytest.fixture(scope="session")
def multi_view_native_dir(multi_view_world, tmp_path_factory) -> Path:
    """`multi_view_world` written in the native layout; returns the scene folder."""
    return write_native(multi_view_world, tmp_path_factory.mktemp("multi_view_native"))


# ------------------------------------------------------------------------------------------------
# camera_world*: a room along its whole camera walk (every third frame, small images): camera tasks
# need views far apart on the walk that still share objects, e.g. the second camera seen in the
# first image (camera_motion_infer), which the 10-frame small world never has. Shared: copy
# before changing.

CAMERA_WORLD_SEED = 5  # objects in the middle of the room: views across it share them
CAMERA_WORLD_STEP = 3


@pytest.fixture(scope="session")
def camera_world() -> World:
    return strided_world("camera_0005", CAMERA_WORLD_SEED, CAMERA_WORLD_STEP)


@pytest.fixture(scope="session")
def camera_world_native_dir(camera_world, tmp_path_factory) -> Path:
    """`camera_world` written in the native layout; returns the scene folder."""
    return write_native(camera_world, tmp_path_factory.mktemp("camera_world_native"))


# ------------------------------------------------------------------------------------------------
# imagination_*: a room with 13 objects (5 chairs, 5 labels seen once) over 20 views (every second
# frame of its walk, small images): observer-moved and relative-direction tasks need several
# objects per view, clips where some objects are never seen together, and uniquely named objects.

IMAGINATION_SEED = 7
IMAGINATION_FRAMES = 20
IMAGINATION_STEP = 2


@pytest.fixture(scope="session")
def imagination_world() -> World:
    return strided_world("imagination_0007", IMAGINATION_SEED, IMAGINATION_STEP, IMAGINATION_FRAMES)


@pytest.fixture(scope="session")
def imagination_native_dir(imagination_world, tmp_path_factory) -> Path:
    """`imagination_world` written in the native layout; returns the scene folder."""
    return write_native(imagination_world, tmp_path_factory.mktemp("imagination_native"))


# ------------------------------------------------------------------------------------------------
# clip_world*: an L-shaped room (seed 4, 16 objects) along its whole camera walk, consecutive
# frames, small images: clip tasks (frame sets, appearance order, existence) need objects that come
# and go over 8-16 frames, and routes (nav) need a room with furniture to walk around.

CLIP_WORLD_SEED = 4


@pytest.fixture(scope="session")
def clip_world() -> World:
    return strided_world("clip_0004", CLIP_WORLD_SEED, step=1)


@pytest.fixture(scope="session")
def clip_world_native_dir(clip_world, tmp_path_factory) -> Path:
    """`clip_world` written in the native layout; returns the scene folder."""
    return write_native(clip_world, tmp_path_factory.mktemp("clip_world_native"))
