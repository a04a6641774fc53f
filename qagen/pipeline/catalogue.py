"""The task catalogue of a run: specs and templates loaded together and checked against each other
and against the registries (every name a spec uses resolves; every format it lists has templates)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional, Sequence

import qagen.tasks  # noqa: F401  (registers the built-in samplers and answer functions)
from qagen.errors import QagenError, SpecError
from qagen.registry import ANSWERS, SAMPLERS
from qagen.render.catalogue import Template, load_catalogue, template_dirs
from qagen.specs.load import load_specs, spec_dirs
from qagen.specs.schema import TaskSpec


@dataclass(frozen=True)
class Catalogue:
    specs: dict[str, TaskSpec]
    templates: dict[str, dict[str, list[Template]]]

    def select(self, tasks: str | Sequence[str]) -> list[TaskSpec]:
        """`"all"`, a comma-separated string, or a list of task names."""
        if isinstance(tasks, str):
            if tasks == "all":
                return [self.specs[n] for n in sorted(self.specs)]
            tasks = [t.strip() for t in tasks.split(",") if t.strip()]
        unknown = [t for t in tasks if t not in self.specs]
        if unknown:
            raise QagenError(f"unknown task(s): {', '.join(unknown)}; run `qagen tasks` for the list")
        return [self.specs[t] for t in tasks]


def check(specs: dict[str, TaskSpec], templates: dict[str, dict[str, list[Template]]], where: dict[str, Path]) -> None:
    """Every spec's code names resolve and every format it lists has templates."""
    for name, spec in specs.items():
        path = where[name]
        for registry, key, value in ((SAMPLERS, "sampler", spec.sampler), (ANSWERS, "answer", spec.answer)):
            if value not in registry:
                raise SpecError(path, key, registry.unknown_message(value))
        if name not in templates:
            raise SpecError(path, "name", f"no template file {name}.yaml in any template folder")
        missing = [f for f in spec.formats if f not in templates[name]]
        if missing:
            raise SpecError(path, "formats", f"no templates for format(s) {', '.join(missing)} in {name}.yaml")


@lru_cache(maxsize=8)
def load(extra_specs: tuple[Path, ...] = (), extra_templates: tuple[Path, ...] = (),
         tasks: Optional[tuple[str, ...]] = None) -> Catalogue:
    """Shipped specs and templates plus the user's folders (cached: workers call it once per scene).

    Every spec is read; templates are read, compiled and checked only for `tasks` (default: all),
    so a run of a few tasks does not pay for compiling the whole catalogue.
    """
    folders = spec_dirs(extra_specs)
    specs = _specs(tuple(folders))
    chosen = {name: spec for name, spec in specs.items() if tasks is None or name in tasks}
    where = {name: next(f / f"{name}.yaml" for f in reversed(folders) if (f / f"{name}.yaml").exists()) for name in chosen}
    templates = load_catalogue(template_dirs(extra_templates), names=set(chosen))
    check(chosen, templates, where)
    return Catalogue(specs, templates)


@lru_cache(maxsize=8)
def _specs(folders: tuple[Path, ...]) -> dict[str, TaskSpec]:
    return load_specs(list(folders))
