"""Video samplers: an ordered clip and the objects (or label) a clip question is about.

Whether a frame *shows* an object is decided on pixels alone (see `presence_states`): truncation does
not matter for "is it in the frame", only for placing markers and measuring, which use the
TASKS.md visibility (ctx.visible_rows) as everywhere else.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from qagen.registry import SAMPLERS
from qagen.tasks.context import REFERENCE_AREA, Candidate, TaskContext
from qagen.tasks.fact import Reject
from qagen.tasks.samplers.clips import every_clip, qualifying_clips, scene_overview, video_clip
from qagen.tasks.samplers.single_view import _well_separated

NONE, PARTLY, SHOWN = 0, 1, 2
STRAY_SHARE = 0.1  # fewer mask pixels than this share of min_pixels are mask noise, not a sighting


def pixel_table(ctx: TaskContext) -> tuple[np.ndarray, np.ndarray]:
    """(object ids, pixels[object, frame position]) over the whole scene (memoised per scene)."""
    if "pixel_table" not in ctx.scene_memo:
        obs = ctx.index.obs
        ids = np.array(sorted(o.id for o in ctx.scene.objects), dtype=np.int64)
        table = np.zeros((len(ids), len(ctx.scene.frames)), dtype=np.int64)
        table[np.searchsorted(ids, obs["object"]), obs["frame"]] = obs["pixels"]
        ctx.scene_memo["pixel_table"] = (ids, table)
    return ctx.scene_memo["pixel_table"]


def presence_states(ctx: TaskContext, frames) -> tuple[np.ndarray, np.ndarray]:
    """(object ids, state[object, *frames.shape]) for every object of the scene over the frame
    positions `frames` (a clip, or an array of clips).

    SHOWN: at least min_pixels of its mask (scaled with the mask area); NONE: fewer than
    STRAY_SHARE of that; PARTLY in between (neither answer is safe there).
    """
    ids, states = _scene_states(ctx)
    return ids, states[:, np.asarray(frames, dtype=np.int64)]


def _scene_states(ctx: TaskContext) -> tuple[np.ndarray, np.ndarray]:
    """presence_states over every frame of the scene (memoised per scene and min_pixels, read-only):
    the samplers and answers of the video tasks ask for clip after clip."""
    min_pixels = ctx.spec.filters.min_pixels
    key = ("presence_states", min_pixels)
    if key not in ctx.scene_memo:
        ids, pixels = pixel_table(ctx)
        size = ctx.index.mask_size
        needed = min_pixels * (size[:, 0] * size[:, 1]) / REFERENCE_AREA  # (F,)
        states = np.where(pixels >= needed, SHOWN, np.where(pixels >= STRAY_SHARE * needed, PARTLY, NONE))
        states.setflags(write=False)
        ctx.scene_memo[key] = ids, states
    return ctx.scene_memo[key]


def first_sightings(ctx: TaskContext, frames: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    """object id -> (first clip frame that shows it, first that shows any of it) for the objects
    the clip shows (memoised per clip: order questions draw the same clips again and again)."""
    key = ("first_sightings", frames)
    found = ctx.cache.get(key)
    if found is None:
        ids, states = presence_states(ctx, frames)
        shown = states == SHOWN
        rows = shown.any(axis=1)
        first_shown = shown[rows].argmax(axis=1).tolist()
        first_seen = (states[rows] > NONE).argmax(axis=1).tolist()
        found = ctx.cache[key] = dict(zip(ids[rows].tolist(), zip(first_shown, first_seen)))
    return found


def referable_by_label(ctx: TaskContext, ids: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Ids shown somewhere in the clip whose label no other object seen in the clip shares."""
    seen = ids[(states > NONE).any(axis=1)].tolist()
    counts = Counter(ctx.label(i) for i in seen)
    shown = ids[(states == SHOWN).any(axis=1)].tolist()
    return np.array([i for i in shown if counts[ctx.label(i)] == 1], dtype=np.int64)


