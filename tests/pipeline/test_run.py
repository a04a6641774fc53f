"""Whole runs through the CLI: byte-identical output for any worker count, a manifest that adds up,
resume, and the reasons a task did not run."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qagen.cli import app

runner = CliRunner()
SOME_TASKS = "distance_prediction_oo,obj_spatial_relation_oo,obj_count,room_size"


def generate(*args: str) -> None:
    result = runner.invoke(app, ["generate", *args])
    assert result.exit_code == 0, result.output


def tree_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_with_one_or_two_workers(pipeline_root, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate("--data", str(pipeline_root), "--tasks", SOME_TASKS, "--out", str(a), "--workers", "1", "--seed", "4")
    generate("--data", str(pipeline_root), "--tasks", SOME_TASKS, "--out", str(b), "--workers", "2", "--seed", "4")
    files_a, files_b = tree_bytes(a), tree_bytes(b)
    # InternVL's meta file names its shards by absolute path: the only place the out folder shows.
    meta = "internvl/qagen.json"
    assert json.loads(files_a.pop(meta).decode().replace(str(a), "OUT")) == json.loads(files_b.pop(meta).decode().replace(str(b), "OUT"))
    assert files_a == files_b
    assert any(name.startswith("sharegpt/") and name.endswith(".jsonl") for name in files_a)


def test_other_seed_other_output(pipeline_root, tmp_path):
    generate("--data", str(pipeline_root), "--tasks", SOME_TASKS, "--out", str(tmp_path / "a"), "--seed", "1")
    generate("--data", str(pipeline_root), "--tasks", SOME_TASKS, "--out", str(tmp_path / "b"), "--seed", "2")
    shard = "sharegpt/synthetic/room_0003.jsonl"
    assert (tmp_path / "a" / shard).read_bytes() != (tmp_path / "b" / shard).read_bytes()


def test_manifest_counts_match_the_shards(pipeline_root, tmp_path):
    out = tmp_path / "out"
    generate("--data", str(pipeline_root), "--tasks", SOME_TASKS, "--out", str(out))
    manifest = json.loads((out / "manifest.json").read_text())
    lines = [json.loads(l) for p in sorted((out / "internvl").rglob("*.jsonl")) for l in p.read_text().splitlines()]
    counted = {}
    for line in lines:
        key = (line["meta"]["task"], line["meta"]["format"])
        counted[key] = counted.get(key, 0) + 1
    from_manifest = {(t, f): sum(s.values()) for t, per in manifest["counts"].items() for f, s in per.items()}
    assert {k: v for k, v in from_manifest.items() if v} == counted
    assert manifest["totals"]["records"] == len(lines) and manifest["totals"]["scenes"] == 2
    # keyframes by default: these walks are sparse already, so every frame is kept
    assert manifest["config"]["frame_stride"] == "auto"
    assert all(s["frame_stride"] == "auto" and s["frames_kept"] == s["frames"] == 12 for s in manifest["scenes"])
    for task, per in manifest["requested"].items():
        for fmt, per_source in per.items():
            for source, n in per_source.items():
                if manifest["counts"][task][fmt][source] < n:
                    assert manifest["shortfall"][task][fmt][source]["requested"] == n


def test_side_files_count_the_lines_the_shards_hold(pipeline_root, tmp_path):
    """The writers' side files come from the scene reports (no shard is read back): the line count
    InternVL's meta gives each shard is the number of lines in it."""
    out = tmp_path / "out"
    generate("--data", str(pipeline_root), "--tasks", SOME_TASKS, "--out", str(out))
    meta = json.loads((out / "internvl" / "qagen.json").read_text())
    assert meta
    for entry in meta.values():
        shard = Path(entry["annotation"])
        assert entry["length"] == len(shard.read_text().splitlines()) > 0


