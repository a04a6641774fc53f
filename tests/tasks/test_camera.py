"""Camera tasks against ground truth recomputed here from the synthetic World (poses, K) and the
depth PNGs on disk, with plain numpy: view_change_infer, camera_rotation, camera_motion_infer,
camera_motion_label; and a non-metric copy of a scene on which the scale-free tasks run while the
metric ones are reported as capability gaps."""
from __future__ import annotations

import json
import math
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import qagen
from qagen.cli import app
from qagen.pipeline import catalogue
from qagen.registry import ANSWERS
from qagen.render.kinds.numeric import VECTOR_TYPES
from qagen.scene.index import SceneIndex
from qagen.scene.loaders import load_scene
from qagen.tasks.context import Candidate, TaskContext
from qagen.specs.schema import Margins
from qagen.tasks.fact import Answer, Reject
from support.truth import lower_median, round_step

UP = np.array([0.0, 0.0, 1.0])


def wrap(angle):
    a = (angle + 180.0) % 360.0 - 180.0
    return 180.0 if a == -180.0 else a


def gt_change(world, f1, f2):
    """TASKS.md camera change, written out from the definitions."""
    p1, p2 = world.poses[f1], world.poses[f2]
    forward = p1[:3, 2] * [1, 1, 0]
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, UP)
    move = p2[:3, 3] - p1[:3, 3]
    elevation = [math.degrees(math.asin(p[2, 2])) for p in (p1, p2)]
    heading = [math.degrees(math.atan2(p[1, 2], p[0, 2])) for p in (p1, p2)]
    return {"right_m": move @ right, "up_m": move[2], "forward_m": move @ forward,
            "pitch_deg": elevation[1] - elevation[0], "yaw_deg": wrap(heading[1] - heading[0])}


def truth(qa):
    answer = qa.meta["answer"]
    return answer["fact"] if answer["kind"] == "bool" else answer


@pytest.fixture(scope="module")
def small_records(small_world_native_dir):
    scene = qagen.load(small_world_native_dir)
    tasks = ["view_change_infer", "camera_rotation", "camera_motion_label"]
    out = {t: [] for t in tasks}
    for qa in qagen.generate(scene, tasks=tasks, seed=5):
        out[qa.task].append(qa)
    return out


@pytest.fixture(scope="module")
def walk_records(camera_world_native_dir):
    scene = qagen.load(camera_world_native_dir)
    return list(qagen.generate(scene, tasks=["camera_motion_infer"], seed=2))


def test_view_change_matches_poses(small_records, small_world):
    records = small_records["view_change_infer"]
    assert len(records) == 16
    for qa in records:
        f1, f2 = qa.meta["frames"]
        assert 2 <= abs(f2 - f1) <= 12
        exact = gt_change(small_world, f1, f2)
        for key, value in exact.items():
            assert truth(qa)["exact"][key] == pytest.approx(value, abs=1e-6), key
            step = 0.1 if key.endswith("_m") else 5.0
            want = round_step(value, step)
            assert truth(qa)["value"][key] == (wrap(want) if key == "yaw_deg" else want)
    assert {qa.meta["frames"][0] < qa.meta["frames"][1] for qa in records} == {True, False}  # both orders


def test_view_change_fill_spells_signed_components(small_records):
    qa = next(q for q in small_records["view_change_infer"] if q.format == "fill")
    v = truth(qa)["value"]
    words = [("right", "left", "right_m", "m"), ("up", "down", "up_m", "m"), ("forward", "backward", "forward_m", "m")]
    for positive, negative, key, unit in words:
        text = f"{abs(v[key]):g} {unit} {negative if v[key] < 0 else positive}"
        assert text in qa.answer, (text, qa.answer)
    assert f"yaw {abs(v['yaw_deg']):g}° {'right' if v['yaw_deg'] < 0 else 'left'}" in qa.answer


