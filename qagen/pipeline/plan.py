"""A run's plan: what to generate, where from, how many, with which seed. Picklable, so workers
(processes or Ray tasks) receive it whole and need nothing else."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from qagen.pipeline.mix import Mix
from qagen.pipeline.seeds import fraction
from qagen.specs.schema import TaskSpec


@dataclass(frozen=True)
class ScenePointer:
    """Where a scene lives and which loader reads it: the unit of work."""

    path: Path
    loader: str


@dataclass(frozen=True)
class RunPlan:
    tasks: tuple[TaskSpec, ...]
    formats: tuple[str, ...]  # question formats: fill, select, sentence, judge
    writers: tuple[str, ...]  # output formats: sharegpt, internvl, spar, qwen
    out: Path
    seed: int = 0
    mix: Mix = field(default_factory=Mix)
    device: str = "auto"
    scale: float = 1.0  # from mix.total, set once the number of scenes is known
    resume: bool = False
    strip_meta: bool = False
    sharegpt_style: str = "sharegpt"
    burn_markers: bool = False  # draw markers into copies of the images (writers.burn)
    frame_stride: int | str = "auto"  # keep every n-th frame of each scene; "auto": Scene.keyframes
    task_workers: int = 1  # processes that share each scene's tasks (pipeline.task_fanout)
    extra_specs: tuple[Path, ...] = ()
    extra_templates: tuple[Path, ...] = ()

    def formats_of(self, spec: TaskSpec) -> list[str]:
        return [f for f in spec.formats if f in self.formats]

    def expected(self, source: str, spec: TaskSpec, fmt: str) -> float:
        """Unrounded QA asked of one (scene, task, format) cell, before caps."""
        return self.mix.base(spec.name, spec.per_scene) * self.mix.weight(source, spec.name, fmt) * self.scale

    def quota(self, source: str, scene_id: str, spec: TaskSpec, fmt: str) -> int:
        """QA asked of the cell, rounded stochastically with the cell's own stream, then capped."""
        want = self.expected(source, spec, fmt)
        formats = self.formats_of(spec)
        if self.mix.cap_per_scene is not None and formats:
            total = sum(self.expected(source, spec, f) for f in formats)
            if total > self.mix.cap_per_scene:
                want *= self.mix.cap_per_scene / total
        whole = math.floor(want)
        if want == whole:  # nothing to round: no stream to hash (most cells at the default mix)
            return int(whole)
        return int(whole + (fraction(self.seed, "quota", scene_id, spec.name, fmt) < want - whole))


def scale_for_total(mix: Mix, tasks: tuple[TaskSpec, ...], formats: tuple[str, ...], sources: list[str]) -> float:
    """The factor that makes the planned cells add up to mix.total (1 when no total is set)."""
    if mix.total is None:
        return 1.0
    planned = sum(
        mix.base(spec.name, spec.per_scene) * mix.weight(source, spec.name, fmt)
        for source in sources
        for spec in tasks
        for fmt in spec.formats
        if fmt in formats
    )
    return mix.total / planned if planned else 1.0


def output_split(plan: RunPlan, scene_id: str) -> Optional[str]:
    return plan.mix.split_of(plan.seed, scene_id)