def test_capability_gap_is_reported_not_guessed(pipeline_root, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(pipeline_root / "room_0003", data / "room_0003")
    scene_json = data / "room_0003" / "scene.json"
    meta = json.loads(scene_json.read_text())
    del meta["room"]
    scene_json.write_text(json.dumps(meta))
    out = tmp_path / "out"
    generate("--data", str(data), "--tasks", "room_size,distance_prediction_oo", "--out", str(out))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["capability_gaps"] == {"room_0003": {"room_size": ["room"]}}
    assert "room" in manifest["tasks_not_run"]["room_size"]
    assert sum(manifest["counts"]["distance_prediction_oo"]["fill"].values()) > 0


def test_resume_skips_finished_scenes(pipeline_root, tmp_path):
    out = tmp_path / "out"
    generate("--data", str(pipeline_root), "--tasks", "distance_prediction_oc", "--out", str(out))
    first = tree_bytes(out)
    shard = out / "sharegpt" / "synthetic" / "room_0005.jsonl"
    shard.unlink()
    (out / ".reports" / "native" / "room_0005.json").unlink()
    stamp = (out / "sharegpt" / "synthetic" / "room_0003.jsonl").stat().st_mtime_ns
    generate("--data", str(pipeline_root), "--tasks", "distance_prediction_oc", "--out", str(out), "--resume")
    assert (out / "sharegpt" / "synthetic" / "room_0003.jsonl").stat().st_mtime_ns == stamp
    assert tree_bytes(out) == first


def test_bad_task_name_is_a_clear_error(pipeline_root, tmp_path):
    result = runner.invoke(app, ["generate", "--data", str(pipeline_root), "--tasks", "distance_predicton_oo", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown task" in result.output


def test_tasks_lists_every_spec():
    result = runner.invoke(app, ["tasks"])
    assert result.exit_code == 0
    for name in ("distance_prediction_oo", "room_size", "obj_count"):
        assert name in result.output


def test_ray_executor_writes_the_same_bytes_as_the_local_one(pipeline_root, tmp_path):
    a, b = tmp_path / "local", tmp_path / "ray"
    generate("--data", str(pipeline_root), "--tasks", SOME_TASKS, "--out", str(a), "--seed", "4")
    generate("--data", str(pipeline_root), "--tasks", SOME_TASKS, "--out", str(b), "--seed", "4", "--executor", "ray")
    assert shard_bytes(a) == shard_bytes(b) and shard_bytes(a)
    assert json.loads((a / "manifest.json").read_text())["counts"] == json.loads((b / "manifest.json").read_text())["counts"]


def shard_bytes(out: Path) -> dict[str, bytes]:
    return {name: data for name, data in tree_bytes(out).items() if name.endswith(".jsonl")}


def test_frame_stride_keeps_every_nth_frame_and_names_the_originals(pipeline_root, tmp_path):
    """--frame-stride 3 asks only of frames 0, 3, 6, ... (their own indices in the records), the
    result equals the API's on a scene thinned by Scene.every, and the manifest says so."""
    import qagen

    out = tmp_path / "out"
    generate("--data", str(pipeline_root), "--tasks", SOME_TASKS, "--out", str(out), "--frame-stride", "3")
    lines = [json.loads(l) for p in sorted((out / "internvl").rglob("*.jsonl")) for l in p.read_text().splitlines()]
    frames = {f for line in lines for f in line["meta"]["frames"]}
    assert frames and all(f % 3 == 0 for f in frames) and len(frames) > 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["frame_stride"] == 3 and {s["frame_stride"] for s in manifest["scenes"]} == {3}
    assert all(s["frames_kept"] == 4 and s["frames"] == 12 for s in manifest["scenes"])
    scene = qagen.load(pipeline_root / "room_0003")
    assert [f.index for f in scene.every(3).frames] == [f.index for f in scene.frames][::3]
    api = [json.loads(json.dumps(qa.meta)) for qa in qagen.generate(scene, tasks=SOME_TASKS.split(","), frame_stride=3)]
    assert api == [line["meta"] for line in lines if line["meta"]["scene"] == "room_0003"]


@pytest.mark.parametrize("stride", ["0", "-2", "2.5", "every"])
def test_a_frame_stride_other_than_auto_or_a_positive_integer_is_a_clear_error(pipeline_root, tmp_path, stride):
    result = runner.invoke(app, ["generate", "--data", str(pipeline_root), f"--frame-stride={stride}", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--frame-stride must be auto or a positive integer" in result.output


@pytest.mark.parametrize("option, message", [
    (["--device", "tpu"], "unknown lifting device 'tpu'"),
    (["--workers", "0"], "workers must be at least 1, not 0"),
    (["--workers", "-2"], "workers must be at least 1, not -2"),
    (["--limit", "0"], "the scene limit must be at least 1, not 0"),
    (["--gpus-per-scene", "-1"], "GPUs per scene must be at least 0, not -1.0"),
    (["--executor", "slurm"], "unknown executor 'slurm'; use local or ray"),
    (["--sharegpt-style", "chatml"], "unknown shareGPT style 'chatml'; choose from openai, sharegpt"),
], ids=lambda value: value[0] if isinstance(value, list) else "")
def test_a_bad_run_option_is_one_clear_line_before_anything_is_read_or_written(pipeline_root, tmp_path, option, message):
    result = runner.invoke(app, ["generate", "--data", str(pipeline_root), *option, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and f"error: {message}" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_a_cuda_device_without_cuda_is_a_clear_error_and_with_it_lifts_on_the_gpu(pipeline_root, tmp_path):
    """--device cuda names what is missing where torch sees no CUDA device (before: torch's own
    assertion from deep inside a scene), and runs where it does."""
    import torch

    result = runner.invoke(app, ["generate", "--data", str(pipeline_root), "--tasks", SOME_TASKS, "--device", "cuda",
                                 "--out", str(tmp_path / "o")])
    if torch.cuda.is_available():
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2 and "needs CUDA, and torch" in result.output and "sees no CUDA device" in result.output


@pytest.mark.parametrize("executor", [["--workers", "2", "--task-workers", "1"], ["--executor", "ray"]],
                         ids=["local", "ray"])
def test_a_failing_scene_ends_the_run_with_its_error_without_running_the_rest(pipeline_root, tmp_path, executor):
    """A scene that fails in a scene worker or Ray task ends the run with its own error, naming the
    file (before: a broken pool's traceback, or Ray's remote one), once the scenes already running
    are done; the scenes not yet started are not run (before, all of them were first)."""
    data = tmp_path / "data"
    (data / "aaa_broken").mkdir(parents=True)
    (data / "aaa_broken" / "scene.json").write_text("{ not json")
    first = sorted(p for p in pipeline_root.iterdir() if p.is_dir())[0]
    for k in range(10):
        shutil.copytree(first, data / f"room_copy_{k:02d}")
    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", "--data", str(data), "--tasks", "obj_count", "--out", str(out), *executor])
    assert result.exit_code == 2, result.exception  # the CLI's clear error
    message = " ".join(result.output.split())
    assert f"error: {data / 'aaa_broken' / 'scene.json'}: invalid JSON" in message and "Traceback" not in message
    done = list(out.glob(".reports/*/*.json"))
    # in flight when it failed: a scene per worker and the pool's call queue (workers + 1); Ray: one per core
    assert len(done) <= 5, f"{len(done)} of 10 scenes ran after the first one failed"
