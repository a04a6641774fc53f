"""IoU of one 2D box with many: exact cases."""
from __future__ import annotations

import numpy as np
import pytest

from qagen.geometry.boxes2d import iou_with


def test_iou_exact_cases():
    box = [0, 0, 10, 10]
    others = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [10, 10, 20, 20], [2, 2, 4, 4], [0, 0, 20, 5]])
    np.testing.assert_allclose(iou_with(box, others), [1.0, 50 / 150, 0.0, 4 / 100, 50 / 150])


def test_degenerate_boxes_have_no_overlap():
    assert iou_with([0, 0, 0, 0], [[0, 0, 0, 0]])[0] == 0.0
    assert iou_with([3, 3, 3, 8], [[0, 0, 10, 10]])[0] == pytest.approx(0.0)
