"""Deterministic seeds: every (scene, task, format) draws from its own stream, derived by hashing,
so the output does not depend on worker count, executor or order."""
from __future__ import annotations

import hashlib

import numpy as np

from qagen import seeding


def stream_seed(seed: int, *parts: str) -> int:
    digest = hashlib.sha256("\x1f".join([str(seed), *map(str, parts)]).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def stream(seed: int, *parts: str) -> tuple[int, np.random.Generator]:
    """The stream's seed and its `default_rng` (built from prepared state words when
    qagen.seeding.prepare had the seed)."""
    s = stream_seed(seed, *parts)
    return s, seeding.generator(s)


def fraction(seed: int, *parts: str) -> float:
    """A stable number in [0, 1) for a key: used for scene-level splits."""
    return stream_seed(seed, *parts) / float(1 << 63)
