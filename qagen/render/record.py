"""The rendered QA record: the seam between rendering and the writers.

A `QA` is format-neutral: writers turn it into shareGPT, InternVL, SPAR jsonl, ... and never
compute geometry. `meta` is the FORMATS.md block that makes every answer checkable afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from qagen.tasks.fact import Marker, pickled_by_fields  # Marker: placed by sampling, carried as is into records


@pickled_by_fields
@dataclass(slots=True)  # a value, not frozen: see qagen.tasks.fact
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
