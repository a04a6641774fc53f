"""Distractor tuples of relation answers, drawn by the answer function when its question shows
them (a select's options, a judge's false claim), so that the balancer sees what is shown.

Why the answer draws them: world priors make some tuples far likelier truths than others (objects
are mostly below the camera, and lower and farther than the one they are compared with), and a
text-only model learns to pick the likeliest tuple shown. The balancer's label odds keep every
tuple the truth in about 1/k of the questions that show it, whatever its prior.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np

from qagen.tasks.context import TaskContext
from qagen.tasks.engine import Solved
from qagen.tasks.fact import Reject
from qagen.tasks.slots import SLOT_WORDS

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
    tuples, changed_bound, changed_stated = _wrong_tuples(tuple(truth), tuple(slots), frozenset(bound_slots), alike_only)
    jitter = rng.permutation(len(tuples))
    chosen = tuples[np.lexsort((jitter, changed_stated, changed_bound))[:k]]
    words = [SLOT_WORDS[s] + ("",) for s in slots]
    picks = [[words[i][j] for i, j in enumerate(row)] for row in chosen.tolist()]
    return [picks[i] for i in rng.permutation(len(picks))]


@lru_cache(maxsize=4096)
def _wrong_tuples(truth: tuple[str, ...], slots: tuple[str, ...], bound_slots: frozenset,
                  alike_only: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tuples relation_alternatives draws from, as word indices, with how many camera-bound
    slots each changes and in how many it differs from the truth in what it states (memoised: a
    task asks the same few truths thousands of times; read-only)."""
    tuples = _all_tuples(slots)  # (P, S) word index per slot; the last index of a slot is ""
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
    for array in (tuples, changed_bound, changed_stated):
        array.setflags(write=False)
    return tuples, changed_bound, changed_stated


@lru_cache(maxsize=64)
def _all_tuples(slots: tuple[str, ...]) -> np.ndarray:
    """Every tuple over the slots as word indices, in itertools.product order (read-only)."""
    shape = [len(SLOT_WORDS[s]) + 1 for s in slots]
    tuples = np.indices(shape).reshape(len(shape), -1).T
    tuples.setflags(write=False)
    return tuples


def bound_slots_of(extra: dict) -> frozenset:
    """Camera-bound slots only exist for the camera: an imagined observer's front/behind is balanced."""
    return CAMERA_BOUND_SLOTS if extra.get("viewer") is None else frozenset()


def with_shown_tuples(ctx: TaskContext, solved: Solved) -> Solved:
    """A relation answer with the tuples its format shows beside the truth, drawn now: a select's
    other options (alike in what they state, `relation_alternatives`), a judge's false claim; and
    the label odds over them. Other formats show no tuple: the answer is returned as it is."""
    answer = solved.answer
    if ctx.format == "select" and ctx.spec.select is not None:
        k, key, alike_only, reason = ctx.spec.select.options, "option_tuples", True, "no_distractors_outside_margin"
    elif ctx.format == "judge":
        k, key, alike_only, reason = 2, "false_claim_tuple", False, "no_false_claim_outside_margin"
    else:
        return solved
    ctx.require_wanted(solved)  # before drawing the tuples of an answer the balancer would turn away
    others = relation_alternatives(answer.value, answer.extra["slots"], k - 1, ctx.rng, bound_slots_of(answer.extra),
                                   alike_only=alike_only)
    if len(others) < k - 1:
        raise Reject(reason)
    shown = others if key == "option_tuples" else others[0]
    stated = "".join("1" if word else "0" for word in answer.value)  # tuples alike in what they state compete
    odds = (stated, _key(answer.value), tuple(_key(t) for t in [answer.value, *others]))
    return replace(solved, answer=replace(answer, extra={**answer.extra, key: shown}), label_odds=odds)


def _key(words) -> str:
    return "/".join(words)
