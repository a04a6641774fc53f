"""How a camera moved: vector types for the camera change (SPAR's view_change_infer), the rotation
alone (SpaceVista's camera_rotation) and the projected centre of the second camera (SPAR's
camera_motion_infer), plus the `motion_labels` kind (SpatialVID's vocabulary).

Signed components are spelled as magnitudes with direction words ("0.4 m right", "yaw 30° left");
a zero is spelled with the positive word. Distractors and false claims change one or two
components (a sign flip or a shift of two to four tolerances) so that each differs from the truth,
and from the other options, by at least the task's margin in some component: 0.15 m
(`margins.axis_m`) for translations, 10° (`margins.sector_deg`) for angles, 100 of 1000 for image
positions, the length margin for depths.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from qagen.geometry.camera_motion import COMPONENTS, LABEL_WORDS, STAY
from qagen.geometry.relations import length_gap_needed, round_to
from qagen.render import wording
from qagen.render.kinds import KINDS
from qagen.render.kinds.numeric import VECTOR_TYPES
from qagen.specs.schema import Margins

POSITION_GAP = 100.0  # smallest difference of a distractor's image position, in 0-1000 units
ATTEMPTS = 200


def signed(value: float, unit: str, positive: str, negative: str) -> str:
    """-0.3, "m", "up", "down" -> "0.3 m down"; zero takes the positive word."""
    return f"{wording.quantity(abs(value), unit)} {negative if value < 0 else positive}"


@dataclass(frozen=True)
class Component:
    name: str
    unit: str  # m | deg | pos (0-1000 image position) | depth (m, > 0)
    step: float

    def tolerance(self, value: float, margins: Margins) -> float:
        if self.unit == "m":
            return margins.axis_m
        if self.unit == "deg":
            return margins.sector_deg
        if self.unit == "pos":
            return POSITION_GAP
        return length_gap_needed(value, value, margins.length_abs_m, margins.length_rel)

    def valid(self, value: float) -> bool:
        if self.unit == "pos":
            return 0.0 <= value <= 1000.0
        if self.unit == "depth":
            return value >= self.step
        if self.unit == "deg" and self.name == "yaw_deg":
            return -180.0 < value <= 180.0
        return True


def _differs(a: dict, b: dict, components: tuple[Component, ...], margins: Margins) -> bool:
    return any(abs(a[c.name] - b[c.name]) >= c.tolerance(min(abs(a[c.name]), abs(b[c.name])), margins) - 1e-9
               for c in components)


def _perturb(value: dict, components: tuple[Component, ...], rng: np.random.Generator, margins: Margins) -> dict:
    out = dict(value)
    for i in rng.choice(len(components), size=int(rng.integers(1, 3)), replace=False):
        c = components[int(i)]
        tol = c.tolerance(abs(value[c.name]), margins)
        flip = c.unit in ("m", "deg") and abs(value[c.name]) >= tol and rng.random() < 0.5
        shift = float(rng.uniform(2.0, 4.0)) * tol * (1 if rng.random() < 0.5 else -1)
        new = -value[c.name] if flip else value[c.name] + shift
        out[c.name] = round_to(new, c.step) if c.step != 1 else int(round(new))
    return out


def vector_distractors(value: dict, components: tuple[Component, ...], k: int, rng: np.random.Generator,
                       margins: Margins) -> Optional[list[dict]]:
    """k values that differ from the truth and from each other by a margin; None if not found."""
    found: list[dict] = []
    for _ in range(ATTEMPTS):
        if len(found) == k:
            return found
        candidate = _perturb(value, components, rng, margins)
        if all(c.valid(candidate[c.name]) for c in components) and all(
                _differs(candidate, other, components, margins) for other in [value, *found]):
            found.append(candidate)
    return found if len(found) == k else None


class SignedVector:
    """Shared option and claim logic; subclasses name their components and spell them."""

    components: tuple[Component, ...] = ()

    def options(self, answer, fact, n, rank, rng, margins):
        others = vector_distractors(answer.value, self.components, n - 1, rng, margins)
        if others is None:
            return None
        return others[:rank] + [answer.value] + others[rank:], rank

    def false_claim(self, answer, fact, rng, margins):
        others = vector_distractors(answer.value, self.components, 1, rng, margins)
        return others[0] if others else None


@VECTOR_TYPES.register("camera_motion")
class CameraMotion(SignedVector):
    """Camera change from image 1 to image 2 (TASKS.md): translation in image 1's viewer frame
    (m) and pitch, yaw (deg)."""

    components = (Component("right_m", "m", 0.1), Component("up_m", "m", 0.1), Component("forward_m", "m", 0.1),
                  Component("pitch_deg", "deg", 5.0), Component("yaw_deg", "deg", 5.0))

    def spell(self, value, answer, fact, coordinates) -> str:
        return (f"{signed(value['right_m'], 'm', 'right', 'left')}, {signed(value['up_m'], 'm', 'up', 'down')}, "
                f"{signed(value['forward_m'], 'm', 'forward', 'backward')}, "
                f"pitch {signed(value['pitch_deg'], 'deg', 'up', 'down')}, "
                f"yaw {signed(value['yaw_deg'], 'deg', 'left', 'right')}")


@VECTOR_TYPES.register("camera_rotation")
class CameraRotation(SignedVector):
    """Yaw (+ left) and pitch (+ up) change between two views, in degrees."""

    components = (Component("yaw_deg", "deg", 5.0), Component("pitch_deg", "deg", 5.0))

    def spell(self, value, answer, fact, coordinates) -> str:
        return f"yaw {signed(value['yaw_deg'], 'deg', 'left', 'right')}, pitch {signed(value['pitch_deg'], 'deg', 'up', 'down')}"


@VECTOR_TYPES.register("camera_projection")
class CameraProjection(SignedVector):
    """Where the second camera's centre appears in image 1 (0-1000) and its depth there (m)."""

    components = (Component("x", "pos", 1), Component("y", "pos", 1), Component("depth_m", "depth", 0.1))

    def spell(self, value, answer, fact, coordinates) -> str:
        return f"[{int(value['x'])}, {int(value['y'])}] at a depth of {wording.quantity(value['depth_m'], 'm')}"


