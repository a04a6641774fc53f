"""InternVL lines with SPAR marker keys, and InternVL's meta file, on hand-made records."""
import json
from dataclasses import replace

import pytest

from qagen.errors import RecordError
from qagen.render.record import QA, Marker
from qagen.writers import WRITERS, InternVLWriter, ShardWriter
from qagen.writers.internvl import record_number

META = {"task": "depth_prediction_oo_mv", "answer": {"kind": "number", "value": 0.4, "unit": "m"}}
QUESTION = "How much deeper is the green point than the blue point?"


def make_qa(n_images=3, markers=(), media="image", question=QUESTION, scene="scene0000_00", number=7):
    images = tuple(f"{scene}/color/{i * 10}.jpg" for i in range(n_images))
    return QA(id=f"scannet/{scene}/depth_prediction_oo_mv/fill/{number:06d}", task="depth_prediction_oo_mv",
              format="fill", source="scannet", scene=scene, question=question, answer="0.4", images=images,
              media=media, markers=tuple(markers), meta=META)


RED_ON_0 = Marker("a", "point", "red", 0, xy=(395, 89))
BLUE_ON_2 = Marker("b", "point", "blue", 2, xy=(494, 620))
GREEN_ON_1 = Marker("c", "point", "green", 1, xy=(878, 737))


@pytest.fixture
def data_root(tmp_path):
    root = tmp_path / "data"
    (root / "scene0000_00" / "color").mkdir(parents=True)
    for i in range(12):
        (root / "scene0000_00" / "color" / f"{i * 10}.jpg").write_bytes(b"jpg")
    return root


def test_registry_resolves_internvl():
    assert WRITERS.get("internvl") is InternVLWriter


def test_multi_view_line_with_spar_points_is_exact():
    qa = make_qa(markers=(RED_ON_0, BLUE_ON_2, GREEN_ON_1))
    assert InternVLWriter().encode(qa) == {
        "id": record_number(qa.id),
        "image": ["scene0000_00/color/0.jpg", "scene0000_00/color/10.jpg", "scene0000_00/color/20.jpg"],
        "conversations": [
            {"from": "human", "value": "Image-1: <image>\nImage-2: <image>\nImage-3: <image>\n" + QUESTION},
            {"from": "gpt", "value": "0.4"},
        ],
        "type": "depth_prediction_oo_mv",
        "red_point": [[395, 89]],
        "blue_point": [[494, 620]],
        "green_point": [[878, 737]],
        "point_img_idx": [[0, 2, 1]],
        "meta": META,
    }


def test_single_image_is_a_string_and_has_no_image_index():
    qa = make_qa(n_images=1, markers=(RED_ON_0, Marker("b", "point", "blue", 0, xy=(641, 838))))
    line = InternVLWriter().encode(qa)
    assert line["image"] == "scene0000_00/color/0.jpg"
    assert line["conversations"][0]["value"] == "<image>\n" + QUESTION
    assert line["red_point"] == [[395, 89]] and line["blue_point"] == [[641, 838]]
    assert "point_img_idx" not in line and "bbox_img_idx" not in line


def test_boxes_use_bbox_keys_and_their_own_index():
    boxes = (Marker("stand", "box", "green", 1, box=(10, 20, 300, 400)),
             Marker("face", "box", "blue", 0, box=(500, 100, 700, 350)),
             Marker("a", "box", "red", 2, box=(0, 0, 1000, 1000)),
             Marker("b", "box", "yellow", 2, box=(600, 600, 640, 700)))
    line = InternVLWriter().encode(make_qa(markers=boxes + (RED_ON_0,)))
    assert line["green_bbox"] == [[10, 20, 300, 400]]
    assert line["blue_bbox"] == [[500, 100, 700, 350]]
    assert line["red_bbox"] == [[0, 0, 1000, 1000]]
    assert line["yellow_bbox"] == [[600, 600, 640, 700]]
    # a type SPAR's drawer does not know: indices in the order red, blue, green, yellow
    assert line["bbox_img_idx"] == [[2, 0, 1, 2]]
    assert line["point_img_idx"] == [[0]]


def test_markers_without_distinct_named_colours_become_a_list():
    points = [Marker(role, "point", "red", i % 3, xy=(100 * i, 50 * i)) for i, role in enumerate("abcd")]
    line = InternVLWriter().encode(make_qa(markers=points))
    assert line["point_list"] == [[[0, 0], [100, 50], [200, 100], [300, 150]]]
    assert line["point_img_idx"] == [[0, 1, 2, 0]]
    assert "red_point" not in line


