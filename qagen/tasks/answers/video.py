"""Answers over a clip: which frames show an object, the order objects first appear in, whether a
label is in the clip. Frame answers are positions in the clip (meta.frames), counted from 0."""
from __future__ import annotations

import itertools

import numpy as np

from qagen.registry import ANSWERS
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.engine import Solved
from qagen.tasks.fact import Answer, Reject
from qagen.tasks.samplers.video import NONE, PARTLY, SHOWN, first_sightings, presence_states


def _states_of(ctx: TaskContext, cand: Candidate, object_id: int) -> np.ndarray:
    ids, states = presence_states(ctx, cand.frames)
    return states[int(np.searchsorted(ids, object_id))]


@ANSWERS.register("frames_showing")
def frames_showing(ctx: TaskContext, cand: Candidate) -> Solved:
    """The clip frames that show object a; rejected when a frame shows it only partly (neither
    answer is safe) or when every frame shows it (nothing to locate)."""
    states = _states_of(ctx, cand, cand.object_id("a"))
    if (states == PARTLY).any():
        raise Reject("object_partly_shown")
    if (states == SHOWN).all():
        raise Reject("object_in_every_frame")
    shown = [int(k) for k in np.flatnonzero(states == SHOWN)]
    label = ctx.label(cand.object_id("a"))
    return Solved(Answer("frames", shown, extra={"label": label, "clip_length": len(cand.frames)}))


@ANSWERS.register("first_appearance_order")
def first_appearance_order(ctx: TaskContext, cand: Candidate) -> Solved:
    """Roles in the order their objects first show in the clip. An object counts as appeared in
    the first frame that shows it; the order must hold however a partial sighting is read, so each
    object must have shown before the next one is even partly in view."""
    sightings = first_sightings(ctx, cand.frames)
    first_shown, first_seen = {}, {}
    for role, oid, _ in cand.roles:
        first_shown[role], first_seen[role] = sightings[oid]
    if len(set(first_shown.values())) < len(first_shown):
        raise Reject("first_appearances_in_the_same_frame")
    order = sorted(first_shown, key=first_shown.get)
    margin = min(first_seen[later] - first_shown[earlier] for earlier, later in zip(order, order[1:]))
    if margin <= 0:
        raise Reject("next_object_partly_shown_before_first_appears")
    roles = sorted(first_shown)
    return Solved(
        Answer("order", order, exact=first_shown, extra={"options": roles}),
        margin=float(margin),
        balance_key=",".join(order),
        balance_values=tuple(",".join(p) for p in itertools.permutations(roles)),
    )


@ANSWERS.register("label_in_clip")
def label_in_clip(ctx: TaskContext, cand: Candidate) -> Solved:
    """Whether any object of the label shows in the clip: yes when one shows in some frame, no
    when none has even a partial sighting; anything in between is rejected."""
    label = cand.extra["label"]
    ids, states = presence_states(ctx, cand.frames)
    rows = states[[ctx.label(int(i)) == label for i in ids]]
    if (rows == SHOWN).any():
        present = True
    elif (rows == NONE).all():
        present = False
    else:
        raise Reject("label_partly_shown")
    article = "an" if label[:1].lower() in "aeiou" else "a"
    return Solved(Answer("bool", present, extra={"label": label}), slots={"a_label": f"{article} {label}"},
                  balance_key="yes" if present else "no", balance_values=("yes", "no"))
