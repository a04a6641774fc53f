"""Relation tuples (one word or "" per slot): other valid tuples as distractors and false claims."""
from __future__ import annotations

from functools import lru_cache

from qagen.registry import Registry
from qagen.render import wording
from qagen.render.kinds import KINDS
from qagen.tasks.relation_options import bound_slots_of, relation_alternatives


# Slots spelled as clauses "<subject> is <head> <object>" rather than wording.relation's generic
# phrases, so that two slots saying front/behind of different objects read unambiguously.
# slot name -> (subject or None when the template names it, {word: (head, object)})
CAMERA_1 = "camera 1"
SLOT_CLAUSES = {
    "cam_left_right": (None, {"right": ("to the right of", CAMERA_1), "left": ("to the left of", CAMERA_1)}),
    "cam_above_below": (None, {"above": ("above", CAMERA_1), "below": ("below", CAMERA_1)}),
    "cam_front_behind": (None, {"front": ("in front of", CAMERA_1), "behind": ("behind", CAMERA_1)}),
    "ab_left_right": ("X", {"right": ("to the right of", "Y"), "left": ("to the left of", "Y")}),
    "ab_above_below": ("X", {"above": ("higher up than", "Y"), "below": ("lower down than", "Y")}),
    "ab_closer_farther": ("X", {"closer": (f"closer to {CAMERA_1} than", "Y"),
                                "farther": (f"farther from {CAMERA_1} than", "Y")}),
    "a_front_behind": ("X", {"front": ("in front of", CAMERA_1), "behind": ("behind", CAMERA_1)}),
    "b_front_behind": ("Y", {"front": ("in front of", CAMERA_1), "behind": ("behind", CAMERA_1)}),
}


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def spell_clauses(value: list[str], slots: list[str]) -> str:
    """Decided slots as clauses grouped by subject ("X is to the left of Y and behind camera 1; Y is
    in front of camera 1"); a group whose clauses share one object names it once."""
    groups: dict = {}
    for word, slot in zip(value, slots):
        if word:
            subject, table = SLOT_CLAUSES[slot]
            groups.setdefault(subject, []).append(table[word])
    texts = []
    for subject, clauses in groups.items():
        objects = {obj for _, obj in clauses}
        if len(clauses) > 1 and len(objects) == 1:
            text = f"{_and([head for head, _ in clauses])} {objects.pop()}"
        else:
            text = _and([f"{head} {obj}" for head, obj in clauses])
        texts.append(text if subject is None else f"{subject} is {text}")
    return "; ".join(texts)


def spell_relation(value: list[str], slots: list[str]) -> str:
    return _spelled(tuple(value), tuple(slots))


@lru_cache(maxsize=4096)
def _spelled(value: tuple[str, ...], slots: tuple[str, ...]) -> str:
    """A few hundred tuples over a run, each spelled for every option and claim that shows it."""
    if all(s in SLOT_CLAUSES for s in slots):
        return spell_clauses(list(value), list(slots))
    return wording.relation(list(value))


# A relation seen by another viewer than the camera (answer.extra["viewer"], e.g. the imagined
# observer of the spatial-imagination tasks, kinds/observer.py) is spelled by the viewer type
# registered under that name; its distractors are the usual relation_alternatives.
RELATION_VIEWERS: Registry = Registry("relation viewer")


def viewer_type(answer):
    name = answer.extra.get("viewer")
    return RELATION_VIEWERS.get(name)() if name is not None else None


@KINDS.register("relation")
class Relation:
    """Options and false claims are those the answer drew (qagen.tasks.relation_options), so that
    the balancer saw them; answers made without (tests, other callers) get them drawn here."""

    def spell(self, value, answer, fact, coordinates) -> str:
        if (viewer := viewer_type(answer)) is not None:
            return viewer.spell(value, answer, fact, coordinates)
        return spell_relation(value, answer.extra["slots"])

    def options(self, answer, fact, n, rank, rng, margins):
        others = answer.extra.get("option_tuples")
        if others is None:
            others = relation_alternatives(answer.value, answer.extra["slots"], n - 1, rng,
                                           bound_slots_of(answer.extra), alike_only=True)
        if len(others) < n - 1:
            return None
        others = [list(o) for o in others[: n - 1]]
        return others[:rank] + [answer.value] + others[rank:], rank

    def false_claim(self, answer, fact, rng, margins):
        claim = answer.extra.get("false_claim_tuple")
        if claim is None:
            claim = relation_alternatives(answer.value, answer.extra["slots"], 1, rng, bound_slots_of(answer.extra))[0]
        return list(claim)
