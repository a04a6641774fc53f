"""`numpy.random.default_rng(seed)`, the same generators, built at a fraction of the cost.

A scene draws from some 200 streams (one per task and format, one per task for its pools), each
a `default_rng(seed)`: 20-70 us apiece, nearly all of it SeedSequence turning the seed into the
PCG64 state through a few dozen Python-level calls. `prepare(seeds)` does SeedSequence's
arithmetic for a whole batch at once in numpy (a few dozen array operations in all) and keeps the
resulting state words; `generator(seed)` then seeds PCG64 from them directly. The generators are
exactly numpy's (tests/test_seeding.py checks the states on thousands of seeds), so the records do
not depend on which path built them.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
from numpy.random.bit_generator import ISeedSequence

# numpy's SeedSequence (numpy/random/bit_generator.pyx): its hash constants, pool of 4 words
INIT_A, MULT_A = 0x43B0D7E5, 0x931E8875
INIT_B, MULT_B = 0x8B51F9DD, 0x58F38DED
MIX_MULT_L, MIX_MULT_R = 0xCA01F9DD, 0x4973F715
XSHIFT = 16
POOL_SIZE = 4
MASK32 = np.uint64(0xFFFFFFFF)
KEPT = 4096  # state words kept; a scene prepares a few hundred

_words: dict[int, np.ndarray] = {}  # seed -> the 4 uint64 words SeedSequence(seed) gives PCG64


class _StateWords(ISeedSequence):
    """A seed sequence whose state is already known (PCG64 asks it for 4 uint64 words)."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray):
        self.words = words

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        if n_words != POOL_SIZE or np.dtype(dtype) != np.uint64:
            raise ValueError("state words were prepared for PCG64 only")
        return self.words


def prepare(seeds: Iterable[int]) -> None:
    """Compute and keep the state words of these seeds (non-negative, below 2**64)."""
    todo = sorted({int(s) for s in seeds} - _words.keys())
    if not todo:
        return
    if len(_words) + len(todo) > KEPT:
        _words.clear()
    for seed, words in zip(todo, _pcg64_words(np.array(todo, dtype=np.uint64))):
        _words[seed] = words


def generator(seed: int) -> np.random.Generator:
    """`np.random.default_rng(seed)`: from prepared words when there are some."""
    words = _words.get(seed)
    if words is None:
        return np.random.default_rng(seed)
    return np.random.Generator(np.random.PCG64(_StateWords(words)))


def _pcg64_words(seeds: np.ndarray) -> np.ndarray:
    """(N, 4) uint64: SeedSequence(seed).generate_state(4, np.uint64) for each seed of (N,) uint64.
    A seed is its 32-bit words, least significant first (at most 2, within the pool of 4, so every
    seed mixes alike); the hash constants advance the same way whatever the data, so they are
    Python ints. Every product is of two 32-bit numbers, exact in uint64 before the mask."""
    constant = INIT_A

    def hashmix(value: np.ndarray) -> np.ndarray:
        nonlocal constant
        value = value ^ np.uint64(constant)
        constant = constant * MULT_A & 0xFFFFFFFF
        value = value * np.uint64(constant) & MASK32
        return value ^ (value >> np.uint64(XSHIFT))

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        result = (np.uint64(MIX_MULT_L) * x - np.uint64(MIX_MULT_R) * y) & MASK32
        return result ^ (result >> np.uint64(XSHIFT))

    zero = np.zeros_like(seeds)
    entropy = [seeds & MASK32, seeds >> np.uint64(32), zero, zero]
    pool = [hashmix(word) for word in entropy]
    for src in range(POOL_SIZE):
        for dst in range(POOL_SIZE):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    out, constant = [], INIT_B
    for i in range(2 * POOL_SIZE):  # 8 uint32 words, paired little-endian into 4 uint64
        value = pool[i % POOL_SIZE] ^ np.uint64(constant)
        constant = constant * MULT_B & 0xFFFFFFFF
        value = value * np.uint64(constant) & MASK32
        out.append(value ^ (value >> np.uint64(XSHIFT)))
    return np.stack([out[2 * i] | (out[2 * i + 1] << np.uint64(32)) for i in range(POOL_SIZE)], axis=1)
