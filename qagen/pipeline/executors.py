"""Executors map `run_scene` over scene pointers: in-process, a local process pool, or Ray.

A scene is the unit of work; results come back in completion order (the manifest sorts them), and
each scene's output depends only on the seed and the scene, so the executor never changes a byte.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Iterator, Optional, Sequence

from qagen.errors import QagenError
from qagen.pipeline.plan import RunPlan, ScenePointer
from qagen.pipeline.scene_job import SceneReport, run_scene


def run_local(pointers: Sequence[ScenePointer], plan: RunPlan, workers: int) -> Iterator[SceneReport]:
    if workers <= 1 or len(pointers) <= 1:
        for pointer in pointers:
            yield run_scene(pointer, plan)
        return
    # spawn, not fork: torch and numba thread pools do not survive a fork safely.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(run_scene, p, plan) for p in pointers]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:  # a scene failed, Ctrl-C, or the caller stopped reading: the scenes not started are
            for future in futures:  # dropped, not all run to the end by the pool's exit
                future.cancel()


def run_ray(pointers: Sequence[ScenePointer], plan: RunPlan, address: Optional[str], gpus_per_scene: float) -> Iterator[SceneReport]:
    try:
        import ray
    except ImportError:
        raise QagenError("the ray executor needs Ray: pip install 'qagen[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    remote = ray.remote(num_gpus=gpus_per_scene)(run_scene) if gpus_per_scene else ray.remote(run_scene)
    pending = [remote.remote(p, plan) for p in pointers]
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield _ray_result(ray, done[0])
    finally:  # as run_local: a failed scene or Ctrl-C does not leave the rest running on the cluster
        for ref in pending:
            ray.cancel(ref)


def _ray_result(ray, ref) -> SceneReport:
    """ray.get; a qagen error a scene raised is raised as itself (Ray's wrapper would put the
    remote traceback in front of the file and problem it names)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        if isinstance(exc.cause, QagenError):
            raise exc.cause from None
        raise