def test_camera_rotation_matches_poses_and_balances_turns(small_records, small_world):
    records = small_records["camera_rotation"]
    assert records
    for fmt in ("fill", "select", "sentence"):
        turns = Counter()
        for qa in (q for q in records if q.format == fmt):
            f1, f2 = qa.meta["frames"]
            exact = gt_change(small_world, f1, f2)
            assert truth(qa)["exact"]["yaw_deg"] == pytest.approx(exact["yaw_deg"], abs=1e-6)
            assert truth(qa)["exact"]["pitch_deg"] == pytest.approx(exact["pitch_deg"], abs=1e-6)
            assert truth(qa)["value"] == {"yaw_deg": wrap(round_step(exact["yaw_deg"], 5)),
                                          "pitch_deg": round_step(exact["pitch_deg"], 5)}
            yaw = truth(qa)["value"]["yaw_deg"]
            turns["left" if yaw > 0 else "right" if yaw < 0 else "none"] += 1
        assert abs(turns["left"] - turns["right"]) <= 1, (fmt, turns)


def test_camera_rotation_select_distractors_differ_by_the_margin(small_records):
    for qa in (q for q in small_records["camera_rotation"] if q.format == "select"):
        options, value = qa.meta["answer"]["options"], qa.meta["answer"]["value"]
        assert options[ord(qa.answer) - ord("A")] == value
        for i, a in enumerate(options):
            for b in options[i + 1:]:
                assert abs(a["yaw_deg"] - b["yaw_deg"]) >= 10 or abs(a["pitch_deg"] - b["pitch_deg"]) >= 10
            assert -180 < a["yaw_deg"] <= 180


def test_camera_rotation_distractors_are_other_frame_pairs_true_rotations(small_records, small_world):
    """Select distractors are the rotations of other frame pairs of the capture (as plausible as
    the truth), whenever enough of them differ from it by the margin."""
    n = len(small_world.poses)
    rotations = [{"yaw_deg": wrap(round_step(c["yaw_deg"], 5)), "pitch_deg": round_step(c["pitch_deg"], 5)}
                 for c in (gt_change(small_world, f1, f2) for f1 in range(n) for f2 in range(n) if f1 != f2)]
    from_pairs = 0
    for qa in (q for q in small_records["camera_rotation"] if q.format == "select"):
        answer = qa.meta["answer"]
        distractors = [o for o in answer["options"] if o != answer["value"]]
        assert all(a in rotations for a in answer["alternatives"])
        from_pairs += all(d in answer["alternatives"] for d in distractors)
    assert from_pairs >= 4


def test_camera_motion_infer_projects_the_second_centre(walk_records, camera_world):
    K, W, H = camera_world.K, camera_world.width, camera_world.height
    assert len(walk_records) >= 12
    for qa in walk_records:
        f1, f2 = qa.meta["frames"]
        p1 = camera_world.poses[f1]
        cam = p1[:3, :3].T @ (camera_world.poses[f2][:3, 3] - p1[:3, 3])
        u, v = (K @ cam)[:2] / cam[2]
        exact = truth(qa)["exact"]
        assert exact["depth_m"] == pytest.approx(cam[2], abs=1e-6) and cam[2] >= 0.15
        assert exact["x"] == pytest.approx(u / W * 1000, abs=1e-6)
        assert exact["y"] == pytest.approx(v / H * 1000, abs=1e-6)
        assert 0 <= u <= W and 0 <= v <= H
        want = {"x": round(u / W * 1000), "y": round(v / H * 1000), "depth_m": round_step(cam[2], 0.1)}
        assert truth(qa)["value"] == want


