"""The search loop of `routes.grid_route`, compiled: A* over (cell, heading) states of the grid.

Kept apart so that numba is imported only by runs that plan routes.
"""
from __future__ import annotations

import heapq

import numpy as np
from numba import njit

from qagen.geometry.routes import DIRECTIONS

_STEPS = np.array(DIRECTIONS)


@njit(cache=True, nogil=True)
def cheapest_path(free, heuristic, at_goal, si, sj, lengths, turn_cost):
    """A* over states (cell, heading) numbered (i * n_j + j) * 8 + d: the first goal state popped
    (-1 if none) and every state's parent (-1 for none). Ties pop in (i, j, d) order."""
    n_i, n_j = free.shape
    best = np.full(n_i * n_j * 8, np.inf)
    parent = np.full(n_i * n_j * 8, -1, np.int64)
    start = (si * n_j + sj) * 8
    best[start] = 0.0
    queue = [(heuristic[si, sj], 0.0, start)]
    while len(queue):
        _, cost, state = heapq.heappop(queue)
        if cost > best[state]:
            continue
        d, i, j = state % 8, state // 8 // n_j, state // 8 % n_j
        if at_goal[i, j]:
            return state, parent
        for nd in range(8):
            ni, nj = i + _STEPS[nd, 0], j + _STEPS[nd, 1]
            if not (0 <= ni < n_i and 0 <= nj < n_j and free[ni, nj]):
                continue
            turns = min((nd - d) % 8, (d - nd) % 8)
            new_cost = cost + lengths[nd] + (turn_cost * (1 + turns) if turns else 0.0)
            nxt = (ni * n_j + nj) * 8 + nd
            if new_cost < best[nxt]:
                best[nxt] = new_cost
                parent[nxt] = state
                heapq.heappush(queue, (new_cost + heuristic[ni, nj], new_cost, nxt))
    return -1, parent
