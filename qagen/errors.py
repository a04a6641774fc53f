"""One root error for everything qagen rejects; subclasses say *what* was wrong and *where*.

Every message names the file (or spec key, or record) and the problem, so a user never has to
read a numpy traceback to find out which of ten thousand scenes is broken.
"""
from __future__ import annotations

from pathlib import Path


class QagenError(Exception):
    """Root of all errors qagen raises on purpose. Each is made again from its own fields when
    unpickled: errors raised in worker processes (scene workers, Ray tasks) reach the run intact."""

    _fields: tuple[str, ...] = ()  # the constructor's arguments, as attributes of the same names

    def __reduce__(self):
        if not self._fields:
            return super().__reduce__()
        return type(self), tuple(getattr(self, name) for name in self._fields)


class InputError(QagenError):
    """A source file is missing, unreadable or inconsistent."""

    _fields = ("path", "problem")

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class SpecError(QagenError):
    """A task spec, template file or mix file is invalid."""

    _fields = ("path", "key", "problem")

    def __init__(self, path: str | Path, key: str | None, problem: str):
        self.path = Path(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}" + (f" [{key}]" if key else "")
        super().__init__(f"{where}: {problem}")


class OptionError(QagenError, ValueError):
    """An option names something qagen does not know (a lifting device, a shareGPT style) or that
    this machine lacks (CUDA)."""


class RegistryError(QagenError):
    """A name was looked up that nothing registered."""


class RecordError(QagenError):
    """A record breaks the rules of the format it is written in."""

    _fields = ("record_id", "problem")

    def __init__(self, record_id: str, problem: str):
        self.record_id = record_id
        self.problem = problem
        super().__init__(f"record {record_id}: {problem}")
