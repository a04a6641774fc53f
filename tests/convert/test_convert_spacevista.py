"""SpaceVista meta.json -> qagen records: point order decided by the image bounds, boxes and masks
as exact 0-1000 boxes, and errors that name the file and record. Frames are 200x100 PNGs made
here; the records follow SpaceVista's documented meta.json and extra_info keys."""
import json

import numpy as np
import pytest
from PIL import Image

from qagen.convert import convert, spacevista
from qagen.convert.spacevista import candidate_colours
from qagen.errors import InputError

W, H = 200, 100
FRAMES = [f"DL3DV_frames/scene_a/images_8/frame_{i:05d}.png" for i in range(3)]


@pytest.fixture
def root(tmp_path):
    for frame in FRAMES:
        (tmp_path / frame).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (W, H), (90, 90, 90)).save(tmp_path / frame)
    return tmp_path


def record(extra, frames=FRAMES, question="<video>\nHow far is the marked object?"):
    return {"problem_id": 17, "messages": [{"role": "user", "content": question},
                                           {"role": "assistant", "content": "<answer>2.5</answer>"}],
            "videos": [list(frames)], "extra_info": {"task_type": "ABS_DISTANCE", **extra}}


def read(root, records, **options):
    path = root / "meta.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return list(spacevista.read(path, root, "meta", **options))


def points(frame, *pts):
    return {"input_type": "Image+point+text", "input_point": {"image_path": frame, "points": list(pts)}}


def test_point_order_is_decided_by_the_image_bounds(root):
    [qa] = read(root, [record(points(FRAMES[1], [80, 150], [150, 60], [40, 50]))])
    assert [(m.color, m.image, m.xy, m.rule) for m in qa.markers] == [
        ("red", 1, (750, 800), "yx_by_bounds"),  # [80, 150] fits only as [y, x]
        ("blue", 1, (750, 600), "xy_by_bounds"),  # [150, 60] fits only as [x, y]
        ("green", 1, (250, 400), "yx_as_spacevista"),  # both fit: [y, x], as SpaceVista's loader reads it
    ]
    assert [m.role for m in qa.markers] == ["a", "b", "c"]
    assert qa.question == "How far is the marked object?" and qa.answer == "<answer>2.5</answer>"
    assert qa.media == "video" and qa.images == tuple(FRAMES) and qa.task == "ABS_DISTANCE"
    assert qa.meta["converted_from"]["id"] == 17 and qa.meta["converted_from"]["extra_info"] == {
        "task_type": "ABS_DISTANCE", "input_type": "Image+point+text"}


def test_forced_point_order_and_points_outside_the_image(root):
    [qa] = read(root, [record(points(FRAMES[0], [40, 50]))], point_order="xy")
    assert (qa.markers[0].xy, qa.markers[0].rule) == ((200, 500), "xy_given")
    with pytest.raises(InputError, match=r"meta.json: record 2: point \[150, 250\] lies outside the 200x100 image "
                                         r"in both orders"):
        read(root, [record(points(FRAMES[0], [40, 50])), record(points(FRAMES[0], [150, 250]))])
    with pytest.raises(InputError, match=r"record 1: point \[80, 150\] read as \[x, y\] lies outside"):
        read(root, [record(points(FRAMES[0], [80, 150]))], point_order="xy")


def test_boxes_in_every_documented_shape(root):
    extra = {"input_type": "Image+bbox+text", "input_bbox": {"image_path": FRAMES[2], "bboxes": [
        {"x1": 20, "y1": 10, "x2": 60, "y2": 50}, {"x": 100, "y": 0, "w": 100, "h": 100}, [150, 90, 50, 30]]}}
    [qa] = read(root, [record(extra)])
    assert [(m.color, m.image, m.box) for m in qa.markers] == [
        ("red", 2, (100, 100, 300, 500)), ("blue", 2, (500, 0, 1000, 1000)), ("green", 2, (250, 300, 750, 900))]
    with pytest.raises(InputError, match=r"record 1: box .* leaves the 200x100 image"):
        read(root, [record({"input_bbox": {"image_path": FRAMES[0], "bboxes": [[0, 0, 300, 50]]}})])


def test_pair_boxes_take_the_colours_spacevista_paints(root):
    assert candidate_colours(3) == ["red", "green", "blue"]
    assert candidate_colours(5) == ["red", "yellow", "green", "red", "blue"]  # pool c0, c4, c2, c1, c3
    extra = {"input_bbox": {"image_path_1": FRAMES[0], "bbox_1": {"x1": 0, "y1": 0, "x2": 100, "y2": 50},
                            "image_path_2": FRAMES[2],
                            "bboxes_2": [[0, 0, 20, 20], [20, 20, 40, 40], [40, 40, 60, 60]]}}
    [qa] = read(root, [record(extra)])
    assert [(m.role, m.color, m.image) for m in qa.markers] == [
        ("a", "red", 0), ("b", "red", 2), ("c", "green", 2), ("d", "blue", 2)]
    assert qa.markers[0].box == (0, 0, 500, 500) and qa.markers[3].box == (200, 400, 300, 600)


