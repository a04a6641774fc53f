"""Distractors: none within the margin of the truth, truth at the requested rank, claims wrong by the margin."""
import numpy as np
import pytest

from qagen.render.kinds.numeric import numeric_options
from qagen.render.kinds.relation import relation_alternatives
from qagen.render.kinds import KINDS
from qagen.render.wording import number, plural, quantity, relation
from qagen.specs.schema import Margins
from qagen.tasks.fact import Answer

MARGINS = Margins()


@pytest.mark.parametrize("value", [0.4, 1.2, 3.7, 8.1])
@pytest.mark.parametrize("rank", [0, 1, 2, 3])
def test_numeric_options_keep_margin_and_rank(value, rank):
    rng = np.random.default_rng(7)
    options = numeric_options(value, "m", 4, rank, rng, MARGINS)
    if options is None:
        # only impossible when the rank needs values below a small truth
        assert rank > 0 and value < 1.0
        return
    assert options == sorted(options) and len(set(options)) == 4
    assert options.index(value) == rank
    for a, b in zip(options, options[1:]):
        assert b - a >= max(0.15, 0.1 * min(a, b)) - 1e-9


@pytest.mark.parametrize("seed", range(5))
def test_object_sizes_get_options_only_where_the_truth_fits_every_rank(seed):
    """A label predicts an object's size; were small objects offered only at the ranks they fit
    (a 12 cm cup always option A), the label would give the letter away."""
    rng = np.random.default_rng(seed)
    vector, scalar = KINDS.get("vector")(), KINDS.get("number")()
    for length in (8.0, 12.0, 16.0, 17.0, 25.0, 60.0, 180.0):
        answer = Answer("vector", {"length_cm": length, "width_cm": length / 2, "height_cm": 30.0}, unit="cm")
        number = Answer("number", length, unit="cm")
        found = [(vector.options(answer, None, 4, rank, rng, MARGINS), scalar.options(number, None, 4, rank, rng, MARGINS))
                 for rank in range(4)]
        if length < 17.0:  # three smaller sizes a margin apart cannot always be drawn below it
            assert all(v is None and n is None for v, n in found), length
            continue
        for rank, (v, n) in enumerate(found):
            assert v[1] == rank and v[0][rank] == answer.value and n[1] == rank and n[0][rank] == length
            assert [o["length_cm"] for o in v[0]] == sorted(o["length_cm"] for o in v[0])


def test_counts_allow_zero_but_never_negative():
    rng = np.random.default_rng(0)
    options = numeric_options(1, "count", 4, 1, rng, MARGINS)
    assert options[0] == 0 and options[1] == 1 and all(float(o).is_integer() for o in options)
    assert numeric_options(1, "count", 4, 2, rng, MARGINS) is None


def test_false_numeric_claim_is_outside_margin():
    rng = np.random.default_rng(3)
    for value in (0.3, 1.0, 2.5, 6.0):
        claim = KINDS.get("number")().false_claim(Answer("number", value, unit="m"), None, rng, MARGINS)
        assert abs(claim - value) >= max(0.15, 0.1 * min(claim, value)) - 1e-9


def test_relation_alternatives_differ_from_truth_and_are_not_empty():
    rng = np.random.default_rng(1)
    truth = ["left", "", "closer"]
    alts = relation_alternatives(truth, ["left_right", "above_below", "closer_farther"], 3, rng)
    assert len(alts) == 3 and all(a != truth and any(a) for a in alts)
    assert len({tuple(a) for a in alts}) == 3


def test_wording():
    assert number(1.2000) == "1.2" and number(3.0) == "3" and number(0.30000000000000004) == "0.3"
    assert quantity(2.5, "m") == "2.5 m" and quantity(12.3, "m2") == "12.3 m²"
    assert plural("box") == "boxes" and plural("shelf") == "shelves" and plural("trash can") == "trash cans"
    assert relation(["left", "", "farther"]) == "to the left and farther from the camera"
    assert relation(["right", "above", "closer"]) == "to the right, higher up and closer to the camera"
