"""SPAR jsonl -> qagen records -> any writer; SPAR -> qagen -> SPAR gives the same lines back.

The input files are built here from SPAR's documented line format (its README example and the
keys its draw_marker.py reads); no SPAR data is used.
"""
import json

import pytest
from PIL import Image
from typer.testing import CliRunner

from qagen.cli import app
from qagen.convert import convert, spar
from qagen.errors import InputError

README_LINE = {  # SPAR's README example
    "id": "scene0261_00_16",
    "conversations": [
        {"from": "human", "value": "With the counter (red point) having a depth of 1.6 meters, determine the depth of "
                                   "towel (blue point) in the same frame.  Calculate or judge based on the 3D center "
                                   "points of these objects. The unit is meter."},
        {"from": "gpt", "value": "towel's central depth is estimated to be about 1.5 meters."}],
    "image": ["scene0261_00/image_color/543.jpg"],
    "type": "depth_prediction_oc",
    "depth": ["scene0261_00/image_depth/543.png"],
    "red_point": [[553, 397]],
    "blue_point": [[641, 838]],
}
CENTER_MV = {  # SPAR's drawer reads red, green, blue from point_img_idx[0][0], [1], [2]
    "id": "scene0261_00_7", "type": "distance_infer_center_oo_mv",
    "conversations": [{"from": "human", "value": "Which is closer to the red point: the green or the blue one?"},
                      {"from": "gpt", "value": "The blue point."}],
    "image": [f"scene0261_00/image_color/{i}.jpg" for i in (0, 10, 20)],
    "red_point": [[395, 89]], "green_point": [[878, 737]], "blue_point": [[494, 620]], "point_img_idx": [[0, 2, 1]],
}
MAP_MV = {
    "id": "scene0261_00_9", "type": "spatial_imagination_map_mv",
    "conversations": [{"from": "human", "value": "Draw a map of object0 and object1."},
                      {"from": "gpt", "value": "object0 at (0.5, 1.2); object1 at (-0.3, 2.0)."}],
    "image": [f"scene0261_00/image_color/{i}.jpg" for i in (0, 10)],
    "bbox_list": [[[10, 20, 300, 400], [500, 100, 700, 350]]], "bbox_img_idx": [[0, 1]],
}
IMAGINATION_MV = {
    "id": "scene0261_00_11", "type": "spatial_imagination_oc_mv",
    "conversations": [{"from": "human", "value": "Standing at the green box, facing the blue one, where is the red?"},
                      {"from": "gpt", "value": "B"}],
    "image": [f"scene0261_00/image_color/{i}.jpg" for i in (0, 10, 20)],
    "green_bbox": [[10, 20, 300, 400]], "blue_bbox": [[500, 100, 700, 350]], "red_bbox": [[0, 0, 1000, 1000]],
    "bbox_img_idx": [[1, 0, 2]],
}
VIDEO = {
    "id": "scene0261_00_3", "type": "appearance_order",
    "conversations": [{"from": "human", "value": "In which order do the chair, the sofa and the lamp appear?"},
                      {"from": "gpt", "value": "chair, lamp, sofa"}],
    "image": [f"scene0261_00/video_color/frame{k}_{k * 30}.jpg" for k in range(12)],
}
LINES = [README_LINE, CENTER_MV, MAP_MV, IMAGINATION_MV, VIDEO]


def spar_tree(tmp_path, lines=LINES, task_folder="mixed/fill", name="fill_5.jsonl", images_of=None):
    """spar/scannet/{images,qa_jsonl/train/...} holding `lines` and the images they (or `images_of`) name."""
    images = tmp_path / "spar" / "scannet" / "images"
    for line in lines if images_of is None else images_of:
        for path in line.get("image", []):
            (images / path).parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (64, 48), (128, 128, 128)).save(images / path, format="PNG")
    folder = tmp_path / "spar" / "scannet" / "qa_jsonl" / "train" / task_folder
    folder.mkdir(parents=True)
    (folder / name).write_text("".join(json.dumps(l) + "\n" for l in lines), encoding="utf-8")
    return folder / name


def written(out, fmt):
    return [json.loads(l) for p in sorted((out / fmt).rglob("*.jsonl")) for l in p.read_text().splitlines()]


def test_spar_to_qagen_to_spar_gives_the_same_lines(tmp_path):
    path = spar_tree(tmp_path)
    out = tmp_path / "out"
    report = convert("spar", path.parents[2], out, ["spar"], strip_meta=True)
    assert report["records"] == len(LINES) and report["formats"]["spar"] == {"written": len(LINES), "refused": {}}
    assert written(out, "spar") == LINES
    data_json = json.loads((out / "spar" / "qagen.json").read_text())
    assert [e["root"] for e in data_json.values()] == [str((tmp_path / "spar" / "scannet" / "images").resolve())]


def test_records_take_images_from_the_index_in_spars_colour_order(tmp_path):
    path = spar_tree(tmp_path)
    root = spar.default_root(path)
    records = {qa.task: qa for qa in spar.read(path, root, "s")}
    centre = {m.color: m.image for m in records["distance_infer_center_oo_mv"].markers}
    assert centre == {"red": 0, "green": 2, "blue": 1}
    imagination = {m.color: m.image for m in records["spatial_imagination_oc_mv"].markers}
    assert imagination == {"green": 1, "blue": 0, "red": 2}
    listed = records["spatial_imagination_map_mv"].markers
    assert [(m.color, m.image, m.box) for m in listed] == [("blue", 0, (10, 20, 300, 400)),
                                                           ("blue", 1, (500, 100, 700, 350))]
    qa = records["depth_prediction_oc"]
    assert qa.source == "scannet" and qa.format == "fill" and qa.scene == "scene0261_00"
    question, answer = (turn["value"] for turn in README_LINE["conversations"])
    assert qa.question == question and qa.answer == answer
    assert qa.meta["converted_from"] == {"format": "spar", "file": "fill_5.jsonl", "position": "line 1",
                                         "id": "scene0261_00_16"}
    assert qa.meta["depth"] == README_LINE["depth"] and records["appearance_order"].media == "video"