def canonical(labels: set[str]) -> list[str]:
    """Labels in the components' order; "Stay" alone when there is none."""
    ordered = [word for c in COMPONENTS for word in LABEL_WORDS[c] if word in labels]
    return ordered or [STAY]


def _label_variant(truth: list[str], rng: np.random.Generator) -> list[str]:
    """Flip one label's direction, drop one, or add one of a component the truth does not use."""
    current = set(truth) - {STAY}
    used = {c for c in COMPONENTS if set(LABEL_WORDS[c]) & current}
    moves = ["flip"] * bool(used) + ["drop"] * bool(current) + ["add"] * (len(used) < len(COMPONENTS))
    move = moves[int(rng.integers(len(moves)))]
    if move == "flip":
        c = sorted(used)[int(rng.integers(len(used)))]
        current ^= set(LABEL_WORDS[c])
    elif move == "drop":
        current.discard(sorted(current)[int(rng.integers(len(current)))])
    else:
        c = sorted(set(COMPONENTS) - used)[int(rng.integers(len(COMPONENTS) - len(used)))]
        current.add(LABEL_WORDS[c][int(rng.integers(2))])
    return canonical(current)


def label_alternatives(truth: list[str], k: int, rng: np.random.Generator) -> Optional[list[list[str]]]:
    found: list[list[str]] = []
    for _ in range(ATTEMPTS):
        if len(found) == k:
            break
        variant = _label_variant(truth if not found or rng.random() < 0.7 else found[-1], rng)
        if variant != truth and variant not in found:
            found.append(variant)
    return found if len(found) == k else None


@KINDS.register("motion_labels")
class MotionLabels:
    """A list of SpatialVID camera-motion labels in component order, or ["Stay"]."""

    def spell(self, value, answer, fact, coordinates) -> str:
        return ", ".join(value)

    def options(self, answer, fact, n, rank, rng, margins):
        others = label_alternatives(list(answer.value), n - 1, rng)
        if others is None:
            return None
        return others[:rank] + [list(answer.value)] + others[rank:], rank

    def false_claim(self, answer, fact, rng, margins):
        others = label_alternatives(list(answer.value), 1, rng)
        return others[0] if others else None
