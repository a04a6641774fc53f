"""One scene, start to finish: load, lift, sample, render, write its shards. The unit of work of
every executor; its report is all the run's manifest needs from it."""
from __future__ import annotations

import gc
import json
import os
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from qagen import seeding
from qagen.pipeline import catalogue as catalogue_mod
from qagen.pipeline.plan import RunPlan, ScenePointer, output_split
from qagen.pipeline.seeds import stream_seed
from qagen.render.record import QA
from qagen.render.renderer import Renderer
from qagen.scene.index import SceneIndex
from qagen.scene.loaders import load_scene
from qagen.scene.model import Scene
from qagen.tasks.context import TaskContext
from qagen.tasks.engine import sample_facts
from qagen.tasks.fact import Fact, Reject

if TYPE_CHECKING:
    import numpy as np

    from qagen.specs.schema import TaskSpec
    from qagen.writers.shards import ShardInfo

REPORTS = ".reports"


@dataclass
class SceneReport:
    scene: str
    source: str
    split: str | None = None
    produced: dict[str, dict[str, int]] = field(default_factory=dict)  # task -> format -> n
    requested: dict[str, dict[str, int]] = field(default_factory=dict)
    rejections: dict[str, dict[str, int]] = field(default_factory=dict)  # task -> reason -> n
    gaps: dict[str, list[str]] = field(default_factory=dict)  # task -> missing capabilities
    skipped_frames: dict[str, int] = field(default_factory=dict)
    load_warnings: dict[str, int] = field(default_factory=dict)  # inconsistencies the loader tolerated
    refused: dict[str, dict[str, int]] = field(default_factory=dict)  # writer -> reason -> n
    shards: dict[str, str] = field(default_factory=dict)  # writer -> shard path (relative to out)
    shard_lines: dict[str, int] = field(default_factory=dict)  # writer -> lines written
    shard_columns: dict[str, list[str]] = field(default_factory=dict)  # writer -> top-level keys of its lines
    resumed: bool = False
    frame_stride: int | str = "auto"  # plan.frame_stride: every n-th frame kept, or the keyframes
    frames: int = 0  # frames the scene has (those its loader read)
    frames_kept: int = 0  # of them, those kept by frame_stride


def capabilities(scene: Scene, index: SceneIndex | None) -> frozenset[str]:
    """What the scene offers once lifted: fused boxes count as boxes, and per-frame visibility
    derived from boxes (scenes without masks) counts as instances."""
    have = set(scene.capabilities)
    if index is not None and scene.objects and all(o.id in index.boxes for o in scene.objects):
        have.update({"boxes", "instances"})
    return frozenset(have)


def needs_index(plan: RunPlan) -> bool:
    return any({"depth", "instances", "boxes"} & set(spec.requires) for spec in plan.tasks)


def scene_records(scene: Scene, index: SceneIndex | None, plan: RunPlan, report: SceneReport,
                  tasks: Iterable[TaskSpec] | None = None) -> Iterator[QA]:
    """Every QA the plan asks of this scene (or of `tasks`, a share of the plan's, taken as the
    loop reaches them), streamed one task and format at a time; the report is filled in as they go."""
    catalogue = catalogue_mod.load(plan.extra_specs, plan.extra_templates, tasks=tuple(s.name for s in plan.tasks))
    _freeze_startup_heap()
    have = capabilities(scene, index)
    seeds = _stream_seeds(plan, scene)
    memo: dict = {}  # scene-level memo shared by every task's context
    for spec in plan.tasks if tasks is None else tasks:
        missing = sorted(set(spec.requires) - have)
        if missing:
            report.gaps[spec.name] = missing
            continue
        renderer = Renderer(spec, catalogue.templates[spec.name], scene)
        task_memo: dict = {}  # shared by the task's formats (TaskContext.cache)
        task_seed = seeds[spec.name,]
        rejections: Counter = Counter()
        for fmt in plan.formats_of(spec):
            n = plan.quota(scene.source, scene.id, spec, fmt)
            report.requested.setdefault(spec.name, {})[fmt] = n
            seed = seeds[spec.name, fmt]
            rng = seeding.generator(seed)
            ctx = TaskContext(scene, index, spec, rng, cache=task_memo, scene_memo=memo, task_seed=task_seed,
                              format=fmt)
            made: list[QA] = []
            with collector_paused():
                sample_facts(ctx, n, keep=_rendering(renderer, fmt, rng, seed, made, rejections))
            yield from made
            rejections.update(ctx.rejections)
            report.produced.setdefault(spec.name, {})[fmt] = len(made)
        task_memo.clear()  # done with: freed now, and its task_draws context no longer refers to itself through it
        if rejections:
            report.rejections[spec.name] = dict(sorted(rejections.items()))


