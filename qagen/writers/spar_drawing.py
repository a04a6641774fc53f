"""Which markers SPAR's drawer (draw_marker.py) paints for each task type, and in which colour
order it reads their image indices. Both the InternVL and the SPAR writers list image indices in
this order, so SPAR's tooling puts every marker on its own image."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from qagen.tasks.fact import Marker, MarkerKind

SPAR_COLORS = ("red", "blue", "green", "yellow")


@dataclass(frozen=True)
class Drawing:
    """What SPAR's draw function for one type paints.

    colours: the colour keys it reads, in the order it takes their image indices.
    placement: "one" (the record's single image, no index read), "first" (images[0]), "indexed"
    (index k for the k-th colour present), "shared" (every colour on index 0), "listed" (the list
    key, one index per entry). optional: colours may be absent; count: how many must be present.
    """

    kind: MarkerKind
    colours: tuple[str, ...]
    placement: str
    optional: bool = False
    count: Optional[int] = None


RB, RBG, RBGY = ("red", "blue"), ("red", "blue", "green"), ("red", "blue", "green", "yellow")
GBR, GBRY = ("green", "blue", "red"), ("green", "blue", "red", "yellow")

DRAWINGS: dict[str, Optional[Drawing]] = {
    "obj_spatial_relation_oo": Drawing("box", RB, "one"),
    "depth_prediction_oc": Drawing("point", RB, "one"),
    "depth_prediction_oo": Drawing("point", RBG, "one"),
    "distance_prediction_oc": Drawing("point", ("red",), "one"),
    "distance_prediction_oo": Drawing("point", RB, "one"),
    "distance_infer_center_oc": None,
    "distance_infer_center_oo": Drawing("point", RBG, "one"),
    "spatial_volume_infer": Drawing("box", ("red",), "one"),
    "spatial_imagination_oc": Drawing("box", RBG, "one"),
    "spatial_imagination_oo": Drawing("box", RBGY, "one"),
    "position_matching": Drawing("box", ("red",), "first"),
    "view_change_infer": None,
    "depth_prediction_oc_mv": Drawing("point", RB, "indexed"),
    "depth_prediction_oo_mv": Drawing("point", RBG, "indexed"),
    "distance_prediction_oc_mv": Drawing("point", ("red",), "indexed"),
    "distance_prediction_oo_mv": Drawing("point", RB, "indexed"),
    "obj_spatial_relation_oc_mv": Drawing("box", RBG, "shared", optional=True),
    "obj_spatial_relation_oo_mv": Drawing("box", RBG, "indexed", optional=True, count=2),
    "distance_infer_center_oc_mv": None,
    "distance_infer_center_oo_mv": Drawing("point", ("red", "green", "blue"), "indexed"),
    "spatial_imagination_oc_mv": Drawing("box", GBR, "indexed"),
    "spatial_imagination_oo_mv": Drawing("box", GBRY, "indexed"),
    "spatial_imagination_map_mv": Drawing("box", (), "listed"),
    "camera_motion_infer": None,
    "distance_prediction_oo_video": Drawing("point", RB, "indexed"),
    "distance_infer_center_oo_video": Drawing("point", (), "listed"),
    "spatial_imagination_oo_video": Drawing("box", GBRY, "indexed"),
    "spatial_imagination_oc_video": Drawing("box", GBR, "indexed"),
    "spatial_imagination_oc_video_hard": None,
    "spatial_imagination_oo_video_hard": None,
    "obj_frame_locate": Drawing("box", ("red",), "indexed"),
    "appearance_order": None,
    "room_size": None,
    "nav": None,
    "obj_count": None,
}


def index_order(task: str, kind: MarkerKind) -> tuple[str, ...]:
    """The colour order of `kind`'s index list in a SPAR line of type `task` (see module docstring)."""
    drawing = DRAWINGS.get(task)
    if drawing is not None and drawing.kind == kind and drawing.colours:
        return drawing.colours
    return SPAR_COLORS


def is_listed(task: str, kind: MarkerKind) -> bool:
    """True when SPAR stores `kind` markers of `task` under the list key."""
    drawing = DRAWINGS.get(task)
    return drawing is not None and drawing.kind == kind and drawing.placement == "listed"


def spar_order(task: str, markers: tuple[Marker, ...]) -> tuple[Marker, ...]:
    """The markers in the order SPAR's index lists give them (list entries and colours off the
    order keep the record's order)."""
    def rank(marker: Marker) -> int:
        if is_listed(task, marker.kind):
            return 0
        order = index_order(task, marker.kind)
        return order.index(marker.color) if marker.color in order else len(order)

    return tuple(sorted(markers, key=rank))