def test_camera_motion_infer_renders_every_paraphrase_on_the_walk(camera_world_native_dir):
    """The 10-frame small world never sees one camera from another, so the shared template test
    cannot render this task there: every paraphrase is rendered here on the long walk instead."""
    from qagen.pipeline.seeds import stream
    from qagen.render.renderer import Renderer
    from qagen.tasks.engine import sample_facts

    scene = load_scene(camera_world_native_dir, loader="native")
    index, cat = SceneIndex.build(scene), catalogue.load()
    spec = cat.specs["camera_motion_infer"]
    renderer = Renderer(spec, cat.templates[spec.name], scene)
    for fmt in spec.formats:
        seed, rng = stream(0, scene.id, spec.name, fmt)
        facts = sample_facts(TaskContext(scene, index, spec, rng), 2)
        assert facts, fmt
        for i, template in enumerate(cat.templates[spec.name][fmt]):
            qa = renderer.render(facts[0], fmt, 0, rng, seed, template_index=i)
            assert qa.meta["template"] == template.id and qa.question and qa.answer
            assert "{{" not in qa.question + qa.answer and "  " not in qa.question
            assert truth(qa)["value"] == facts[0].answer.value


def test_camera_motion_infer_rejects_exactly_the_pairs_out_of_view(camera_world_native_dir, camera_world):
    scene = load_scene(camera_world_native_dir, loader="native")
    ctx = TaskContext(scene, SceneIndex.build(scene), catalogue.load().specs["camera_motion_infer"],
                      np.random.default_rng(0))
    answer = ANSWERS.get("camera_centre_projection")
    K, W, H = camera_world.K, camera_world.width, camera_world.height
    reasons = Counter()
    for i in range(len(scene.frames)):
        for j in range(len(scene.frames)):
            if i == j:
                continue
            cam = camera_world.poses[i][:3, :3].T @ (camera_world.poses[j][:3, 3] - camera_world.poses[i][:3, 3])
            u, v = (K @ cam)[:2] / cam[2]
            if cam[2] <= 0:
                expected = "camera_2_behind_camera_1"
            elif cam[2] < 0.15:
                expected = "camera_2_too_close"
            elif not (0 <= u <= W and 0 <= v <= H):
                expected = "camera_2_outside_image_1"
            else:
                expected = None
            try:
                answer(ctx, Candidate((i, j), ()))
                got = None
            except Reject as rej:
                got = rej.reason
            assert got == expected, (i, j)
            reasons[got] += 1
    assert reasons[None] > 20 and reasons["camera_2_behind_camera_1"] > 20 and reasons["camera_2_outside_image_1"] > 20


def test_camera_motion_infer_draws_among_exactly_the_pairs_in_view(camera_world_native_dir, camera_world):
    """second_in_view: the sampler's table holds exactly the ordered pairs sharing a visible object
    whose second camera is in front of the first (by the 0.15 m margin) and inside its image, from
    the world's poses; so the answer never turns a drawn pair away."""
    from qagen.registry import SAMPLERS

    scene = load_scene(camera_world_native_dir, loader="native")
    spec = catalogue.load().specs["camera_motion_infer"]
    ctx = TaskContext(scene, SceneIndex.build(scene), spec, np.random.default_rng(0))
    K, W, H = camera_world.K, camera_world.width, camera_world.height
    expected = set()
    for i in range(len(scene.frames)):
        for j in range(len(scene.frames)):
            cam = camera_world.poses[i][:3, :3].T @ (camera_world.poses[j][:3, 3] - camera_world.poses[i][:3, 3])
            shared = np.intersect1d(ctx.visible_objects(i), ctx.visible_objects(j)).size
            if i != j and shared and cam[2] >= 0.15:
                u, v = (K @ cam)[:2] / cam[2]
                if 0 <= u <= W and 0 <= v <= H:
                    expected.add((i, j))
    sampler, answer = SAMPLERS.get(spec.sampler), ANSWERS.get(spec.answer)
    drawn = {sampler(ctx, **spec.sampler_args).frames for _ in range(400)}
    pairs, _ = ctx.cache[("camera_pairs", 1, 100000, 1, True)]
    assert {tuple(p) for p in pairs.tolist()} == expected and len(expected) > 20
    assert drawn <= expected and len(drawn) > len(expected) / 2
    for frames in drawn:
        answer(ctx, Candidate(frames, ()))  # raises Reject if the pair were out of view


