"""UniformIndex draws what numpy's rng.integers(n) draws, from the same stream, for every bound."""
from __future__ import annotations

import numpy as np
import pytest

from qagen.tasks.context import UINT32, TaskContext, UniformIndex, next_uint32_of


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_uniform_index_follows_numpys_integers_on_the_same_stream(seed):
    bounds = [1, 2, 3, 7, 10, 1000, 2**31 + 5, 3 * 2**30, UINT32 - 1, UINT32, UINT32 + 3, 2**40]
    ours, rng = np.random.default_rng(seed), np.random.default_rng(seed)
    below, choose = UniformIndex(ours), np.random.default_rng(seed + 10)
    for i in range(20_000):
        n = int(choose.choice(bounds))
        assert below(n) == rng.integers(n)
        if i % 5 == 0:  # other draws in between leave the streams in step (numpy buffers half a 64-bit draw)
            assert ours.random() == rng.random()


@pytest.mark.parametrize("kind", [np.random.PCG64, np.random.MT19937, np.random.Philox, np.random.SFC64])
def test_next_uint32_from_the_capsule_is_numpys_ctypes_next_uint32(kind):
    ours, theirs = kind(11), kind(11)
    draw = next_uint32_of(ours)
    raw = theirs.ctypes
    for _ in range(1000):
        assert draw() == raw.next_uint32(raw.state)
    assert ours.random_raw() == theirs.random_raw()


def test_uniform_index_refuses_what_numpy_refuses():
    with pytest.raises(ValueError):
        UniformIndex(np.random.default_rng(0))(0)


def test_integer_follows_numpys_integers_with_and_without_a_low_bound():
    ctx = TaskContext(scene=None, index=None, spec=None, rng=np.random.default_rng(4))
    rng = np.random.default_rng(4)
    for high in range(1, 300):
        assert ctx.integer(high) == rng.integers(high)
        assert ctx.integer(high - 7, high) == rng.integers(high - 7, high)
        assert ctx.integer(-high, high) == rng.integers(-high, high)
