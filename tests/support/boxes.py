"""Distance between two solid oriented boxes by alternating projections: a method independent of
qagen.geometry.box_distance that converges to the true distance from above."""
from __future__ import annotations

import numpy as np


def _project(point, centre, rotation, size):
    """The point of the box nearest to `point`."""
    return centre + rotation @ np.clip(rotation.T @ (point - centre), -size / 2, size / 2)


def alternating_projections(c1, r1, s1, c2, r2, s2, chunk: int = 2000, max_steps: int = 200_000) -> float:
    """Projects back and forth until the gap stops shrinking (chunk by chunk): boxes that barely
    overlap converge slowly (some 10^4 steps to reach 1e-12), boxes apart within a few hundred."""
    c1, r1, s1, c2, r2, s2 = (np.asarray(v, dtype=float) for v in (c1, r1, s1, c2, r2, s2))
    x, gap = c1.copy(), np.inf
    for _ in range(max_steps // chunk):
        for _ in range(chunk):
            x = _project(_project(x, c2, r2, s2), c1, r1, s1)
        previous, gap = gap, float(np.linalg.norm(x - _project(x, c2, r2, s2)))
        if gap < 1e-12 or previous - gap < 1e-13:
            break
    return gap
