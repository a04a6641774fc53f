"""Procedural rooms: a floor polygon, walls, labelled furniture and a camera walk, all from one seed.

The world is exact ground truth: every object's `Box` is the tight bounding box of its mesh in its
own yaw frame, so tests can compare anything qagen computes against it. Only
`numpy.random.default_rng(seed)` is used, so a seed always gives the same room.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import shapely
import trimesh
from shapely.geometry import LineString, Polygon
from shapely.geometry.polygon import orient

from qagen.scene.model import Box, Room
from qagen.scene.synthetic.world import Structure, World, WorldObject

IMAGE_WIDTH = 640
IMAGE_HEIGHT = 480
GAP = 0.05  # minimum free space between footprints, and between footprints and walls (m)
CAMERA_CLEARANCE = 0.4  # minimum distance from the camera path to any object footprint (m)
WALL_THICKNESS = 0.1

STRUCTURE_COLORS = {"floor": (190, 170, 140), "wall": (215, 215, 205), "ceiling": (245, 245, 245)}


# ---------------------------------------------------------------------------------------------
# Meshes of the object kinds, in a local frame: footprint centred on the origin, base at z = 0,
# width along x, depth along y, the front (where a person sits or looks from) towards +y.


def _block(extents, center) -> trimesh.Trimesh:
    return trimesh.creation.box(extents=extents, transform=trimesh.transformations.translation_matrix(center))


def _disc(radius: float, z0: float, z1: float) -> trimesh.Trimesh:
    mesh = trimesh.creation.cylinder(radius=radius, height=z1 - z0, sections=32)
    mesh.apply_translation((0.0, 0.0, (z0 + z1) / 2.0))
    return mesh


def _solid(w, d, h):
    return [_block((w, d, h), (0, 0, h / 2))]


def _table(w, d, h):
    top, leg = 0.04, 0.05
    legs = [_block((leg, leg, h - top), (sx * (w / 2 - leg), sy * (d / 2 - leg), (h - top) / 2))
            for sx in (-1, 1) for sy in (-1, 1)]
    return [_block((w, d, top), (0, 0, h - top / 2))] + legs


def _desk(w, d, h):
    top, side = 0.04, 0.04
    sides = [_block((side, d, h - top), (sx * (w / 2 - side / 2), 0, (h - top) / 2)) for sx in (-1, 1)]
    return [_block((w, d, top), (0, 0, h - top / 2))] + sides


def _chair(w, d, h):
    seat_z, seat, leg, back = 0.46, 0.05, 0.04, 0.05
    legs = [_block((leg, leg, seat_z - seat), (sx * (w / 2 - leg / 2), sy * (d / 2 - leg / 2), (seat_z - seat) / 2))
            for sx in (-1, 1) for sy in (-1, 1)]
    return legs + [
        _block((w, d, seat), (0, 0, seat_z - seat / 2)),
        _block((w, back, h - seat_z), (0, -d / 2 + back / 2, (seat_z + h) / 2)),
    ]


def _stool(w, d, h):
    return [_disc(w / 2, h - 0.04, h), _disc(0.03, 0.03, h - 0.04), _disc(0.35 * w, 0.0, 0.03)]


def _sofa(w, d, h):
    seat_z, back, arm, arm_z = 0.42, 0.2, 0.16, 0.62
    return [
        _block((w, d, seat_z), (0, 0, seat_z / 2)),
        _block((w, back, h - seat_z), (0, -d / 2 + back / 2, (seat_z + h) / 2)),
        _block((arm, d - back, arm_z - seat_z), (-w / 2 + arm / 2, back / 2, (seat_z + arm_z) / 2)),
        _block((arm, d - back, arm_z - seat_z), (w / 2 - arm / 2, back / 2, (seat_z + arm_z) / 2)),
    ]


def _bed(w, d, h):
    frame_z, mattress, head = 0.3, 0.22, 0.06
    return [
        _block((w, d, frame_z), (0, 0, frame_z / 2)),
        _block((w - 0.06, d - head - 0.04, mattress), (0, (head - 0.04) / 2, frame_z + mattress / 2)),
        _block((w, head, h), (0, -d / 2 + head / 2, h / 2)),
    ]


def _shelf(w, d, h):
    side, back, board = 0.03, 0.02, 0.025
    parts = [_block((side, d, h), (sx * (w / 2 - side / 2), 0, h / 2)) for sx in (-1, 1)]
    parts.append(_block((w - 2 * side, back, h), (0, -d / 2 + back / 2, h / 2)))
    levels = max(3, round(h / 0.4))
    for z in np.linspace(0.0, h - board, levels + 1):
        parts.append(_block((w - 2 * side, d - back, board), (0, back / 2, z + board / 2)))
    return parts


def _lamp(w, d, h):
    shade = 0.3
    return [_disc(0.35 * w, 0.0, 0.03), _disc(0.015, 0.03, h - shade), _disc(w / 2, h - shade, h)]


def _plant(w, d, h):
    pot_h = 0.35 * h
    foliage = trimesh.creation.icosphere(subdivisions=2, radius=1.0)
    foliage.apply_scale((w / 2, w / 2, (h - pot_h) / 2))
    foliage.apply_translation((0, 0, (h + pot_h) / 2))
    return [_disc(0.28 * w, 0.0, pot_h), foliage]


def _can(w, d, h):
    return [_disc(w / 2, 0.0, h)]


def _vase(w, d, h):
    return [_disc(w / 2, 0.0, 0.7 * h), _disc(0.25 * w, 0.7 * h, h)]


def _screen(w, d, h):
    foot, panel = 0.02, 0.03
    return [
        _block((min(0.3, w), d, foot), (0, 0, foot / 2)),
        _block((0.05, 0.03, 0.14), (0, 0, foot + 0.07)),
        _block((w, panel, h - 0.12), (0, 0, 0.12 + (h - 0.12) / 2)),
    ]


@dataclass(frozen=True)
class _Kind:
    """One kind of object: its label, size ranges (w, d, h) in metres, and how its mesh is built."""

    name: str  # catalogue key; also the label unless `label` says otherwise
    size: tuple[tuple[float, float], tuple[float, float], tuple[float, float]]
    make: Callable[[float, float, float], list]
    round: bool = False  # footprint is a disc: depth equals width
    label_override: Optional[str] = None

    @property
    def label(self) -> str:
        return self.label_override or self.name

    def sample_mesh(self, rng: np.random.Generator) -> trimesh.Trimesh:
        w, d, h = (float(rng.uniform(lo, hi)) for lo, hi in self.size)
        if self.round:
            d = w
        return trimesh.util.concatenate(self.make(w, d, h))


KINDS = {k.name: k for k in (
    _Kind("table", ((1.0, 1.6), (0.7, 0.9), (0.72, 0.78)), _table),
    _Kind("desk", ((1.0, 1.4), (0.55, 0.7), (0.72, 0.76)), _desk),
    _Kind("chair", ((0.42, 0.5), (0.42, 0.5), (0.82, 0.95)), _chair),
    _Kind("stool", ((0.34, 0.4), (0.34, 0.4), (0.45, 0.65)), _stool, round=True),
    _Kind("sofa", ((1.6, 2.2), (0.8, 0.95), (0.75, 0.9)), _sofa),
    _Kind("bed", ((1.4, 1.8), (1.95, 2.1), (0.9, 1.1)), _bed),
    _Kind("shelf", ((0.6, 1.0), (0.28, 0.4), (1.2, 1.9)), _shelf),
    _Kind("cabinet", ((0.7, 1.3), (0.4, 0.55), (0.55, 0.9)), _solid),
    _Kind("nightstand", ((0.4, 0.5), (0.35, 0.45), (0.5, 0.6)), _solid),
    _Kind("lamp", ((0.3, 0.45), (0.3, 0.45), (1.4, 1.7)), _lamp, round=True),
    _Kind("plant", ((0.35, 0.6), (0.35, 0.6), (0.6, 1.3)), _plant, round=True),
    _Kind("trash can", ((0.26, 0.36), (0.26, 0.36), (0.3, 0.45)), _can, round=True),
    _Kind("box", ((0.3, 0.6), (0.3, 0.5), (0.25, 0.45)), _solid),
    _Kind("small box", ((0.15, 0.3), (0.12, 0.25), (0.08, 0.18)), _solid, label_override="box"),
    _Kind("cup", ((0.07, 0.09), (0.07, 0.09), (0.09, 0.12)), _can, round=True),
    _Kind("book", ((0.14, 0.2), (0.2, 0.26), (0.025, 0.05)), _solid),
    _Kind("vase", ((0.1, 0.16), (0.1, 0.16), (0.2, 0.35)), _vase, round=True),
    _Kind("monitor", ((0.5, 0.65), (0.18, 0.2), (0.4, 0.5)), _screen),
    _Kind("tv", ((0.9, 1.2), (0.22, 0.25), (0.55, 0.75)), _screen),
)}

LABEL_COLORS = {
    "table": (160, 105, 55), "desk": (90, 120, 165), "chair": (205, 60, 50), "stool": (235, 150, 40),
    "sofa": (60, 105, 195), "bed": (175, 70, 145), "shelf": (110, 70, 35), "cabinet": (95, 155, 140),
    "nightstand": (185, 145, 105), "lamp": (250, 225, 80), "plant": (55, 160, 60), "trash can": (85, 85, 85),
    "box": (205, 175, 120), "cup": (235, 100, 160), "book": (40, 60, 140), "vase": (60, 195, 205),
    "monitor": (30, 30, 35), "tv": (55, 50, 95),
}

# What may stand on which top surface.
TOPS = {
    "table": ("cup", "book", "vase"),
    "desk": ("monitor", "cup", "book"),
    "nightstand": ("book", "cup", "vase"),
    "cabinet": ("tv", "vase", "small box", "book"),
    "shelf": ("small box", "vase", "book"),
}
# Floor kinds that fill the room after the anchor groups, with their relative frequency.
EXTRAS = {"shelf": 3, "cabinet": 3, "lamp": 2, "plant": 3, "trash can": 2, "box": 2, "stool": 2,
          "nightstand": 1, "chair": 2}
AGAINST_WALL = {"shelf", "cabinet", "nightstand", "desk", "bed", "sofa"}


# ---------------------------------------------------------------------------------------------
# Placement


def _rz(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclass
class _Placed:
    kind: str
    mesh: trimesh.Trimesh  # local frame
    x: float
    y: float
    z: float  # base height: 0 on the floor, the parent's top when standing on something
    yaw: float
    footprint: Polygon
    parent: Optional[int]

    @property
    def top(self) -> float:
        return self.z + float(self.mesh.bounds[1, 2])

    def to_world(self, local_xy: np.ndarray) -> np.ndarray:
        return local_xy @ _rz(self.yaw)[:2, :2].T + (self.x, self.y)


def _footprint(mesh: trimesh.Trimesh, x: float, y: float, yaw: float) -> Polygon:
    (x0, y0, _), (x1, y1, _) = mesh.bounds
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    return Polygon(corners @ _rz(yaw)[:2, :2].T + (x, y))


class _Layout:
    """Rejection sampling of object poses under the arrangement rules (inside, apart, off the path)."""

    def __init__(self, floor: Polygon, path: LineString, height: float, capacity: int, rng: np.random.Generator):
        self.floor = floor
        self.inner = floor.buffer(-GAP, join_style="mitre")
        self.path = path
        self.height = height
        self.capacity = capacity
        self.rng = rng
        self.placed: list[_Placed] = []

    @property
    def full(self) -> bool:
        return len(self.placed) >= self.capacity

    def _floor_ok(self, footprint: Polygon) -> bool:
        if not self.inner.contains(footprint) or footprint.distance(self.path) < CAMERA_CLEARANCE:
            return False
        return all(p.parent is not None or footprint.distance(p.footprint) >= GAP for p in self.placed)

    def _add(self, kind: str, mesh, x, y, z, yaw, footprint, parent=None) -> int:
        self.placed.append(_Placed(kind, mesh, x, y, z, yaw, footprint, parent))
        return len(self.placed) - 1

    def at(self, kind: str, mesh, x: float, y: float, yaw: float) -> Optional[int]:
        if self.full:
            return None
        footprint = _footprint(mesh, x, y, yaw)
        return self._add(kind, mesh, x, y, 0.0, yaw, footprint) if self._floor_ok(footprint) else None

    def against_wall(self, kind: str, tries: int = 60, mesh=None) -> Optional[int]:
        """Back of the object to a wall, facing into the room."""
        mesh = mesh if mesh is not None else KINDS[kind].sample_mesh(self.rng)
        ring = np.asarray(self.floor.exterior.coords)[:-1]
        edges = np.roll(ring, -1, axis=0) - ring
        lengths = np.linalg.norm(edges, axis=1)
        back = -float(mesh.bounds[0, 1]) + GAP + 0.01
        for _ in range(tries):
            e = int(self.rng.choice(len(ring), p=lengths / lengths.sum()))
            along = edges[e] / lengths[e]
            inward = np.array([-along[1], along[0]])
            x, y = ring[e] + along * self.rng.uniform(0.0, lengths[e]) + inward * back
            index = self.at(kind, mesh, float(x), float(y), math.atan2(inward[1], inward[0]) - math.pi / 2)
            if index is not None:
                return index
        return None

    def anywhere(self, kind: str, tries: int = 60, mesh=None) -> Optional[int]:
        """Free-standing: uniform in the room, half aligned with the walls, half at any yaw."""
        mesh = mesh if mesh is not None else KINDS[kind].sample_mesh(self.rng)
        x0, y0, x1, y1 = self.floor.bounds
        for _ in range(tries):
            x, y = self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)
            if self.rng.random() < 0.5:
                yaw = float(self.rng.integers(4)) * math.pi / 2
            else:
                yaw = float(self.rng.uniform(-math.pi, math.pi))
            index = self.at(kind, mesh, float(x), float(y), yaw)
            if index is not None:
                return index
        return None

    def somewhere(self, kind: str) -> Optional[int]:
        mesh = KINDS[kind].sample_mesh(self.rng)
        first = self.against_wall if kind in AGAINST_WALL else self.anywhere
        second = self.anywhere if kind in AGAINST_WALL else self.against_wall
        index = first(kind, mesh=mesh)
        return index if index is not None else second(kind, mesh=mesh)

    def beside(self, kind: str, anchor: int, side: int) -> Optional[int]:
        """Next to `anchor` on its left (-1) or right (+1), backs aligned (a nightstand by a bed)."""
        a = self.placed[anchor]
        mesh = KINDS[kind].sample_mesh(self.rng)
        (ax0, ay0, _), (ax1, _, _) = a.mesh.bounds
        (bx0, by0, _), (bx1, _, _) = mesh.bounds
        local_x = ax1 + GAP + 0.03 - bx0 if side > 0 else ax0 - GAP - 0.03 - bx1
        x, y = a.to_world(np.array([local_x, ay0 - by0]))
        return self.at(kind, mesh, float(x), float(y), a.yaw)

    def facing(self, kind: str, anchor: int, slot: tuple[float, int]) -> Optional[int]:
        """In front of one side of `anchor`, turned towards it. `slot` is (along, side) in the
        anchor's frame: side 0..3 = +y, -y, +x, -x; along in [-0.5, 0.5] of that side's length."""
        a = self.placed[anchor]
        mesh = KINDS[kind].sample_mesh(self.rng)
        along, side = slot
        outward = np.array([(0, 1), (0, -1), (1, 0), (-1, 0)][side], dtype=float)
        tangent = np.abs(outward[::-1])
        lo, hi = a.mesh.bounds[0, :2], a.mesh.bounds[1, :2]
        centre, half = (lo + hi) / 2, (hi - lo) / 2
        reach = float(mesh.bounds[1, 1]) + GAP + float(self.rng.uniform(0.05, 0.15))  # to the object's front
        local = centre + outward * (half @ np.abs(outward) + reach) + tangent * along * (2 * half @ tangent)
        x, y = a.to_world(local)
        # the object's front (+y) points back at the anchor
        yaw = a.yaw + math.atan2(-outward[1], -outward[0]) - math.pi / 2
        return self.at(kind, mesh, float(x), float(y), yaw)

    def on_top(self, kind: str, parent: int, tries: int = 30) -> Optional[int]:
        """On the parent's top surface, inside it by 2 cm and apart from what already stands there."""
        if self.full:
            return None
        p = self.placed[parent]
        mesh = KINDS[kind].sample_mesh(self.rng)
        if p.top + float(mesh.bounds[1, 2]) > self.height - 0.15:
            return None
        surface = p.footprint.buffer(-0.02, join_style="mitre")
        siblings = [q.footprint for q in self.placed if q.parent == parent]
        (px0, py0, _), (px1, py1, _) = p.mesh.bounds
        upright = kind in ("monitor", "tv")
        for _ in range(tries):
            x, y = p.to_world(np.array([self.rng.uniform(px0, px1), self.rng.uniform(py0, py1)]))
            yaw = p.yaw + (0.0 if upright else float(self.rng.uniform(-0.6, 0.6)))
            footprint = _footprint(mesh, float(x), float(y), yaw)
            if surface.contains(footprint) and all(footprint.distance(s) >= GAP for s in siblings):
                return self._add(kind, mesh, float(x), float(y), p.top, yaw, footprint, parent)
        return None


