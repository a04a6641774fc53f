"""The same synthetic room written in the native and the ScanNet layouts gives the same answers:
same visible objects per frame, same markers, same geometry, once ScanNet's ids (objectId = id - 1)
and its axis-aligned mesh boxes are accounted for."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from qagen.pipeline import catalogue
from qagen.registry import ANSWERS
from qagen.scene.index import SceneIndex
from qagen.scene.loaders import load_scene
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.fact import Reject
from qagen.tasks.markers import place_markers


@pytest.fixture(scope="module")
def both(small_world_native_dir, small_world_scannet_dir):
    native = load_scene(small_world_native_dir, loader="native")
    scannet = load_scene(small_world_scannet_dir, loader="scannet")
    return (native, SceneIndex.build(native)), (scannet, SceneIndex.build(scannet))


def axis_aligned_ids(world):
    return {o.id for o in world.objects if np.allclose(np.abs(o.box.rotation), np.eye(3), atol=1e-9)}


def context(lifted, task, rng_seed=0):
    scene, index = lifted
    spec = catalogue.load().specs[task]
    return TaskContext(scene, index, spec, np.random.default_rng(rng_seed))


def test_visible_objects_per_frame_agree(both):
    (native, n_index), (scannet, s_index) = both
    for pos in range(len(native.frames)):
        ctx_n, ctx_s = context(both[0], "distance_prediction_oo"), context(both[1], "distance_prediction_oo")
        assert sorted(ctx_n.visible_objects(pos)) == sorted(i + 1 for i in ctx_s.visible_objects(pos))


@pytest.mark.parametrize("task,roles", [
    ("distance_prediction_oo", ("a", "b")),
    ("distance_prediction_oc", ("a",)),
    ("depth_prediction_oc", ("a", "b")),
    ("obj_spatial_relation_oo", ("a", "b")),
    ("spatial_volume_infer", ("a",)),
])
def test_answers_and_markers_agree(both, small_world, task, roles):
    aligned = axis_aligned_ids(small_world)
    compared = 0
    for pos in range(len(both[0][0].frames)):
        ctx_n, ctx_s = context(both[0], task), context(both[1], task)
        visible = sorted(set(int(i) for i in ctx_n.visible_objects(pos)) & aligned)
        for ids in itertools.permutations(visible, len(roles)):
            cand_n = Candidate((pos,), tuple((r, i, 0) for r, i in zip(roles, ids)))
            cand_s = Candidate((pos,), tuple((r, i - 1, 0) for r, i in zip(roles, ids)))
            answer = ANSWERS.get(ctx_n.spec.answer)
            try:
                got_n = answer(ctx_n, cand_n)
            except Reject as rej:  # then the other layout rejects it for the same reason
                with pytest.raises(Reject, match=rej.reason):
                    answer(ctx_s, cand_s)
                continue
            got_s = answer(ctx_s, cand_s)
            assert got_n.answer.value == got_s.answer.value
            for m_n, m_s in zip(place_markers(ctx_n, cand_n), place_markers(ctx_s, cand_s)):
                if m_n.kind == "point":
                    assert np.abs(np.subtract(m_n.xy, m_s.xy)).max() <= 2
                else:  # ScanNet's colour-grid mask sampled onto the depth grid: edges may move one pixel
                    one_pixel = 1000 / min(both[0][0].frames[pos].depth_size)
                    assert np.abs(np.subtract(m_n.box, m_s.box)).max() <= one_pixel + 1
            compared += 1
    assert compared > 0
