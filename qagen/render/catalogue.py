"""The template catalogue: templates/<task>.yaml holds, per format, a list of paraphrases with stable ids.

```yaml
task: distance_prediction_oo
fill:
  - id: 0
    question: "How far apart are {{ a }} and {{ b }}? ..."
    answer: "{{ value }}"
```
A template's id is `<task>/<format>/<id>`; ids are never reused, so records stay traceable when
wording is added. Which paraphrase a record gets is chosen by the seeded RNG in Python.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import jinja2

from qagen.errors import SpecError
from qagen.render.env import JinjaTemplate, PlainTemplate, compile_template
from qagen.resources import data_dir
from qagen.specs.load import read_yaml
from qagen.specs.schema import FORMATS


@dataclass(frozen=True)
class Template:
    id: str
    question: PlainTemplate | JinjaTemplate
    answer: PlainTemplate | JinjaTemplate


def _compile(path: Path, key: str, text: object) -> PlainTemplate | JinjaTemplate:
    if not isinstance(text, str) or not text.strip():
        raise SpecError(path, key, "must be a non-empty string")
    try:
        return compile_template(text)
    except jinja2.TemplateSyntaxError as exc:
        raise SpecError(path, key, f"Jinja syntax error: {exc.message}") from None


def load_template_file(path: Path) -> dict[str, list[Template]]:
    data = read_yaml(path)
    task = data.pop("task", None)
    if task != path.stem:
        raise SpecError(path, "task", f"must be {path.stem!r}, the file's name")
    out: dict[str, list[Template]] = {}
    for fmt, entries in data.items():
        if fmt not in FORMATS:
            raise SpecError(path, fmt, f"unknown format; expected one of {', '.join(FORMATS)}")
        if not isinstance(entries, list) or not entries:
            raise SpecError(path, fmt, "must be a non-empty list of paraphrases")
        seen: set[int] = set()
        templates = []
        for i, entry in enumerate(entries):
            where = f"{fmt}[{i}]"
            if not isinstance(entry, dict) or set(entry) != {"id", "question", "answer"}:
                raise SpecError(path, where, "each paraphrase needs exactly the keys id, question, answer")
            if not isinstance(entry["id"], int) or entry["id"] in seen:
                raise SpecError(path, f"{where}.id", "ids must be distinct integers")
            seen.add(entry["id"])
            templates.append(
                Template(
                    id=f"{task}/{fmt}/{entry['id']}",
                    question=_compile(path, f"{where}.question", entry["question"]),
                    answer=_compile(path, f"{where}.answer", entry["answer"]),
                )
            )
        out[fmt] = templates
    return out


def template_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    return [data_dir("templates"), *map(Path, extra)]


def load_catalogue(dirs: Iterable[Path], names: Optional[set[str]] = None) -> dict[str, dict[str, list[Template]]]:
    """task -> format -> paraphrases (of the tasks in `names`, default all); a user folder
    overrides a shipped task file by name."""
    catalogue: dict[str, dict[str, list[Template]]] = {}
    for folder in dirs:
        if not folder.is_dir():
            raise SpecError(folder, None, "template folder does not exist")
        for path in sorted(folder.glob("*.yaml")):
            if names is None or path.stem in names:
                catalogue[path.stem] = load_template_file(path)
    return catalogue
