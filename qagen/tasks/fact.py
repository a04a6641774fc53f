"""Fact: one sampled, answered, untemplated piece of geometry: the seam between geometry and wording.

Everything a renderer needs is here (who is asked about, on which images, with which markers, and
the answer with its exact value); nothing here knows any sentence.

The per-candidate values of sampling (these, Candidate, Solved, QA) are slotted dataclasses, not
frozen ones: several are built for every record, and a frozen dataclass costs 2.5 times as much
to build (each field goes through object.__setattr__), a tenth of all sampling. They are values
all the same: nothing changes one once it is built (dataclasses.replace makes another).
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field, fields
from typing import Any, Literal, Optional

MarkerKind = Literal["point", "box"]


def pickled_by_fields(cls: type) -> type:
    """Pickle a slotted dataclass as its constructor's arguments, in field order: faster both ways
    than dataclasses' own slot state (a Python function per object, and object.__setattr__ per
    field on loading), for the records that helper processes send by the thousand."""
    names = [f.name for f in fields(cls)]
    values = operator.attrgetter(*names)  # a tuple of them, or the value itself for one name
    cls.__reduce__ = (lambda self: (cls, values(self))) if len(names) > 1 else (lambda self: (cls, (values(self),)))
    return cls


class Reject(Exception):
    """A candidate cannot become a clean question; `reason` is counted in the manifest. `final`:
    no candidate of this scene can (a sampler's qualifying set is empty), so the task stops drawing
    instead of counting the same reason for every attempt."""

    def __init__(self, reason: str, final: bool = False):
        self.reason = reason
        self.final = final
        super().__init__(reason)


@dataclass(slots=True)
class ObjectRef:
    role: str
    id: int
    label: str
    image: Optional[int] = None  # index into Fact.frames of the image that marks it
    unique_label: bool = False  # the label alone identifies the object (TASKS.md referring rule)


@pickled_by_fields
@dataclass(slots=True)
class Marker:
    """A point or box drawn on one of the images, placed by the sampling stage and carried as is
    into the rendered record (QA.markers, meta.markers)."""

    role: str  # "a", "b", ... as in meta.objects
    kind: MarkerKind
    color: str  # "red", "blue", "green", "yellow"
    image: int  # index into Fact.frames (= into QA.images and meta.frames)
    xy: Optional[tuple[int, int]] = None  # point, 0-1000 normalised (x, y)
    box: Optional[tuple[int, int, int, int]] = None  # [x1, y1, x2, y2], 0-1000 normalised
    rule: str = "centre"  # which marker rule placed it: "centre", "nearest", "mask_box", "pixel", ...

    def to_json(self) -> dict:
        out = {"role": self.role, "kind": self.kind, "color": self.color, "image": self.image, "rule": self.rule}
        if self.kind == "point":
            out["xy"] = list(self.xy)
        else:
            out["box"] = list(self.box)
        return out


@dataclass(slots=True)
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


@dataclass(slots=True)
class Fact:
    task: str
    frames: tuple[int, ...]  # positions in scene.frames, in the order the images are shown
    media: str  # image | video | none
    objects: tuple[ObjectRef, ...]
    markers: tuple[Marker, ...]
    answer: Answer
    margin: Optional[float] = None  # distance of the truth from the nearest ambiguity boundary
    slots: dict = field(default_factory=dict)  # numbers the question states (e.g. a given depth)
    balance_key: Optional[str] = None  # what the balancer spreads evenly (None: not balanced)

    def role(self, role: str) -> ObjectRef:
        return next(o for o in self.objects if o.role == role)
