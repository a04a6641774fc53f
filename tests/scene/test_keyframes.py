"""The keyframe stride: dense captures are thinned until consecutive frames are about 5 cm or 5
degrees apart at the median; sparse, static, short and non-metric captures keep every frame."""
from __future__ import annotations

import math

import numpy as np
import pytest

from qagen.scene.keyframes import KEYFRAME_STEP_DEG, KEYFRAME_STEP_M, keyframe_stride


def walk(step_m: float, turn_deg: float, frames: int = 200) -> np.ndarray:
    """Poses (F, 4, 4): a camera moving step_m along +X and yawing turn_deg per frame."""
    poses = np.repeat(np.eye(4)[None], frames, axis=0)
    for i in range(frames):
        a = math.radians(turn_deg * i)
        poses[i, :3, :3] = [[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]]
        poses[i, 0, 3] = step_m * i
    return poses


@pytest.mark.parametrize("step_m, expected", [(0.01, 5), (0.02, 3), (0.0125, 4), (0.05, 1), (0.2, 1)])
def test_a_walk_is_thinned_to_steps_of_at_least_the_keyframe_travel(step_m, expected):
    stride = keyframe_stride(walk(step_m, 0.0))
    assert stride == expected
    assert stride * step_m >= KEYFRAME_STEP_M - 1e-12 and (stride == 1 or (stride - 1) * step_m < KEYFRAME_STEP_M)


def test_turning_counts_like_travel():
    """A camera that pans in place 1 degree a frame is thinned to 5-degree steps; one that turns
    faster than the keyframe turn keeps every frame, however little it travels."""
    assert keyframe_stride(walk(0.0, 1.0)) == math.ceil(KEYFRAME_STEP_DEG / 1.0)
    assert keyframe_stride(walk(0.001, 10.0)) == 1


def test_static_short_and_non_metric_captures_keep_every_frame():
    assert keyframe_stride(walk(0.0, 0.0)) == 1
    assert keyframe_stride(walk(0.001, 0.0, frames=2)) == 1
    assert keyframe_stride(walk(0.001, 0.0), metric=False) == 1


def test_the_demo_walks_keep_every_frame_and_a_dense_capture_is_thinned():
    from qagen.scene.synthetic import build_world

    assert keyframe_stride(np.stack(build_world("k", 5).poses)) == 1
    dense = np.stack(build_world("k", 5, frames=900).poses)
    stride = keyframe_stride(dense)
    assert stride > 1
    travel = np.median(np.linalg.norm(np.diff(dense[::stride, :3, 3], axis=0), axis=1))
    assert travel >= 0.9 * KEYFRAME_STEP_M  # the walk also turns: the median of the larger step is 5 cm
