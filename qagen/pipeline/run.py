"""`qagen generate` as a function: discover scenes, plan quotas, run scenes on an executor, write
the writers' side files and the manifest."""
from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Optional, Sequence

from qagen.errors import OptionError, QagenError
from qagen.geometry.lifting import check_device_name
from qagen.pipeline import catalogue as catalogue_mod
from qagen.pipeline.executors import run_local, run_ray
from qagen.pipeline.manifest import build_manifest, write_manifest
from qagen.pipeline.plan import RunPlan, ScenePointer, scale_for_total
from qagen.pipeline.scene_job import SceneReport, shard_info
from qagen.pipeline.task_fanout import auto_task_workers
from qagen.render.catalogue import template_dirs
from qagen.scene.loaders import discover_scenes
from qagen.specs.load import spec_dirs

DEMO_SCENES = 3
DATASET_NAME = "qagen"


def cache_dir() -> Path:
    return Path(os.environ.get("QAGEN_CACHE", Path.home() / ".cache" / "qagen"))


def demo_root(seed: int = 0, n: int = DEMO_SCENES, frames: int | None = None) -> Path:
    """The built-in synthetic scenes, written once into the cache and reused (`frames`: per
    camera walk, instead of the default 30-60)."""
    from qagen.scene.synthetic import write_demo_scenes

    root = cache_dir() / (f"demo-seed{seed}-n{n}" + (f"-f{frames}" if frames else ""))
    write_demo_scenes(root, n=n, seed=seed, frames=frames)
    return root


def source_of(pointer: ScenePointer) -> str:
    """The scene's source without loading it (for planning a total across sources)."""
    scene_json = pointer.path / "scene.json"
    if pointer.loader == "native" and scene_json.is_file():
        try:
            return str(json.loads(scene_json.read_text(encoding="utf-8")).get("source", "native"))
        except (OSError, ValueError):
            return "native"
    return pointer.loader


def show_progress() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


def progress_bar(scenes: int):
    """A tqdm bar over scenes on a terminal (tqdm is imported only then), else None."""
    if not show_progress():
        return None
    from tqdm import tqdm

    return tqdm(total=scenes, unit="scene")


def _last_file(folders: list[Path], name: str) -> Path:
    return next(f / f"{name}.yaml" for f in reversed(folders) if (f / f"{name}.yaml").exists())


def generate_dataset(plan: RunPlan, data: Optional[Path], loader: str, workers: int = 1,
                     executor: str = "local", address: Optional[str] = None, gpus_per_scene: float = 0.0,
                     scene_limit: Optional[int] = None, task_workers: Optional[int] = 1) -> dict:
    """Run the whole job; returns the manifest (also written to <out>/manifest.json).

    `task_workers`: processes that share each scene's sampling (pipeline.task_fanout); None: on
    the local executor, the cores that `workers` scenes at once leave over, and 1 on Ray (whose
    tasks each hold one core). Above 1, helper processes are spawned, and a calling script needs
    the `if __name__ == "__main__":` guard."""
    from qagen.writers import make_writer

    _check_run_options(executor, workers, task_workers, scene_limit, gpus_per_scene)
    root = Path(data) if data is not None else demo_root()
    if not root.exists():
        raise QagenError(f"{root}: data path does not exist")
    paths = discover_scenes(root, loader)[:scene_limit]
    if not paths:
        raise QagenError(f"{root}: no scenes found for loader {loader!r}")
    pointers = [ScenePointer(p, loader) for p in paths]
    if task_workers is None:
        task_workers = auto_task_workers(workers, len(pointers)) if executor == "local" else 1
    plan = replace(plan, scale=scale_for_total(plan.mix, plan.tasks, plan.formats, [source_of(p) for p in pointers]),
                   task_workers=task_workers)
    plan.out.mkdir(parents=True, exist_ok=True)

    results = run_ray(pointers, plan, address, gpus_per_scene) if executor == "ray" else run_local(pointers, plan, workers)
    reports: list[SceneReport] = []
    bar = progress_bar(len(pointers))
    for report in results:
        reports.append(report)
        if bar is not None:
            bar.update(1)
            records = sum(sum(v.values()) for v in report.produced.values())
            rejected = sum(sum(v.values()) for v in report.rejections.values())
            bar.set_postfix(qa=records, rejected=rejected, refresh=False)
    if bar is not None:
        bar.close()

    for name in plan.writers:
        writer = make_writer(name, root, plan.strip_meta, plan.sharegpt_style)
        for split in sorted({r.split for r in reports}, key=str):
            shards = [shard_info(plan.out, r, name) for r in sorted(reports, key=lambda r: (r.source, r.scene))
                      if r.split == split and name in r.shards]
            writer.write_meta(plan.out / split if split else plan.out, shards, DATASET_NAME)

    specs_folders, template_folders = spec_dirs(plan.extra_specs), template_dirs(plan.extra_templates)
    config = {
        "data": "<demo>" if data is None else str(Path(data).name),
        "loader": loader,
        "tasks": [s.name for s in plan.tasks],
        "formats": list(plan.formats),
        "writers": list(plan.writers),
        "burn_markers": plan.burn_markers,
        "frame_stride": plan.frame_stride,
        "mix": plan.mix.model_dump(),
        "scale": plan.scale,
    }
    manifest = build_manifest(
        plan,
        reports,
        {s.name: _last_file(specs_folders, s.name) for s in plan.tasks},
        {s.name: _last_file(template_folders, s.name) for s in plan.tasks},
        config,
    )
    write_manifest(plan.out, manifest)
    return manifest


