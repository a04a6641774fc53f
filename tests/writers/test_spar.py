"""SPAR-7M lines, checked as SPAR's loader and its marker drawer (draw_marker.py) read them."""
import json
from dataclasses import replace

import pytest

from qagen.errors import RecordError
from qagen.render.record import QA, Marker
from qagen.writers import WRITERS, InternVLWriter, ShardWriter, SparWriter
from qagen.writers.spar import loader_image_count
from qagen.writers.spar_drawing import index_order

QUESTION = "Which of the green and blue points is closer to the red point?"


def make_qa(task, markers=(), n_images=1, media="image", question=QUESTION, meta=None):
    images = tuple(f"scene0000_00/image_color/{i * 10}.jpg" for i in range(n_images))
    return QA(id=f"scannet/scene0000_00/{task}/fill/000003", task=task, format="fill", source="scannet",
              scene="scene0000_00", question=question, answer="green", images=images, media=media,
              markers=tuple(markers), meta=meta if meta is not None else {"task": task})


def point(role, color, image, xy):
    return Marker(role, "point", color, image, xy=xy)


def box(role, color, image, xyxy):
    return Marker(role, "box", color, image, box=xyxy)


@pytest.fixture
def data_root(tmp_path):
    root = tmp_path / "spar" / "scannet" / "images"
    (root / "scene0000_00" / "image_color").mkdir(parents=True)
    for i in range(12):
        (root / "scene0000_00" / "image_color" / f"{i * 10}.jpg").write_bytes(b"jpg")
    return root


def refusal(writer, qa):
    with pytest.raises(RecordError) as err:
        writer.validate(writer.encode(qa), qa)
    return err.value.reason


def test_registry_resolves_spar():
    assert WRITERS.get("spar") is SparWriter


def test_single_view_line_is_spars_own_shape():
    qa = make_qa("depth_prediction_oc", [point("a", "red", 0, (553, 397)), point("b", "blue", 0, (641, 838))],
                 meta={"task": "depth_prediction_oc", "depth": ["scene0000_00/image_depth/0.png"]})
    assert SparWriter().encode(qa) == {
        "id": "scannet/scene0000_00/depth_prediction_oc/fill/000003",
        "conversations": [{"from": "human", "value": QUESTION}, {"from": "gpt", "value": "green"}],
        "image": ["scene0000_00/image_color/0.jpg"],
        "type": "depth_prediction_oc",
        "depth": ["scene0000_00/image_depth/0.png"],
        "red_point": [[553, 397]],
        "blue_point": [[641, 838]],
        "meta": {"task": "depth_prediction_oc", "depth": ["scene0000_00/image_depth/0.png"]},
    }


def test_index_lists_follow_the_drawers_colour_order_not_the_role_order():
    # SPAR's draw_distance_infer_center_oo_mv takes red, green, blue from point_img_idx[0][0], [1], [2].
    markers = [point("a", "red", 4, (738, 230)), point("b", "blue", 0, (487, 328)), point("c", "green", 3, (707, 576))]
    qa = make_qa("distance_infer_center_oo_mv", markers, n_images=5)
    spar_line = SparWriter().encode(qa)
    assert spar_line["point_img_idx"] == [[4, 3, 0]]
    assert InternVLWriter().encode(qa)["point_img_idx"] == [[4, 3, 0]]  # InternVL lines feed SPAR's tooling too
    SparWriter().validate(spar_line, qa)


def test_imagination_boxes_are_indexed_green_blue_red_yellow():
    markers = [box("stand", "green", 0, (10, 20, 300, 400)), box("face", "blue", 1, (500, 100, 700, 350)),
               box("a", "red", 2, (0, 0, 1000, 1000)), box("b", "yellow", 1, (600, 600, 640, 700))]
    qa = make_qa("spatial_imagination_oo_mv", markers[::-1], n_images=3)
    line = SparWriter().encode(qa)
    assert line["bbox_img_idx"] == [[0, 1, 2, 1]]
    assert line["green_bbox"] == [[10, 20, 300, 400]] and line["yellow_bbox"] == [[600, 600, 640, 700]]
    SparWriter().validate(line, qa)


def test_list_types_use_list_keys_even_for_one_entry():
    one = make_qa("spatial_imagination_map_mv", [box("a", "blue", 1, (100, 100, 200, 300))], n_images=2)
    line = SparWriter().encode(one)
    assert line["bbox_list"] == [[[100, 100, 200, 300]]] and line["bbox_img_idx"] == [[1]]
    assert "blue_bbox" not in line
    SparWriter().validate(line, one)


