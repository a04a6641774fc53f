"""Benchmark of the lifting stage: frames/s of `lift_frames` per backend at 640x480, and of a
whole `SceneIndex.build` that decodes depth + instance PNGs from disk.

Prints one JSON object. Synthetic frames: a tilted background plane with ~20 objects as blocks at
their own depths (later blocks occlude earlier ones), 2 % zero and 0.5 % NaN depth. Every backend
is also checked against the numpy reference on a few frames ("agreement"); each figure is the
best of 3 timed runs.

    PYTHONPATH=. python benchmarks/lifting.py [--device all|numba,torch,reference,cuda] [--frames N] [--objects O]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from qagen.geometry.lifting import MEDIAN_BINS, lift_frames, lift_frames_reference

W, H = 640, 480
K = np.array([[577.0, 0.0, 320.0], [0.0, 577.0, 240.0], [0.0, 0.0, 1.0]])


def synthetic_batch(n: int, n_objects: int, seed: int = 0):
    """depth (n, H, W) float32, ids (n, H, W) int32, K (n, 3, 3), c2w (n, 4, 4), centres (O, 3)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:H, 0:W].astype(np.float32)
    depth = np.empty((n, H, W), np.float32)
    ids = np.full((n, H, W), -1, np.int32)
    for b in range(n):
        depth[b] = 2.5 + 0.003 * rows * rng.uniform(0.5, 1.5) + 0.001 * cols * rng.uniform(-1, 1)
        for o in rng.permutation(n_objects):
            h, w = rng.integers(20, 160), rng.integers(20, 200)
            r, c = rng.integers(0, H - h), rng.integers(0, W - w)
            ids[b, r : r + h, c : c + w] = o
            depth[b, r : r + h, c : c + w] = rng.uniform(0.8, 4.0) + 0.002 * (rows[r : r + h, c : c + w] - r)
    depth[rng.random(depth.shape) < 0.02] = 0.0
    depth[rng.random(depth.shape) < 0.005] = np.nan
    c2w = np.tile(np.eye(4), (n, 1, 1))
    for b in range(n):
        yaw, pitch = rng.uniform(-np.pi, np.pi), rng.uniform(-0.4, 0.1)
        forward = np.array([np.cos(yaw) * np.cos(pitch), np.sin(yaw) * np.cos(pitch), np.sin(pitch)])
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        c2w[b, :3, :3] = np.stack([right, np.cross(forward, right), forward], axis=1)
        c2w[b, :3, 3] = rng.uniform([0, 0, 1.2], [5, 5, 1.8])
    centres = rng.uniform([0, 0, 0], [5, 5, 2], size=(n_objects, 3))
    return depth, ids, np.repeat(K[None], n, 0), c2w, centres


def frames_per_second(run, batch, total_frames: int, batch_size: int, sync=lambda: None, repeats: int = 3) -> float:
    """Run `run` on consecutive slices of `batch` (cycled) until `total_frames` frames are lifted;
    the best of `repeats` such runs (timeit's convention: the others measured the machine's noise)."""
    depth, ids, Ks, c2w, centres = batch
    pool = depth.shape[0]
    best = float("inf")
    for _ in range(repeats):
        done = 0
        sync()
        start = time.perf_counter()
        while done < total_frames:
            s = done % pool
            e = min(s + batch_size, pool, s + total_frames - done)
            run(depth[s:e], ids[s:e], Ks[s:e], c2w[s:e], centres)
            done += e - s
        sync()
        best = min(best, time.perf_counter() - start)
    return total_frames / best


def agreement(stats, ref) -> dict:
    """Largest differences to the reference; ok when within the documented tolerances."""
    diff = {}
    for name in ("pixels", "valid_pixels", "bbox", "marker_xy", "centre_on_mask", "centroid", "pmin", "pmax", "depth_median"):
        a, b = getattr(stats, name).astype(float), getattr(ref, name).astype(float)
        same_nan = np.array_equal(np.isnan(a), np.isnan(b))
        diff[name] = float(np.nanmax(np.abs(a - b), initial=0.0)) if same_nan else float("inf")
    exact = all(diff[n] == 0 for n in ("pixels", "valid_pixels", "bbox", "marker_xy", "centre_on_mask"))
    close = all(diff[n] <= 1e-4 for n in ("centroid", "pmin", "pmax")) and diff["depth_median"] <= 5.0 / MEDIAN_BINS
    return {"ok": bool(exact and close), "max_abs_diff": diff}


