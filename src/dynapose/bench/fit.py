"""Benchmark of the rigid-bone ray fit (:func:`dynapose.inference.refine.fit_depths`, what
``evaluate-lift`` runs on ground-truth 2D) on a quiet machine and with every other core kept
busy by spinning processes: batched small solves must not fall off a thread cliff under load.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from dynapose.bench.viz import _STANDING_MM
from dynapose.inference.refine import fit_depths
from dynapose.skeleton import bone_lengths


def _spin() -> None:  # pragma: no cover - runs in a child process until terminated
    while True:
        pass


def _fit_input(frames: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A jittered standing body 4 m in front of the camera: joints (F, 17, 3) mm, their rays
    (F, 17, 2) and the bone lengths (16,)."""
    rng = np.random.default_rng(seed)
    joints = _STANDING_MM[None] + rng.normal(0.0, 20.0, (frames, *_STANDING_MM.shape))
    rays = joints[..., :2] / joints[..., 2:]
    noisy = joints + rng.normal(0.0, 30.0, joints.shape)
    return noisy, rays, bone_lengths(_STANDING_MM)


def _median_seconds(work: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def bench_fit(frames: int = 20_000, repeats: int = 3, busy: int | None = None,
              seed: int = 0) -> dict[str, Any]:
    """Seconds (median of `repeats`) of the ray fit over `frames` frames, quiet and with `busy`
    spinning processes (default: one fewer than the cores, at least one), and their ratio."""
    joints, rays, lengths = _fit_input(frames, seed)
    busy = max(1, (os.cpu_count() or 2) - 1) if busy is None else busy

    def work() -> Any:
        return fit_depths(joints, rays, lengths)

    quiet = _median_seconds(work, repeats)
    context = multiprocessing.get_context("spawn")
    spinners = [context.Process(target=_spin, daemon=True) for _ in range(busy)]
    for p in spinners:
        p.start()
    try:
        time.sleep(0.5)  # let them take their cores
        loaded = _median_seconds(work, repeats)
    finally:
        for p in spinners:
            p.terminate()
        for p in spinners:
            p.join()
    return {"frames": frames, "busy_processes": busy, "quiet_s": quiet, "busy_s": loaded,
            "slowdown": loaded / quiet}
