"""Camera change (TASKS.md) and SpatialVID motion labels on exact, hand-built camera pairs."""
import math

import numpy as np
import pytest

from qagen.geometry.camera_motion import (
    ALL_LABELS, COMPONENTS, MotionThresholds, camera_change, motion_calls, motion_components, motion_labels,
    wrap_degrees, yxz_euler_deg,
)


def pose(heading=0.0, elevation=0.0, roll=0.0, position=(0.0, 0.0, 1.5)):
    """c2w of an OpenCV camera: optical axis at `heading` (deg, counter-clockwise from +X) and
    `elevation` (deg, + up); `roll` > 0 turns the image x axis towards image down (clockwise as
    the camera's user sees it)."""
    h, e, r = (math.radians(v) for v in (heading, elevation, roll))
    forward = np.array([math.cos(e) * math.cos(h), math.cos(e) * math.sin(h), math.sin(e)])
    right = np.array([math.sin(h), -math.cos(h), 0.0])
    down = np.cross(forward, right)
    c2w = np.eye(4)
    c2w[:3, 0] = math.cos(r) * right + math.sin(r) * down
    c2w[:3, 1] = -math.sin(r) * right + math.cos(r) * down
    c2w[:3, 2] = forward
    c2w[:3, 3] = position
    return c2w


def labels(c2w_1, c2w_2, scale=2.0):
    return motion_labels(motion_components(c2w_1, c2w_2), scale)


def test_pure_yaw_left_is_pan_left_and_positive_yaw():
    a, b = pose(heading=40), pose(heading=70)
    change = camera_change(a, b)
    assert change["yaw_deg"] == pytest.approx(30.0)
    for key in ("right_m", "up_m", "forward_m", "pitch_deg"):
        assert change[key] == pytest.approx(0.0, abs=1e-9)
    call = labels(a, b)
    assert call.labels == ("Pan Left",) and call.primary == "Pan Left" and not call.ambiguous
    assert motion_components(a, b)["pan"] == pytest.approx(30.0)


def test_yaw_right_is_pan_right_and_negative_yaw():
    a, b = pose(heading=10), pose(heading=-15)
    assert camera_change(a, b)["yaw_deg"] == pytest.approx(-25.0)
    assert labels(a, b).labels == ("Pan Right",)


def test_forward_translation_is_dolly_in():
    a = pose(heading=90, position=(1.0, 1.0, 1.5))  # looking along +Y
    b = pose(heading=90, position=(1.0, 1.6, 1.5))
    change = camera_change(a, b)
    assert change["forward_m"] == pytest.approx(0.6) and change["right_m"] == pytest.approx(0.0, abs=1e-12)
    assert labels(a, b).labels == ("Dolly In",)
    assert labels(b, a).labels == ("Dolly Out",)


def test_sideways_and_vertical_translation():
    a = pose(heading=0)  # looking along +X: right is -Y
    right = pose(heading=0, position=(0.0, -0.5, 1.5))
    up = pose(heading=0, position=(0.0, 0.0, 2.0))
    assert camera_change(a, right)["right_m"] == pytest.approx(0.5)
    assert labels(a, right).labels == ("Truck Right",)
    assert labels(right, a).labels == ("Truck Left",)
    assert camera_change(a, up)["up_m"] == pytest.approx(0.5)
    assert labels(a, up).labels == ("Pedestal Up",)
    assert labels(up, a).labels == ("Pedestal Down",)


def test_tilt_and_pitch_signs():
    a, b = pose(elevation=-20), pose(elevation=-5)
    assert camera_change(a, b)["pitch_deg"] == pytest.approx(15.0)
    assert labels(a, b).labels == ("Tilt Up",)
    assert labels(b, a).labels == ("Tilt Down",)


def test_roll_directions_and_its_larger_threshold():
    a, cw = pose(), pose(roll=12)
    assert motion_components(a, cw)["roll"] == pytest.approx(-12.0)
    assert labels(a, cw).labels == ("Roll CW",)
    assert labels(cw, a).labels == ("Roll CCW",)
    assert labels(a, pose(roll=7.0)).ambiguous == ("roll",)  # a 7 deg pan would count
    assert labels(a, pose(roll=4.0)).labels == ("Stay",)


def test_panning_a_pitched_camera_about_the_vertical_shows_camera_frame_roll():
    a, b = pose(heading=0, elevation=-30), pose(heading=20, elevation=-30)
    comp = motion_components(a, b)
    assert comp["roll"] == pytest.approx(20 * math.sin(math.radians(30)), abs=1.0)  # ~10 deg, to first order
    assert comp["pan"] == pytest.approx(20 * math.cos(math.radians(30)), abs=1.0)


def test_viewer_frame_ignores_camera_pitch_but_spatialvid_uses_camera_axes():
    a = pose(heading=0, elevation=-30)
    b = pose(heading=0, elevation=-30, position=(1.0, 0.0, 1.5))  # 1 m horizontally forward
    change = camera_change(a, b)
    assert (change["forward_m"], change["up_m"]) == (pytest.approx(1.0), pytest.approx(0.0, abs=1e-12))
    comp = motion_components(a, b)  # along the tilted optical axis and towards image up
    assert comp["dolly"] == pytest.approx(math.cos(math.radians(30)))
    assert comp["pedestal"] == pytest.approx(-math.sin(math.radians(30)))


