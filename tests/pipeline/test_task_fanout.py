"""A scene's tasks shared by helper processes give exactly the records and report of one process,
whichever process takes which task; runs that combine scene workers and task workers finish."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qagen.cli import app
from qagen.pipeline import task_fanout
from qagen.pipeline.mix import Mix
from qagen.pipeline.run import plan_from_options
from qagen.pipeline.scene_job import SceneReport, scene_records
from qagen.scene.index import SceneIndex
from qagen.scene.loaders import discover_scenes, load_scene
from qagen.tasks.pixels import PIXEL_SAMPLERS

ATTEMPTS = 10
TASKS = "distance_prediction_oo,obj_spatial_relation_oo,obj_count,room_size,camera_motion_label,point_depth_order"


def started(plan, seconds: float = 120.0) -> bool:
    end = time.monotonic() + seconds
    while not task_fanout.ready(plan):
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("task_workers", [2, 3])
def test_shared_scene_gives_one_process_records_and_report(pipeline_root, task_workers):
    plan = replace(plan_from_options(TASKS, "all", "all", Path("."), 7, Mix(), "cpu", False, False, "sharegpt"),
                   task_workers=task_workers)
    assert started(plan), "the helper processes did not start"
    for path in discover_scenes(pipeline_root, "native"):
        scene = load_scene(path)
        index = SceneIndex.build(scene, device="cpu")
        alone = SceneReport(scene.id, scene.source)
        expected = list(scene_records(scene, index, plan, alone))
        assert len({qa.task for qa in expected}) == len(plan.tasks)
        for _ in range(ATTEMPTS):  # which process takes which task depends on timing: any way is right
            shared = SceneReport(scene.id, scene.source)
            assert list(task_fanout.plan_records(scene, index, plan, shared)) == expected
            assert asdict(shared) == asdict(alone)
            assert list(shared.produced) == list(alone.produced)  # the plan's order, as one process fills it
            if task_fanout.helpers_that_took():
                break
        else:
            pytest.fail(f"in {ATTEMPTS} tries no helper took a task of {scene.id}: nothing was shared")


def test_a_helper_that_dies_leaves_the_scene_sampled_in_one_process(pipeline_root):
    """Helpers killed (as the out-of-memory killer would) break the pool: a scene is sampled here
    (again, if the helpers had taken tasks of it), with a warning, and the helpers start again."""
    plan = replace(plan_from_options(TASKS, "all", "all", Path("."), 3, Mix(), "cpu", False, False, "sharegpt"),
                   task_workers=2)
    assert started(plan), "the helper processes did not start"
    scene = load_scene(discover_scenes(pipeline_root, "native")[0])
    index = SceneIndex.build(scene, device="cpu")
    alone = SceneReport(scene.id, scene.source)
    expected = list(scene_records(scene, index, plan, alone))
    killed = task_fanout.helper_pids()
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):  # the pool is known broken at the latest when the next scene is shared
            shared = SceneReport(scene.id, scene.source)
            assert list(task_fanout.plan_records(scene, index, plan, shared)) == expected
            assert asdict(shared) == asdict(alone)
    assert [str(w.message).startswith(f"{scene.id}: a helper process died") for w in caught] == [True]
    assert started(plan), "the helpers did not start again"
    assert set(task_fanout.helper_pids()).isdisjoint(killed)


def test_scene_workers_with_task_workers_finish_with_the_same_bytes(pipeline_root, tmp_path):
    """Each scene worker stops its own helpers before exiting (else its exit waits on them)."""
    runner = CliRunner()
    outs = {}
    for name, options in (("one", ["--workers", "1", "--task-workers", "1"]),
                          ("both", ["--workers", "2", "--task-workers", "2"])):
        outs[name] = tmp_path / name
        result = runner.invoke(app, ["generate", "--data", str(pipeline_root), "--tasks", TASKS, "--seed", "2",
                                     "--out", str(outs[name]), *options])
        assert result.exit_code == 0, result.output
    files = {name: {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.jsonl"))}
             for name, out in outs.items()}
    assert files["one"] == files["both"] and files["one"]
    manifests = [json.loads((out / "manifest.json").read_text()) for out in outs.values()]
    assert manifests[0]["counts"] == manifests[1]["counts"] and manifests[0]["rejections"] == manifests[1]["rejections"]


def test_task_workers_fill_the_cores_the_scene_workers_leave():
    assert task_fanout.auto_task_workers(1, 10, cores=2) == 2
    assert task_fanout.auto_task_workers(1, 10, cores=64) == task_fanout.AUTO_TASK_WORKERS_MAX
    assert task_fanout.auto_task_workers(2, 10, cores=6) == 3
    assert task_fanout.auto_task_workers(4, 2, cores=6) == 3  # two scenes only: two workers busy
    assert task_fanout.auto_task_workers(16, 10, cores=8) == 1


def test_task_workers_below_one_are_refused(pipeline_root, tmp_path):
    result = CliRunner().invoke(app, ["generate", "--data", str(pipeline_root), "--tasks", "obj_count",
                                      "--out", str(tmp_path / "o"), "--task-workers", "0"])
    assert result.exit_code == 2 and "task workers must be at least 1, not 0" in result.output


def test_only_pixel_samplers_need_the_depth_maps_helpers_are_sent_without(pipeline_root):
    """Helpers get the index without its depth maps: every task whose sampler is not listed in
    PIXEL_SAMPLERS samples the same records from it, and a listed one fails loudly, naming the list."""
    plan = plan_from_options("all", "all", "all", Path("."), 5, Mix(), "cpu", False, False, "sharegpt")
    scene = load_scene(discover_scenes(pipeline_root, "native")[0])
    index = SceneIndex.build(scene, device="cpu")
    assert index.depth_maps and index.without_depth_maps().depth_maps is None
    pixel = [s for s in plan.tasks if s.sampler in PIXEL_SAMPLERS]
    others = [s for s in plan.tasks if s.sampler not in PIXEL_SAMPLERS]
    assert pixel and others
    expected = list(scene_records(scene, index, plan, SceneReport(scene.id, scene.source), tasks=others))
    assert len({qa.task for qa in expected}) > len(others) // 2  # the scene is small: most tasks, not all
    light = list(scene_records(scene, index.without_depth_maps(), plan, SceneReport(scene.id, scene.source),
                               tasks=others))
    assert light == expected
    with pytest.raises(RuntimeError, match="PIXEL_SAMPLERS"):
        list(scene_records(scene, index.without_depth_maps(), plan, SceneReport(scene.id, scene.source), tasks=pixel))


def test_ctrl_c_while_helpers_sample_stops_the_run_cleanly(pipeline_root, tmp_path):
    """SIGINT to the run's process group (what Ctrl-C sends) while helpers sample: exit status
    130, no helper's traceback, and no process of the run left behind."""
    (tmp_path / "mix.yaml").write_text("per_scene: {default: 60}\n")  # scenes that take seconds to sample
    out = tmp_path / "out"
    command = [sys.executable, "-c", "from qagen.cli import app; app()", "generate", "--data", str(pipeline_root),
               "--out", str(out), "--mix", str(tmp_path / "mix.yaml"), "--task-workers", "2"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    end = time.monotonic() + 120
    while not list(out.glob(".reports/*/*.json")):  # the first scene is done: the helpers have started
        assert run.poll() is None and time.monotonic() < end, "the run ended before its first scene was written"
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr
    assert "Traceback" not in stderr
    for _ in range(100):  # the group's last processes may take a moment to be reaped
        try:
            os.killpg(run.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("processes of the interrupted run are still running")
