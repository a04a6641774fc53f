"""Fact -> QA: choose a paraphrase with the seeded RNG, build the template variables, fill, select,
sentence or judge, and assemble the checkable `meta` block.

Balance that belongs to wording lives here: select letters are spread evenly (the renderer asks
each answer kind for options with the truth at the least-used letter; for most numbers that is the
truth's rank among ascending options), judge claims are true exactly half of the time.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Optional

import numpy as np

import qagen
from qagen.render import wording
from qagen.render.catalogue import Template
from qagen.render.kinds import KINDS
from qagen.render.record import QA
from qagen.scene.model import Scene
from qagen.specs.schema import TaskSpec
from qagen.tasks.context import UniformIndex
from qagen.tasks.engine import LabelOdds
from qagen.tasks.fact import Fact, Reject

LETTERS = "ABCDEF"


@dataclass
class RenderState:
    """Per (scene, task, format) counters that keep letters and judge truths balanced, and the
    patterns of options drawn while rendering (what a kind shows of a value once numbers are set
    aside: the direction words of a camera move) from predicting the answer, with the balancer's
    label odds: a pattern only the truths take (a downward tilt among walks that look level) would
    otherwise be the answer whenever it is shown."""

    letters: Counter = field(default_factory=Counter)
    truths: Counter = field(default_factory=Counter)
    patterns: LabelOdds = field(default_factory=LabelOdds)
    _uniform: Optional[UniformIndex] = None

    def index_below(self, rng: np.random.Generator) -> UniformIndex:
        """int(rng.integers(n)) for the format's RNG, at a quarter of its cost (the same draws)."""
        if self._uniform is None or self._uniform.rng is not rng:
            self._uniform = UniformIndex(rng)
        return self._uniform

    def least_used(self, counter: Counter, keys: list, rng: np.random.Generator) -> list:
        """Keys ordered from least to most used, ties broken by the RNG."""
        jitter = rng.permutation(len(keys)).tolist()  # Python ints: numpy scalars compare ~10x slower
        return [k for _, _, k in sorted((counter[k], j, k) for k, j in zip(keys, jitter))]


@lru_cache(maxsize=None)
def letter_choices(n: int) -> str:
    """"A, B, C or D" for n = 4: one of a few strings, asked by every select question."""
    return ", ".join(LETTERS[: n - 1]) + f" or {LETTERS[n - 1]}"


def spell(value: Any, fact: Fact, coordinates: bool = True) -> str:
    return KINDS.get(fact.answer.kind)().spell(value, fact.answer, fact, coordinates)


def shared_variables(fact: Fact) -> dict[str, Any]:
    """The variables questions and answers share: the fact's slots (numbers spelled), the answer's
    criterion, label and dimension, and what derives from them."""
    a = fact.answer
    shared: dict[str, Any] = {}
    for key, val in fact.slots.items():
        shared[key] = wording.number(val) if isinstance(val, (int, float)) else val
    for key in ("criterion", "label", "dimension"):
        if key in a.extra:
            shared[key] = a.extra[key]
    if "label" in shared:
        shared["label_plural"] = wording.plural(shared["label"])
    if a.kind == "choice":
        shared["answer_color"] = next((m.color for m in fact.markers if m.role == a.value), a.value)
    shared["n_images"] = len(fact.frames)
    return shared


def variables(fact: Fact, shared: dict[str, Any], names: frozenset[str], coordinates: bool) -> dict[str, Any]:
    """The variables a template reads (`names`): references to the fact's objects, which give
    marker coordinates in questions (`coordinates`) and colours only in answers, the spelled
    answer and its value, and the shared variables (which win over references, as they are named).
    Only what the template reads is spelled: most answers read one value, no question the answer."""
    a = fact.answer
    out: dict[str, Any] = {}
    for o in fact.objects:  # a loop, not a dict comprehension (a function call of its own in 3.11)
        if o.role in names:
            out[o.role] = wording.refer(o, fact, coordinates)
    if "answer" in names or "value" in names:
        out["answer"] = KINDS.get(a.kind)().spell(a.value, a, fact, coordinates)
        out["value"] = wording.number(a.value) if a.kind == "number" else out["answer"]
    out.update(shared)
    return out


