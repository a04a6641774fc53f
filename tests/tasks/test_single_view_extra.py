"""Single-view tasks of the other reference datasets against ground truth recomputed here, with
plain numpy, from the synthetic World (boxes, poses, K) and the instance / depth PNGs on disk:
object_grounding, object_referring, near_far, left_right, object_size_compare, object_dimension,
object_dimension_scene and point_depth_order (pixel markers)."""
from __future__ import annotations

import re

from collections import Counter, defaultdict

import numpy as np
import pytest
from PIL import Image

import qagen
from support.truth import round_step

TASKS = ["object_grounding", "object_referring", "near_far", "left_right", "object_dimension",
         "object_dimension_scene", "point_depth_order"]
UP = np.array([0.0, 0.0, 1.0])


@pytest.fixture(scope="module")
def by_task(small_world_native_dir):
    out = defaultdict(list)
    for qa in qagen.generate(qagen.load(small_world_native_dir), tasks=TASKS, seed=7):
        out[qa.task].append(qa)
    return out


def truth(qa):
    answer = qa.meta["answer"]
    return answer["fact"] if answer["kind"] == "bool" else answer


def ids(qa):
    return {o["role"]: o["id"] for o in qa.meta["objects"]}


def obj(world, object_id):
    return next(o for o in world.objects if o.id == object_id)


def instance(native_dir, frame):
    return np.asarray(Image.open(native_dir / "instance" / f"{frame:06d}.png"))


def depth_png(native_dir, frame):
    return np.asarray(Image.open(native_dir / "depth" / f"{frame:06d}.png")).astype(float) / 1000.0


def to_camera(world, frame, points):
    pose = world.poses[frame]
    return (np.asarray(points) - pose[:3, 3]) @ pose[:3, :3]


def visible_ids(world, native_dir, frame):
    """TASKS.md visibility: >= 400 px at 640x480 (scaled), box truncation < 0.3, centre in front."""
    mask = instance(native_dir, frame)
    H, W = mask.shape
    found, counts = np.unique(mask[mask > 0], return_counts=True)
    out = []
    for object_id, count in zip(found.tolist(), counts.tolist()):
        if count < 400 * W * H / (640 * 480):
            continue
        cam = to_camera(world, frame, obj(world, object_id).box.corners())
        if (cam[:, 2] <= 0).any():
            continue
        uv = cam @ world.K.T
        uv = uv[:, :2] / uv[:, 2:]
        lo, hi = uv.min(0), uv.max(0)
        inside = np.clip(np.minimum(hi, [W, H]) - np.maximum(lo, 0), 0, None).prod()
        if 1 - inside / (hi - lo).prod() < 0.3:
            out.append(object_id)
    return out


def mask_box(native_dir, frame, object_id):
    mask = instance(native_dir, frame)
    H, W = mask.shape
    rows, cols = np.nonzero(mask == object_id)
    return [round(cols.min() / W * 1000), round(rows.min() / H * 1000),
            round((cols.max() + 1) / W * 1000), round((rows.max() + 1) / H * 1000)]


def viewer(world, frame, point):
    pose = world.poses[frame]
    forward = pose[:3, 2] * [1, 1, 0]
    forward /= np.linalg.norm(forward)
    rel = np.asarray(point) - pose[:3, 3]
    return np.array([rel @ np.cross(forward, UP), rel @ forward, rel[2]])


# (words for two objects, words for three or more) -> (value, larger wins, image check, length margin)
DIRECTION_WORDS = {
    ("the {} on the right", "the rightmost {}"): ("right", True),
    ("the {} on the left", "the leftmost {}"): ("right", False),
    ("the farther {}", "the farthest {}"): ("distance", True),
    ("the nearer {}", "the nearest {}"): ("distance", False),
    ("the {} higher up", "the highest {}"): ("up", True),
    ("the {} lower down", "the lowest {}"): ("up", False),
}


