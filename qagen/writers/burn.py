"""Marked copies of the images a record's markers are on (`--burn-markers`), drawn like SPAR-Bench's.

SPAR-Bench ships images with the markers drawn in (SPAR's draw_marker.py: filled dots of radius
20 px and 20 px box outlines just outside the box, in PIL's named colours, on ~640-1300 px
frames). A burner draws the same on a copy of each image that carries a marker: a filled dot of
radius `min(W, H) / 24` (20 px at 480 rows) at the marker's 0-1000 position, and a box outline
of that width just outside the box, colour `ImageColor.getrgb(marker.color)`. Images without a
marker are not copied.

Copies go to `<out>/marked/<source>/<scene>/<task>/<format>/<n>_<image>.<ext>` (one per record
and image, named from the record id, so a rerun rewrites the same files) through a temporary
name. The record's path is made relative to the data root like every image path, so it starts
with `../` when the output folder lies outside the data root; every consumer joins it to its
root and reaches the copy. Markers stay in the record as coordinates.
"""
from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from PIL import Image, ImageColor, ImageDraw

from qagen.render.record import QA, Marker

MARKED = "marked"


def marker_size(width: int, height: int) -> int:
    """Dot radius and outline width in pixels: 20 at 480 rows, as SPAR-Bench's images."""
    return max(2, round(min(width, height) / 24))


def to_pixels(value: Iterable[int], width: int, height: int) -> list[float]:
    """0-1000 coordinates (x, y, x, y, ...) in pixels of a width x height image."""
    return [v / 1000 * (width if i % 2 == 0 else height) for i, v in enumerate(value)]


def draw_markers(image: Image.Image, markers: Iterable[Marker]) -> Image.Image:
    """A copy of `image` with the markers drawn on it."""
    marked = image.convert("RGB")
    draw = ImageDraw.Draw(marked)
    size = marker_size(*marked.size)
    for marker in markers:
        colour = ImageColor.getrgb(marker.color)
        if marker.kind == "point":
            x, y = to_pixels(marker.xy, *marked.size)
            draw.ellipse([x - size, y - size, x + size, y + size], fill=colour)
        else:
            x1, y1, x2, y2 = to_pixels(marker.box, *marked.size)
            draw.rectangle([x1 - size, y1 - size, x2 + size, y2 + size], outline=colour, width=size)
    return marked


def marked_name(qa: QA, image: int, suffix: str) -> Path:
    """Where a record's marked image goes under `<out>/marked/` (record id parts, made safe)."""
    parts = [re.sub(r"[^A-Za-z0-9._-]", "_", p) for p in qa.id.split("/") if p not in ("", ".", "..")]
    return Path(*parts[:-1], f"{parts[-1]}_{image}{suffix.lower()}")


class MarkerBurner:
    """Burns markers into copies of the images under `out_dir/marked/`; see the module docstring."""

    def __init__(self, data_root: Path, out_dir: Path):
        self.data_root = Path(data_root)
        self.folder = Path(out_dir) / MARKED

    def burn(self, qa: QA) -> QA:
        """The record pointing at marked copies of its marked images (unchanged without markers).

        Markers on images the record lacks, or on images missing from the data root, are left
        for the writers, which refuse such records.
        """
        images = list(qa.images)
        for index in sorted({m.image for m in qa.markers if 0 <= m.image < len(images)}):
            source = self.data_root / images[index]
            if not source.is_file():
                continue
            target = self.folder / marked_name(qa, index, source.suffix)
            with Image.open(source) as image:
                save_atomic(draw_markers(image, [m for m in qa.markers if m.image == index]), target)
            images[index] = Path(os.path.relpath(target, self.data_root)).as_posix()
        return replace(qa, images=tuple(images)) if images != list(qa.images) else qa


def save_atomic(image: Image.Image, path: Path) -> None:
    """Save through a temporary name in the same folder (JPEG at quality 95, else by suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = Image.registered_extensions().get(path.suffix.lower(), "PNG")
    tmp = path.with_name(f".{path.name}.tmp")
    image.save(tmp, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    os.replace(tmp, path)
