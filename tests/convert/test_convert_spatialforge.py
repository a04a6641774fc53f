"""SpatialForge-style QA (Qwen-VL bbox_2d, 0-1000) -> qagen records; boxes on another scale are errors."""
import json

import pytest

from qagen.convert import convert, spatialforge
from qagen.errors import InputError

GROUNDING = {"id": "sf-1", "image": "room_1/rgb/0001.jpg", "type": "object_grounding",
             "conversations": [{"from": "human", "value": "<image>\nLocate the chair."},
                               {"from": "gpt", "value": '{"bbox_2d": [120, 340, 410, 900], "label": "chair"}'}]}
RELATION = {"id": "sf-2", "images": ["room_1/rgb/0001.jpg", "room_1/rgb/0002.jpg"],
            "messages": [{"role": "user",
                          "content": "Image-1: <image>\nImage-2: <image>\nIs the boxed lamp left of the boxed sofa?"},
                         {"role": "assistant", "content": "Yes."}],
            "objects": [{"bbox_2d": [10, 20, 200, 400], "label": "lamp"},
                        {"bbox_2d": [500, 300, 990, 800], "label": "sofa", "image": 1}]}


@pytest.fixture
def root(tmp_path):
    for name in ("0001.jpg", "0002.jpg"):
        (tmp_path / "room_1" / "rgb").mkdir(parents=True, exist_ok=True)
        (tmp_path / "room_1" / "rgb" / name).write_bytes(b"jpg")
    return tmp_path


def read(root, records, name="qa.jsonl"):
    path = root / name
    text = "".join(json.dumps(r) + "\n" for r in records) if name.endswith(".jsonl") else json.dumps(records)
    path.write_text(text, encoding="utf-8")
    return list(spatialforge.read(path, root, "qa"))


def test_box_answers_and_referenced_boxes(root):
    grounding, relation = read(root, [GROUNDING, RELATION])
    assert grounding.meta["answer"] == {"kind": "box", "value": [120, 340, 410, 900], "label": "chair"}
    assert grounding.question == "Locate the chair." and grounding.images == ("room_1/rgb/0001.jpg",)
    assert grounding.task == "object_grounding" and grounding.scene == "room_1" and grounding.markers == ()
    assert relation.question == "Is the boxed lamp left of the boxed sofa?"
    assert relation.meta["answer"] == {"kind": "text", "value": "Yes."}
    assert [(m.role, m.color, m.image, m.box) for m in relation.markers] == [
        ("a", "red", 0, (10, 20, 200, 400)), ("b", "blue", 1, (500, 300, 990, 800))]
    assert relation.meta["converted_from"] == {"format": "spatialforge", "file": "qa.jsonl", "position": "line 2",
                                               "id": "sf-2"}


def test_a_json_list_reads_like_jsonl(root):
    assert [qa.meta["answer"] for qa in read(root, [GROUNDING, RELATION], name="qa.json")] == \
        [qa.meta["answer"] for qa in read(root, [GROUNDING, RELATION])]


@pytest.mark.parametrize("change, message", [
    ({"objects": [{"bbox_2d": [0.1, 0.2, 0.5, 0.9], "label": "lamp"}]},
     r"line 1: objects\[0\].bbox_2d should be integers .*normalised to 0-1"),
    ({"objects": [{"bbox_2d": [100, 200, 1500, 900], "label": "lamp"}]},
     r"line 1: objects\[0\].bbox_2d .* leaves the 0-1000"),
    ({"objects": [{"bbox_2d": [10, 20, 30, 40], "image": 2}]}, r"line 1: objects\[0\] is on image 2"),
    ({"bbox": [1, 2, 3, 4]}, r"line 1: unknown key\(s\) \['bbox'\]"),
    ({"image": "room_1/rgb/0009.jpg"}, r"line 1: image room_1/rgb/0009.jpg does not exist"),
])
def test_malformed_records_name_file_and_line(root, change, message):
    with pytest.raises(InputError, match=message):
        read(root, [dict(GROUNDING, **change)])


def test_pixel_box_answer_is_an_error(root):
    answer = {"from": "gpt", "value": '{"bbox_2d": [120, 340, 1410, 900], "label": "chair"}'}
    with pytest.raises(InputError, match=r"line 1: the answer's bbox_2d .* leaves the 0-1000 scale"):
        read(root, [dict(GROUNDING, conversations=[GROUNDING["conversations"][0], answer])])


def test_convert_to_qwen_keeps_the_bbox_answer(root):
    path = root / "qa.jsonl"
    path.write_text(json.dumps(GROUNDING) + "\n" + json.dumps(RELATION) + "\n", encoding="utf-8")
    out = root / "out"
    report = convert("spatialforge", path, out, ["qwen", "internvl"])
    assert report["formats"]["qwen"]["written"] == 2 and report["formats"]["internvl"]["written"] == 2
    lines = [json.loads(l) for l in (out / "qwen" / "spatialforge" / "qa.jsonl").read_text().splitlines()]
    assert json.loads(lines[0]["conversations"][1]["value"]) == {"bbox_2d": [120, 340, 410, 900], "label": "chair"}
    internvl = [json.loads(l) for l in (out / "internvl" / "spatialforge" / "qa.jsonl").read_text().splitlines()]
    assert internvl[1]["red_bbox"] == [[10, 20, 200, 400]] and internvl[1]["bbox_img_idx"] == [[0, 1]]