def assert_identifies(world, native_dir, frame, target, text):
    """`text` picks `target` out of the visible objects, as TASKS.md's referring rule wants."""
    label = obj(world, target).label
    same = [i for i in visible_ids(world, native_dir, frame) if obj(world, i).label == label]
    assert target in same
    if len(same) == 1:
        assert text == f"the {label}"
        return
    forms = {words[0 if len(same) == 2 else 1].format(label): rule for words, rule in DIRECTION_WORDS.items()}
    assert text in forms, text
    quantity, larger = forms[text]
    centres = {i: obj(world, i).box.center for i in same}
    cam = {i: to_camera(world, frame, [c])[0] for i, c in centres.items()}
    if quantity == "distance":
        value = {i: np.linalg.norm(cam[i]) for i in same}
    else:
        axis = 0 if quantity == "right" else 2
        value = {i: viewer(world, frame, centres[i])[axis] for i in same}
        image = {i: cam[i][0] / cam[i][2] if quantity == "right" else -cam[i][1] / cam[i][2] for i in same}
        assert all((image[target] > image[i]) == larger for i in same if i != target)
    sign = 1 if larger else -1
    gaps = [sign * (value[target] - value[i]) for i in same if i != target]
    need = [max(0.15, 0.1 * min(value[target], value[i])) if quantity == "distance" else 0.15
            for i in same if i != target]
    assert all(g >= n for g, n in zip(gaps, need)), (text, gaps)


def test_every_task_produced_every_format(by_task):
    for task in TASKS:
        formats = Counter(qa.format for qa in by_task[task])
        assert len(formats) >= 3 and min(formats.values()) >= 1, (task, formats)


def test_object_grounding_boxes_and_descriptions(by_task, small_world, small_world_native_dir):
    seen_repeated_label = False
    for qa in by_task["object_grounding"]:
        frame, target = qa.meta["frames"][0], ids(qa)["a"]
        visible = visible_ids(small_world, small_world_native_dir, frame)
        assert truth(qa)["value"] == mask_box(small_world_native_dir, frame, target)
        description = truth(qa)["description"]
        assert description in qa.question
        assert_identifies(small_world, small_world_native_dir, frame, target, description)
        seen_repeated_label |= description != f"the {obj(small_world, target).label}"
        distractors = truth(qa)["distractor_boxes"]
        assert len(distractors) >= 2 and truth(qa)["distractor_objects"]
        for other, box in zip(truth(qa)["distractor_objects"], distractors):
            assert other != target and other in visible
            assert box == mask_box(small_world_native_dir, frame, other)
            assert iou(box, truth(qa)["value"]) < 0.5
        if qa.format == "select":
            assert qa.meta["answer"]["options"][ord(qa.answer) - ord("A")] == truth(qa)["value"]
    assert seen_repeated_label


def iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union


def test_object_referring_marks_the_object_and_describes_it_uniquely(by_task, small_world, small_world_native_dir):
    kinds = Counter()
    for qa in by_task["object_referring"]:
        frame, target = qa.meta["frames"][0], ids(qa)["a"]
        (marker,) = qa.meta["markers"]
        assert marker["kind"] == "box" and marker["box"] == mask_box(small_world_native_dir, frame, target)
        assert str(marker["box"]).replace(" ", "") in qa.question.replace(" ", "")
        if qa.format != "select":
            # the question itself (after the note on marker coordinates), without its "red box [..]"
            asked = re.sub(r"\w+ box \[[^\]]*\]", "", qa.question.splitlines()[-1])
            assert not re.search(rf"\b{obj(small_world, target).label}\b", asked)  # the box is asked about, not the name
        text = truth(qa)["value"]
        assert_identifies(small_world, small_world_native_dir, frame, target, text)
        kinds[text == f"the {obj(small_world, target).label}"] += 1
        others = [i for i in visible_ids(small_world, small_world_native_dir, frame) if i != target]
        for distractor in truth(qa)["distractor_texts"]:
            assert distractor != text
            matches = 0
            for other in others:
                try:
                    assert_identifies(small_world, small_world_native_dir, frame, other, distractor)
                    matches += 1
                except AssertionError:
                    pass
            assert matches == 1, distractor
        if qa.format == "fill":
            assert qa.answer == text[0].upper() + text[1:]
    assert kinds[True] and kinds[False]  # unique labels alone, repeated ones with position words


