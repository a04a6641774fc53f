"""Mixing: how many QA each (scene, task, format) cell is asked for.

```yaml
sources: {scannet: 1.0, synthetic: 0.5}     # weight per source (default 1)
tasks: {default: 1.0, room_size: 0.2}       # weight per task ("default" for the rest)
formats: {fill: 1.0, select: 1.0}           # weight per format (default 1)
per_scene: {default: 8, obj_count: 4}       # base QA per scene per task per format (default: the spec's)
cap_per_scene: 50                           # at most this many per scene per task (all formats)
total: 100000                               # optional: scale every cell so the run asks for this many
split: {val: 0.1}                           # optional scene-level split (fractions; the rest is train)
```
Cells are rounded stochastically with a seeded stream, so quotas are met by sampling at
generation time, never by cutting files; the manifest lists requested vs produced per cell.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from qagen.errors import SpecError
from qagen.pipeline.seeds import fraction
from qagen.specs.load import read_yaml


class Mix(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: dict[str, float] = Field(default_factory=dict)
    tasks: dict[str, float] = Field(default_factory=dict)
    formats: dict[str, float] = Field(default_factory=dict)
    per_scene: dict[str, int] = Field(default_factory=dict)
    cap_per_scene: Optional[int] = Field(None, ge=1)
    total: Optional[int] = Field(None, ge=1)
    split: dict[str, float] = Field(default_factory=dict)

    @field_validator("split")
    @classmethod
    def _split_fractions(cls, value: dict[str, float]) -> dict[str, float]:
        if any(v < 0 for v in value.values()) or sum(value.values()) > 1:
            raise ValueError("split fractions must be non-negative and sum to at most 1")
        if "train" in value:
            raise ValueError("'train' is the remainder; list only the other splits")
        return value

    def weight(self, source: str, task: str, fmt: str) -> float:
        return (
            self.sources.get(source, 1.0)
            * self.tasks.get(task, self.tasks.get("default", 1.0))
            * self.formats.get(fmt, 1.0)
        )

    def base(self, task: str, spec_default: int) -> int:
        return self.per_scene.get(task, self.per_scene.get("default", spec_default))

    def split_of(self, seed: int, scene_id: str) -> Optional[str]:
        if not self.split:
            return None
        u, edge = fraction(seed, "split", scene_id), 0.0
        for name, share in sorted(self.split.items()):
            edge += share
            if u < edge:
                return name
        return "train"


def load_mix(path: Optional[Path]) -> Mix:
    if path is None:
        return Mix()
    data = read_yaml(Path(path))
    try:
        return Mix.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise SpecError(path, ".".join(map(str, err["loc"])) or None, err["msg"]) from None
