"""The meta-info loader on a VSI-Bench-style file written from the synthetic world's boxes (one of
them tilted), and its rejections."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qagen.scene.loaders import discover_scenes, load_scene
from qagen.scene.loaders.metainfo import scene_pointer, split_pointer
from support.errors import fails as _fails
from support.metainfo import ROOM_SIZE, meta_scene, tilted, world_boxes


@pytest.fixture
def meta_file(small_world, tmp_path) -> Path:
    """A meta-info file with two scenes: the world, and the world's first two labels only."""
    boxes = world_boxes(small_world)
    first_two = dict(list(boxes.items())[:2])
    content = {"small_0003": meta_scene(boxes), "small_0003_part": meta_scene(first_two)}
    path = tmp_path / "synthetic_meta_info_val.json"
    path.write_text(json.dumps(content))
    return path


def _edit(meta_file: Path, edit) -> None:
    content = json.loads(meta_file.read_text())
    edit(content["small_0003"])
    meta_file.write_text(json.dumps(content))


def test_boxes_ids_labels_and_room_area(small_world, meta_file):
    pointer = scene_pointer(meta_file, "small_0003")
    scene = load_scene(pointer, loader="metainfo")
    boxes = world_boxes(small_world)
    expected = [(label, box) for label, group in boxes.items() for box in group]

    assert (scene.id, scene.source, scene.root, scene.metric) == ("small_0003", "metainfo", pointer, True)
    assert (scene.frames, scene.room, scene.room_area, scene.load_warnings) == ([], None, ROOM_SIZE, {})
    assert scene.capabilities == {"labels", "boxes", "metric", "room"}  # the stated room area
    assert [(o.id, o.label) for o in scene.objects] == [(k + 1, label) for k, (label, _) in enumerate(expected)]
    for obj, (_, box) in zip(scene.objects, expected):
        np.testing.assert_array_equal(obj.box.center, box.center)
        np.testing.assert_array_equal(obj.box.size, box.size)
        np.testing.assert_array_equal(obj.box.rotation, box.rotation)
    loaded = scene.objects[0].box
    assert abs(loaded.rotation[2, 1]) > 0.3  # the tilted box keeps its tilt: not only yawed
    np.testing.assert_allclose(loaded.corners(), tilted(small_world.objects[0].box).corners(), atol=1e-12)


def test_pointers_name_a_scene_inside_a_file(meta_file):
    pointers = discover_scenes(meta_file.parent, "metainfo")
    assert [p.name for p in pointers] == [f"{meta_file.name}#small_0003", f"{meta_file.name}#small_0003_part"]
    assert discover_scenes(meta_file, "metainfo") == pointers
    assert split_pointer(pointers[1]) == (meta_file, "small_0003_part")
    assert len(load_scene(pointers[1], "metainfo").objects) < len(load_scene(pointers[0], "metainfo").objects)


def test_count_disagreements_and_left_handed_axes_are_counted(small_world, meta_file):
    label = small_world.objects[0].label

    def edit(scene):
        scene["object_counts"][label] += 1
        scene["object_counts"]["ghost"] = 2  # counted, but no boxes
        axes = scene["object_bbox"][label][0]["normalizedAxes"]
        axes[6:] = [-v for v in axes[6:]]  # third axis negated: the same box, left-handed axes

    _edit(meta_file, edit)
    scene = load_scene(scene_pointer(meta_file, "small_0003"), "metainfo")
    assert scene.load_warnings == {"object_count_mismatch": 2, "reflected_box_axes": 1}
    expected = tilted(small_world.objects[0].box).corners()
    np.testing.assert_allclose(scene.objects[0].box.corners(), expected, atol=1e-12)
    assert np.linalg.det(scene.objects[0].box.rotation) == pytest.approx(1.0)


def _first_box(scene: dict) -> dict:
    return next(iter(scene["object_bbox"].values()))[0]


def _swap_min_max(box: dict) -> None:
    box["min"], box["max"] = box["max"], box["min"]


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda s: s.update(object_bboxes=s.pop("object_bbox")), "missing required key 'object_bbox'"),
        (lambda s: _swap_min_max(_first_box(s)), "are they swapped"),
        (lambda s: _first_box(s).update(normalizedAxes=[1, 0, 0, 0.5, 1, 0, 0, 0, 1]), "not orthonormal"),
        (lambda s: _first_box(s).update(normalizedAxes=[1, 0, 0, 0, 1, 0]), "normalizedAxes"),
        (lambda s: _first_box(s)["axesLengths"].__setitem__(1, 0.0), "greater than 0"),
        (lambda s: _first_box(s)["centroid"].__setitem__(0, 50.0), "reach outside the box"),
        (lambda s: _first_box(s).update(centroid=["1", 2, 3]), "centroid"),
        (lambda s: s.update(room_size=-4.0), "room_size"),
        (lambda s: s["object_counts"].update(chair=-1), "object_counts"),
    ],
)
def test_rejections_name_the_scene_and_key(meta_file, edit, fragment):
    _edit(meta_file, edit)
    error = _fails(fragment, meta_file, lambda: load_scene(scene_pointer(meta_file, "small_0003"), "metainfo"))
    assert "small_0003" in error.problem
    load_scene(scene_pointer(meta_file, "small_0003_part"), "metainfo")  # the other scene is untouched


def test_file_level_rejections(meta_file):
    pointer = scene_pointer(meta_file, "small_0003")
    _fails("has no scene 'elsewhere'", meta_file, lambda: load_scene(scene_pointer(meta_file, "elsewhere"), "metainfo"))
    _fails("is named <file>.json#<scene id>", meta_file.parent, lambda: load_scene(meta_file.parent, "metainfo"))
    meta_file.write_text(json.dumps([{"small_0003": {}}]))
    _fails("must be an object of scene id", meta_file, lambda: load_scene(pointer, "metainfo"))
    meta_file.write_text('{"small_0003": ')
    _fails("invalid JSON", meta_file, lambda: load_scene(pointer, "metainfo"))
    meta_file.unlink()
    _fails("meta-info file is missing", meta_file, lambda: load_scene(pointer, "metainfo"))
