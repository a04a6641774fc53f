"""How values and objects are spelled in text. Python decides this once; templates only place it."""
from __future__ import annotations

from qagen.tasks.fact import Fact, Marker, ObjectRef

UNIT_WORDS = {"m": "m", "cm": "cm", "m2": "m²", "deg": "°", "count": ""}
POINT_NOTE = "Marked points are given as [x, y] on a 0-1000 scale of the image's width and height."
BOX_NOTE = "Marked boxes are given as [x1, y1, x2, y2] on a 0-1000 scale of the image's width and height."


def number(value: float | int) -> str:
    """1.2 -> "1.2", 3.0 -> "3", 45.0 -> "45": no trailing zeros, no float noise."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def quantity(value: float | int, unit: str | None) -> str:
    word = UNIT_WORDS.get(unit or "", unit or "")
    if not word:
        return number(value)
    return f"{number(value)}{word}" if word in ("°",) else f"{number(value)} {word}"


def dimensions(value: dict) -> str:
    return f"{number(value['length_cm'])} x {number(value['width_cm'])} x {number(value['height_cm'])} cm"


SLOT_PHRASES = {
    "left": "to the left",
    "right": "to the right",
    "above": "higher up",
    "below": "lower down",
    "closer": "closer to the camera",
    "farther": "farther from the camera",
}


def relation(slots: list[str]) -> str:
    """["left", "", "farther"] -> "to the left and farther from the camera" (empty slots are not stated)."""
    phrases = [SLOT_PHRASES[s] for s in slots if s]
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def _marker_text(marker: Marker, where: str, coordinates: bool) -> str:
    shape = "point" if marker.kind == "point" else "box"
    if not coordinates:
        return f"{marker.color} {shape}{where}"
    numbers = ", ".join(map(str, marker.xy if marker.kind == "point" else marker.box))
    return f"{marker.color} {shape} [{numbers}]{where}"


def image_name(fact: Fact, image: int) -> str:
    """" in image 2" / " in frame 5" (counting from 1, as the placeholders do), or "" for one image."""
    if len(fact.frames) <= 1:
        return ""
    return f" in {'frame' if fact.media == 'video' else 'image'} {image + 1}"


def refer(obj: ObjectRef, fact: Fact, coordinates: bool = True) -> str:
    """The referring expression for one object: the label, anchored by its marker when it has one.

    Questions give the marker's coordinates (markers are not drawn by default); answers name the
    marker's colour only. A label that is not unique in view is never used alone.
    """
    for marker in fact.markers:  # a loop, not next(generator): asked twice per object of every record
        if marker.role == obj.role:
            break
    else:
        return f"the {obj.label}"
    at = _marker_text(marker, image_name(fact, marker.image), coordinates)
    return f"the {obj.label} ({at})" if obj.unique_label else f"the {obj.label} at the {at}"


def marker_note(fact: Fact) -> str:
    if not fact.markers:  # a third of the facts: skip building the sets
        return ""
    kinds = {m.kind for m in fact.markers}
    notes = ([POINT_NOTE] if "point" in kinds else []) + ([BOX_NOTE] if "box" in kinds else [])
    return " ".join(notes)


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


IRREGULAR_PLURALS = {"shelf": "shelves", "person": "people", "mouse": "mice", "knife": "knives"}


def plural(label: str) -> str:
    """English plural of a (possibly multi-word) label: the last word changes."""
    head, _, last = label.rpartition(" ")
    if last in IRREGULAR_PLURALS:
        word = IRREGULAR_PLURALS[last]
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        word = last + "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        word = last[:-1] + "ies"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word
