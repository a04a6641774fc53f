"""2D boxes ([x1, y1, x2, y2] in 0-1000): distractors are other objects' boxes in the same image,
which the answer function lists in `answer.extra["distractor_boxes"]` (already chosen so that none
overlaps the truth by IoU >= 0.5)."""
from __future__ import annotations

from qagen.render.kinds import KINDS


def box_text(box) -> str:
    return "[" + ", ".join(str(int(v)) for v in box) + "]"


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@KINDS.register("box")
class Box:
    def spell(self, value, answer, fact, coordinates) -> str:
        return box_text(value)

    def options(self, answer, fact, n, rank, rng, margins):
        others = [list(b) for b in answer.extra.get("distractor_boxes", [])]
        if len(others) < n - 1:
            return None
        picks = [others[i] for i in rng.choice(len(others), size=n - 1, replace=False)]
        return picks[:rank] + [list(answer.value)] + picks[rank:], rank

    def false_claim(self, answer, fact, rng, margins):
        others = answer.extra.get("distractor_boxes", [])
        return list(others[int(rng.integers(len(others)))]) if others else None
