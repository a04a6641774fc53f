"""Errors raised in worker processes travel pickled: each must come back the same error."""
from __future__ import annotations

import pickle

import pytest

from qagen.errors import InputError, OptionError, QagenError, RecordError, RegistryError, SpecError
from qagen.scene.io import InvalidPose
from qagen.writers.base import InvalidLine

EXAMPLES = [
    InputError("scenes/room_0001/scene.json", "invalid JSON"),
    InvalidPose("scenes/scene0000_00/pose/17.txt", "non-finite entries"),
    SpecError("task_specs/nav.yaml", "formats", "unknown format 'fil'"),
    SpecError("mix.yaml", None, "weights must be positive"),
    RecordError("synthetic/room_0001/nav/fill/000003", "image placeholder missing"),
    InvalidLine("synthetic/room_0001/nav/fill/000003", "too_many_images", "6 images, the limit is 5"),
    RegistryError("unknown sampler 'pixel_pairs'"),
    OptionError("lifting device 'cuda' needs CUDA, and torch 2.13.0+cpu sees no CUDA device here"),
    QagenError("no scenes found"),
]


def test_every_error_class_has_an_example():
    def subclasses(cls):
        return {cls} | {s for sub in cls.__subclasses__() for s in subclasses(sub)}

    assert subclasses(QagenError) == {type(e) for e in EXAMPLES}


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: type(e).__name__)
def test_errors_survive_pickling(error):
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert vars(back) == vars(error)