def _bed_group(layout: _Layout, rng: np.random.Generator) -> None:
    bed = layout.somewhere("bed")
    if bed is not None:
        for side in rng.permutation([-1, 1])[: rng.integers(1, 3)]:
            layout.beside("nightstand", bed, int(side))


def _table_group(layout: _Layout, rng: np.random.Generator) -> None:
    table = layout.anywhere("table")
    if table is None:
        return
    slots = [(a, s) for s in (0, 1) for a in (-0.25, 0.25)] + [(0.0, 2), (0.0, 3)]
    wanted, seated = int(rng.integers(2, 5)), 0
    for k in rng.permutation(len(slots)):
        if seated >= wanted:
            break
        seated += layout.facing("chair", table, slots[k]) is not None


def _desk_group(layout: _Layout, rng: np.random.Generator) -> None:
    desk = layout.somewhere("desk")
    if desk is not None:
        layout.facing("chair", desk, (float(rng.uniform(-0.2, 0.2)), 0))
        layout.on_top("monitor", desk)


def _sofa_group(layout: _Layout, rng: np.random.Generator) -> None:
    layout.somewhere("sofa")


# anchor groups and how often a room has each
GROUPS = ((_bed_group, 0.35), (_table_group, 0.85), (_desk_group, 0.5), (_sofa_group, 0.4))


