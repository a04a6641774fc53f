"""Routes on the free floor: exact routes in an empty room, a forced detour, unreachable goals.

Every route is walked here with plain trigonometry (not qagen's walker) and checked against a free
space built here with shapely: it must stay in it and end within reach of the goal.
"""
import math

import numpy as np
import pytest
from shapely.affinity import rotate
from shapely.geometry import LineString, Point, Polygon, box

from qagen.geometry.routes import (
    Move, box_footprint, distances_to, free_space, grid_route, route_moves, walk, wrap_deg,
)

CLEARANCE = 0.25
REACH = 0.6
PLAN_REACH = REACH - 0.1  # what callers plan with, so that rounded lengths still end within REACH


def rectangle(w, d):
    return np.array([[0, 0], [w, 0], [w, d], [0, d]], float)


def my_walk(start, heading_deg, moves):
    x, y, h = start[0], start[1], heading_deg
    points = [(x, y)]
    for m in moves:
        if m.kind == "turn":
            h += m.amount
        else:
            x, y = x + m.amount * math.cos(math.radians(h)), y + m.amount * math.sin(math.radians(h))
            points.append((x, y))
    return np.array(points)


def my_free(floor, obstacles, clearance):
    room = Polygon(floor).buffer(-clearance, join_style="mitre")
    for ob in obstacles:
        room = room.difference(ob.buffer(clearance))
    return room


def plan(floor, obstacles, start, heading, goal, clearance=CLEARANCE, step=0.1):
    free = free_space(floor, obstacles + [goal], clearance)
    waypoints = grid_route(free, start, heading, goal, PLAN_REACH)
    return None if waypoints is None else route_moves(waypoints, heading, step)


def as_tuples(moves):
    return [(m.kind, m.amount) for m in moves]


GOAL_EAST = box(5.05, 1.8, 5.45, 2.2)  # a 40 cm object; the planning band starts at x = 4.55


@pytest.mark.parametrize("heading, expected", [
    (0.0, [("forward", 3.6)]),  # 36 cells of 0.1 m to x = 4.6
    (90.0, [("turn", -90.0), ("forward", 3.6)]),
    (-90.0, [("turn", 90.0), ("forward", 3.6)]),
    (180.0, [("turn", 180.0), ("forward", 3.6)]),
    (135.0, [("turn", -135.0), ("forward", 3.7)]),  # east is a grid diagonal: 26 steps of 0.1414 m = 3.677 m
])
def test_empty_room_goes_straight_after_one_turn(heading, expected):
    assert as_tuples(plan(rectangle(6, 4), [], (1.0, 2.0), heading, GOAL_EAST)) == expected


def test_grid_follows_any_start_heading():
    h = 30.0
    start = np.array([1.0, 1.0])
    along = np.array([math.cos(math.radians(h)), math.sin(math.radians(h))])
    centre = start + 4.05 * along
    goal = rotate(box(centre[0] - 0.2, centre[1] - 0.2, centre[0] + 0.2, centre[1] + 0.2), h)
    moves = plan(rectangle(8, 8), [], start, h, goal)
    # straight on along 30 degrees until within 0.5 m of the square's near face 3.85 m away: 33 cells
    assert as_tuples(moves) == [("forward", 3.4)]


def test_obstacle_forces_a_detour_that_stays_free_and_reaches_the_goal():
    floor = rectangle(8, 6)
    wall = box(3.8, 0.0, 4.2, 4.5)  # from the south wall up to y = 4.5
    goal = box(6.3, 1.8, 6.7, 2.2)
    start = (2.0, 2.0)
    moves = plan(floor, [wall], start, 0.0, goal)
    assert moves is not None
    points = my_walk(start, 0.0, moves)
    assert my_free(floor, [wall, goal], CLEARANCE).covers(LineString(points))
    assert goal.distance(Point(points[-1])) <= REACH
    assert moves[0] == Move("turn", 45.0) or moves[0] == Move("turn", 90.0)  # north first, round the wall's end
    assert all(m.amount % 45 == 0 for m in moves if m.kind == "turn")
    length = sum(m.amount for m in moves if m.kind == "forward")
    # any route passes above the inflated wall (y >= 4.75) at both x = 3.8 and x = 4.2, then needs
    # to come within REACH of the goal
    left, right = np.array([3.8, 4.5 + CLEARANCE]), np.array([4.2, 4.5 + CLEARANCE])
    bound = np.linalg.norm(left - start) + 0.4 + goal.distance(Point(right)) - REACH
    assert bound <= length <= 1.09 * bound + 0.3  # 8 directions are at most ~8 % longer than any angle


