"""Relations seen by an imagined observer (spatial imagination, relative direction): "you" are
standing at one object and facing another, so phrases speak of you, not of the camera.
Registered as the relation viewer "observer" (answer.extra["viewer"]); distractors and false
claims are the relation kind's own."""
from __future__ import annotations

from qagen.render import wording
from qagen.render.kinds.relation import RELATION_VIEWERS

PHRASES = {
    "left": "to the left",
    "right": "to the right",
    "above": "higher up",
    "below": "lower down",
    "closer": "closer to you",
    "farther": "farther from you",
    "front": "in front of you",
    "behind": "behind you",
    "front-left": "front-left",
    "front-right": "front-right",
    "back-left": "back-left",
    "back-right": "back-right",
}
OWN_SLOTS = {"a_front_behind": "a", "b_front_behind": "b"}  # slots about one object alone, spelled with it


def join_and(parts: list[str]) -> str:
    """["x"] -> "x"; ["x", "y", "z"] -> "x, y and z"; [] -> ""."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


@RELATION_VIEWERS.register("observer")
class Observer:
    def spell(self, value, answer, fact, coordinates) -> str:
        """Shared slots as phrases ("to the left and closer to you"), then each object's own slots
        as clauses naming it ("the chair (red point) is behind you")."""
        shared, own = [], []
        for word, slot in zip(value, answer.extra["slots"]):
            if word and slot in OWN_SLOTS:
                own.append(f"{wording.refer(fact.role(OWN_SLOTS[slot]), fact, False)} is {PHRASES[word]}")
            elif word:
                shared.append(PHRASES[word])
        return "; ".join(part for part in (join_and(shared), join_and(own)) if part)
