"""The task-spec schema. A spec is data: it names its sampler and answer function as strings.

Unknown keys are rejected everywhere (extra="forbid"), so a typo in a YAML file is an error that
names the key rather than a silently ignored option.
"""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

Capability = Literal["frames", "poses", "depth", "instances", "labels", "boxes", "metric", "room"]
Format = Literal["fill", "select", "sentence", "judge"]
FORMATS: tuple[str, ...] = ("fill", "select", "sentence", "judge")
MARKER_COLORS = ("red", "blue", "green", "yellow")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MarkerSpec(Strict):
    role: str
    kind: Literal["point", "box"] = "point"
    color: Literal["red", "blue", "green", "yellow"]


class Filters(Strict):
    """Candidate filters; defaults are TASKS.md's."""

    min_pixels: int = 400  # at 640x480, scaled with image area
    max_truncation: float = 0.3
    min_separation_m: float = 0.0  # between object centres
    min_frames: int = 1  # clip tasks: frames in the clip
    max_frames: int = 16
    frame_stride: int = 1


class Margins(Strict):
    """Ambiguity margins (TASKS.md): candidates inside them are rejected or get an empty slot."""

    length_abs_m: float = 0.15
    length_rel: float = 0.10
    axis_m: float = 0.15
    sector_deg: float = 10.0


class SelectSpec(Strict):
    options: int = Field(4, ge=2, le=6)
    distractors: Literal["numeric", "choice", "relation", "vector", "count", "box", "frames", "order", "bool"] = "numeric"


class TaskSpec(Strict):
    name: str
    version: int = 1
    description: str
    level: Literal["perception", "p2r", "reasoning"]
    modality: Literal["single_view", "multi_view", "video", "scene"]
    relation: Literal["oo", "oc", "none"]
    requires: list[Capability]
    sampler: str
    sampler_args: dict[str, Any] = Field(default_factory=dict)
    filters: Filters = Field(default_factory=Filters)
    margins: Margins = Field(default_factory=Margins)
    answer: str
    answer_args: dict[str, Any] = Field(default_factory=dict)
    markers: list[MarkerSpec] = Field(default_factory=list)
    formats: list[Format]
    select: Optional[SelectSpec] = None
    per_scene: int = Field(8, ge=1)  # default QA per scene per format, before mixing
    balance: bool = True  # resample so the answer's balance key is spread evenly
    # At most this many questions per format about one set of objects (None: no limit), where a
    # scene keeps giving the same answer for them whatever the frames (the order a walk meets
    # three objects in): past it, a scene's questions would repeat one fact. Turned away before
    # the answer is computed, as "objects_asked_already"; the task stops short when that is all
    # the scene has left.
    max_same_objects: Optional[int] = Field(None, ge=1)

    def marker(self, role: str) -> Optional[MarkerSpec]:
        return next((m for m in self.markers if m.role == role), None)