class Renderer:
    def __init__(self, spec: TaskSpec, templates: dict[str, list[Template]], scene: Scene):
        self.spec = spec
        self.templates = templates
        self.scene = scene
        self.states: dict[str, RenderState] = {}

    def render(self, fact: Fact, fmt: str, number: int, rng: np.random.Generator, seed: int,
               template_index: Optional[int] = None) -> QA:
        """One record; `template_index` forces a paraphrase (the template test renders them all)."""
        state = self.states.get(fmt) or self.states.setdefault(fmt, RenderState())
        answer_meta = fact.answer.to_json()
        worded: dict[str, Any] = {}  # the options or the claim, which questions and answers both show
        if fmt == "select":
            self._select(fact, worded, answer_meta, state, rng)
        elif fmt == "judge":
            self._judge(fact, worded, answer_meta, state, rng)
        paraphrases = self.templates[fmt]
        choice = state.index_below(rng)(len(paraphrases)) if template_index is None else template_index
        template = paraphrases[choice]
        shared = shared_variables(fact)
        asked = variables(fact, shared, template.question.names, coordinates=True) | worded
        answered = variables(fact, shared, template.answer.names, coordinates=False) | worded
        question = template.question.render(asked).strip()
        note = wording.marker_note(fact)
        if note:
            question = f"{note}\n{question}"
        answer = template.answer.render(answered).strip()
        return self._record(fact, fmt, number, template, question, answer, answer_meta, seed)

    def _select(self, fact: Fact, worded: dict, answer_meta: dict, state: RenderState,
                rng: np.random.Generator) -> None:
        kind, n = KINDS.get(fact.answer.kind)(), self.spec.select.options
        for rank in state.least_used(state.letters, list(range(n)), rng):
            found = kind.options(fact.answer, fact, n, rank, rng, self.spec.margins)
            if found is not None:
                break
        else:
            raise Reject("no_distractors_outside_margin")
        values, correct = found
        if hasattr(kind, "pattern"):
            patterns = tuple(kind.pattern(v, fact.answer) for v in values)
            if patterns[correct] is not None:
                if state.patterns.refuses(None, patterns[correct], patterns):
                    raise Reject("option_pattern_predicts_answer")
                state.patterns.accept(None, patterns[correct], patterns)
        letter = LETTERS[correct]
        state.letters[correct] += 1
        shown = [kind.spell(v, fact.answer, fact, True) for v in values]
        worded["options"] = "\n".join([f"{option}. {text}" for option, text in zip(LETTERS, shown)])
        worded["letters"] = letter_choices(len(shown))
        worded["letter"] = letter
        answer_meta["options"] = values
        answer_meta["letter"] = letter

    def _judge(self, fact: Fact, worded: dict, answer_meta: dict, state: RenderState,
               rng: np.random.Generator) -> None:
        a = fact.answer
        truth = state.least_used(state.truths, [True, False], rng)[0]
        claim = a.value if truth else KINDS.get(a.kind)().false_claim(a, fact, rng, self.spec.margins)
        if claim is None:
            raise Reject("no_false_claim_outside_margin")
        state.truths[truth] += 1
        worded["claim"] = spell(claim, fact)
        worded["truth"] = "Yes" if truth else "No"
        answer_meta.clear()
        answer_meta.update({"kind": "bool", "value": truth, "claim": claim, "fact": fact.answer.to_json()})

    def _record(self, fact: Fact, fmt: str, number: int, template: Template, question: str, answer: str,
                answer_meta: dict, seed: int) -> QA:
        scene = self.scene
        frames = [scene.frames[p] for p in fact.frames]
        images = tuple([scene.image_names[p] for p in fact.frames])  # lists, not generators: cheaper to drain
        meta = {
            "qagen": qagen.__version__,
            "task": self.spec.name,
            "task_version": self.spec.version,
            "format": fmt,
            "template": template.id,
            "source": scene.source,
            "scene": scene.id,
            "frames": [f.index for f in frames],
            "objects": [{"role": o.role, "id": o.id, "label": o.label} for o in fact.objects],
            "markers": [m.to_json() for m in fact.markers],
            "answer": answer_meta,
            "margin": fact.margin,
            "seed": seed,
        }
        return QA(
            id=f"{scene.source}/{scene.id}/{self.spec.name}/{fmt}/{number:06d}",
            task=self.spec.name,
            format=fmt,
            source=scene.source,
            scene=scene.id,
            question=question,
            answer=answer,
            images=images,
            media=fact.media if frames else "none",
            markers=fact.markers,
            meta=meta,
        )
