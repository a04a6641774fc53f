"""The Python API for notebooks and scripts; the CLI calls the same pipeline."""
from __future__ import annotations

from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence, Union

from qagen.pipeline.mix import Mix
from qagen.pipeline.run import plan_from_options
from qagen.pipeline.scene_job import SceneReport, needs_index, scene_records
from qagen.render.record import QA
from qagen.scene.index import SceneIndex
from qagen.scene.loaders import load_scene
from qagen.scene.model import Scene

SceneLike = Union[Scene, str, Path]


def load(path: Union[str, Path], loader: str = "native", **options) -> Scene:
    """Read one scene folder with a registered loader."""
    return load_scene(Path(path), loader=loader, **options)


def _as_scenes(scenes: Union[SceneLike, Iterable[SceneLike]], loader: str) -> Iterator[Scene]:
    if isinstance(scenes, (Scene, str, Path)):
        scenes = [scenes]
    for item in scenes:
        yield item if isinstance(item, Scene) else load(item, loader=loader)


def generate(scenes: Union[SceneLike, Iterable[SceneLike]], tasks: Union[str, Sequence[str]] = "all",
             formats: Union[str, Sequence[str]] = "all", seed: int = 0, mix: Optional[Mix] = None,
             device: str = "auto", loader: str = "native", frame_stride: int | str = "auto") -> Iterator[QA]:
    """Yield QA records for the scenes, exactly as `qagen generate` would write them."""
    plan = plan_from_options(tasks, formats, "all", Path("."), seed, mix or Mix(), device, False, False, "sharegpt",
                             frame_stride=frame_stride)
    for scene in (s.keyframes(plan.frame_stride) for s in _as_scenes(scenes, loader)):
        index = SceneIndex.build(scene, device=device) if needs_index(plan) and scene.frames else None
        yield from scene_records(scene, index, plan, SceneReport(scene=scene.id, source=scene.source))


def write(records: Iterable[QA], out: Union[str, Path], format: str = "sharegpt", root: Optional[Path] = None,
          strip_meta: bool = False) -> list[Path]:
    """Stream records into per-scene shards of one output format; returns the shard paths."""
    from qagen.writers import make_writer
    from qagen.writers.shards import ShardWriter

    out = Path(out)
    writer = make_writer(format, root, strip_meta)
    shards: dict[tuple[str, str], ShardWriter] = {}
    with ExitStack() as stack:
        for qa in records:
            key = (qa.source, qa.scene)
            if key not in shards:
                shards[key] = stack.enter_context(ShardWriter(out, writer, qa.source, qa.scene))
            shards[key].write(qa)
    writer.write_meta(out, [s.info for s in shards.values()], "qagen")
    return [s.path for s in shards.values()]


def to_pandas(records: Iterable[QA]):
    """One row per record: id, task, format, scene, question, answer, images and the meta fields."""
    import pandas as pd

    rows = []
    for qa in records:
        row = {k: v for k, v in asdict(qa).items() if k not in ("meta", "markers")}
        row.update({f"meta_{k}": v for k, v in qa.meta.items()})
        rows.append(row)
    return pd.DataFrame(rows)
