"""Multi-view tasks against ground truth recomputed here from the synthetic World and its written
masks and depths, with plain numpy (never with qagen's geometry): the views' covisibility band,
markers on their objects in their images, every answer, margins, balance and references.

The scene goes through the real path: World -> native files -> loader -> SceneIndex -> tasks.
"""
from __future__ import annotations

import functools
import itertools
import re
from collections import Counter

import numpy as np
import pytest
from PIL import Image

import qagen
from support.truth import camera_distance, centre, depth_in, viewer
from support.records import group_by_task

TASKS = {  # task -> formats
    "depth_prediction_oc_mv": ("fill", "select", "sentence"),
    "depth_prediction_oo_mv": ("fill", "select", "sentence"),
    "distance_prediction_oc_mv": ("fill", "select", "sentence"),
    "distance_prediction_oo_mv": ("fill", "select", "sentence"),
    "obj_spatial_relation_oc_mv": ("select", "sentence"),
    "obj_spatial_relation_oo_mv": ("judge", "select", "sentence"),
    "distance_infer_center_oc_mv": ("fill", "select", "sentence"),
    "distance_infer_center_oo_mv": ("fill", "select", "sentence"),
    "position_matching": ("fill", "select", "sentence"),
    "object_matching": ("select",),
}
SPREAD = {"depth_prediction_oc_mv", "depth_prediction_oo_mv", "distance_prediction_oo_mv",
          "obj_spatial_relation_oo_mv", "distance_infer_center_oc_mv", "distance_infer_center_oo_mv"}
OVERLAP_BAND = (0.1, 0.7)  # the specs' sampler_args
PAD = 0.05  # extent padding of the covisibility definition
MIN_PIXELS = 400 * 160 * 120 / (640 * 480)  # visibility threshold at the fixture's image size
AXIS, LENGTH_ABS, LENGTH_REL = 0.15, 0.15, 0.10
OPPOSITE = {"left": "right", "right": "left", "above": "below", "below": "above", "closer": "farther",
            "farther": "closer", "front": "behind", "behind": "front"}


# ---------------------------------------------------------------------------------------------
# ground truth, from the World and the written images only


@pytest.fixture(scope="module")
def records(multi_view_native_dir):
    scene = qagen.load(multi_view_native_dir)
    return list(qagen.generate(scene, tasks=list(TASKS), seed=5))


@pytest.fixture(scope="module")
def by_task(records):
    return group_by_task(records)


@pytest.fixture(scope="module")
def images(multi_view_native_dir):
    """(instance ids, depth in metres) of a frame, read once."""

    @functools.lru_cache(maxsize=None)
    def read(frame: int):
        name = f"{frame:06d}.png"
        instance = np.asarray(Image.open(multi_view_native_dir / "instance" / name)).astype(int)
        depth = np.asarray(Image.open(multi_view_native_dir / "depth" / name)).astype(float) / 1000.0
        return instance, depth

    return read


def label(world, object_id):
    return next(o.label for o in world.objects if o.id == object_id)


def decide(delta, positive, negative, need=AXIS):
    return positive if delta >= need else negative if delta <= -need else ""


def compare(da, db):
    if abs(da - db) < max(LENGTH_ABS, LENGTH_REL * min(da, db)):
        return ""
    return "closer" if da < db else "farther"


def mask_box(instance, object_id):
    """Tight mask box on 0-1000 (pixel edges), as a box marker or box answer must be."""
    H, W = instance.shape
    ys, xs = np.nonzero(instance == object_id)
    raw = np.array([xs.min() / W, ys.min() / H, (xs.max() + 1) / W, (ys.max() + 1) / H]) * 1000
    return [int(v) for v in np.clip(np.rint(raw), 0, 1000)]


def iou(a, b):
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union


