"""Lifting: per (frame, object) statistics of instance masks back-projected to world points.

`lift_frames` is the one entry point; the backends behind it (numba on CPU, plain torch on CPU or
CUDA, fused Triton kernels on CUDA) take the same validated batch and return the same raw
reductions, which are finished here into `FrameObjectStats`. `lift_frames_reference` is the
per-object numpy loop every backend is tested against and the benchmark baseline.

Definitions shared by every backend (tests hold each backend to them):
- A pixel belongs to object o when its dense id is o; depth is valid when finite and > 0.
  `pixels` and `bbox` count every mask pixel, the 3D statistics only those with valid depth.
- `depth_median` is the lower median (element (n - 1) // 2 of the sorted camera z). numba and the
  reference are exact; the torch backends use a histogram of `MEDIAN_BINS` bins over the cell's own
  depth span, so they are within one bin (<= 1 cm for an object spanning <= 20 m of depth).
- The marker: the object's box centre is projected and quantised to 1/16 pixel (floor). If the
  pixel it falls in is on the mask, the marker is that pixel; otherwise it is the mask pixel whose
  centre is nearest to the quantised point (exact integer distances; ties go to the first pixel in
  row-major order). No marker (NaN) when the centre is unknown or not in front of the camera. A
  centre projecting far off the image is clamped to `CENTRE_CLAMP_PX` beyond its border first.
"""
from __future__ import annotations

import glob
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qagen.errors import OptionError
from qagen.geometry.projection import backproject_pixels

MEDIAN_BINS = 2048
MAX_SIDE = 4096  # mask width and height limit: linear pixel indices must fit PIXEL_BITS
PIXEL_BITS = 24
SUBPIXELS = 16  # marker centre quantisation per pixel
CENTRE_CLAMP_PX = 16384

BACKENDS = ("numba", "torch", "torch-cuda", "triton", "reference")
DEVICES = ("auto", "cpu", "cuda", *BACKENDS)  # what --device takes
CUDA_DEVICES = ("cuda", "torch-cuda", "triton")
NVIDIA_PCI_VENDOR = "0x10de"


@dataclass(frozen=True)
class FrameObjectStats:
    """Per (frame, object) results, numpy, first two axes (B, O). NaN / -1 where undefined."""

    pixels: np.ndarray  # int64: mask pixels, depth valid or not
    valid_pixels: np.ndarray  # int64: mask pixels with valid depth
    bbox: np.ndarray  # (B, O, 4) int32 x1, y1, x2, y2 inclusive; -1 without pixels
    centroid: np.ndarray  # (B, O, 3) float64 world mean of lifted points
    pmin: np.ndarray  # (B, O, 3) float64 world minimum of lifted points
    pmax: np.ndarray  # (B, O, 3) float64 world maximum of lifted points
    depth_median: np.ndarray  # float64 lower median of camera z
    marker_xy: np.ndarray  # (B, O, 2) float32 pixel centre (col + 0.5, row + 0.5) of the marker
    centre_on_mask: np.ndarray  # bool: the projected centre's pixel is on the mask


@dataclass(frozen=True)
class LiftBatch:
    """A batch as the backends receive it: shapes checked, camera terms derived (depth and ids may
    be torch tensors). Backends check the id range themselves, in the pass that reads the ids."""

    depth: Any  # (B, H, W) float32 metres
    ids: Any  # (B, H, W) int32 dense object index, -1 none
    rays: np.ndarray  # (B, 3, 3) float64: world direction of pixel (u, v) is rays @ (u, v, 1)
    origins: np.ndarray  # (B, 3) float64 camera centres
    centre_q: np.ndarray  # (B, O, 2) int64 projected box centre in 1/SUBPIXELS pixel, clamped
    centre_ok: np.ndarray  # (B, O) bool: centre known and in front of the camera

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(n) for n in self.depth.shape)

    @property
    def n_objects(self) -> int:
        return self.centre_ok.shape[1]


@dataclass(frozen=True)
class RawStats:
    """What a backend returns: raw reductions, numpy, before the shared finishing step."""

    pixels: np.ndarray  # (B, O)
    valid_pixels: np.ndarray  # (B, O)
    bbox: np.ndarray  # (B, O, 4) min col, min row, max col, max row (any value where no pixels)
    sums: np.ndarray  # (B, O, 3) float64 sum of world points
    pmin: np.ndarray  # (B, O, 3)
    pmax: np.ndarray  # (B, O, 3)
    depth_median: np.ndarray  # (B, O), NaN where no valid pixels
    nearest: np.ndarray  # (B, O) int64 linear index row * W + col of the nearest mask pixel, -1 none
    centre_hit: np.ndarray  # (B, O) bool: the centre's pixel is on the object's mask

    @classmethod
    def empty(cls, B: int, O: int) -> "RawStats":
        """Every cell without pixels: what a backend starts from and what an empty batch returns."""
        return cls(
            pixels=np.zeros((B, O), np.int64),
            valid_pixels=np.zeros((B, O), np.int64),
            bbox=np.full((B, O, 4), -1, np.int32),
            sums=np.zeros((B, O, 3)),
            pmin=np.full((B, O, 3), np.nan),
            pmax=np.full((B, O, 3), np.nan),
            depth_median=np.full((B, O), np.nan),
            nearest=np.full((B, O), -1, np.int64),
            centre_hit=np.zeros((B, O), bool),
        )


