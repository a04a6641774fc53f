"""Free text answers (e.g. a referring expression): spelled as they are; select distractors and
false claims are other texts the answer function listed in `answer.extra["distractor_texts"]`
(for object_referring: the descriptions of other objects in the same view)."""
from __future__ import annotations

from qagen.render.kinds import KINDS


@KINDS.register("text")
class Text:
    def spell(self, value, answer, fact, coordinates) -> str:
        return str(value)

    def options(self, answer, fact, n, rank, rng, margins):
        others = [t for t in answer.extra.get("distractor_texts", []) if t != answer.value]
        if len(others) < n - 1:
            return None
        picks = [others[i] for i in rng.choice(len(others), size=n - 1, replace=False)]
        return picks[:rank] + [answer.value] + picks[rank:], rank

    def false_claim(self, answer, fact, rng, margins):
        others = [t for t in answer.extra.get("distractor_texts", []) if t != answer.value]
        return others[int(rng.integers(len(others)))] if others else None
