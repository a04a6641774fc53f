"""Relation tuples (one word or "" per slot): other valid tuples as distractors and false claims."""
from __future__ import annotations

import itertools

import numpy as np

from qagen.render import wording
from qagen.render.kinds import KINDS

SLOT_WORDS = {
    "left_right": ("right", "left"),
    "above_below": ("above", "below"),
    "closer_farther": ("closer", "farther"),
    "front_behind": ("front", "behind"),
}


def relation_alternatives(truth: list[str], slots: list[str], k: int, rng: np.random.Generator) -> list[list[str]]:
    """k other tuples over the same slots, each with at least one non-empty slot, in random order."""
    choices = [SLOT_WORDS[s] + ("",) for s in slots]
    others = [list(t) for t in itertools.product(*choices) if list(t) != truth and any(t)]
    picks = rng.choice(len(others), size=min(k, len(others)), replace=False)
    return [others[i] for i in picks]


@KINDS.register("relation")
class Relation:
    def spell(self, value, answer, fact, coordinates) -> str:
        return wording.relation(value)

    def options(self, answer, fact, n, rank, rng, margins):
        others = relation_alternatives(answer.value, answer.extra["slots"], n - 1, rng)
        if len(others) < n - 1:
            return None
        return others[:rank] + [answer.value] + others[rank:], rank

    def false_claim(self, answer, fact, rng, margins):
        return relation_alternatives(answer.value, answer.extra["slots"], 1, rng)[0]