def test_combined_motion_lists_labels_in_component_order_and_primary_is_largest():
    a = pose(heading=0)
    b = pose(heading=-30, position=(0.8, 0.0, 1.5))  # forward 0.8 (4 thresholds at scale 2), pan right 30 deg (6)
    call = labels(a, b)
    assert call.labels == ("Dolly In", "Pan Right") and call.primary == "Pan Right"


def test_small_motion_is_stay_and_threshold_band_is_ambiguous():
    a = pose(heading=0)
    assert labels(a, pose(heading=1.0, position=(0.05, 0.0, 1.5))).labels == ("Stay",)
    call = labels(a, pose(heading=3.5))  # 0.7 of the 5 deg threshold
    assert call.ambiguous == ("pan",) and call.margin < 0
    assert labels(a, pose(position=(0.15, 0.0, 1.5)), scale=2.0).ambiguous == ("dolly",)  # 0.75 of 0.2


def test_translation_threshold_scales_with_the_scene():
    a, b = pose(heading=0), pose(heading=0, position=(0.3, 0.0, 1.5))
    assert labels(a, b, scale=2.0).labels == ("Dolly In",)
    assert labels(a, b, scale=10.0).labels == ("Stay",)
    scaled_a, scaled_b = a.copy(), b.copy()
    scaled_a[:3, 3] *= 7.0
    scaled_b[:3, 3] *= 7.0
    scaled, unscaled = labels(scaled_a, scaled_b, scale=14.0), labels(a, b, scale=2.0)
    assert (scaled.labels, scaled.primary) == (unscaled.labels, unscaled.primary)
    assert scaled.margin == pytest.approx(unscaled.margin)


def test_margin_is_distance_to_the_nearest_band_edge():
    call = motion_labels({"dolly": 0.3, "truck": 0.0, "pedestal": 0.0, "pan": 0.0, "tilt": 1.0, "roll": 0.0}, 2.0)
    assert call.margin == pytest.approx(0.4)  # tilt: 0.2 thresholds, 0.4 below the band
    call = motion_labels({"dolly": 0.22, "truck": 0.0, "pedestal": 0.0, "pan": 0.0, "tilt": 0.0, "roll": 0.0}, 2.0,
                         MotionThresholds(translation_rel=0.1))
    assert call.margin == pytest.approx(0.1)


def test_yaw_wraps_to_minus_180_exclusive():
    assert wrap_degrees(190.0) == pytest.approx(-170.0)
    assert wrap_degrees(-180.0) == 180.0 and wrap_degrees(180.0) == 180.0
    assert camera_change(pose(heading=170), pose(heading=-170))["yaw_deg"] == pytest.approx(20.0)


def test_yxz_euler_round_trip():
    def rx(a):
        c, s = math.cos(a), math.sin(a)
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])

    def ry(a):
        c, s = math.cos(a), math.sin(a)
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])

    def rz(a):
        c, s = math.cos(a), math.sin(a)
        return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])

    yaw, pitch, roll = 25.0, -12.0, 7.0
    R = rz(math.radians(roll)) @ rx(math.radians(pitch)) @ ry(math.radians(yaw))
    assert yxz_euler_deg(R) == pytest.approx((yaw, pitch, roll))


def test_every_label_is_named_once():
    assert len(ALL_LABELS) == len(set(ALL_LABELS)) == 13


def test_bad_scale_is_an_error():
    with pytest.raises(ValueError):
        labels(pose(), pose(), scale=0.0)


def test_calls_of_many_motions_are_each_motions_call():
    """motion_calls reads every motion of a batch from its own column: labels, the largest as the
    primary (the first of equal ones, in component order), ambiguity and margin, as one by one."""
    rng = np.random.default_rng(3)
    n = 400
    components = {name: rng.choice([-1, 1], n) * rng.uniform(0.0, 2.5, n) for name in COMPONENTS}
    for name in ("pan", "tilt"):
        components[name] *= 10.0
    components["roll"] *= 8.0
    for name in COMPONENTS:  # the first 20: pan and tilt equally far past their threshold, nothing else
        components[name][:20] = {"pan": 7.5, "tilt": -7.5}.get(name, 0.0)
    scales = rng.uniform(1.0, 6.0, n)
    calls = motion_calls(components, scales)
    for i in range(n):
        one = motion_labels({name: float(values[i]) for name, values in components.items()}, float(scales[i]))
        assert calls.call(i) == one
        ratios = {name: abs(values[i]) / (0.1 * scales[i] if name in ("dolly", "truck", "pedestal") else
                                          10.0 if name == "roll" else 5.0) for name, values in components.items()}
        counted = {name: r for name, r in ratios.items() if r >= 1.0}
        assert one.ambiguous == tuple(name for name in COMPONENTS if 0.6 <= ratios[name] < 1.0)
        if counted:
            assert one.primary in motion_words(max(counted, key=counted.get))
        else:
            assert one.primary == "Stay" and one.labels == ("Stay",)
    assert {calls.call(i).primary for i in range(20)} == {"Pan Left"}


def motion_words(component):
    return {"dolly": ("Dolly In", "Dolly Out"), "truck": ("Truck Right", "Truck Left"),
            "pedestal": ("Pedestal Down", "Pedestal Up"), "pan": ("Pan Left", "Pan Right"),
            "tilt": ("Tilt Down", "Tilt Up"), "roll": ("Roll CCW", "Roll CW")}[component]