def extents(world, images, frame):
    """{object: (pixels, lo, hi)}: the world extent of each object's pixels with depth, in one frame."""
    instance, depth = images(frame)
    K, pose = world.K, world.poses[frame]
    out = {}
    for object_id in np.unique(instance[instance > 0]):
        mask = instance == object_id
        v, u = np.nonzero(mask & (depth > 0))
        z = depth[v, u]
        cam = np.stack([(u + 0.5 - K[0, 2]) / K[0, 0] * z, (v + 0.5 - K[1, 2]) / K[1, 1] * z, z], axis=-1)
        points = cam @ pose[:3, :3].T + pose[:3, 3]
        out[int(object_id)] = (int(mask.sum()), points.min(0) - PAD, points.max(0) + PAD)
    return out


@pytest.fixture(scope="module")
def covisibility(multi_view_world, images):
    """covisibility(i, j): min over both directions of the pixel-weighted share of each object's
    extent seen in the other view."""
    lifted = functools.lru_cache(maxsize=None)(lambda frame: extents(multi_view_world, images, frame))
    return lambda i, j: pair_covisibility(lifted(i), lifted(j))


def pair_covisibility(ei, ej):

    def seen(src, dst):
        total = sum(p for p, _, _ in src.values())
        covered = 0.0
        for object_id, (pixels, lo, hi) in src.items():
            if object_id in dst:
                _, lo2, hi2 = dst[object_id]
                inter = np.prod(np.clip(np.minimum(hi, hi2) - np.maximum(lo, lo2), 0, None))
                covered += pixels * inter / np.prod(hi - lo)
        return covered / total

    return min(seen(ei, ej), seen(ej, ei))


def certainly_visible(world, images, object_id, frame):
    """Visible by any reading of TASKS.md: enough pixels and the whole box inside the image (no truncation)."""
    instance, _ = images(frame)
    box = next(o.box for o in world.objects if o.id == object_id)
    pose, K = world.poses[frame], world.K
    cam = (box.corners() - pose[:3, 3]) @ pose[:3, :3]
    if (instance == object_id).sum() < MIN_PIXELS or (cam[:, 2] <= 0).any():
        return False
    uv = cam[:, :2] / cam[:, 2:3] * [K[0, 0], K[1, 1]] + [K[0, 2], K[1, 2]]
    return bool(((uv >= 0) & (uv <= [world.width, world.height])).all())


def ids(qa):
    return {o["role"]: o["id"] for o in qa.meta["objects"]}


def image_of(qa):
    return {m["role"]: m["image"] for m in qa.meta["markers"]}


def frame_of(qa, role):
    return qa.meta["frames"][image_of(qa)[role]]


def truth(qa):
    answer = qa.meta["answer"]
    return answer["fact"] if answer["kind"] == "bool" else answer


def metres(x):
    return round(round(x / 0.1) * 0.1, 6)


# ---------------------------------------------------------------------------------------------
# views and markers


def test_every_task_and_format_produced_records(by_task):
    for task, formats in TASKS.items():
        made = Counter(qa.format for qa in by_task[task])
        assert all(made[f] >= 4 for f in formats), (task, made)


def test_views_are_distinct_and_extra_views_sit_in_the_overlap_band(records, covisibility):
    low, high = OVERLAP_BAND
    checked = 0
    for qa in records:
        frames = qa.meta["frames"]
        assert 2 <= len(frames) <= 5 and len(set(frames)) == len(frames), qa.id
        first, extra = frames[0], frames[1:]
        for frame in extra:
            assert low - 1e-6 <= covisibility(first, frame) <= high + 1e-6, (qa.id, frame)
        for f1, f2 in itertools.combinations(extra, 2):
            assert covisibility(f1, f2) <= high + 1e-6, (qa.id, f1, f2)
        checked += 1
    assert checked > 100
    assert {len(qa.meta["frames"]) for qa in records if qa.task not in ("position_matching", "object_matching")} \
        == {2, 3, 4, 5}


