"""Numbers and object dimensions: distractors on a log scale around the truth, none within the
margin of it, shown in ascending order with the truth at a requested rank, so neither the letter
nor the rank of the true value gives the answer away.

Object sizes (cm) are asked with options only when the truth could sit at every rank: a 12 cm cup
has no room for three smaller sizes a margin apart, so it would always be option A, and the label
in the question (cup) would give the letter away. Other quantities (distances, depths) are not
predicted by the question's words, so a small one simply takes a rank it fits.

Counts are the exception (see count_options): most counted labels appear once or twice, so an
ascending ladder of positive counts cannot put a 1 or a 2 at a late rank, and the letter would
follow the count."""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from qagen.geometry.relations import round_to
from qagen.render import wording
from qagen.registry import Registry
from qagen.render.kinds import KINDS
from qagen.specs.schema import Margins
from qagen.tasks.fact import Answer, Fact

# Smallest gap a numeric distractor keeps from its neighbour, per unit, besides the relative margin.
ABS_GAP = {"cm": 5.0, "m2": 1.0, "count": 1.0, "deg": 10.0}
STEP = {"m": 0.1, "cm": 1.0, "m2": 0.1, "count": 1.0, "deg": 5.0}
FLOOR = {"count": 0.0}  # smallest option value; elsewhere one rounding step
LOG_RATIO = (0.18, 0.45)  # range of the log ratio between neighbouring options
SIZE_UNIT = "cm"  # object sizes: the label predicts them (see fits_every_rank)


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
            ratio = math.exp(LOG_RATIO[0] + (LOG_RATIO[1] - LOG_RATIO[0]) * rng.random())  # rng.uniform(*LOG_RATIO)
            gap = _gap(current, unit, margins)
            if direction > 0:
                candidate = max(current * ratio, current + gap)
            else:
                candidate = min(current / ratio, current - gap)
            candidate = round_to(candidate, step)
            if abs(candidate - current) < gap or candidate < FLOOR.get(unit, step):
                return None
            out.append(candidate)
            current = candidate
    return sorted(out + [value])


def fits_every_rank(value: float, unit: str, n: int, margins: Margins) -> bool:
    """Whether n - 1 options below the truth exist whatever ratios are drawn: the steepest
    descent (largest ratio, at least the margin per step) stays at or above the floor."""
    floor, current = FLOOR.get(unit, STEP.get(unit, 0.1)), value
    for _ in range(n - 1):
        current = round_to(min(current / math.exp(LOG_RATIO[1]), current - _gap(current, unit, margins)),
                           STEP.get(unit, 0.1))
    return current >= floor


def numeric_options(value: float, unit: str, n: int, rank: int, rng: np.random.Generator,
                    margins: Margins) -> Optional[list[float]]:
    if unit == SIZE_UNIT and not fits_every_rank(value, unit, n, margins):
        return None
    for _ in range(8):
        ladder = numeric_ladder(value, unit, rank, n - 1 - rank, rng, margins)
        if ladder is not None:
            return ladder
    return None


def count_options(value: int, n: int, rank: int, rng: np.random.Generator) -> list[int]:
    """The block of n consecutive counts holding the truth (1..n, n+1..2n, ...), the truth at
    letter `rank`, the others in random order.

    Every count in a block is shown with the same options, so the option set says nothing about
    which of its counts is true beyond how often each count is asked (instance_count balances the
    small ones), and shuffling frees the letter from the value's rank. No option is 0: a counted
    label always appears, so a 0 would be an option never true."""
    low = 1 + n * ((int(value) - 1) // n)
    others = [c for c in range(low, low + n) if c != value]
    others = [others[i] for i in rng.permutation(len(others))]
    return others[:rank] + [int(value)] + others[rank:]


def _other(options: Optional[list], truth: Any) -> Any:
    return next((v for v in options if v != truth), None) if options else None


@KINDS.register("number")
class Number:
    def spell(self, value, answer: Answer, fact: Fact, coordinates: bool) -> str:
        return wording.quantity(value, answer.unit) if answer.unit not in (None, "count") else wording.number(value)

    def options(self, answer, fact, n, rank, rng, margins):
        if answer.unit == "count":
            return count_options(answer.value, n, rank, rng), rank
        options = numeric_options(float(answer.value), answer.unit or "m", n, rank, rng, margins)
        return (options, rank) if options is not None else None

    def false_claim(self, answer, fact, rng, margins):
        unit = answer.unit or "m"
        above_only = answer.value <= 2 * STEP.get(unit, 0.1)
        first = 0 if above_only or rng.integers(2) else 1
        for rank in (first, 1 - first):
            claim = _other(numeric_options(float(answer.value), unit, 2, rank, rng, margins), answer.value)
            if claim is not None:
                return claim
        return None


def scale_dimensions(value: dict, factor: float) -> dict:
    return {k: round_to(v * factor, 1.0) for k, v in value.items()}


def dimension_options(value: dict, n: int, rank: int, rng: np.random.Generator,
                      margins: Margins) -> Optional[list[dict]]:
    """Whole-object scalings of the true (L, W, H), ordered by size, the truth at `rank`."""
    length = value["length_cm"]
    ladder = numeric_options(length, SIZE_UNIT, n, rank, rng, margins)
    if ladder is None:
        return None
    return [value if v == length else scale_dimensions(value, v / length) for v in ladder]


VECTOR_TYPES: Registry = Registry("vector type")


@VECTOR_TYPES.register("dimensions")
class Dimensions:
    """Length x width x height of an object, in cm."""

    def spell(self, value, answer, fact, coordinates) -> str:
        return wording.dimensions(value)

    def options(self, answer, fact, n, rank, rng, margins):
        options = dimension_options(answer.value, n, rank, rng, margins)
        return (options, rank) if options is not None else None

    def false_claim(self, answer, fact, rng, margins):
        return _other(dimension_options(answer.value, 2, int(rng.integers(2)), rng, margins), answer.value)


@KINDS.register("vector")
class Vector:
    """Named components (FORMATS.md); `answer.extra["vector"]` names the vector type that spells
    it and makes its distractors (default "dimensions")."""

    @staticmethod
    def _type(answer: Answer):
        return VECTOR_TYPES.get(answer.extra.get("vector", "dimensions"))()

    def spell(self, value, answer, fact, coordinates) -> str:
        return self._type(answer).spell(value, answer, fact, coordinates)

    def options(self, answer, fact, n, rank, rng, margins):
        return self._type(answer).options(answer, fact, n, rank, rng, margins)

    def false_claim(self, answer, fact, rng, margins):
        return self._type(answer).false_claim(answer, fact, rng, margins)

    def pattern(self, value, answer):
        kind = self._type(answer)
        return kind.pattern(value) if hasattr(kind, "pattern") else None
