"""Choices among marked image points that are not objects (pixel markers, e.g. point_depth_order):
the value is the role of the chosen point, options are the roles in the order the question
mentions them, and a point is spelled by its marker ("the red point [x, y]" in questions, "the red
point" in answers)."""
from __future__ import annotations

from qagen.render import wording
from qagen.render.kinds import KINDS
from qagen.tasks.fact import Fact


def point_text(fact: Fact, role: str, coordinates: bool) -> str:
    marker = next(m for m in fact.markers if m.role == role)
    at = f" [{marker.xy[0]}, {marker.xy[1]}]" if coordinates else ""
    return f"the {marker.color} point{at}{wording.image_name(fact, marker.image)}"


@KINDS.register("point_choice")
class PointChoice:
    def spell(self, value, answer, fact, coordinates) -> str:
        return point_text(fact, value, coordinates)

    def options(self, answer, fact, n, rank, rng, margins):
        roles = list(answer.extra["options"])
        return roles, roles.index(answer.value)

    def false_claim(self, answer, fact, rng, margins):
        return str(rng.choice([r for r in answer.extra["options"] if r != answer.value]))
