"""manifest.json: what a run asked for, what it produced, and why anything fell short.

It holds no timings or host names, so two runs with the same inputs and seed write identical bytes.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable

import qagen
from qagen.pipeline.plan import RunPlan
from qagen.pipeline.scene_job import SceneReport


def _hash_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _nested() -> defaultdict:
    return defaultdict(lambda: defaultdict(Counter))


def build_manifest(plan: RunPlan, reports: Iterable[SceneReport], spec_files: dict[str, Path],
                   template_files: dict[str, Path], config: dict) -> dict:
    reports = sorted(reports, key=lambda r: (r.source, r.scene))
    produced, requested = _nested(), _nested()
    rejections: defaultdict = defaultdict(Counter)
    refused: defaultdict = defaultdict(Counter)
    gaps, skipped, warnings = {}, {}, {}
    for r in reports:
        for task, per_format in r.requested.items():
            for fmt, n in per_format.items():
                requested[task][fmt][r.source] += n
                produced[task][fmt][r.source] += r.produced.get(task, {}).get(fmt, 0)
        for task, reasons in r.rejections.items():
            rejections[task].update(reasons)
        for writer, reasons in r.refused.items():
            refused[writer].update(reasons)
        if r.gaps:
            gaps[r.scene] = r.gaps
        if r.skipped_frames:
            skipped[r.scene] = r.skipped_frames
        if r.load_warnings:
            warnings[r.scene] = r.load_warnings
    shortfall = {
        task: {
            fmt: {
                source: {"requested": n, "produced": produced[task][fmt][source], "rejections": dict(rejections[task])}
                for source, n in per_source.items()
                if produced[task][fmt][source] < n
            }
            for fmt, per_source in per_format.items()
        }
        for task, per_format in requested.items()
    }
    never_run = sorted(spec.name for spec in plan.tasks if spec.name not in requested)
    return {
        "qagen": qagen.__version__,
        "config": config,
        "seed": plan.seed,
        "specs": {name: {"version": spec.version, "sha256": _hash_file(spec_files[name])}
                  for name, spec in sorted((s.name, s) for s in plan.tasks)},
        "templates": {name: _hash_file(path) for name, path in sorted(template_files.items())},
        "totals": {"scenes": len(reports), "records": sum(sum(c.values()) for t in produced.values() for c in t.values())},
        "counts": _plain(produced),
        "requested": _plain(requested),
        "shortfall": {t: {f: s for f, s in v.items() if s} for t, v in shortfall.items() if any(v.values())},
        "rejections": {t: dict(sorted(c.items())) for t, c in sorted(rejections.items())},
        "refused_by_writer": {w: dict(sorted(c.items())) for w, c in sorted(refused.items())},
        "tasks_not_run": {name: _why_not_run(name, reports) for name in never_run},
        "capability_gaps": gaps,
        "skipped_frames": skipped,
        "load_warnings": warnings,
        "scenes": [{"scene": r.scene, "source": r.source, "split": r.split, "shards": r.shards,
                    "frame_stride": r.frame_stride, "frames": r.frames, "frames_kept": r.frames_kept}
                   for r in reports],
    }


def _why_not_run(task: str, reports: list[SceneReport]) -> str:
    missing = Counter(c for r in reports for c in r.gaps.get(task, []))
    if not missing:
        return "no scene was processed"
    return "every scene lacks: " + ", ".join(f"{cap} ({n} scenes)" for cap, n in sorted(missing.items()))


def _plain(nested: defaultdict) -> dict:
    return {t: {f: dict(sorted(c.items())) for f, c in sorted(v.items())} for t, v in sorted(nested.items())}


def write_manifest(out: Path, manifest: dict) -> Path:
    path = out / "manifest.json"
    tmp = path.with_name(".manifest.json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
