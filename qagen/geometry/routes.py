"""Routes on the free floor space, spelled as moves (turn left/right, go forward).

Free space is the room's floor polygon minus the objects' floor footprints, both kept `clearance`
away (a robot of that radius). The route is the cheapest path of an 8-connected grid laid out
along the start heading with its origin at the start point: every step heads along a multiple of
45 degrees from the start heading, so every turn is an exact multiple of 45 degrees and only the
forward lengths are rounded (to `length_step`). Cost = length + `turn_cost` x (1 + the turn in
45-degree units) per turn, which picks the path with the fewest and smallest turns among
(near-)shortest ones, without detours for jogs of one cell. Collinear steps are merged into
straight segments.

Pure geometry: floor polygons, footprints and points in world XY metres; headings in degrees,
counter-clockwise from +X (a positive turn is a left turn, as yaw in TASKS.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from qagen.geometry.relations import round_to

TURN_STEP_DEG = 45.0
DIRECTIONS = ((1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))  # grid (i, j) steps, 45 deg apart


@dataclass(frozen=True)
class Move:
    """One instruction: a turn (degrees, + = left) or a straight walk (metres)."""

    kind: str  # "turn" | "forward"
    amount: float

    def to_json(self) -> dict:
        return {"turn_deg" if self.kind == "turn" else "forward_m": self.amount}


def box_footprint(corners: np.ndarray) -> Polygon:
    """Floor footprint of a 3D box: the convex hull of its 8 corners projected on the XY plane."""
    return shapely.convex_hull(shapely.multipoints(np.asarray(corners, dtype=float)[:, :2]))


def free_space(floor: np.ndarray, footprints: Sequence[Polygon], clearance: float) -> BaseGeometry:
    """Where the centre of a disc of radius `clearance` fits: inside the floor, off every footprint."""
    room = Polygon(np.asarray(floor, dtype=float)).buffer(-clearance, join_style="mitre")
    if not footprints:
        return room
    return room.difference(shapely.union_all(list(footprints)).buffer(clearance))


def _grid(free: BaseGeometry, origin: np.ndarray, heading_deg: float, cell: float):
    """Cell centres of a grid along the heading (axis i) and its left (axis j), origin at cell (0, 0)."""
    h = math.radians(heading_deg)
    u, v = np.array([math.cos(h), math.sin(h)]), np.array([-math.sin(h), math.cos(h)])
    x0, y0, x1, y1 = free.bounds
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]) - origin
    i_lo, i_hi = math.floor((corners @ u).min() / cell), math.ceil((corners @ u).max() / cell)
    j_lo, j_hi = math.floor((corners @ v).min() / cell), math.ceil((corners @ v).max() / cell)
    ii, jj = np.arange(i_lo, i_hi + 1)[:, None, None], np.arange(j_lo, j_hi + 1)[None, :, None]  # broadcast, no meshgrid
    xy = origin + (ii * u + jj * v) * cell
    return xy, (-i_lo, -j_lo)


def grid_route(free: BaseGeometry, start_xy, heading_deg: float, goal: BaseGeometry, reach: float,
               cell: float = 0.1, turn_cost: float = 0.2) -> Optional[np.ndarray]:
    """Waypoints (K, 2) from the start to the first point within `reach` of `goal`, start and end
    included, one per change of direction; None when the start is not free or no goal cell can be
    reached."""
    origin = np.asarray(start_xy, dtype=float)
    if free.is_empty or not shapely.contains_xy(free, *origin):
        return None
    if _part_containing(free, origin).distance(goal) > reach:  # walled off: skip the search
        return None
    xy, (si, sj) = _grid(free, origin, heading_deg, cell)
    shape = xy.shape[:2]
    is_free = shapely.contains_xy(free, xy[..., 0], xy[..., 1])  # the start cell is the start point: free
    flat_free = np.flatnonzero(is_free)
    gap = np.full(shape, np.inf)
    gap.flat[flat_free] = distances_to(goal, xy.reshape(-1, 2)[flat_free])
    if not (gap <= reach).any():
        return None
    heuristic = np.maximum(gap - reach, 0.0)  # admissible: the goal is at least this far
    lengths = np.array([cell * math.hypot(*d) for d in DIRECTIONS])
    from qagen.geometry.routes_numba import cheapest_path  # numba loads only when a route is planned

    end, parent = cheapest_path(is_free, heuristic, gap <= reach, si, sj, lengths, turn_cost)
    return None if end < 0 else _waypoints(end, parent, xy)


def distances_to(area: BaseGeometry, xy: np.ndarray) -> np.ndarray:
    """Distance (N,) from points (N, 2) to a polygonal area (0 inside): the nearest of its boundary
    segments, in a compiled loop (making a shapely point per grid cell costs more than the route
    search)."""
    if area.geom_type not in ("Polygon", "MultiPolygon"):
        return shapely.distance(area, shapely.points(xy))
    from qagen.geometry.routes_numba import area_distances

    rings = [np.asarray(ring.coords, dtype=float) for ring in shapely.get_rings(shapely.get_parts(area))]
    starts = np.concatenate([r[:-1] for r in rings])
    ends = np.concatenate([r[1:] for r in rings])
    return area_distances(np.ascontiguousarray(xy, dtype=float), starts, ends)


def _part_containing(free: BaseGeometry, point: np.ndarray) -> BaseGeometry:
    parts = getattr(free, "geoms", [free])
    return next((p for p in parts if shapely.contains_xy(p, *point)), free)


def _waypoints(end: int, parent: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """The cells where the direction changes, from start to end (states as `cheapest_path` numbers them)."""
    chain = [int(end)]
    while parent[chain[-1]] >= 0:
        chain.append(int(parent[chain[-1]]))
    chain.reverse()
    keep = [chain[0]] + [s for s, nxt in zip(chain[1:], chain[2:]) if s % 8 != nxt % 8] + ([chain[-1]] if len(chain) > 1 else [])
    n_j = xy.shape[1]
    return np.array([xy[s // 8 // n_j, s // 8 % n_j] for s in keep])


def route_moves(waypoints: np.ndarray, heading_deg: float, length_step: Optional[float] = 0.1) -> list[Move]:
    """Turns to the nearest multiple of 45 degrees (exact for grid_route's waypoints), wrapped to
    (-180, 180], and forward lengths rounded to `length_step` (None: exact).

    Rounding is closed-loop: each length is what brings the walker, from where the rounded moves
    so far have put it, level with the next waypoint along the segment, so rounding errors do not
    add up along the route (the end stays within about one step of the last waypoint).
    """
    moves: list[Move] = []
    heading, at = heading_deg, np.asarray(waypoints[0], dtype=float)
    for a, b in zip(waypoints[:-1], waypoints[1:]):
        direction = math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))
        turn = round_to(wrap_deg(direction - heading), TURN_STEP_DEG)
        turn = 180.0 if turn == -180.0 else turn
        if turn:
            moves.append(Move("turn", turn))
        heading += turn
        unit = np.array([math.cos(math.radians(heading)), math.sin(math.radians(heading))])
        length = float((np.asarray(b) - at) @ unit)
        length = round_to(length, length_step) if length_step else length
        moves.append(Move("forward", length))
        at = at + length * unit
    return moves


def wrap_deg(angle: float) -> float:
    """Angle wrapped to (-180, 180]."""
    wrapped = (angle + 180.0) % 360.0 - 180.0
    return 180.0 if wrapped == -180.0 else wrapped


def walk(start_xy, heading_deg: float, moves: Sequence[Move]) -> np.ndarray:
    """The points a walker passes when following `moves`: the start, then the end of each forward move."""
    point, heading = np.asarray(start_xy, dtype=float), math.radians(heading_deg)
    points = [point]
    for move in moves:
        if move.kind == "turn":
            heading += math.radians(move.amount)
        else:
            point = point + move.amount * np.array([math.cos(heading), math.sin(heading)])
            points.append(point)
    return np.array(points)


def stays_inside(free: BaseGeometry, points: np.ndarray) -> bool:
    """Whether every segment of the polyline lies in `free` (boundary included)."""
    path = LineString(points) if len(points) > 1 else Point(points[0])
    return bool(free.covers(path))
