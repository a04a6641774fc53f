"""How a camera moved: vector types for the camera change (SPAR's view_change_infer), the rotation
alone (SpaceVista's camera_rotation) and the projected centre of the second camera (SPAR's
camera_motion_infer), plus the `motion_labels` kind (SpatialVID's vocabulary, distractors from
other clips of the scene).

Signed components are spelled as magnitudes with direction words ("0.4 m right", "yaw 30° left");
a zero is spelled with the positive word. Vector distractors and false claims are the answers of
other candidates of the task (`answer.extra["alternatives"]`, see answers.camera.with_alternatives)
or, when too few of those differ enough, drawn like the truth (see `exchangeable`); either way they
differ from the truth, and from each other, by at least the task's margin in some component:
0.15 m (`margins.axis_m`) for translations, 10° (`margins.sector_deg`) for angles, 100 of 1000 for
image positions, the length margin for depths.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from qagen.geometry.camera_motion import wrap_degrees
from qagen.geometry.relations import length_gap_needed, round_to
from qagen.render import wording
from qagen.render.kinds import KINDS
from qagen.render.kinds.numeric import VECTOR_TYPES
from qagen.specs.schema import Margins

POSITION_GAP = 100.0  # smallest difference of a distractor's image position, in 0-1000 units
SPREAD = 1.5  # standard deviation of one distractor step, in tolerances
SMALL_SPREAD = 0.5  # the same for components that stay small in real captures (height, pitch)
DEPTH_SPREAD = 0.3  # the same for depths, in log units
ATTEMPTS = 200


def signed(value: float, unit: str, positive: str, negative: str) -> str:
    """-0.3, "m", "up", "down" -> "0.3 m down"; zero takes the positive word."""
    return f"{wording.quantity(abs(value), unit)} {negative if value < 0 else positive}"


@dataclass(frozen=True)
class Component:
    name: str
    unit: str  # m | deg | pos (0-1000 image position) | depth (m, > 0)
    step: float
    spread: float = SPREAD  # small for components that are nearly always small (height change, pitch)

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
        if self.name == "pitch_deg":
            return -90.0 <= value <= 90.0
        return True

    def perturbed(self, value: float, rng: np.random.Generator, margins: Margins) -> float:
        """One symmetric random step: Gaussian of `spread` tolerances (log-normal for depths),
        rounded to the component's step; yaw wraps to (-180, 180]."""
        if self.unit == "depth":
            return round_to(value * float(np.exp(rng.normal(0.0, DEPTH_SPREAD))), self.step)
        new = value + float(rng.normal(0.0, self.spread * self.tolerance(abs(value), margins)))
        if self.unit == "pos":
            return int(round(new))
        new = round_to(new, self.step)
        return wrap_degrees(new) if self.name == "yaw_deg" else new


def _differs(a: dict, b: dict, components: tuple[Component, ...], margins: Margins) -> bool:
    return any(abs(a[c.name] - b[c.name]) >= c.tolerance(min(abs(a[c.name]), abs(b[c.name])), margins) - 1e-9
               for c in components)


def exchangeable(truth, perturb, differs, k: int, rng: np.random.Generator) -> Optional[list]:
    """k distractors drawn the way the truth itself could have been: a hidden centre is a random
    perturbation of the truth and every distractor a perturbation of that centre. The perturbation
    is symmetric and a draw is kept only as a whole set (every option, the truth included, valid
    and apart from every other by the margin), so neither a majority vote over components nor
    closeness to the others tells the truth apart; only the plausibility of values does. None
    when no set is found."""
    for _ in range(ATTEMPTS):
        centre = perturb(truth, rng)
        drawn = [perturb(centre, rng) for _ in range(k)] if centre is not None else [None]
        if any(d is None for d in drawn):
            continue
        options = [truth, *drawn]
        if all(differs(a, b) for i, a in enumerate(options) for b in options[i + 1:]):
            return drawn
    return None


