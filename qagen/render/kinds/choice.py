"""Choices among the question's objects: the value is a role; options are the roles in the order
the question mentions them (the sampler's balancer spreads the true role, hence the letter)."""
from __future__ import annotations

from qagen.render import wording
from qagen.render.kinds import KINDS


@KINDS.register("choice")
class Choice:
    def spell(self, value, answer, fact, coordinates) -> str:
        return wording.refer(fact.role(value), fact, coordinates)

    def options(self, answer, fact, n, rank, rng, margins):
        roles = list(answer.extra["options"])
        return roles, roles.index(answer.value)

    def false_claim(self, answer, fact, rng, margins):
        return str(rng.choice([r for r in answer.extra["options"] if r != answer.value]))
