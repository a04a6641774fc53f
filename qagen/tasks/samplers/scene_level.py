"""Scene-level samplers (no media): questions about the scene's ground truth as a whole, asked of
meta-info scenes (no frames) as of captured ones. Objects are named by scene-unique labels with
imagination.unique_label_objects; this module adds the label of a counting question."""
from __future__ import annotations

from qagen.registry import SAMPLERS
from qagen.tasks.context import Candidate, TaskContext
from qagen.tasks.fact import Reject


@SAMPLERS.register("scene_label")
def scene_label(ctx: TaskContext) -> Candidate:
    """One label present in the scene (at least one object). Labels come in shuffled rounds, so a
    scene with few labels is not resampled into duplicates, and a label the balancer turned away
    comes back in the next round."""
    queue = ctx.state.setdefault("scene_label_queue", [])
    if not queue:
        labels = sorted({o.label for o in ctx.scene.objects})
        if not labels:
            raise Reject("no_labelled_objects")
        queue.extend(str(label) for label in ctx.rng.permutation(labels))
    return Candidate(frames=(), roles=(), media="none", extra={"label": queue.pop()})
