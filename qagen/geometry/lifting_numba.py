"""CPU backend of `lift_frames`: numba kernels, parallel over frames.

Each frame is one sequential pass over its rows in runs of equal id: per run the pixel count,
2D box and nearest-to-centre pixel are updated once, and a tight loop over the run's pixels
lifts valid depths and reduces world sums / min / max in registers. The same loop counts depths
in a per-object histogram keyed by the top bits of the float (monotone in depth), so the exact
lower median only needs a second pass that gathers the few values in the one bin holding it.
Frames are independent: threads write disjoint rows of the outputs, without atomics.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from qagen.geometry.lifting import CENTRE_CLAMP_PX, SUBPIXELS, ExtentGrid, LiftBatch, RawStats, validate_ids

# OpenMP first: thread-safe when several threads lift at once, and it spares numba probing (and
# warning about) an old TBB. Only an order of preference; numba falls back as usual.
numba.config.THREADING_LAYER_PRIORITY = ["omp", "tbb", "workqueue"]
# Everything but nnan/ninf: invalid depth is NaN or inf and must compare as such.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
_NO_DISTANCE = np.iinfo(np.int64).max
# Median histogram key of a positive float32: its bits >> 15 (exponent and 8 mantissa bits, i.e.
# 256 bins per octave), offset so that 2^-4 m .. 2^6 m map to 0 .. _KEYS - 1; the rest is clamped.
_KEY_SHIFT = 15
_KEY_BASE = 123 << 8
_KEYS = 10 << 8
_INF_BITS = 0x7F800000


def lift_numba(batch: LiftBatch) -> RawStats:
    raw = RawStats.empty(batch.shape[0], batch.n_objects)
    bad_ids = np.zeros(batch.shape[0], np.int64)
    _lift_kernel(
        batch.depth, batch.depth.view(np.int32), batch.ids, batch.rays, batch.origins, batch.centre_q,
        batch.centre_ok, raw.pixels, raw.valid_pixels, raw.bbox, raw.sums, raw.pmin, raw.pmax,
        raw.depth_median, raw.nearest, raw.centre_hit, bad_ids,
    )  # fmt: skip
    if bad_ids.any():
        validate_ids(batch.ids, batch.n_objects)
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


@njit(cache=True, nogil=True, error_model="numpy")
def centre_pixels_kernel(centres, K, c2w, W, H, centre_q, centre_ok):
    """`prepare_batch`'s projection of every box centre (O, 3) into every frame: its pixel in
    1/SUBPIXELS steps, clamped to CENTRE_CLAMP_PX around the image, and whether it is known and
    in front of the camera (NaN centres are not; off-image ones are)."""
    B, O = centre_ok.shape
    for b in range(B):
        r, t, k = c2w[b, :3, :3], c2w[b, :3, 3], K[b]
        for o in range(O):
            d0, d1, d2 = centres[o, 0] - t[0], centres[o, 1] - t[1], centres[o, 2] - t[2]
            x = r[0, 0] * d0 + r[1, 0] * d1 + r[2, 0] * d2  # camera = rotation^T (world - origin)
            y = r[0, 1] * d0 + r[1, 1] * d1 + r[2, 1] * d2
            z = r[0, 2] * d0 + r[1, 2] * d1 + r[2, 2] * d2
            w = k[2, 0] * x + k[2, 1] * y + k[2, 2] * z
            u = (k[0, 0] * x + k[0, 1] * y + k[0, 2] * z) / w
            v = (k[1, 0] * x + k[1, 1] * y + k[1, 2] * z) / w
            ok = z > 0 and np.isfinite(u) and np.isfinite(v)
            centre_ok[b, o] = ok
            if not ok:
                u = v = 0.0
            u = min(max(u, -CENTRE_CLAMP_PX), W + CENTRE_CLAMP_PX)
            v = min(max(v, -CENTRE_CLAMP_PX), H + CENTRE_CLAMP_PX)
            centre_q[b, o, 0] = np.int64(np.floor(u * SUBPIXELS))
            centre_q[b, o, 1] = np.int64(np.floor(v * SUBPIXELS))


@njit(cache=True, nogil=True)
def finish_kernel(pixels, valid, bbox, sums, pmin, pmax, median, nearest, hit, centre_q, centre_ok, W,
                  out_bbox, out_centroid, out_pmin, out_pmax, out_median, out_marker, out_on_mask):  # fmt: skip
    """`finish`'s pass over the (frame, object) cells (any backend's RawStats)."""
    B, O = pixels.shape
    for b in range(B):
        for o in range(O):
            has, has_valid = pixels[b, o] > 0, valid[b, o] > 0
            for k in range(4):
                out_bbox[b, o, k] = bbox[b, o, k] if has else -1
            for k in range(3):
                out_centroid[b, o, k] = sums[b, o, k] / valid[b, o] if has_valid else np.nan
                out_pmin[b, o, k] = pmin[b, o, k] if has_valid else np.nan
                out_pmax[b, o, k] = pmax[b, o, k] if has_valid else np.nan
            out_median[b, o] = median[b, o] if has_valid else np.nan
            placeable = has and centre_ok[b, o]
            out_on_mask[b, o] = placeable and hit[b, o]
            if not placeable:
                out_marker[b, o, 0] = out_marker[b, o, 1] = np.nan
            elif hit[b, o]:  # the projected box centre's own pixel
                out_marker[b, o, 0] = centre_q[b, o, 0] // SUBPIXELS + 0.5
                out_marker[b, o, 1] = centre_q[b, o, 1] // SUBPIXELS + 0.5
            else:  # the mask pixel nearest to it
                out_marker[b, o, 0] = nearest[b, o] % W + 0.5
                out_marker[b, o, 1] = nearest[b, o] // W + 0.5


@njit(parallel=True, cache=True, nogil=True, fastmath=FASTMATH)
def _lift_kernel(depth, depth_bits, ids, rays, origins, centre_q, centre_ok,
                 pixels, valid, bbox, sums, pmin, pmax, median, nearest, centre_hit, bad_ids):  # fmt: skip
    B, H, W = depth.shape
    O = pixels.shape[1]
    half = SUBPIXELS // 2
    for b in prange(B):
        best = np.full(O, _NO_DISTANCE, np.int64)
        hist = np.zeros((O, _KEYS), np.int32)
        for o in range(O):
            bbox[b, o, 0], bbox[b, o, 1], bbox[b, o, 2], bbox[b, o, 3] = W, H, -1, -1
            for a in range(3):
                pmin[b, o, a] = np.inf
                pmax[b, o, a] = -np.inf
        r00, r01, r02 = rays[b, 0, 0], rays[b, 0, 1], rays[b, 0, 2]
        r10, r11, r12 = rays[b, 1, 0], rays[b, 1, 1], rays[b, 1, 2]
        r20, r21, r22 = rays[b, 2, 0], rays[b, 2, 1], rays[b, 2, 2]
        ox, oy, oz = origins[b, 0], origins[b, 1], origins[b, 2]
        for r in range(H):
            v = r + 0.5
            row_x, row_y, row_z = r01 * v + r02, r11 * v + r12, r21 * v + r22
            row = ids[b, r]
            c = 0
            while c < W:
                o, start, c = row[c], c, _run_end(row, c)
                if o < 0 or o >= O:
                    if o != -1:
                        bad_ids[b] += 1
                    continue
                stop = c - 1
                pixels[b, o] += c - start
                bbox[b, o, 0] = min(bbox[b, o, 0], start)
                bbox[b, o, 1] = min(bbox[b, o, 1], r)
                bbox[b, o, 2] = max(bbox[b, o, 2], stop)
                bbox[b, o, 3] = r
                if centre_ok[b, o]:
                    # Nearest column of the run to the centre: one of the two around it, clamped.
                    cu = centre_q[b, o, 0]
                    left = (cu - half) // SUBPIXELS
                    col_a = min(max(left, start), stop)
                    col_b = min(max(left + 1, start), stop)
                    dx_a = SUBPIXELS * col_a + half - cu
                    dx_b = SUBPIXELS * col_b + half - cu
                    col, dx = (col_b, dx_b) if dx_b * dx_b < dx_a * dx_a else (col_a, dx_a)
                    dy = SUBPIXELS * r + half - centre_q[b, o, 1]
                    d2 = dx * dx + dy * dy
                    if d2 < best[o]:
                        best[o] = d2
                        nearest[b, o] = r * W + col
                n = 0
                sx, sy, sz = 0.0, 0.0, 0.0
                lx, ly, lz = np.inf, np.inf, np.inf
                hx, hy, hz = -np.inf, -np.inf, -np.inf
                for k in range(start, c):
                    z = depth[b, r, k]
                    if z > 0.0 and z < np.inf:
                        u = k + 0.5
                        x = ox + z * (r00 * u + row_x)
                        y = oy + z * (r10 * u + row_y)
                        w = oz + z * (r20 * u + row_z)
                        n += 1
                        sx += x
                        sy += y
                        sz += w
                        lx, ly, lz = min(lx, x), min(ly, y), min(lz, w)
                        hx, hy, hz = max(hx, x), max(hy, y), max(hz, w)
                        hist[o, _median_key(depth_bits[b, r, k])] += 1
                if n:
                    valid[b, o] += n
                    sums[b, o, 0] += sx
                    sums[b, o, 1] += sy
                    sums[b, o, 2] += sz
                    pmin[b, o, 0], pmin[b, o, 1], pmin[b, o, 2] = min(pmin[b, o, 0], lx), min(pmin[b, o, 1], ly), min(pmin[b, o, 2], lz)
                    pmax[b, o, 0], pmax[b, o, 1], pmax[b, o, 2] = max(pmax[b, o, 0], hx), max(pmax[b, o, 1], hy), max(pmax[b, o, 2], hz)
        for o in range(O):
            if centre_ok[b, o]:
                col = centre_q[b, o, 0] // SUBPIXELS
                row = centre_q[b, o, 1] // SUBPIXELS
                centre_hit[b, o] = 0 <= col < W and 0 <= row < H and ids[b, row, col] == o
        _exact_medians(depth[b], depth_bits[b], ids[b], valid[b], hist, median[b])


@njit(cache=True, nogil=True, inline="always")
def _run_end(row, start):
    """The column after the run of equal ids that starts at `start`: the kernels walk a mask row by
    runs, since objects cover spans of pixels."""
    c = start + 1
    while c < row.shape[0] and row[c] == row[start]:
        c += 1
    return c


@njit(cache=True, nogil=True, inline="always")
def _median_key(bits):
    return min(max((bits >> _KEY_SHIFT) - _KEY_BASE, 0), _KEYS - 1)


@njit(cache=True, nogil=True)
def _exact_medians(depth, depth_bits, ids, counts, hist, out):
    """Element (n - 1) // 2 of each object's sorted valid depths, given their key histograms:
    find the bin holding it, gather that bin's values in one pass, partition them."""
    H, W = depth.shape
    O = counts.size
    # The bin as a range of float bits: valid depths are positive, so [1, bits of +inf) bounds it.
    low = np.zeros(O, np.int32)
    high = np.zeros(O, np.int32)  # empty range: objects without valid depth gather nothing
    rank = np.zeros(O, np.int64)
    start = np.zeros(O + 1, np.int64)
    for o in range(O):
        size = 0
        if counts[o]:
            k = (counts[o] - 1) // 2
            j = 0
            while k >= hist[o, j]:
                k -= hist[o, j]
                j += 1
            rank[o], size = k, hist[o, j]
            low[o] = 1 if j == 0 else (j + _KEY_BASE) << _KEY_SHIFT
            high[o] = _INF_BITS if j == _KEYS - 1 else (j + 1 + _KEY_BASE) << _KEY_SHIFT
        start[o + 1] = start[o] + size
    fill = start[:O].copy()
    gathered = np.empty(start[O], np.float32)
    for r in range(H):
        row = ids[r]
        c = 0
        while c < W:
            o, run_start, c = row[c], c, _run_end(row, c)
            if 0 <= o < O and high[o]:
                lo_bits, hi_bits, f = low[o], high[o], fill[o]
                for k in range(run_start, c):
                    if lo_bits <= depth_bits[r, k] < hi_bits:
                        gathered[f] = depth[r, k]
                        f += 1
                fill[o] = f
    for o in range(O):
        out[o] = np.partition(gathered[start[o] : start[o + 1]], rank[o])[rank[o]] if counts[o] else np.nan


