"""Distance between two solid oriented boxes by alternating projections: a method independent of
qagen.geometry.box_distance that converges to the true distance from above."""
from __future__ import annotations

import numpy as np


def _project(point, centre, rotation, size):
    """The point of the box nearest to `point`."""
    return centre + rotation @ np.clip(rotation.T @ (point - centre), -size / 2, size / 2)


def alternating_projections(c1, r1, s1, c2, r2, s2, steps: int = 4000) -> float:
    c1, r1, s1, c2, r2, s2 = (np.asarray(v, dtype=float) for v in (c1, r1, s1, c2, r2, s2))
    x = c1.copy()
    for _ in range(steps):
        x = _project(_project(x, c2, r2, s2), c1, r1, s1)
    return float(np.linalg.norm(x - _project(x, c2, r2, s2)))
