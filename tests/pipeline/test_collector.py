"""Sampling frees what it makes by reference counting alone (no reference cycle per candidate), so
pausing the cyclic collector while a task samples and freezing what the task leaves alive
(scene_job.collector_paused) keeps memory flat."""
from __future__ import annotations

import gc
from pathlib import Path

import pytest

from qagen.pipeline.mix import Mix
from qagen.pipeline.run import plan_from_options
from qagen.pipeline.scene_job import SceneReport, collector_paused, scene_records
from qagen.scene.index import SceneIndex
from qagen.scene.loaders import discover_scenes, load_scene


def test_sampling_every_task_leaves_less_cyclic_garbage_than_it_makes_records(pipeline_root):
    """A reference cycle made per candidate (a kept exception's traceback, a closure that holds
    its frame) would leave at least one cycle for every record and every rejection; one per task
    (a memo that refers to itself) hundreds of objects a task. None is left now."""
    plan = plan_from_options("all", "all", "all", Path("."), 0, Mix(), "cpu", False, False, "sharegpt")
    path = discover_scenes(pipeline_root, "native")[0]
    scene = load_scene(path)
    list(scene_records(scene, SceneIndex.build(scene, device="cpu"), plan, SceneReport(scene.id, scene.source)))
    scene = load_scene(path)  # fresh memos: the scene as a run meets it
    index = SceneIndex.build(scene, device="cpu")
    report = SceneReport(scene.id, scene.source)
    gc.collect()
    gc.disable()
    try:
        records = list(scene_records(scene, index, plan, report))
        left = gc.collect()
    finally:
        gc.enable()
    rejections = sum(n for reasons in report.rejections.values() for n in reasons.values())
    assert len(records) > 500 and rejections > 0
    assert left < len(records) / 10, f"{left} objects in reference cycles after {len(records)} records"


def test_what_tasks_leave_frozen_is_freed_by_reference_counting(pipeline_root):
    """Every task's survivors are frozen (out of the collector's reach) once it is done: sampling a
    scene with the collector on, then dropping it, must leave no cyclic garbage among them, or
    every scene of a long run would leak it."""
    plan = plan_from_options("all", "all", "all", Path("."), 0, Mix(), "cpu", False, False, "sharegpt")
    path = discover_scenes(pipeline_root, "native")[0]
    scene = load_scene(path)
    list(scene_records(scene, SceneIndex.build(scene, device="cpu"), plan, SceneReport(scene.id, scene.source)))
    gc.unfreeze()  # start from a heap without garbage: what the first pass made once (numba's types)
    gc.collect()
    gc.freeze()
    scene = load_scene(path)
    records = list(scene_records(scene, SceneIndex.build(scene, device="cpu"), plan, SceneReport(scene.id, scene.source)))
    assert gc.isenabled() and len(records) > 500 and gc.get_freeze_count() > 0
    del scene, records
    gc.collect()  # garbage never frozen
    gc.unfreeze()
    try:
        leaked = gc.collect()
    finally:
        gc.freeze()
    assert leaked == 0, f"{leaked} objects in reference cycles were frozen"


def test_the_collector_is_back_on_after_a_task_even_when_it_fails():
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with collector_paused():
            assert not gc.isenabled()
            raise RuntimeError("a task failed")
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
