"""The scene-level variants (obj_count_scene, room_size_scene, distance_prediction_oo_scene,
distance_infer_center_oo_scene) against ground truth computed here from the synthetic World: on a
frame-less meta-info scene written from the World's boxes (one box tilted, one stated count wrong)
and on the native small world. Their templates render here (the shared template test needs frames).
"""
from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter

import numpy as np
import pytest

import qagen
from qagen.pipeline import catalogue
from qagen.pipeline.seeds import stream
from qagen.registry import ANSWERS
from qagen.render import wording
from qagen.render.renderer import Renderer
from qagen.scene.index import SceneIndex
from qagen.scene.loaders import load_scene
from qagen.scene.loaders.metainfo import scene_pointer
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.engine import ATTEMPTS_PER_FACT, EXHAUSTED_AFTER, sample_facts
from support.boxes import alternating_projections
from support.metainfo import ROOM_SIZE, meta_scene, tilted, world_boxes
from support.records import group_by_task
from support.truth import round_step

TASKS = ("obj_count_scene", "room_size_scene", "distance_prediction_oo_scene", "distance_infer_center_oo_scene")
MIN_SEPARATION_M = 0.3  # distance_prediction_oo_scene's filter
STATED_EXTRA = 2  # object_counts of the first label claims this many more objects than it has boxes


def meta_boxes(world) -> dict:
    """The World's boxes by label (support.metainfo), with the first uniquely labelled one tilted too,
    so that the scene-level distance tasks meet a tilted box."""
    boxes = world_boxes(world)
    unique = next(label for label, group in boxes.items() if len(group) == 1)
    boxes[unique] = [tilted(boxes[unique][0])]
    return boxes


@pytest.fixture(scope="module")
def meta_objects(small_world) -> dict[int, tuple[str, object]]:
    """id -> (label, box) as the meta-info file lists them (the loader numbers them in file order)."""
    listed = [(label, box) for label, group in meta_boxes(small_world).items() for box in group]
    return {k + 1: item for k, item in enumerate(listed)}


def tilted_unique_id(objects) -> int:
    counts = Counter(label for label, _ in objects.values())
    return next(i for i, (label, box) in objects.items() if counts[label] == 1 and abs(box.rotation[2, 2]) < 0.99)


@pytest.fixture(scope="module")
def meta_scene_loaded(small_world, tmp_path_factory):
    content = meta_scene(meta_boxes(small_world))
    first_label = next(iter(content["object_counts"]))
    content["object_counts"][first_label] += STATED_EXTRA
    path = tmp_path_factory.mktemp("scene_level") / "synthetic_meta_info_val.json"
    path.write_text(json.dumps({"small_0003": content}))
    return load_scene(scene_pointer(path, "small_0003"), loader="metainfo")


@pytest.fixture(scope="module")
def native_objects(small_world) -> dict[int, tuple[str, object]]:
    return {o.id: (o.label, o.box) for o in small_world.objects}


def _records(scene):
    return group_by_task(qagen.generate(scene, tasks=list(TASKS), seed=5))


@pytest.fixture(scope="module")
def meta_records(meta_scene_loaded):
    return _records(meta_scene_loaded)


@pytest.fixture(scope="module")
def native_records(small_world_native_dir):
    return _records(qagen.load(small_world_native_dir))


def shoelace(polygon) -> float:
    x, y = np.asarray(polygon, dtype=float).T
    return 0.5 * abs(float(np.sum(x * np.roll(y, -1) - y * np.roll(x, -1))))


def roles(qa) -> dict[str, int]:
    return {o["role"]: o["id"] for o in qa.meta["objects"]}


def centre_gap(objects, id_a, id_b) -> float:
    return float(np.linalg.norm(np.asarray(objects[id_a][1].center) - np.asarray(objects[id_b][1].center)))


