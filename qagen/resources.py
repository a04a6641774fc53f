"""Where the shipped templates/ and task_specs/ live: inside the wheel, or beside the package in a checkout."""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder `templates` or `task_specs` that ships with qagen."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"qagen's {name}/ folder is missing from the installation ({_PACKAGE})")
