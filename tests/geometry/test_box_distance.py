"""Distance between two oriented boxes: exact cases worked out by hand, and random boxes against
alternating projections (an independent method that converges to the same distance from above)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from qagen.geometry.box_distance import box_distance, boxes_overlap
from support.boxes import alternating_projections

I = np.eye(3)
SQRT2 = math.sqrt(2.0)


def about(axis: str, deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return {"x": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
            "y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
            "z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])}[axis]


def test_axis_aligned_face_gap():
    assert box_distance([0, 0, 0], I, [2, 2, 2], [3.5, 0.4, -0.3], I, [1, 1, 1]) == pytest.approx(2.0, abs=1e-12)


def test_axis_aligned_corner_to_corner():
    # gaps 1, 2, 2 along x, y, z between facing corners: distance 3
    d = box_distance([0, 0, 0], I, [2, 2, 2], [2.5, 3.5, 3.5], I, [1, 1, 1])
    assert d == pytest.approx(3.0, abs=1e-12)


def test_crossed_edges():
    # A's top is an edge along y at height sqrt2, B's bottom an edge along x at 5 - sqrt2
    d = box_distance([0, 0, 0], about("y", 45), [2, 2, 2], [0, 0, 5], about("x", 45), [2, 2, 2])
    assert d == pytest.approx(5 - 2 * SQRT2, abs=1e-12)


def test_edge_over_face_and_yawed_neighbour():
    # B's lowest edge (along x) sits 0.25 above A's top face
    assert box_distance([0, 0, 0], I, [2, 2, 2], [0, 0, 1.25 + SQRT2], about("x", 45), [2, 2, 2]) == pytest.approx(0.25)
    # a box yawed by 45 deg: its corner points at A's face 0.5 away
    assert box_distance([0, 0, 0], I, [2, 2, 2], [1.5 + SQRT2, 0, 0], about("z", 45), [2, 2, 2]) == pytest.approx(0.5)


def test_crossing_and_nested_boxes_overlap():
    # a plus sign: no corner of either box is inside the other, no edges meet
    plus = ([0, 0, 0], I, [4, 0.4, 0.4], [0, 0, 0], I, [0.4, 4, 0.4])
    assert boxes_overlap(*(np.asarray(v, dtype=float) for v in plus)) and box_distance(*plus) == 0.0
    assert box_distance([0, 0, 0], I, [4, 4, 4], [0.3, 0, 0], about("z", 30), [1, 1, 1]) == 0.0
    assert box_distance([0, 0, 0], I, [2, 2, 2], [2, 0, 0], I, [2, 2, 2]) == 0.0  # touching faces


def _rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else q * np.array([1, 1, -1])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_random_boxes_match_alternating_projections(seed):
    rng = np.random.default_rng(seed)
    c1, c2 = rng.normal(size=3) * 1.5, rng.normal(size=3) * 1.5
    s1, s2 = rng.uniform(0.2, 2.0, 3), rng.uniform(0.2, 2.0, 3)
    r1, r2 = _rotation(seed), _rotation(seed + 1)
    exact = box_distance(c1, r1, s1, c2, r2, s2)
    approx = alternating_projections(c1, r1, s1, c2, r2, s2)
    assert exact <= approx + 1e-9
    assert approx - exact < 1e-6
