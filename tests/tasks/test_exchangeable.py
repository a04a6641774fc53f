"""Exchangeable distractors: the conditional-Poisson design includes every answer with probability
k p (capped at 1), and the others drawn for a truth follow that design conditioned on the truth."""
from __future__ import annotations

from collections import Counter
from itertools import combinations

import numpy as np
import pytest

from qagen.tasks.exchangeable import ExchangeablePool, inclusion_weights


def design(weights: np.ndarray, k: int) -> dict[tuple[int, ...], float]:
    """P(S) for every k-set, proportional to the product of the weights (enumerated)."""
    sets = {s: float(np.prod(weights[list(s)])) for s in combinations(range(weights.size), k)}
    total = sum(sets.values())
    return {s: v / total for s, v in sets.items()}


@pytest.mark.parametrize("odds", [[0.3, 0.25, 0.2, 0.15, 0.1], [0.22, 0.2, 0.18, 0.15, 0.13, 0.12]])
def test_the_design_includes_every_answer_with_k_times_its_odds(odds):
    p, k = np.array(odds), 3
    inclusion = Counter()
    for s, prob in design(inclusion_weights(p, k), k).items():
        for i in s:
            inclusion[i] += prob
    np.testing.assert_allclose([inclusion[i] for i in range(p.size)], k * p / p.sum(), atol=1e-6)


def test_a_common_answer_is_in_every_set_and_the_rest_share_the_remainder():
    pool = ExchangeablePool(np.array([0.5, 0.2, 0.15, 0.1, 0.05]), 3)
    assert np.isinf(pool.weights[0]) and np.isfinite(pool.weights[1:]).all()
    rng = np.random.default_rng(0)
    assert all(0 in pool.others(3, rng) for _ in range(50))  # the common one always shown
    assert 0 not in pool.others(0, rng)  # ... unless it is the truth


def test_others_follow_the_design_given_the_truth():
    p, k, truth = np.array([0.3, 0.25, 0.2, 0.15, 0.1]), 3, 1
    pool = ExchangeablePool(p, k)
    rng = np.random.default_rng(1)
    draws = 20_000
    seen = Counter(tuple(sorted(pool.others(truth, rng))) for _ in range(draws))
    given = {s: v for s, v in design(pool.weights, k).items() if truth in s}
    total = sum(given.values())
    for s, prob in given.items():
        others = tuple(i for i in s if i != truth)
        assert seen[others] / draws == pytest.approx(prob / total, abs=0.015)
    assert all(truth not in s and len(set(s)) == k - 1 for s in seen)


@pytest.mark.parametrize("answers", [1, 2, 3, 4])
def test_a_pool_of_at_most_k_answers_offers_every_other_one(answers):
    """A scene whose clips show only a few motions (a dense capture: a few frames apart the camera
    hardly moves) gives a pool no larger than the set: every answer is in every set, and the
    others of a truth are all the rest, fewer than k - 1 when the pool has fewer."""
    k = 4
    pool = ExchangeablePool(np.arange(1.0, answers + 1), k)
    assert np.isinf(pool.weights).all()
    rng = np.random.default_rng(0)
    for truth in range(answers):
        assert sorted(pool.others(truth, rng)) == [i for i in range(answers) if i != truth]
    assert sorted(pool.others(None, rng)) == list(range(min(answers, k - 1)))
