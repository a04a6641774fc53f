"""One scene's tasks spread over spare cores.

Lifting a scene already uses every core; sampling is plain Python and would use one. With
`plan.task_workers` above 1, the scene's process and helper processes take the plan's tasks from a
shared counter, a group of tasks with one sampler at a time (they share per-scene memos), the
costliest group first (by what each task cost on the scenes before), until none is left; each
samples from its own copy of the lifted scene (the helpers' without its depth maps: the scene's
process samples the few tasks that read pixels). A helper sends each group's records as soon as
it is done. Tasks share nothing but memos that draw no random numbers, so the records, put back
in the plan's order, and the report are exactly those of one process; only the time changes.

The helpers are spawned once per process (not forked: the lifting thread pools do not survive a
fork) and kept for its later scenes; a scene sampled while they are still starting does not wait
for them. Spawned helpers import the caller's main module again, so a script that fans out needs
the `if __name__ == "__main__":` guard, as for a pool of scene workers.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import pickle
import queue
import signal
import time
import warnings
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Iterator, Optional

from qagen.pipeline import catalogue as catalogue_mod
from qagen.pipeline.plan import RunPlan
from qagen.pipeline.scene_job import SceneReport, scene_records
from qagen.render.record import QA
from qagen.scene.index import SceneIndex
from qagen.scene.model import Scene
from qagen.specs.schema import TaskSpec
from qagen.tasks.pixels import PIXEL_SAMPLERS

# A scene's costliest sampler group is about a quarter of its sampling: more processes than this
# wait on it, and each still receives a copy of the scene.
AUTO_TASK_WORKERS_MAX = 4

RESULT_POLL_S = 0.05  # how often the scene's process checks that a helper it waits for is alive
LOCK_TIMEOUT_S = 30.0  # the counter's lock is held for a few instructions: longer means its holder died

# The shared counter: [scene round, next task to take, then one flag per helper: took a task this round]
ROUND, NEXT, TOOK = 0, 1, 2

_helpers: Optional[ProcessPoolExecutor] = None
_started: list[Future] = []  # each helper's first job (imports and the catalogue): done once it is ready
_counter = None  # this process's view of the shared counter (a multiprocessing.Array with its lock)
_results = None  # helpers -> scene's process: (round, a group's Parts) as each group is done (a multiprocessing.Queue)
_seconds_per_qa: dict[str, float] = {}  # task -> sampling seconds per QA made, a running mean over scenes
_plan_sent: Optional[tuple[RunPlan, bytes]] = None  # the last plan sent to the helpers, and its pickle
_plan_received: Optional[tuple[bytes, RunPlan]] = None  # in a helper: the last plan received, pickled and not

Parts = dict[str, tuple[list[QA], float]]  # task -> (its records, its sampling seconds)


def available_cores() -> int:
    """Cores this process may use (its affinity where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def auto_task_workers(scene_workers: int, scenes: int, cores: Optional[int] = None) -> int:
    """Processes per scene that keep every core busy when `scene_workers` scenes run at once, at
    most AUTO_TASK_WORKERS_MAX."""
    return max(1, min(AUTO_TASK_WORKERS_MAX, (cores or available_cores()) // max(1, min(scene_workers, scenes))))


def plan_records(scene: Scene, index: SceneIndex | None, plan: RunPlan, report: SceneReport) -> Iterator[QA]:
    """scene_records over the whole plan, shared with the helpers when the plan fans out (with
    none while they start). A shared scene's records come once all its tasks are done (a scene's
    worth held in memory), in the plan's order."""
    if min(plan.task_workers, len(plan.tasks)) < 2:
        yield from scene_records(scene, index, plan, report)
        return
    try:
        parts, reports = _sampled(scene, index, plan, shared=ready(plan))
    except BrokenProcessPool as exc:
        _stop_helpers()  # started again for the scenes to come
        warnings.warn(f"{scene.id}: a helper process died while sampling ({exc}); the scene was sampled again "
                      f"in one process", RuntimeWarning, stacklevel=2)
        parts, reports = _sampled(scene, index, plan, shared=False)
    _merge(plan, reports, report)
    for spec in plan.tasks:
        records, seconds = parts.get(spec.name, ([], 0.0))
        if records:
            _learn(spec.name, seconds / len(records))
        yield from records


def _sampled(scene: Scene, index: SceneIndex | None, plan: RunPlan, shared: bool) -> tuple[Parts, list[SceneReport]]:
    """Each task's records and seconds, and the reports of the processes that sampled them (with
    the helpers when `shared`, else here alone).

    The helpers get the scene pickled once, here, before sampling fills in the index's memos, and
    without the depth maps: this process samples the tasks that read them first, then takes from
    the counter with the helpers. (The plan goes pickled once per run, not per scene, and a helper
    unpickles it only when it changes.) A helper sends each group's records as soon as it is done, and
    this process unpacks them between its own groups, so that little is left to wait for at the end.
    """
    reports = [SceneReport(scene.id, scene.source)]
    if not shared:
        return collect_by_task(scene_records(scene, index, plan, reports[0])), reports
    order = _claim_order(plan, scene)
    own = [group for group in order if group[0].sampler in PIXEL_SAMPLERS]
    others = [group for group in order if group[0].sampler not in PIXEL_SAMPLERS]
    scene_round = _new_round()
    payload = pickle.dumps((scene, index.without_depth_maps() if index is not None else None),
                           protocol=pickle.HIGHEST_PROTOCOL)
    names = [[s.name for s in group] for group in others]
    futures = [_helpers.submit(_share, payload, _pickled_plan(plan), names, scene_round, k)
               for k in range(len(_started))]
    inbox = _Inbox(scene_round, futures)
    parts = collect_by_task(scene_records(scene, index, plan, reports[0], tasks=_mine(own, others, inbox)))
    while inbox.groups < len(others) - inbox.taken_here:
        inbox.receive(block=True)
    parts.update(inbox.parts)
    reports += [futures[k].result() for k in helpers_that_took()]
    return parts, reports


class _Inbox:
    """What the helpers sent of one scene round: their groups' records, as they come."""

    def __init__(self, scene_round: int, futures: list[Future]):
        self.round, self.futures = scene_round, futures
        self.parts: Parts = {}
        self.groups = 0  # groups received
        self.taken_here = 0  # groups the scene's own process took from the counter

    def receive(self, block: bool) -> None:
        """Unpack what has arrived (one group at least when `block`; a helper that died while it
        is awaited breaks the pool, which raises here)."""
        while True:
            try:
                scene_round, parts = _results.get(timeout=RESULT_POLL_S) if block else _results.get_nowait()
            except queue.Empty:
                if not block:
                    return
                for future in self.futures:
                    if future.done() and future.exception() is not None:
                        raise future.exception()
                continue
            if scene_round == self.round:  # not one left over from a scene that was given up
                self.parts.update(parts)
                self.groups += 1
                block = False


def _mine(own: list[list[TaskSpec]], others: list[list[TaskSpec]], inbox: _Inbox) -> Iterator[TaskSpec]:
    """The scene's own process's tasks: the pixel tasks, then groups from the counter, unpacking
    what the helpers sent before each."""
    yield from (spec for group in own for spec in group)
    for group in _taken(others, inbox.round, None):
        inbox.taken_here += 1
        inbox.receive(block=False)
        yield from group


def prepare(plan: RunPlan) -> None:
    """Start the helpers the plan needs, if they are not running, so that they start while the
    scene is loaded and lifted; nothing to do for a plan that does not fan out."""
    n = min(plan.task_workers, len(plan.tasks)) - 1
    if n >= 1 and (_helpers is None or len(_started) != n):
        _start_helpers(n, plan)


def ready(plan: RunPlan) -> bool:
    """Whether the plan fans out and its helpers have started."""
    prepare(plan)
    return min(plan.task_workers, len(plan.tasks)) > 1 and all(f.done() and f.exception() is None for f in _started)


def _start_helpers(n: int, plan: RunPlan) -> None:
    """A pool of `n` helper processes sharing the counter, each loading the plan's catalogue as its
    first job (the pool starts a process per job while none is idle)."""
    global _helpers, _started, _counter, _results
    _stop_helpers()
    context = multiprocessing.get_context("spawn")
    _counter, _results = context.Array("q", TOOK + n), context.Queue()
    _helpers = ProcessPoolExecutor(max_workers=n, mp_context=context, initializer=_init_helper,
                                   initargs=(_counter, _results))
    _started = [_helpers.submit(_load_catalogue, plan) for _ in range(n)]
    # Stop them before multiprocessing's exit handler waits for this process's children (in a
    # scene worker, that comes before the pool's own exit handler would stop them: a deadlock),
    # and before it closes the pool's queues (their finalizers have priority 10).
    multiprocessing.util.Finalize(_helpers, _shut_down, args=(_helpers, _counter, _results), exitpriority=100)


def _stop_helpers() -> None:
    global _helpers, _started, _results
    if _helpers is not None:
        _shut_down(_helpers, _counter, _results)
    _helpers, _started, _results = None, [], None


def _shut_down(helpers: ProcessPoolExecutor, counter, results) -> None:
    """End the round first, so that a helper stops at its next claim instead of sampling the rest
    of a scene no one will read (Ctrl-C, a failure here); then stop the helpers. (The store needs
    no lock, which a dead helper may hold: the round is one aligned word.)"""
    counter.get_obj()[ROUND] = -1
    helpers.shutdown(cancel_futures=True)
    results.close()


@contextmanager
def _locked():
    """The counter's lock; a helper that died holding it (killed in the few instructions it takes)
    would leave it taken for good, which breaks the pool as its death does."""
    lock = _counter.get_lock()
    if not lock.acquire(timeout=LOCK_TIMEOUT_S):
        raise BrokenProcessPool(f"the task counter stayed locked for {LOCK_TIMEOUT_S} s")
    try:
        yield
    finally:
        lock.release()


def _new_round() -> int:
    with _locked():
        _counter[ROUND] += 1
        _counter[NEXT] = 0
        for k in range(TOOK, len(_counter)):
            _counter[k] = 0
        return _counter[ROUND]


def _claim_order(plan: RunPlan, scene: Scene) -> list[list[TaskSpec]]:
    """The plan's tasks in groups that are taken whole, the costliest group first: tasks with one
    sampler share most of their per-scene memos (view tables, visibility, pixel tables), which a
    group computes once."""
    groups: dict[str, list[TaskSpec]] = {}
    for spec in plan.tasks:
        groups.setdefault(spec.sampler, []).append(spec)
    return sorted(groups.values(), key=lambda g: -sum(_expected_seconds(plan, scene, s) for s in g))


def _taken(order: list[list[TaskSpec]], scene_round: int, helper: Optional[int]) -> Iterator[list[TaskSpec]]:
    """The groups this process takes from the counter, one at a time, until none is left (or the
    round is over: a helper that starts after its scene is done takes nothing)."""
    while True:
        with _locked():
            if _counter[ROUND] != scene_round or _counter[NEXT] >= len(order):
                return
            group = order[_counter[NEXT]]
            _counter[NEXT] += 1
            if helper is not None:
                _counter[TOOK + helper] = 1
        yield group


def helper_pids() -> list[int]:
    """The helper processes' ids (to watch or stop them)."""
    return sorted(_helpers._processes) if _helpers is not None else []


def helpers_that_took() -> list[int]:
    """Once every task of a scene is taken: the helpers that took any (whose results are waited
    for)."""
    with _locked():
        return [k - TOOK for k in range(TOOK, len(_counter)) if _counter[k]]


def collect_by_task(records: Iterator[QA], parts: Optional[Parts] = None) -> Parts:
    """Each task's records and sampling seconds, added to `parts` (scene_records yields a task's
    records once they are all made, so the time since the previous record is its task's; a task
    that makes none leaves its time to the next)."""
    parts = {} if parts is None else parts
    last = time.perf_counter()
    for qa in records:
        now = time.perf_counter()
        made, seconds = parts.get(qa.task, ([], 0.0))
        made.append(qa)
        parts[qa.task] = (made, seconds + now - last)
        last = now
    return parts


def _merge(plan: RunPlan, parts: list[SceneReport], report: SceneReport) -> None:
    """The processes' reports, task by task in the plan's order, as one process fills it in."""
    for name in ("produced", "requested", "rejections", "gaps"):
        by_task = {task: value for part in parts for task, value in getattr(part, name).items()}
        getattr(report, name).update((s.name, by_task[s.name]) for s in plan.tasks if s.name in by_task)


def _expected_seconds(plan: RunPlan, scene: Scene, spec: TaskSpec) -> float:
    """A task's QA asked of this scene times its seconds per QA so far (1 for a task not seen yet:
    taken first, so that its cost is learnt)."""
    asked = sum(plan.quota(scene.source, scene.id, spec, f) for f in plan.formats_of(spec))
    return max(asked, 1) * _seconds_per_qa.get(spec.name, 1.0)


def _pickled_plan(plan: RunPlan) -> bytes:
    """The plan pickled, once per plan object: a run samples every scene with the same one (some
    50 task specs, a millisecond or two each way, which the helpers would otherwise pay per scene)."""
    global _plan_sent
    if _plan_sent is None or _plan_sent[0] is not plan:
        _plan_sent = plan, pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL)
    return _plan_sent[1]


def _learn(task: str, seconds_per_qa: float) -> None:
    known = _seconds_per_qa.get(task)
    _seconds_per_qa[task] = seconds_per_qa if known is None else (known + seconds_per_qa) / 2


# In the helpers


def _init_helper(counter, results) -> None:
    global _counter, _results
    _counter, _results = counter, results
    # Ctrl-C is for the scene's process to handle: it stops the helpers (_shut_down), which end
    # their group and exit, instead of each dying with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # At exit, do not wait to flush records nobody will read (the scene's process stopped reading
    # when it gave the scene up): a full pipe would keep the helper, and the shutdown, waiting.
    results.cancel_join_thread()


def _load_catalogue(plan: RunPlan) -> None:
    catalogue_mod.load(plan.extra_specs, plan.extra_templates, tasks=tuple(s.name for s in plan.tasks))


def _share(payload: bytes, pickled_plan: bytes, order: list[list[str]], scene_round: int, helper: int) -> SceneReport:
    """Sample the groups this helper takes of the scene (pickled with its index) under the plan,
    sending each group's records and seconds as soon as it is done; returns its report."""
    global _plan_received
    scene, index = pickle.loads(payload)
    if _plan_received is None or _plan_received[0] != pickled_plan:  # bytes compared, nothing unpickled
        _plan_received = pickled_plan, pickle.loads(pickled_plan)
    plan = _plan_received[1]
    specs = {s.name: s for s in plan.tasks}
    groups = [[specs[name] for name in group] for group in order]
    report = SceneReport(scene.id, scene.source)
    parts: Parts = {}

    def taken() -> Iterator[TaskSpec]:
        for group in _taken(groups, scene_round, helper):
            yield from group
            _results.put((scene_round, dict(parts)))  # scene_records asks for the next task once a task's records are out
            parts.clear()

    collect_by_task(scene_records(scene, index, plan, report, tasks=taken()), parts)
    return report
