"""qagen.seeding builds numpy's own default_rng generators from state words prepared in batches."""
import numpy as np
import pytest

from qagen import seeding


def _seeds() -> list[int]:
    edge = [0, 1, 2**31, 2**32 - 1, 2**32, 2**32 + 1, 2**62, 2**63 - 1, 2**64 - 1]
    return edge + np.random.default_rng(7).integers(0, 2**63, 3000).tolist()


def test_prepared_generators_are_numpys_default_rng():
    seeds = _seeds()
    seeding.prepare(seeds)
    for seed in seeds:
        ours, numpys = seeding.generator(seed), np.random.default_rng(seed)
        assert ours.bit_generator.state == numpys.bit_generator.state, seed
    ours, numpys = seeding.generator(seeds[-1]), np.random.default_rng(seeds[-1])
    assert ours.integers(0, 1000, 50).tolist() == numpys.integers(0, 1000, 50).tolist()


def test_state_words_match_seed_sequence():
    seeds = _seeds()[:500]
    words = seeding._pcg64_words(np.array(seeds, dtype=np.uint64))
    expected = np.stack([np.random.SeedSequence(s).generate_state(4, np.uint64) for s in seeds])
    np.testing.assert_array_equal(words, expected)


def test_unprepared_seed_falls_back_to_numpy():
    seed = 987654321987
    seeding._words.pop(seed, None)
    assert seeding.generator(seed).bit_generator.state == np.random.default_rng(seed).bit_generator.state


def test_prepared_words_serve_pcg64_only():
    seeding.prepare([5])
    with pytest.raises(ValueError, match="PCG64 only"):
        np.random.SFC64(seeding._StateWords(seeding._words[5]))