def test_markers_sit_on_visible_objects_in_their_images(records, images):
    for qa in records:
        r = ids(qa)
        for marker in qa.meta["markers"]:
            instance, _ = images(qa.meta["frames"][marker["image"]])
            H, W = instance.shape
            assert (instance == r[marker["role"]]).sum() >= MIN_PIXELS, (qa.id, marker)
            if marker["kind"] == "point":
                x, y = marker["xy"]
                assert instance[min(int(y / 1000 * H), H - 1), min(int(x / 1000 * W), W - 1)] == r[marker["role"]]
            else:
                assert marker["box"] == mask_box(instance, r[marker["role"]]), (qa.id, marker)


def test_markers_are_spread_over_the_images(by_task):
    for task in SPREAD:
        for qa in by_task[task]:
            used = {m["image"] for m in qa.meta["markers"]}
            assert len(used) == min(len(qa.meta["markers"]), len(qa.meta["frames"])), qa.id
    for qa in by_task["distance_prediction_oc_mv"]:
        assert image_of(qa)["a"] != 0, qa.id


def test_a_label_alone_refers_only_to_an_object_no_other_visible_object_shares(records, multi_view_world, images):
    """One-sided: a label used alone ("the sofa (red point ...") must not belong to another object
    that is certainly visible in one of the views (enough pixels, its whole box inside the image)."""
    alone = 0
    for qa in records:
        for obj in qa.meta["objects"]:
            if f"the {obj['label']} (" not in qa.question:
                continue
            alone += 1
            for other in multi_view_world.objects:
                if other.label == obj["label"] and other.id != obj["id"]:
                    assert not any(certainly_visible(multi_view_world, images, other.id, f) for f in qa.meta["frames"]), \
                        (qa.id, other.id)
    assert alone > 20


# ---------------------------------------------------------------------------------------------
# numeric answers: depths in the marker's own image, distances from camera 1


def test_depth_prediction_oc_mv(by_task, multi_view_world):
    for qa in by_task["depth_prediction_oc_mv"]:
        r = ids(qa)
        exact = depth_in(multi_view_world, r["b"], frame_of(qa, "b"))
        assert truth(qa)["exact"] == pytest.approx(exact, abs=1e-6)
        assert truth(qa)["value"] == metres(exact)
        ref = metres(depth_in(multi_view_world, r["a"], frame_of(qa, "a")))
        assert f"{ref:g} m" in qa.question


def test_depth_prediction_oo_mv(by_task, multi_view_world):
    for qa in by_task["depth_prediction_oo_mv"]:
        r = ids(qa)
        db = depth_in(multi_view_world, r["b"], frame_of(qa, "b"))
        dc = depth_in(multi_view_world, r["c"], frame_of(qa, "c"))
        assert abs(db - dc) >= LENGTH_ABS
        assert truth(qa)["value"] == metres(abs(db - dc))
        assert f"{metres(depth_in(multi_view_world, r['a'], frame_of(qa, 'a'))):g} m" in qa.question


def test_distance_prediction_oc_mv_is_from_the_first_camera(by_task, multi_view_world):
    for qa in by_task["distance_prediction_oc_mv"]:
        exact = camera_distance(multi_view_world, ids(qa)["a"], qa.meta["frames"][0])
        assert truth(qa)["exact"] == pytest.approx(exact, abs=1e-6)
        assert truth(qa)["value"] == metres(exact)


def test_distance_prediction_oo_mv(by_task, multi_view_world):
    for qa in by_task["distance_prediction_oo_mv"]:
        r = ids(qa)
        exact = float(np.linalg.norm(centre(multi_view_world, r["a"]) - centre(multi_view_world, r["b"])))
        assert exact >= 0.3
        assert truth(qa)["value"] == metres(exact)
        if qa.format == "fill":
            assert qa.answer == f"{metres(exact):g}"


# ---------------------------------------------------------------------------------------------
# relations seen from camera 1


def oc_slots(world, object_id, frame):
    right, forward = viewer(world, frame)
    rel = centre(world, object_id) - world.poses[frame][:3, 3]
    return [decide(rel @ right, "right", "left"), decide(rel[2], "above", "below"), decide(rel @ forward, "front", "behind")]


