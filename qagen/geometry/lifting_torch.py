"""Torch backends of `lift_frames`: plain torch (CPU or CUDA) and fused Triton kernels (CUDA).

Both produce the same per-cell accumulators (cell = frame * O + object) and share the finishing:
- plain: gathers the mask pixels once and reduces them with bincount / scatter_reduce / index_add,
  a segmented reduction keyed by cell. Readable, and runs wherever torch runs.
- triton: one kernel over 2D pixel tiles. Within a tile it loops over the distinct objects present
  (usually one to three), reduces each in registers and issues one atomic per statistic per
  (tile, object) instead of one per pixel. A second kernel fills the depth histograms.
Depth medians come from a histogram of MEDIAN_BINS bins over each cell's own [zmin, zmax]: the
bin where the cumulative count passes (n - 1) // 2, reported at its centre, clamped to zmax.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from qagen.geometry.lifting import MEDIAN_BINS, PIXEL_BITS, SUBPIXELS, ExtentGrid, LiftBatch, RawStats, validate_ids

try:
    import triton
    import triton.language as tl
except ImportError:  # CPU-only installs: the plain path covers every device
    triton = None

KEY_NONE = torch.iinfo(torch.int64).max
TILE_H, TILE_W = 8, 16  # small tiles, one warp: per-object reductions are warp shuffles (fastest on H100)
NUM_WARPS = 1


def triton_available() -> bool:
    return triton is not None and torch.cuda.is_available()


@dataclass(frozen=True)
class _Accumulators:
    """Per-cell reductions as torch tensors of B * O rows."""

    pixels: torch.Tensor
    valid: torch.Tensor
    bbox: torch.Tensor  # (n, 4) min col, min row, max col, max row
    sums: torch.Tensor  # (n, 3) float64
    pmin: torch.Tensor  # (n, 3)
    pmax: torch.Tensor  # (n, 3)
    zmin: torch.Tensor
    zmax: torch.Tensor
    key: torch.Tensor  # int64: squared centre distance << PIXEL_BITS | row * W + col, minimised


def lift_torch(batch: LiftBatch, backend: str) -> RawStats:
    device = torch.device("cpu" if backend == "torch" else "cuda")
    depth, ids = _tensor(batch.depth, device), _tensor(batch.ids, device)
    params = _frame_params(batch, device)
    centre_q = torch.as_tensor(batch.centre_q, device=device)
    if backend == "triton":  # the stats kernel checks the ids as it reads them (out of range: skipped, counted)
        acc, bad_ids = _accumulate_triton(depth, ids, params, centre_q)
        bins = _MedianBins.of(acc, bad_ids)
        if bins.bad_ids:
            validate_ids(ids, batch.n_objects)
        hist = _depth_histogram_triton(depth, ids, bins, batch.n_objects)
    else:
        validate_ids(ids, batch.n_objects)
        acc, cell, z = _accumulate_plain(depth, ids, params, centre_q)
        bins = _MedianBins.of(acc)
        hist = _depth_histogram_plain(cell, z, bins)
    return _raw_stats(batch, acc, bins.medians(hist, acc), ids, centre_q)


def extent_histograms_torch(batch: LiftBatch, grid: ExtentGrid, backend: str) -> np.ndarray:
    device = torch.device("cpu" if backend == "torch" else "cuda")
    depth, ids = _tensor(batch.depth, device), _tensor(batch.ids, device)
    B, H, W = batch.shape
    O = batch.n_objects
    flat_ids, flat_depth = ids.reshape(B, H * W), depth.reshape(B, H * W)
    frame, pix = torch.nonzero((flat_ids >= 0) & (flat_depth > 0) & torch.isfinite(flat_depth), as_tuple=True)
    world = _world_points(_frame_params(batch, device), frame, pix // W, pix % W, flat_depth[frame, pix])
    origin = torch.as_tensor(grid.origin, dtype=world.dtype, device=device)
    index = ((world - origin) / grid.bin_size).floor_().clamp_(0, grid.n_bins - 1).long()
    axis = torch.arange(3, device=device)
    flat_index = ((flat_ids[frame, pix].long()[:, None] * 3 + axis) * grid.n_bins + index).reshape(-1)
    hist = torch.bincount(flat_index, minlength=O * 3 * grid.n_bins)
    return hist.reshape(O, 3, grid.n_bins).cpu().numpy()


def _tensor(array, device: torch.device) -> torch.Tensor:
    tensor = torch.from_numpy(array) if isinstance(array, np.ndarray) else array
    return tensor.to(device)


def _frame_params(batch: LiftBatch, device: torch.device) -> torch.Tensor:
    """(B, 12) float32 per frame: the 3x3 ray matrix row-major, then the camera centre."""
    B = batch.shape[0]
    params = np.concatenate([batch.rays.reshape(B, 9), batch.origins], axis=1)
    return torch.as_tensor(params, dtype=torch.float32, device=device).contiguous()


def _world_points(params, frame, row, col, z) -> torch.Tensor:
    """World points (N, 3) of pixel centres (col + 0.5, row + 0.5) at camera z, float32."""
    p = params[frame]
    u = (col.to(z.dtype) + 0.5)[:, None]
    v = (row.to(z.dtype) + 0.5)[:, None]
    return p[:, 9:12] + z[:, None] * (p[:, 0:9:3] * u + p[:, 1:9:3] * v + p[:, 2:9:3])


def _scatter(index, src, reduce: str, fill, n: int) -> torch.Tensor:
    out = torch.full((n, *src.shape[1:]), fill, dtype=src.dtype, device=src.device)
    return out.scatter_reduce_(0, index, src, reduce)


def _accumulate_plain(depth, ids, params, centre_q):
    """Accumulators by gathering mask pixels once; also returns the (cell, z) of valid ones."""
    B, H, W = depth.shape
    O = centre_q.shape[1]
    n = B * O
    flat_ids = ids.reshape(B, H * W)
    frame, pix = torch.nonzero(flat_ids >= 0, as_tuple=True)
    cell = frame * O + flat_ids[frame, pix].long()
    row, col = pix // W, pix % W
    centre = centre_q.reshape(n, 2)[cell]
    dx = col * SUBPIXELS + SUBPIXELS // 2 - centre[:, 0]
    dy = row * SUBPIXELS + SUBPIXELS // 2 - centre[:, 1]
    key = ((dx * dx + dy * dy) << PIXEL_BITS) | pix
    z = depth.reshape(B, H * W)[frame, pix]
    lifted = (z > 0) & torch.isfinite(z)
    cell_v, z = cell[lifted], z[lifted]
    world = _world_points(params, frame[lifted], row[lifted], col[lifted], z)
    cell3 = cell_v[:, None].expand(-1, 3)
    acc = _Accumulators(
        pixels=torch.bincount(cell, minlength=n),
        valid=torch.bincount(cell_v, minlength=n),
        bbox=torch.stack(
            [
                _scatter(cell, col, "amin", W, n),
                _scatter(cell, row, "amin", H, n),
                _scatter(cell, col, "amax", -1, n),
                _scatter(cell, row, "amax", -1, n),
            ],
            dim=1,
        ),
        sums=torch.zeros(n, 3, dtype=torch.float64, device=depth.device).index_add_(0, cell_v, world.double()),
        pmin=_scatter(cell3, world, "amin", float("inf"), n),
        pmax=_scatter(cell3, world, "amax", float("-inf"), n),
        zmin=_scatter(cell_v, z, "amin", float("inf"), n),
        zmax=_scatter(cell_v, z, "amax", float("-inf"), n),
        key=_scatter(cell, key, "amin", KEY_NONE, n),
    )
    return acc, cell_v, z


@dataclass(frozen=True)
class _MedianBins:
    """Histogram layout: one row of MEDIAN_BINS per cell with valid depth, over that cell's [zmin, zmax]."""

    present: torch.Tensor  # (n,) bool
    slot: torch.Tensor  # (n,) int64 histogram row of each present cell
    zmin: torch.Tensor  # (n,) float32 lower edge of bin 0
    width: torch.Tensor  # (n,) float32 bin width
    inv_width: torch.Tensor  # (n,) float32, 0 where the span is 0
    rows: int
    bad_ids: int = 0  # ids out of range seen by the stats kernel

    @classmethod
    def of(cls, acc: _Accumulators, bad_ids: torch.Tensor | None = None) -> "_MedianBins":
        present = acc.valid > 0
        width = torch.where(present, (acc.zmax - acc.zmin) / MEDIAN_BINS, 0.0)
        inv_width = torch.where(width > 0, 1.0 / width, 0.0)
        slot = torch.cumsum(present, 0) - 1
        counts = [slot[-1:] + 1 if len(slot) else slot.new_zeros(1)]
        if bad_ids is not None:
            counts.append(bad_ids.to(slot.dtype))
        rows, *bad = torch.cat(counts).tolist()  # one wait for the device
        return cls(present, slot, acc.zmin, width, inv_width, int(rows), int(bad[0]) if bad else 0)

    def medians(self, hist: torch.Tensor, acc: _Accumulators) -> torch.Tensor:
        """Lower medians per cell (float64, NaN where no valid depth) from the filled histogram."""
        cum = hist.reshape(self.rows, MEDIAN_BINS).cumsum(1, dtype=torch.int32)
        k = ((acc.valid[self.present] - 1) // 2).to(torch.int32)
        index = torch.searchsorted(cum, k[:, None], right=True)[:, 0]
        zmin = acc.zmin[self.present].double()
        value = zmin + (index + 0.5) * self.width[self.present].double()
        out = torch.full(self.present.shape, float("nan"), dtype=torch.float64, device=hist.device)
        out[self.present] = torch.minimum(value, acc.zmax[self.present].double())
        return out


def _depth_histogram_plain(cell, z, bins: _MedianBins) -> torch.Tensor:
    index = ((z - bins.zmin[cell]) * bins.inv_width[cell]).long().clamp_(max=MEDIAN_BINS - 1)
    return torch.bincount(bins.slot[cell] * MEDIAN_BINS + index, minlength=bins.rows * MEDIAN_BINS)


def _raw_stats(batch: LiftBatch, acc: _Accumulators, median, ids, centre_q) -> RawStats:
    B, H, W = batch.shape
    O = batch.n_objects
    n = B * O
    nearest = torch.where(acc.key != KEY_NONE, acc.key & ((1 << PIXEL_BITS) - 1), -1)
    centre_px = torch.div(centre_q.reshape(n, 2), SUBPIXELS, rounding_mode="floor")
    col, row = centre_px[:, 0], centre_px[:, 1]
    cells = torch.arange(n, device=ids.device)
    on_image = (col >= 0) & (col < W) & (row >= 0) & (row < H)
    under = ids[cells // O, row.clamp(0, H - 1), col.clamp(0, W - 1)]
    hit = on_image & (under == cells % O)

    # two copies to the host (integers, floats) instead of one per field
    ints = torch.cat([acc.pixels[:, None], acc.valid[:, None], acc.bbox, hit[:, None], nearest[:, None]], 1)
    floats = torch.cat([acc.sums, acc.pmin.double(), acc.pmax.double(), median[:, None]], 1)
    ints, floats = ints.cpu().numpy().reshape(B, O, -1), floats.cpu().numpy().reshape(B, O, -1)
    return RawStats(
        pixels=ints[..., 0],
        valid_pixels=ints[..., 1],
        bbox=ints[..., 2:6],
        sums=floats[..., 0:3],
        pmin=floats[..., 3:6],
        pmax=floats[..., 6:9],
        depth_median=floats[..., 9],
        nearest=ints[..., 7],
        centre_hit=ints[..., 6].astype(bool) & batch.centre_ok,
    )


def _accumulate_triton(depth, ids, params, centre_q) -> tuple[_Accumulators, torch.Tensor]:
    B, H, W = depth.shape
    O = centre_q.shape[1]
    n = B * O
    dev = depth.device
    acc = _Accumulators(
        pixels=torch.zeros(n, dtype=torch.int32, device=dev),
        valid=torch.zeros(n, dtype=torch.int32, device=dev),
        bbox=torch.tensor([W, H, -1, -1], dtype=torch.int32, device=dev).repeat(n, 1),
        sums=torch.zeros(n, 3, dtype=torch.float64, device=dev),
        pmin=torch.full((n, 3), float("inf"), dtype=torch.float32, device=dev),
        pmax=torch.full((n, 3), float("-inf"), dtype=torch.float32, device=dev),
        zmin=torch.full((n,), float("inf"), dtype=torch.float32, device=dev),
        zmax=torch.full((n,), float("-inf"), dtype=torch.float32, device=dev),
        key=torch.full((n,), KEY_NONE, dtype=torch.int64, device=dev),
    )
    bad_ids = torch.zeros(1, dtype=torch.int32, device=dev)
    grid = (B, triton.cdiv(H, TILE_H), triton.cdiv(W, TILE_W))
    _stats_kernel[grid](
        depth, ids, params, centre_q.contiguous(),
        acc.pixels, acc.valid, acc.bbox, acc.sums, acc.pmin, acc.pmax, acc.zmin, acc.zmax, acc.key, bad_ids,
        H, W, O, SUB=SUBPIXELS, PIXEL_BITS=PIXEL_BITS, TILE_H=TILE_H, TILE_W=TILE_W, num_warps=NUM_WARPS,
    )  # fmt: skip
    return acc, bad_ids


def _depth_histogram_triton(depth, ids, bins: _MedianBins, O: int) -> torch.Tensor:
    B, H, W = depth.shape
    hist = torch.zeros(bins.rows * MEDIAN_BINS, dtype=torch.int32, device=depth.device)
    grid = (B, triton.cdiv(H, TILE_H), triton.cdiv(W, TILE_W))
    _depth_hist_kernel[grid](
        depth, ids, bins.slot, bins.zmin, bins.inv_width, hist,
        H, W, O, BINS=MEDIAN_BINS, TILE_H=TILE_H, TILE_W=TILE_W, num_warps=NUM_WARPS,
    )  # fmt: skip
    return hist


if triton is not None:

    @triton.jit
    def _min2(x):
        return tl.min(tl.min(x, axis=1), axis=0)

    @triton.jit
    def _max2(x):
        return tl.max(tl.max(x, axis=1), axis=0)

    @triton.jit
    def _sum2(x):
        return tl.sum(tl.sum(x, axis=1), axis=0)

    @triton.jit
    def _load_tile(depth_ptr, ids_ptr, b, H, W, TILE_H: tl.constexpr, TILE_W: tl.constexpr):
        """This program's tile of frame b: pixel rows, cols, flat index, ids (-1 off the image), depth."""
        rows = tl.program_id(1) * TILE_H + tl.arange(0, TILE_H)[:, None]
        cols = tl.program_id(2) * TILE_W + tl.arange(0, TILE_W)[None, :]
        pix = rows * W + cols
        frame_base = b.to(tl.int64) * H * W
        in_image = (rows < H) & (cols < W)
        ids = tl.load(ids_ptr + frame_base + pix, mask=in_image, other=-1)
        z = tl.load(depth_ptr + frame_base + pix, mask=in_image, other=0.0)
        return rows, cols, pix, ids, z

    @triton.jit
    def _stats_kernel(
        depth_ptr, ids_ptr, params_ptr, centre_ptr,
        pixels_ptr, valid_ptr, bbox_ptr, sums_ptr, pmin_ptr, pmax_ptr, zmin_ptr, zmax_ptr, key_ptr, bad_ptr,
        H, W, O, SUB: tl.constexpr, PIXEL_BITS: tl.constexpr, TILE_H: tl.constexpr, TILE_W: tl.constexpr,
    ):  # fmt: skip
        b = tl.program_id(0)
        rows, cols, pix, ids, z = _load_tile(depth_ptr, ids_ptr, b, H, W, TILE_H, TILE_W)
        bad = (ids < -1) | (ids >= O)
        n_bad = _sum2(bad.to(tl.int32))
        if n_bad > 0:  # never indexes per-object arrays with them; the host reports the range
            tl.atomic_add(bad_ptr, n_bad)
            ids = tl.where(bad, -1, ids)
        has_depth = (z > 0) & (z < float("inf"))
        u = cols.to(tl.float32) + 0.5
        v = rows.to(tl.float32) + 0.5
        p = params_ptr + b * 12
        wx = tl.load(p + 9) + z * (tl.load(p + 0) * u + tl.load(p + 1) * v + tl.load(p + 2))
        wy = tl.load(p + 10) + z * (tl.load(p + 3) * u + tl.load(p + 4) * v + tl.load(p + 5))
        wz = tl.load(p + 11) + z * (tl.load(p + 6) * u + tl.load(p + 7) * v + tl.load(p + 8))
        remaining = ids >= 0
        current = _min2(tl.where(remaining, ids, 1 << 30))
        while current < (1 << 30):
            sel = remaining & (ids == current)
            lifted = sel & has_depth
            cell = b.to(tl.int64) * O + current
            tl.atomic_add(pixels_ptr + cell, _sum2(sel.to(tl.int32)))
            tl.atomic_add(valid_ptr + cell, _sum2(lifted.to(tl.int32)))
            tl.atomic_min(bbox_ptr + cell * 4 + 0, _min2(tl.where(sel, cols, W)))
            tl.atomic_min(bbox_ptr + cell * 4 + 1, _min2(tl.where(sel, rows, H)))
            tl.atomic_max(bbox_ptr + cell * 4 + 2, _max2(tl.where(sel, cols, -1)))
            tl.atomic_max(bbox_ptr + cell * 4 + 3, _max2(tl.where(sel, rows, -1)))
            dx = (cols * SUB + SUB // 2).to(tl.int64) - tl.load(centre_ptr + cell * 2)
            dy = (rows * SUB + SUB // 2).to(tl.int64) - tl.load(centre_ptr + cell * 2 + 1)
            key = ((dx * dx + dy * dy) << PIXEL_BITS) | pix.to(tl.int64)
            tl.atomic_min(key_ptr + cell, _min2(tl.where(sel, key, 0x7FFFFFFFFFFFFFFF)))
            tl.atomic_add(sums_ptr + cell * 3 + 0, _sum2(tl.where(lifted, wx, 0.0)).to(tl.float64))
            tl.atomic_add(sums_ptr + cell * 3 + 1, _sum2(tl.where(lifted, wy, 0.0)).to(tl.float64))
            tl.atomic_add(sums_ptr + cell * 3 + 2, _sum2(tl.where(lifted, wz, 0.0)).to(tl.float64))
            tl.atomic_min(pmin_ptr + cell * 3 + 0, _min2(tl.where(lifted, wx, float("inf"))))
            tl.atomic_min(pmin_ptr + cell * 3 + 1, _min2(tl.where(lifted, wy, float("inf"))))
            tl.atomic_min(pmin_ptr + cell * 3 + 2, _min2(tl.where(lifted, wz, float("inf"))))
            tl.atomic_max(pmax_ptr + cell * 3 + 0, _max2(tl.where(lifted, wx, float("-inf"))))
            tl.atomic_max(pmax_ptr + cell * 3 + 1, _max2(tl.where(lifted, wy, float("-inf"))))
            tl.atomic_max(pmax_ptr + cell * 3 + 2, _max2(tl.where(lifted, wz, float("-inf"))))
            tl.atomic_min(zmin_ptr + cell, _min2(tl.where(lifted, z, float("inf"))))
            tl.atomic_max(zmax_ptr + cell, _max2(tl.where(lifted, z, float("-inf"))))
            remaining = remaining & (ids != current)
            current = _min2(tl.where(remaining, ids, 1 << 30))

    @triton.jit
    def _depth_hist_kernel(
        depth_ptr, ids_ptr, slot_ptr, zmin_ptr, inv_width_ptr, hist_ptr,
        H, W, O, BINS: tl.constexpr, TILE_H: tl.constexpr, TILE_W: tl.constexpr,
    ):  # fmt: skip
        b = tl.program_id(0)
        rows, cols, pix, ids, z = _load_tile(depth_ptr, ids_ptr, b, H, W, TILE_H, TILE_W)
        lifted = (ids >= 0) & (ids < O) & (z > 0) & (z < float("inf"))
        cell = b.to(tl.int64) * O + ids
        slot = tl.load(slot_ptr + cell, mask=lifted, other=0)
        zmin = tl.load(zmin_ptr + cell, mask=lifted, other=0.0)
        inv_width = tl.load(inv_width_ptr + cell, mask=lifted, other=0.0)
        index = tl.minimum(tl.where(lifted, (z - zmin) * inv_width, 0.0).to(tl.int32), BINS - 1)
        tl.atomic_add(hist_ptr + slot * BINS + index, 1, mask=lifted)