def test_near_far_by_depth_with_margin(by_task, small_world, small_world_native_dir):
    for qa in by_task["near_far"]:
        frame, r = qa.meta["frames"][0], ids(qa)
        visible = visible_ids(small_world, small_world_native_dir, frame)
        labels = Counter(obj(small_world, i).label for i in visible)
        assert all(labels[obj(small_world, r[k]).label] == 1 for k in "ab")  # named by label alone
        z = {k: to_camera(small_world, frame, [obj(small_world, r[k]).box.center])[0][2] for k in "ab"}
        criterion = truth(qa)["criterion"]
        want = min(z, key=z.get) if criterion == "nearer" else max(z, key=z.get)
        assert truth(qa)["value"] == want
        assert abs(z["a"] - z["b"]) >= max(0.15, 0.1 * min(z.values()))
        assert f"the {obj(small_world, r['a']).label}" in qa.question and not qa.meta["markers"]
        if qa.format == "judge":
            assert qa.answer == ("Yes" if qa.meta["answer"]["claim"] == want else "No")


def test_left_right_in_the_viewer_frame_and_balanced(by_task, small_world, small_world_native_dir):
    for fmt in ("fill", "select", "sentence", "judge"):
        sides = Counter()
        for qa in (q for q in by_task["left_right"] if q.format == fmt):
            frame, r = qa.meta["frames"][0], ids(qa)
            centres = [obj(small_world, r[k]).box.center for k in "ab"]
            dx = viewer(small_world, frame, centres[0])[0] - viewer(small_world, frame, centres[1])[0]
            assert abs(dx) >= 0.15
            want = "right" if dx > 0 else "left"
            cam = to_camera(small_world, frame, centres)
            assert (cam[0, 0] / cam[0, 2] > cam[1, 0] / cam[1, 2]) == (want == "right")
            assert truth(qa)["value"] == [want]
            if fmt == "fill":
                assert qa.answer == want.capitalize()
            if fmt == "judge":
                assert qa.answer == ("Yes" if qa.meta["answer"]["claim"] == [want] else "No")
            sides[want] += 1
        assert sides["left"] and abs(sides["left"] - sides["right"]) <= 1, (fmt, sides)


def sizes(box):
    assert np.allclose(box.rotation[2], [0, 0, 1])  # yaw-only boxes in the synthetic world
    sx, sy, sz = box.size
    return {"taller": sz, "longer": max(sx, sy), "wider": min(sx, sy)}


def test_object_size_compare_between_objects_of_one_label(multi_view_world, multi_view_native_dir):
    """On the room with repeated labels: two objects of one label (so the usual sizes of things do
    not answer it), the larger by the asked size, every format and every criterion."""
    records = list(qagen.generate(qagen.load(multi_view_native_dir), tasks=["object_size_compare"], seed=7))
    assert {qa.format for qa in records} == {"fill", "select", "sentence", "judge"}
    criteria = Counter()
    for qa in records:
        r = ids(qa)
        assert obj(multi_view_world, r["a"]).label == obj(multi_view_world, r["b"]).label
        criterion = truth(qa)["criterion"]
        value = {k: sizes(obj(multi_view_world, r[k]).box)[criterion] for k in "ab"}
        want = max(value, key=value.get)
        assert truth(qa)["value"] == want
        assert abs(value["a"] - value["b"]) >= max(0.10, 0.15 * min(value.values()))
        criteria[criterion] += 1
    assert len(criteria) == 3


def test_object_dimension(by_task, small_world, small_world_native_dir):
    for qa in by_task["object_dimension"]:
        target = ids(qa)["a"]
        s = sizes(obj(small_world, target).box)
        dimension = truth(qa)["dimension"]
        exact = {"longest": max(s.values()), "height": s["taller"], "width": s["wider"]}[dimension] * 100
        assert truth(qa)["value"] == round_step(exact, 1.0)
        (marker,) = qa.meta["markers"]
        x, y = marker["xy"]
        mask = instance(small_world_native_dir, qa.meta["frames"][0])
        H, W = mask.shape
        assert mask[int(y / 1000 * H), int(x / 1000 * W)] == target


def test_object_dimension_scene_names_scene_unique_labels(by_task, small_world, small_world_native_dir):
    labels = Counter(o.label for o in small_world.objects)
    dimensions = Counter()
    for qa in by_task["object_dimension_scene"]:
        target = ids(qa)["a"]
        assert labels[obj(small_world, target).label] == 1 and qa.meta["frames"] == list(range(10))
        assert any(target in visible_ids(small_world, small_world_native_dir, f) for f in qa.meta["frames"])
        s = sizes(obj(small_world, target).box)
        dimension = truth(qa)["dimension"]
        dimensions[dimension] += 1
        exact = {"longest": max(s.values()), "height": s["taller"], "width": s["wider"]}[dimension] * 100
        assert truth(qa)["value"] == round_step(exact, 1.0)
        assert f"the {obj(small_world, target).label}" in qa.question
    assert len(dimensions) >= 2


