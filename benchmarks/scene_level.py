"""Scene-level benchmark: `qagen generate --loader metainfo` on 88 synthetic scenes written as one
VSI-Bench-style meta-info JSON (object boxes, room size, object counts; no frames), asking about
1,600 QA of the six scene-level tasks (counts, sizes, room sizes, distances, relative distances,
directions).

The comparison is with the released generator's PUBLISHED figure for the same kind of job (about
240 s and 5.5 GB peak on 2 cores for ~1,600 scene-level QA over 88 ScanNet scenes). That generator
is NOT run here (it needs ScanNet); the ratios printed are against that published figure.

The meta-info file is built from qagen.scene.synthetic.build_world (one box per scene tilted, as
ScanNet's are) with the writer the tests use (tests/support/metainfo.py) and cached in the temp
folder; building it is timed apart and is not part of the generate time. `qagen generate` runs in a
fresh subprocess, twice: the first run also writes Python's bytecode caches (as any installed tool
has after its first use; the variable PYTHONDONTWRITEBYTECODE is dropped for the child) and is
reported as `first_run_seconds`; the second is the measurement. Peak RSS is that run's largest
process (os.wait4 on it; the meta-info file is built in a process of its own, which the benchmark's
own size would otherwise add to every child's peak).

    PYTHONPATH=. python benchmarks/scene_level.py [--scenes 88] [--per-scene 1] [--rebuild]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the meta-info writer shared with the tests

TASKS = ("obj_count_scene,room_size_scene,distance_prediction_oo_scene,distance_infer_center_oo_scene,"
         "object_dimension_scene,relative_direction")
REFERENCE_PUBLISHED = {"qa": 1600, "scenes": 88, "seconds": 240.0, "peak_gb": 5.5, "cores": 2,
                       "note": "published figure of the released generator, not run here"}


def build_meta_info(path: Path, scenes: int) -> float:
    """Write `scenes` synthetic rooms as one meta-info file; returns the seconds it took."""
    from qagen.scene.synthetic import build_world
    from support.metainfo import meta_scene, world_boxes

    start = time.perf_counter()
    content = {}
    for seed in range(scenes):
        scene_id = f"scene{seed:04d}_00"
        world = build_world(scene_id, seed)
        content[scene_id] = meta_scene(world_boxes(world), room_size=world.room.floor_area())
    path.write_text(json.dumps(content))
    return time.perf_counter() - start


def run_generate(meta: Path, mix: Path, out: Path) -> dict:
    """`qagen generate` in a fresh process: wall seconds, records written, the child's peak RSS."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # Python's default: an installed tool's modules load from bytecode
    command = [sys.executable, "-m", "qagen.cli", "generate", "--loader", "metainfo", "--data", str(meta),
               "--tasks", TASKS, "--mix", str(mix), "--out", str(out)]
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own usage (with its helpers')
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            errors.seek(0)
            raise SystemExit(f"qagen generate failed ({child.returncode}):\n{errors.read().decode(errors='replace')}")
    peak_kb = usage.ru_maxrss
    manifest = json.loads((out / "manifest.json").read_text())
    return {"seconds": seconds, "peak_mb": peak_kb / 1024, "manifest": manifest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=88)
    parser.add_argument("--per-scene", type=int, default=1, help="QA per scene per task per format (6 tasks x 3 formats)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached meta-info file")
    args = parser.parse_args()

    meta = Path(tempfile.gettempdir()) / f"qagen_bench_scene_level_{args.scenes}_meta_info.json"
    build_seconds = None
    if args.rebuild or not meta.is_file():
        # in a process of its own: a child's peak RSS starts at its parent's (Linux carries the
        # high-water mark through fork and exec), and building imports what generating does not
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as builder:
            build_seconds = round(builder.submit(build_meta_info, meta, args.scenes).result(), 2)
    with tempfile.TemporaryDirectory() as tmp:
        mix = Path(tmp) / "mix.yaml"
        mix.write_text(f"per_scene: {{default: {args.per_scene}}}\n")
        first = run_generate(meta, mix, Path(tmp) / "first")  # also writes the bytecode caches
        run = run_generate(meta, mix, Path(tmp) / "out")
    manifest = run["manifest"]
    qa, seconds, peak_mb = manifest["totals"]["records"], run["seconds"], run["peak_mb"]
    per_task = {task: sum(sum(c.values()) for c in formats.values()) for task, formats in manifest["counts"].items()}
    ref = REFERENCE_PUBLISHED
    print(json.dumps({
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "meta_info": {"scenes": manifest["totals"]["scenes"], "build_seconds": build_seconds,
                      "cached": build_seconds is None, "mb": round(meta.stat().st_size / 2**20, 2)},
        "qagen": {"seconds": round(seconds, 2), "first_run_seconds": round(first["seconds"], 2), "qa": qa, "qa_per_s": round(qa / seconds, 1),
                  "peak_rss_mb": round(peak_mb, 1), "per_task": per_task,
                  "requested": sum(sum(c.values()) for t in manifest["requested"].values() for c in t.values())},
        "reference_published": ref,
        "ratio_vs_published": {
            "time_per_qa": round((ref["seconds"] / ref["qa"]) / (seconds / qa), 1),
            "qa_per_s": round((qa / seconds) / (ref["qa"] / ref["seconds"]), 1),
            "peak_memory": round(ref["peak_gb"] * 1024 / peak_mb, 1),
        },
    }, indent=2))


if __name__ == "__main__":
    main()
