"""Observer-moved directions on exact cases: offsets, bearings, quadrants and their margins."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qagen.geometry.directions import (
    QUADRANTS, bearing_deg, horizontal_gap, observer_offsets, sector, wrap_deg,
)

coord = st.floats(-5, 5, allow_nan=False)


def test_observer_facing_plus_y_has_world_axes():
    stand, face = np.array([0.0, 0.0, 0.5]), np.array([0.0, 2.0, 1.5])
    offsets = observer_offsets(np.array([[1.0, 1.0, 0.5], [-2.0, -1.0, 1.0]]), stand, face)
    np.testing.assert_allclose(offsets, [[1.0, 1.0, 0.0], [-2.0, -1.0, 0.5]], atol=1e-12)


def test_observer_facing_plus_x_has_right_along_minus_y():
    stand, face = np.array([1.0, 1.0, 0.0]), np.array([3.0, 1.0, 5.0])
    (right, forward, up), = observer_offsets(np.array([[1.0, 2.0, 0.3]]), stand, face)
    assert (right, forward, up) == pytest.approx((-1.0, 0.0, 0.3))


def test_facing_straight_above_is_undefined():
    with pytest.raises(ValueError):
        observer_offsets(np.zeros((1, 3)), np.array([1.0, 1.0, 0.0]), np.array([1.0, 1.0, 2.0]))


@pytest.mark.parametrize("offset, bearing", [
    ((0.0, 1.0), 0.0), ((-1.0, 0.0), 90.0), ((0.0, -1.0), 180.0), ((1.0, 0.0), -90.0),
    ((-1.0, 1.0), 45.0), ((1.0, -1.0), -135.0), ((-0.0, -1.0), 180.0), ((-np.sqrt(3), 1.0), 60.0),
])
def test_bearing_is_counter_clockwise_from_forward(offset, bearing):
    assert bearing_deg(np.array(offset)) == pytest.approx(bearing)


@pytest.mark.parametrize("angle, wrapped", [(180.0, 180.0), (-180.0, 180.0), (540.0, 180.0), (190.0, -170.0),
                                            (-190.0, 170.0), (0.0, 0.0), (-720.5, -0.5)])
def test_wrap_deg(angle, wrapped):
    assert wrap_deg(angle) == pytest.approx(wrapped)


@pytest.mark.parametrize("bearing, name, margin", [
    (45.0, "front-left", 45.0), (10.0, "front-left", 10.0), (85.0, "front-left", 5.0),
    (100.0, "back-left", 10.0), (179.0, "back-left", 1.0), (-170.0, "back-right", 10.0),
    (-95.0, "back-right", 5.0), (-30.0, "front-right", 30.0), (-1.0, "front-right", 1.0),
    (0.0, "front-left", 0.0), (90.0, "back-left", 0.0), (180.0, "back-right", 0.0), (-90.0, "front-right", 0.0),
])
def test_quadrant_and_distance_to_boundary(bearing, name, margin):
    got, dist = sector(bearing, QUADRANTS)
    assert got == name and dist == pytest.approx(margin)


def test_sector_outside_all_sectors_is_an_error():
    with pytest.raises(ValueError, match="none of the sectors"):
        sector(120.0, (("front", -60.0, 60.0),))


def test_horizontal_gap_ignores_height():
    assert horizontal_gap(np.array([0.0, 0.0, 0.0]), np.array([3.0, 4.0, 9.0])) == pytest.approx(5.0)


@settings(max_examples=200, deadline=None)
@given(st.tuples(coord, coord, coord), st.tuples(coord, coord, coord), st.tuples(coord, coord, coord))
def test_standing_on_the_far_side_of_the_faced_object_flips_left_and_right(stand, face, point):
    """Moving the observer to the mirror image of its place through the faced object (same height)
    turns it around: every point's right coordinate changes sign, its height does not."""
    stand, face, point = (np.array(v) for v in (stand, face, point))
    if horizontal_gap(stand, face) < 1e-2:
        return
    mirrored = np.array([2 * face[0] - stand[0], 2 * face[1] - stand[1], stand[2]])
    before = observer_offsets(point[None], stand, face)[0]
    after = observer_offsets(point[None], mirrored, face)[0]
    assert after[0] == pytest.approx(-before[0], abs=1e-9)
    assert after[2] == pytest.approx(before[2], abs=1e-9)
    assert after[1] == pytest.approx(2 * horizontal_gap(stand, face) - before[1], abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.floats(-179.99, 180.0))
def test_every_bearing_has_one_quadrant_by_its_signs(bearing):
    """Quadrants by interval, written out: [0, 90) front-left, [90, 180) back-left, 180 and
    [-180, -90) back-right, [-90, 0) front-right; the margin is the distance to the nearest axis."""
    if 0 <= bearing < 90:
        want = "front-left"
    elif 90 <= bearing < 180:
        want = "back-left"
    elif bearing == 180 or bearing < -90:
        want = "back-right"
    else:
        want = "front-right"
    name, margin = sector(bearing)
    assert name == want
    assert margin == pytest.approx(min(abs(bearing - b) for b in (-180, -90, 0, 90, 180)), abs=1e-9)