def _check_run_options(executor: str, workers: int, task_workers: Optional[int], scene_limit: Optional[int],
                       gpus_per_scene: float) -> None:
    """The run's own options, checked before any scene is read or anything written."""
    if executor not in ("local", "ray"):
        raise OptionError(f"unknown executor {executor!r}; use local or ray")
    for name, value, least in (("workers", workers, 1), ("task workers", task_workers, 1),
                               ("the scene limit", scene_limit, 1), ("GPUs per scene", gpus_per_scene, 0)):
        if value is not None and value < least:
            raise OptionError(f"{name} must be at least {least}, not {value}")


def plan_from_options(tasks: str | Sequence[str], formats: str | Sequence[str], writers: str | Sequence[str],
                      out: Path, seed: int, mix, device: str, resume: bool, strip_meta: bool,
                      sharegpt_style: str, extra_specs: Sequence[Path] = (),
                      extra_templates: Sequence[Path] = (), burn_markers: bool = False,
                      frame_stride: int | str = "auto") -> RunPlan:
    from qagen.specs.schema import FORMATS
    from qagen.writers.sharegpt import check_style

    frame_stride = _stride(frame_stride)
    check_device_name(device)
    check_style(sharegpt_style)
    extra = (tuple(map(Path, extra_specs)), tuple(map(Path, extra_templates)))
    specs = tuple(catalogue_mod.load(*extra, tasks=()).select(tasks))
    catalogue_mod.load(*extra, tasks=tuple(s.name for s in specs))  # their templates exist and compile
    fmt_list = _choice_list(formats, FORMATS, "format")
    writer_list = writer_names(writers)
    return RunPlan(
        tasks=specs, formats=tuple(fmt_list), writers=tuple(writer_list), out=Path(out), seed=seed, mix=mix,
        device=device, resume=resume, strip_meta=strip_meta, sharegpt_style=sharegpt_style,
        extra_specs=tuple(map(Path, extra_specs)), extra_templates=tuple(map(Path, extra_templates)),
        burn_markers=burn_markers, frame_stride=frame_stride,
    )


def _stride(value: int | str) -> int | str:
    """A frame stride from the command line: "auto" or a positive integer."""
    if value == "auto":
        return value
    try:
        stride = int(value)
    except (TypeError, ValueError):
        stride = 0
    if stride < 1 or str(value).strip() != str(stride):
        raise QagenError(f"--frame-stride must be auto or a positive integer, not {value!r}")
    return stride


def writer_names(value: str | Sequence[str]) -> list[str]:
    """Output format names from "all" or a comma-separated list, checked against the registry."""
    from qagen.writers import WRITERS

    return _choice_list(value, tuple(WRITERS.names()), "output format")


def _choice_list(value: str | Sequence[str], allowed: Sequence[str], what: str) -> list[str]:
    items = list(allowed) if value == "all" else (value.split(",") if isinstance(value, str) else list(value))
    items = [i.strip() for i in items if i.strip()]
    bad = [i for i in items if i not in allowed]
    if bad:
        raise QagenError(f"unknown {what}(s): {', '.join(bad)}; choose from {', '.join(allowed)} or all")
    return items
