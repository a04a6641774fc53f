"""Mixing: weights, per-scene bases, caps and totals give the quotas the manifest then reports."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qagen.cli import app
from qagen.errors import SpecError
from qagen.pipeline import catalogue
from qagen.pipeline.mix import Mix, load_mix
from qagen.pipeline.plan import RunPlan, scale_for_total

FORMATS = ("fill", "select", "sentence", "judge")


def plan_for(mix: Mix, tasks=("distance_prediction_oo", "room_size"), scale=1.0) -> RunPlan:
    specs = tuple(catalogue.load().select(list(tasks)))
    return RunPlan(tasks=specs, formats=FORMATS, writers=("sharegpt",), out=None, seed=3, mix=mix, scale=scale)


def test_weights_multiply_and_rounding_is_unbiased():
    mix = Mix(tasks={"default": 0.5, "room_size": 2.0}, formats={"select": 0.25}, per_scene={"default": 10})
    plan = plan_for(mix)
    spec = plan.tasks[0]
    assert plan.expected("synthetic", spec, "fill") == 5.0
    assert plan.expected("synthetic", spec, "select") == 1.25
    quotas = [plan.quota("synthetic", f"scene{i}", spec, "select") for i in range(400)]
    assert set(quotas) == {1, 2} and abs(sum(quotas) / 400 - 1.25) < 0.08
    assert plan.quota("synthetic", "s", spec, "select") == plan.quota("synthetic", "s", spec, "select")


def test_cap_per_scene_splits_over_formats():
    plan = plan_for(Mix(per_scene={"default": 10}, cap_per_scene=6))
    spec = plan.tasks[0]  # fill, select, sentence: 30 asked, capped to 6 -> 2 each
    assert [plan.quota("x", "s", spec, f) for f in spec.formats] == [2, 2, 2]


def test_total_scales_every_cell():
    mix = Mix(per_scene={"default": 10}, total=60)
    specs = tuple(catalogue.load().select(["distance_prediction_oo"]))
    assert scale_for_total(mix, specs, FORMATS, ["a", "b"]) == pytest.approx(60 / (2 * 3 * 10))


def test_split_is_stable_and_near_its_fraction():
    mix = Mix(split={"val": 0.2})
    splits = [mix.split_of(0, f"scene{i}") for i in range(1000)]
    assert set(splits) == {"train", "val"} and abs(splits.count("val") / 1000 - 0.2) < 0.04
    assert splits == [mix.split_of(0, f"scene{i}") for i in range(1000)]


def test_bad_mix_file_names_file_and_key(tmp_path):
    path = tmp_path / "mix.yaml"
    path.write_text("task: {default: 1}\n")
    with pytest.raises(SpecError, match=r"mix\.yaml \[task\]"):
        load_mix(path)
    path.write_text("split: {val: 0.7, test: 0.6}\n")
    with pytest.raises(SpecError, match="sum to at most 1"):
        load_mix(path)


def test_mix_file_drives_a_run(pipeline_root, tmp_path):
    mix = tmp_path / "mix.yaml"
    mix.write_text("per_scene: {default: 2}\nformats: {select: 0, sentence: 0}\ntasks: {default: 1, distance_prediction_oc: 2}\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["generate", "--data", str(pipeline_root), "--tasks",
                                      "distance_prediction_oc,distance_prediction_oo", "--mix", str(mix), "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["requested"]["distance_prediction_oc"]["fill"] == {"synthetic": 8}
    assert manifest["requested"]["distance_prediction_oo"]["fill"] == {"synthetic": 4}
    assert manifest["requested"]["distance_prediction_oo"]["select"] == {"synthetic": 0}
    assert manifest["counts"]["distance_prediction_oc"]["fill"] == {"synthetic": 8}
