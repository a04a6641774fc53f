"""The sampling loop: sampler -> answer function -> (balance, dedupe) -> Fact, with every rejection counted."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from qagen.registry import ANSWERS, SAMPLERS
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.fact import Answer, Fact, ObjectRef, Reject
from qagen.tasks.markers import place_markers

ATTEMPTS_PER_FACT = 40
# Candidates in a row that were all tried before: the sampler has run out of new ones on this scene
# (were 10 % of them still untried, this would happen 1 time in 200), so the task stops there.
EXHAUSTED_AFTER = 50
LABEL_SLACK = 1  # wins a label may have above its share (Balancer), so that small scenes still fill their quota


@dataclass(slots=True)  # a value, not frozen: see qagen.tasks.fact
class Solved:
    """What an answer function returns."""

    answer: Answer
    margin: Optional[float] = None
    slots: dict = field(default_factory=dict)
    balance_key: Optional[str] = None
    balance_values: tuple[str, ...] = ()  # every key the balancer should expect, when known
    # A choice among objects named by label: (condition, the answer's label, every option's label),
    # so that the balancer keeps the labels from predicting the answer (see Balancer).
    label_odds: Optional[tuple[str, str, tuple[str, ...]]] = None


class LabelOdds:
    """How often each label, under a condition, was the answer of the k-option questions made and
    how often it was shown in them; a label is refused that would be the answer in more than 1/k
    of the questions showing it, rounded up, plus LABEL_SLACK. Every question has one answer among
    its k options, so with no label above its share each is near it: what a question shows then
    says little about which option is the answer."""

    def __init__(self):
        self.wins: Counter = Counter()
        self.shown: Counter = Counter()

    def refuses(self, condition: Any, label: Any, labels: tuple) -> bool:
        shown = self.shown[condition, label] + labels.count(label)
        return self.wins[condition, label] + 1 > math.ceil(shown / len(labels)) + LABEL_SLACK

    def accept(self, condition: Any, label: Any, labels: tuple) -> None:
        self.wins[condition, label] += 1
        for shown in labels:
            self.shown[condition, shown] += 1


class Balancer:
    """Keeps the answers of one task and format spread, by turning candidates away (resampling):

    - balance keys: a key is taken only while it is not ahead of the rarest expected key, so the
      spread is exact (when the spec asks for balance);
    - label odds (LabelOdds): under each condition (the criterion asked), no label is the answer
      of more than its share of the questions that name it (where world priors, a sofa stands
      farther from the camera than a book, would otherwise tell a text-only model)."""

    def __init__(self, keys: bool = True, slack: int = 0):
        self.keys = keys
        self.slack = slack
        self.counts: Counter = Counter()
        self.labels = LabelOdds()

    def refuses(self, solved: Solved) -> Optional[str]:
        """Why `accept` would turn the answer away now ("balance", "label_predicts_answer"), or None."""
        key = solved.balance_key
        if self.keys and key is not None:
            have = self.counts[key]
            if have > self.slack and have > self._rarest(solved.balance_values) + self.slack:
                return "balance"
        if solved.label_odds is not None and self.labels.refuses(*solved.label_odds):
            return "label_predicts_answer"
        return None

    def _rarest(self, expected: tuple[str, ...]) -> int:
        """How often the rarest key has been taken, among those expected and those taken (0 while
        one expected is not yet taken); taken keys are in `counts`, every count at least 1."""
        if any(k not in self.counts for k in expected):
            return 0
        return min(self.counts.values())

    def accept(self, solved: Solved) -> None:
        if self.keys and solved.balance_key is not None:
            self.counts[solved.balance_key] += 1
        if solved.label_odds is not None:
            self.labels.accept(*solved.label_odds)


def _label_count(ctx: TaskContext, frames: tuple[int, ...], label: str) -> int:
    """How many objects of the label are visible in any of the frames (each counted once);
    memoised per scene, visibility filters and frames: nearly half the facts show frames one
    before showed, and a fact asks it for each of its objects."""
    by_frames = ctx.per_visibility("label_counts")  # frames -> label -> count
    counts = by_frames.get(frames)
    if counts is None:
        if len(frames) == 1:
            seen = ctx.visible_ids(frames[0])
        else:
            seen = set()
            for pos in frames:
                seen.update(ctx.visible_ids(pos))
        counts = by_frames[frames] = Counter([ctx.label(i) for i in seen])
    return counts[label]


def _scene_label_count(ctx: TaskContext, label: str) -> int:
    counts = ctx.scene_memo.get("label_counts")
    if counts is None:
        counts = ctx.scene_memo["label_counts"] = Counter(o.label for o in ctx.scene.objects)
    return counts[label]


def build_fact(ctx: TaskContext, cand: Candidate, solved: Solved) -> Fact:
    """The fact; an object may be referred to by its label alone (unique_label) when it is the one
    object of its label visible in the fact's frames (in the scene, for questions without images)."""
    in_view = cand.media != "none" and ctx.index is not None
    objects = []
    for role, object_id, image in cand.roles:
        label = ctx.label(object_id)
        count = _label_count(ctx, cand.frames, label) if in_view else _scene_label_count(ctx, label)
        objects.append(ObjectRef(role, object_id, label, image, unique_label=count == 1))
    return Fact(
        task=ctx.spec.name,
        frames=cand.frames,
        media=cand.media,
        objects=tuple(objects),
        markers=place_markers(ctx, cand),
        answer=solved.answer,
        margin=solved.margin,
        slots=solved.slots,
        balance_key=solved.balance_key,
    )


