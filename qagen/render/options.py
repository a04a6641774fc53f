"""Distractors for select questions and false claims for judge questions (TASKS.md "Distractors").

Numeric answers get plausible values spread on a log scale around the truth, none within the
margin of it, shown in ascending order with the truth at a requested rank, so neither the letter
nor the rank of the true value gives the answer away. Relation tuples get other tuples; choices
get the other roles.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Optional

import numpy as np

from qagen.geometry.relations import round_to
from qagen.specs.schema import Margins
from qagen.tasks.fact import Answer

# Smallest gap a numeric distractor keeps from the truth, per unit, besides the relative margin.
ABS_GAP = {"cm": 5.0, "m2": 1.0, "count": 1.0, "deg": 10.0}
STEP = {"m": 0.1, "cm": 1.0, "m2": 0.1, "count": 1.0, "deg": 5.0}
FLOOR = {"count": 0.0}  # smallest option value; elsewhere one rounding step
RELATION_CHOICES = (("right", "left", ""), ("above", "below", ""), ("closer", "farther", ""))


def _gap(value: float, unit: str, margins: Margins) -> float:
    absolute = margins.length_abs_m if unit == "m" else ABS_GAP.get(unit, 0.0)
    return max(absolute, margins.length_rel * abs(value))


def numeric_ladder(value: float, unit: str, below: int, above: int, rng: np.random.Generator,
                   margins: Margins) -> Optional[list[float]]:
    """`below` values under the truth and `above` over it, each a margin apart; None if impossible."""
    step = STEP.get(unit, 0.1)
    out: list[float] = []
    for direction, count in ((-1, below), (1, above)):
        current = value
        for _ in range(count):
            ratio = math.exp(rng.uniform(0.18, 0.45))
            candidate = current * ratio if direction > 0 else current / ratio
            gap = _gap(current, unit, margins)
            if direction > 0:
                candidate = max(candidate, current + gap)
            else:
                candidate = min(candidate, current - gap)
            candidate = round_to(candidate, step)
            if abs(candidate - current) < gap or candidate < FLOOR.get(unit, step):
                return None
            out.append(candidate)
            current = candidate
    return sorted(out + [value])


def numeric_options(value: float, unit: str, n: int, rank: int, rng: np.random.Generator,
                    margins: Margins) -> Optional[list[float]]:
    for _ in range(8):
        ladder = numeric_ladder(value, unit, rank, n - 1 - rank, rng, margins)
        if ladder is not None:
            return ladder
    return None


def scale_dimensions(value: dict, factor: float) -> dict:
    return {k: round_to(v * factor, 1.0) for k, v in value.items()}


def dimension_options(value: dict, n: int, rank: int, rng: np.random.Generator,
                      margins: Margins) -> Optional[list[dict]]:
    """Whole-object scalings of the true (L, W, H), ordered by size, the truth at `rank`."""
    length = value["length_cm"]
    ladder = numeric_options(length, "cm", n, rank, rng, margins)
    if ladder is None:
        return None
    return [value if v == length else scale_dimensions(value, v / length) for v in ladder]


def relation_alternatives(truth: list[str], k: int, rng: np.random.Generator) -> list[list[str]]:
    """k other tuples with at least one non-empty slot, in random order."""
    others = [list(t) for t in itertools.product(*RELATION_CHOICES) if list(t) != truth and any(t)]
    picks = rng.choice(len(others), size=min(k, len(others)), replace=False)
    return [others[i] for i in picks]


def false_claim(answer: Answer, unit: Optional[str], rng: np.random.Generator, margins: Margins) -> Any:
    """A claim that is wrong by more than the task's margin."""
    if answer.kind == "number":
        up = bool(rng.integers(2)) or answer.value <= 2 * STEP.get(unit or "m", 0.1)
        ladder = numeric_options(float(answer.value), unit or "m", 2, 0 if up else 1, rng, margins)
        if ladder is None:
            ladder = numeric_options(float(answer.value), unit or "m", 2, 0, rng, margins)
        return next(v for v in ladder if v != answer.value) if ladder else None
    if answer.kind == "vector":
        options = dimension_options(answer.value, 2, int(rng.integers(2)), rng, margins)
        return next(v for v in options if v != answer.value) if options else None
    if answer.kind == "relation":
        return relation_alternatives(answer.value, 1, rng)[0]
    if answer.kind == "choice":
        others = [r for r in answer.extra["options"] if r != answer.value]
        return str(rng.choice(others))
    raise ValueError(f"no false claims for answers of kind {answer.kind!r}")