@dataclass(frozen=True)
class ExtentGrid:
    """Per-axis world histogram bins used to fuse robust object extents over many frames."""

    origin: np.ndarray  # (3,) lower edge of bin 0 on x, y, z
    bin_size: float
    n_bins: int

    @classmethod
    def covering(cls, lo: np.ndarray, hi: np.ndarray, bin_size: float = 0.01, max_bins: int = 16384) -> "ExtentGrid":
        """Bins of `bin_size` (coarser if needed to stay within `max_bins`) spanning [lo, hi] on every axis."""
        lo = np.asarray(lo, dtype=float)
        span = float(np.max(np.asarray(hi, dtype=float) - lo))
        bin_size = max(bin_size, span / max_bins)
        return cls(origin=lo, bin_size=bin_size, n_bins=int(np.ceil(span / bin_size)) + 1)


def cuda_available() -> bool:
    """Whether torch sees a CUDA device; without importing torch (some 2 s and 200 MB, a third of a
    small CPU run) where there is no NVIDIA GPU to find: on Linux without an NVIDIA driver, device
    node or PCI device (nor WSL's GPU bridge), on macOS, or with CUDA_VISIBLE_DEVICES hiding all."""
    if os.environ.get("CUDA_VISIBLE_DEVICES") in ("", "-1") or sys.platform == "darwin":
        return False
    if sys.platform.startswith("linux") and not _nvidia_hardware_visible():
        return False
    import torch

    return torch.cuda.is_available()


def _nvidia_hardware_visible() -> bool:
    """An NVIDIA driver, device node or PCI device, or WSL's GPU bridge, on this Linux machine."""
    if Path("/proc/driver/nvidia/version").exists() or Path("/dev/dxg").exists() or glob.glob("/dev/nvidia[0-9]*"):
        return True
    for vendor in glob.glob("/sys/bus/pci/devices/*/vendor"):  # a GPU whose driver loads on first use
        try:
            if Path(vendor).read_text().strip() == NVIDIA_PCI_VENDOR:
                return True
        except OSError:
            continue
    return False


def resolve_device(device: str) -> str:
    """Map "auto", "cpu" and "cuda" to a concrete backend name from BACKENDS; an OptionError for a
    name that is none of these or a CUDA backend on a machine where torch sees no CUDA device."""
    check_device_name(device)
    if device == "cpu":
        return "numba"
    if device == "auto":
        device = "cuda" if cuda_available() else "numba"
    elif device in CUDA_DEVICES and not cuda_available():
        import torch

        raise OptionError(f"lifting device {device!r} needs CUDA, and torch {torch.__version__} sees no CUDA device "
                          f"here; use --device auto or cpu")
    if device in ("cuda", "triton"):
        from qagen.geometry import lifting_torch

        if lifting_torch.triton_available():
            return "triton"
        if device == "triton":
            raise OptionError("lifting device 'triton' needs the triton package, which is not installed; "
                              "use --device cuda (plain torch on the GPU)")
        return "torch-cuda"
    return device


def check_device_name(device: str) -> None:
    """An OptionError unless `device` names a lifting device (nothing imported: a run checks its
    options before the machines that will lift are known)."""
    if device not in DEVICES:
        raise OptionError(f"unknown lifting device {device!r}; expected 'auto', 'cpu', 'cuda' or one of {BACKENDS}")


def lift_frames(depth, ids, K, c2w, centres, *, device: str = "auto") -> FrameObjectStats:
    """Per (frame, object) mask statistics of a batch of frames, on the chosen backend.

    depth (B, H, W) float32 metres (0 or NaN invalid); ids (B, H, W) int32 dense object index in
    [0, O) or -1; K (B, 3, 3); c2w (B, 4, 4); centres (O, 3) world box centres (NaN unknown).
    depth and ids may be numpy arrays or torch tensors (CUDA tensors stay on the device).
    """
    backend = resolve_device(device)
    if backend == "reference":
        return lift_frames_reference(depth, ids, K, c2w, centres)
    batch = prepare_batch(depth, ids, K, c2w, centres)
    if 0 in batch.shape or batch.n_objects == 0:
        return finish(RawStats.empty(batch.shape[0], batch.n_objects), batch)
    if backend == "numba":
        from qagen.geometry.lifting_numba import lift_numba

        raw = lift_numba(batch)
    else:
        from qagen.geometry.lifting_torch import lift_torch

        raw = lift_torch(batch, backend)
    return finish(raw, batch)


