"""Camera answers: how the camera moved between two views (TASKS.md "Camera change"), where the
second camera appears in the first image, and SpatialVID's motion labels."""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Callable

import numpy as np

from qagen.geometry.camera_motion import (
    LABEL_WORDS, MotionCall, MotionThresholds, change_between, motion_calls, motion_components,
    motion_components_many, motion_labels, wrap_degrees,
)
from qagen.geometry.relations import round_to
from qagen.geometry.projection import world_to_camera
from qagen.geometry.viewer import camera_centre
from qagen.registry import ANSWERS, SAMPLERS
from qagen.tasks.answers.common import M_STEP, frame_view
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.engine import Solved
from qagen.tasks.exchangeable import ExchangeablePool
from qagen.tasks.fact import Answer, Reject
from qagen.tasks.pixels import median_depth
from qagen.tasks.samplers.camera import CLIP_GAPS, frame_pair

DEG_STEP = 5.0
CLIP_TABLE_LIMIT = 400_000  # frame pairs up to which ClipMotions tables a scene's clip motions
CLIP_POOL = 200  # clips whose labels stand for the scene's distribution of clip labels
ANSWER_POOL = 60  # other candidates whose answers stand for the task's distribution of answers
ALTERNATIVES = 12  # of them kept with an answer, for its distractors


def _change(ctx: TaskContext, cand: Candidate) -> dict[str, float]:
    try:
        return change_between(frame_view(ctx, cand.frames[0]), frame_view(ctx, cand.frames[1]))
    except ValueError:
        raise Reject("camera_looks_straight_up_or_down") from None


def _degrees(value: float, yaw: bool) -> float:
    rounded = round_to(value, DEG_STEP)
    return wrap_degrees(rounded) if yaw else rounded


def with_alternatives(ctx: TaskContext, solved: Solved, compute: Callable[[Candidate], Solved]) -> Solved:
    """The answer, with the values of other candidates of the task (drawn as its sampler draws
    them, ANSWER_POOL once per task) in extra["alternatives"], ALTERNATIVES at most: select
    distractors and false claims taken from them are as plausible as the truth, where perturbed
    values (a 20° pitch change in a walk that hardly tilts) gave the truth away."""
    ctx.require_wanted(solved)
    if "answer_pool" not in ctx.cache:
        draws, sampler, pool = ctx.task_draws(), SAMPLERS.get(ctx.spec.sampler), []
        for _ in range(ANSWER_POOL):
            try:
                pool.append(compute(sampler(draws, **ctx.spec.sampler_args)).answer.value)
            except Reject:
                continue
        ctx.cache["answer_pool"] = pool
    pool, truth, others = ctx.cache["answer_pool"], solved.answer.value, []
    for i in ctx.rng.permutation(len(pool)).tolist():
        if pool[i] != truth:
            others.append(pool[i])
            if len(others) == ALTERNATIVES:
                break
    return replace(solved, answer=replace(solved.answer, extra={**solved.answer.extra, "alternatives": others}))


@ANSWERS.register("view_change")
def view_change(ctx: TaskContext, cand: Candidate) -> Solved:
    """Translation (right, up, forward; m) of camera 2 in camera 1's viewer frame, pitch and yaw (deg)."""
    return with_alternatives(ctx, _view_change(ctx, cand), lambda other: _view_change(ctx, other))


@ANSWERS.register("camera_rotation")
def camera_rotation(ctx: TaskContext, cand: Candidate) -> Solved:
    """Yaw (+ left) and pitch (+ up) change from image 1 to image 2, in degrees rounded to 5."""
    return with_alternatives(ctx, _rotation(ctx, cand), lambda other: _rotation(ctx, other))


@ANSWERS.register("camera_centre_projection")
def camera_centre_projection(ctx: TaskContext, cand: Candidate) -> Solved:
    """Where camera 2's centre projects in image 1 (0-1000) and its depth in camera 1 (m)."""
    return with_alternatives(ctx, _projection(ctx, cand), lambda other: _projection(ctx, other))


def _view_change(ctx: TaskContext, cand: Candidate) -> Solved:
    exact = _change(ctx, cand)
    value = {k: round_to(v, M_STEP) if k.endswith("_m") else _degrees(v, k == "yaw_deg") for k, v in exact.items()}
    return Solved(Answer("vector", value, exact=exact, extra={"vector": "camera_motion"}))


def _rotation(ctx: TaskContext, cand: Candidate) -> Solved:
    change = _change(ctx, cand)
    exact = {"yaw_deg": change["yaw_deg"], "pitch_deg": change["pitch_deg"]}
    value = {k: _degrees(v, k == "yaw_deg") for k, v in exact.items()}
    turn = "left" if value["yaw_deg"] > 0 else "right" if value["yaw_deg"] < 0 else None
    return Solved(Answer("vector", value, exact=exact, unit="deg", extra={"vector": "camera_rotation"}),
                  balance_key=turn, balance_values=("left", "right"))