def check_counts(records, objects):
    counts = Counter(label for label, _ in objects.values())
    for qa in records:
        answer = qa.meta["answer"]
        assert answer["value"] == answer["exact"] == counts[answer["label"]] >= 1, qa.id
        assert answer["unit"] == "count" and qa.media == "none" and qa.meta["frames"] == []
    fill_keys = Counter(min(qa.meta["answer"]["value"], 3) for qa in records if qa.format == "fill")
    assert len(fill_keys) >= 2 and max(fill_keys.values()) - min(fill_keys.values()) <= 1  # balanced counts


def check_unique_labels(qa, objects):
    counts = Counter(label for label, _ in objects.values())
    for ref in qa.meta["objects"]:
        assert ref["label"] == objects[ref["id"]][0] and counts[ref["label"]] == 1, qa.id
    assert qa.media == "none" and qa.images == ()


def check_distances(records, objects):
    for qa in records:
        check_unique_labels(qa, objects)
        r, answer = roles(qa), qa.meta["answer"]
        exact = centre_gap(objects, r["a"], r["b"])
        assert exact >= MIN_SEPARATION_M
        assert answer["exact"] == pytest.approx(exact, abs=1e-9) and answer["value"] == round_step(exact)
        assert (answer["unit"], answer["distance"]) == ("m", "centres")


def check_closest_to_anchor(records, objects):
    for qa in records:
        check_unique_labels(qa, objects)
        r, answer = roles(qa), qa.meta["answer"]
        distances = {role: centre_gap(objects, r["a"], oid) for role, oid in r.items() if role != "a"}
        assert answer["options"] == ["b", "c", "d"]
        ranked = sorted(distances, key=distances.get, reverse=answer["criterion"] == "farthest")
        assert answer["value"] == ranked[0], qa.id
        best, runner = distances[ranked[0]], distances[ranked[1]]
        assert abs(best - runner) >= max(0.15, 0.10 * min(best, runner))


def test_meta_info_scene_answers(meta_records, meta_objects):
    assert set(meta_records) == set(TASKS)
    check_counts(meta_records["obj_count_scene"], meta_objects)
    check_distances(meta_records["distance_prediction_oo_scene"], meta_objects)
    check_closest_to_anchor(meta_records["distance_infer_center_oo_scene"], meta_objects)
    for qa in meta_records["room_size_scene"]:
        answer = qa.meta["answer"]
        assert (answer["exact"], answer["value"], answer["unit"]) == (ROOM_SIZE, round_step(ROOM_SIZE), "m2")
        assert qa.media == "none" and qa.images == ()


def test_native_scene_answers(native_records, native_objects, small_world):
    assert set(native_records) == set(TASKS)
    check_counts(native_records["obj_count_scene"], native_objects)
    check_distances(native_records["distance_prediction_oo_scene"], native_objects)
    check_closest_to_anchor(native_records["distance_infer_center_oo_scene"], native_objects)
    area = shoelace(small_world.room.floor_polygon)
    for qa in native_records["room_size_scene"]:
        answer = qa.meta["answer"]
        assert answer["exact"] == pytest.approx(area, abs=1e-9) and answer["value"] == round_step(area)
        assert qa.media == "video" and qa.meta["frames"] == list(range(len(small_world.poses)))


def test_counts_come_from_boxes_not_stated_counts(meta_scene_loaded, meta_objects):
    label = meta_objects[1][0]
    assert meta_scene_loaded.load_warnings == {"object_count_mismatch": 1}
    spec = catalogue.load().specs["obj_count_scene"]
    ctx = TaskContext(meta_scene_loaded, None, spec, np.random.default_rng(0))
    solved = ANSWERS.get(spec.answer)(ctx, Candidate(frames=(), roles=(), media="none", extra={"label": label}))
    assert solved.answer.value == sum(1 for lab, _ in meta_objects.values() if lab == label)