def rotation(axis, degrees):
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    i, j = [k for k in range(3) if k != axis]
    out = np.eye(3)
    out[i, i], out[i, j], out[j, i], out[j, j] = c, -s, s, c
    return out if axis != 1 else out.T  # about y the sine signs swap (right-handed)


def label_limits(scale):
    """The documented thresholds: 10 % of the scene scale for moves, 5 deg pan/tilt, 10 deg roll."""
    return {"dolly": 0.1 * scale, "truck": 0.1 * scale, "pedestal": 0.1 * scale, "pan": 5.0, "tilt": 5.0, "roll": 10.0}


def gt_labels(components, scale):
    """SpatialVID labels from FORMATS.md section 5 with the documented thresholds; None if ambiguous."""
    words = {"dolly": ("Dolly In", "Dolly Out"), "truck": ("Truck Right", "Truck Left"),
             "pedestal": ("Pedestal Down", "Pedestal Up"), "pan": ("Pan Left", "Pan Right"),
             "tilt": ("Tilt Down", "Tilt Up"), "roll": ("Roll CCW", "Roll CW")}
    limits = label_limits(scale)
    labels = []
    for name, (pos, neg) in words.items():
        ratio = abs(components[name]) / limits[name]
        if 0.6 <= ratio < 1.0:
            return None
        if ratio >= 1.0:
            labels.append(pos if components[name] > 0 else neg)
    return labels or ["Stay"]


def test_camera_motion_labels_follow_formats_section_5(small_records, small_world, small_world_native_dir):
    records = small_records["camera_motion_label"]
    assert len(records) == 32
    for qa in records:
        frames = qa.meta["frames"]
        assert 2 <= abs(frames[-1] - frames[0]) <= 6 and len(frames) <= 4
        assert frames == sorted(frames) or frames == sorted(frames, reverse=True)
        p1, p2 = small_world.poses[frames[0]], small_world.poses[frames[-1]]
        w2c_1, w2c_2 = p1[:3, :3].T, p2[:3, :3].T
        x, y, z = w2c_1 @ (p2[:3, 3] - p1[:3, 3])
        exact = truth(qa)["exact"]
        assert (exact["truck"], exact["pedestal"], exact["dolly"]) == (
            pytest.approx(x, abs=1e-9), pytest.approx(y, abs=1e-9), pytest.approx(z, abs=1e-9))
        # the reported angles rebuild R2 R1^T as Rz(roll) Rx(pitch) Ry(yaw) (extrinsic y-x-z)
        rebuilt = rotation(2, exact["roll"]) @ rotation(0, exact["tilt"]) @ rotation(1, exact["pan"])
        np.testing.assert_allclose(rebuilt, w2c_2 @ w2c_1.T, atol=1e-9)
        assert abs(exact["tilt"]) < 90
        depth = np.asarray(Image.open(small_world_native_dir / "depth" / f"{frames[0]:06d}.png")).astype(float) / 1000
        scale = lower_median(depth[depth > 0])
        assert truth(qa)["scale"] == pytest.approx(scale, rel=1e-6)
        assert truth(qa)["value"] == gt_labels(exact, scale)
        if qa.format == "fill":
            assert qa.answer == ", ".join(truth(qa)["value"])
        if qa.format == "judge":
            assert qa.answer == ("Yes" if qa.meta["answer"]["claim"] == truth(qa)["value"] else "No")


