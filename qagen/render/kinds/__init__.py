"""Answer kinds: how each kind of answer value is spelled, which distractors a select question
shows, and which false claim a judge question makes. One handler per kind, registered by name
(`number`, `vector`, `relation`, `choice`, ...); a new kind is a new module here.
"""
from __future__ import annotations

from typing import Any, Optional, Protocol

import numpy as np

from qagen.registry import Registry
from qagen.specs.schema import Margins
from qagen.tasks.fact import Answer, Fact


class AnswerKind(Protocol):
    def spell(self, value: Any, answer: Answer, fact: Fact, coordinates: bool) -> str:
        """The value in words (answers use coordinates=False: shorter references)."""

    def options(self, answer: Answer, fact: Fact, n: int, rank: int, rng: np.random.Generator,
                margins: Margins) -> Optional[tuple[list, int]]:
        """n option values and the index of the truth (at `rank` where the kind can place it), or None."""

    def false_claim(self, answer: Answer, fact: Fact, rng: np.random.Generator, margins: Margins) -> Any:
        """A value that is wrong by more than the task's margin, or None if there is none."""


KINDS: Registry = Registry("answer kind")

from qagen.render.kinds import box, choice, numeric, relation  # noqa: E402,F401  (register the built-in kinds)
from qagen.render.kinds import camera, points, text  # noqa: E402,F401  (camera motion, image points, free text)
from qagen.render.kinds import layout, observer  # noqa: E402,F401  (top-down layouts, imagined-observer relations)
from qagen.render.kinds import boolean, frames, order  # noqa: E402,F401  (yes/no, clip frame sets, orders of objects)
