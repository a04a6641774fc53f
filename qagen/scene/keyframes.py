"""Which frames of a capture are keyframes.

Camera and video tasks take frames a few positions apart (a camera move, a clip), which is only
meaningful when consecutive frames differ by a step of the kind keyframes have. A capture exported
at every frame of a 30 fps video moves a centimetre or two between frames: a clip of six frames
then hardly moves at all. `--frame-stride auto` keeps a frame when the camera has travelled
KEYFRAME_STEP_M or turned KEYFRAME_STEP_DEG since the last frame kept, so that a capture dense in
some stretches (the camera slows down or stops) and sparse in others is thinned only where it is
dense. Captures already that sparse keep every frame.
"""
from __future__ import annotations

import math

import numpy as np

KEYFRAME_STEP_M = 0.05
KEYFRAME_STEP_DEG = 5.0
_TOLERANCE = 1e-9  # a step of exactly the keyframe step counts, whatever the rounding


def keyframe_positions(c2w: np.ndarray, metric: bool = True) -> np.ndarray:
    """Positions of the keyframes of poses (F, 4, 4) in capture order: the first frame, then each
    frame that has travelled or turned a keyframe step from the last one kept. Every frame of a
    capture with fewer than three frames, of a camera that never moves a step, and of a non-metric
    capture (its translations are not metres; its rotations alone could thin it, but a video's
    frame rate is its own choice there)."""
    c2w = np.asarray(c2w, dtype=float)
    every = np.arange(len(c2w))
    if not metric or len(c2w) < 3:
        return every
    centres, rotations = c2w[:, :3, 3], c2w[:, :3, :3]
    min_travel_sq = (KEYFRAME_STEP_M - _TOLERANCE) ** 2
    max_trace = 1.0 + 2.0 * math.cos(math.radians(KEYFRAME_STEP_DEG - _TOLERANCE))  # trace(R_a^T R_b) at the turn
    kept = [0]
    for j in range(1, len(c2w)):
        last = kept[-1]
        offset = centres[j] - centres[last]
        if offset @ offset >= min_travel_sq or np.sum(rotations[last] * rotations[j]) <= max_trace:
            kept.append(j)
    return every if len(kept) == 1 else np.array(kept)
