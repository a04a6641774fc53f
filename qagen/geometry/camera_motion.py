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
    return _yxz_euler_deg(np.asarray(rotation, dtype=float).tolist())


def _yxz_euler_deg(R: list[list[float]]) -> tuple[float, float, float]:
    pitch = math.asin(max(-1.0, min(1.0, R[2][1])))
    yaw = math.atan2(-R[2][0], R[2][2])
    roll = math.atan2(-R[0][1], R[1][1])
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)


def motion_components(c2w_1: np.ndarray, c2w_2: np.ndarray) -> dict[str, float]:
    """SpatialVID's motion between two views: dolly/truck/pedestal = displacement of the centre in
    camera 1's OpenCV frame (z, x, y; scene units), pan/tilt/roll = y-x-z Euler angles (degrees)
    of the relative world-to-camera rotation R2 R1^T. (Python floats: a few 3-vectors, where
    numpy's calls cost several times the arithmetic; thousands of clip pairs a scene.)"""
    (a0, a1, a2, at), (b0, b1, b2, bt), (c0, c1, c2, ct) = np.asarray(c2w_1, float)[:3].tolist()
    (d0, d1, d2, dt), (e0, e1, e2, et), (f0, f1, f2, ft) = np.asarray(c2w_2, float)[:3].tolist()
    sx, sy, sz = dt - at, et - bt, ft - ct
    # camera 1's axes are the columns of its c2w rotation R1: (x, y, z) = R1^T shift
    x, y, z = a0 * sx + b0 * sy + c0 * sz, a1 * sx + b1 * sy + c1 * sz, a2 * sx + b2 * sy + c2 * sz
    # the relative rotation w2c_2 w2c_1^T = R2^T R1, the entries the angles read
    yaw, pitch, roll = _yxz_euler_deg([
        [0.0, d0 * a1 + e0 * b1 + f0 * c1, 0.0],
        [0.0, d1 * a1 + e1 * b1 + f1 * c1, 0.0],
        [d2 * a0 + e2 * b0 + f2 * c0, d2 * a1 + e2 * b1 + f2 * c1, d2 * a2 + e2 * b2 + f2 * c2],
    ])
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
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scene scale must be a positive number, got {scale!r}")
    labels, ambiguous, margins, sizes = [], [], [], {}
    move = thresholds.translation_rel * scale
    limits = {"dolly": move, "truck": move, "pedestal": move, "pan": thresholds.rotation_deg,
              "tilt": thresholds.rotation_deg, "roll": thresholds.roll_deg}
    for name in COMPONENTS:
        value = components[name]
        ratio = abs(value) / limits[name]
        if ratio >= 1.0:
            word = LABEL_WORDS[name][0 if value > 0 else 1]
            labels.append(word)
            sizes[word] = ratio
            margins.append(ratio - 1.0)
        elif ratio < thresholds.ambiguous_from:
            margins.append(thresholds.ambiguous_from - ratio)
        else:
            ambiguous.append(name)
            margins.append(-min(ratio - thresholds.ambiguous_from, 1.0 - ratio))
    primary = max(sizes, key=sizes.get) if sizes else STAY
    return MotionCall(tuple(labels) or (STAY,), tuple(ambiguous), primary, float(min(margins)))
