"""Assertions on qagen's input errors: the right file, and a message that says the problem."""
from __future__ import annotations

from pathlib import Path

import pytest

from qagen.errors import InputError


def fails(fragment: str, path: Path, call, error=InputError) -> InputError:
    with pytest.raises(error) as info:
        call()
    assert info.value.path == path, str(info.value)
    assert fragment in info.value.problem, str(info.value)
    return info.value
