"""Keyframes: a frame is kept once the camera has travelled about 5 cm or turned 5 degrees since
the last one kept, so dense stretches are thinned and sparse ones kept whole; short, static and
non-metric captures keep every frame."""
from __future__ import annotations

import math

import numpy as np
import pytest

from qagen.scene.keyframes import KEYFRAME_STEP_DEG, KEYFRAME_STEP_M, keyframe_positions


def walk(steps_m, turns_deg) -> np.ndarray:
    """Poses (F, 4, 4): a camera moving along +X by steps_m[i] and yawing by turns_deg[i] before
    frame i + 1."""
    x = np.concatenate([[0.0], np.cumsum(steps_m)])
    yaw = np.radians(np.concatenate([[0.0], np.cumsum(turns_deg)]))
    poses = np.repeat(np.eye(4)[None], len(x), axis=0)
    poses[:, 0, 0], poses[:, 0, 1], poses[:, 1, 0], poses[:, 1, 1] = np.cos(yaw), -np.sin(yaw), np.sin(yaw), np.cos(yaw)
    poses[:, 0, 3] = x
    return poses


def steady(step_m: float, turn_deg: float, frames: int = 200) -> np.ndarray:
    return walk(np.full(frames - 1, step_m), np.full(frames - 1, turn_deg))


def gaps(kept: np.ndarray) -> set[int]:
    return set(np.diff(kept).tolist())


@pytest.mark.parametrize("step_m, every", [(0.01, 5), (0.02, 3), (0.0125, 4), (0.05, 1), (0.2, 1)])
def test_a_steady_walk_keeps_every_frame_a_keyframe_step_on(step_m, every):
    kept = keyframe_positions(steady(step_m, 0.0))
    assert kept[0] == 0 and gaps(kept) == {every}
    assert every * step_m >= KEYFRAME_STEP_M - 1e-12 and (every == 1 or (every - 1) * step_m < KEYFRAME_STEP_M)


def test_turning_counts_like_travel():
    """A camera that pans in place 1 degree a frame keeps every fifth frame; one that turns faster
    than the keyframe turn keeps every frame, however little it travels."""
    assert gaps(keyframe_positions(steady(0.0, 1.0))) == {math.ceil(KEYFRAME_STEP_DEG / 1.0)}
    assert gaps(keyframe_positions(steady(0.001, 10.0))) == {1}


def test_a_capture_dense_in_one_stretch_is_thinned_only_there():
    """20 sparse steps of 10 cm, 100 of 1 cm, then 20 of 10 cm again: the sparse stretches keep
    every frame, the dense one every fifth; a stop (50 frames standing still) keeps none of the
    frames in which the camera has not moved."""
    steps = np.concatenate([np.full(20, 0.1), np.full(100, 0.01), np.full(20, 0.1)])
    kept = keyframe_positions(walk(steps, np.zeros_like(steps)))
    assert kept[:21].tolist() == list(range(21))
    assert np.diff(kept[20:41]).tolist() == [5] * 20
    assert kept[-20:].tolist() == list(range(121, 141))
    stop = np.concatenate([np.full(20, 0.1), np.zeros(50), np.full(20, 0.1)])
    kept = keyframe_positions(walk(stop, np.zeros_like(stop)))
    assert kept.tolist() == list(range(21)) + list(range(71, 91))


def test_static_short_and_non_metric_captures_keep_every_frame():
    for poses in (steady(0.0, 0.0), steady(0.001, 0.0, frames=2)):
        assert keyframe_positions(poses).tolist() == list(range(len(poses)))
    assert keyframe_positions(steady(0.001, 0.0), metric=False).tolist() == list(range(200))


def test_the_demo_walks_keep_every_frame_and_a_dense_capture_is_thinned():
    from qagen.scene.synthetic import build_world

    sparse = np.stack(build_world("k", 5).poses)
    assert keyframe_positions(sparse).tolist() == list(range(len(sparse)))
    dense = np.stack(build_world("k", 5, frames=900).poses)
    kept = keyframe_positions(dense)
    assert 1 < len(kept) < len(dense) / 2
    kept_poses = dense[kept]
    travel = np.linalg.norm(np.diff(kept_poses[:, :3, 3], axis=0), axis=1)
    relative = np.einsum("nji,njk->nik", kept_poses[:-1, :3, :3], kept_poses[1:, :3, :3])
    turn = np.degrees(np.arccos(np.clip((np.trace(relative, axis1=1, axis2=2) - 1) / 2, -1, 1)))
    assert np.all((travel >= KEYFRAME_STEP_M - 1e-9) | (turn >= KEYFRAME_STEP_DEG - 1e-9))
