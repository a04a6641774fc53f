"""Sets of clip frames (obj_frame_locate): the value is a sorted list of positions in the clip,
0-based; text counts from 1, as "frame k" references do. Distractors are other frame sets a
careless look could give: the set shifted, one frame more or less at either end, the frames in
between (the complement), or a run of the same length elsewhere in the clip."""
from __future__ import annotations

from qagen.render.kinds import KINDS


def frame_list(positions) -> str:
    """[0, 1, 4] -> "1, 2, 5" (counted from 1)."""
    return ", ".join(str(int(p) + 1) for p in positions)


def frame_alternatives(truth: list[int], length: int, rng) -> list[list[int]]:
    """Other non-empty frame sets of a clip of `length` frames, near misses first-class, in random order."""
    shown = sorted(truth)
    candidates = [[p + shift for p in shown] for shift in (-2, -1, 1, 2)]
    candidates += [shown[1:], shown[:-1], [shown[0] - 1] + shown, shown + [shown[-1] + 1]]
    candidates.append([p for p in range(length) if p not in shown])
    start = int(rng.integers(0, max(1, length - len(shown) + 1)))
    candidates.append(list(range(start, start + len(shown))))
    out: list[list[int]] = []
    for c in candidates:
        if c and c != shown and c not in out and all(0 <= p < length for p in c):
            out.append(c)
    return [out[i] for i in rng.permutation(len(out))]


@KINDS.register("frames")
class Frames:
    def spell(self, value, answer, fact, coordinates) -> str:
        return frame_list(value)

    def options(self, answer, fact, n, rank, rng, margins):
        others = frame_alternatives(list(answer.value), len(fact.frames), rng)[: n - 1]
        if len(others) < n - 1:
            return None
        return others[:rank] + [list(answer.value)] + others[rank:], rank

    def false_claim(self, answer, fact, rng, margins):
        others = frame_alternatives(list(answer.value), len(fact.frames), rng)
        return others[0] if others else None
