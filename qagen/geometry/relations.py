"""Comparisons with ambiguity margins (TASKS.md): a call inside the margin is "indistinguishable"."""
from __future__ import annotations

from functools import lru_cache


def side(delta: float, margin: float, positive: str, negative: str) -> str:
    """`positive` if delta >= margin, `negative` if delta <= -margin, else "" (indistinguishable)."""
    if delta >= margin:
        return positive
    if delta <= -margin:
        return negative
    return ""


def length_gap_needed(a: float, b: float, abs_m: float, rel: float) -> float:
    """The gap two lengths need to be compared: max(abs_m, rel * the smaller)."""
    return max(abs_m, rel * min(abs(a), abs(b)))


def compare_lengths(a: float, b: float, abs_m: float, rel: float) -> int:
    """-1 if a is clearly shorter than b, +1 if clearly longer, 0 inside the margin."""
    if abs(a - b) < length_gap_needed(a, b, abs_m, rel):
        return 0
    return 1 if a > b else -1


def round_to(value: float, step: float) -> float:
    """Round to a multiple of `step`, without float noise in the printed value (0.30000000000000004)."""
    return round(round(value / step) * step, _decimals(step))


@lru_cache(maxsize=None)
def _decimals(step: float) -> int:
    """Decimal places a multiple of `step` needs (0.1 -> 1, 5 -> 0); a handful of steps exist."""
    return max(0, -int(f"{step:e}".split("e")[1]))
