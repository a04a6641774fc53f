"""Select options whose direction words single out the truth are turned away (RenderState)."""
from __future__ import annotations

import numpy as np
import pytest

from qagen.pipeline import catalogue
from qagen.render.renderer import Renderer
from qagen.scene.loaders import load_scene
from qagen.tasks.engine import LABEL_SLACK
from qagen.tasks.fact import Answer, Fact, Reject

LEVEL = [{"yaw_deg": yaw, "pitch_deg": 0.0} for yaw in (-60.0, -35.0, 25.0, 50.0, 75.0, -85.0)]


def rotation_fact(value: dict, rng: np.random.Generator) -> Fact:
    """A camera_rotation fact whose alternatives (the task's other answers, in random order as the
    answer function gives them) all look level."""
    alternatives = [LEVEL[i] for i in rng.permutation(len(LEVEL))]
    answer = Answer("vector", value, unit="deg", extra={"vector": "camera_rotation", "alternatives": alternatives})
    return Fact(task="camera_rotation", frames=(0, 1), media="image", objects=(), markers=(), answer=answer)


@pytest.fixture
def renderer(small_world_native_dir):
    cat = catalogue.load()
    return Renderer(cat.specs["camera_rotation"], cat.templates["camera_rotation"], load_scene(small_world_native_dir))


def test_a_tilt_only_truths_take_is_the_answer_no_more_than_its_share(renderer):
    """Every distractor looks level: a downward tilt shows only as the truth, so after the
    LABEL_SLACK + 1 questions its share allows, the next is turned away."""
    rng = np.random.default_rng(0)
    tilted = rotation_fact({"yaw_deg": 10.0, "pitch_deg": -20.0}, rng)
    for number in range(LABEL_SLACK + 1):
        qa = renderer.render(tilted, "select", number, rng, 0)
        assert qa.meta["answer"]["options"][ord(qa.answer) - ord("A")] == tilted.answer.value
    with pytest.raises(Reject, match="option_pattern_predicts_answer"):
        renderer.render(tilted, "select", LABEL_SLACK + 1, rng, 0)


def test_a_pattern_the_distractors_share_is_seldom_turned_away(renderer):
    """Level turns left and right, as common among distractors as among truths: each is the answer
    about 1/4 of the times it is shown, so only a run of one side beyond LABEL_SLACK meets the cap."""
    rng = np.random.default_rng(1)
    refused = 0
    for number in range(80):
        fact = rotation_fact({"yaw_deg": float(rng.choice([-40.0, 40.0])), "pitch_deg": 0.0}, rng)
        try:
            renderer.render(fact, "select", number, rng, 0)
        except Reject:
            refused += 1
    assert refused <= 12  # 8 here: runs of one side past the slack


def test_other_formats_do_not_count_patterns(renderer):
    rng = np.random.default_rng(2)
    tilted = rotation_fact({"yaw_deg": 10.0, "pitch_deg": -20.0}, rng)
    for number in range(10):
        renderer.render(tilted, "fill", number, rng, 0)
