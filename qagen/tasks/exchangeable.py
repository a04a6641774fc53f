"""Distractors a text-only model cannot tell from the truth, when both come from one pool of answers.

The truth of a question is drawn from a pool of possible answers with odds p (how often the scene
shows each). Drawing the k - 1 other options from the same odds one by one, skipping repeats, puts
common answers at the truth's place more often than elsewhere: the commonest option shown is then
the best guess. The options are exchangeable (every option equally likely the truth, whatever the
set shown) when the k-sets shown follow a design whose inclusion probabilities are k p: a
conditional Poisson design, P(S) proportional to the product of weights w over S, with w solved so
that each answer is included with probability k p. Given the truth x, the others are the design
conditioned on containing x: k - 1 answers with probability proportional to their weights'
product. Then P(truth = x | set S) = 1/k for every x in S.

An answer commoner than 1/k cannot be in k p of the sets; its inclusion is capped at 1 (it is in
every set) and the rest share what is left, the closest design there is.
"""
from __future__ import annotations

import numpy as np

ITERATIONS = 200
TOLERANCE = 1e-9


def inclusion_weights(odds: np.ndarray, k: int) -> np.ndarray:
    """Conditional-Poisson weights (N,) whose k-set design includes answer i with probability
    min(1, k p_i) (the capped share redistributed over the rest); inf for answers in every set."""
    p = np.asarray(odds, dtype=float)
    p = p / p.sum()
    target = _capped_inclusion(p, k)
    always = target >= 1.0
    weights = np.full(p.size, np.inf)
    free = np.flatnonzero(~always)
    size = k - int(always.sum())
    if size <= 0 or free.size == 0:  # a pool of k answers or fewer: every one is in every set
        return weights
    weights[free] = _compiled().fit_weights(target[free], size, ITERATIONS, TOLERANCE)
    return weights


class ExchangeablePool:
    """A pool of answers with odds, and draws of the other options for a truth from it (the k-set
    design conditioned on holding the truth); the tables a draw needs are kept per truth."""

    def __init__(self, odds: np.ndarray, k: int):
        self.weights = inclusion_weights(odds, k)
        self.k = k
        self._tables: dict = {}

    def others(self, truth: int | None, rng: np.random.Generator) -> list[int]:
        """k - 1 distinct answers other than `truth` (None: the truth is not in the pool), with
        probability proportional to the product of their weights; answers in every set first.
        Fewer when the pool has fewer others."""
        if truth not in self._tables:
            others = [i for i in range(self.weights.size) if i != truth]
            sure = [i for i in others if np.isinf(self.weights[i])][:self.k - 1]
            rest = [i for i in others if not np.isinf(self.weights[i])]
            need = min(self.k - 1 - len(sure), len(rest))
            w = self.weights[rest]  # kept as Python lists: the loop below reads one number at a time
            self._tables[truth] = sure, rest, w.tolist(), _compiled().suffix_sums(w, need).tolist()
        sure, rest, w, E = self._tables[truth]
        picked, need = [], len(E[0]) - 1
        for i in range(len(rest)):  # each taken with its exact conditional chance
            if need == 0:
                break
            if rng.random() * E[i][need] < w[i] * E[i + 1][need - 1]:
                picked.append(rest[i])
                need -= 1
        return sure + picked


def _compiled():
    """The compiled fit and tables (numba loads only when a pool is drawn from)."""
    from qagen.tasks import exchangeable_numba

    return exchangeable_numba


def _capped_inclusion(p: np.ndarray, k: int) -> np.ndarray:
    """k p with every value above 1 set to 1 and the rest rescaled to keep the sum k."""
    target = np.minimum(k * p, 1.0)
    for _ in range(p.size):
        capped = target >= 1.0
        left = k - capped.sum()
        scaled = np.where(capped, 1.0, p * left / max(p[~capped].sum(), 1e-300))
        if np.array_equal(scaled >= 1.0, capped):
            return np.minimum(scaled, 1.0)
        target = np.minimum(scaled, 1.0)
    return target

