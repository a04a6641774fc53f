"""What the converters share: records with their position in the file, errors that name both,
placeholder stripping, 0-1000 values, media paths under the root, and the converted meta block.

A converted record's meta holds what the source states and nothing guessed: task, format (or
"unknown"), source, scene, markers, answer ({"kind": "text", "value": ...} unless the source
gives a box), and `converted_from` {format, file, position, id, ...}. It has no frames, objects,
template or seed: those are not in the sources.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

import qagen
from qagen.errors import InputError
from qagen.render.record import Marker

COLOURS = ("red", "blue", "green", "yellow")
PLACEHOLDERS = re.compile(r"^(?:[ \t]*(?:(?:Image|Frame)-\d+:[ \t]*)?<(?:image|video)>[ \t]*\n?)+")


@dataclass(frozen=True)
class Where:
    """A record's place: its file and "line 12" (jsonl) or "record 12" (a JSON list)."""

    file: Path
    unit: str  # "line" or "record"
    number: int

    @property
    def position(self) -> str:
        return f"{self.unit} {self.number}"

    def error(self, problem: str) -> InputError:
        return InputError(self.file, f"{self.position}: {problem}")


def read_jsonl(path: Path) -> Iterator[tuple[Where, dict]]:
    """Every non-blank line of a jsonl file as a JSON object, with its line number."""
    with Path(path).open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, 1):
            if not text.strip():
                continue
            where = Where(Path(path), "line", number)
            try:
                record = json.loads(text)
            except ValueError as err:
                raise where.error(f"not JSON ({err})") from None
            if not isinstance(record, dict):
                raise where.error("not a JSON object")
            yield where, record


def read_json_list(path: Path) -> Iterator[tuple[Where, dict]]:
    """The objects of a JSON file holding a list, numbered from 1."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as err:
        raise InputError(path, f"not JSON ({err})") from None
    if not isinstance(data, list):
        raise InputError(path, "expected a JSON list of records")
    for number, record in enumerate(data, 1):
        where = Where(Path(path), "record", number)
        if not isinstance(record, dict):
            raise where.error("not a JSON object")
        yield where, record


def read_records(path: Path) -> Iterator[tuple[Where, dict]]:
    """Records of a `.jsonl` file (one per line) or of a `.json` file (a list)."""
    return read_jsonl(path) if Path(path).suffix == ".jsonl" else read_json_list(path)


def check_keys(record: dict, allowed: set[str], where: Where) -> None:
    unknown = sorted(set(record) - allowed)
    if unknown:
        raise where.error(f"unknown key(s) {unknown}; expected only {sorted(allowed)}")


def strip_placeholders(text: Any, where: Where, what: str = "question") -> str:
    """The text without its leading `<image>`/`<video>` lines (writers add their own)."""
    if not isinstance(text, str):
        raise where.error(f"the {what} is not text")
    stripped = PLACEHOLDERS.sub("", text)
    if "<image>" in stripped or "<video>" in stripped:
        raise where.error(f"the {what} has an <image>/<video> placeholder inside its text, which qagen records "
                          "cannot place; only leading placeholders are supported")
    return stripped


def question_and_answer(turns: Any, field: str, speaker_key: str, text_key: str, speakers: tuple[str, str],
                        where: Where) -> tuple[str, str]:
    """The question (placeholders stripped) and the answer of a one-question exchange: `field` holds
    two dicts naming their speaker under `speaker_key` (the asker, then the answerer: `speakers`)
    and their text under `text_key`."""
    if not (isinstance(turns, list) and len(turns) == 2 and all(isinstance(t, dict) for t in turns)):
        raise where.error(f"{field} should be one {speakers[0]} turn and one {speakers[1]} turn")
    found = [t.get(speaker_key) for t in turns]
    if found != list(speakers):
        raise where.error(f"{field} come from {found}, expected {list(speakers)}")
    answer = turns[1].get(text_key)
    if not isinstance(answer, str):
        raise where.error("the answer is not text")
    return strip_placeholders(turns[0].get(text_key), where), strip_placeholders(answer, where, "answer")


def scaled_ints(values: Any, size: int, where: Where, what: str) -> tuple[int, ...]:
    """`size` integers in 0-1000 (integral floats accepted), else a clear error."""
    if not isinstance(values, (list, tuple)) or len(values) != size:
        raise where.error(f"{what} should be {size} numbers, got {values!r}")
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values):
        raise where.error(f"{what} should be numbers, got {values!r}")
    if any(not float(v).is_integer() for v in values):
        hint = " (it looks normalised to 0-1)" if all(0 <= v <= 1 for v in values) else ""
        raise where.error(f"{what} should be integers on the 0-1000 scale, got {values!r}{hint}")
    if any(not 0 <= v <= 1000 for v in values):
        raise where.error(f"{what} {values!r} leaves the 0-1000 scale (pixel coordinates?)")
    ints = tuple(int(v) for v in values)
    if size == 4 and (ints[0] > ints[2] or ints[1] > ints[3]):
        raise where.error(f"{what} {list(ints)} has x1 > x2 or y1 > y2")
    return ints


def to_scale(value: float, extent: int) -> int:
    """A pixel coordinate as 0-1000 of its image extent (FORMATS.md: round(x / W * 1000))."""
    return round(value / extent * 1000)


def media_path(path: Any, root: Path, where: Where) -> str:
    """A media path as the writers want it (relative to root, posix), checked to exist."""
    if not isinstance(path, str) or not path:
        raise where.error(f"{path!r} is not a path")
    given = Path(path)
    full = given if given.is_absolute() else root / given
    if not full.is_file():
        raise where.error(f"image {path} does not exist under {root}")
    if given.is_absolute():
        try:
            return full.relative_to(root).as_posix()
        except ValueError:
            raise where.error(f"image {path} lies outside the root {root}; pass --root") from None
    return PurePosixPath(path).as_posix()


def lettered_roles(count: int) -> list[str]:
    """a, b, ..., z, then a1, b1, ...: roles for markers whose source names none."""
    return [chr(ord("a") + i % 26) + (str(i // 26) if i >= 26 else "") for i in range(count)]


def converted_meta(task: str, fmt: str, source: str, scene: str, markers: tuple[Marker, ...], answer: dict,
                   origin: dict, **extra: Any) -> dict:
    """The meta block of a converted record (see the module docstring)."""
    meta = {"qagen": qagen.__version__, "task": task, "format": fmt, "source": source, "scene": scene,
            "markers": [m.to_json() for m in markers], "answer": answer, "converted_from": origin}
    meta.update({k: v for k, v in extra.items() if v is not None})
    return meta


def json_or_value(value: Any) -> Any:
    """A value that may be stored as a JSON string (flattened sources) decoded, else as it is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def first_scene(images: list[str]) -> str:
    """The scene a record's images belong to: the first path component of the first image."""
    return PurePosixPath(images[0]).parts[0] if images else "unknown"