def test_every_rounded_route_in_a_cluttered_room_stays_free():
    rng = np.random.default_rng(0)
    floor = np.array([[0, 0], [7, 0], [7, 3], [4, 3], [4, 6], [0, 6]], float)  # an L
    obstacles = [box(1.5, 1.0, 2.3, 1.6), box(2.8, 4.0, 3.3, 4.6), box(5.5, 1.2, 6.2, 1.8)]
    goal = box(0.4, 5.0, 0.9, 5.5)
    checked = 0
    for _ in range(20):
        start = rng.uniform([0.5, 0.5], [6.5, 2.5])
        heading = float(rng.uniform(-180, 180))
        free = free_space(floor, obstacles + [goal], CLEARANCE + 0.15)
        waypoints = grid_route(free, start, heading, goal, PLAN_REACH)
        if waypoints is None:
            continue
        moves = route_moves(waypoints, heading, 0.1)
        points = my_walk(start, heading, moves)
        assert my_free(floor, obstacles + [goal], CLEARANCE).covers(LineString(points))
        assert goal.distance(Point(points[-1])) <= REACH
        checked += 1
    assert checked >= 10


def test_unreachable_goal_gives_none():
    floor = rectangle(8, 6)
    divider = box(3.9, 0.0, 4.1, 6.0)  # splits the room in two
    assert plan(floor, [divider], (2.0, 3.0), 0.0, box(6.0, 2.8, 6.4, 3.2)) is None


def test_goal_walled_in_gives_none():
    floor = rectangle(8, 6)
    ring = [box(4.5, 1.5, 6.5, 1.7), box(4.5, 3.3, 6.5, 3.5), box(4.5, 1.5, 4.7, 3.5), box(6.3, 1.5, 6.5, 3.5)]
    assert plan(floor, ring, (1.5, 2.5), 0.0, box(5.4, 2.4, 5.6, 2.6)) is None


def test_start_off_the_free_space_gives_none():
    assert plan(rectangle(6, 4), [], (0.1, 2.0), 0.0, GOAL_EAST) is None


def test_unrounded_segments_are_whole_cells_straight_or_diagonal():
    moves = plan(rectangle(6, 6), [box(2.0, 2.0, 2.6, 2.6)], (1.0, 1.0), 20.0, Point(4.0, 4.0).buffer(0.2), step=None)
    forward = [m.amount for m in moves if m.kind == "forward"]
    assert forward
    for length in forward:
        straight, diagonal = length / 0.1, length / (0.1 * math.sqrt(2))
        assert min(abs(straight - round(straight)), abs(diagonal - round(diagonal))) < 1e-9
    assert all(m.amount % 45 == 0 and m.amount != 0 for m in moves if m.kind == "turn")
    assert all(a.kind != b.kind for a, b in zip(moves, moves[1:]))  # straight runs are merged


def test_footprint_and_free_space():
    rot = np.array([[math.cos(0.5), -math.sin(0.5), 0], [math.sin(0.5), math.cos(0.5), 0], [0, 0, 1]])
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
    corners = np.array([2.0, 1.0, 0.5]) + (signs * [0.5, 0.25, 0.5]) @ rot.T
    fp = box_footprint(corners)
    assert fp.area == pytest.approx(0.5, abs=1e-9)
    assert fp.centroid.x == pytest.approx(2.0) and fp.centroid.y == pytest.approx(1.0)
    free = free_space(rectangle(4, 2), [fp], 0.25)
    assert free.area == pytest.approx(my_free(rectangle(4, 2), [fp], 0.25).area, rel=1e-9)
    assert not free.contains(Point(2.0, 1.0)) and free.contains(Point(0.5, 0.5))


def test_walk_and_wrap():
    moves = [Move("forward", 1.0), Move("turn", 90.0), Move("forward", 2.0), Move("turn", -135.0), Move("forward", 1.0)]
    np.testing.assert_allclose(walk((0, 0), 0.0, moves), my_walk((0, 0), 0.0, moves), atol=1e-12)
    assert (wrap_deg(190.0), wrap_deg(-180.0), wrap_deg(180.0), wrap_deg(-190.0)) == (-170.0, 180.0, 180.0, 170.0)


def test_distances_to_an_area_match_shapely_inside_outside_and_in_holes():
    square_with_hole = box(0, 0, 4, 4).difference(box(1, 1, 2, 2))
    two_parts = rotate(box(0, 0, 1, 2), 30).union(box(5, 5, 6, 6))
    points = np.array([[2.0, 3.0], [1.5, 1.5], [-1.0, -1.0], [4.0, 2.0], [7.0, 5.5], [5.5, 5.5], [0.3, 0.9]])
    for area in (square_with_hole, two_parts):
        expected = [Point(p).distance(area) for p in points]
        np.testing.assert_allclose(distances_to(area, points), expected, atol=1e-12)
    assert distances_to(square_with_hole, points[:2]).tolist() == [0.0, 0.5]  # inside; in the hole

