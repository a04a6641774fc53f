"""Relation tuples (one word or "" per slot): other valid tuples as distractors and false claims."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from qagen.registry import Registry
from qagen.render import wording
from qagen.render.kinds import KINDS
from qagen.tasks.slots import SLOT_WORDS


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


# Slots relative to the camera itself. Their words are far from balanced in any task: the camera
# is held above most furniture and looks at what it shows, so objects are nearly always "below" and
# "in front of" it. Slots between two objects or across the image (left/right, closer/farther, a
# higher than b) are balanced by the world's mirror symmetry and by swapping roles. A distractor
# that flips a camera-bound slot says the rare word, which a text-only model learns to reject.
CAMERA_BOUND_SLOTS = frozenset({"cam_above_below", "cam_front_behind", "a_front_behind", "b_front_behind"})


def relation_alternatives(truth: list[str], slots: list[str], k: int, rng: np.random.Generator,
                          bound_slots: frozenset = CAMERA_BOUND_SLOTS, alike_only: bool = False) -> list[list[str]]:
    """k other tuples over the same slots, in random order, each clearly wrong: some slot the truth
    decides holds another word (a tuple that only leaves out or adds words inside the margin is
    not shown as wrong).

    Taken first, ties at random: tuples that keep the truth's words in camera-bound slots (so a
    distractor is wrong where words are balanced and reads as likely as the truth), then tuples
    that state exactly the slots the truth states (options differ in directions rather than in
    which slots they leave out).

    `alike_only` keeps only those first ones, for options shown together: a tuple that states
    other slots must still say another word in one the truth states, so beside such distractors
    the truth is the option whose words the others repeat least (on unseen scenes that guess was
    right 47 % of the time among 4 options). Among tuples alike in what they state, and so in
    which words they can say, the truth is not set apart. Fewer than k when there are fewer."""
    tuples = _all_tuples(tuple(slots))  # (P, S) word index per slot; the last index of a slot is ""
    empty = np.array([len(SLOT_WORDS[s]) for s in slots])
    said = np.array([SLOT_WORDS[s].index(w) if w else len(SLOT_WORDS[s]) for s, w in zip(slots, truth)])
    stated, states = said != empty, tuples != empty
    wrong = (stated & states & (tuples != said)).any(axis=1)
    tuples = tuples[wrong]
    bound = np.array([s in bound_slots for s in slots])
    changed_bound = ((tuples != said) & bound).sum(axis=1)
    changed_stated = (states[wrong] != stated).sum(axis=1)
    if alike_only:
        alike = (changed_bound == 0) & (changed_stated == 0)
        tuples, changed_bound, changed_stated = tuples[alike], changed_bound[alike], changed_stated[alike]
    jitter = rng.permutation(len(tuples))
    chosen = tuples[np.lexsort((jitter, changed_stated, changed_bound))[:k]]
    words = [SLOT_WORDS[s] + ("",) for s in slots]
    picks = [[words[i][j] for i, j in enumerate(row)] for row in chosen.tolist()]
    return [picks[i] for i in rng.permutation(len(picks))]


@lru_cache(maxsize=64)
def _all_tuples(slots: tuple[str, ...]) -> np.ndarray:
    """Every tuple over the slots as word indices, in itertools.product order (read-only)."""
    shape = [len(SLOT_WORDS[s]) + 1 for s in slots]
    tuples = np.indices(shape).reshape(len(shape), -1).T
    tuples.setflags(write=False)
    return tuples


# A relation seen by another viewer than the camera (answer.extra["viewer"], e.g. the imagined
# observer of the spatial-imagination tasks, kinds/observer.py) is spelled by the viewer type
# registered under that name; its distractors are the usual relation_alternatives.
RELATION_VIEWERS: Registry = Registry("relation viewer")


def viewer_type(answer):
    name = answer.extra.get("viewer")
    return RELATION_VIEWERS.get(name)() if name is not None else None


@KINDS.register("relation")
class Relation:
    def spell(self, value, answer, fact, coordinates) -> str:
        if (viewer := viewer_type(answer)) is not None:
            return viewer.spell(value, answer, fact, coordinates)
        return spell_relation(value, answer.extra["slots"])

    @staticmethod
    def _bound_slots(answer) -> frozenset:
        """Camera-bound slots only exist for the camera: an imagined observer's front/behind is balanced."""
        return CAMERA_BOUND_SLOTS if viewer_type(answer) is None else frozenset()

    def options(self, answer, fact, n, rank, rng, margins):
        others = relation_alternatives(answer.value, answer.extra["slots"], n - 1, rng, self._bound_slots(answer),
                                       alike_only=True)
        if len(others) < n - 1:
            return None
        return others[:rank] + [answer.value] + others[rank:], rank

    def false_claim(self, answer, fact, rng, margins):
        return relation_alternatives(answer.value, answer.extra["slots"], 1, rng, self._bound_slots(answer))[0]