def oo_slots(world, a, b, frame):
    right, forward = viewer(world, frame)
    cam = world.poses[frame][:3, 3]
    ca, cb = centre(world, a), centre(world, b)
    return [
        decide((ca - cb) @ right, "right", "left"),
        decide(ca[2] - cb[2], "above", "below"),
        compare(np.linalg.norm(ca - cam), np.linalg.norm(cb - cam)),
        decide((ca - cam) @ forward, "front", "behind"),
        decide((cb - cam) @ forward, "front", "behind"),
    ]


def contradicts(option, truth_value):
    return any(t and o == OPPOSITE[t] for o, t in zip(option, truth_value))


def test_obj_spatial_relation_oc_mv(by_task, multi_view_world):
    for qa in by_task["obj_spatial_relation_oc_mv"]:
        want = oc_slots(multi_view_world, ids(qa)["a"], qa.meta["frames"][0])
        assert want[0] and truth(qa)["value"] == want, qa.id  # the spec requires left/right decided
        if qa.format == "select":  # two options: the truth and its left/right mirror
            others = [o for o in qa.meta["answer"]["options"] if o != want]
            assert others == [[OPPOSITE[want[0]], *want[1:]]]
        else:
            phrases = {"left": "to the left of", "right": "to the right of", "above": "above", "below": "below",
                       "front": "in front of", "behind": "behind"}
            for word, phrase in phrases.items():
                assert (word in want) == (phrase in qa.answer), (qa.answer, want)
            assert qa.answer.rstrip(".").endswith("camera 1")


def test_obj_spatial_relation_oo_mv(by_task, multi_view_world):
    for qa in by_task["obj_spatial_relation_oo_mv"]:
        r = ids(qa)
        want = oo_slots(multi_view_world, r["a"], r["b"], qa.meta["frames"][0])
        assert any(want[:3]) and truth(qa)["value"] == want, qa.id
        answer = qa.meta["answer"]
        if qa.format == "judge":
            assert qa.answer == ("Yes" if answer["claim"] == want else "No")
            assert answer["claim"] == want or contradicts(answer["claim"], want)
        elif qa.format == "select":
            assert all(contradicts(o, want) for o in answer["options"] if o != want)
            if sum(map(bool, want[:3])) >= 2:  # two pair slots decided: enough wrong tuples state the same slots
                assert all(list(map(bool, o)) == list(map(bool, want)) for o in answer["options"])
        else:
            spelled = qa.answer[re.search(r"\b[XY] is ", qa.answer).start():].rstrip(".")
            groups = dict(re.match(r"(X|Y) is (.*)", g).groups() for g in spelled.split("; "))
            x = groups.get("X", "")
            pairs = [("left", "to the left of"), ("right", "to the right of"), ("above", "higher up than"),
                     ("below", "lower down than"), ("closer", "closer to camera 1 than"),
                     ("farther", "farther from camera 1 than")]
            for word, phrase in pairs:
                assert (word in want[:3]) == (phrase in x), (qa.answer, want)
            assert ("in front of camera 1" in x, "behind camera 1" in x) == (want[3] == "front", want[3] == "behind")
            assert groups.get("Y") == {"front": "in front of camera 1", "behind": "behind camera 1"}.get(want[4])


def test_relations_are_balanced_left_right_and_closer_farther(by_task):
    for fmt in ("select", "sentence"):
        sides = Counter(truth(qa)["value"][0] for qa in by_task["obj_spatial_relation_oc_mv"] if qa.format == fmt)
        assert abs(sides["left"] - sides["right"]) <= 1, sides
    for fmt in ("judge", "select", "sentence"):
        combos = Counter(
            f"{v[0]}/{v[2]}" for v in (truth(qa)["value"] for qa in by_task["obj_spatial_relation_oo_mv"] if qa.format == fmt)
            if v[0] and v[2]
        )
        counts = [combos[k] for k in ("left/closer", "left/farther", "right/closer", "right/farther")]
        assert max(counts) - min(counts) <= 1, combos