def _furnish(layout: _Layout, rng: np.random.Generator) -> None:
    """Anchor groups first, in random order (bed with nightstands, table with chairs, desk with
    chair and monitor, sofa), then free-standing extras, then small objects on top surfaces, until
    the room holds its target count."""
    for k in rng.permutation(len(GROUPS)):
        group, chance = GROUPS[k]
        if rng.random() < chance:
            group(layout, rng)

    names, weights = list(EXTRAS), np.array(list(EXTRAS.values()), dtype=float)
    floor_target = max(len(layout.placed), round(layout.capacity * rng.uniform(0.5, 0.7)))
    for _ in range(40):
        if len(layout.placed) >= floor_target:
            break
        layout.somewhere(str(rng.choice(names, p=weights / weights.sum())))

    for index, p in enumerate(list(layout.placed)):
        if p.kind == "cabinet" and rng.random() < 0.6:
            layout.on_top("tv", index)
    for _ in range(200):
        if layout.full:
            break
        surfaces = [i for i, p in enumerate(layout.placed) if p.kind in TOPS]
        if surfaces and rng.random() < 0.85:
            parent = int(rng.choice(surfaces))
            layout.on_top(str(rng.choice(TOPS[layout.placed[parent].kind])), parent)
        else:
            layout.anywhere(str(rng.choice(["box", "trash can", "plant", "stool", "lamp"])))
    if len(layout.placed) < 10:
        raise RuntimeError(f"synthetic room holds only {len(layout.placed)} objects; the generator needs fixing")