def test_video_frames_are_labelled_images_not_a_video_key():
    qa = make_qa(n_images=12, media="video")
    line = InternVLWriter().encode(qa)
    assert "video" not in line
    assert line["image"] == [f"scene0000_00/color/{i * 10}.jpg" for i in range(12)]
    prompt = line["conversations"][0]["value"]
    assert prompt.startswith("Frame-1: <image>\nFrame-2: <image>\n")
    assert prompt.endswith("Frame-12: <image>\n" + QUESTION)
    assert prompt.count("<image>") == 12


def test_text_only_record_has_no_image_key():
    line = InternVLWriter().encode(make_qa(n_images=0, media="none"))
    assert "image" not in line
    assert line["conversations"][0]["value"] == QUESTION


def test_id_is_a_deterministic_63_bit_int_of_the_qa_id():
    assert record_number("scannet/scene0000_00/depth_prediction_oo_mv/fill/000007") == 1669032533562751780
    ids = {record_number(f"scannet/scene0000_00/t/fill/{n:06d}") for n in range(1000)}
    assert len(ids) == 1000 and all(0 <= i < 2 ** 63 for i in ids)
    assert InternVLWriter().encode(make_qa())["id"] == InternVLWriter().encode(make_qa())["id"]


def test_strip_meta_leaves_meta_out():
    assert "meta" not in InternVLWriter(strip_meta=True).encode(make_qa())


def test_valid_lines_pass(data_root):
    writer = InternVLWriter(data_root=data_root)
    for qa in (make_qa(markers=(RED_ON_0, BLUE_ON_2, GREEN_ON_1)), make_qa(n_images=1, markers=(RED_ON_0,)),
               make_qa(n_images=12, media="video"), make_qa(n_images=0, media="none")):
        writer.validate(writer.encode(qa), qa)


@pytest.mark.parametrize("qa, reason", [
    (make_qa(question="Compare <image> with the rest"), "image_placeholders"),
    (make_qa(question="<video>\nWhat happens?"), "video_placeholders"),
    (make_qa(markers=(Marker("a", "point", "red", 3, xy=(1, 1)),)), "marker"),
    (make_qa(markers=(Marker("a", "point", "red", 0, xy=(1001, 5)),)), "marker"),
    (make_qa(markers=(Marker("a", "box", "red", 0, box=(500, 10, 400, 20)),)), "marker"),
    (make_qa(n_images=0, media="none", markers=(RED_ON_0,)), "marker"),
    (make_qa(n_images=1, markers=(BLUE_ON_2,)), "marker"),
    (replace(make_qa(n_images=1), images=("scene0000_00/color/5.jpg",)), "missing_image"),
])
def test_lines_their_consumers_would_reject_are_refused(data_root, qa, reason):
    writer = InternVLWriter(data_root=data_root)
    with pytest.raises(RecordError) as err:
        writer.validate(writer.encode(qa), qa)
    assert err.value.reason == reason


def test_answer_turn_with_a_placeholder_and_unwrapped_markers_are_refused():
    qa = make_qa(markers=(RED_ON_0,))
    writer = InternVLWriter()
    line = writer.encode(qa)
    line["conversations"][1]["value"] = "<image>"
    with pytest.raises(RecordError, match="in answers"):
        writer.validate(line, qa)
    line = writer.encode(qa)
    line["red_point"] = [395, 89]
    with pytest.raises(RecordError, match="not wrapped once"):
        writer.validate(line, qa)
    line = writer.encode(qa)
    line["id"] = "7"
    with pytest.raises(RecordError, match="ints"):
        writer.validate(line, qa)


def test_meta_file_has_one_entry_per_non_empty_shard(tmp_path, data_root):
    out = tmp_path / "out"
    writer = InternVLWriter(data_root=data_root)
    shards = []
    for scene, records in {"scene0000_00": [make_qa(), make_qa(number=8)], "scene0001_00": []}.items():
        with ShardWriter(out, writer, "scannet", scene) as shard:
            for qa in records:
                assert shard.write(qa)
        shards.append(shard.info)
    [path] = writer.write_meta(out, shards, "spatial")
    assert path == out / "internvl" / "spatial.json"
    assert json.loads(path.read_text()) == {
        "spatial/scannet/scene0000_00": {
            "root": str(data_root.resolve()),
            "annotation": str((out / "internvl" / "scannet" / "scene0000_00.jsonl").resolve()),
            "data_augment": False,
            "repeat_time": 1,
            "length": 2,
        }
    }
    lines = (out / "internvl" / "scannet" / "scene0000_00.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [record_number(make_qa().id),
                                                          record_number(make_qa(number=8).id)]