def test_every_clip_pair_of_a_lifted_scene_gets_its_ground_truth_labels(small_world, small_world_native_dir):
    """The answer reads a lifted scene's clip motions from one table of every frame pair within the
    clip gaps (ClipMotions): each pair, either way, against the poses and depth maps; pairs the
    table does not hold are computed one by one, alike."""
    scene = load_scene(small_world_native_dir, loader="native")
    ctx = TaskContext(scene, SceneIndex.build(scene), catalogue.load().specs["camera_motion_label"],
                      np.random.default_rng(0))
    answer = ANSWERS.get("motion_labels")
    n, checked, labels = len(scene.frames), 0, Counter()
    for first in range(n):
        depth = np.asarray(Image.open(small_world_native_dir / "depth" / f"{first:06d}.png")).astype(float) / 1000
        scale = lower_median(depth[depth > 0])
        for last in range(n):
            if not 1 <= abs(last - first) <= 10:
                continue
            p1, p2 = small_world.poses[first], small_world.poses[last]
            x, y, z = p1[:3, :3].T @ (p2[:3, 3] - p1[:3, 3])
            rel = p2[:3, :3].T @ p1[:3, :3]
            components = {"dolly": z, "truck": x, "pedestal": y,
                          "pan": math.degrees(math.atan2(-rel[2, 0], rel[2, 2])),
                          "tilt": math.degrees(math.asin(rel[2, 1])),
                          "roll": math.degrees(math.atan2(-rel[0, 1], rel[1, 1]))}
            expected = gt_labels(components, scale)
            try:
                got = answer(ctx, Candidate((first, last), (), media="video")).answer.value
            except Reject as rej:
                got = None if rej.reason == "motion_near_threshold" else rej.reason
            assert got == expected, (first, last)
            checked += 1
            labels[tuple(got or ())] += 1
    assert n > 9 and checked == sum(2 * (n - gap) for gap in range(1, min(10, n - 1) + 1))  # gaps beyond the table's 8
    assert len(labels) > 5


