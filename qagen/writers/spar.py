"""SPAR-7M's own jsonl lines, checked against SPAR's loader and its marker drawer.

What SPAR does with a line (read in SPAR's README, datasets/toy_dataset.py, draw_marker.py and
generate_data_json.py):
- A line is {id, conversations (human/gpt), image, type, depth?, marker keys}. `image` is a list
  even for one image (the single-image path reads image[0]); paths are relative to
  `spar/<source>/images`, the `root` of SPAR's data_json entry. `id` is a string, used only as an
  index. A line without `image` is a text-only sample.
- Questions carry no placeholders: SPAR's loader adds them. One image: `<image>\\n` is prepended
  when missing; 2-10 images: `<image>\\n` times the count; more than 10 images, or type `nav`:
  the images are video frames, `<video>\\n` is prepended when missing and replaced by
  `Frame-i: <image>` lines. We write no placeholder and check that the loader's result has one
  `<image>` per image, in the human turn only.
- The drawer is chosen by `type` (DRAW_FUNCTIONS). Each function reads fixed colour keys
  (`red_point`, `blue_bbox`, ...: one level of wrapping, 0-1000 of the image) and takes the image
  of the k-th colour from `point_img_idx[0][k]` / `bbox_img_idx[0][k]` in its own colour order,
  which differs per type (distance_infer_center_oo_mv reads red, green, blue; the
  spatial_imagination_*_mv/_video types read green, blue, red, yellow). Single-view types draw on
  the one image and read no index; position_matching draws on the first image; a few types use
  `point_list` / `bbox_list` with one index per entry, drawn blue with "object<i>" labels; some
  draw nothing. DRAWINGS below records this for every type SPAR draws.

So for a type SPAR's drawer knows, the line lists each index in that type's colour order, and
the line is refused (reason `spar_drawer`) unless the drawer would paint exactly the record's
markers, each on its own image: a missing key (the drawer raises), a marker the drawer would
not paint (the question would name a marker the image lacks) or a marker painted on another
image all break the record. Types the drawer does not know are written with the index lists in
the order red, blue, green, yellow (`index_order`); SPAR's loader raises for them until a draw
function is added (images from --burn-markers need none). The side file is InternVL's meta file
(`<out>/spar/<name>.json`), which is also SPAR's data_json: {root, annotation, repeat_time, length}.
A converted record keeps its source id (meta.converted_from.id) and its `depth` list (meta.depth,
not checked on disk: SPAR's loader never reads it and SPAR-7M without RGBD lacks the files).
"""
from __future__ import annotations

from dataclasses import replace

from qagen.render.record import QA
from qagen.writers.base import IMAGE, VIDEO, InvalidLine
from qagen.writers.internvl import MARKER_KEYS, InternVLWriter, spar_markers
from qagen.writers.spar_drawing import DRAWINGS, Drawing, is_listed, spar_order

VIDEO_AFTER = 10  # more images than this and SPAR's loader treats them as video frames
LISTED_COLOR = "blue"  # point_list / bbox_list entries are drawn blue, told apart by labels
_LISTED = "listed"  # stand-in colour that makes spar_markers write the list keys


def loader_image_count(first_turn: str, n_images: int, task: str) -> int:
    """How many `<image>` SPAR's loader leaves in the first turn after adding its own."""
    if n_images == 0:
        return first_turn.count(IMAGE)
    if task == "nav" or n_images > VIDEO_AFTER:
        text = first_turn if VIDEO in first_turn else f"{VIDEO}\n{first_turn}"
        frames = "\n".join(f"Frame-{i}: {IMAGE}" for i in range(1, n_images + 1))
        return text.replace(f"{VIDEO}\n", frames + "\n").count(IMAGE)
    return first_turn.count(IMAGE) if IMAGE in first_turn else n_images


