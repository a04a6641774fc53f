"""Multi-view samplers: 2-5 views chosen by covisibility with the first (the observer's) view, and
objects marked on them.

Covisibility is qagen.geometry.covisibility's estimate from the SceneIndex (no pixels are read):
the share of the scene's (or one object's) lifted points seen in both views. The first image is
the observer's view (camera 1 of the relation tasks); every other view shares between overlap[0]
and overlap[1] of it, and no two other views share more than overlap[1] with each other, so that
each view adds something. Visibility under the spec's filters is tabled once per scene and set of
filters (shared by the tasks that agree on them); the extents and overlaps, which no filter
changes, once per scene.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from qagen.geometry.covisibility import mutual_shares, view_overlap
from qagen.registry import SAMPLERS
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.fact import Reject

DEFAULT_IMAGES = (2, 5)
DEFAULT_OVERLAP = (0.1, 0.7)


@dataclass
class ViewTable:
    """Dense per (view, object) tables of one scene, for covisibility queries."""

    objects: np.ndarray  # (O,) object ids, ascending
    visible: np.ndarray  # (F, O) bool: visible under the spec's filters
    pixels: np.ndarray  # (F, O) mask pixels (0 where unseen)
    lo: np.ndarray  # (F, O, 3) world minimum of the lifted points (NaN where none)
    hi: np.ndarray  # (F, O, 3) world maximum
    _overlaps: dict = field(default_factory=dict, repr=False)  # view -> overlap row, shared per scene
    _crowding: dict = field(default_factory=dict, repr=False)  # (view, high) -> views sharing more
    _columns: dict = field(default_factory=dict, repr=False)  # view -> visible columns
    _ids: dict = field(default_factory=dict, repr=False)  # view -> visible object ids
    _bands: dict = field(default_factory=dict, repr=False)  # (view, low, high) -> views in the band

    @classmethod
    def of(cls, ctx: TaskContext) -> "ViewTable":
        """The scene's table under the spec's visibility filters, built once per scene and set of
        filters (TaskContext.per_visibility); the filter-free part (pixels, extents, overlaps)
        once per scene."""
        memo = ctx.per_visibility("view_table")
        if "table" not in memo:
            if "view_extents" not in ctx.scene_memo:
                ctx.scene_memo["view_extents"] = cls._extents(ctx)
            objects, pixels, lo, hi, overlaps = ctx.scene_memo["view_extents"]
            visible = np.zeros(pixels.shape, dtype=bool)
            for view in range(len(visible)):
                visible[view, np.searchsorted(objects, ctx.visible_objects(view))] = True
            memo["table"] = cls(objects, visible, pixels, lo, hi, overlaps)
        return memo["table"]

    @staticmethod
    def _extents(ctx: TaskContext) -> tuple:
        obs = ctx.index.obs
        objects = np.unique(obs["object"])
        n_views = len(ctx.scene.frames)
        frame, col = obs["frame"], np.searchsorted(objects, obs["object"])
        pixels = np.zeros((n_views, objects.size))
        pixels[frame, col] = obs["pixels"]
        lo = np.full((n_views, objects.size, 3), np.nan)
        hi = np.full((n_views, objects.size, 3), np.nan)
        lo[frame, col] = np.stack([obs["minx"], obs["miny"], obs["minz"]], axis=-1)
        hi[frame, col] = np.stack([obs["maxx"], obs["maxy"], obs["maxz"]], axis=-1)
        return objects, pixels, lo, hi, {}

    def overlap(self, view: int) -> np.ndarray:
        """Covisibility (F,) of `view` with every view (memoised per view)."""
        if view not in self._overlaps:
            self._overlaps[view] = view_overlap(self.pixels, self.lo, self.hi, view)
        return self._overlaps[view]

    def crowded_by(self, view: int, high: float) -> frozenset[int]:
        """The views that share more than `high` with `view` (memoised): pick_views tests its
        candidates against them thousands of times per scene, a set lookup each."""
        key = (view, high)
        crowded = self._crowding.get(key)
        if crowded is None:
            crowded = self._crowding[key] = frozenset(np.flatnonzero(~(self.overlap(view) <= high)).tolist())
        return crowded

    def object_overlap(self, view_a: int, view_b: np.ndarray) -> np.ndarray:
        """(len(view_b), O): share of each object's points seen in both view_a and each of view_b
        (the smaller of the two directions; 0 where it is missing from either)."""
        return mutual_shares(self.lo[view_a][None], self.hi[view_a][None], self.lo[view_b], self.hi[view_b])

    def band(self, view: int, low: float, high: float) -> np.ndarray:
        """The other views that show a visible object and share low..high with `view` (memoised)."""
        key = (view, low, high)
        if key not in self._bands:
            row = self.overlap(view)
            pool = np.flatnonzero((row >= low) & (row <= high) & self.shows_objects)
            self._bands[key] = pool[pool != view]
        return self._bands[key]

    def visible_columns(self, view: int) -> tuple[int, ...]:
        """Columns of the objects visible in a view, ascending (memoised per view)."""
        columns = self._columns.get(view)
        if columns is None:
            columns = self._columns[view] = tuple(np.flatnonzero(self.visible[view]).tolist())
        return columns

    def visible_ids(self, view: int) -> tuple[int, ...]:
        """Ids of the objects visible in a view, ascending (memoised per view)."""
        ids = self._ids.get(view)
        if ids is None:
            ids = self._ids[view] = tuple(self.object_ids[col] for col in self.visible_columns(view))
        return ids

    @functools.cached_property
    def object_ids(self) -> list[int]:
        """The object ids as Python ints, by column."""
        return self.objects.tolist()

    @functools.cached_property
    def shows_objects(self) -> np.ndarray:
        """(F,) bool: the view shows at least one visible object."""
        return self.visible.any(axis=1)

    @functools.cached_property
    def showing(self) -> np.ndarray:
        """Positions of the views that show at least one visible object."""
        return np.flatnonzero(self.shows_objects)


def first_view(ctx: TaskContext, table: ViewTable) -> int:
    """A random view that shows at least one visible object."""
    firsts = table.showing
    if firsts.size == 0:
        raise Reject("no_view_with_visible_objects", final=True)
    return int(ctx.pick(firsts))


def pick_views(ctx: TaskContext, table: ViewTable, images: Sequence[int], overlap: Sequence[float]) -> list[int]:
    """A first view with a visible object, then up to n-1 more in the overlap band (n drawn from
    `images`), each showing a visible object and not within overlap[1] of another extra view."""
    low, high = overlap
    first = first_view(ctx, table)
    pool = table.band(first, low, high)
    wanted = ctx.integer(images[0], images[1] + 1)
    chosen, crowded = [first], set()  # crowded: views sharing more than `high` with an extra view
    for view in ctx.rng.permutation(pool).tolist():
        if len(chosen) == wanted:
            break
        if view not in crowded:
            chosen.append(view)
            crowded |= table.crowded_by(view, high)
    if len(chosen) < images[0]:
        raise Reject("too_few_views_in_overlap_band")
    return chosen


def _apart(ctx: TaskContext, table: ViewTable) -> list[frozenset[int]]:
    """Per object column, the columns of the objects apart from it (TaskContext.apart_from)."""
    if "apart_columns" not in ctx.cache:
        column = {int(oid): col for col, oid in enumerate(table.objects.tolist())}
        ctx.cache["apart_columns"] = [frozenset(column[i] for i in ctx.apart_from(oid) if i in column)
                                      for oid in table.objects.tolist()]
    return ctx.cache["apart_columns"]


def assign_roles(ctx: TaskContext, table: ViewTable, views: list[int], roles: Sequence[str],
                 off_first: Sequence[str], spread: bool) -> tuple[tuple[str, int, int], ...]:
    """One distinct, visible object per role, each marked on one of the views.

    With `spread`, each role goes to the least-used image that still has a free object, and the
    candidate is rejected unless min(len(roles), len(views)) different images carry markers.
    Roles in `off_first` are never marked on the first image. (A few views and objects at a time,
    thousands of times per scene: Python sets, not boolean arrays.)
    """
    apart = _apart(ctx, table)
    allowed = set(range(table.objects.size))  # not taken, and apart from every taken one
    uses = [0] * len(views)
    shown = [table.visible_columns(view) for view in views]
    picked: dict[str, tuple[int, int]] = {}
    for r in ctx.rng.permutation(len(roles)).tolist():
        role = roles[r]
        free = [(image, [col for col in cols if col in allowed]) for image, cols in enumerate(shown)
                if image or role not in off_first]  # image by image, columns ascending
        if spread:
            least = min((uses[image] for image, cols in free if cols), default=None)
            free = [(image, cols) for image, cols in free if uses[image] == least]
        options = [(image, col) for image, cols in free for col in cols]
        if not options:
            raise Reject("too_few_objects_in_views")
        image, col = ctx.pick(options)
        uses[image] += 1
        allowed &= apart[col]
        allowed.discard(col)
        picked[role] = (table.object_ids[col], image)
    if spread and sum(1 for n in uses if n) < min(len(roles), len(views)):
        raise Reject("markers_not_on_different_images")
    return tuple((role, *picked[role]) for role in roles)


@SAMPLERS.register("multi_view_objects")
def multi_view_objects(ctx: TaskContext, roles: list[str], images: Sequence[int] = DEFAULT_IMAGES,
                       overlap: Sequence[float] = DEFAULT_OVERLAP, off_first: Sequence[str] = (),
                       spread: bool = True) -> Candidate:
    """2-5 views by covisibility with the first, and one visible object per role marked on them."""
    table = ViewTable.of(ctx)
    views = pick_views(ctx, table, images, overlap)
    roles_on = assign_roles(ctx, table, views, roles, off_first, spread)
    return Candidate(frames=tuple(views), roles=roles_on)


@SAMPLERS.register("matching_views")
def matching_views(ctx: TaskContext, overlap: Sequence[float] = DEFAULT_OVERLAP,
                   object_overlap: Sequence[float] = (0.0, 1.0), prefer_repeated_labels: bool = False) -> Candidate:
    """Two views in the overlap band and one object (`a`, marked on the first) visible in both,
    with its own covisibility in the `object_overlap` band. With `prefer_repeated_labels`, objects
    whose label another visible object of the second view shares are taken whenever there are any
    (matching then needs more than the category)."""
    table = ViewTable.of(ctx)
    first = first_view(ctx, table)
    key = ("matching_pairs", first, tuple(overlap), tuple(object_overlap), prefer_repeated_labels)
    if key not in ctx.cache:  # RNG-free per first view, which the task draws again and again
        ctx.cache[key] = _matching_pairs(ctx, table, first, overlap, object_overlap, prefer_repeated_labels)
    seconds, pairs = ctx.cache[key]
    if pairs.size == 0:
        raise Reject("no_object_seen_in_both_views")
    second, col = ctx.pick(pairs)
    return Candidate(frames=(first, int(seconds[second])), roles=(("a", int(table.objects[col]), 0),))


def _matching_pairs(ctx: TaskContext, table: ViewTable, first: int, overlap: Sequence[float],
                    object_overlap: Sequence[float], prefer_repeated_labels: bool) -> tuple[np.ndarray, np.ndarray]:
    """The second views in the overlap band of `first`, and the (second view, object column)
    pairs matching_views draws from."""
    bands = ctx.per_visibility("matching_bands")  # per scene: the tasks that agree on the bands share it
    key = (first, tuple(overlap), tuple(object_overlap))
    if key not in bands:
        bands[key] = _pairs_in_bands(table, first, overlap, object_overlap)
    seconds, pairs = bands[key]
    if prefer_repeated_labels and pairs.size:
        repeated = _repeated_labels(ctx, table)[seconds[pairs[:, 0]], pairs[:, 1]]
        if repeated.any():
            pairs = pairs[repeated]
    return seconds, pairs


def _pairs_in_bands(table: ViewTable, first: int, overlap: Sequence[float],
                    object_overlap: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The second views in the overlap band of `first`, and the (second view, object column) pairs
    of an object visible in both with its own covisibility in the object_overlap band."""
    row = table.overlap(first)
    seconds = np.flatnonzero((row >= overlap[0]) & (row <= overlap[1]))
    seconds = seconds[seconds != first]
    shared = table.visible[first][None] & table.visible[seconds]
    own = table.object_overlap(first, seconds)
    return seconds, np.argwhere(shared & (own >= object_overlap[0]) & (own <= object_overlap[1]))


def _repeated_labels(ctx: TaskContext, table: ViewTable) -> np.ndarray:
    """(F, O) bool: the object's label is shared by another object visible in that view (memoised
    per scene and visibility filters)."""
    memo = ctx.per_visibility("repeated_labels")
    if "table" not in memo:
        labels = np.array([ctx.label(i) for i in table.object_ids])
        same = (labels[:, None] == labels[None]) & ~np.eye(labels.size, dtype=bool)  # (O, O)
        memo["table"] = (table.visible.astype(int) @ same.astype(int)) > 0
    return memo["table"]
