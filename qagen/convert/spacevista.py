"""SpaceVista's meta.json (its preview release) as qagen records.

Facts (SpaceVista's dataset/readme.md, save_visualization.py and flatten.py, and the
mm_plugin.py of its LLaMA-Factory training code): meta.json is a list of {messages (role/content:
user, then assistant), videos ([[frame paths]]), problem_id, extra_info}. extra_info has
task_type, input_type ("Image+point+text", "Image+bbox+text", "Image+mask+text", ...) and the
prompt annotation, nested or flattened (flatten.py lifts `input_<x>.<key>` to `<x>_<key>` and
stores lists as JSON strings):
- input_point {image_path, points: [[a, b], ...]}, flat point_image_path, point_points;
- input_bbox {image_path, bboxes: [{x1, y1, x2, y2} | {x, y, w, h} | [x1, y1, x2, y2], ...]}, flat
  bbox_image_path, bbox_bboxes; or the pair form {image_path_1, bbox_1, image_path_2, bboxes_2}
  (flat bbox_image_path_1, bbox_bbox_1, bbox_image_path_2, bbox_bboxes_2): a reference box on
  one frame and candidate boxes on another;
- input_mask {image_path, mask_path (.npy), object_ids}, flat mask_image_path, mask_mask_path,
  mask_object_ids.
Coordinates are pixels of the frame at its original size (SpaceVista draws them there). The k-th
annotation of an input gets colour k of red, blue, green, yellow (cycling), on the frame whose
path matches image_path: exactly, else with images_8 <-> images swapped, else by a file name
that only one frame has (as SpaceVista's loader looks it up); no match is an error.

Point order: SpaceVista's loader reads a point as [y, x] when that lies inside the image and as
[x, y] otherwise. With point_order "auto" the image bounds decide: the one order that fits; both
fit: [y, x], as SpaceVista's loader (marker rule "yx_as_spacevista"); neither: an error. "xy" or
"yx" force an order, and a point outside the image in that order is an error.
Pair boxes: the reference is role a, red, on image_path_1; the candidates are on image_path_2 in
the colours SpaceVista's loader paints them there (its candidate list is ordered red, green,
blue, yellow by colour key and repainted red, blue, green, yellow).
Masks (.npy, read without pickle): boolean HxW (one object), integer labels HxW (one object per
id, 0 = none), one-hot HxWxK or KxHxW (one object per channel id; the layout whose spatial axes
have the image's aspect ratio). Each object becomes a box marker (rule "mask_box") spanning its
pixels on the mask's own grid, which must have the image's aspect ratio within 2%.
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any, Iterator, Optional

import numpy as np
from PIL import Image

from qagen.convert.common import COLOURS, Where, check_keys, converted_meta, json_or_value, lettered_roles, \
    media_path, question_and_answer, read_json_list, to_scale
from qagen.render.record import QA, Marker

NAME = "spacevista"
KEYS = {"messages", "videos", "images", "problem_id", "extra_info"}
INPUTS = {  # input kind -> nested key, flat prefix
    "point": ("input_point", "point_"),
    "bbox": ("input_bbox", "bbox_"),
    "mask": ("input_mask", "mask_"),
}
POINT_ORDERS = ("auto", "xy", "yx")
ASPECT_TOLERANCE = 0.02


def files(input_path: Path) -> list[Path]:
    return [input_path] if input_path.is_file() else sorted(input_path.glob("*.json"))


def default_root(input_path: Path) -> Path:
    return input_path if input_path.is_dir() else input_path.parent


def read(path: Path, root: Path, shard: str, point_order: str = "auto", **_options) -> Iterator[QA]:
    if point_order not in POINT_ORDERS:
        raise ValueError(f"point_order must be one of {POINT_ORDERS}, not {point_order!r}")
    for where, record in read_json_list(path):
        yield to_qa(record, where, root, point_order, f"{NAME}/{shard}/{where.number:06d}")


def to_qa(record: dict, where: Where, root: Path, point_order: str, qa_id: str) -> QA:
    check_keys(record, KEYS, where)
    question, answer, system = dialogue(record.get("messages"), where)
    frames, media = frame_list(record, root, where)
    extra = record.get("extra_info", {})
    if not isinstance(extra, dict):
        raise where.error("extra_info is not an object")
    task = extra.get("task_type") or NAME
    inputs = annotation_inputs(extra, where)
    sizes = ImageSizes(root)
    markers = []
    for kind, value in inputs.items():
        markers += READ_INPUT[kind](value, frames, root, sizes, point_order, where)
    markers = tuple(Marker(role, *rest) for role, (_, *rest) in zip(lettered_roles(len(markers)), markers))
    scene = PurePosixPath(frames[0]).parent.as_posix() if frames else "unknown"
    kept = {k: v for k, v in extra.items() if not any(k == nested or k.startswith(prefix)
                                                     for nested, prefix in INPUTS.values())}
    origin = {"format": NAME, "file": where.file.name, "position": where.position,
              "id": record.get("problem_id"), "extra_info": kept}
    meta = converted_meta(task, "unknown", NAME, scene, markers, {"kind": "text", "value": answer}, origin,
                          system=system)
    return QA(id=qa_id, task=str(task), format="unknown", source=NAME, scene=scene, question=question,
              answer=answer, images=tuple(frames), media=media, markers=markers, meta=meta)


def dialogue(messages: Any, where: Where) -> tuple[str, str, Optional[str]]:
    """Question, answer and optional system prompt of a user/assistant exchange."""
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise where.error("messages should be a list of {role, content}")
    system = None
    if messages and messages[0].get("role") == "system":
        system, messages = messages[0].get("content"), messages[1:]
    question, answer = question_and_answer(messages, "messages", "role", "content", ("user", "assistant"), where)
    return question, answer, system


def frame_list(record: dict, root: Path, where: Where) -> tuple[list[str], str]:
    """The record's frames (paths under root) and whether they are a clip or images."""
    if "videos" in record and "images" in record:
        raise where.error("both videos and images are given")
    if "videos" in record:
        videos = record["videos"]
        if not (isinstance(videos, list) and len(videos) == 1 and isinstance(videos[0], list) and videos[0]):
            raise where.error("videos should hold one clip: [[frame paths]]")
        return [media_path(p, root, where) for p in videos[0]], "video"
    images = record.get("images", [])
    if not isinstance(images, list):
        raise where.error("images should be a list of paths")
    return [media_path(p, root, where) for p in images], ("image" if images else "none")