def _projection(ctx: TaskContext, cand: Candidate) -> Solved:
    first = ctx.scene.frames[cand.frames[0]]
    x, y, z = world_to_camera(camera_centre(ctx.c2w(cand.frames[1]))[None], first.c2w)[0]
    if z <= 0:
        raise Reject("camera_2_behind_camera_1")
    if z < ctx.spec.margins.length_abs_m:
        raise Reject("camera_2_too_close")  # a tiny depth makes the image position ill-conditioned
    u, v, w = first.K_color @ np.array([x, y, z])
    W, H = first.color_size
    px, py = u / w / W * 1000.0, v / w / H * 1000.0
    if not (0.0 <= px <= 1000.0 and 0.0 <= py <= 1000.0):
        raise Reject("camera_2_outside_image_1")
    exact = {"x": float(px), "y": float(py), "depth_m": float(z)}
    value = {"x": int(round(px)), "y": int(round(py)), "depth_m": round_to(z, M_STEP)}
    return Solved(Answer("vector", value, exact=exact, extra={"vector": "camera_projection"}))


def _labels_between(ctx: TaskContext, first: int, last: int,
                    thresholds: MotionThresholds) -> tuple[dict[str, float], float, MotionCall]:
    """Motion components from frame `first` to `last`, the scene scale seen from `first`, the call
    (memoised per scene: clips of every format come back to the same few hundred frame pairs,
    whose components and calls a lifted scene computes all at once, ClipMotions)."""

    def compute() -> tuple[dict[str, float], float, MotionCall]:
        table = _clip_motions(ctx, thresholds)
        found = table.get(first, last) if table is not None else None
        if found is not None:
            return found
        components = motion_components(ctx.c2w(first), ctx.c2w(last))
        scale = median_depth(ctx, first)
        return components, scale, motion_labels(components, scale, thresholds)

    return ctx.per_scene("motion_labels", (first, last, thresholds), compute)


class ClipMotions:
    """The motions between every two frames at most `gaps` apart, either way, of a scene whose
    frames' median depths were taken when it was lifted: components, scales and calls in arrays,
    spelled for one pair on request. Row of a pair: gap g's block, then the later-first half."""

    def __init__(self, ctx: TaskContext, gaps: int, thresholds: MotionThresholds):
        n = len(ctx.scene.frames)
        c2w = np.stack([frame.c2w for frame in ctx.scene.frames]).astype(float)
        scales = np.asarray(ctx.index.frame_depth_median, dtype=float)
        self.n, self.gaps = n, min(gaps, n - 1)
        starts, lasts, self.offsets, row = [], [], {}, 0
        for gap in range(1, self.gaps + 1):
            early = np.arange(n - gap)
            starts += [early, early + gap]
            lasts += [early + gap, early]
            self.offsets[gap] = row
            row += 2 * (n - gap)
        first, last = (np.concatenate(a) if a else np.zeros(0, int) for a in (starts, lasts))
        components = motion_components_many(c2w[first], c2w[last])
        valid = np.isfinite(scales[first]) & (scales[first] > 0)
        self.valid = valid.tolist()
        self.components = {name: values.tolist() for name, values in components.items()}
        self.scales = scales[first].tolist()
        # rows without a valid scale are called at scale 1 and never spelled (get rejects them)
        self.calls = motion_calls(components, np.where(valid, scales[first], 1.0), thresholds)

    def get(self, first: int, last: int) -> tuple[dict[str, float], float, MotionCall] | None:
        """The pair's components, scale and call; None for a pair outside the table. Rejects a
        first frame without valid depth, as median_depth does."""
        gap = abs(last - first)
        if not 1 <= gap <= self.gaps or not (0 <= min(first, last) and max(first, last) < self.n):
            return None
        row = self.offsets[gap] + (0 if first < last else self.n - gap) + min(first, last)
        if not self.valid[row]:
            raise Reject("no_valid_depth")
        components = {name: values[row] for name, values in self.components.items()}
        return components, self.scales[row], self.calls.call(row)


def _clip_motions(ctx: TaskContext, thresholds: MotionThresholds) -> ClipMotions | None:
    """The scene's ClipMotions up to the task's largest clip gap (per scene and thresholds); None
    for a scene that was not lifted (its median depths are read frame by frame, when asked) or
    with more than CLIP_TABLE_LIMIT such pairs."""
    if ctx.index is None or ctx.index.frame_depth_median is None:
        return None
    gaps = max(CLIP_GAPS["max_gap"], int(ctx.spec.sampler_args.get("max_gap", 0)))
    if 2 * gaps * len(ctx.scene.frames) > CLIP_TABLE_LIMIT:
        return None
    return ctx.per_scene("clip_motions", (gaps, thresholds), lambda: ClipMotions(ctx, gaps, thresholds))


