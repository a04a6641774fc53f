"""InternVL chat lines with SPAR's marker keys, and the meta file InternVL's finetuning reads.

What InternVL does with them (read in internvl_chat/internvl/train/internvl_chat_finetune.py and
dataset.py, and shell/data/*.json):
- The meta file maps a dataset name to {root, annotation, data_augment, repeat_time, length};
  `annotation` must be one `.jsonl` file (asserted), read line by line; images are loaded from
  os.path.join(root, path). So we write one entry per non-empty shard, named
  `<name>/<source>/<scene>`, with the shard's absolute path (no second copy of the data) and the
  absolute data root; the file is `<out>/internvl/<name>.json`. `length` is the line count.
- `image` as a string takes the single-image path (which prepends `<image>` when missing); as a
  list, the multi-image path, which prepends nothing. The chat preprocessing replaces the
  `<image>` of human turns one by one and asserts that exactly len(image) were replaced: one
  `<image>` per image, in human turns only.
- A `video` key is read only through the Ceph (petrel) loader, so local clips cannot be trained
  from it. Video tasks are therefore written as a list of frames in `image`, labelled
  `Frame-1: <image>` ..., which is the text InternVL builds for video frames itself, and how
  SPAR-7M ships its video tasks (its own loader turns more than 10 images into such frames).
- `id` is not read by InternVL; SPAR uses it only as an index. We write an int derived from the
  QA id (first 8 bytes of its SHA-256, shifted to 63 bits): deterministic, independent of write
  order and worker count, and collision-free in practice at tens of millions of records.

SPAR's marker keys (from SPAR's datasets/draw_marker.py, toy_dataset.py and its README):
- `<color>_point` is [[x, y]] and `<color>_bbox` is [[x1, y1, x2, y2]], 0-1000 of the image, one
  level of wrapping (the drawer reads value[0]); colours red, blue, green, yellow.
- Tasks with many markers use `point_list` / `bbox_list`: [[[x, y], ...]] and [[[x1, y1, x2, y2], ...]].
  We use them when a record's markers of one kind do not have distinct named colours.
- `point_img_idx` / `bbox_img_idx` are [[i, j, ...]]: the image index of each point (box) marker.
  SPAR stores them only for several images (its single-view rows have none) and its drawer reads
  them in the order the task's roles are mentioned (e.g. green, blue, red, yellow for
  spatial_imagination_*_mv: stand, face, a, b). We list them in the order of `QA.markers`, which
  is the spec's role order, so SPAR's drawer paints the right image when the spec gives each role
  SPAR's colour.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from qagen.render.record import QA, Marker
from qagen.writers.base import IMAGE, VIDEO, InvalidLine, Writer, labelled_placeholders, write_json_atomic
from qagen.writers.shards import ShardInfo
from qagen.writers.spar_drawing import SPAR_COLORS, spar_order

MARKER_KEYS = {  # kind -> (suffix of the colour keys, list key, image-index key, numbers per marker)
    "point": ("point", "point_list", "point_img_idx", 2),
    "box": ("bbox", "bbox_list", "bbox_img_idx", 4),
}


def record_number(qa_id: str) -> int:
    """The int id InternVL lines carry for a QA id; see the module docstring."""
    return int.from_bytes(hashlib.sha256(qa_id.encode("utf-8")).digest()[:8], "big") >> 1


def spar_markers(markers: tuple[Marker, ...], several_images: bool) -> dict:
    """SPAR's marker keys for a record's markers, in SPAR's wrapping."""
    out = {}
    for kind, (suffix, list_key, index_key, _) in MARKER_KEYS.items():
        of_kind = [m for m in markers if m.kind == kind]
        if not of_kind:
            continue
        values = [list(m.xy if kind == "point" else m.box) for m in of_kind]
        colors = [m.color for m in of_kind]
        if len(set(colors)) == len(colors) and set(colors) <= set(SPAR_COLORS):
            out.update({f"{color}_{suffix}": [value] for color, value in zip(colors, values)})
        else:
            out[list_key] = [values]
        if several_images:
            out[index_key] = [[m.image for m in of_kind]]
    return out


