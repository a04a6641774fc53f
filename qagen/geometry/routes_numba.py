"""The loops of `routes.grid_route`, compiled: A* over (cell, heading) states of the grid, and the
distance from every free cell to the goal's area.

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


@njit(cache=True, nogil=True)
def area_distances(xy, starts, ends):
    """Distance (N,) from points (N, 2) to the polygonal area whose rings are the segments
    starts -> ends (M, 2): 0 inside it (even-odd rule, so a hole is outside), else the distance to
    the nearest segment, the least square's root."""
    out = np.empty(xy.shape[0])
    for p in range(xy.shape[0]):
        x, y = xy[p, 0], xy[p, 1]
        least, inside = np.inf, False
        for s in range(starts.shape[0]):
            sx, sy, tx, ty = starts[s, 0], starts[s, 1], ends[s, 0], ends[s, 1]
            ex, ey, rx, ry = tx - sx, ty - sy, x - sx, y - sy
            along = min(max((rx * ex + ry * ey) / max(ex * ex + ey * ey, 1e-300), 0.0), 1.0)
            dx, dy = rx - along * ex, ry - along * ey
            least = min(least, dx * dx + dy * dy)
            if (sy > y) != (ty > y) and x < sx + (y - sy) * ex / (ty - sy):  # a ray to +x crosses it
                inside = not inside
        out[p] = 0.0 if inside else np.sqrt(least)
    return out