def mask_boxes_numba(ids: np.ndarray, n_objects: int) -> np.ndarray:
    low = np.full((n_objects, 2), np.iinfo(np.int32).max, np.int32)
    high = np.full((n_objects, 2), -1, np.int32)
    _mask_boxes_kernel(ids, low, high)
    found = high[:, 0] >= 0
    boxes = np.full((n_objects, 4), np.nan)
    boxes[found, :2] = low[found]
    boxes[found, 2:] = high[found] + 1
    return boxes


@njit(cache=True, nogil=True)
def _mask_boxes_kernel(ids, low, high):
    """Per object index, the smallest and largest column and row of its pixels, by runs of one id."""
    H, W = ids.shape
    O = low.shape[0]
    for r in range(H):
        row = ids[r]
        c = 0
        while c < W:
            o, start, c = row[c], c, _run_end(row, c)
            if 0 <= o < O:
                low[o, 0] = min(low[o, 0], start)
                high[o, 0] = max(high[o, 0], c - 1)
                low[o, 1] = min(low[o, 1], r)
                high[o, 1] = max(high[o, 1], r)


def frame_median_numba(depth: np.ndarray) -> float:
    return _frame_median_kernel(np.ascontiguousarray(depth, np.float32).reshape(-1).view(np.int32))


@njit(cache=True, nogil=True)
def _frame_median_kernel(bits):
    """`_exact_medians` for one frame as one object, on the float bits alone: a float32 is finite
    and > 0 exactly when its bits, read as int32, lie in [1, bits of +inf)."""
    hist = np.zeros(_KEYS, np.int64)
    n = 0
    for b in bits:
        if 0 < b < _INF_BITS:
            hist[_median_key(b)] += 1
            n += 1
    if n == 0:
        return np.nan
    k, j = (n - 1) // 2, 0
    while k >= hist[j]:
        k -= hist[j]
        j += 1
    low = 1 if j == 0 else (j + _KEY_BASE) << _KEY_SHIFT
    high = _INF_BITS if j == _KEYS - 1 else (j + 1 + _KEY_BASE) << _KEY_SHIFT
    gathered = np.empty(hist[j], np.int32)
    f = 0
    for b in bits:
        if low <= b < high:
            gathered[f] = b
            f += 1
    return np.partition(gathered, k)[k:k + 1].view(np.float32)[0]


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
