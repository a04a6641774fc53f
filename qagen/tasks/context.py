"""What a sampler and an answer function see: the scene, its lifted index, the spec and one seeded RNG."""
from __future__ import annotations

import ctypes
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np

from qagen import seeding
from qagen.scene.model import Box, Scene
from qagen.specs.schema import TaskSpec
from qagen.tasks.fact import Reject

if TYPE_CHECKING:
    from qagen.scene.index import SceneIndex

REFERENCE_AREA = 640 * 480  # min_pixels in specs is given at this image area
UINT32 = 1 << 32
LOW32 = UINT32 - 1


def cumulative(odds) -> np.ndarray:
    """The cumulative sum of (unnormalised) odds, scaled to end at 1: what TaskContext.draw takes."""
    cdf = np.cumsum(odds, dtype=float)
    if cdf.size:
        cdf /= cdf[-1]
    return cdf


class _BitGen(ctypes.Structure):
    """numpy's bitgen_t (numpy/random/bitgen.h, the C interface every bit generator exposes)."""

    _fields_ = [("state", ctypes.c_void_p), ("next_uint64", ctypes.c_void_p), ("next_uint32", ctypes.c_void_p),
                ("next_double", ctypes.c_void_p), ("next_raw", ctypes.c_void_p)]


_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype, _capsule_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
_next_uint32_functions: dict[int, Callable] = {}  # one per kind of bit generator


def next_uint32_of(bit_generator: np.random.BitGenerator) -> Callable[[], int]:
    """The bit generator's next_uint32 as a Python callable: what `bit_generator.ctypes` gives,
    read from its `capsule` (the bitgen_t numpy hands to C extensions) at half the cost, cold a
    quarter (a scene makes one per task and format)."""
    bitgen = _BitGen.from_address(_capsule_pointer(bit_generator.capsule, b"BitGenerator"))
    function = _next_uint32_functions.get(bitgen.next_uint32)
    if function is None:
        function = _next_uint32_functions[bitgen.next_uint32] = ctypes.CFUNCTYPE(
            ctypes.c_uint32, ctypes.c_void_p)(bitgen.next_uint32)
    return partial(function, bitgen.state)