def object_grid():
    """A 50x100 label grid (the frames' aspect at half size): object 3 and object 7."""
    labels = np.zeros((50, 100), dtype=np.int32)
    labels[10:20, 20:40] = 3
    labels[25:50, 50:100] = 7
    return labels


@pytest.mark.parametrize("encoding, ids", [
    ("labels", [3, 7]), ("one_hot_hwk", [3, 7]), ("one_hot_khw", [3, 7]), ("bool", None)])
def test_masks_become_boxes_around_each_object(root, encoding, ids):
    labels = object_grid()
    arrays = {"labels": labels,
              "one_hot_hwk": np.stack([labels == k for k in range(8)], axis=2),
              "one_hot_khw": np.stack([labels == k for k in range(8)], axis=0),
              "bool": labels == 3}
    np.save(root / "mask.npy", arrays[encoding])
    extra = {"input_type": "Image+mask+text",
             "input_mask": {"image_path": FRAMES[1], "mask_path": "mask.npy", "object_ids": ids}}
    [qa] = read(root, [record(extra)])
    boxes = [(m.kind, m.color, m.image, m.box, m.rule) for m in qa.markers]
    expected = [("box", "red", 1, (200, 200, 400, 400), "mask_box"),
                ("box", "blue", 1, (500, 500, 1000, 1000), "mask_box")]
    assert boxes == (expected if ids else expected[:1])


def test_masks_that_do_not_fit_are_errors(root):
    np.save(root / "transposed.npy", object_grid().T)
    extra = {"input_mask": {"image_path": FRAMES[1], "mask_path": "transposed.npy", "object_ids": [3]}}
    with pytest.raises(InputError, match=r"record 1: mask transposed.npy is 50x100 but its image is 200x100"):
        read(root, [record(extra)])
    np.save(root / "labels.npy", object_grid())
    extra = {"input_mask": {"image_path": FRAMES[1], "mask_path": "labels.npy", "object_ids": [5]}}
    with pytest.raises(InputError, match=r"record 1: object 5 has no pixels in mask labels.npy"):
        read(root, [record(extra)])


def test_flattened_extra_info_reads_like_the_nested_one(root):
    flat = {"input_type": "Image+point+text", "point_image_path": FRAMES[1],
            "point_points": json.dumps([[80, 150], [150, 60]])}
    nested = points(FRAMES[1], [80, 150], [150, 60])
    [a], [b] = read(root, [record(flat)]), read(root, [record(nested)])
    assert a.markers == b.markers


def test_frames_found_like_spacevistas_loader_and_missing_ones_are_errors(root):
    swapped = FRAMES[2].replace("/images_8/", "/images/")
    [qa] = read(root, [record(points(swapped, [40, 50]))])
    assert qa.markers[0].image == 2
    [qa] = read(root, [record(points(str(root / FRAMES[1]), [40, 50]))])  # absolute path under the root
    assert qa.markers[0].image == 1
    with pytest.raises(InputError, match=r"record 1: annotation image elsewhere/x.png is not one of the record"):
        read(root, [record(points("elsewhere/x.png", [40, 50]))])
    with pytest.raises(InputError, match=r"record 1: image DL3DV_frames/scene_a/images_8/frame_00009.png does not"):
        read(root, [record({}, frames=FRAMES + ["DL3DV_frames/scene_a/images_8/frame_00009.png"])])


def test_wrong_keys_are_errors(root):
    with pytest.raises(InputError, match=r"record 1: input_type 'Image\+bbox\+text' names a bbox but extra_info has "
                                         r"no input_bbox"):
        read(root, [record({"input_type": "Image+bbox+text", "input_bboxes": {}})])
    with pytest.raises(InputError, match=r"record 1: unknown key\(s\) \['video'\]"):
        read(root, [dict(record({}), video=[FRAMES])])
    with pytest.raises(InputError, match=r"record 1: messages come from \['user', 'user'\]"):
        read(root, [dict(record({}), messages=[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])])


def test_convert_writes_spar_and_sharegpt(root):
    out = root / "out"
    path = root / "meta.json"
    path.write_text(json.dumps([record(points(FRAMES[1], [80, 150]))]), encoding="utf-8")
    report = convert("spacevista", path, out, ["sharegpt", "spar"])
    assert report["formats"]["spar"]["written"] == 1 and report["formats"]["sharegpt"]["written"] == 1
    [line] = [json.loads(l) for l in (out / "spar" / "spacevista" / "meta.jsonl").read_text().splitlines()]
    assert line["red_point"] == [[750, 800]] and line["point_img_idx"] == [[1]] and line["image"] == FRAMES