def test_point_depth_order_from_the_depth_png(by_task, small_world, small_world_native_dir):
    K_inv = np.linalg.inv(small_world.K)
    for fmt in ("fill", "select", "judge"):
        balance = Counter()
        for qa in (q for q in by_task["point_depth_order"] if q.format == fmt):
            frame = qa.meta["frames"][0]
            depth = depth_png(small_world_native_dir, frame)
            H, W = depth.shape
            assert qa.meta["objects"] == []
            z, dist, pixels = {}, {}, {}
            for marker in qa.meta["markers"]:
                assert marker["kind"] == "point" and marker["rule"] == "pixel"
                x, y = marker["xy"]
                col, row = int(x / 1000 * W), int(y / 1000 * H)
                assert 6 <= col < W - 6 and 6 <= row < H - 6  # 5 % of the image from its edges
                patch = depth[row - 1:row + 2, col - 1:col + 2]
                assert (patch > 0).all() and np.abs(patch - depth[row, col]).max() <= 0.05 * depth[row, col] + 1e-9
                role = marker["role"]
                z[role] = depth[row, col]
                dist[role] = z[role] * np.linalg.norm(K_inv @ [col + 0.5, row + 0.5, 1.0])
                pixels[role] = np.array([col, row])
                assert f"[{x}, {y}]" in qa.question
            assert np.linalg.norm(pixels["a"] - pixels["b"]) >= 0.15 * np.hypot(W, H)
            for v in (z, dist):
                assert abs(v["a"] - v["b"]) >= 0.15 * min(v.values())
            criterion = truth(qa)["criterion"]
            want = min(dist, key=dist.get) if criterion == "nearer" else max(dist, key=dist.get)
            assert truth(qa)["value"] == want and (z["a"] < z["b"]) == (dist["a"] < dist["b"])
            assert truth(qa)["exact"] == {k: pytest.approx(v, abs=1e-6) for k, v in z.items()}
            if fmt == "fill":
                assert qa.answer == {"a": "Red", "b": "Blue"}[want]
            if fmt == "judge":
                assert qa.answer == ("Yes" if qa.meta["answer"]["claim"] == want else "No")
            nearer = min(dist, key=dist.get)
            balance[(criterion, want)] += 1
            balance[pixels[nearer][1] > pixels[{"a": "b", "b": "a"}[nearer]][1]] += 1  # nearer one lower?
        for criterion in ("nearer", "farther"):  # balanced per (criterion, point, layout): two layouts per point
            assert abs(balance[(criterion, "a")] - balance[(criterion, "b")]) <= 2, (fmt, balance)
        assert balance[True] and abs(balance[True] - balance[False]) <= 2, (fmt, balance)


def test_point_depth_order_fills_a_large_quota_from_few_decoded_frames(small_world_native_dir):
    """Pixel questions come from the few frames whose depth the index keeps; two point pairs in one
    frame are different questions, so a quota far above frames x answers is still met."""
    from qagen.pipeline import catalogue
    from qagen.scene.index import SceneIndex, kept_depth_frames
    from qagen.tasks.context import TaskContext
    from qagen.tasks.engine import sample_facts

    scene = qagen.load(small_world_native_dir)
    spec = catalogue.load().specs["point_depth_order"]
    ctx = TaskContext(scene, SceneIndex.build(scene), spec, np.random.default_rng(2))
    facts = sample_facts(ctx, 40)
    frames = {f.frames for f in facts}
    assert len(facts) == 40 > len(frames) * 2 * 2  # frames x chosen point x criterion
    assert {f for (f,) in frames} <= set(kept_depth_frames(len(scene.frames)).tolist())
    assert len({tuple(m.xy for m in f.markers) for f in facts}) == 40


def test_judge_truths_are_balanced(by_task):
    for task, records in by_task.items():
        truths = [qa.meta["answer"]["value"] for qa in records if qa.format == "judge"]
        assert abs(sum(truths) - len(truths) / 2) <= 0.5, task