@pytest.mark.parametrize("task", ["distance_prediction_oo_scene", "distance_infer_center_oo_scene"])
def test_closest_points_between_oriented_boxes(meta_scene_loaded, meta_objects, task):
    spec = catalogue.load().specs[task]
    spec = spec.model_copy(update={"answer_args": {**spec.answer_args, "distance": "closest_points"}})
    facts = sample_facts(TaskContext(meta_scene_loaded, None, spec, np.random.default_rng(1)), 6)
    assert facts
    tilted_id, tilted_seen = tilted_unique_id(meta_objects), False
    for fact in facts:
        ids = {o.role: o.id for o in fact.objects}
        assert fact.answer.extra["distance"] == "closest_points"
        a = meta_objects[ids["a"]][1]
        exact = fact.answer.exact if task.startswith("distance_prediction") else None
        for role in [r for r in ids if r != "a"]:
            b = meta_objects[ids[role]][1]
            truth = alternating_projections(a.center, a.rotation, a.size, b.center, b.rotation, b.size)
            got = exact if exact is not None else fact.answer.exact[role]
            assert got == pytest.approx(truth, abs=1e-6)
            assert got <= centre_gap(meta_objects, ids["a"], ids[role])
            tilted_seen |= tilted_id in (ids["a"], ids[role])
        assert fact.slots["distance_words"] == "between their closest points"
    assert tilted_seen


def test_every_template_renders(meta_scene_loaded):
    cat = catalogue.load()
    for name in TASKS:
        spec = cat.specs[name]
        for fmt in spec.formats:
            seed, rng = stream(0, meta_scene_loaded.id, name, fmt)
            fact = sample_facts(TaskContext(meta_scene_loaded, None, spec, rng), 1)[0]
            renderer = Renderer(spec, cat.templates[name], meta_scene_loaded)
            assert len(cat.templates[name][fmt]) >= 3
            for i, template in enumerate(cat.templates[name][fmt]):
                qa = renderer.render(fact, fmt, 0, rng, seed, template_index=i)
                assert qa.meta["template"] == template.id and qa.images == ()
                assert qa.question and qa.answer and "{{" not in qa.question + qa.answer
                assert "  " not in qa.question and "<image>" not in qa.question
                if fmt == "select":
                    assert re.fullmatch(r"[A-D]", qa.answer), qa.answer
                if name == "obj_count_scene" and fmt == "sentence":  # "1 lamp", "3 shelves"
                    label, n = fact.answer.extra["label"], fact.answer.value
                    noun = label if n == 1 else wording.plural(label)
                    assert re.search(rf"\b{n} {noun}\b", qa.answer), qa.answer


def test_a_task_stops_once_its_sampler_only_repeats_itself(meta_scene_loaded):
    """A scene has one room: room_size_scene makes its one fact, then draws the same candidate
    EXHAUSTED_AFTER more times (each a duplicate) and stops, rather than using every attempt."""
    spec = catalogue.load().specs["room_size_scene"]
    ctx = TaskContext(meta_scene_loaded, None, spec, np.random.default_rng(0))
    facts = sample_facts(ctx, 8)
    assert len(facts) == 1
    assert ctx.rejections == {"duplicate": EXHAUSTED_AFTER}
    assert EXHAUSTED_AFTER < ATTEMPTS_PER_FACT * 8 - 1


def test_a_task_stops_at_once_when_no_candidate_of_the_scene_can_qualify(small_world_native_dir):
    """A capture of two frames has no frame pair two steps apart: camera_motion_label counts
    scene_too_short once and stops, instead of counting it for every one of its attempts."""
    scene = load_scene(small_world_native_dir)
    two = dataclasses.replace(scene, frames=scene.frames[:2])
    spec = catalogue.load().specs["camera_motion_label"]
    assert spec.sampler_args["min_gap"] >= 2
    ctx = TaskContext(two, SceneIndex.build(two), spec, np.random.default_rng(0))
    assert sample_facts(ctx, 8) == []
    assert ctx.rejections == {"scene_too_short": 1}