# ---------------------------------------------------------------------------------------------
# choices across images


def test_distance_infer_center_oc_mv(by_task, multi_view_world):
    for qa in by_task["distance_infer_center_oc_mv"]:
        d = {role: camera_distance(multi_view_world, oid, qa.meta["frames"][0]) for role, oid in ids(qa).items()}
        criterion = truth(qa)["criterion"]
        want = min(d, key=d.get) if criterion == "closest" else max(d, key=d.get)
        assert truth(qa)["value"] == want
        ranked = sorted(d.values(), reverse=criterion == "farthest")
        assert abs(ranked[0] - ranked[1]) >= max(LENGTH_ABS, LENGTH_REL * min(ranked[:2]))
        if qa.format != "select":  # the answer names the object's box and image
            marker = next(m for m in qa.meta["markers"] if m["role"] == want)
            assert f"{marker['color']} box in image {marker['image'] + 1}" in qa.answer


def test_distance_infer_center_oo_mv(by_task, multi_view_world):
    for qa in by_task["distance_infer_center_oo_mv"]:
        r = ids(qa)
        d = {k: float(np.linalg.norm(centre(multi_view_world, r[k]) - centre(multi_view_world, r["a"]))) for k in "bc"}
        want = min(d, key=d.get) if truth(qa)["criterion"] == "closer" else max(d, key=d.get)
        assert truth(qa)["value"] == want
        assert abs(d["b"] - d["c"]) >= max(LENGTH_ABS, LENGTH_REL * min(d.values()))


# ---------------------------------------------------------------------------------------------
# matching the object of image 1 in image 2


def test_matched_boxes_are_the_objects_mask_boxes_in_image_2(by_task, multi_view_world, images):
    for qa in by_task["position_matching"] + by_task["object_matching"]:
        a = ids(qa)["a"]
        assert len(qa.meta["frames"]) == 2 and image_of(qa)["a"] == 0
        instance, _ = images(qa.meta["frames"][1])
        assert (instance == a).sum() >= MIN_PIXELS
        answer = qa.meta["answer"]
        assert answer["value"] == mask_box(instance, a), qa.id
        for object_id, box in zip(answer["distractor_objects"], answer["distractor_boxes"]):
            assert object_id != a and (instance == object_id).sum() >= MIN_PIXELS
            assert box == mask_box(instance, object_id)
            assert iou(box, answer["value"]) < 0.5
        if qa.format == "select":
            letter = "ABCDEF".index(qa.answer)
            assert answer["options"][letter] == answer["value"]
            assert all(o in answer["distractor_boxes"] for i, o in enumerate(answer["options"]) if i != letter)
        elif qa.format == "fill":
            assert qa.answer == "[" + ", ".join(str(v) for v in answer["value"]) + "]"


def test_object_matching_offers_same_label_objects_first(by_task, multi_view_world, images):
    """Distractors list objects sharing a's label first; one of another label is offered only when no
    same-label object clear of the truth's box is certainly visible in image 2 (one-sided check)."""
    hard = 0
    for qa in by_task["object_matching"]:
        answer, a_label = qa.meta["answer"], qa.meta["objects"][0]["label"]
        same = [label(multi_view_world, i) == a_label for i in answer["distractor_objects"]]
        assert len(same) == 2 and same == sorted(same, reverse=True), qa.id
        hard += same[0]
        if all(same):
            continue
        frame = qa.meta["frames"][1]
        instance, _ = images(frame)
        for other in multi_view_world.objects:
            if other.label == a_label and other.id != ids(qa)["a"] and other.id not in answer["distractor_objects"]:
                clear = (instance == other.id).any() and iou(mask_box(instance, other.id), answer["value"]) < 0.5
                assert not (clear and certainly_visible(multi_view_world, images, other.id, frame)), (qa.id, other.id)
    assert hard >= 1  # the sampler prefers objects with look-alikes (only view 0 of the fixture has two boxes)


# ---------------------------------------------------------------------------------------------
# spelling and rejections