def visible_in(ctx: TaskContext, frames: tuple[int, ...]) -> dict[int, list[int]]:
    """object id -> indices into `frames` where it is visible (markers can be placed there);
    memoised per task and clip (clips are drawn again and again), read-only."""
    key = ("visible_in", frames)
    where = ctx.cache.get(key)
    if where is None:
        where = ctx.cache[key] = {}
        for k, pos in enumerate(frames):
            for oid in ctx.visible_ids(pos):
                where.setdefault(oid, []).append(k)
    return where


@SAMPLERS.register("video_objects")
def video_objects(ctx: TaskContext, roles: list[str], min_distinct_frames: int = 2) -> Candidate:
    """A clip and len(roles) distinct objects, each marked in a clip frame where it is visible;
    the marked frames differ as far as possible and at least `min_distinct_frames` of them do."""
    frames = video_clip(ctx).frames
    where = visible_in(ctx, frames)
    if len(where) < len(roles):
        raise Reject("too_few_visible_objects")
    ids = ctx.sample(sorted(where), len(roles))
    images: list[int] = []
    for oid in ids:
        unused = [k for k in where[int(oid)] if k not in images]
        images.append(int(ctx.pick(unused or where[int(oid)])))
    if len(set(images)) < min(min_distinct_frames, len(roles)):
        raise Reject("objects_only_in_one_frame")
    if not _well_separated(ctx, ids):
        raise Reject("objects_too_close")
    return Candidate(frames=frames, roles=tuple((r, int(i), k) for r, i, k in zip(roles, ids, images)), media="video")


@SAMPLERS.register("clip_objects")
def clip_objects(ctx: TaskContext, roles: list[str], distinct_first_frames: bool = False) -> Candidate:
    """A clip and len(roles) objects it shows, named by label (unique among the objects seen in
    the clip), in random role order; no markers (a marker would tell where the object is).
    `distinct_first_frames`: the objects first show in different frames (random frames, then a
    random object first shown in each), so order questions are not wasted on ties."""
    if distinct_first_frames:
        key = ("clips_with_first_frames", len(roles))
        if key not in ctx.cache:
            ctx.cache[key] = qualifying_clips(ctx, lambda clips: _first_frame_groups(ctx, clips) >= len(roles))
        clips, cdf = ctx.cache[key]
        if not clips:
            raise Reject("too_few_first_frames", final=True)
        frames = clips[int(ctx.draw(cdf))]
    else:
        frames = video_clip(ctx).frames
    pool, by_first = _named_in_clip(ctx, frames)
    if distinct_first_frames:
        groups = sorted(by_first)
        if len(groups) < len(roles):
            raise Reject("too_few_first_frames", final=True)
        picked = ctx.sample(groups, len(roles))
        picks = [int(ctx.pick(by_first[g])) for g in picked]
    else:
        if len(pool) < len(roles):
            raise Reject("too_few_objects_named_by_label")
        picks = ctx.sample(pool, len(roles))
    return Candidate(frames=frames, roles=tuple((r, int(i), None) for r, i in zip(roles, picks)), media="video")


def _named_in_clip(ctx: TaskContext, frames: tuple[int, ...]) -> tuple[np.ndarray, dict[int, list[int]]]:
    """The objects of a clip referable by label, and the same grouped by the clip frame where
    each first shows (memoised per clip: a task draws its qualifying clips again and again)."""
    key = ("named_in_clip", frames)
    if key not in ctx.cache:
        pool = referable_by_label(ctx, *presence_states(ctx, frames))
        sightings = first_sightings(ctx, frames)  # every object of the pool shows in the clip
        by_first: dict[int, list[int]] = {}
        for i in pool.tolist():
            by_first.setdefault(sightings[i][0], []).append(i)
        ctx.cache[key] = pool, by_first
    return ctx.cache[key]