def frame_depth_median(depth: np.ndarray) -> float:
    """Lower median of one depth map's valid values (finite, > 0), NaN when it has none: the scale
    of what its camera sees, for camera-motion labels. Exact, like `depth_median` of an object."""
    from qagen.geometry.lifting_numba import frame_median_numba

    return float(frame_median_numba(depth))


def mask_boxes(ids: np.ndarray, n_objects: int) -> np.ndarray:
    """Tight box of every object's pixels in one (H, W) mask of object indices (-1 or >= n_objects:
    none), float (n_objects, 4) [x1, y1, x2, y2] in pixels with exclusive x2, y2; NaN for objects
    without pixels. For masks finer than the lifting grid (ScanNet's colour-sized ones), whose thin
    parts a resampling to that grid can miss."""
    from qagen.geometry.lifting_numba import mask_boxes_numba

    return mask_boxes_numba(np.ascontiguousarray(ids, np.int32), n_objects)


def lift_frames_reference(depth, ids, K, c2w, centres) -> FrameObjectStats:
    """The definition, written as a plain per-frame, per-object numpy loop."""
    batch = prepare_batch(depth, ids, K, c2w, centres)
    depth, ids = _to_numpy(batch.depth), _to_numpy(batch.ids)
    validate_ids(ids, batch.n_objects)
    B, H, W = depth.shape
    O = batch.n_objects
    K = np.asarray(K, dtype=float)
    c2w = np.asarray(c2w, dtype=float)
    raw = RawStats.empty(B, O)
    for b in range(B):
        for o in range(O):
            rows, cols = np.nonzero(ids[b] == o)
            if rows.size == 0:
                continue
            raw.pixels[b, o] = rows.size
            raw.bbox[b, o] = (cols.min(), rows.min(), cols.max(), rows.max())
            z = depth[b, rows, cols]
            ok = np.isfinite(z) & (z > 0)
            if ok.any():
                points = backproject_pixels(cols[ok], rows[ok], z[ok].astype(float), K[b], c2w[b])
                raw.valid_pixels[b, o] = ok.sum()
                raw.sums[b, o] = points.sum(axis=0)
                raw.pmin[b, o] = points.min(axis=0)
                raw.pmax[b, o] = points.max(axis=0)
                raw.depth_median[b, o] = np.sort(z[ok])[(ok.sum() - 1) // 2]
            if batch.centre_ok[b, o]:
                uq, vq = batch.centre_q[b, o]
                dist2 = (SUBPIXELS * cols + SUBPIXELS // 2 - uq) ** 2 + (SUBPIXELS * rows + SUBPIXELS // 2 - vq) ** 2
                nearest = np.argmin(dist2)
                raw.nearest[b, o] = rows[nearest] * W + cols[nearest]
                col, row = uq // SUBPIXELS, vq // SUBPIXELS
                raw.centre_hit[b, o] = 0 <= col < W and 0 <= row < H and ids[b, row, col] == o
    return finish(raw, batch)


def prepare_batch(depth, ids, K, c2w, centres) -> LiftBatch:
    """Validate shapes and ranges, and derive what every backend needs from K, c2w and centres."""
    if tuple(depth.shape) != tuple(ids.shape) or len(depth.shape) != 3:
        raise ValueError(f"depth {tuple(depth.shape)} and ids {tuple(ids.shape)} must both be (B, H, W)")
    B, H, W = (int(n) for n in depth.shape)
    if H > MAX_SIDE or W > MAX_SIDE:
        raise ValueError(f"mask grid {W}x{H} exceeds {MAX_SIDE} pixels per side")
    K = np.asarray(K, dtype=float)
    c2w = np.asarray(c2w, dtype=float)
    centres = np.asarray(centres, dtype=float).reshape(-1, 3)
    if K.shape != (B, 3, 3) or c2w.shape != (B, 4, 4):
        raise ValueError(f"K {K.shape} and c2w {c2w.shape} must be ({B}, 3, 3) and ({B}, 4, 4)")
    if not (np.isfinite(K).all() and np.isfinite(c2w).all()):
        raise ValueError("K and c2w must be finite")
    from qagen.geometry.lifting_numba import centre_pixels_kernel

    centre_q = np.empty((B, len(centres), 2), np.int64)
    centre_ok = np.empty((B, len(centres)), bool)
    centre_pixels_kernel(centres, K, c2w, W, H, centre_q, centre_ok)  # as numpy steps: ~2 ms per 1,024 frames
    return LiftBatch(
        depth=_as_dtype(depth, "float32"),
        ids=_as_dtype(ids, "int32"),
        rays=c2w[:, :3, :3] @ np.linalg.inv(K[:1] if (K == K[:1]).all() else K),  # one camera: one inverse
        origins=c2w[:, :3, 3].copy(),
        centre_q=centre_q,
        centre_ok=centre_ok,
    )


def validate_ids(ids, n_objects: int) -> None:
    """Raise unless every id lies in [-1, n_objects): the kernels index per-object arrays with them.

    The numba kernel checks ids as it reads them and calls this only to report a failure."""
    if isinstance(ids, np.ndarray):
        low, high = (int(ids.min()), int(ids.max())) if ids.size else (-1, -1)
    else:
        low, high = (int(v) for v in ids.aminmax()) if ids.numel() else (-1, -1)
    if low < -1 or high >= n_objects:
        raise ValueError(f"ids must lie in [-1, {n_objects}) for {n_objects} objects, got [{low}, {high}]")


def finish(raw: RawStats, batch: LiftBatch) -> FrameObjectStats:
    """Shared last step: undefined cells to NaN / -1, centroids, marker pixel from the raw reductions.

    One compiled pass over the cells: as a dozen whole-array numpy steps it took about 2.5 ms per
    1,024 frames, an eighth of the Triton path's time."""
    from qagen.geometry.lifting_numba import finish_kernel

    B, O = raw.pixels.shape
    out = FrameObjectStats(
        pixels=raw.pixels.astype(np.int64),
        valid_pixels=raw.valid_pixels.astype(np.int64),
        bbox=np.empty((B, O, 4), np.int32),
        centroid=np.empty((B, O, 3)),
        pmin=np.empty((B, O, 3)),
        pmax=np.empty((B, O, 3)),
        depth_median=np.empty((B, O)),
        marker_xy=np.empty((B, O, 2), np.float32),
        centre_on_mask=np.empty((B, O), bool),
    )
    finish_kernel(
        raw.pixels, raw.valid_pixels, raw.bbox, raw.sums, raw.pmin, raw.pmax, raw.depth_median, raw.nearest,
        raw.centre_hit, batch.centre_q, batch.centre_ok, batch.shape[2],
        out.bbox, out.centroid, out.pmin, out.pmax, out.depth_median, out.marker_xy, out.centre_on_mask,
    )  # fmt: skip
    return out


def extent_histograms(depth, ids, K, c2w, n_objects: int, grid: ExtentGrid, *, device: str = "auto") -> np.ndarray:
    """Counts (n_objects, 3, grid.n_bins) of lifted valid points per object along world x, y, z.

    Points beyond the grid fall into its first or last bin. Summed over frames, these give robust
    fused extents (`robust_extents`) without keeping the fused point cloud.
    """
    backend = resolve_device(device)
    batch = prepare_batch(depth, ids, K, c2w, np.full((n_objects, 3), np.nan))
    validate_ids(batch.ids, n_objects)
    if backend in ("numba", "reference"):  # the reference backend defines observations, not fusion
        from qagen.geometry.lifting_numba import extent_histograms_numba

        return extent_histograms_numba(batch, grid)
    from qagen.geometry.lifting_torch import extent_histograms_torch

    return extent_histograms_torch(batch, grid, backend)


def robust_extents(hist: np.ndarray, grid: ExtentGrid, lower: float = 0.02, upper: float = 0.98) -> tuple[np.ndarray, np.ndarray]:
    """The `lower` and `upper` quantiles (O, 3) of histogrammed points, at the centre of the bin
    holding them (within half a bin, whether the points are spread or massed on a face); NaN
    without points."""
    cum = np.cumsum(hist, axis=-1)
    total = cum[..., -1]

    def quantile(q: float) -> np.ndarray:
        index = np.argmax(cum > (q * total)[..., None], axis=-1)
        return np.where(total > 0, grid.origin + (index + 0.5) * grid.bin_size, np.nan)

    return quantile(lower), quantile(upper)


def _as_dtype(array, dtype: str):
    """Cast numpy arrays or torch tensors to `dtype` without copying when they already have it."""
    if isinstance(array, np.ndarray):
        return np.ascontiguousarray(array, dtype=dtype)
    import torch

    return array.to(getattr(torch, dtype)).contiguous()


def _to_numpy(array) -> np.ndarray:
    return array if isinstance(array, np.ndarray) else array.detach().cpu().numpy()
