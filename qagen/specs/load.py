"""Loading task specs from YAML folders, with errors that name the file and the key."""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Iterable

import yaml
from pydantic import ValidationError

from qagen.errors import SpecError
from qagen.resources import data_dir
from qagen.specs.schema import TaskSpec


YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~5x faster


def read_yaml(path: Path) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except OSError as exc:
        raise SpecError(path, None, f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SpecError(path, None, f"invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SpecError(path, None, "expected a mapping at the top level")
    return data


def _first_error(path: Path, exc: ValidationError) -> SpecError:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or None
    problem = err["msg"]
    if err["type"] == "extra_forbidden":
        known = list(TaskSpec.model_fields)
        close = difflib.get_close_matches(str(err["loc"][-1]), known, n=2)
        problem = "unknown key" + (f"; did you mean {', '.join(map(repr, close))}?" if close else "")
    return SpecError(path, key, problem)


def load_spec(path: Path) -> TaskSpec:
    data = read_yaml(path)
    try:
        spec = TaskSpec.model_validate(data)
    except ValidationError as exc:
        raise _first_error(path, exc) from None
    if spec.name != path.stem:
        raise SpecError(path, "name", f"spec name {spec.name!r} must match its file name {path.stem!r}")
    if "select" in spec.formats and spec.select is None:
        raise SpecError(path, "select", "the task lists the select format but has no select: block")
    return spec


def spec_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    """The shipped task_specs/ first, then user folders (a user spec overrides a shipped one by name)."""
    return [data_dir("task_specs"), *map(Path, extra)]


def load_specs(dirs: Iterable[Path]) -> dict[str, TaskSpec]:
    specs: dict[str, TaskSpec] = {}
    for folder in dirs:
        if not folder.is_dir():
            raise SpecError(folder, None, "spec folder does not exist")
        for path in sorted(folder.glob("*.yaml")):
            spec = load_spec(path)
            specs[spec.name] = spec
    return specs
