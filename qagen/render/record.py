"""The rendered QA record: the seam between rendering and the writers.

A `QA` is format-neutral: writers turn it into shareGPT, InternVL, SPAR jsonl, ... and never
compute geometry. `meta` is the FORMATS.md block that makes every answer checkable afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

MarkerKind = Literal["point", "box"]


@dataclass(frozen=True)
class Marker:
    role: str  # "a", "b", ... as in meta.objects
    kind: MarkerKind
    color: str  # "red", "blue", "green", "yellow"
    image: int  # index into QA.images (= index into meta.frames)
    xy: Optional[tuple[int, int]] = None  # point, 0-1000 normalised (x, y)
    box: Optional[tuple[int, int, int, int]] = None  # [x1, y1, x2, y2], 0-1000 normalised
    rule: str = "centre"  # which marker rule placed it: "centre", "nearest", "mask_box"

    def to_json(self) -> dict:
        out = {"role": self.role, "kind": self.kind, "color": self.color, "image": self.image, "rule": self.rule}
        if self.kind == "point":
            out["xy"] = list(self.xy)
        else:
            out["box"] = list(self.box)
        return out


@dataclass(frozen=True)
class QA:
    id: str  # "<source>/<scene>/<task>/<format>/<n:06d>", stable for a given seed
    task: str
    format: str  # fill | select | sentence | judge
    source: str
    scene: str
    question: str  # the user turn without image placeholders; writers add <image>/<video>
    answer: str  # the assistant turn
    images: tuple[str, ...] = ()  # paths relative to the data root, in the order shown
    media: Literal["image", "video", "none"] = "image"  # "video": images are the frames of one clip
    markers: tuple[Marker, ...] = ()
    meta: dict = field(default_factory=dict)