def test_other_writers_take_converted_records(tmp_path):
    path = spar_tree(tmp_path)
    out = tmp_path / "out"
    report = convert("spar", path, out, ["sharegpt", "internvl"])
    assert report["formats"]["sharegpt"]["written"] == report["formats"]["internvl"]["written"] == len(LINES)
    sharegpt = {json.loads(l["meta"])["converted_from"]["id"]: l for l in written(out, "sharegpt")}
    assert sharegpt["scene0261_00_7"]["images"] == CENTER_MV["image"]
    assert sharegpt["scene0261_00_3"]["videos"] == [VIDEO["image"]]
    internvl = {l["meta"]["converted_from"]["id"]: l for l in written(out, "internvl")}
    assert internvl["scene0261_00_7"]["green_point"] == [[878, 737]]


def test_qagen_meta_keeps_roles_and_colours(tmp_path):
    line = dict(CENTER_MV, meta={"task": "distance_infer_center_oo_mv", "markers": [
        {"role": "a", "kind": "point", "color": "red", "image": 0, "xy": [395, 89], "rule": "centre"},
        {"role": "b", "kind": "point", "color": "blue", "image": 1, "xy": [494, 620], "rule": "centre"},
        {"role": "c", "kind": "point", "color": "green", "image": 2, "xy": [878, 737], "rule": "nearest"}]})
    path = spar_tree(tmp_path, [line])
    [qa] = spar.read(path, spar.default_root(path), "s")
    assert {m.role: (m.color, m.image, m.rule) for m in qa.markers} == {
        "a": ("red", 0, "centre"), "b": ("blue", 1, "centre"), "c": ("green", 2, "nearest")}
    bad = dict(line, meta=dict(line["meta"], markers=line["meta"]["markers"][:2]))
    path = spar_tree(tmp_path / "bad", [bad])
    with pytest.raises(InputError, match="line 1: meta.markers disagree"):
        list(spar.read(path, spar.default_root(path), "s"))


@pytest.mark.parametrize("change, message", [
    ({"images": ["scene0261_00/image_color/543.jpg"]}, r"line 2: unknown key\(s\) \['images'\]"),
    ({"red_point": [553, 397]}, r"line 2: red_point should hold one value wrapped once"),
    ({"blue_point": [[641, 1200]]}, r"line 2: blue_point \[641, 1200\] leaves the 0-1000 scale"),
    ({"red_point": [[0.55, 0.4]]}, r"line 2: red_point should be integers .*normalised to 0-1"),
    ({"point_img_idx": [[0]]}, r"line 2: point_img_idx .* one image per marker"),
    ({"point_img_idx": [[0, 1]]}, r"line 2: point_img_idx .* names an image the record does not have"),
    ({"image": ["scene0261_00/image_color/999.jpg"]}, r"line 2: image scene0261_00/image_color/999.jpg does not exist"),
    ({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"},
                        {"from": "human", "value": "q2"}, {"from": "gpt", "value": "a2"}]},
     r"line 2: conversations should be one human turn and one gpt turn"),
    ({"conversations": [{"from": "human", "value": "Is <image> left?"}, {"from": "gpt", "value": "a"}]},
     r"line 2: the question has an <image>/<video> placeholder inside"),
])
def test_malformed_lines_name_file_and_line(tmp_path, change, message):
    path = spar_tree(tmp_path, [README_LINE, dict(README_LINE, **change)], images_of=[README_LINE])
    with pytest.raises(InputError, match=message) as err:
        list(spar.read(path, spar.default_root(path), "s"))
    assert err.value.path == path


def test_cli_convert_reports_counts_and_errors(tmp_path):
    path = spar_tree(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["convert", str(path), "--from", "spar", "--format", "spar,qwen",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"converted {len(LINES)} records from 1 file(s)" in result.output
    assert json.loads((out / "conversion.json").read_text())["formats"]["qwen"]["written"] == len(LINES)
    broken = spar_tree(tmp_path / "broken", [dict(README_LINE, typo=1)])
    result = CliRunner().invoke(app, ["convert", str(broken), "--from", "spar", "--out", str(tmp_path / "o2")])
    assert result.exit_code == 2 and "fill_5.jsonl: line 1: unknown key(s) ['typo']" in result.output


def test_burnt_markers_on_converted_records(tmp_path):
    path = spar_tree(tmp_path, [CENTER_MV])
    out = tmp_path / "out"
    convert("spar", path, out, ["spar"], burn_markers=True, strip_meta=True)
    [line] = written(out, "spar")
    root = spar.default_root(path)
    green = Image.open(root / line["image"][2]).convert("RGB")  # a JPEG copy, as its name says
    x, y = 878 / 1000 * 64, 737 / 1000 * 48
    assert max(abs(a - b) for a, b in zip(green.getpixel((int(x), int(y))), (0, 128, 0))) <= 8  # PIL's "green"
    assert line["point_img_idx"] == [[0, 2, 1]] and line["image"][1].startswith("../")
