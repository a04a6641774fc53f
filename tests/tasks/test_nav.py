"""nav against ground truth rebuilt here from the World: the free floor (room polygon minus the
objects' box footprints, both kept a walker's radius away), the start pose beside the start
object, and every route walked move by move: it must stay on the free floor and end within reach
of the goal's footprint. The spoken route must say exactly the moves in meta."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
import shapely
from PIL import Image
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import nearest_points

import qagen
from qagen.pipeline import catalogue
from qagen.registry import ANSWERS
from qagen.scene.index import SceneIndex
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.fact import Reject

RADIUS, MARGIN, REACH, MAX_BASE = 0.25, 0.15, 0.6, 1.0  # task_specs/nav.yaml
WORLDS = ("small_world", "clip_world")


def footprints(world):
    out = {}
    for o in world.objects:
        corners = o.box.corners()
        if corners[:, 2].min() <= MAX_BASE:
            out[o.id] = shapely.convex_hull(shapely.multipoints(corners[:, :2]))
    return out


def floor_free(world, clearance):
    room = Polygon(world.room.floor_polygon).buffer(-clearance, join_style="mitre")
    for fp in footprints(world).values():
        room = room.difference(fp.buffer(clearance))
    return room


def walk_route(start, heading_deg, route):
    x, y, h = start[0], start[1], heading_deg
    points = [(x, y)]
    for move in route:
        if "turn_deg" in move:
            h += move["turn_deg"]
        else:
            x += move["forward_m"] * math.cos(math.radians(h))
            y += move["forward_m"] * math.sin(math.radians(h))
            points.append((x, y))
    return np.array(points)


def spoken_moves(text):
    """'turn left 90°, go forward 1.2 m, turn around' -> [{"turn_deg": 90}, {"forward_m": 1.2}, {"turn_deg": 180}]."""
    moves = []
    for part in text.split(", "):
        if part == "turn around":
            moves.append({"turn_deg": 180.0})
        elif m := re.fullmatch(r"turn (left|right) (\d+)°", part):
            moves.append({"turn_deg": float(m[2]) * (1 if m[1] == "left" else -1)})
        elif m := re.fullmatch(r"go forward ([\d.]+) m", part):
            moves.append({"forward_m": float(m[1])})
        else:
            raise AssertionError(f"not a move: {part!r}")
    return moves


@pytest.fixture(scope="module", params=WORLDS)
def nav_records(request):
    world = request.getfixturevalue(request.param)
    scene_dir = request.getfixturevalue(f"{request.param}_native_dir")
    return world, scene_dir, list(qagen.generate(qagen.load(scene_dir), tasks="nav", seed=3))


def test_nav_produces_records(nav_records):
    _, _, records = nav_records
    assert len(records) >= 6 and {qa.format for qa in records} == {"sentence"}


def test_every_route_walks_on_free_floor_to_the_goal(nav_records):
    world, _, records = nav_records
    walker, planner = floor_free(world, RADIUS), floor_free(world, RADIUS + MARGIN)
    fps = footprints(world)
    centres = {o.id: o.box.center for o in world.objects}
    for qa in records:
        roles = {o["role"]: o["id"] for o in qa.meta["objects"]}
        answer = qa.meta["answer"]
        assert answer["kind"] == "text"
        start, heading = np.array(answer["start"]["xy"]), answer["start"]["heading_deg"]
        # the start is the point of the planning floor (0.1 m inside its edge) nearest to the start
        # object's centre (beside it, or beside what it stands on), facing that centre
        spot = nearest_points(planner.buffer(-0.1), Point(*centres[roles["start"]][:2]))[0]
        np.testing.assert_allclose(start, [spot.x, spot.y], atol=1e-6)
        assert walker.contains(Point(*start))
        to_centre = centres[roles["start"]][:2] - start
        assert math.degrees(math.atan2(to_centre[1], to_centre[0])) == pytest.approx(heading, abs=1e-6)
        points = walk_route(start, heading, answer["route"])
        assert walker.covers(LineString(points)), qa.id
        assert fps[roles["goal"]].distance(Point(*points[-1])) <= REACH, qa.id
        assert fps[roles["goal"]].distance(Point(*start)) > REACH
        np.testing.assert_allclose(points[-1], answer["end"]["xy"], atol=1e-9)
        for move in answer["route"]:
            if "turn_deg" in move:
                assert move["turn_deg"] % 45 == 0 and -180 < move["turn_deg"] <= 180 and move["turn_deg"] != 0
            else:
                assert move["forward_m"] > 0 and round(move["forward_m"] * 10, 6) == round(move["forward_m"] * 10)
        assert spoken_moves(answer["value"]) == answer["route"]
        assert answer["value"] in qa.answer.lower() or answer["value"].capitalize() in qa.answer


def test_route_roughly_as_long_as_the_way(nav_records):
    """No wandering: the walked length is at least the straight-line gap and at most the gap plus
    generous slack for going round furniture on the 45-degree grid."""
    world, _, records = nav_records
    fps = footprints(world)
    for qa in records:
        answer = qa.meta["answer"]
        goal = fps[next(o["id"] for o in qa.meta["objects"] if o["role"] == "goal")]
        gap = goal.distance(Point(*answer["start"]["xy"])) - REACH
        length = sum(m.get("forward_m", 0.0) for m in answer["route"])
        assert gap - 0.05 * len(answer["route"]) <= length <= 2.5 * gap + 3.0, (qa.id, gap, length)


def test_nav_markers_sit_on_their_objects(nav_records):
    world, scene_dir, records = nav_records
    W, H = world.width, world.height
    for qa in records:
        roles = {o["role"]: o["id"] for o in qa.meta["objects"]}
        assert {m["role"] for m in qa.meta["markers"]} == {"start", "goal"}
        for marker in qa.meta["markers"]:
            frame = qa.meta["frames"][marker["image"]]
            mask = np.asarray(Image.open(scene_dir / "instance" / f"{frame:06d}.png"))
            x, y = marker["xy"]
            assert mask[min(int(y / 1000 * H), H - 1), min(int(x / 1000 * W), W - 1)] == roles[marker["role"]]


def test_walled_off_goals_are_rejected_as_no_route(clip_world, clip_world_native_dir):
    """Start/goal pairs of the scene: either a route that walks clean (checked above for the
    sampled ones, here for all), or a counted rejection; a goal the start cannot get near on the
    planning floor (its free region never comes within reach) must be rejected as no_route."""
    scene = qagen.load(clip_world_native_dir)
    spec = catalogue.load().specs["nav"]
    ctx = TaskContext(scene, SceneIndex.build(scene), spec, np.random.default_rng(0))
    answer = ANSWERS.get("route_to_goal")
    planner = floor_free(clip_world, RADIUS + MARGIN)
    walker = floor_free(clip_world, RADIUS)
    fps = footprints(clip_world)
    centres = {o.id: o.box.center for o in clip_world.objects}
    walled_off = routed = 0
    starts = sorted(fps)[::4]  # a quarter of the objects as starts, every object as a goal (time)
    for start_id, goal_id in [(s, g) for s in starts for g in fps if s != g]:
        cand = Candidate(frames=(0,), roles=(("start", start_id, 0), ("goal", goal_id, 0)), media="video")
        inner = planner.buffer(-0.1)
        spot = nearest_points(inner, Point(*centres[start_id][:2]))[0]
        region = next(g for g in getattr(planner, "geoms", [planner]) if g.covers(spot))
        cannot_reach = region.distance(fps[goal_id]) > REACH - 0.1
        try:
            solved = answer(ctx, cand, **spec.answer_args)
        except Reject as rej:
            if cannot_reach:
                assert rej.reason == "no_route"
                walled_off += 1
            else:
                assert rej.reason in ("start_within_reach_of_goal", "no_route", "rounded_route_leaves_free_floor",
                                      "rounded_route_misses_goal"), rej.reason
            continue
        assert not cannot_reach
        a = solved.answer
        points = walk_route(a.extra["start"]["xy"], a.extra["start"]["heading_deg"], a.extra["route"])
        assert walker.covers(LineString(points)) and fps[goal_id].distance(Point(*points[-1])) <= REACH
        routed += 1
    assert walled_off >= 3 and routed >= 20
