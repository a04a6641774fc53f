"""How much to thin a capture so that consecutive frames are keyframes.

Camera and video tasks take frames a few positions apart (a camera move, a clip), which is only
meaningful when consecutive frames differ by a step of the kind keyframes have. A capture exported
at every frame of a 30 fps video moves a centimetre or two between frames: a clip of six frames
then hardly moves at all. `--frame-stride auto` keeps every n-th frame, n chosen so that the
median step between kept frames is at least KEYFRAME_STEP_M of travel or KEYFRAME_STEP_DEG of
turn, whichever the camera does more of. Captures already that sparse keep every frame.
"""
from __future__ import annotations

import math

import numpy as np

KEYFRAME_STEP_M = 0.05
KEYFRAME_STEP_DEG = 5.0


def keyframe_stride(c2w: np.ndarray, metric: bool = True) -> int:
    """The stride (>= 1) for poses (F, 4, 4) in capture order. 1 for fewer than three frames, for
    a camera that never moves, and for non-metric captures (their translations are not metres;
    their rotations alone could thin them, but a video's frame rate is its own choice there)."""
    c2w = np.asarray(c2w, dtype=float)
    if not metric or len(c2w) < 3:
        return 1
    travel = np.linalg.norm(np.diff(c2w[:, :3, 3], axis=0), axis=1) / KEYFRAME_STEP_M
    relative = np.einsum("nji,njk->nik", c2w[:-1, :3, :3], c2w[1:, :3, :3])  # R_i^T R_(i+1)
    cos = np.clip((np.trace(relative, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
    turn = np.degrees(np.arccos(cos)) / KEYFRAME_STEP_DEG
    step = float(np.median(np.maximum(travel, turn)))
    if not step > 0.0:
        return 1
    return max(1, math.ceil(1.0 / step - 1e-9))
