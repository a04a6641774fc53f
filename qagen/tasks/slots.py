"""Relation slots: the words each slot of a relation answer may take ("" = indistinguishable).

Answer functions decide the words; the renderer spells them and builds distractors from the same
table, so it lives here, below both.
"""

SLOT_WORDS = {
    "left_right": ("right", "left"),
    "above_below": ("above", "below"),
    "closer_farther": ("closer", "farther"),
    "front_behind": ("front", "behind"),
    # multi-view: relative to camera 1 (the first image's viewer), and object X (a) vs object Y (b)
    "cam_left_right": ("right", "left"),
    "cam_above_below": ("above", "below"),
    "cam_front_behind": ("front", "behind"),
    "ab_left_right": ("right", "left"),
    "ab_above_below": ("above", "below"),
    "ab_closer_farther": ("closer", "farther"),
    "a_front_behind": ("front", "behind"),
    "b_front_behind": ("front", "behind"),
    "quadrant": ("front-left", "front-right", "back-left", "back-right"),  # relative_direction (observer)
}
