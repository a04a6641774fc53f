"""Fact: one sampled, answered, untemplated piece of geometry: the seam between geometry and wording.

Everything a renderer needs is here (who is asked about, on which images, with which markers, and
the answer with its exact value); nothing here knows any sentence.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


class Reject(Exception):
    """A candidate cannot become a clean question; `reason` is counted in the manifest. `final`:
    no candidate of this scene can (a sampler's qualifying set is empty), so the task stops drawing
    instead of counting the same reason for every attempt."""

    def __init__(self, reason: str, final: bool = False):
        self.reason = reason
        self.final = final
        super().__init__(reason)


@dataclass(frozen=True)
class ObjectRef:
    role: str
    id: int
    label: str
    image: Optional[int] = None  # index into Fact.frames of the image that marks it
    unique_label: bool = False  # the label alone identifies the object (TASKS.md referring rule)


@dataclass(frozen=True)
class MarkerPlacement:
    role: str
    kind: str  # point | box
    color: str
    image: int  # index into Fact.frames
    xy: Optional[tuple[int, int]] = None  # 0-1000
    box: Optional[tuple[int, int, int, int]] = None  # 0-1000
    rule: str = "centre"


@dataclass(frozen=True)
class Answer:
    kind: str  # number | choice | bool | relation | vector | box | order | text
    value: Any
    exact: Any = None
    unit: Optional[str] = None
    extra: dict = field(default_factory=dict)  # options, criterion, label, dimension, claim, ...

    def to_json(self) -> dict:
        out = {"kind": self.kind, "value": self.value}
        if self.unit is not None:
            out["unit"] = self.unit
        if self.exact is not None:
            out["exact"] = self.exact
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class Fact:
    task: str
    frames: tuple[int, ...]  # positions in scene.frames, in the order the images are shown
    media: str  # image | video | none
    objects: tuple[ObjectRef, ...]
    markers: tuple[MarkerPlacement, ...]
    answer: Answer
    margin: Optional[float] = None  # distance of the truth from the nearest ambiguity boundary
    slots: dict = field(default_factory=dict)  # numbers the question states (e.g. a given depth)
    balance_key: Optional[str] = None  # what the balancer spreads evenly (None: not balanced)

    def role(self, role: str) -> ObjectRef:
        return next(o for o in self.objects if o.role == role)
