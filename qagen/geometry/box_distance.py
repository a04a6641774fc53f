"""Exact distance between the surfaces of two oriented 3D boxes (VSI-Bench's "closest points"
convention for distances between objects; TASKS.md "Distance between objects").

Boxes are given as centre (3,), rotation (3, 3; columns are the box axes) and full sizes (3,).
Overlapping boxes (separating-axis test) are 0 apart. Otherwise the closest pair of two disjoint
convex polyhedra can always be slid, keeping its length, until one end is a vertex or both ends lie
on edges, so the distance is the smallest of: each corner to the other box, and each edge of one
box to each edge of the other.
"""
from __future__ import annotations

import itertools

import numpy as np

PARALLEL_EPS = 1e-12  # |a x b|^2 below this: the cross-product axis is degenerate (parallel edges)

_SIGNS = np.array(list(itertools.product((-1.0, 1.0), repeat=3)))  # corner k has signs _SIGNS[k]
# Corner pairs differing in one sign: the 12 edges.
_EDGES = np.array([(i, j) for i in range(8) for j in range(i + 1, 8)
                   if np.count_nonzero(_SIGNS[i] != _SIGNS[j]) == 1])


def box_corners(center: np.ndarray, rotation: np.ndarray, size: np.ndarray) -> np.ndarray:
    return center + (_SIGNS * (np.asarray(size) / 2.0)) @ np.asarray(rotation).T


def point_box_distance(points: np.ndarray, center: np.ndarray, rotation: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Distance from each point (N, 3) to the solid box (0 inside)."""
    local = (np.asarray(points) - center) @ rotation
    excess = np.maximum(np.abs(local) - np.asarray(size) / 2.0, 0.0)
    return np.linalg.norm(excess, axis=-1)


def segment_distances(p1: np.ndarray, q1: np.ndarray, p2: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Distance between segments p1q1[i] and p2q2[i] (each (N, 3), non-degenerate), by clamping the
    closest-point parameters of the two lines to [0, 1] (parallel segments start from s = 0)."""
    d1, d2, r = q1 - p1, q2 - p2, p1 - p2
    a, e = np.einsum("ij,ij->i", d1, d1), np.einsum("ij,ij->i", d2, d2)
    b, c, f = np.einsum("ij,ij->i", d1, d2), np.einsum("ij,ij->i", d1, r), np.einsum("ij,ij->i", d2, r)
    denom = a * e - b * b
    parallel = denom <= PARALLEL_EPS * a * e
    s = np.where(parallel, 0.0, np.clip((b * f - c * e) / np.where(parallel, 1.0, denom), 0.0, 1.0))
    t = (b * s + f) / e
    s = np.where(t < 0.0, np.clip(-c / a, 0.0, 1.0), np.where(t > 1.0, np.clip((b - c) / a, 0.0, 1.0), s))
    t = np.clip(t, 0.0, 1.0)
    return np.linalg.norm((p1 + s[:, None] * d1) - (p2 + t[:, None] * d2), axis=1)


def boxes_overlap(c1, r1, s1, c2, r2, s2) -> bool:
    """Separating-axis test over the 15 candidate axes (touching counts as overlapping)."""
    h1, h2 = np.asarray(s1) / 2.0, np.asarray(s2) / 2.0
    crosses = np.cross(r1.T[:, None, :], r2.T[None, :, :]).reshape(9, 3)
    crosses = crosses[np.einsum("ij,ij->i", crosses, crosses) > PARALLEL_EPS]
    axes = np.concatenate([r1.T, r2.T, crosses])
    reach = np.abs(axes @ r1) @ h1 + np.abs(axes @ r2) @ h2
    return bool(np.all(np.abs(axes @ (np.asarray(c2) - c1)) <= reach))


def box_distance(c1, r1, s1, c2, r2, s2) -> float:
    """Shortest distance between the two solid boxes' points (0 when they overlap or touch)."""
    c1, r1, s1, c2, r2, s2 = (np.asarray(v, dtype=float) for v in (c1, r1, s1, c2, r2, s2))
    if boxes_overlap(c1, r1, s1, c2, r2, s2):
        return 0.0
    k1, k2 = box_corners(c1, r1, s1), box_corners(c2, r2, s2)
    e1, e2 = k1[_EDGES], k2[_EDGES]  # (12, 2, 3)
    i, j = np.meshgrid(np.arange(12), np.arange(12), indexing="ij")
    i, j = i.ravel(), j.ravel()
    edges = segment_distances(e1[i, 0], e1[i, 1], e2[j, 0], e2[j, 1])
    return float(min(point_box_distance(k1, c2, r2, s2).min(), point_box_distance(k2, c1, r1, s1).min(), edges.min()))