class UniformIndex:
    """int(rng.integers(n)) for one Generator: the same draws from the same stream, at a quarter of
    the cost (a context draws some 8,000 a scene). For 1 < n <= 2**32 it is numpy's own algorithm
    (buffered_bounded_lemire_uint32 in numpy/random/src/distributions/distributions.c: Lemire's
    multiply-and-reject on the bit generator's 32-bit draws), called on the bit generator's
    next_uint32 directly instead of behind integers()' argument checks."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.next_uint32 = next_uint32_of(rng.bit_generator)

    def __call__(self, n: int) -> int:
        if n == 1:
            return 0  # as integers(1): nothing is drawn
        if not 1 < n <= UINT32:
            return int(self.rng.integers(n))  # its errors, and its 64-bit algorithm
        m = self.next_uint32() * n
        if m & LOW32 < n:  # m mod 2**32, as masks and shifts: cheaper than % and // on Python ints
            threshold = (UINT32 - n) % n
            while m & LOW32 < threshold:
                m = self.next_uint32() * n
        return m >> 32


@dataclass(slots=True)  # a value, not frozen: see qagen.tasks.fact
class Candidate:
    """Frames and objects a sampler picked, before any answer is computed."""

    frames: tuple[int, ...]  # positions in scene.frames, in the order shown
    roles: tuple[tuple[str, int, Optional[int]], ...]  # (role, object id, image index or None)
    media: str = "image"
    extra: dict = field(default_factory=dict)  # sampler choices the answer needs (e.g. a label)

    def object_id(self, role: str) -> int:
        for r, object_id, _ in self.roles:  # a loop, not next(generator): called ~10,000 times a scene
            if r == role:
                return object_id
        raise KeyError(f"no role {role!r} in the candidate")

    def image_of(self, role: str) -> Optional[int]:
        for r, _, image in self.roles:
            if r == role:
                return image
        raise KeyError(f"no role {role!r} in the candidate")


@dataclass
class TaskContext:
    scene: Scene
    index: SceneIndex
    spec: TaskSpec
    rng: np.random.Generator
    rejections: Counter = field(default_factory=Counter)
    cache: dict = field(default_factory=dict)  # per (scene, task), shared by its formats: memos that use no RNG
    state: dict = field(default_factory=dict)  # per (scene, task, format): what depends on the format's RNG
    scene_memo: dict = field(default_factory=dict)  # per scene, shared by every task: depth maps, ...
    balancer: Any = None  # the engine's Balancer while this context samples
    task_seed: int = 0  # per (scene, task), shared by its formats: seeds task_draws()
    format: Optional[str] = None  # the question format being sampled, for answers that shape its options

    def task_draws(self) -> "TaskContext":
        """A context for draws that stand for the task's distribution of answers (the pools that
        distractors come from): seeded per task, not per format, so the formats share one pool in
        `cache` instead of drawing their own. Same scene, index and memos; its own RNG and state."""
        if "task_draws" not in self.cache:
            self.cache["task_draws"] = replace(self, rng=seeding.generator(self.task_seed),
                                               rejections=Counter(), state={}, balancer=None)
        return self.cache["task_draws"]

    def wants(self, solved: Any) -> bool:
        """Whether the balancer would take this answer now: answer functions that make a free choice
        (which criterion to ask) steer it towards the keys that lag instead of being resampled."""
        return self.balancer is None or self.balancer.refuses(solved) is None

    def require_wanted(self, solved: Any) -> None:
        """Turn the answer away now, for the balancer's reason, when it would be turned away later:
        answer functions call this before drawing what the question shows beside the truth
        (distractors, a false claim), which costs most of a refused candidate otherwise."""
        refused = None if self.balancer is None else self.balancer.refuses(solved)
        if refused is not None:
            raise Reject(refused)

    def pick(self, options):
        """One element of a sequence, uniformly: what rng.choice(options) draws (the same stream),
        without its overhead (it runs thousands of times per scene)."""
        return options[self._index_below(len(options))]

    def sample(self, options, k: int) -> list:
        """k distinct elements of a sequence in random order, every ordered k-subset alike: what
        rng.choice(options, k, replace=False) draws (not the same stream), at a quarter of its cost
        (a partial Fisher-Yates shuffle of positions: k draws)."""
        n = len(options)
        if k > n:
            raise ValueError(f"cannot sample {k} distinct elements of {n}")
        positions = list(range(n))
        out = []
        for i in range(k):
            j = i + self._index_below(n - i)
            positions[i], positions[j] = positions[j], positions[i]
            out.append(options[positions[i]])
        return out

    def integer(self, low: int, high: Optional[int] = None) -> int:
        """What int(rng.integers(low, high)) draws (the same stream), at a quarter of its cost: for
        draws of a number rather than of an element (pick)."""
        low, high = (0, int(low)) if high is None else (int(low), int(high))  # Python ints: numpy ones overflow
        return low + self._index_below(high - low)

    @cached_property
    def _index_below(self) -> UniformIndex:
        return UniformIndex(self.rng)

    def draw(self, cdf: np.ndarray, size: int | None = None):
        """Index (or `size` indices) drawn with the odds whose cumulative sum is `cdf` (see
        `cumulative`): what rng.choice(len(cdf), size, p=odds) draws (the same stream), without
        summing the odds again on every draw."""
        u = self.rng.random() if size is None else self.rng.random(size)
        return cdf.searchsorted(u, side="right")

    def box(self, object_id: int) -> Box:
        return self.index.boxes[object_id]

    def centre(self, object_id: int) -> np.ndarray:
        return np.asarray(self.index.boxes[object_id].center, dtype=float)

    def apart_from(self, object_id: int) -> frozenset[int]:
        """Ids of the objects whose box centres are at least filters.min_separation_m from this
        one's (memoised per scene and separation, which most tasks share; an object without a box
        is apart from none)."""
        need = self.spec.filters.min_separation_m
        apart = self.scene_memo.get(("apart_from", need))
        if apart is None:
            ids = np.array(list(self.index.boxes), dtype=np.int64)
            centres = np.array([self.index.boxes[i].center for i in ids.tolist()], dtype=float).reshape(-1, 3)
            far = np.linalg.norm(centres[:, None] - centres[None], axis=-1) >= need
            apart = self.scene_memo["apart_from", need] = {i: frozenset(ids[row].tolist())
                                                           for i, row in zip(ids.tolist(), far)}
        return apart.get(object_id, frozenset())

    def remembered(self, key: Any, compute: Callable[[], Any]) -> Any:
        """compute(), or the Reject it raised, kept per task under `key`: for RNG-free work that
        the task's candidates ask for again and again (a route, a referring expression)."""
        if key not in self.cache:
            try:
                self.cache[key] = compute()
            except Reject as rej:
                self.cache[key] = rej.with_traceback(None)  # kept without the frames it was raised through
        found = self.cache[key]
        if isinstance(found, Reject):
            raise Reject(found.reason)
        return found

    def per_scene(self, table: str, key: Any, compute: Callable[[], Any]) -> Any:
        """compute(), kept per scene in `table` under `key`: for RNG-free values that the scene's
        tasks, and each of their formats, ask for again and again (thousands of times a scene)."""
        memo = self.scene_memo.get(table)
        if memo is None:
            memo = self.scene_memo[table] = {}
        found = memo.get(key)
        if found is None:
            found = memo[key] = compute()
        return found

    def label(self, object_id: int) -> str:
        return self._labels[object_id]

    @cached_property
    def _labels(self) -> dict[int, str]:
        """Object id -> label: asked some ten thousand times per scene, so one dict, built once."""
        labels = self.scene_memo.get("labels")
        if labels is None:
            labels = self.scene_memo["labels"] = {o.id: o.label for o in self.scene.objects}
        return labels

    def c2w(self, frame_pos: int) -> np.ndarray:
        return self.scene.frames[frame_pos].c2w

    def visible_rows(self, frame_pos: int) -> np.ndarray:
        f = self.spec.filters
        return self.index.visible(frame_pos, min_pixels=f.min_pixels, max_truncation=f.max_truncation)

    def per_visibility(self, name: str) -> dict:
        """A per-scene memo for what depends on the spec's visibility filters alone, shared by
        the tasks whose filters agree (most do): per-frame tables are built once, not per task."""
        memo = self._visibility_memos.get(name)
        if memo is None:
            memo = self._visibility_memos[name] = {}
        return memo

    @cached_property
    def _visibility_memos(self) -> dict[str, dict]:
        """name -> per_visibility memo, for the spec's filters (asked some 7,000 times a scene)."""
        f = self.spec.filters
        return self.scene_memo.setdefault(("per_visibility", f.min_pixels, f.max_truncation), {})

    def visible_objects(self, frame_pos: int) -> np.ndarray:
        """Ids of the objects visible in a frame under the spec's filters (memoised, read-only)."""
        by_frame = self.per_visibility("visible_objects")
        ids = by_frame.get(frame_pos)
        if ids is None:
            ids = by_frame[frame_pos] = np.asarray(self.index.obs["object"])[self.visible_rows(frame_pos)]
            ids.setflags(write=False)
        return ids

    def visible_ids(self, frame_pos: int) -> tuple[int, ...]:
        """visible_objects as Python ints, in its order (memoised per scene and visibility filters):
        samplers draw from and loop over them thousands of times per scene."""
        by_frame = self.per_visibility("visible_id_tuples")
        ids = by_frame.get(frame_pos)
        if ids is None:
            ids = by_frame[frame_pos] = tuple(self.visible_objects(frame_pos).tolist())
        return ids

    def row(self, frame_pos: int, object_id: int) -> int:
        """The index row of a visible object in a frame (KeyError when it is not visible there)."""
        by_frame = self.per_visibility("rows_by_object")
        rows = by_frame.get(frame_pos)
        if rows is None:
            rows = by_frame[frame_pos] = dict(zip(self.visible_ids(frame_pos),
                                                  self.visible_rows(frame_pos).tolist()))
        try:
            return rows[object_id]
        except KeyError:
            raise KeyError((frame_pos, object_id)) from None
