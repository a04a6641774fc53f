"""Yes/no answers of a task's own (object_existence: value true/false), not the judge format's
claims: spelled Yes/No; the select options are Yes and No with the truth at the requested letter."""
from __future__ import annotations

from qagen.render.kinds import KINDS


@KINDS.register("bool")
class Bool:
    def spell(self, value, answer, fact, coordinates) -> str:
        return "Yes" if value else "No"

    def options(self, answer, fact, n, rank, rng, margins):
        if n != 2:
            return None
        truth = bool(answer.value)
        return ([truth, not truth] if rank == 0 else [not truth, truth]), rank

    def false_claim(self, answer, fact, rng, margins):
        return not answer.value