class SparWriter(InternVLWriter):
    name = "spar"

    def encode(self, qa: QA) -> dict:
        images = list(qa.images) if qa.media != "none" else []
        original = qa.meta.get("converted_from", {}).get("id")
        line: dict = {"id": qa.id if original is None else str(original), "type": qa.task,
                      "conversations": [{"from": "human", "value": qa.question}, {"from": "gpt", "value": qa.answer}]}
        if images:
            line["image"] = images
        if qa.meta.get("depth"):
            line["depth"] = list(qa.meta["depth"])
        markers = tuple(replace(m, color=_LISTED) if is_listed(qa.task, m.kind) else m
                        for m in spar_order(qa.task, qa.markers))
        line.update(spar_markers(markers, len(images) > 1))
        if not self.strip_meta:
            line["meta"] = qa.meta
        return line

    def validate(self, line: dict, qa: QA) -> None:
        if not isinstance(line.get("id"), str) or not line["id"]:
            raise InvalidLine(qa.id, "id", "SPAR ids are non-empty strings")
        turns = line.get("conversations")
        self.check_turns(qa, turns, "from", "value", "human", "gpt")
        images = line.get("image", [])
        if not isinstance(images, list) or ("image" in line and not images):
            raise InvalidLine(qa.id, "media_path", "SPAR's image is a non-empty list (its loader reads image[0])")
        if any(VIDEO in turn["value"] or IMAGE in turn["value"] for turn in turns[1:]):
            raise InvalidLine(qa.id, "image_placeholders", "placeholders belong in the first human turn only")
        found = loader_image_count(turns[0]["value"], len(images), qa.task)
        if found != len(images):
            raise InvalidLine(qa.id, "image_placeholders",
                              f"SPAR's loader would leave {found} {IMAGE} for {len(images)} images")
        self.check_paths(qa, images)
        self._check_markers(line, qa, len(images))
        if qa.task in DRAWINGS:
            check_drawing(line, qa, len(images))


def check_drawing(line: dict, qa: QA, n_images: int) -> None:
    """Raise InvalidLine unless SPAR's drawer for the type paints exactly the record's markers."""
    drawing = DRAWINGS[qa.task]
    drawn = drawing is not None and n_images > 0  # text-only lines never reach the drawer
    painted = painted_markers(line, drawing, n_images, qa.id) if drawn else []
    expected = sorted((m.kind, m.color, m.image, tuple(m.xy if m.kind == "point" else m.box)) for m in qa.markers)
    if sorted(painted) != expected:
        raise InvalidLine(qa.id, "spar_drawer",
                          f"SPAR's drawer for {qa.task} paints {sorted(painted)}, the record has {expected}")


def painted_markers(line: dict, drawing: Drawing, n_images: int, record_id: str) -> list[tuple]:
    """(kind, colour, image, value) of every marker SPAR's draw function would paint for `line`."""
    suffix, list_key, index_key, _ = MARKER_KEYS[drawing.kind]

    def broken(problem: str) -> InvalidLine:
        return InvalidLine(record_id, "spar_drawer", problem)

    def index() -> list:
        if index_key not in line or not line[index_key][0]:
            raise broken(f"the drawer reads {index_key}, which the line lacks")
        return line[index_key][0]

    if drawing.placement == "listed":
        if list_key not in line:
            raise broken(f"the drawer reads {list_key}, which the line lacks")
        values, images = line[list_key][0], index()
        if len(images) < len(values):
            raise broken(f"{index_key} has fewer entries than {list_key}")
        return [(drawing.kind, LISTED_COLOR, images[i], tuple(v)) for i, v in enumerate(values)]
    present = [c for c in drawing.colours if f"{c}_{suffix}" in line]
    if not drawing.optional and len(present) < len(drawing.colours):
        missing = [f"{c}_{suffix}" for c in drawing.colours if c not in present]
        raise broken(f"the drawer reads {missing}, which the line lacks")
    if drawing.count is not None and len(present) != drawing.count:
        raise broken(f"the drawer needs exactly {drawing.count} of {list(drawing.colours)} {suffix}es")
    if drawing.placement == "one":
        if n_images != 1:
            raise broken("the drawer draws on a single image")
        images = [0] * len(present)
    elif drawing.placement == "first":
        images = [0] * len(present)
    elif drawing.placement == "shared":
        images = [index()[0]] * len(present)
    else:
        images = index()
        if len(images) < len(present):
            raise broken(f"{index_key} gives {len(images)} images for {len(present)} {suffix}es")
    if any(not isinstance(i, int) or not 0 <= i < n_images for i in images[:len(present)]):
        raise broken(f"{index_key} names an image the record does not have")
    return [(drawing.kind, colour, images[k], tuple(line[f"{colour}_{suffix}"][0])) for k, colour in enumerate(present)]
