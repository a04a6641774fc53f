"""SPAR-7M jsonl lines as qagen records (the reverse of writers.spar).

Input: one `.jsonl` file, or a folder searched for them (SPAR's `spar/<source>/qa_jsonl/<split>/
<task>/<format>/<format>_<n>.jsonl` layout gives the source and the question format; elsewhere
they are "spar" and "unknown"). Image paths are relative to `spar/<source>/images`, the default
root when the input lies in SPAR's layout; every image must exist there.

A line holds exactly the keys SPAR writes (writers.spar): id, conversations (one human and one
gpt turn), image (a path or a list), type, depth, meta, `{red,blue,green,yellow}_{point,bbox}`,
`point_list`, `bbox_list`, `point_img_idx`, `bbox_img_idx`. Any other key is an error, as are
unwrapped or out-of-range values, index lists that do not give an image for every marker, and
images that do not exist. Index entries are matched to colour keys in `writers.spar.index_order`
(the order SPAR's drawer reads them), list entries in list order (colour blue, as SPAR draws
them), so writing the record back as `spar` gives the same keys. Markers get roles a, b, c, ...
in that order, unless the line carries a qagen meta block whose markers agree, whose roles are
kept. The original id is kept in meta.converted_from.id (the spar writer writes it back).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from qagen.convert.common import Where, check_keys, converted_meta, first_scene, json_or_value, lettered_roles, \
    media_path, question_and_answer, read_jsonl, scaled_ints
from qagen.render.record import QA, Marker
from qagen.specs.schema import FORMATS
from qagen.writers.internvl import MARKER_KEYS, is_wrapped
from qagen.writers.spar_drawing import SPAR_COLORS
from qagen.writers.spar import LISTED_COLOR, VIDEO_AFTER
from qagen.writers.spar_drawing import index_order

NAME = "spar"
LAYOUT = "qa_jsonl"
KEYS = {"id", "conversations", "image", "type", "depth", "meta"} | {
    f"{colour}_{suffix}" for colour in SPAR_COLORS for suffix, *_ in MARKER_KEYS.values()} | {
    key for _, list_key, index_key, _ in MARKER_KEYS.values() for key in (list_key, index_key)}


def files(input_path: Path) -> list[Path]:
    return [input_path] if input_path.is_file() else sorted(input_path.rglob("*.jsonl"))


def default_root(input_path: Path) -> Path:
    """`spar/<source>/images` for an input inside SPAR's layout, else the input's folder."""
    for parent in [input_path, *input_path.parents]:
        if parent.name == LAYOUT:
            return parent.parent / "images"
    return input_path if input_path.is_dir() else input_path.parent


def layout_of(path: Path) -> tuple[str, str]:
    """(source, question format) from SPAR's folder layout, else ("spar", "unknown")."""
    parts = path.parts
    if LAYOUT not in parts:
        return NAME, "unknown"
    at = len(parts) - 1 - parts[::-1].index(LAYOUT)
    source = parts[at - 1] if at > 0 else NAME
    fmt = parts[-2] if len(parts) - at >= 5 and parts[-2] in FORMATS else "unknown"
    return source, fmt


def read(path: Path, root: Path, shard: str, **_options) -> Iterator[QA]:
    source, fmt = layout_of(path)
    for where, record in read_jsonl(path):
        yield to_qa(record, where, root, source, fmt, f"{NAME}/{shard}/{where.number:06d}")


