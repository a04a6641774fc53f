"""Observer-moved (spatial imagination), relative-direction and top-down-layout tasks: every answer
recomputed here from the synthetic World with plain numpy (not qagen's geometry), markers on their
objects and images, hard clips without co-visible pairs, margins, balance, and the property that
standing on the far side of the faced object swaps left and right.

Records go through the real path: World -> native files -> loader -> SceneIndex -> tasks -> renderer.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import replace

import numpy as np
import pytest

import qagen
from qagen.pipeline import catalogue
from qagen.pipeline.seeds import stream
from qagen.registry import ANSWERS
from qagen.render.kinds import KINDS
from qagen.scene.index import SceneIndex
from qagen.scene.loaders import load_scene
from qagen.scene.model import Box, Scene, SceneObject
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.engine import sample_facts
from qagen.tasks.fact import Reject
from support.truth import centre, instance_mask, marker_on_object, round_step, world_object
from support.records import group_by_task

OC_TASKS = ("spatial_imagination_oc", "spatial_imagination_oc_mv", "spatial_imagination_oc_video",
            "spatial_imagination_oc_video_hard")
OO_TASKS = ("spatial_imagination_oo", "spatial_imagination_oo_mv", "spatial_imagination_oo_video",
            "spatial_imagination_oo_video_hard")
MV_TASKS = ("spatial_imagination_oc_mv", "spatial_imagination_oo_mv")
VIDEO_TASKS = ("spatial_imagination_oc_video", "spatial_imagination_oc_video_hard", "spatial_imagination_oo_video",
               "spatial_imagination_oo_video_hard")
TASKS = OC_TASKS + OO_TASKS + ("spatial_imagination_map_mv", "relative_direction")
AXIS_M, SECTOR_DEG, MIN_FACING_M = 0.15, 10.0, 0.5
PHRASES = {"left": "to the left", "right": "to the right", "above": "higher up", "below": "lower down",
           "closer": "closer to you", "farther": "farther from you", "front": "in front of you", "behind": "behind you"}
OPPOSITE = {"left": "right", "right": "left"}


# --- ground truth, from the World only ----------------------------------------------------------

def observer_axes(stand, face):
    """(right, forward) of an observer at `stand` looking horizontally at `face`, written out."""
    fx, fy = face[0] - stand[0], face[1] - stand[1]
    n = math.hypot(fx, fy)
    forward = np.array([fx / n, fy / n, 0.0])
    right = np.array([fy / n, -fx / n, 0.0])  # forward x up
    return right, forward


def call(delta, positive, negative):
    return "" if abs(delta) < AXIS_M else (positive if delta > 0 else negative)


def gt_observer(world, roles):
    stand, face = centre(world, roles["stand"]), centre(world, roles["face"])
    assert math.hypot(*(face - stand)[:2]) >= MIN_FACING_M
    return stand, *observer_axes(stand, face)


def gt_oc(world, roles):
    stand, right, forward = gt_observer(world, roles)
    d = centre(world, roles["a"]) - stand
    return [call(d @ right, "right", "left"), call(d[2], "above", "below"), call(d @ forward, "front", "behind")]


def gt_oo(world, roles, five):
    stand, right, forward = gt_observer(world, roles)
    a, b = centre(world, roles["a"]), centre(world, roles["b"])
    da, db = np.linalg.norm(a - stand), np.linalg.norm(b - stand)
    near = "" if abs(da - db) < max(0.15, 0.1 * min(da, db)) else ("closer" if da < db else "farther")
    slots = [call((a - b) @ right, "right", "left"), call(a[2] - b[2], "above", "below"), near]
    if five:
        slots += [call((a - stand) @ forward, "front", "behind"), call((b - stand) @ forward, "front", "behind")]
    return slots


def gt_quadrant(world, roles):
    """Quadrant and angle (deg) to the nearest quadrant boundary of `query`."""
    stand, right, forward = gt_observer(world, roles)
    d = centre(world, roles["query"]) - stand
    r, f = float(d @ right), float(d @ forward)
    off_axis = math.degrees(math.atan2(abs(r), abs(f)))  # 0 on the forward/back axis, 90 on the side axis
    return f"{'front' if f > 0 else 'back'}-{'right' if r > 0 else 'left'}", min(off_axis, 90 - off_axis)


def decimal(x):
    """1.20 -> "1.2", 3.0 -> "3", -0.0 -> "0"."""
    text = f"{x:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def gt_visible(world, native_dir, object_id, frame):
    """TASKS.md visibility, written out: >= 400 px at 640x480 (scaled) and a projected box outline
    less than 30 % outside the image."""
    pixels = int((instance_mask(native_dir, frame) == object_id).sum())
    if pixels < 400 * world.width * world.height / (640 * 480):
        return False
    c2w = world.poses[frame]
    cam = (world_object(world, object_id).box.corners() - c2w[:3, 3]) @ c2w[:3, :3]
    if (cam[:, 2] <= 0).any():
        return False
    uv = cam @ world.K.T
    uv = uv[:, :2] / uv[:, 2:]
    (x0, y0), (x1, y1) = uv.min(0), uv.max(0)
    inside = max(0.0, min(x1, world.width) - max(x0, 0.0)) * max(0.0, min(y1, world.height) - max(y0, 0.0))
    return 1.0 - inside / ((x1 - x0) * (y1 - y0)) < 0.3


# --- records --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def records(imagination_native_dir):
    return list(qagen.generate(qagen.load(imagination_native_dir), tasks=list(TASKS), seed=5))


@pytest.fixture(scope="module")
def by_task(records):
    return group_by_task(records)


@pytest.fixture(scope="module")
def lifted(imagination_native_dir):
    scene = load_scene(imagination_native_dir, loader="native")
    return scene, SceneIndex.build(scene)


def roles_of(qa):
    return {o["role"]: o["id"] for o in qa.meta["objects"]}


def truth(qa):
    return qa.meta["answer"]


def test_every_task_and_format_produced_records(by_task):
    specs = catalogue.load().specs
    for task in TASKS:
        formats = Counter(qa.format for qa in by_task[task])
        assert set(formats) == set(specs[task].formats), task
        assert min(formats.values()) >= 4, (task, formats)


@pytest.mark.parametrize("task", OC_TASKS)
def test_observer_relation_oc_matches_ground_truth(by_task, imagination_world, task):
    for qa in by_task[task]:
        want = gt_oc(imagination_world, roles_of(qa))
        assert truth(qa)["value"] == want, qa.id
        assert truth(qa)["slots"] == ["left_right", "above_below", "front_behind"]
        assert truth(qa)["viewer"] == "observer" and qa.meta["margin"] >= 0


@pytest.mark.parametrize("task", OO_TASKS)
def test_observer_relation_oo_matches_ground_truth(by_task, imagination_world, task):
    five = task.endswith("_mv")
    for qa in by_task[task]:
        want = gt_oo(imagination_world, roles_of(qa), five)
        assert truth(qa)["value"] == want, qa.id
        assert any(want[:3]) and qa.meta["margin"] >= 0
        assert len(truth(qa)["slots"]) == (5 if five else 3)


def test_sentence_answers_say_exactly_the_decided_slots(by_task):
    for task in OC_TASKS + OO_TASKS:
        for qa in (q for q in by_task[task] if q.format == "sentence"):
            value = truth(qa)["value"]
            for word, phrase in PHRASES.items():
                said = qa.answer.count(phrase)
                assert said == value.count(word), (qa.id, word, qa.answer)


def test_select_options_are_other_valid_tuples(by_task):
    for task in TASKS:
        for qa in (q for q in by_task[task] if q.format == "select"):
            options, value = truth(qa)["options"], truth(qa)["value"]
            assert options["ABCDEF".index(qa.answer)] == value
            assert len({repr(o) for o in options}) == len(options)
            for option in (o for o in options if o != value):
                if truth(qa)["kind"] == "relation":  # contradicts a decided slot, never only adds or drops one
                    assert any(w and o and o != w for w, o in zip(value, option)), (qa.id, option)


def test_relative_direction_quadrants_margins_and_labels(by_task, imagination_world):
    counts = Counter(o.label for o in imagination_world.objects)
    for qa in by_task["relative_direction"]:
        roles = roles_of(qa)
        quadrant, margin_deg = gt_quadrant(imagination_world, roles)
        assert truth(qa)["value"] == [quadrant], qa.id
        assert margin_deg >= SECTOR_DEG
        assert qa.images == () and qa.meta["markers"] == [] and qa.media == "none"
        for role, object_id in roles.items():
            label = world_object(imagination_world, object_id).label
            assert counts[label] == 1 and f"the {label}" in qa.question
        if qa.format == "fill":
            assert qa.answer == quadrant


def test_relative_direction_spreads_over_the_four_quadrants(by_task):
    per_format = defaultdict(Counter)
    for qa in by_task["relative_direction"]:
        per_format[qa.format][truth(qa)["value"][0]] += 1
    for fmt, counts in per_format.items():
        assert len(counts) == 4 and max(counts.values()) - min(counts.values()) <= 1, (fmt, counts)


def test_binary_slots_are_balanced(by_task):
    """left/right (and front/behind for OC, each object's front/behind for the five slots) are
    spread evenly: empty slots are the only allowed imbalance (they count as a random side)."""
    checks = [(t, 0, "left", "right") for t in OC_TASKS + OO_TASKS]
    checks += [(t, 2, "front", "behind") for t in OC_TASKS] + [("spatial_imagination_oo_mv", 3, "front", "behind")]
    for task, slot, one, other in checks:
        for fmt in {qa.format for qa in by_task[task]}:
            words = Counter(truth(qa)["value"][slot] for qa in by_task[task] if qa.format == fmt)
            assert abs(words[one] - words[other]) <= 2 + words[""], (task, fmt, slot, words)


def test_map_layout_in_the_first_cameras_frame(by_task, imagination_world):
    for qa in by_task["spatial_imagination_map_mv"]:
        c2w = imagination_world.poses[qa.meta["frames"][0]]
        forward = c2w[:3, 2] * [1, 1, 0]
        forward /= np.linalg.norm(forward)
        right = np.array([forward[1], -forward[0], 0.0])
        exact = truth(qa)["exact"]
        places = []
        for role, object_id in roles_of(qa).items():
            d = centre(imagination_world, object_id) - c2w[:3, 3]
            x, y = float(d @ right), float(d @ forward)
            assert exact[role] == pytest.approx([x, y], abs=1e-9)
            assert truth(qa)["value"][role] == pytest.approx([round_step(x), round_step(y)], abs=1e-9)
            assert f"({decimal(round_step(x))}, {decimal(round_step(y))})" in qa.answer
            places.append((x, y))
        gaps = [math.dist(p, q) for i, p in enumerate(places) for q in places[i + 1:]]
        assert len(places) == 4 and min(gaps) >= 0.3


def test_markers_sit_on_their_objects_in_the_right_images(records, imagination_native_dir, imagination_world):
    checked = 0
    for qa in records:
        roles = roles_of(qa)
        for marker in qa.meta["markers"]:
            frame = qa.meta["frames"][marker["image"]]
            assert marker_on_object(marker, instance_mask(imagination_native_dir, frame), roles[marker["role"]]), (qa.id, marker)
            assert gt_visible(imagination_world, imagination_native_dir, roles[marker["role"]], frame)
            if qa.task in MV_TASKS or qa.task == "spatial_imagination_map_mv":
                first = ("stand", "face") if qa.task in MV_TASKS else ("a",)
                assert (marker["image"] == 0) == (marker["role"] in first), (qa.id, marker)
            checked += 1
        if qa.task != "relative_direction":
            assert {m["role"] for m in qa.meta["markers"]} == set(roles)
    assert checked > 300


def test_video_frames_are_an_ordered_clip(by_task):
    for task in VIDEO_TASKS:
        for qa in by_task[task]:
            frames = qa.meta["frames"]
            steps = set(np.diff(frames).tolist())
            assert qa.media == "video" and len(frames) >= 8 and len(steps) == 1 and steps.pop() > 0


@pytest.mark.parametrize("task, pair", [("spatial_imagination_oc_video_hard", ("stand", "a")),
                                        ("spatial_imagination_oo_video_hard", ("a", "b"))])
def test_hard_clips_never_show_the_pair_together(by_task, imagination_world, imagination_native_dir, task, pair):
    assert by_task[task]
    for qa in by_task[task]:
        roles = roles_of(qa)
        for frame in qa.meta["frames"]:
            seen = [gt_visible(imagination_world, imagination_native_dir, roles[r], frame) for r in pair]
            assert not all(seen), (qa.id, frame)


# --- the answer functions on chosen candidates ----------------------------------------------------

def context(lifted, task, index=None):
    scene, base = lifted
    spec = catalogue.load().specs[task]
    return TaskContext(scene, base if index is None else index, spec, stream(0, scene.id, task, "select")[1]), spec


def answer(ctx, spec, cand):
    return ANSWERS.get(spec.answer)(ctx, cand, **spec.answer_args)


def mirrored_stand(index, stand_id, face_id):
    """The index with `stand` moved to the far side of `face` (same height, same distance)."""
    stand, face = index.boxes[stand_id], index.boxes[face_id]
    centre = np.array([2 * face.center[0] - stand.center[0], 2 * face.center[1] - stand.center[1], stand.center[2]])
    return replace(index, boxes={**index.boxes, stand_id: Box(centre, stand.size, stand.rotation)})


@pytest.mark.parametrize("task", ["spatial_imagination_oc", "spatial_imagination_oo"])
def test_standing_on_the_far_side_of_the_faced_object_swaps_left_and_right(lifted, task):
    ctx, spec = context(lifted, task)
    facts = sample_facts(ctx, 8)
    assert len(facts) == 8
    for fact in facts:
        cand = Candidate(fact.frames, tuple((o.role, o.id, o.image) for o in fact.objects))
        moved_ctx, _ = context(lifted, task, mirrored_stand(ctx.index, cand.object_id("stand"), cand.object_id("face")))
        before, after = fact.answer, answer(moved_ctx, spec, cand).answer
        assert after.exact["right_m"] == pytest.approx(-before.exact["right_m"], abs=1e-9)
        assert after.exact["up_m"] == pytest.approx(before.exact["up_m"], abs=1e-9)
        assert after.value[0] == OPPOSITE.get(before.value[0], "")
        assert after.value[1] == before.value[1]


def triples(world, unique_only):
    counts = Counter(o.label for o in world.objects)
    ids = [o.id for o in world.objects if counts[o.label] == 1 or not unique_only]
    return [(s, f, q) for s in ids for f in ids for q in ids if len({s, f, q}) == 3]


def test_relative_direction_rejects_inside_the_sector_margin_and_short_facing(lifted, imagination_world):
    ctx, spec = context(lifted, "relative_direction")
    reasons = Counter()
    for s, f, q in triples(imagination_world, unique_only=True):
        roles = {"stand": s, "face": f, "query": q}
        cand = Candidate((), tuple((r, i, None) for r, i in roles.items()), media="none")
        stand, face = centre(imagination_world, s), centre(imagination_world, f)
        if math.hypot(*(face - stand)[:2]) < MIN_FACING_M:
            expected = "facing_object_too_close"
        else:
            quadrant, margin_deg = gt_quadrant(imagination_world, roles)
            expected = "direction_within_sector_margin" if margin_deg < SECTOR_DEG else None
        if expected is None:
            assert answer(ctx, spec, cand).answer.value == [quadrant]
            continue
        with pytest.raises(Reject) as rejected:
            answer(ctx, spec, cand)
        assert rejected.value.reason == expected
        reasons[expected] += 1
    assert reasons["direction_within_sector_margin"] > 0 and reasons["facing_object_too_close"] > 0


def test_empty_slots_inside_the_axis_margin(lifted, imagination_world):
    """Every (stand, face, a) of the room: a slot is empty exactly when its offset is under 0.15 m,
    and a candidate with every slot empty is rejected with its reason."""
    ctx, spec = context(lifted, "spatial_imagination_oc")
    empties = 0
    for s, f, a in triples(imagination_world, unique_only=False):
        stand, face = centre(imagination_world, s), centre(imagination_world, f)
        if math.hypot(*(face - stand)[:2]) < MIN_FACING_M:
            continue
        want = gt_oc(imagination_world, {"stand": s, "face": f, "a": a})
        cand = Candidate((0,), (("stand", s, 0), ("face", f, 0), ("a", a, 0)))
        if not any(want):
            with pytest.raises(Reject, match="all_relations_indistinguishable"):
                answer(ctx, spec, cand)
            continue
        assert answer(ctx, spec, cand).answer.value == want
        empties += want.count("")
    assert empties > 0


def test_rejections_are_counted_in_the_context(lifted):
    ctx, _ = context(lifted, "relative_direction")
    sample_facts(ctx, 8)
    assert ctx.rejections["direction_within_sector_margin"] > 0


def test_relative_direction_on_a_scene_without_frames(imagination_world, tmp_path):
    """Scene-level sources (boxes and labels, no frames): no index is built, the scene's boxes answer."""
    objects = [SceneObject(o.id, o.label, o.box) for o in imagination_world.objects]
    scene = Scene(id="boxes_only", source="metainfo", root=tmp_path / "boxes_only", frames=[], objects=objects)
    made = list(qagen.generate(scene, tasks=["relative_direction"], seed=2))
    assert len(made) >= 12
    for qa in made:
        assert truth(qa)["value"] == [gt_quadrant(imagination_world, roles_of(qa))[0]]
        assert qa.images == () and qa.media == "none"


def test_layout_distractors_put_objects_on_each_others_places(lifted):
    """The layout kind's select options and judge claims (not shipped formats, there for users'
    specs): permutations of the true places, the truth at the asked rank, none equal to it."""
    ctx, spec = context(lifted, "spatial_imagination_map_mv")
    kind = KINDS.get("layout")()
    rng = np.random.default_rng(0)
    for fact in sample_facts(ctx, 4):
        truth_places = sorted(map(tuple, fact.answer.value.values()))
        options, rank = kind.options(fact.answer, fact, 4, 2, rng, spec.margins)
        assert rank == 2 and options[2] == fact.answer.value
        assert len({repr(o) for o in options}) == 4
        for option in options:
            assert sorted(map(tuple, option.values())) == truth_places
        claim = kind.false_claim(fact.answer, fact, rng, spec.margins)
        assert claim != fact.answer.value and sorted(map(tuple, claim.values())) == truth_places


def test_quadrant_distractors_are_the_other_quadrants(lifted):
    ctx, spec = context(lifted, "relative_direction")
    kind = KINDS.get("relation")()
    rng = np.random.default_rng(1)
    for fact in sample_facts(ctx, 4):
        options, rank = kind.options(fact.answer, fact, 4, 1, rng, spec.margins)
        assert options[1] == fact.answer.value
        assert sorted(o[0] for o in options) == ["back-left", "back-right", "front-left", "front-right"]
        assert kind.false_claim(fact.answer, fact, rng, spec.margins) != fact.answer.value
