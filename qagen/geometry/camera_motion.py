"""How a camera moved between two views, in the two vocabularies qagen's tasks use.

1. TASKS.md "Camera change" (SPAR's view_change_infer, SpaceVista's camera_rotation): the
   translation of camera 2's centre in camera 1's *viewer frame* (right, up, forward), the change
   of elevation of the optical axis (pitch, + up) and the change of heading (yaw, wrapped to
   (-180, 180], + = left, i.e. counter-clockwise seen from above).

2. SpatialVID's camera-motion labels (FORMATS.md section 5), recomputed from the poses: the
   displacement of the centre in the earlier camera's OpenCV frame (+z Dolly In, +x Truck Right,
   +y Pedestal Down) and the extrinsic y-x-z Euler angles of the relative world-to-camera rotation
   R2 R1^T (+yaw Pan Left, +pitch Tilt Down, +roll Roll CCW).

   Thresholds (ours; SpatialVID does not publish its own): a translation component counts when
   it reaches `translation_rel` (10 %) of the scene scale -- the median depth seen from the
   earlier camera, so the rule holds for non-metric captures whose depth and poses share an
   arbitrary scale; at that depth a 10 % sideways move shifts the image about as much as a 6 deg
   pan. Pan and tilt count from `rotation_deg` (5 deg), roll from `roll_deg` (10 deg): small
   rolls are hand-held jitter, and camera-frame angles give a camera pitched down by p a roll of
   about theta * sin(p) when it pans by theta about the vertical. A component from
   `ambiguous_from` (0.6) of its threshold up to the threshold is ambiguous: the caller rejects
   such a pair rather than guess. When no component counts, the label is "Stay".
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qagen.geometry.projection import times_point
from qagen.geometry.viewer import viewer_axes

COMPONENTS = ("dolly", "truck", "pedestal", "pan", "tilt", "roll")
LABEL_WORDS = {  # component -> (label for a positive value, label for a negative value)
    "dolly": ("Dolly In", "Dolly Out"),
    "truck": ("Truck Right", "Truck Left"),
    "pedestal": ("Pedestal Down", "Pedestal Up"),
    "pan": ("Pan Left", "Pan Right"),
    "tilt": ("Tilt Down", "Tilt Up"),
    "roll": ("Roll CCW", "Roll CW"),
}
STAY = "Stay"
ALL_LABELS = tuple(word for c in COMPONENTS for word in LABEL_WORDS[c]) + (STAY,)


def wrap_degrees(angle: float) -> float:
    """An angle in degrees wrapped to (-180, 180]."""
    wrapped = (float(angle) + 180.0) % 360.0 - 180.0
    return 180.0 if wrapped == -180.0 else wrapped


def elevation_deg(c2w: np.ndarray) -> float:
    """Elevation of the optical axis above the horizontal plane (+ = looking up)."""
    axis = np.asarray(c2w, dtype=float)[:3, 2]
    return math.degrees(math.atan2(axis[2], math.hypot(axis[0], axis[1])))


@dataclass(frozen=True)
class ViewPose:
    """A camera's centre, viewer axes, heading and elevation: what camera_change (and relations
    in its viewer frame) need of a view, for callers that compute it once per view."""

    centre: np.ndarray  # (3,)
    axes: np.ndarray  # viewer_axes
    heading_deg: float  # of the optical axis projected on the floor, counter-clockwise from world +X
    elevation_deg: float


def view_pose(c2w: np.ndarray) -> ViewPose:
    """The view's ViewPose. Raises ValueError for a camera looking straight up or down."""
    c2w = np.asarray(c2w, dtype=float)
    axes = viewer_axes(c2w)
    forward = axes[1]
    return ViewPose(c2w[:3, 3], axes, math.degrees(math.atan2(forward[1], forward[0])), elevation_deg(c2w))


def camera_change(c2w_1: np.ndarray, c2w_2: np.ndarray) -> dict[str, float]:
    """TASKS.md camera change from view 1 to view 2: right/up/forward (scene units) in view 1's
    viewer frame, pitch (elevation difference) and yaw (heading change, + left) in degrees."""
    return change_between(view_pose(c2w_1), view_pose(c2w_2))


def change_between(first: ViewPose, second: ViewPose) -> dict[str, float]:
    """camera_change of two views' ViewPoses (to_viewer of one point, in Python floats: numpy on
    one 3-vector costs several times the arithmetic)."""
    (x1, y1, z1), (x2, y2, z2) = first.centre.tolist(), second.centre.tolist()
    right, forward, up = times_point(first.axes.tolist(), x2 - x1, y2 - y1, z2 - z1)
    return {
        "right_m": right,
        "up_m": up,
        "forward_m": forward,
        "pitch_deg": second.elevation_deg - first.elevation_deg,
        "yaw_deg": wrap_degrees(second.heading_deg - first.heading_deg),
    }