def bench_backends(devices, frames: int, n_objects: int, batch_size: int, cuda_batch: int) -> dict:
    out: dict = {"fps": {}, "frames_timed": {}, "agreement": {}}
    batch = synthetic_batch(batch_size, n_objects)
    check = tuple(a[:2] if i < 4 else a for i, a in enumerate(batch))
    ref = lift_frames_reference(*check)

    def record(name, run, total, size, sync=lambda: None, data=batch):
        try:  # one failing backend (say, a kernel that does not compile) must not lose the others' figures
            run(*check)  # warm-up: compilation, autotuning, allocator
            out["agreement"][name] = agreement(run(*check), ref)
            out["fps"][name] = round(frames_per_second(run, data, total, size, sync), 1)
            out["frames_timed"][name] = total
        except Exception as exc:  # noqa: BLE001 - reported in the JSON instead
            out.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"[:2000]

    if "numba" in devices:
        from qagen.geometry.lifting_numba import _lift_kernel

        start = time.perf_counter()
        lift_frames(*check, device="numba")
        out["numba_first_call_s"] = round(time.perf_counter() - start, 2)  # compilation, or loading its cache
        out["numba_loaded_from_cache"] = sum(_lift_kernel.stats.cache_hits.values()) > 0
        record("numba", lambda *a: lift_frames(*a, device="numba"), frames, batch_size)
    if "torch" in devices:
        record("torch_cpu", lambda *a: lift_frames(*a, device="torch"), max(batch_size, frames // 8), batch_size)
    if "reference" in devices:
        record("reference_numpy", lift_frames_reference, min(frames, 8), batch_size)
    if "cuda" in devices:
        out.update(bench_cuda(frames, n_objects, cuda_batch, check, ref, record))
    return out


def bench_cuda(frames: int, n_objects: int, cuda_batch: int, check, ref, record) -> dict:
    import torch

    from qagen.geometry.lifting_torch import triton_available

    if not torch.cuda.is_available():
        return {"cuda": "not available"}
    host = synthetic_batch(cuda_batch, n_objects, seed=1)
    on_device = (torch.from_numpy(host[0]).cuda(), torch.from_numpy(host[1]).cuda(), *host[2:])
    total = max(frames, 20 * cuda_batch)
    backends = ["torch-cuda"] + (["triton"] if triton_available() else [])
    for backend in backends:
        run = lambda *a, b=backend: lift_frames(*a, device=b)  # noqa: E731
        record(f"cuda_{backend}", run, total, cuda_batch, torch.cuda.synchronize, on_device)
        record(f"cuda_{backend}_from_host", run, total // 4, cuda_batch, torch.cuda.synchronize, host)
    return {"cuda_batch_size": cuda_batch}


def bench_scene_index(n_frames: int, n_objects: int, batch_size: int, device: str) -> dict:
    """SceneIndex.build over PNGs written to a temporary folder: decoding included."""
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    from qagen.scene.index import SceneIndex
    from qagen.scene.io import read_depth, read_instance
    from qagen.scene.model import Box, Frame, Scene, SceneObject

    depth, ids, Ks, c2w, centres = synthetic_batch(n_frames, n_objects, seed=2)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        frames = []
        for i in range(n_frames):
            stored = np.nan_to_num(depth[i] * 1000).round().astype(np.uint16)
            Image.fromarray(stored).save(root / f"d{i}.png")
            Image.fromarray((ids[i] + 1).astype(np.uint16)).save(root / f"i{i}.png")
            frames.append(Frame(index=i, c2w=c2w[i], K_color=K, color_size=(W, H),
                                depth_path=root / f"d{i}.png", instance_path=root / f"i{i}.png"))  # fmt: skip
        objects = [SceneObject(o + 1, "thing", Box(centres[o], np.full(3, 0.5), np.eye(3))) for o in range(n_objects)]
        scene = Scene(id="bench", source="synthetic", root=root, frames=frames, objects=objects)
        SceneIndex.build(dataclasses.replace(scene, frames=frames[:2]), device=device)  # warm-up
        start = time.perf_counter()
        index = SceneIndex.build(scene, device=device, batch_size=batch_size)
        build_fps = n_frames / (time.perf_counter() - start)
        workers = min(8, max(2, os.cpu_count() or 1))
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda f: (read_depth(f.depth_path, 1000.0, (W, H)), read_instance(f.instance_path, 0, (W, H))), frames))
        decode_fps = n_frames / (time.perf_counter() - start)
    return {
        "device": device,
        "frames": n_frames,
        "rows": len(index),
        "build_fps_with_png_decoding": round(build_fps, 1),
        "png_decode_only_fps": round(decode_fps, 1),
        "decode_threads": workers,
    }


def machine() -> dict:
    import numba
    import torch

    info = {
        "cpu_cores": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "processor": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    try:
        import triton

        info["triton"] = triton.__version__
    except ImportError:
        info["triton"] = None
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="all", help="all, or a comma list of numba, torch, reference, cuda")
    parser.add_argument("--frames", type=int, default=512, help="frames timed per fast backend")
    parser.add_argument("--objects", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--cuda-batch-size", type=int, default=1024)
    parser.add_argument("--png-frames", type=int, default=128, help="frames written as PNGs for the SceneIndex build (0 skips)")
    args = parser.parse_args()
    devices = {"numba", "torch", "reference", "cuda"} if args.device == "all" else set(args.device.split(","))
    result = {
        "machine": machine(),
        "frame_size": [W, H],
        "objects": args.objects,
        "batch_size": args.batch_size,
        **bench_backends(devices, args.frames, args.objects, args.batch_size, args.cuda_batch_size),
    }
    if args.png_frames:
        import torch

        device = "cuda" if "cuda" in devices and torch.cuda.is_available() else "numba"
        try:
            result["scene_index"] = bench_scene_index(args.png_frames, args.objects, args.batch_size, device)
        except Exception as exc:  # noqa: BLE001 - reported in the JSON instead
            result["scene_index"] = {"device": device, "error": f"{type(exc).__name__}: {exc}"[:2000]}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