def test_relations_are_spelled_per_slot_name_with_one_subject_per_clause_group():
    from qagen.render.kinds.relation import spell_relation

    cam = ["cam_left_right", "cam_above_below", "cam_front_behind"]
    pair = ["ab_left_right", "ab_above_below", "ab_closer_farther", "a_front_behind", "b_front_behind"]
    assert spell_relation(["left", "below", "front"], cam) == "to the left of, below and in front of camera 1"
    assert spell_relation(["", "", "behind"], cam) == "behind camera 1"
    assert spell_relation(["right", "", "closer", "front", "behind"], pair) == (
        "X is to the right of Y, closer to camera 1 than Y and in front of camera 1; Y is behind camera 1")
    assert spell_relation(["left", "above", "farther", "", ""], pair) == (
        "X is to the left of, higher up than and farther from camera 1 than Y")
    assert spell_relation(["", "", "", "", "front"], pair) == "Y is in front of camera 1"
    assert spell_relation(["left", "", "farther"], ["left_right", "above_below", "closer_farther"]) == (
        "to the left and farther from the camera")  # the single-view slots keep their phrases


def test_an_unreachable_overlap_band_gives_no_candidates_and_says_why(multi_view_native_dir):
    from qagen.pipeline import catalogue
    from qagen.scene.index import SceneIndex
    from qagen.tasks.context import TaskContext
    from qagen.tasks.engine import sample_facts

    scene = qagen.load(multi_view_native_dir)
    spec = catalogue.load().specs["distance_prediction_oo_mv"]
    narrow = spec.model_copy(update={"sampler_args": {**spec.sampler_args, "overlap": [1.01, 2.0]}})
    ctx = TaskContext(scene, SceneIndex.build(scene), narrow, np.random.default_rng(0))
    assert sample_facts(ctx, 4) == []
    assert ctx.rejections["too_few_views_in_overlap_band"] > 0


def test_a_first_camera_looking_straight_down_has_no_viewer_frame_and_is_rejected(multi_view_native_dir):
    from dataclasses import replace

    from qagen.pipeline import catalogue
    from qagen.registry import ANSWERS
    from qagen.scene.index import SceneIndex
    from qagen.tasks.context import Candidate, TaskContext
    from qagen.tasks.fact import Reject

    scene = qagen.load(multi_view_native_dir)
    index = SceneIndex.build(scene)
    down = np.eye(4)
    down[:3, :3] = [[1, 0, 0], [0, -1, 0], [0, 0, -1]]  # camera z along world -Z
    down[:3, 3] = scene.frames[0].c2w[:3, 3]
    scene.frames[0] = replace(scene.frames[0], c2w=down)
    a, b = (int(i) for i in index.obs["object"][index.visible(1)][:2])
    cand = Candidate(frames=(0, 1), roles=(("a", a, 1), ("b", b, 1)))
    for task in ("obj_spatial_relation_oc_mv", "obj_spatial_relation_oo_mv"):
        spec = catalogue.load().specs[task]
        ctx = TaskContext(scene, index, spec, np.random.default_rng(0))
        with pytest.raises(Reject, match="first_camera_looks_straight_up_or_down"):
            ANSWERS.get(spec.answer)(ctx, cand)


def test_select_letters_and_judge_truths_are_balanced(by_task):
    for task, formats in TASKS.items():
        if "select" in formats:
            selects = [qa for qa in by_task[task] if qa.format == "select"]
            shown = {len(re.findall(r"^[A-F]\. ", qa.question, flags=re.M)) for qa in selects}
            assert len(shown) == 1, (task, shown)
            letters = Counter(qa.answer for qa in selects)
            counts = [letters[letter] for letter in "ABCDEF"[: shown.pop()]]
            assert max(counts) - min(counts) <= 1, (task, letters)
    truths = Counter(qa.answer for qa in by_task["obj_spatial_relation_oo_mv"] if qa.format == "judge")
    assert abs(truths["Yes"] - truths["No"]) <= 1