def test_rotation_helper_matches_the_convention():
    # Ry(90) turns camera z (forward) to camera +x: the same sign as Ry in FORMATS' Euler angles
    np.testing.assert_allclose(rotation(1, 90) @ [0, 0, 1], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(rotation(2, 90) @ [1, 0, 0], [0, 1, 0], atol=1e-12)


def test_camera_motion_labels_are_not_dominated_by_one_label(small_records):
    for fmt in ("fill", "select", "sentence", "judge"):
        primary = Counter()
        for qa in (q for q in small_records["camera_motion_label"] if q.format == fmt):
            exact, scale = truth(qa)["exact"], truth(qa)["scale"]
            limits = label_limits(scale)
            top = max(limits, key=lambda k: abs(exact[k]) / limits[k])
            primary[(top, exact[top] > 0)] += 1  # the largest motion and its direction: one label
        assert len(primary) >= 2 and max(primary.values()) - min(primary.values()) <= 1, (fmt, primary)
    for qa in (q for q in small_records["camera_motion_label"] if q.format == "select"):
        options = qa.meta["answer"]["options"]
        assert len({tuple(o) for o in options}) == 4 and options[ord(qa.answer) - ord("A")] == truth(qa)["value"]


# ------------------------------------------------------------------------------------------------
# Non-metric scenes

SCALE = 1.7


def write_non_metric_copy(scene_dir: Path, target: Path) -> Path:
    """The scene with every length multiplied by SCALE (poses, boxes, room, depth) and metric false."""
    shutil.copytree(scene_dir, target)
    meta = json.loads((target / "scene.json").read_text())
    meta["metric"] = False
    for obj in meta["objects"]:
        obj["box"]["center"] = [v * SCALE for v in obj["box"]["center"]]
        obj["box"]["size"] = [v * SCALE for v in obj["box"]["size"]]
    meta["room"]["floor_polygon"] = [[x * SCALE, y * SCALE] for x, y in meta["room"]["floor_polygon"]]
    meta["room"]["height"] *= SCALE
    (target / "scene.json").write_text(json.dumps(meta))
    for pose_file in (target / "pose").iterdir():
        pose = np.loadtxt(pose_file)
        pose[:3, 3] *= SCALE
        np.savetxt(pose_file, pose, fmt="%.17g")
    for depth_file in (target / "depth").iterdir():
        depth = np.asarray(Image.open(depth_file)).astype(float)
        Image.fromarray(np.rint(depth * SCALE).astype(np.uint16)).save(depth_file)
    return target


def test_non_metric_scene_runs_scale_free_tasks_and_reports_metric_ones(small_world_native_dir, tmp_path):
    scene_dir = write_non_metric_copy(small_world_native_dir, tmp_path / "data" / small_world_native_dir.name)
    out = tmp_path / "out"
    tasks = "camera_motion_label,point_depth_order,view_change_infer,near_far,object_dimension"
    result = CliRunner().invoke(app, ["generate", "--data", str(scene_dir.parent), "--tasks", tasks, "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    scene_id = json.loads((scene_dir / "scene.json").read_text())["id"]
    assert manifest["capability_gaps"] == {scene_id: {t: ["metric"] for t in ("near_far", "object_dimension",
                                                                             "view_change_infer")}}
    for task in ("camera_motion_label", "point_depth_order"):
        assert sum(sum(v.values()) for v in manifest["counts"][task].values()) > 0, task

    # same seeds, same candidates: the scale-free answers do not change with the scale
    tasks = ["camera_motion_label", "point_depth_order"]
    metric = list(qagen.generate(qagen.load(small_world_native_dir), tasks=tasks, seed=9))
    scaled = list(qagen.generate(qagen.load(scene_dir), tasks=tasks, seed=9))
    assert len(metric) == len(scaled) > 20
    for a, b in zip(metric, scaled):
        assert (a.id, a.meta["frames"], a.meta["markers"]) == (b.id, b.meta["frames"], b.meta["markers"])
        assert a.answer == b.answer
        assert truth(a)["value"] == truth(b)["value"]


# ------------------------------------------------------------------------------------------------
# Select distractors and judge claims of the camera answer kinds

VECTOR_CASES = {
    "camera_motion": ({"right_m": 0.4, "up_m": 0.0, "forward_m": -0.2, "pitch_deg": 0.0, "yaw_deg": 175.0},
                      {"right_m": 0.15, "up_m": 0.15, "forward_m": 0.15, "pitch_deg": 10, "yaw_deg": 10}),
    "camera_rotation": ({"yaw_deg": -30.0, "pitch_deg": 5.0}, {"yaw_deg": 10, "pitch_deg": 10}),
    "camera_projection": ({"x": 985, "y": 20, "depth_m": 1.5}, {"x": 100, "y": 100, "depth_m": 0.15}),
}


def separated(a, b, tolerance):
    return any(abs(a[k] - b[k]) >= t - 1e-9 for k, t in tolerance.items())


@pytest.mark.parametrize("name", sorted(VECTOR_CASES))
def test_vector_distractors_keep_the_margin_and_the_ranges(name):
    truth, tolerance = VECTOR_CASES[name]
    kind, rng = VECTOR_TYPES.get(name)(), np.random.default_rng(3)
    for rank in range(4):
        options, at = kind.options(Answer("vector", truth), None, 4, rank, rng, Margins())
        assert at == rank and options[rank] == truth
        for i, a in enumerate(options):
            assert set(a) == set(truth)
            assert -180 < a.get("yaw_deg", 0) <= 180 and -90 <= a.get("pitch_deg", 0) <= 90
            assert 0 <= a.get("x", 0) <= 1000 and 0 <= a.get("y", 0) <= 1000 and a.get("depth_m", 1) >= 0.1
            for b in options[i + 1:]:
                assert separated(a, b, tolerance), (a, b)
        claim = kind.false_claim(Answer("vector", truth), None, rng, Margins())
        assert separated(claim, truth, tolerance)


def test_vector_options_do_not_reveal_the_truth_by_being_central():
    """A blind guess -- the option closest to the component-wise median of the four -- is no
    better than chance: distractors are not spread around the truth."""
    rng, hits, trials = np.random.default_rng(5), 0, 600
    kind = VECTOR_TYPES.get("camera_motion")()
    truth, tolerance = VECTOR_CASES["camera_motion"]
    for _ in range(trials):
        options, at = kind.options(Answer("vector", truth), None, 4, int(rng.integers(4)), rng, Margins())
        median = {k: np.median([o[k] for o in options]) for k in truth}
        spread = [sum(abs(o[k] - median[k]) / tolerance[k] for k in truth) for o in options]
        hits += int(np.argmin(spread) == at)
    assert hits / trials < 0.40  # chance is 0.25; truth-centred distractors score near 1


def test_motion_label_distractors_are_other_clips_of_the_scene(small_records, small_world, small_world_native_dir):
    """Select options and false claims are label lists of other clips (drawn like the truth):
    each is a valid call for some pair of frames 2-6 apart, and none equals the truth."""
    possible = set()
    frames = range(len(small_world.poses))
    for f1 in frames:
        for f2 in frames:
            if 2 <= abs(f2 - f1) <= 6:
                p1, p2 = small_world.poses[f1], small_world.poses[f2]
                w2c_1, w2c_2 = p1[:3, :3].T, p2[:3, :3].T
                x, y, z = w2c_1 @ (p2[:3, 3] - p1[:3, 3])
                R = w2c_2 @ w2c_1.T
                angles = {"pan": math.degrees(math.atan2(-R[2, 0], R[2, 2])), "tilt": math.degrees(math.asin(R[2, 1])),
                          "roll": math.degrees(math.atan2(-R[0, 1], R[1, 1]))}
                depth = np.asarray(Image.open(small_world_native_dir / "depth" / f"{f1:06d}.png")).astype(float) / 1000
                scale = lower_median(depth[depth > 0])
                labels = gt_labels({"dolly": z, "truck": x, "pedestal": y, **angles}, scale)
                if labels is not None:
                    possible.add(tuple(labels))
    for qa in small_records["camera_motion_label"]:
        value = truth(qa)["value"]
        others = truth(qa)["distractor_labels"]
        assert len(others) >= 3 and value not in others and len({tuple(o) for o in others}) == len(others)
        assert {tuple(o) for o in others} <= possible
        if qa.format == "select":
            options = qa.meta["answer"]["options"]
            assert options[ord(qa.answer) - ord("A")] == value and len({tuple(o) for o in options}) == 4
        if qa.format == "judge":
            claim = truth(qa)["false_claim_labels"]
            assert claim != value and tuple(claim) in possible
            if qa.answer == "No":
                assert qa.meta["answer"]["claim"] == claim


def test_long_captures_draw_sharing_pairs_by_rejection(small_world_native_dir, monkeypatch):
    """Above PAIR_TABLE_LIMIT candidate pairs (the table grows with the square of the capture)
    camera_pair draws and rejects; the pairs still share a visible object."""
    from qagen.tasks.engine import sample_facts
    from qagen.tasks.samplers import camera

    monkeypatch.setattr(camera, "PAIR_TABLE_LIMIT", 0)
    scene = load_scene(small_world_native_dir)
    spec = catalogue.load().specs["camera_rotation"]
    ctx = TaskContext(scene, SceneIndex.build(scene), spec, np.random.default_rng(3))
    facts = sample_facts(ctx, 6)
    assert len(facts) == 6 and ctx.cache[("camera_pairs", 2, 12, 1, False)] is None
    for fact in facts:
        first, second = fact.frames
        assert np.intersect1d(ctx.visible_objects(first), ctx.visible_objects(second)).size >= 1


def _with_clip_label_pool(pool: list, odds: np.ndarray, seed: int):
    """A context whose task already holds `pool` with `odds` as its clip-label pool, and the
    thresholds it is kept under."""
    from qagen.geometry.camera_motion import MotionThresholds

    limits = MotionThresholds()
    ctx = TaskContext(scene=None, index=None, spec=None, rng=np.random.default_rng(seed))
    ctx.cache[("clip_label_pool", limits)] = pool, odds
    return ctx, limits


def test_motion_label_distractors_are_exchangeable_with_the_truth():
    """The truth is drawn from the clip-label pool and the three distractors come from the same
    pool: among the four options the truth is the commonest list one time in four, as often as
    any other place (drawing them one by one, skipping repeats, made it the commonest 3 times in 10)."""
    from qagen.tasks.answers.camera import _other_clip_labels

    pool = [["Dolly In"], ["Pan Left"], ["Pan Right"], ["Truck Left"], ["Dolly In", "Pan Left"], ["Stay"], ["Tilt Up"]]
    odds = np.array([0.24, 0.2, 0.16, 0.14, 0.12, 0.08, 0.06])
    ctx, limits = _with_clip_label_pool(pool, odds, seed=9)
    truths = np.random.default_rng(10).choice(len(pool), size=6000, p=odds)
    rank_of_truth = Counter()
    for t in truths:
        others = _other_clip_labels(ctx, pool[t], limits, 3)
        assert len(others) == 3 and pool[t] not in others and len({tuple(o) for o in others}) == 3
        shown = [pool.index(o) for o in others] + [int(t)]
        rank_of_truth[sorted(shown, key=lambda i: -odds[i]).index(int(t))] += 1
    assert all(abs(n / len(truths) - 0.25) < 0.025 for n in rank_of_truth.values()), rank_of_truth


def test_motion_label_false_claims_are_as_common_as_truths():
    """A judge claim must not be likelier true for naming a common motion: false claims (drawn
    from a two-list design with the truth) follow the truths' odds, here with one list at 0.35,
    more than a four-option design can give its share (picking one of the select distractors
    showed it as a false claim 0.22 of the time, so a claim of it was true 61 % of the time)."""
    from qagen.tasks.answers.camera import _other_clip_labels

    pool = [["Truck Left", "Pan Right"], ["Truck Right", "Pan Left"], ["Dolly In"], ["Truck Left"], ["Pan Left"]]
    odds = np.array([0.35, 0.25, 0.2, 0.12, 0.08])
    ctx, limits = _with_clip_label_pool(pool, odds, seed=4)
    truths = np.random.default_rng(5).choice(len(pool), size=8000, p=odds)
    claims = Counter()
    for t in truths:
        claim, = _other_clip_labels(ctx, pool[t], limits, 1)
        assert claim != pool[t]
        claims[pool.index(claim)] += 1
    shares = np.array([claims[i] for i in range(len(pool))]) / len(truths)
    assert np.abs(shares - odds).max() < 0.015, shares


def test_balanced_odds_give_every_balance_key_an_equal_share():
    from qagen.tasks.answers.camera import balanced_odds

    counts = Counter({(("Truck Left", "Pan Right"), "Truck Left"): 6, (("Truck Left",), "Truck Left"): 2,
                      (("Truck Left", "Pan Right"), "Pan Right"): 1, (("Dolly In",), "Dolly In"): 3})
    odds = balanced_odds(counts)
    third = 1 / 3
    assert odds == pytest.approx({("Truck Left", "Pan Right"): third * 6 / 8 + third, ("Truck Left",): third * 2 / 8,
                                  ("Dolly In",): third})


def test_motion_label_answers_declare_the_lists_their_format_shows(small_world_native_dir):
    """The balancer's label odds get exactly what a question shows: a select's four options, a
    judge's truth and false claim; nothing for formats that show no list."""
    from qagen.registry import SAMPLERS

    scene = load_scene(small_world_native_dir)
    index = SceneIndex.build(scene)
    spec = catalogue.load().specs["camera_motion_label"]
    sampler, answer = SAMPLERS.get(spec.sampler), ANSWERS.get(spec.answer)
    for fmt in ("select", "judge", "fill"):
        ctx = TaskContext(scene, index, spec, np.random.default_rng(2), format=fmt)
        solved = []
        for _ in range(300):
            try:
                solved.append(answer(ctx, sampler(ctx, **spec.sampler_args), **spec.answer_args))
            except Reject:
                continue
        assert len(solved) >= 10
        for s in solved:
            truth = ", ".join(s.answer.value)
            if fmt == "fill":
                assert s.label_odds is None
                continue
            shown = s.answer.extra["distractor_labels"] if fmt == "select" else [s.answer.extra["false_claim_labels"]]
            assert s.label_odds == ("motion", truth, (truth, *(", ".join(o) for o in shown)))
            assert len(s.label_odds[2]) == (4 if fmt == "select" else 2)