def test_list_entries_are_drawn_blue_so_other_colours_are_refused():
    # draw_distance_infer_center_oo_video paints point_list entries blue, labelled objectA, object0, ...
    red_blue = [point("a", "red", 4, (827, 253)), point("b", "blue", 8, (799, 357))]
    assert refusal(SparWriter(), make_qa("distance_infer_center_oo_video", red_blue, n_images=9, media="video")) \
        == "spar_drawer"


def test_types_spar_does_not_draw_use_red_blue_green_yellow_order():
    markers = [point("a", "green", 2, (1, 2)), point("b", "red", 0, (3, 4)), point("c", "blue", 1, (5, 6))]
    qa = make_qa("near_far_mv", markers, n_images=3)
    line = SparWriter().encode(qa)
    assert line["point_img_idx"] == [[0, 1, 2]]
    assert index_order("near_far_mv", "point") == ("red", "blue", "green", "yellow")
    SparWriter().validate(line, qa)


def test_markers_spars_drawer_cannot_paint_are_refused():
    writer = SparWriter()
    # obj_spatial_relation_oo draws red_bbox and blue_bbox: points would raise KeyError there.
    points = [point("a", "red", 0, (543, 657)), point("b", "blue", 0, (263, 378))]
    assert refusal(writer, make_qa("obj_spatial_relation_oo", points)) == "spar_drawer"
    # distance_infer_center_oc draws nothing: the question would name points the image lacks.
    assert refusal(writer, make_qa("distance_infer_center_oc", points)) == "spar_drawer"
    # obj_frame_locate reads red_bbox; a record without it would crash SPAR's loader.
    assert refusal(writer, make_qa("obj_frame_locate", [], n_images=11, media="video")) == "spar_drawer"
    # obj_spatial_relation_oo_mv needs exactly two of the red, blue and green boxes.
    three = [box(r, c, 0, (1, 1, 9, 9)) for r, c in zip("abc", ("red", "blue", "green"))]
    assert refusal(writer, make_qa("obj_spatial_relation_oo_mv", three, n_images=2)) == "spar_drawer"


def test_drawer_types_without_markers_pass():
    qa = make_qa("view_change_infer", [], n_images=2)
    SparWriter().validate(SparWriter().encode(qa), qa)


def test_placeholders_follow_spars_loader():
    assert loader_image_count("How far?", 1, "depth_prediction_oc") == 1
    assert loader_image_count("How far?", 4, "depth_prediction_oc_mv") == 4
    assert loader_image_count("How far?", 12, "appearance_order") == 12
    assert loader_image_count("Where next?", 3, "nav") == 3
    assert loader_image_count("Image-1: <image>\nHow far?", 12, "appearance_order") == 13
    writer = SparWriter()
    assert refusal(writer, make_qa("depth_prediction_oc_mv", n_images=3, question="<image>\n" + QUESTION)) \
        == "image_placeholders"
    assert refusal(writer, make_qa("appearance_order", n_images=12, media="video",
                                   question="Frame-1: <image>\n" + QUESTION)) == "image_placeholders"


def test_text_only_line_has_no_image_key():
    qa = make_qa("relative_direction", n_images=0, media="none")
    line = SparWriter().encode(qa)
    assert "image" not in line
    SparWriter().validate(line, qa)


def test_missing_image_and_bad_values_are_refused(data_root):
    writer = SparWriter(data_root=data_root)
    missing = make_qa("depth_prediction_oc_mv", [point("a", "red", 1, (5, 5)), point("b", "blue", 0, (6, 6))],
                      n_images=2)
    missing = replace(missing, images=("scene0000_00/image_color/0.jpg", "scene0000_00/nope.jpg"))
    assert refusal(writer, missing) == "missing_image"
    out_of_range = make_qa("distance_prediction_oc", [point("a", "red", 0, (1001, 5))])
    assert refusal(writer, out_of_range) == "marker"


def test_shards_count_refusals_and_meta_is_spars_data_json(data_root, tmp_path):
    out = tmp_path / "out"
    writer = SparWriter(data_root=data_root)
    good = make_qa("distance_prediction_oc", [point("a", "red", 0, (549, 601))])
    bad = make_qa("spatial_volume_infer", [point("a", "red", 0, (857, 243))])
    with ShardWriter(out, writer, "scannet", "scene0000_00") as shard:
        assert shard.write(good) and not shard.write(bad)
    assert shard.rejected == {"spar_drawer": 1}
    [path] = writer.write_meta(out, [shard.info], "qagen")
    assert path == out / "spar" / "qagen.json"
    assert json.loads(path.read_text()) == {"qagen/scannet/scene0000_00": {
        "root": str(data_root.resolve()), "annotation": str(shard.path.resolve()), "data_augment": False,
        "repeat_time": 1, "length": 1}}
    [line] = [json.loads(l) for l in shard.path.read_text().splitlines()]
    assert line["red_point"] == [[549, 601]] and line["image"] == ["scene0000_00/image_color/0.jpg"]
