"""Orders of the question's objects (appearance_order): the value lists roles in order; options are
other permutations of the same roles, and so is a judge's false claim."""
from __future__ import annotations

import itertools

from qagen.render import wording
from qagen.render.kinds import KINDS


def other_orders(truth: list[str], rng) -> list[list[str]]:
    """Every other permutation of the roles, in random order."""
    others = [list(p) for p in itertools.permutations(sorted(truth)) if list(p) != list(truth)]
    return [others[i] for i in rng.permutation(len(others))]


@KINDS.register("order")
class Order:
    def spell(self, value, answer, fact, coordinates) -> str:
        return ", ".join(wording.refer(fact.role(role), fact, coordinates) for role in value)

    def options(self, answer, fact, n, rank, rng, margins):
        others = other_orders(answer.value, rng)[: n - 1]
        if len(others) < n - 1:
            return None
        return others[:rank] + [list(answer.value)] + others[rank:], rank

    def false_claim(self, answer, fact, rng, margins):
        return other_orders(answer.value, rng)[0]
