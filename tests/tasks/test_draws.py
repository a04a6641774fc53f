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