def annotation_inputs(extra: dict, where: Where) -> dict[str, dict]:
    """{point|bbox|mask: nested annotation}, flattened keys folded back, checked against input_type."""
    found = {}
    for kind, (nested, prefix) in INPUTS.items():
        if extra.get(nested) is not None:
            value = json_or_value(extra[nested])
        else:
            value = {k[len(prefix):]: json_or_value(v) for k, v in extra.items() if k.startswith(prefix)}
        if value:
            if not isinstance(value, dict):
                raise where.error(f"{nested} should be an object")
            found[kind] = value
    stated = extra.get("input_type")
    if isinstance(stated, str):
        named = {part.strip().lower() for part in stated.split("+")}
        for kind, (nested, prefix) in INPUTS.items():
            if kind in named and kind not in found:
                raise where.error(f"input_type {stated!r} names a {kind} but extra_info has no {nested} "
                                  f"(nor {prefix}* keys)")
            if kind in found and kind not in named:
                raise where.error(f"extra_info has {nested} but input_type {stated!r} names no {kind}")
    return found


class ImageSizes:
    """(width, height) of frames under root, read once each."""

    def __init__(self, root: Path):
        self.root = root
        self._sizes: dict[str, tuple[int, int]] = {}

    def __call__(self, frame: str) -> tuple[int, int]:
        if frame not in self._sizes:
            with Image.open(self.root / frame) as image:
                self._sizes[frame] = image.size
        return self._sizes[frame]


def frame_index(image_path: Any, frames: list[str], root: Path, where: Where) -> int:
    """The frame an annotation is on, found as SpaceVista's loader finds it (module docstring)."""
    if not isinstance(image_path, str) or not image_path:
        raise where.error(f"annotation image_path {image_path!r} is not a path")
    given = Path(image_path)
    if given.is_absolute():
        try:
            given = given.relative_to(root)
        except ValueError:
            pass
    wanted = PurePosixPath(given.as_posix())
    posix = [PurePosixPath(f) for f in frames]
    swapped = {PurePosixPath(str(wanted).replace("/images_8/", "/images/")),
               PurePosixPath(str(wanted).replace("/images/", "/images_8/"))}
    for candidates in ({wanted}, swapped):
        hits = [i for i, f in enumerate(posix) if f in candidates]
        if hits:
            return hits[0]
    by_name = [i for i, f in enumerate(posix) if f.name == wanted.name]
    if len(by_name) == 1:
        return by_name[0]
    raise where.error(f"annotation image {image_path} is not one of the record's frames"
                      + (" (its file name matches several)" if by_name else ""))