class InternVLWriter(Writer):
    name = "internvl"

    def encode(self, qa: QA) -> dict:
        line: dict = {"id": record_number(qa.id), "type": qa.task}
        images = list(qa.images) if qa.media != "none" else []
        if qa.media == "video":
            prefix = labelled_placeholders("Frame", len(images))
            line["image"] = images
        elif len(images) == 1:
            prefix = f"{IMAGE}\n"
            line["image"] = images[0]
        elif images:
            prefix = labelled_placeholders("Image", len(images))
            line["image"] = images
        else:
            prefix = ""
        line["conversations"] = [{"from": "human", "value": prefix + qa.question},
                                 {"from": "gpt", "value": qa.answer}]
        line.update(spar_markers(spar_order(qa.task, qa.markers), len(images) > 1))
        if not self.strip_meta:
            line["meta"] = qa.meta
        return line

    def validate(self, line: dict, qa: QA) -> None:
        if not isinstance(line.get("id"), int) or isinstance(line["id"], bool):
            raise InvalidLine(qa.id, "id", "InternVL ids are ints")
        turns = line.get("conversations")
        self.check_turns(qa, turns, "from", "value", "human", "gpt")
        image = line.get("image", [])
        images = [image] if isinstance(image, str) else image
        if not isinstance(images, list):
            raise InvalidLine(qa.id, "media_path", "image must be a path or a list of paths")
        if any(VIDEO in turn["value"] for turn in turns):
            raise InvalidLine(qa.id, "video_placeholders", f"{VIDEO} is not replaced for local frames")
        in_human = sum(turn["value"].count(IMAGE) for turn in turns[0::2])
        in_gpt = sum(turn["value"].count(IMAGE) for turn in turns[1::2])
        if in_human != len(images) or in_gpt:
            raise InvalidLine(qa.id, "image_placeholders",
                              f"{in_human} {IMAGE} in human turns ({in_gpt} in answers) for {len(images)} images")
        self.check_paths(qa, images)
        self._check_markers(line, qa, len(images))

    def _check_markers(self, line: dict, qa: QA, n_images: int) -> None:
        outside = [m.role for m in qa.markers if not 0 <= m.image < n_images]
        if outside:
            raise InvalidLine(qa.id, "marker", f"markers of {outside} are on images the record does not have")
        for kind, (suffix, list_key, index_key, size) in MARKER_KEYS.items():
            values = []
            for key in [f"{color}_{suffix}" for color in SPAR_COLORS] + [list_key]:
                if key not in line:
                    continue
                if not is_wrapped(line[key]):
                    raise InvalidLine(qa.id, "marker", f"{key} is not wrapped once: {line[key]!r}")
                values += line[key][0] if key == list_key else line[key]
            for value in values:
                if not (isinstance(value, list) and len(value) == size and all(map(in_range, value))):
                    raise InvalidLine(qa.id, "marker", f"{kind} {value!r} is not {size} ints in 0-1000")
                if size == 4 and (value[0] > value[2] or value[1] > value[3]):
                    raise InvalidLine(qa.id, "marker", f"box {value!r} has x1 > x2 or y1 > y2")
            if values and n_images > 1 and index_key not in line:
                raise InvalidLine(qa.id, "marker", f"{index_key} is needed with several images")
            index = line.get(index_key, [[0] * len(values)])
            if not (is_wrapped(index) and len(index[0]) == len(values)
                    and all(isinstance(i, int) and 0 <= i < n_images for i in index[0])):
                raise InvalidLine(qa.id, "marker", f"{index_key} {index!r} does not give an image of each {kind}")

    def write_meta(self, out_dir: Path, shards: list[ShardInfo], name: str) -> list[Path]:
        root = str(self.data_root.resolve()) if self.data_root is not None else ""
        entries = {
            f"{name}/{s.source}/{s.scene}": {
                "root": root,
                "annotation": str(Path(s.path).resolve()),
                "data_augment": False,
                "repeat_time": 1,
                "length": s.count,
            }
            for s in sorted(shards, key=lambda s: (s.source, s.scene)) if s.count > 0
        }
        return [write_json_atomic(Path(out_dir) / self.name / f"{name}.json", entries)]


def is_wrapped(value) -> bool:
    return isinstance(value, list) and len(value) == 1 and isinstance(value[0], list)


def in_range(c) -> bool:
    return isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 1000
