"""The context's draws: `sample` gives distinct elements with every ordered k-subset alike, and
`pick` and `draw` give what numpy's rng.choice would from the same stream."""
from __future__ import annotations

from collections import Counter
from itertools import permutations

import numpy as np
import pytest

from qagen.tasks.context import TaskContext, cumulative


def context(seed: int) -> TaskContext:
    return TaskContext(scene=None, index=None, spec=None, rng=np.random.default_rng(seed))


def test_sample_draws_every_ordered_subset_alike():
    ctx, options = context(0), ["a", "b", "c", "d"]
    draws = 24_000
    counts = Counter(tuple(ctx.sample(options, 2)) for _ in range(draws))
    assert set(counts) == set(permutations(options, 2))  # distinct elements, every order
    expected = draws / 12
    chi2 = sum((n - expected) ** 2 / expected for n in counts.values())
    assert chi2 < 31.3  # 11 degrees of freedom, p = 0.001


def test_sample_takes_all_or_fails_on_too_many():
    ctx = context(1)
    assert sorted(ctx.sample(range(5), 5)) == [0, 1, 2, 3, 4]
    assert ctx.sample((7,), 0) == []
    with pytest.raises(ValueError, match="3 distinct elements of 2"):
        ctx.sample([1, 2], 3)


def test_pick_and_draw_follow_numpys_choice_on_the_same_stream():
    options, odds = np.array([3, 1, 4, 1, 5]), np.array([0.1, 0.2, 0.3, 0.15, 0.25])
    ctx, rng = context(2), np.random.default_rng(2)
    for _ in range(200):
        assert ctx.pick(options) == rng.choice(options)
        assert ctx.draw(cumulative(odds)) == rng.choice(len(odds), p=odds)


def test_balancer_keeps_a_label_from_winning_more_than_its_share():
    from qagen.tasks.engine import LABEL_SLACK, Balancer, Solved
    from qagen.tasks.fact import Answer

    def choice(winner, labels, criterion="closest"):
        return Solved(Answer("choice", "a"), label_odds=(criterion, winner, labels))

    balancer = Balancer(keys=False)
    sofa_first = choice("sofa", ("sofa", "book", "lamp"))
    wins = 0
    while balancer.refuses(sofa_first) is None:  # the sofa wins every question it is in
        balancer.accept(sofa_first)
        wins += 1
    assert wins == 1 + LABEL_SLACK and balancer.refuses(sofa_first) == "label_predicts_answer"
    assert balancer.refuses(choice("sofa", ("sofa", "book", "lamp"), "farthest")) is None  # per criterion
    for _ in range(3 * wins):  # the sofa shown and not chosen: its share grows again
        balancer.accept(choice("book", ("sofa", "book", "lamp")))
    assert balancer.refuses(sofa_first) is None


@pytest.mark.parametrize("task", ["distance_infer_center_oc", "distance_infer_center_oo"])
def test_labels_win_about_their_share(camera_world_native_dir, task):
    """On a scene, no label is the answer much above 1/k of the k-option questions (per criterion)
    that offer it: which kinds of object are named says little about which one is the answer."""
    from qagen.pipeline import catalogue
    from qagen.scene.index import SceneIndex
    from qagen.scene.loaders import load_scene
    from qagen.tasks.engine import LABEL_SLACK, sample_facts

    scene = load_scene(camera_world_native_dir)
    spec = catalogue.load().specs[task]
    ctx = TaskContext(scene, SceneIndex.build(scene), spec, np.random.default_rng(5))
    facts = sample_facts(ctx, 30)
    assert len(facts) >= 8
    wins, shown, k = Counter(), Counter(), None
    for fact in facts:
        criterion, options = fact.answer.extra["criterion"], fact.answer.extra["options"]
        k = len(options)
        wins[criterion, fact.role(fact.answer.value).label] += 1
        shown.update((criterion, fact.role(r).label) for r in options)
    assert all(n <= -(-shown[key] // k) + LABEL_SLACK for key, n in wins.items())


def test_closest_to_camera_balances_the_answers_height_in_the_image(camera_world_native_dir):
    """Lower in the image is mostly nearer, and the points are given as coordinates: the answer's
    place among the points by height is a balance key with criterion and colour, so no place runs
    ahead of another. On this small walk the closest object is the lowest point (the farthest the
    highest) in 96 % of unbalanced draws; balanced, in under 70 % (every place it can give)."""
    from qagen.pipeline import catalogue
    from qagen.scene.index import SceneIndex
    from qagen.scene.loaders import load_scene
    from qagen.tasks.engine import sample_facts

    scene = load_scene(camera_world_native_dir)
    index, spec = SceneIndex.build(scene), catalogue.load().specs["distance_infer_center_oc"]
    everything = [(c, r, p) for c in ("closest", "farthest") for r in "abc" for p in range(3)]
    telling = total = 0
    for seed in range(6):
        keys = Counter()
        for fact in sample_facts(TaskContext(scene, index, spec, np.random.default_rng(seed)), 36):
            lowest_first = [m.role for m in sorted(fact.markers, key=lambda m: -m.xy[1])]
            place, criterion = lowest_first.index(fact.answer.value), fact.answer.extra["criterion"]
            keys[criterion, fact.answer.value, place] += 1
            telling += place == (0 if criterion == "closest" else 2)
            total += 1
        assert max(keys[k] for k in everything) - min(keys[k] for k in everything) <= 1
    assert total >= 40 and telling / total < 0.7
