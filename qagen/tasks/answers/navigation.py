"""nav: a route on the free floor from beside the start object (facing it) to the goal object.

The walker is a disc of `robot_radius_m`. Obstacles are the floor footprints of the objects whose
box reaches below `max_base_m` (wall- or ceiling-mounted things do not block the floor). The route
is planned `plan_margin_m` further from everything than the walker needs, so that cutting between
grid cells and rounding lengths to 0.1 m never touch an obstacle; the rounded route is then walked
and must stay in the walker's free space and end within `reach_m` of the goal's footprint, or the
candidate is rejected (counted).
"""
from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Point
from shapely.ops import nearest_points

from qagen.geometry.routes import Move, box_footprint, free_space, grid_route, route_moves, stays_inside, walk
from qagen.registry import ANSWERS
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.engine import Solved
from qagen.tasks.fact import Answer, Reject

LENGTH_STEP_M = 0.1
ROUNDING_ALLOWANCE_M = 0.1  # the plan ends this much inside the reach, for the rounded lengths
START_INSET_M = 0.1  # the start stands one cell inside the planning free space: room to turn away


def move_text(move: Move) -> str:
    if move.kind == "forward":
        return f"go forward {move.amount:g} m"
    if abs(move.amount) == 180:
        return "turn around"
    return f"turn {'left' if move.amount > 0 else 'right'} {abs(move.amount):g}°"


def route_text(moves: list[Move]) -> str:
    return ", ".join(move_text(m) for m in moves)


def _floor(ctx: TaskContext, robot_radius_m: float, plan_margin_m: float, max_base_m: float):
    """(footprints by object id, walker's free space, planning free space, where a route may
    start: the planning space inset by START_INSET_M), memoised per task."""
    key = ("floor", robot_radius_m, plan_margin_m, max_base_m)
    if key not in ctx.cache:
        footprints = {}
        for oid, box in ctx.index.boxes.items():
            corners = box.corners()
            if corners[:, 2].min() <= max_base_m:
                footprints[oid] = box_footprint(corners)
        polygon = ctx.scene.room.floor_polygon
        walker = free_space(polygon, list(footprints.values()), robot_radius_m)
        planner = free_space(polygon, list(footprints.values()), robot_radius_m + plan_margin_m)
        ctx.cache[key] = (footprints, walker, planner, planner.buffer(-START_INSET_M))
    return ctx.cache[key]


def _start_pose(ctx: TaskContext, object_id: int, inner) -> tuple[np.ndarray, float]:
    """The point of `inner` (the planning free space, inset) nearest to the start object's centre,
    facing that centre."""
    centre = ctx.centre(object_id)[:2]
    if inner.is_empty:
        raise Reject("no_free_floor")
    spot, _ = nearest_points(inner, Point(*centre))
    xy = np.array([spot.x, spot.y])
    heading = math.degrees(math.atan2(centre[1] - xy[1], centre[0] - xy[0]))
    return xy, heading


@ANSWERS.register("route_to_goal")
def route_to_goal(ctx: TaskContext, cand: Candidate, robot_radius_m: float = 0.25, plan_margin_m: float = 0.15,
                  reach_m: float = 0.6, cell_m: float = 0.1, max_base_m: float = 1.0) -> Solved:
    """Moves from beside `start` (facing it) to within `reach_m` of `goal`; turns are multiples of
    45 degrees, forward lengths rounded to 0.1 m."""
    key = ("route", cand.object_id("start"), cand.object_id("goal"), robot_radius_m, plan_margin_m, reach_m, cell_m,
           max_base_m)
    # the route or the reason there is none: a pair asked again is not re-planned
    return ctx.remembered(key, lambda: _route(ctx, cand, robot_radius_m, plan_margin_m, reach_m, cell_m, max_base_m))


def _route(ctx: TaskContext, cand: Candidate, robot_radius_m: float, plan_margin_m: float, reach_m: float,
           cell_m: float, max_base_m: float) -> Solved:
    footprints, walker, planner, start_area = _floor(ctx, robot_radius_m, plan_margin_m, max_base_m)
    goal_id = cand.object_id("goal")
    goal = footprints.get(goal_id)
    if goal is None:
        raise Reject("goal_off_the_floor")
    start_xy, heading = _start_pose(ctx, cand.object_id("start"), start_area)
    if goal.distance(Point(*start_xy)) <= reach_m:
        raise Reject("start_within_reach_of_goal")
    waypoints = grid_route(planner, start_xy, heading, goal, reach_m - ROUNDING_ALLOWANCE_M, cell_m)
    if waypoints is None:
        raise Reject("no_route")
    moves = route_moves(waypoints, heading, LENGTH_STEP_M)
    points = walk(start_xy, heading, moves)
    if not stays_inside(walker, points):
        raise Reject("rounded_route_leaves_free_floor")
    if goal.distance(Point(*points[-1])) > reach_m:
        raise Reject("rounded_route_misses_goal")
    exact = route_moves(waypoints, heading, None)
    answer = Answer(
        "text",
        route_text(moves),
        exact=[m.to_json() for m in exact],
        extra={
            "route": [m.to_json() for m in moves],
            "start": {"xy": [float(v) for v in start_xy], "heading_deg": float(heading)},
            "end": {"xy": [float(v) for v in points[-1]]},
            "robot_radius_m": robot_radius_m,
            "reach_m": reach_m,
        },
    )
    return Solved(answer, margin=float(reach_m - goal.distance(Point(*points[-1]))))
