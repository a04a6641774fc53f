"""What every output writer shares: the writer interface, the line rules, atomic small files.

A writer turns a format-neutral `QA` into one JSON line for one consumer (LLaMA-Factory,
InternVL, ...), checks that line the way its consumer would, and writes the consumer's side
file (dataset_info.json, InternVL meta). Lines are dumped with sorted keys so the bytes of a
shard depend only on its records.
"""
from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional

from qagen.errors import RecordError
from qagen.render.record import QA

if TYPE_CHECKING:
    from qagen.writers.shards import ShardInfo

IMAGE = "<image>"
VIDEO = "<video>"


class InvalidLine(RecordError):
    """A line its consumer would reject; `reason` is the short key rejections are counted by."""

    _fields = ("record_id", "reason", "detail")

    def __init__(self, record_id: str, reason: str, detail: str):
        self.reason, self.detail = reason, detail
        super().__init__(record_id, f"{reason}: {detail}")


def dump_json(obj) -> str:
    """One compact line, UTF-8 kept as is, keys sorted so output bytes are reproducible."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def write_json_atomic(path: Path, obj) -> Path:
    """Write a small JSON side file through a temporary name, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def labelled_placeholders(label: str, count: int) -> str:
    """`<label>-1: <image>\\n<label>-2: <image>\\n...`: tells the model which image is which."""
    return "".join(f"{label}-{i}: {IMAGE}\n" for i in range(1, count + 1))


class Writer(ABC):
    """One output format. Subclasses set `name` and implement encode, validate and write_meta.

    data_root: the folder `QA.images` are relative to; when given, validate checks every image
    exists there. strip_meta: leave the FORMATS.md meta block out of every line.
    """

    name: str

    def __init__(self, data_root: Optional[Path] = None, strip_meta: bool = False):
        self.data_root = Path(data_root) if data_root is not None else None
        self.strip_meta = strip_meta
        self._existing: set[str] = set()  # images already found on disk; scenes reuse frames

    @abstractmethod
    def encode(self, qa: QA) -> dict:
        """The JSON line for `qa`."""

    @abstractmethod
    def validate(self, line: dict, qa: QA) -> None:
        """Raise InvalidLine if the consumer would reject `line`."""

    @abstractmethod
    def write_meta(self, out_dir: Path, shards: list["ShardInfo"], name: str) -> list[Path]:
        """Write the consumer's side file(s) for `shards` under `out_dir/<self.name>/`."""

    def check_turns(self, qa: QA, turns, role_key: str, content_key: str, user: str, assistant: str) -> None:
        """Turns alternate user/assistant, start with the user and end with the assistant."""
        if not isinstance(turns, list) or not turns or len(turns) % 2:
            raise InvalidLine(qa.id, "roles", "the conversation needs user/assistant pairs")
        for i, turn in enumerate(turns):
            expected = user if i % 2 == 0 else assistant
            if not isinstance(turn, dict) or turn.get(role_key) != expected:
                raise InvalidLine(qa.id, "roles", f"turn {i} should come from {expected!r}")
            if not isinstance(turn.get(content_key), str):
                raise InvalidLine(qa.id, "roles", f"turn {i} has no text under {content_key!r}")

    def check_paths(self, qa: QA, paths: Iterable) -> None:
        """Every media path is a non-empty string and, under a data root, an existing file."""
        for path in paths:
            if not isinstance(path, str) or not path:
                raise InvalidLine(qa.id, "media_path", f"{path!r} is not a path")
            if self.data_root is None or path in self._existing:
                continue
            if not (self.data_root / path).is_file():
                raise InvalidLine(qa.id, "missing_image", f"{path} does not exist under the data root")
            self._existing.add(path)