def _stream_seeds(plan: RunPlan, scene: Scene) -> dict[tuple[str, ...], int]:
    """The seed of every stream of the scene, by what names it beside the scene: a task (its
    pools) or a task and format; their generators' states prepared in one batch."""
    keys = [key for spec in plan.tasks for key in [(spec.name,), *((spec.name, fmt) for fmt in plan.formats_of(spec))]]
    seeds = {key: stream_seed(plan.seed, scene.source, scene.id, *key) for key in keys}
    seeding.prepare(seeds.values())
    return seeds


def _rendering(renderer: Renderer, fmt: str, rng: np.random.Generator, seed: int, made: list[QA],
               rejections: Counter) -> Callable[[Fact], bool]:
    """sample_facts' `keep`: render each fact as it is made, into `made`, so that one this format
    cannot word (a select question without room for its options) is replaced by another."""

    def keep(fact: Fact) -> bool:
        try:
            made.append(renderer.render(fact, fmt, len(made), rng, seed))
        except Reject as rej:
            rejections[rej.reason] += 1
            return False
        return True

    return keep


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while one task and format is sampled, and what the task
    leaves alive frozen (gc.freeze) before it is back on (off it stays for a caller that turned it
    off). Sampling makes and drops some million small objects a scene, every one freed by reference
    counting (no reference cycle: tests/pipeline/test_collector.py checks it), and what outlives a
    task (its records, the scene's memos) is freed the same way later; the collector's passes over
    them found nothing and cost 3-4 % of sampling, 10-15 % in a pass that met a full collection.
    Frozen objects are still freed by reference counting; only a cycle would stay, and none does."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


_heap_frozen = False


def _freeze_startup_heap() -> None:
    """Once per process, before its first scene is sampled: move what imports and the catalogue
    left on the heap (about 200,000 objects: jinja, pydantic, numpy, the specs), which never
    becomes garbage, out of the cyclic collector's reach. Otherwise every full collection rescans
    it: about 150 ms each, several per run, up to a tenth of the sampling time."""
    global _heap_frozen
    if not _heap_frozen:
        gc.collect()
        gc.freeze()
        _heap_frozen = True


def report_path(out: Path, pointer_key: str) -> Path:
    return out / REPORTS / f"{pointer_key}.json"


def pointer_key(pointer: ScenePointer) -> str:
    return f"{pointer.loader}/{pointer.path.name}"


def write_report(path: Path, report: SceneReport) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(asdict(report), sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def read_report(path: Path) -> SceneReport:
    data = json.loads(path.read_text(encoding="utf-8"))
    return SceneReport(**{**data, "resumed": True})


def run_scene(pointer: ScenePointer, plan: RunPlan) -> SceneReport:
    """Load, lift, generate and write one scene's shards (atomically); resume skips finished scenes."""
    from qagen.writers import MarkerBurner, make_writer
    from qagen.writers.shards import ShardWriter

    from qagen.pipeline import task_fanout

    done = report_path(plan.out, pointer_key(pointer))
    if plan.resume and done.exists():
        return read_report(done)
    task_fanout.prepare(plan)
    loaded = load_scene(pointer.path, loader=pointer.loader)
    scene = loaded.keyframes(plan.frame_stride)
    index = SceneIndex.build(scene, device=plan.device) if needs_index(plan) and scene.frames else None
    split = output_split(plan, scene.id)
    report = SceneReport(scene=scene.id, source=scene.source, split=split, skipped_frames=dict(scene.skipped_frames),
                         load_warnings=dict(scene.load_warnings), frame_stride=plan.frame_stride,
                         frames=len(loaded.frames), frames_kept=len(scene.frames))
    root = scene.root.parent
    out = plan.out / split if split else plan.out
    writers = [make_writer(name, root, plan.strip_meta, plan.sharegpt_style) for name in plan.writers]
    burner = MarkerBurner(root, plan.out) if plan.burn_markers else None
    with ExitStack() as stack:
        shards = [stack.enter_context(ShardWriter(out, w, scene.source, scene.id)) for w in writers]
        for qa in task_fanout.plan_records(scene, index, plan, report):
            qa = burner.burn(qa) if burner else qa
            for shard in shards:
                shard.write(qa)
    for shard, writer in zip(shards, writers):
        report.refused[writer.name] = dict(shard.rejected)
        report.shards[writer.name] = str(shard.path.relative_to(plan.out))
        report.shard_lines[writer.name] = shard.info.count
        report.shard_columns[writer.name] = sorted(shard.info.columns)
    write_report(done, report)
    return report


def shard_info(out: Path, report: SceneReport, writer: str) -> ShardInfo:
    """The shard a scene job wrote for a writer, as its report records it (reports from before
    these fields existed: read back from the shard)."""
    from qagen.writers.shards import ShardInfo, read_shard_info

    path = out / report.shards[writer]
    if writer not in report.shard_lines:
        return read_shard_info(path, report.source, report.scene)
    return ShardInfo(path, report.source, report.scene, report.shard_lines[writer],
                     frozenset(report.shard_columns[writer]))