def test_object_dimension_scene_without_frames_asks_without_media(small_world, tmp_path):
    """A meta-info-like scene (boxes and labels, no frames): the question has no media and names
    an object whose label is unique in the scene."""
    from qagen.scene.model import Scene, SceneObject

    scene = Scene(id="boxes_only", source="metainfo", root=tmp_path / "boxes_only", frames=[],
                  objects=[SceneObject(o.id, o.label, o.box) for o in small_world.objects])
    records = list(qagen.generate(scene, tasks=["object_dimension_scene"], seed=3))
    labels = Counter(o.label for o in small_world.objects)
    assert len(records) == 24
    for qa in records:
        target = ids(qa)["a"]
        assert qa.media == "none" and qa.images == () and qa.meta["frames"] == []
        assert labels[obj(small_world, target).label] == 1
        s = sizes(obj(small_world, target).box)
        exact = {"longest": max(s.values()), "height": s["taller"], "width": s["wider"]}[truth(qa)["dimension"]] * 100
        assert truth(qa)["value"] == round_step(exact, 1.0)
        assert "video" not in qa.question and "frame" not in qa.question


def test_a_free_criterion_is_steered_to_the_answer_the_balance_lacks(small_world_native_dir):
    """near_far may ask "nearer" or "farther" of any pair: with every key but farther:b already
    counted once, each pair that can give farther:b is asked so that it does."""
    from qagen.pipeline import catalogue
    from qagen.registry import ANSWERS, SAMPLERS
    from qagen.scene.index import SceneIndex
    from qagen.tasks.answers.common import pick_extreme
    from qagen.tasks.context import TaskContext
    from qagen.tasks.engine import Balancer
    from qagen.tasks.fact import Reject

    scene = qagen.load(small_world_native_dir)
    spec = catalogue.load().specs["near_far"]
    ctx = TaskContext(scene, SceneIndex.build(scene), spec, np.random.default_rng(4))
    ctx.balancer = Balancer()
    ctx.balancer.counts.update({"nearer:a": 1, "nearer:b": 1, "farther:a": 1, "farther:b": 0})
    steered = 0
    for _ in range(200):
        try:
            cand = SAMPLERS.get(spec.sampler)(ctx, **spec.sampler_args)
            solved = ANSWERS.get(spec.answer)(ctx, cand, **spec.answer_args)
        except Reject:
            continue
        try:  # asking "farther" of this pair clears the margin and names b
            possible = pick_extreme(ctx, solved.answer.exact, "farther").balance_key == "farther:b"
        except Reject:
            possible = False
        if possible:
            assert solved.balance_key == "farther:b"
            steered += 1
    assert steered >= 20


def test_one_pixels_marker_and_ray_in_python_floats_agree_with_numpy(small_world_scannet_dir):
    """A pixel marker and a pixel's ray length are worked out for one point in Python floats: the
    marker lands where the vectorised mapping of every object marker puts the same point, and the
    distance is numpy's, on a capture whose colour images are larger than its depth grid."""
    from qagen.pipeline import catalogue
    from qagen.scene.loaders import load_scene
    from qagen.tasks import markers
    from qagen.tasks.context import TaskContext
    from qagen.tasks.pixels import pixel_distance

    scene = load_scene(small_world_scannet_dir, loader="scannet")
    assert scene.frames[0].color_size != scene.frames[0].depth_grid()[1]
    ctx = TaskContext(scene, None, catalogue.load().specs["point_depth_order"], np.random.default_rng(0))
    rng = np.random.default_rng(1)
    for _ in range(300):
        pos = int(rng.integers(len(scene.frames)))
        K, (W, H) = scene.frames[pos].depth_grid()
        col, row, depth = int(rng.integers(W)), int(rng.integers(H)), float(rng.uniform(0.3, 8.0))
        centre = np.array([[col + 0.5, row + 0.5]])
        vectorised = markers._to_colour_1000(ctx, np.array([pos]), centre)[0]
        assert markers._pixel_point(ctx, pos, col, row) == tuple(vectorised)
        ray = np.linalg.solve(K, [col + 0.5, row + 0.5, 1.0])
        assert pixel_distance(ctx, pos, depth, col, row) == pytest.approx(depth * np.linalg.norm(ray), rel=1e-12)