def _first_frame_groups(ctx: TaskContext, clips: np.ndarray) -> np.ndarray:
    """(C,) for clips (C, L): in how many distinct frames the objects referable by label in the
    clip (as referable_by_label decides) first show."""
    ids, states = presence_states(ctx, clips)  # (objects, clips, frames)
    labels = np.unique([ctx.label(int(i)) for i in ids], return_inverse=True)[1].reshape(-1)
    seen = (states > NONE).any(axis=2)
    per_label = np.zeros((labels.max(initial=-1) + 1, clips.shape[0]), dtype=np.int64)
    np.add.at(per_label, labels, seen)
    referable = (states == SHOWN).any(axis=2) & (per_label[labels] == 1)
    first = np.argmax(states == SHOWN, axis=2)  # (objects, clips)
    firsts = np.zeros(clips.shape, dtype=bool)
    obj, clip = np.nonzero(referable)
    firsts[clip, first[obj, clip]] = True
    return firsts.sum(axis=1)


def _clips_by_label(ctx: TaskContext, length: int) -> dict[str, tuple[tuple, tuple]]:
    """label -> (clips of `length` frames showing an object of it, clips with no sign of any),
    for the labels that have both (memoised per clip length)."""
    key = ("clips_by_label", length)
    if key not in ctx.cache:
        clips = every_clip(len(ctx.scene.frames), length, ctx.spec.filters.frame_stride)
        ids, states = presence_states(ctx, clips)  # (objects, clips, frames)
        labels = np.array([ctx.label(int(i)) for i in ids])
        found = {}
        for label in sorted(set(labels.tolist())):
            of_label = states[labels == label]
            shows = (of_label == SHOWN).any(axis=(0, 2))
            lacks = (of_label == NONE).all(axis=(0, 2))
            if shows.any() and lacks.any():
                found[label] = (tuple(clips[k] for k in np.flatnonzero(shows)), tuple(clips[k] for k in np.flatnonzero(lacks)))
        ctx.cache[key] = found
    return ctx.cache[key]


@SAMPLERS.register("label_clip")
def label_clip(ctx: TaskContext) -> Candidate:
    """A label and a clip that shows it or not, 50/50, with the label drawn from the same
    distribution whatever the answer: uniform over the scene's labels that have both a clip
    showing them and a clip without any sign of them (so the label alone says nothing). Clips
    are drawn without replacement, and a label is dropped as soon as either of its answers has no
    clip left, so that repeats (rejected as duplicates) cannot tilt a label towards one answer."""
    f = ctx.spec.filters
    length = ctx.integer(f.min_frames, f.max_frames + 1)
    if ("clips_left", length) not in ctx.state:  # this format's own draws; the task's tables stay whole
        ctx.state[("clips_left", length)] = {label: (list(shows), list(lacks))
                                             for label, (shows, lacks) in _clips_by_label(ctx, length).items()}
    answerable = ctx.state[("clips_left", length)]
    if not answerable:
        raise Reject("no_label_both_shown_and_absent")
    label = str(ctx.pick(sorted(answerable)))
    options = answerable[label][0 if ctx.integer(2) else 1]
    frames = options.pop(ctx.integer(len(options)))
    if not options:  # drawn without replacement; a label leaves once either answer runs out
        del answerable[label]
    return Candidate(frames=frames, roles=(), media="video", extra={"label": label})


@SAMPLERS.register("overview_start_goal")
def overview_start_goal(ctx: TaskContext, roles: list[str] = ("start", "goal")) -> Candidate:
    """Frames spread over the whole capture and two objects seen in them, each marked in one of
    the frames where it is visible (the route runs from the first role's object to the second's)."""
    frames = scene_overview(ctx).frames
    where = visible_in(ctx, frames)
    if len(where) < len(roles):
        raise Reject("too_few_visible_objects")
    ids = ctx.sample(sorted(where), len(roles))
    return Candidate(frames=frames, roles=tuple((r, int(i), int(ctx.pick(where[int(i)])))
                                                for r, i in zip(roles, ids)), media="video")