def point_markers(value: dict, frames, root, sizes, point_order, where) -> list[tuple]:
    image = frame_index(value.get("image_path"), frames, root, where)
    width, height = sizes(frames[image])
    points = value.get("points")
    if isinstance(points, list) and len(points) == 2 and all(isinstance(v, (int, float)) for v in points):
        points = [points]
    if not isinstance(points, list) or not points:
        raise where.error("input_point.points should be a list of [a, b] pixel pairs")
    out = []
    for k, p in enumerate(points):
        (x, y), rule = point_in_image(p, width, height, point_order, where)
        xy = (min(to_scale(x, width), 1000), min(to_scale(y, height), 1000))
        out.append((None, "point", COLOURS[k % 4], image, xy, None, rule))
    return out


def point_in_image(point: Any, width: int, height: int, order: str, where: Where):
    """((x, y) in pixels, rule): the point's order decided as the module docstring says."""
    if not (isinstance(point, (list, tuple)) and len(point) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point)):
        raise where.error(f"point {point!r} is not a pair of numbers")
    a, b = point
    fits_xy = 0 <= a < width and 0 <= b < height
    fits_yx = 0 <= b < width and 0 <= a < height
    if order == "xy" or (order == "auto" and fits_xy and not fits_yx):
        if not fits_xy:
            raise where.error(f"point {list(point)} read as [x, y] lies outside the {width}x{height} image")
        return (a, b), "xy_given" if order == "xy" else "xy_by_bounds"
    if order == "yx" or fits_yx:
        if not fits_yx:
            raise where.error(f"point {list(point)} read as [y, x] lies outside the {width}x{height} image")
        rule = "yx_given" if order == "yx" else ("yx_as_spacevista" if fits_xy else "yx_by_bounds")
        return (b, a), rule
    raise where.error(f"point {list(point)} lies outside the {width}x{height} image in both orders")


def bbox_markers(value: dict, frames, root, sizes, point_order, where) -> list[tuple]:
    if "image_path_1" in value or "bbox_1" in value:
        reference = frame_index(value.get("image_path_1"), frames, root, where)
        candidates = frame_index(value.get("image_path_2"), frames, root, where)
        if reference == candidates:
            raise where.error("the reference and candidate boxes are on the same frame")
        boxes = value.get("bboxes_2")
        if not isinstance(boxes, list):
            raise where.error("input_bbox.bboxes_2 should be a list of boxes")
        colours = candidate_colours(len(boxes))
        return [(None, "box", "red", reference, None, pixel_box(value.get("bbox_1"), sizes(frames[reference]), where),
                 "pixel_box")] + [
            (None, "box", colours[k], candidates, None, pixel_box(b, sizes(frames[candidates]), where), "pixel_box")
            for k, b in enumerate(boxes)]
    image = frame_index(value.get("image_path"), frames, root, where)
    boxes = value.get("bboxes")
    if not isinstance(boxes, list) or not boxes:
        raise where.error("input_bbox.bboxes should be a list of boxes")
    return [(None, "box", COLOURS[k % 4], image, None, pixel_box(b, sizes(frames[image]), where), "pixel_box")
            for k, b in enumerate(boxes)]


def candidate_colours(count: int) -> list[str]:
    """The colour SpaceVista's loader paints each of `count` candidate boxes on their frame."""
    keyed = [COLOURS[k % 4] for k in range(count)]
    pool = [k for colour in ("red", "green", "blue", "yellow") for k in range(count) if keyed[k] == colour]
    painted = [""] * count
    for position, k in enumerate(pool):
        painted[k] = COLOURS[position % 4]
    return painted


def pixel_box(box: Any, size: tuple[int, int], where: Where) -> tuple[int, int, int, int]:
    """A pixel box ({x1..}, {x, y, w, h} or [x1, y1, x2, y2]) as 0-1000 of its image."""
    if isinstance(box, list) and len(box) == 1 and isinstance(box[0], dict):
        box = box[0]
    if isinstance(box, dict) and {"x1", "y1", "x2", "y2"} <= set(box):
        corners = [box["x1"], box["y1"], box["x2"], box["y2"]]
    elif isinstance(box, dict) and {"x", "y", "w", "h"} <= set(box):
        corners = [box["x"], box["y"], box["x"] + box["w"], box["y"] + box["h"]]
    elif isinstance(box, list) and len(box) == 4:
        corners = box
    else:
        raise where.error(f"box {box!r} is neither {{x1, y1, x2, y2}}, {{x, y, w, h}} nor [x1, y1, x2, y2]")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in corners):
        raise where.error(f"box {box!r} has non-numeric corners")
    width, height = size
    x1, x2 = sorted(corners[0::2])
    y1, y2 = sorted(corners[1::2])
    slack = max(1.0, 0.005 * max(width, height))
    if x1 < -slack or y1 < -slack or x2 > width + slack or y2 > height + slack:
        raise where.error(f"box {box!r} leaves the {width}x{height} image")
    return (to_scale(max(x1, 0), width), to_scale(max(y1, 0), height),
            to_scale(min(x2, width), width), to_scale(min(y2, height), height))