def to_qa(record: dict, where: Where, root: Path, source: str, fmt: str, qa_id: str) -> QA:
    check_keys(record, KEYS, where)
    for key in ("id", "conversations", "type"):
        if key not in record:
            raise where.error(f"missing key {key!r}")
    task = record["type"]
    if not isinstance(task, str) or not task:
        raise where.error("type is not a task name")
    question, answer = question_and_answer(record["conversations"], "conversations", "from", "value",
                                           ("human", "gpt"), where)
    image = record.get("image", [])
    images = [media_path(p, root, where) for p in ([image] if isinstance(image, str) else image)] \
        if isinstance(image, (str, list)) else None
    if images is None:
        raise where.error("image is neither a path nor a list of paths")
    depth = record.get("depth")
    if depth is not None and not (isinstance(depth, list) and all(isinstance(d, str) for d in depth)):
        raise where.error("depth is not a list of paths")
    markers = parse_markers(record, task, len(images), where)
    given = json_or_value(record.get("meta"))
    if given is not None:
        markers = with_meta_roles(markers, given, where)
    media = "none" if not images else ("video" if task == "nav" or len(images) > VIDEO_AFTER else "image")
    scene = first_scene(images)
    origin = {"format": NAME, "file": where.file.name, "position": where.position, "id": record["id"]}
    if isinstance(given, dict):
        meta = {**given, "converted_from": origin, **({"depth": depth} if depth else {})}
    else:
        meta = converted_meta(task, fmt, source, scene, markers, {"kind": "text", "value": answer}, origin,
                              depth=depth or None)
    return QA(id=qa_id, task=task, format=fmt, source=source, scene=scene, question=question, answer=answer,
              images=tuple(images), media=media, markers=markers, meta=meta)


def parse_markers(record: dict, task: str, n_images: int, where: Where) -> tuple[Marker, ...]:
    """The markers of a SPAR line, images from the index lists in SPAR's colour order."""
    markers: list[tuple] = []
    for kind, (suffix, list_key, index_key, size) in MARKER_KEYS.items():
        order = index_order(task, kind)
        colours = [c for c in order if f"{c}_{suffix}" in record]
        colours += [c for c in SPAR_COLORS if c not in order and f"{c}_{suffix}" in record]
        values = []
        for colour in colours:
            key = f"{colour}_{suffix}"
            if not (is_wrapped(record[key]) and len(record[key]) == 1):
                raise where.error(f"{key} should hold one value wrapped once ([[...]]), got {record[key]!r}")
            values.append((colour, scaled_ints(record[key][0], size, where, key)))
        if list_key in record:
            if colours:
                raise where.error(f"both colour keys and {list_key} hold {suffix}es")
            if not is_wrapped(record[list_key]):
                raise where.error(f"{list_key} should be wrapped once ([[...]]), got {record[list_key]!r}")
            values = [(LISTED_COLOR, scaled_ints(v, size, where, list_key)) for v in record[list_key][0]]
        images = marker_images(record, index_key, len(values), n_images, where)
        markers += [(kind, colour, image, value) for (colour, value), image in zip(values, images)]
    return tuple(Marker(role, kind, colour, image, xy=value if kind == "point" else None,
                        box=value if kind == "box" else None)
                 for role, (kind, colour, image, value) in zip(lettered_roles(len(markers)), markers))


def marker_images(record: dict, index_key: str, count: int, n_images: int, where: Where) -> list[int]:
    """The image of each of `count` markers: the index list, or image 0 of a single image."""
    if index_key not in record:
        if count and n_images != 1:
            raise where.error(f"{index_key} is missing: {count} marker(s) on {n_images} images")
        return [0] * count
    index = record[index_key]
    if not (is_wrapped(index) and len(index) == 1 and len(index[0]) == count):
        raise where.error(f"{index_key} {index!r} should give one image per marker ({count}), wrapped once")
    if any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n_images for i in index[0]):
        raise where.error(f"{index_key} {index!r} names an image the record does not have ({n_images})")
    return list(index[0])


def with_meta_roles(markers: tuple[Marker, ...], meta, where: Where) -> tuple[Marker, ...]:
    """The markers as a qagen meta block describes them (role, colour, rule), once it is checked to
    hold the same markers (kind, image, position): SPAR's list keys do not keep colours."""
    if not isinstance(meta, dict) or not isinstance(meta.get("markers", []), list):
        raise where.error("meta is not a qagen meta block")
    described = {}
    for m in meta.get("markers", []):
        value = m.get("xy") if m.get("kind") == "point" else m.get("box")
        described[(m.get("kind"), m.get("image"), tuple(value or ()))] = m
    keys = [(m.kind, m.image, m.xy if m.kind == "point" else m.box) for m in markers]
    if len(described) != len(meta.get("markers", [])) or set(described) != set(keys) or len(keys) != len(set(keys)):
        raise where.error("meta.markers disagree with the line's marker keys")
    return tuple(Marker(described[k]["role"], m.kind, described[k].get("color", m.color), m.image, m.xy, m.box,
                        described[k].get("rule", m.rule)) for k, m in zip(keys, markers))
