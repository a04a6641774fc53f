"""shareGPT lines for LLaMA-Factory, and the dataset_info.json that loads them as is.

What LLaMA-Factory does with them (read in its data/README.md, data/parser.py, data/loader.py,
data/converter.py and data/mm_plugin.py):
- dataset_info.json sits in `dataset_dir`; an entry's `file_name` is joined to `dataset_dir` and
  must be one file or one folder. A folder is listed without recursion and every file in it is
  loaded; all must share one extension (a stray `.tmp` aborts the load). A list is not accepted.
- A folder, and a file, is read by the `datasets` json builder (LLaMA-Factory pins
  datasets<=4.0.0): the first file fixes the columns and their types and every other file is
  cast to them. So the files of one entry need the same top-level keys, and a value may not
  change type between lines. The meta block changes type from task to task
  (`answer.value` is a number, a role, a list...), which breaks that load; the shareGPT line
  therefore stores meta as one JSON string (`json.loads(line["meta"])` gives the FORMATS.md
  object back). Checked by loading qagen shards with datasets 4.0.0.
- Roles: user at even positions, assistant at odd, an even number of turns, else the example is
  dropped. Tags (`role_tag`, `content_tag`, `user_tag`, `assistant_tag`) say which keys and
  values mean what; the openai style is `formatting: sharegpt` with role/content tags.
- The number of `<image>` in all turns must equal len(images), and of `<video>` len(videos),
  else training stops with a ValueError. A video may be a list of frame paths (nested list).
- Media paths are joined to `media_dir` (default `dataset_dir`): set `media_dir` to the data
  root the records' image paths are relative to.

dataset_info.json goes to `<out>/sharegpt/` (use it as `dataset_dir`). Per source, one entry
named `<name>/<source>` points at the source folder when every non-empty shard there has the
same keys and the folder holds nothing but these shards; otherwise each shard gets its own entry
`<name>/<source>/<scene>` (list them comma-separated in `dataset:`). Empty shards get no entry.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from qagen.errors import OptionError
from qagen.render.record import QA
from qagen.writers.base import IMAGE, VIDEO, InvalidLine, Writer, dump_json, labelled_placeholders, \
    write_json_atomic
from qagen.writers.shards import ShardInfo, read_shard_info


@dataclass(frozen=True)
class Style:
    messages: str
    role: str
    content: str
    user: str
    assistant: str


STYLES = {
    "sharegpt": Style("conversations", "from", "value", "human", "gpt"),
    "openai": Style("messages", "role", "content", "user", "assistant"),
}


def check_style(style: str) -> str:
    """The style, or an OptionError naming the known ones (a run checks it before writing anything)."""
    if style not in STYLES:
        raise OptionError(f"unknown shareGPT style {style!r}; choose from {', '.join(sorted(STYLES))}")
    return style


class ShareGPTWriter(Writer):
    name = "sharegpt"

    def __init__(self, data_root: Optional[Path] = None, strip_meta: bool = False, style: str = "sharegpt"):
        super().__init__(data_root, strip_meta)
        self.style = STYLES[check_style(style)]

    def encode(self, qa: QA) -> dict:
        s = self.style
        line: dict = {"id": qa.id}
        if qa.media == "video":
            prefix = f"{VIDEO}\n"
            line["videos"] = [list(qa.images)]
        elif qa.media == "image" and qa.images:
            prefix = f"{IMAGE}\n" if len(qa.images) == 1 else labelled_placeholders("Image", len(qa.images))
            line["images"] = list(qa.images)
        else:
            prefix = ""
        line[s.messages] = [{s.role: s.user, s.content: prefix + qa.question},
                            {s.role: s.assistant, s.content: qa.answer}]
        if not self.strip_meta:
            line["meta"] = dump_json(qa.meta)
        return line

    def validate(self, line: dict, qa: QA) -> None:
        s = self.style
        turns = line.get(s.messages)
        self.check_turns(qa, turns, s.role, s.content, s.user, s.assistant)
        text = "".join(turn[s.content] for turn in turns)
        images = line.get("images", [])
        videos = line.get("videos", [])
        if "images" in line and (not isinstance(images, list) or not images):
            raise InvalidLine(qa.id, "empty_media", "an empty images list makes the column untyped")
        if "videos" in line and (not isinstance(videos, list) or not videos
                                 or not all(isinstance(v, list) and v for v in videos)):
            raise InvalidLine(qa.id, "empty_media", "every video must be a non-empty list of frames")
        if text.count(IMAGE) != len(images):
            raise InvalidLine(qa.id, "image_placeholders",
                              f"{text.count(IMAGE)} {IMAGE} for {len(images)} images")
        if text.count(VIDEO) != len(videos):
            raise InvalidLine(qa.id, "video_placeholders",
                              f"{text.count(VIDEO)} {VIDEO} for {len(videos)} videos")
        self.check_paths(qa, images)
        for video in videos:
            self.check_paths(qa, video)

    def write_meta(self, out_dir: Path, shards: list[ShardInfo], name: str) -> list[Path]:
        folder = Path(out_dir) / self.name
        entries = {}
        for source in sorted({s.source for s in shards}):
            of_source = sorted((s for s in shards if s.source == source), key=lambda s: s.scene)
            filled = [with_columns(s) for s in of_source if s.count > 0]
            if not filled:
                continue
            if holds_exactly(of_source) and len({s.columns for s in filled}) == 1:
                entries[f"{name}/{source}"] = self._entry(relative(of_source[0].path.parent, folder), filled[0].columns)
                continue
            for s in filled:
                entries[f"{name}/{source}/{s.scene}"] = self._entry(relative(s.path, folder), s.columns)
        return [write_json_atomic(folder / "dataset_info.json", entries)]

    def _entry(self, file_name: str, columns: frozenset[str]) -> dict:
        s = self.style
        cols = {"messages": s.messages}
        cols.update({key: key for key in ("images", "videos") if key in columns})
        return {
            "file_name": file_name,
            "formatting": "sharegpt",
            "columns": cols,
            "tags": {"role_tag": s.role, "content_tag": s.content, "user_tag": s.user, "assistant_tag": s.assistant},
        }


def holds_exactly(shards: list[ShardInfo]) -> bool:
    """True when the shards share one folder and it holds no other file (LLaMA-Factory loads them all)."""
    parents = {s.path.parent for s in shards}
    return len(parents) == 1 and {p.name for p in parents.pop().iterdir()} == {s.path.name for s in shards}


def relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def with_columns(shard: ShardInfo) -> ShardInfo:
    """The shard with its line keys known (read from disk when the caller did not record them)."""
    return shard if shard.columns is not None else read_shard_info(shard.path, shard.source, shard.scene)