def mask_markers(value: dict, frames, root, sizes, point_order, where) -> list[tuple]:
    image = frame_index(value.get("image_path"), frames, root, where)
    masks = object_masks(value.get("mask_path"), value.get("object_ids"), sizes(frames[image]), root, where)
    return [(None, "box", COLOURS[k % 4], image, None, mask_extent(mask), "mask_box") for k, mask in enumerate(masks)]


def object_masks(mask_path: Any, object_ids: Any, size: tuple[int, int], root: Path, where: Where) -> list[np.ndarray]:
    """One boolean mask per object id (see the module docstring for the encodings)."""
    if not isinstance(mask_path, str) or not mask_path:
        raise where.error(f"mask_path {mask_path!r} is not a path")
    full = Path(mask_path) if Path(mask_path).is_absolute() else root / mask_path
    try:
        array = np.load(full, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise where.error(f"mask {mask_path} cannot be read as a .npy array ({err})") from None
    if not isinstance(array, np.ndarray):
        raise where.error(f"mask {mask_path} is not a single .npy array")
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    ids = object_ids if isinstance(object_ids, list) else [object_ids]
    if any(isinstance(i, bool) for i in ids) and not (array.ndim == 2 and array.dtype == bool):
        raise where.error(f"object_ids {object_ids!r} are booleans; give label or channel numbers")
    if array.ndim == 2:
        check_aspect(array.shape, size, mask_path, where)
        if array.dtype == bool:
            if len(ids) != 1:
                raise where.error(f"mask {mask_path} is boolean (one object) but names {len(ids)} objects")
            return [nonempty(array, mask_path, ids[0], where)]
        return [nonempty(array != 0 if i is None else array == int(i), mask_path, i, where) for i in ids]
    if array.ndim != 3:
        raise where.error(f"mask {mask_path} has shape {array.shape}; expected HxW, HxWxK or KxHxW")
    layouts = [(axes, shape) for axes, shape in (((0, 1, 2), array.shape[:2]), ((1, 2, 0), array.shape[1:]))
               if aspect_fits(shape, size)]
    if len(layouts) != 1:
        raise where.error(f"mask {mask_path} of shape {array.shape} fits the {size[0]}x{size[1]} image as "
                          f"{'both HxWxK and KxHxW' if layouts else 'neither HxWxK nor KxHxW'}")
    channels = np.transpose(array, layouts[0][0]) != 0
    out = []
    for i in ids:
        if i is not None and not 0 <= int(i) < channels.shape[2]:
            raise where.error(f"object id {i} is not a channel of mask {mask_path} ({channels.shape[2]} channels)")
        out.append(nonempty(channels.any(axis=2) if i is None else channels[:, :, int(i)], mask_path, i, where))
    return out


def aspect_fits(shape: tuple[int, ...], size: tuple[int, int]) -> bool:
    height, width = shape[:2]
    return height > 0 and abs((width / height) / (size[0] / size[1]) - 1) <= ASPECT_TOLERANCE


def check_aspect(shape, size, mask_path, where: Where) -> None:
    if not aspect_fits(shape, size):
        raise where.error(f"mask {mask_path} is {shape[1]}x{shape[0]} but its image is {size[0]}x{size[1]} "
                          "(another aspect ratio: transposed or the wrong mask?)")


def nonempty(mask: np.ndarray, mask_path: str, object_id, where: Where) -> np.ndarray:
    if not mask.any():
        raise where.error(f"object {object_id} has no pixels in mask {mask_path}")
    return mask


def mask_extent(mask: np.ndarray) -> tuple[int, int, int, int]:
    """The 0-1000 box around a mask's pixels on its own grid (pixel edges, as qagen's mask boxes)."""
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    height, width = mask.shape
    return (to_scale(cols[0], width), to_scale(rows[0], height),
            to_scale(cols[-1] + 1, width), to_scale(rows[-1] + 1, height))


READ_INPUT = {"point": point_markers, "bbox": bbox_markers, "mask": mask_markers}
