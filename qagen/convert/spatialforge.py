"""SpatialForge-style QA (boxes as Qwen-VL `bbox_2d`, 0-1000) as qagen records.

FORMATS.md describes this source as QA whose boxes are normalised to [0, 1000] in Qwen-VL's
`bbox_2d` convention (writers.qwen); no public schema of it was found, so this reader takes the
Qwen-VL finetuning record shape that convention comes with, one record per line of a `.jsonl`
file or per entry of a `.json` list:

    {"id": "...", "image": "a.jpg" | ["a.jpg", ...]   (or "images"),
     "conversations": [{"from": "human", "value": "<image>\\nWhere ..."}, {"from": "gpt", "value": "..."}]
                      (or "messages" with role user/assistant and content),
     "type": "object_grounding"  (or "task"; optional),
     "objects": [{"bbox_2d": [x1, y1, x2, y2], "label": "chair", "image": 0}, ...]  (optional)}

`objects` are the boxes the question refers to: box markers coloured red, blue, green, yellow in
order, on `image` (default 0). An answer that is a `{"bbox_2d", "label"}` object (or a list of
exactly one) becomes a box answer (meta.answer kind "box" with its label); any other answer is
text. Every box must be four integers on the 0-1000 scale: values in 0-1 (normalised to 1) or
above 1000 (pixels) are errors, as are other keys.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from qagen.convert.common import COLOURS, Where, check_keys, converted_meta, first_scene, lettered_roles, \
    media_path, read_records, scaled_ints, strip_placeholders
from qagen.render.record import QA, Marker

NAME = "spatialforge"
KEYS = {"id", "image", "images", "conversations", "messages", "type", "task", "objects"}
STYLES = {"conversations": ("from", "value", "human", "gpt"), "messages": ("role", "content", "user", "assistant")}


def files(input_path: Path) -> list[Path]:
    if input_path.is_file():
        return [input_path]
    return sorted(p for p in input_path.rglob("*") if p.suffix in (".json", ".jsonl"))


def default_root(input_path: Path) -> Path:
    return input_path if input_path.is_dir() else input_path.parent


def read(path: Path, root: Path, shard: str, **_options) -> Iterator[QA]:
    for where, record in read_records(path):
        yield to_qa(record, where, root, f"{NAME}/{shard}/{where.number:06d}")


def to_qa(record: dict, where: Where, root: Path, qa_id: str) -> QA:
    check_keys(record, KEYS, where)
    question, answer = exchange(record, where)
    if "image" in record and "images" in record:
        raise where.error("both image and images are given")
    given = record.get("image", record.get("images", []))
    paths = [given] if isinstance(given, str) else given
    if not isinstance(paths, list):
        raise where.error("image should be a path or a list of paths")
    images = [media_path(p, root, where) for p in paths]
    markers = object_markers(record.get("objects", []), len(images), where)
    task = record.get("type", record.get("task", NAME))
    scene = first_scene(images)
    origin = {"format": NAME, "file": where.file.name, "position": where.position, "id": record.get("id")}
    meta = converted_meta(task, "unknown", NAME, scene, markers, answer_meta(answer, where), origin)
    return QA(id=qa_id, task=str(task), format="unknown", source=NAME, scene=scene, question=question, answer=answer,
              images=tuple(images), media="image" if images else "none", markers=markers, meta=meta)


def exchange(record: dict, where: Where) -> tuple[str, str]:
    """The question (placeholders stripped) and answer of a one-question record, either style."""
    styles = [key for key in STYLES if key in record]
    if len(styles) != 1:
        raise where.error("give exactly one of conversations (from/value) or messages (role/content)")
    role, content, user, assistant = STYLES[styles[0]]
    turns = record[styles[0]]
    if not (isinstance(turns, list) and all(isinstance(t, dict) for t in turns)
            and [t.get(role) for t in turns] == [user, assistant]):
        raise where.error(f"{styles[0]} should be one {user} turn and one {assistant} turn")
    answer = turns[1].get(content)
    if not isinstance(answer, str):
        raise where.error("the answer is not text")
    return strip_placeholders(turns[0].get(content), where), answer


def object_markers(objects: Any, n_images: int, where: Where) -> tuple[Marker, ...]:
    if not isinstance(objects, list):
        raise where.error("objects should be a list of {bbox_2d, label, image}")
    markers = []
    for k, (role, item) in enumerate(zip(lettered_roles(len(objects)), objects)):
        if not isinstance(item, dict) or "bbox_2d" not in item:
            raise where.error(f"objects[{k}] has no bbox_2d")
        image = item.get("image", 0)
        if isinstance(image, bool) or not isinstance(image, int) or not 0 <= image < n_images:
            raise where.error(f"objects[{k}] is on image {image!r}, which the record does not have")
        box = scaled_ints(item["bbox_2d"], 4, where, f"objects[{k}].bbox_2d")
        markers.append(Marker(role, "box", COLOURS[k % 4], image, box=box, rule="bbox_2d"))
    return tuple(markers)


def answer_meta(answer: str, where: Where) -> dict:
    """A Qwen-VL box answer as {"kind": "box", "value", "label"}, anything else as text."""
    try:
        parsed = json.loads(answer)
    except ValueError:
        return {"kind": "text", "value": answer}
    if isinstance(parsed, list) and len(parsed) == 1:
        parsed = parsed[0]
    if not (isinstance(parsed, dict) and "bbox_2d" in parsed):
        return {"kind": "text", "value": answer}
    box = scaled_ints(parsed["bbox_2d"], 4, where, "the answer's bbox_2d")
    out = {"kind": "box", "value": list(box)}
    if parsed.get("label") is not None:
        out["label"] = str(parsed["label"])
    return out
