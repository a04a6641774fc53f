"""Sampling frees what it makes by reference counting alone (no reference cycle per candidate), so
pausing the cyclic collector while a task samples (scene_job.collector_paused) keeps memory flat."""
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
