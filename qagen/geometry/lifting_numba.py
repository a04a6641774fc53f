"""CPU backend of `lift_frames`: one numba kernel, parallel over frames.

Each frame is one sequential pass over its pixels that updates every per-object reduction
(counts, 2D box, nearest-to-centre pixel, world sums / min / max) and buckets valid depths by
object; exact lower medians then come from a partition of each bucket. No per-object Python loop.
Frames are independent, so threads write disjoint rows of the outputs without atomics.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from qagen.geometry.lifting import SUBPIXELS, ExtentGrid, LiftBatch, RawStats

# Everything but nnan/ninf: invalid depth is NaN or inf and must compare as such.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
_NO_DISTANCE = np.iinfo(np.int64).max


def lift_numba(batch: LiftBatch) -> RawStats:
    raw = RawStats.empty(batch.shape[0], batch.n_objects)
    _lift_kernel(
        batch.depth, batch.ids, batch.rays, batch.origins, batch.centre_q, batch.centre_ok,
        raw.pixels, raw.valid_pixels, raw.bbox, raw.sums, raw.pmin, raw.pmax,
        raw.depth_median, raw.nearest, raw.centre_hit,
    )  # fmt: skip
    return raw


def extent_histograms_numba(batch: LiftBatch, grid: ExtentGrid) -> np.ndarray:
    B = batch.shape[0]
    chunks = max(1, min(B, numba.get_num_threads()))
    per_chunk = np.zeros((chunks, batch.n_objects, 3, grid.n_bins), np.int64)
    if B and batch.n_objects:
        _extent_kernel(
            batch.depth, batch.ids, batch.rays, batch.origins,
            np.asarray(grid.origin, np.float64), 1.0 / grid.bin_size, per_chunk,
        )  # fmt: skip
    return per_chunk.sum(axis=0)


@njit(parallel=True, cache=True, nogil=True, fastmath=FASTMATH)
def _lift_kernel(depth, ids, rays, origins, centre_q, centre_ok,
                 pixels, valid, bbox, sums, pmin, pmax, median, nearest, centre_hit):  # fmt: skip
    B, H, W = depth.shape
    O = pixels.shape[1]
    half = SUBPIXELS // 2
    for b in prange(B):
        best = np.full(O, _NO_DISTANCE, np.int64)
        for o in range(O):
            bbox[b, o, 0] = W
            bbox[b, o, 1] = H
            bbox[b, o, 2] = -1
            bbox[b, o, 3] = -1
            nearest[b, o] = -1
            for a in range(3):
                pmin[b, o, a] = np.inf
                pmax[b, o, a] = -np.inf
        bucket_z = np.empty(H * W, np.float32)
        bucket_o = np.empty(H * W, np.int32)
        n_valid = 0
        r00, r01, r02 = rays[b, 0, 0], rays[b, 0, 1], rays[b, 0, 2]
        r10, r11, r12 = rays[b, 1, 0], rays[b, 1, 1], rays[b, 1, 2]
        r20, r21, r22 = rays[b, 2, 0], rays[b, 2, 1], rays[b, 2, 2]
        ox, oy, oz = origins[b, 0], origins[b, 1], origins[b, 2]
        for r in range(H):
            v = r + 0.5
            row_x = r01 * v + r02
            row_y = r11 * v + r12
            row_z = r21 * v + r22
            for c in range(W):
                o = ids[b, r, c]
                if o < 0:
                    continue
                pixels[b, o] += 1
                if c < bbox[b, o, 0]:
                    bbox[b, o, 0] = c
                if bbox[b, o, 1] > r:
                    bbox[b, o, 1] = r
                if c > bbox[b, o, 2]:
                    bbox[b, o, 2] = c
                bbox[b, o, 3] = r
                if centre_ok[b, o]:
                    dx = SUBPIXELS * c + half - centre_q[b, o, 0]
                    dy = SUBPIXELS * r + half - centre_q[b, o, 1]
                    d2 = dx * dx + dy * dy
                    if d2 < best[o]:
                        best[o] = d2
                        nearest[b, o] = r * W + c
                z = depth[b, r, c]
                if z > 0.0 and z < np.inf:
                    u = c + 0.5
                    x = ox + z * (r00 * u + row_x)
                    y = oy + z * (r10 * u + row_y)
                    w = oz + z * (r20 * u + row_z)
                    valid[b, o] += 1
                    sums[b, o, 0] += x
                    sums[b, o, 1] += y
                    sums[b, o, 2] += w
                    pmin[b, o, 0] = min(pmin[b, o, 0], x)
                    pmin[b, o, 1] = min(pmin[b, o, 1], y)
                    pmin[b, o, 2] = min(pmin[b, o, 2], w)
                    pmax[b, o, 0] = max(pmax[b, o, 0], x)
                    pmax[b, o, 1] = max(pmax[b, o, 1], y)
                    pmax[b, o, 2] = max(pmax[b, o, 2], w)
                    bucket_z[n_valid] = z
                    bucket_o[n_valid] = o
                    n_valid += 1
        for o in range(O):
            if centre_ok[b, o]:
                col = centre_q[b, o, 0] // SUBPIXELS
                row = centre_q[b, o, 1] // SUBPIXELS
                centre_hit[b, o] = 0 <= col < W and 0 <= row < H and ids[b, row, col] == o
        _lower_medians(bucket_z[:n_valid], bucket_o[:n_valid], valid[b], median[b])


@njit(cache=True, nogil=True)
def _lower_medians(z, obj, counts, out):
    """Element (n - 1) // 2 of each object's sorted depths: counting sort by object, then partition."""
    O = counts.size
    start = np.zeros(O + 1, np.int64)
    for o in range(O):
        start[o + 1] = start[o] + counts[o]
    fill = start[:O].copy()
    grouped = np.empty(z.size, np.float32)
    for i in range(z.size):
        o = obj[i]
        grouped[fill[o]] = z[i]
        fill[o] += 1
    for o in range(O):
        n = counts[o]
        if n == 0:
            out[o] = np.nan
        else:
            k = (n - 1) // 2
            out[o] = np.partition(grouped[start[o] : start[o + 1]], k)[k]


@njit(parallel=True, cache=True, nogil=True, fastmath=FASTMATH)
def _extent_kernel(depth, ids, rays, origins, lo, inv_bin, per_chunk):
    B, H, W = depth.shape
    chunks = per_chunk.shape[0]
    last = per_chunk.shape[3] - 1
    for k in prange(chunks):
        for b in range(k, B, chunks):
            for r in range(H):
                v = r + 0.5
                for c in range(W):
                    o = ids[b, r, c]
                    z = depth[b, r, c]
                    if o < 0 or not (z > 0.0 and z < np.inf):
                        continue
                    u = c + 0.5
                    for a in range(3):
                        p = origins[b, a] + z * (rays[b, a, 0] * u + rays[b, a, 1] * v + rays[b, a, 2])
                        t = (p - lo[a]) * inv_bin
                        i = 0 if t < 0.0 else (last if t >= last else int(t))
                        per_chunk[k, o, a, i] += 1