def yxz_euler_deg(rotation: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees with rotation = Rz(roll) Rx(pitch) Ry(yaw) (extrinsic y, x, z)."""
    yaw, pitch, roll = _yxz_euler_deg(np.asarray(rotation, dtype=float)[None])
    return float(yaw[0]), float(pitch[0]), float(roll[0])


def _yxz_euler_deg(R: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """yxz_euler_deg of rotations (N, 3, 3)."""
    pitch = np.degrees(np.arcsin(np.clip(R[:, 2, 1], -1.0, 1.0)))
    yaw = np.degrees(np.arctan2(-R[:, 2, 0], R[:, 2, 2]))
    roll = np.degrees(np.arctan2(-R[:, 0, 1], R[:, 1, 1]))
    return yaw, pitch, roll


def motion_components(c2w_1: np.ndarray, c2w_2: np.ndarray) -> dict[str, float]:
    """SpatialVID's motion between two views: dolly/truck/pedestal = displacement of the centre in
    camera 1's OpenCV frame (z, x, y; scene units), pan/tilt/roll = y-x-z Euler angles (degrees)
    of the relative world-to-camera rotation R2 R1^T."""
    many = motion_components_many(np.asarray(c2w_1, dtype=float)[None], np.asarray(c2w_2, dtype=float)[None])
    return {name: float(values[0]) for name, values in many.items()}


def motion_components_many(c2w_1: np.ndarray, c2w_2: np.ndarray) -> dict[str, np.ndarray]:
    """motion_components of N view pairs (N, 4, 4) at once: a scene's clip tasks ask for every pair
    of frames a few steps apart."""
    R1, R2 = c2w_1[:, :3, :3], c2w_2[:, :3, :3]
    x, y, z = np.einsum("nki,nk->in", R1, c2w_2[:, :3, 3] - c2w_1[:, :3, 3])  # R1^T shift: camera 1's axes
    yaw, pitch, roll = _yxz_euler_deg(np.einsum("nki,nkj->nij", R2, R1))  # w2c_2 w2c_1^T = R2^T R1
    return {"dolly": z, "truck": x, "pedestal": y, "pan": yaw, "tilt": pitch, "roll": roll}


@dataclass(frozen=True)
class MotionThresholds:
    translation_rel: float = 0.10  # share of the scene scale
    rotation_deg: float = 5.0  # pan, tilt
    roll_deg: float = 10.0
    ambiguous_from: float = 0.6  # share of a threshold from which a component is ambiguous


@dataclass(frozen=True)
class MotionCall:
    labels: tuple[str, ...]  # in COMPONENTS order; ("Stay",) when nothing counts
    ambiguous: tuple[str, ...]  # components inside their ambiguous band
    primary: str  # the label whose component exceeds its threshold most, or "Stay"
    margin: float  # smallest distance of any component from its band edges, in thresholds


def motion_labels(components: dict[str, float], scale: float,
                  thresholds: MotionThresholds = MotionThresholds()) -> MotionCall:
    """The labels of `motion_components` for a scene whose scale (median depth) is `scale`."""
    return motion_calls({name: np.array([value], dtype=float) for name, value in components.items()},
                        np.array([scale], dtype=float), thresholds).call(0)


STAY_WORD = len(ALL_LABELS) - 1  # ALL_LABELS: component k's words at 2k (positive) and 2k + 1, then Stay


class MotionCalls:
    """motion_labels of N motions, kept as Python lists of codes; `call(i)` spells the i-th."""

    def __init__(self, labels: list[int], ambiguous: list[int], primary: list[int], margin: list[float]):
        self.labels = labels  # bit 2k (+1 for the negative word) set for each component k that counts
        self.ambiguous = ambiguous  # bit k set for each component k inside its ambiguous band
        self.primary = primary  # index into ALL_LABELS
        self.margin = margin

    def call(self, i: int) -> MotionCall:
        return MotionCall(_words(self.labels[i]), _components(self.ambiguous[i]), ALL_LABELS[self.primary[i]],
                          self.margin[i])


def motion_calls(components: dict[str, np.ndarray], scale: np.ndarray,
                 thresholds: MotionThresholds = MotionThresholds()) -> MotionCalls:
    """motion_labels of N motions at once: components (N,) each, scales (N,)."""
    scale = np.asarray(scale, dtype=float)
    bad = ~(np.isfinite(scale) & (scale > 0))
    if bad.any():
        raise ValueError(f"scene scale must be a positive number, got {float(scale[bad][0])!r}")
    values = np.stack([np.asarray(components[name], dtype=float) for name in COMPONENTS])  # (6, N)
    move = thresholds.translation_rel * scale
    turn, roll = np.full_like(move, thresholds.rotation_deg), np.full_like(move, thresholds.roll_deg)
    ratio = np.abs(values) / np.stack([move, move, move, turn, turn, roll])
    counts, low = ratio >= 1.0, ratio < thresholds.ambiguous_from
    ambiguous = ~counts & ~low
    margins = np.where(counts, ratio - 1.0, np.where(
        low, thresholds.ambiguous_from - ratio, -np.minimum(ratio - thresholds.ambiguous_from, 1.0 - ratio)))
    negative = ~(values > 0)
    word = 2 * np.arange(len(COMPONENTS))[:, None] + negative  # (6, N) index into ALL_LABELS
    largest = np.where(counts, ratio, -np.inf).argmax(axis=0)  # the first of equals, as max() over a dict
    primary = np.where(counts.any(axis=0), np.take_along_axis(word, largest[None], axis=0)[0], STAY_WORD)
    return MotionCalls(
        np.where(counts, 1 << word, 0).sum(axis=0).tolist(),
        (ambiguous * (1 << np.arange(len(COMPONENTS)))[:, None]).sum(axis=0).tolist(),
        primary.tolist(),
        margins.min(axis=0).tolist(),
    )


@lru_cache(maxsize=None)
def _words(bits: int) -> tuple[str, ...]:
    return tuple(ALL_LABELS[i] for i in range(STAY_WORD) if bits >> i & 1) or (STAY,)


@lru_cache(maxsize=None)
def _components(bits: int) -> tuple[str, ...]:
    return tuple(name for k, name in enumerate(COMPONENTS) if bits >> k & 1)