class SignedVector:
    """Shared option and claim logic; subclasses name their components and spell them."""

    components: tuple[Component, ...] = ()

    def distractors(self, value: dict, k: int, rng: np.random.Generator, margins: Margins,
                    alternatives: Sequence[dict] = ()) -> Optional[list[dict]]:
        """k values apart from the truth and from each other by the margin: the answers of other
        candidates of the task when enough of them are (in the order given, already random), else
        values drawn like the truth (`exchangeable`)."""
        picked: list[dict] = []
        for other in alternatives:
            if len(picked) < k and all(_differs(other, v, self.components, margins) for v in (value, *picked)):
                picked.append(other)
        if len(picked) == k:
            return picked

        def perturb(centre: dict, rng: np.random.Generator) -> Optional[dict]:
            out = {c.name: c.perturbed(centre[c.name], rng, margins) for c in self.components}
            return out if all(c.valid(out[c.name]) for c in self.components) else None

        def differs(a: dict, b: dict) -> bool:
            return _differs(a, b, self.components, margins)

        return exchangeable(value, perturb, differs, k, rng)

    def pattern(self, value: dict) -> Optional[tuple[bool, ...]]:
        """The direction word of every signed component (a zero reads as the positive one): what a
        text-only model sees of a value once its numbers are set aside. None without any."""
        signs = tuple(value[c.name] >= 0 for c in self.components if c.unit in ("m", "deg"))
        return signs or None

    def options(self, answer, fact, n, rank, rng, margins):
        others = self.distractors(answer.value, n - 1, rng, margins, answer.extra.get("alternatives", ()))
        if others is None:
            return None
        return others[:rank] + [answer.value] + others[rank:], rank

    def false_claim(self, answer, fact, rng, margins):
        others = self.distractors(answer.value, 1, rng, margins, answer.extra.get("alternatives", ()))
        return others[0] if others else None


@VECTOR_TYPES.register("camera_motion")
class CameraMotion(SignedVector):
    """Camera change from image 1 to image 2 (TASKS.md): translation in image 1's viewer frame
    (m) and pitch, yaw (deg)."""

    components = (Component("right_m", "m", 0.1), Component("up_m", "m", 0.1, SMALL_SPREAD),
                  Component("forward_m", "m", 0.1), Component("pitch_deg", "deg", 5.0, SMALL_SPREAD),
                  Component("yaw_deg", "deg", 5.0))

    def spell(self, value, answer, fact, coordinates) -> str:
        return (f"{signed(value['right_m'], 'm', 'right', 'left')}, {signed(value['up_m'], 'm', 'up', 'down')}, "
                f"{signed(value['forward_m'], 'm', 'forward', 'backward')}, "
                f"pitch {signed(value['pitch_deg'], 'deg', 'up', 'down')}, "
                f"yaw {signed(value['yaw_deg'], 'deg', 'left', 'right')}")


@VECTOR_TYPES.register("camera_rotation")
class CameraRotation(SignedVector):
    """Yaw (+ left) and pitch (+ up) change between two views, in degrees."""

    components = (Component("yaw_deg", "deg", 5.0), Component("pitch_deg", "deg", 5.0, SMALL_SPREAD))

    def spell(self, value, answer, fact, coordinates) -> str:
        yaw, pitch = signed(value["yaw_deg"], "deg", "left", "right"), signed(value["pitch_deg"], "deg", "up", "down")
        return f"yaw {yaw}, pitch {pitch}"


@VECTOR_TYPES.register("camera_projection")
class CameraProjection(SignedVector):
    """Where the second camera's centre appears in image 1 (0-1000) and its depth there (m)."""

    components = (Component("x", "pos", 1), Component("y", "pos", 1), Component("depth_m", "depth", 0.1))

    def spell(self, value, answer, fact, coordinates) -> str:
        return f"[{int(value['x'])}, {int(value['y'])}] at a depth of {wording.quantity(value['depth_m'], 'm')}"


@KINDS.register("motion_labels")
class MotionLabels:
    """A list of SpatialVID camera-motion labels in component order, or ["Stay"]. Distractors and
    false claims are the label lists of other clips of the scene, which the answer function draws
    (`answer.extra["distractor_labels"]`, `["false_claim_labels"]`) so that they and the truth are
    exchangeable: no option stands out, and a claim is no likelier true for being a common one."""

    def spell(self, value, answer, fact, coordinates) -> str:
        return ", ".join(value)

    def options(self, answer, fact, n, rank, rng, margins):
        others = [list(o) for o in answer.extra.get("distractor_labels", []) if list(o) != list(answer.value)]
        if len(others) < n - 1:
            return None
        picks = [others[i] for i in rng.choice(len(others), size=n - 1, replace=False)]
        return picks[:rank] + [list(answer.value)] + picks[rank:], rank

    def false_claim(self, answer, fact, rng, margins):
        claim = answer.extra.get("false_claim_labels")
        return list(claim) if claim is not None and list(claim) != list(answer.value) else None
