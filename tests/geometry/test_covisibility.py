"""Covisibility from extents: exact shares of axis-aligned boxes and pixel-weighted view overlaps."""
from __future__ import annotations

import numpy as np
import pytest

from qagen.geometry.covisibility import extent_shares, view_overlap

NAN3 = [np.nan] * 3


def test_share_of_an_extent_inside_another_is_its_covered_volume_fraction():
    lo, hi = np.array([0.0, 0.0, 0.0]), np.array([2.0, 1.0, 1.0])
    assert extent_shares(lo, hi, lo, hi, pad=0.0) == pytest.approx(1.0)
    assert extent_shares(lo, hi, [1.0, 0.0, 0.0], [3.0, 1.0, 1.0], pad=0.0) == pytest.approx(0.5)
    assert extent_shares(lo, hi, [1.0, 0.5, 0.0], [3.0, 1.0, 1.0], pad=0.0) == pytest.approx(0.25)
    assert extent_shares(lo, hi, [5.0, 0.0, 0.0], [6.0, 1.0, 1.0], pad=0.0) == 0.0
    # a small extent inside a big one is fully seen; the big one only by its volume ratio
    assert extent_shares([0.5] * 3, [1.0] * 3, [0.0] * 3, [2.0] * 3, pad=0.0) == pytest.approx(1.0)
    assert extent_shares([0.0] * 3, [2.0] * 3, [0.5] * 3, [1.0] * 3, pad=0.0) == pytest.approx(0.125 / 8.0)


def test_padding_gives_flat_extents_volume():
    flat = np.array([0.0, 0.0, 1.0]), np.array([1.0, 1.0, 1.0])  # a horizontal square, no thickness
    assert extent_shares(*flat, *flat, pad=0.0) == 0.0  # 0 / 0 is no overlap, not NaN
    assert extent_shares(*flat, *flat, pad=0.1) == pytest.approx(1.0)
    shifted = np.array([0.5, 0.0, 1.0]), np.array([1.5, 1.0, 1.0])
    assert extent_shares(*flat, *shifted, pad=0.1) == pytest.approx(0.7 / 1.2)


def test_missing_extents_share_nothing_and_shapes_broadcast():
    lo = np.array([[[0.0, 0.0, 0.0], NAN3]])  # (1, 2, 3)
    hi = np.array([[[1.0, 1.0, 1.0], NAN3]])
    lo_ref = np.array([[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [NAN3, [0.0, 0.0, 0.0]]])  # (2, 2, 3)
    hi_ref = np.array([[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], [NAN3, [1.0, 1.0, 1.0]]])
    shares = extent_shares(lo, hi, lo_ref, hi_ref, pad=0.0)
    assert shares.shape == (2, 2)
    np.testing.assert_allclose(shares, [[1.0, 0.0], [0.0, 0.0]])


def test_view_overlap_weighs_object_shares_by_pixels_and_keeps_the_smaller_direction():
    # three views, two objects (unit cubes at x = 0 and x = 5)
    cube0 = ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    cube1 = ([5.0, 0.0, 0.0], [6.0, 1.0, 1.0])
    half1 = ([5.0, 0.0, 0.0], [5.5, 1.0, 1.0])  # half of cube 1 seen
    lo = np.array([[cube0[0], cube1[0]], [cube0[0], half1[0]], [NAN3, cube1[0]]])
    hi = np.array([[cube0[1], cube1[1]], [cube0[1], half1[1]], [NAN3, cube1[1]]])
    pixels = np.array([[300, 100], [100, 100], [0, 400]])
    row = view_overlap(pixels, lo, hi, 0, pad=0.0)
    # view 0 -> 1: cube0 fully (300 px), cube1 half (100 px): (300 + 50) / 400; view 1 -> 0: all of it
    # view 0 -> 2: only cube1 (100 / 400); view 2 -> 0: all of it
    np.testing.assert_allclose(row, [1.0, 350 / 400, 100 / 400])
    # view 2 -> 1: half of cube1 (200 / 400); view 1 -> 2: its half of cube1 only (100 / 200)
    np.testing.assert_allclose(view_overlap(pixels, lo, hi, 2, pad=0.0), [100 / 400, 0.5, 1.0])


def test_a_view_without_objects_overlaps_nothing():
    lo = np.array([[[0.0, 0.0, 0.0]], [NAN3]])
    hi = np.array([[[1.0, 1.0, 1.0]], [NAN3]])
    np.testing.assert_allclose(view_overlap(np.array([[10], [0]]), lo, hi, 1), [0.0, 0.0])