def _clip_label_pool(ctx: TaskContext, thresholds: MotionThresholds) -> tuple[list[list[str]], np.ndarray]:
    """The unambiguous label lists of CLIP_POOL clips drawn as the sampler draws them, distinct,
    with their odds among the task's answers (drawn once per task). The answers are balanced on
    the primary label, so the odds are too (balanced_odds). Odds that follow the raw draws would
    leave the lists of a rare primary label likelier as a distractor or false claim than as the
    truth, which a text-only model learns."""
    key = ("clip_label_pool", thresholds)
    if key not in ctx.cache:
        draws = ctx.task_draws()
        gaps = {k: v for k, v in ctx.spec.sampler_args.items() if k in ("min_gap", "max_gap")}
        counts: Counter = Counter()  # (labels, primary label) -> clips
        for _ in range(CLIP_POOL):
            try:
                call = _labels_between(draws, *frame_pair(draws, **{**CLIP_GAPS, **gaps}), thresholds)[2]
            except Reject:
                continue
            if not call.ambiguous:
                counts[call.labels, call.primary] += 1
        odds = balanced_odds(counts)
        ctx.cache[key] = [list(labels) for labels in odds], np.array(list(odds.values()), dtype=float)
    return ctx.cache[key]


def balanced_odds(counts: Counter) -> dict:
    """(answer, balance key) -> times drawn  =>  answer -> its share once every key seen is made
    equally often (what the balancer does): 1 / keys for each key, split as its draws were."""
    per_key: Counter = Counter()
    for (_, key), n in counts.items():
        per_key[key] += n
    odds: dict = {}
    for (answer, key), n in counts.items():
        odds[answer] = odds.get(answer, 0.0) + n / per_key[key] / len(per_key)
    return odds


def _other_clip_labels(ctx: TaskContext, truth: list[str], thresholds: MotionThresholds, needed: int) -> list[list[str]]:
    """`needed` label lists other than the truth from the scene's clip-label pool, drawn so that the
    truth and they are exchangeable (qagen.tasks.exchangeable, a design of needed + 1 lists): a
    text-only model cannot tell the truth by its being the commonest motion shown, nor a judge
    claim (needed = 1) true by its being a common one. Fewer when the pool has fewer."""
    pool, odds = _clip_label_pool(ctx, thresholds)
    if not pool or needed <= 0:
        return []
    key = ("clip_label_design", thresholds, needed + 1)
    if key not in ctx.cache:
        ctx.cache[key] = ExchangeablePool(odds, needed + 1)
    truth_index = pool.index(truth) if truth in pool else None
    return [pool[i] for i in ctx.cache[key].others(truth_index, ctx.rng)]


@ANSWERS.register("motion_labels")
def motion_labels_answer(ctx: TaskContext, cand: Candidate, **thresholds) -> Solved:
    """SpatialVID labels of the motion from the first to the last frame (FORMATS.md section 5),
    thresholds relative to the median depth seen from the first frame; rejected when a component
    is inside its ambiguous band, or when the scene has too few other motions to offer as
    distractors (select.options - 1 with a select format, one for a judge claim). Balanced on the
    largest motion's label, both directions of it expected (Pan Left as often as Pan Right)."""
    limits = MotionThresholds(**thresholds)
    components, scale, call = _labels_between(ctx, cand.frames[0], cand.frames[-1], limits)
    if call.ambiguous:
        raise Reject("motion_near_threshold")
    truth = list(call.labels)
    pair = next((words for words in LABEL_WORDS.values() if call.primary in words), (call.primary,))
    balance = {"balance_key": call.primary, "balance_values": tuple(pair)}
    ctx.require_wanted(Solved(Answer("motion_labels", truth), **balance))  # before drawing distractors
    formats = ctx.spec.formats
    needed = ctx.spec.select.options - 1 if ctx.spec.select and "select" in formats else 0
    others = _other_clip_labels(ctx, truth, limits, needed)
    claim = _other_clip_labels(ctx, truth, limits, 1) if "judge" in formats else []
    if len(others) < needed or ("judge" in formats and not claim):
        raise Reject("too_few_other_motions")
    extra = {"scale": scale, "distractor_labels": others, **({"false_claim_labels": claim[0]} if claim else {})}
    answer = Answer("motion_labels", truth, exact=components, extra=extra)
    # The lists a question shows (a select's options, a judge's true or false claim): the balancer
    # keeps each list the truth in about its share of them, where the pool's odds do not (a list in
    # every option set, or one whose motion the balance makes rarer as a truth than as a distractor).
    shown = {"select": others, "judge": claim}.get(ctx.format, [])
    odds = ("motion", _spelled(truth), tuple(_spelled(o) for o in [truth, *shown])) if shown else None
    return Solved(answer, margin=call.margin, label_odds=odds, **balance)


def _spelled(labels: list[str]) -> str:
    return ", ".join(labels)
