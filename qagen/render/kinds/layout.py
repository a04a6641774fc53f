"""Top-down layouts (spatial_imagination_map_mv): `value` maps each role to [x, y] in metres in a
horizontal frame the answer names (`extra["axes"]`, `extra["origin"]`). A wrong layout puts the
objects at each other's places: distractors permute the true places, moving at least one object
by more than the length margin."""
from __future__ import annotations

import itertools

import numpy as np

from qagen.render import wording
from qagen.render.kinds import KINDS


def layout_text(value: dict, fact) -> str:
    return "; ".join(f"{wording.refer(fact.role(role), fact, False)}: ({wording.number(x)}, {wording.number(y)})"
                     for role, (x, y) in value.items())


def swapped_layouts(value: dict, k: int, rng: np.random.Generator, margin: float) -> list[dict]:
    """k layouts, in random order, that put the objects on each other's places."""
    roles = list(value)
    others = []
    for order in itertools.permutations(roles):
        moved = max(float(np.hypot(*np.subtract(value[r], value[o]))) for r, o in zip(roles, order))
        if moved > margin:
            others.append({r: list(value[o]) for r, o in zip(roles, order)})
    picks = rng.choice(len(others), size=min(k, len(others)), replace=False)
    return [others[i] for i in picks]


@KINDS.register("layout")
class Layout:
    def spell(self, value, answer, fact, coordinates) -> str:
        return layout_text(value, fact)

    def options(self, answer, fact, n, rank, rng, margins):
        others = swapped_layouts(answer.value, n - 1, rng, margins.length_abs_m)
        if len(others) < n - 1:
            return None
        return others[:rank] + [answer.value] + others[rank:], rank

    def false_claim(self, answer, fact, rng, margins):
        others = swapped_layouts(answer.value, 1, rng, margins.length_abs_m)
        return others[0] if others else None
