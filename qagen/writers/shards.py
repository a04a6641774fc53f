"""Per-scene shards written atomically, so a crash never leaves a shard that looks complete.

`ShardWriter` streams one scene's records to `<out>/<format>/<source>/<scene>.jsonl` through
`.<scene>.jsonl.tmp` in the same folder and renames it only when the block closes without an
exception; on an exception the temporary file is removed. A shard therefore exists exactly when
its scene finished, which is what `--resume` checks (`shard_is_complete`). Lines that the
writer's consumer would reject are not written; they are counted by reason in `rejected`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from qagen.errors import RecordError
from qagen.render.record import QA
from qagen.writers.base import Writer, dump_json


@dataclass(frozen=True)
class ShardInfo:
    """A finished shard. `columns`: the top-level keys its lines use (None: not yet read)."""

    path: Path
    source: str
    scene: str
    count: int
    columns: Optional[frozenset[str]] = None


def shard_path(out_dir: Path, writer_name: str, source: str, scene: str) -> Path:
    for part in (writer_name, source, scene):
        if not part or part != Path(part).name or part.startswith("."):
            raise ValueError(f"{part!r} cannot name a shard folder or file")
    return Path(out_dir) / writer_name / source / f"{scene}.jsonl"


def shard_is_complete(path: Path) -> bool:
    """True when the shard was renamed into place (only complete shards ever are)."""
    path = Path(path)
    if not path.is_file():
        return False
    size = path.stat().st_size
    if size == 0:
        return True
    with path.open("rb") as f:
        f.seek(size - 1)
        return f.read(1) == b"\n"


def read_shard_info(path: Path, source: str, scene: str) -> ShardInfo:
    """Count the lines of a complete shard and collect their keys (for scenes skipped on resume)."""
    count, columns = 0, set()
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            columns.update(json.loads(line))
            count += 1
    return ShardInfo(Path(path), source, scene, count, frozenset(columns))


class ShardWriter:
    """Context manager writing one scene's records for one writer; see the module docstring."""

    def __init__(self, out_dir: Path, writer: Writer, source: str, scene: str):
        self.writer = writer
        self.source = source
        self.scene = scene
        self.path = shard_path(out_dir, writer.name, source, scene)
        self.tmp_path = self.path.with_name(f".{scene}.jsonl.tmp")
        self.count = 0
        self.rejected: dict[str, int] = {}
        self._columns: set[str] = set()
        self._file = None

    def __enter__(self) -> "ShardWriter":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.tmp_path.open("w", encoding="utf-8", newline="\n")
        return self

    def write(self, qa: QA) -> bool:
        """Encode, check and append one record; False (and counted) when its consumer would reject it."""
        try:
            line = self.writer.encode(qa)
            self.writer.validate(line, qa)
        except RecordError as err:
            reason = getattr(err, "reason", "invalid")
            self.rejected[reason] = self.rejected.get(reason, 0) + 1
            return False
        self._file.write(dump_json(line) + "\n")
        self._columns.update(line)
        self.count += 1
        return True

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self.tmp_path, self.path)
        else:
            self._file.close()
            self.tmp_path.unlink(missing_ok=True)
        return False

    @property
    def info(self) -> ShardInfo:
        return ShardInfo(self.path, self.source, self.scene, self.count, frozenset(self._columns))
