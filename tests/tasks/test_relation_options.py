"""Relation answers draw the tuples their question shows, and declare them to the balancer."""
from __future__ import annotations

import numpy as np
import pytest

from qagen.pipeline import catalogue
from qagen.render.renderer import Renderer
from qagen.scene.index import SceneIndex
from qagen.scene.loaders import load_scene
from qagen.tasks.context import TaskContext
from qagen.tasks.engine import Solved, sample_facts
from qagen.tasks.fact import Answer
from qagen.tasks.relation_options import with_shown_tuples

SLOTS = ["left_right", "above_below", "closer_farther"]


def solved(value):
    return Solved(Answer("relation", value, extra={"slots": SLOTS}), balance_key=value[0] or "-")


def context(fmt):
    spec = catalogue.load().specs["obj_spatial_relation_oo"]
    return TaskContext(scene=None, index=None, spec=spec, rng=np.random.default_rng(0), format=fmt)


def test_a_select_draws_three_alike_options_and_declares_all_four():
    out = with_shown_tuples(context("select"), solved(["left", "", "closer"]))
    options = out.answer.extra["option_tuples"]
    assert len(options) == 3 and ["left", "", "closer"] not in options
    assert all(o[1] == "" and o[0] and o[2] for o in options)  # the slots the truth states, no others
    assert out.label_odds == ("101", "left//closer", ("left//closer", *("/".join(o) for o in options)))


def test_a_judge_draws_one_false_claim_and_declares_the_pair():
    out = with_shown_tuples(context("judge"), solved(["right", "above", "farther"]))
    claim = out.answer.extra["false_claim_tuple"]
    assert claim != ["right", "above", "farther"] and all(claim)
    assert out.label_odds == ("111", "right/above/farther", ("right/above/farther", "/".join(claim)))


def test_formats_that_show_no_tuple_leave_the_answer_alone():
    original = solved(["left", "below", ""])
    assert with_shown_tuples(context("sentence"), original) is original


def test_a_truth_with_too_few_alike_tuples_is_not_a_select():
    from qagen.tasks.fact import Reject

    with pytest.raises(Reject, match="no_distractors_outside_margin"):
        with_shown_tuples(context("select"), solved(["", "below", ""]))  # one alike tuple: "above"


def test_rendered_options_are_the_declared_ones(multi_view_native_dir):
    cat = catalogue.load()
    scene = load_scene(multi_view_native_dir)
    index = SceneIndex.build(scene)
    for task in ("obj_spatial_relation_oo", "spatial_imagination_oo_mv"):
        spec = cat.specs[task]
        rng = np.random.default_rng(1)
        facts = sample_facts(TaskContext(scene, index, spec, rng, format="select"), 12)
        assert facts
        renderer = Renderer(spec, cat.templates[task], scene)
        for i, fact in enumerate(facts):
            answer = renderer.render(fact, "select", i, rng, 0).meta["answer"]
            shown = [o for o in answer["options"] if o != answer["value"]]
            assert sorted(map(tuple, shown)) == sorted(map(tuple, fact.answer.extra["option_tuples"]))


def test_each_objects_front_or_behind_is_balanced_jointly(multi_view_native_dir):
    """spatial_imagination_oo_mv: both objects in front of the observer is the commonest truth; the
    balance key holds left/right and both front/behind words, so every pair of them comes up alike."""
    cat = catalogue.load()
    scene = load_scene(multi_view_native_dir)
    spec = cat.specs["spatial_imagination_oo_mv"]
    facts = sample_facts(TaskContext(scene, SceneIndex.build(scene), spec, np.random.default_rng(3)), 24)
    assert len(facts) == 24
    pairs = []
    for fact in facts:
        slots = dict(zip(fact.answer.extra["slots"], fact.answer.value))
        if slots["a_front_behind"] and slots["b_front_behind"]:
            pairs.append((slots["a_front_behind"], slots["b_front_behind"]))
    assert len(pairs) >= 16
    counts = [pairs.count((a, b)) for a in ("front", "behind") for b in ("front", "behind")]
    assert max(counts) - min(counts) <= 3, counts
