"""The conditional-Poisson fit of `exchangeable.inclusion_weights`, compiled.

The fit is a fixed-point iteration over tables of elementary symmetric polynomials: a few dozen
numbers per step, hundreds of steps when an answer's share is close to 1/k, which numpy spends in
call overhead (tens of milliseconds a pool) and a compiled loop does in well under one. Kept apart
so that numba is imported only by runs that draw from such pools.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def suffix_sums(w, size):
    """E[i, r]: elementary symmetric polynomial of degree r of w[i:], r = 0..size."""
    n = w.size
    E = np.zeros((n + 1, size + 1))
    E[:, 0] = 1.0
    for r in range(1, size + 1):  # E[i, r] = E[i + 1, r] + w[i] E[i + 1, r - 1], summed from the end
        for i in range(n - 1, -1, -1):
            E[i, r] = E[i + 1, r] + w[i] * E[i + 1, r - 1]
    return E


@njit(cache=True, nogil=True)
def inclusion(w, size):
    """Inclusion probabilities of the design P(S) proportional to prod(w over S), |S| = size:
    w_i e_{size-1}(w without i) / e_size(w), from prefix and suffix tables."""
    n = w.size
    suffix = suffix_sums(w, size)
    prefix = suffix_sums(w[::-1].copy(), size)[::-1]  # prefix[i, r] = e_r(w[:i])
    out = np.empty(n)
    for i in range(n):
        without = 0.0  # e_{size-1}(w without i): degrees split between w[:i] and w[i+1:]
        for r in range(size):
            without += prefix[i, r] * suffix[i + 1, size - 1 - r]
        out[i] = w[i] * without / suffix[0, size]
    return out


@njit(cache=True, nogil=True)
def fit_weights(goal, size, iterations, tolerance):
    """Weights whose size-set design includes answer i with probability goal[i] (the goals sum
    to `size`, each below 1): scale each weight by goal / inclusion until they agree within
    `tolerance`, or `iterations` steps."""
    w = goal / (1.0 - goal)
    for _ in range(iterations):
        got = inclusion(w, size)
        if np.max(np.abs(got - goal)) < tolerance:
            break
        w = w * goal / got
    return w / w.max()