def _world_object(object_id: int, p: _Placed) -> WorldObject:
    rotation = _rz(p.yaw)
    offset = np.array([p.x, p.y, p.z])
    lo, hi = p.mesh.bounds
    box = Box(center=rotation @ ((lo + hi) / 2.0) + offset, size=hi - lo, rotation=rotation)
    label = KINDS[p.kind].label
    return WorldObject(
        id=object_id, label=label, box=box,
        vertices=np.asarray(p.mesh.vertices) @ rotation.T + offset,
        triangles=np.asarray(p.mesh.faces, dtype=np.int32),
        color=LABEL_COLORS[label],
    )


# ---------------------------------------------------------------------------------------------
# Room and structure


def _floor_polygon(rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A rectangle or an L (one corner cut away), counter-clockwise, and the width of its narrowest
    part (arms of an L are at least 2.8 m wide)."""
    w, d = rng.uniform(3.5, 8.0, size=2)
    if min(w, d) < 5.0 or rng.random() < 0.6:
        return np.array([[0, 0], [w, 0], [w, d], [0, d]], dtype=float), float(min(w, d))
    cw, cd = rng.uniform(1.2, w - 2.8), rng.uniform(1.2, d - 2.8)
    ring = np.array([[0, 0], [w, 0], [w, d - cd], [w - cw, d - cd], [w - cw, d], [0, d]], dtype=float)
    mirror = rng.integers(2, size=2).astype(bool)  # move the cut to any of the four corners
    ring = np.where(mirror, np.array([w, d]) - ring, ring)
    if mirror.sum() == 1:  # a single reflection reverses the orientation
        ring = ring[::-1].copy()
    return ring, float(min(w - cw, d - cd))


def _polygon_mesh(coords: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    triangles = shapely.constrained_delaunay_triangles(Polygon(coords))
    vertices = np.array([c for t in triangles.geoms for c in np.asarray(t.exterior.coords)[:3]])
    return np.column_stack([vertices, np.full(len(vertices), z)]), np.arange(len(vertices), dtype=np.int32).reshape(-1, 3)


def _is_convex(ring: np.ndarray, v: int) -> bool:
    e0, e1 = ring[v] - ring[v - 1], ring[(v + 1) % len(ring)] - ring[v]
    return bool(e0[0] * e1[1] - e0[1] * e1[0] > 0)


def _structure(ring: np.ndarray, height: float) -> list[Structure]:
    """Floor and ceiling as triangulated polygons; each wall a thin box outside its edge, from
    below the floor to above the ceiling, run past convex corners so no ray slips out of the room."""
    floor_v, floor_t = _polygon_mesh(ring, 0.0)
    ceiling_v, ceiling_t = _polygon_mesh(ring, height)
    parts = [Structure("floor", floor_v, floor_t, STRUCTURE_COLORS["floor"]),
             Structure("ceiling", ceiling_v, ceiling_t, STRUCTURE_COLORS["ceiling"])]
    n = len(ring)
    for i in range(n):
        a, b = ring[i], ring[(i + 1) % n]
        length = float(np.linalg.norm(b - a))
        along = (b - a) / length
        inward = np.array([-along[1], along[0]])
        start = -WALL_THICKNESS if _is_convex(ring, i) else 0.0
        end = length + (WALL_THICKNESS if _is_convex(ring, (i + 1) % n) else 0.0)
        mid = a + along * (start + end) / 2 - inward * WALL_THICKNESS / 2
        transform = np.eye(4)
        transform[:3, :3] = _rz(math.atan2(along[1], along[0]))
        transform[:3, 3] = (mid[0], mid[1], height / 2)
        mesh = trimesh.creation.box(extents=(end - start, WALL_THICKNESS, height + 2 * WALL_THICKNESS),
                                    transform=transform)
        parts.append(Structure("wall", np.asarray(mesh.vertices), np.asarray(mesh.faces, dtype=np.int32),
                               STRUCTURE_COLORS["wall"]))
    return parts


# ---------------------------------------------------------------------------------------------
# Camera walk


def _loop(floor: Polygon, inset: float) -> LineString:
    """A smooth closed walk at `inset` from the walls: the shrunk floor with its corners rounded."""
    radius = 0.5
    region = floor.buffer(-(inset + radius), join_style="mitre").buffer(radius).buffer(radius).buffer(-radius)
    if region.geom_type == "MultiPolygon":
        region = max(region.geoms, key=lambda g: g.area)
    return orient(region, 1.0).exterior


def _smooth_periodic(values: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of a periodic signal sampled uniformly (sigma in samples)."""
    freqs = np.fft.rfftfreq(len(values))
    return np.fft.irfft(np.fft.rfft(values) * np.exp(-2.0 * (math.pi * freqs * sigma) ** 2), n=len(values))


def _look(position: np.ndarray, heading: float, pitch_down: float, roll: float) -> np.ndarray:
    """Camera-to-world pose with OpenCV axes: z forward along `heading` tilted down, y down, x right."""
    forward = np.array([math.cos(pitch_down) * math.cos(heading), math.cos(pitch_down) * math.sin(heading),
                        -math.sin(pitch_down)])
    right = np.array([math.sin(heading), -math.cos(heading), 0.0])
    down = np.cross(forward, right)
    c, s = math.cos(roll), math.sin(roll)
    pose = np.eye(4)
    pose[:3, 0] = c * right + s * down
    pose[:3, 1] = -s * right + c * down
    pose[:3, 2] = forward
    pose[:3, 3] = position
    return pose


def _camera_walk(loop: LineString, rng: np.random.Generator, frames: Optional[int] = None) -> list[np.ndarray]:
    """Frames along part of the loop, looking inwards (to the left of the counter-clockwise loop)
    and slowly panning, tilting and bobbing, so that consecutive views overlap. 30-60 frames
    (keyframes of a short capture), or `frames`: the same walk sampled more densely where the
    loop allows (frames closer together), as a longer capture or a smaller frame stride gives."""
    step = 0.02
    length = loop.length
    s = np.arange(0.0, length, step)
    points = shapely.get_coordinates(shapely.line_interpolate_point(loop, s))
    tangent = np.roll(points, -1, axis=0) - np.roll(points, 1, axis=0)
    turning = np.unwrap(np.arctan2(tangent[:, 1], tangent[:, 0]))
    trend = turning[0] + 2.0 * math.pi * s / length
    heading_along = _smooth_periodic(turning - trend, sigma=0.8 / step) + trend

    n = int(rng.integers(30, 61))
    n = frames or n  # drawn either way: the rest of the world does not depend on `frames`
    spacing = min(float(rng.uniform(0.12, 0.25)), length / n)
    direction = 1 if rng.random() < 0.5 else -1
    k = (int(rng.integers(len(s))) + direction * np.round(np.arange(n) * spacing / step).astype(int)) % len(s)
    phase = rng.uniform(0, 2 * math.pi, size=4)
    t = np.arange(n) / 12.0
    inward = math.radians(rng.uniform(60, 85)) + math.radians(10) * np.sin(t + phase[0])
    pitch = np.clip(math.radians(rng.uniform(14, 26)) + math.radians(4) * np.sin(0.7 * t + phase[1]),
                    math.radians(10), math.radians(30))
    roll = math.radians(rng.uniform(0.5, 2.5)) * np.sin(1.3 * t + phase[2])
    height = rng.uniform(1.25, 1.65) + 0.03 * np.sin(2.0 * t + phase[3])
    return [_look(np.array([*points[k[i]], height[i]]), float(heading_along[k[i]] + inward[i]), float(pitch[i]),
                  float(roll[i])) for i in range(n)]


def _intrinsics(rng: np.random.Generator) -> np.ndarray:
    f = float(rng.uniform(520, 580))
    return np.array([[f, 0.0, IMAGE_WIDTH / 2], [0.0, f, IMAGE_HEIGHT / 2], [0.0, 0.0, 1.0]])


def build_world(scene_id: str, seed: int, frames: Optional[int] = None) -> World:
    """A furnished room with a camera walk; the same seed always gives the same world (and the
    same room, objects and camera with any `frames`: see _camera_walk)."""
    rng = np.random.default_rng(seed)
    ring, narrowest = _floor_polygon(rng)
    floor = Polygon(ring)
    height = float(rng.uniform(2.5, 3.0))
    inset = float(np.clip(0.22 * narrowest, 0.85, 1.25))
    loop = _loop(floor, inset)
    capacity = int(rng.integers(10, 21))
    layout = _Layout(floor, loop, height, capacity, rng)
    _furnish(layout, rng)
    return World(
        scene_id=scene_id,
        room=Room(floor_polygon=ring, height=height),
        objects=[_world_object(i + 1, p) for i, p in enumerate(layout.placed)],
        structure=_structure(ring, height),
        K=_intrinsics(rng),
        width=IMAGE_WIDTH,
        height=IMAGE_HEIGHT,
        poses=_camera_walk(loop, rng, frames),
    )
