"""--burn-markers: marked copies show each marker at its 0-1000 position, on its own image only."""
import json

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from qagen.cli import app
from qagen.render.record import QA, Marker
from qagen.writers import MarkerBurner
from qagen.writers.burn import marker_size

GREY = (128, 128, 128)
W, H = 240, 120


def make_images(root, suffix=".png"):
    folder = root / "scene0000_00" / "color"
    folder.mkdir(parents=True)
    paths = []
    for i in range(2):
        Image.new("RGB", (W, H), GREY).save(folder / f"{i}{suffix}")
        paths.append(f"scene0000_00/color/{i}{suffix}")
    return tuple(paths)


def make_qa(images, markers):
    return QA(id="scannet/scene0000_00/depth_prediction_oc_mv/fill/000007", task="depth_prediction_oc_mv",
              format="fill", source="scannet", scene="scene0000_00", question="q", answer="a", images=images,
              markers=tuple(markers))


def pixels(root, path):
    return np.asarray(Image.open(root / path).convert("RGB")).astype(int)


def test_dot_is_drawn_at_the_markers_position_on_its_image_only(tmp_path):
    root, out = tmp_path / "data", tmp_path / "out"
    images = make_images(root)
    qa = make_qa(images, [Marker("a", "point", "red", 1, xy=(250, 750))])
    burnt = MarkerBurner(root, out).burn(qa)
    assert burnt.images[0] == images[0]  # no marker there: the original
    assert burnt.images[1] == "../out/marked/scannet/scene0000_00/depth_prediction_oc_mv/fill/000007_1.png"
    marked = pixels(root, burnt.images[1])
    x, y = 0.25 * W, 0.75 * H
    red = np.all(marked == (255, 0, 0), axis=2)
    rows, cols = np.nonzero(red)
    assert abs(cols.mean() - x) <= 1 and abs(rows.mean() - y) <= 1
    r = marker_size(W, H)
    assert r == 5 and abs(cols.max() - cols.min() - 2 * r) <= 1
    assert np.all(marked[~red] == GREY)
    assert np.all(pixels(root, images[1]) == GREY)  # the source is left alone


def test_box_outline_lies_just_outside_the_box(tmp_path):
    root, out = tmp_path / "data", tmp_path / "out"
    images = make_images(root)
    qa = make_qa(images, [Marker("a", "box", "blue", 0, box=(250, 250, 750, 750))])
    marked = pixels(root, MarkerBurner(root, out).burn(qa).images[0])
    x1, y1, x2, y2 = 0.25 * W, 0.25 * H, 0.75 * W, 0.75 * H
    r = marker_size(W, H)
    assert np.all(marked[int(y1) + 1:int(y2) - 1, int(x1) + 1:int(x2) - 1] == GREY)  # the box itself is clear
    assert tuple(marked[int(H / 2), int(x1) - r // 2]) == (0, 0, 255)  # left edge, outside the box
    assert tuple(marked[int(y2) + r // 2, int(W / 2)]) == (0, 0, 255)  # bottom edge
    assert tuple(marked[2, 2]) == GREY


def test_jpeg_copies_stay_jpeg_and_records_without_markers_are_untouched(tmp_path):
    root, out = tmp_path / "data", tmp_path / "out"
    images = make_images(root, suffix=".jpg")
    burner = MarkerBurner(root, out)
    plain = make_qa(images, [])
    assert burner.burn(plain) is plain
    burnt = burner.burn(make_qa(images, [Marker("a", "point", "yellow", 0, xy=(500, 500))]))
    copy = root / burnt.images[0]
    assert Image.open(copy).format == "JPEG"
    assert np.abs(pixels(root, burnt.images[0])[H // 2, W // 2] - (255, 255, 0)).max() <= 8
    assert not list(out.rglob(".*.tmp"))


def test_generate_burn_markers_points_records_at_marked_copies(pipeline_root, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["generate", "--data", str(pipeline_root), "--tasks", "distance_prediction_oc",
                                      "--qa-format", "fill", "--format", "spar", "--out", str(out),
                                      "--burn-markers", "--limit", "1"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(l) for p in (out / "spar").rglob("*.jsonl") for l in p.read_text().splitlines()]
    assert lines
    for line in lines:
        [path] = line["image"]
        image = pipeline_root / path
        assert image.resolve().is_relative_to((out / "marked").resolve())
        x, y = line["red_point"][0]
        marked = np.asarray(Image.open(image).convert("RGB")).astype(int)
        h, w = marked.shape[:2]
        assert np.abs(marked[int(y / 1000 * h), int(x / 1000 * w)] - (255, 0, 0)).max() <= 40