def _identity(cand: Candidate, cand_extra: str, solved: Solved) -> Any:
    """What makes two facts the same question: checked before a fact is built (markers, labels)."""
    extra = solved.answer.extra
    return (cand.frames, tuple([(role, object_id) for role, object_id, _ in cand.roles]), cand_extra,
            repr(solved.answer.value), extra.get("criterion"), extra.get("label"))


def sample_facts(ctx: TaskContext, n: int, keep: Optional[Callable[[Fact], bool]] = None) -> list[Fact]:
    """Up to n facts; every candidate that does not become one is counted in ctx.rejections.

    `keep(fact)` may still turn a built fact away (the renderer, when the fact cannot be worded in
    its format; it counts its own reason): the fact then does not count towards n or the balance,
    and sampling goes on."""
    sampler, sampler_args = SAMPLERS.get(ctx.spec.sampler), ctx.spec.sampler_args
    answer, answer_args = ANSWERS.get(ctx.spec.answer), ctx.spec.answer_args
    balancer = ctx.balancer = Balancer(keys=ctx.spec.balance)
    seen: set = set()  # identities of the facts made (or turned away by `keep`)
    tried: set = set()  # candidates drawn
    facts: list[Fact] = []
    repeats = 0  # candidates in a row that were drawn before
    limit, asked = ctx.spec.max_same_objects, Counter()  # facts made per set of objects (all under None without a limit)
    for _ in range(ATTEMPTS_PER_FACT * n):
        if len(facts) >= n or repeats >= EXHAUSTED_AFTER:
            break
        try:
            cand = sampler(ctx, **sampler_args)
        except Reject as rej:
            ctx.rejections[rej.reason] += 1
            if rej.final:
                break
            continue
        cand_extra = repr(cand.extra)
        drawn = (cand.frames, cand.roles, cand.media, cand_extra)
        objects = None if limit is None else frozenset(object_id for _, object_id, _ in cand.roles)
        if objects is not None and asked[objects] >= limit:
            ctx.rejections["objects_asked_already"] += 1
            repeats += 1  # nothing new: like a candidate drawn before
            continue
        repeats = repeats + 1 if drawn in tried else 0
        tried.add(drawn)
        try:
            solved = answer(ctx, cand, **answer_args)
        except Reject as rej:
            ctx.rejections[rej.reason] += 1
            continue
        identity = _identity(cand, cand_extra, solved)
        if identity in seen:
            ctx.rejections["duplicate"] += 1
            continue
        refused = balancer.refuses(solved)
        if refused is not None:
            ctx.rejections[refused] += 1
            continue
        seen.add(identity)
        fact = build_fact(ctx, cand, solved)
        if keep is not None and not keep(fact):
            continue
        balancer.accept(solved)
        facts.append(fact)
        asked[objects] += 1
        repeats = 0
    return facts
