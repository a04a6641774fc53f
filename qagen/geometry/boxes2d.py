"""Axis-aligned 2D boxes [x1, y1, x2, y2]: overlap of one box with many (distractor boxes must not
overlap the truth by IoU >= 0.5, FORMATS.md)."""
from __future__ import annotations

import numpy as np


def iou_with(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of `box` (4,) with each of `others` (N, 4); 0 where the union is empty."""
    box, others = np.asarray(box, float), np.asarray(others, float).reshape(-1, 4)
    width = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0.0, None)
    height = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0.0, None)
    inter = width * height
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    union = area + areas - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 0.0)
