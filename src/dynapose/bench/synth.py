"""Benchmark of synthetic video rendering: frames/s per process and over worker processes."""

from __future__ import annotations

import os
import time
from typing import Any

from dynapose.data.synthetic.synth import (
    _CACHE,
    CLIP_LEN,
    VIEWS,
    _check_args,
    _context,
    _init_worker,
    _make_job,
    _work,
    render_sequence,
    warm_worker,
)
from dynapose.errors import DynaPoseError


def bench_synth(size: int = 224, frames: int = 800, workers: int | None = None,
                seed: int = 0) -> dict[str, Any]:
    """Measure synthetic-video throughput, end to end (procedural motion + rendering + crop).

    Renders at least `frames` frames (whole 4-clip sequences) once in this process and once
    with `workers` processes (default: all CPUs; results are sent back to the parent, as in
    `synthesize`, but not written to disk). Returns wall-clock frames per second for both
    (``frames_per_s`` is the all-cores figure), frames per CPU-second of the single process (what
    one unshared core delivers; a fairer figure on a busy machine) and the split of the single
    process's wall time between motion generation and rendering (ms per frame).
    """
    if isinstance(frames, bool) or int(frames) != frames or frames < 1:
        raise DynaPoseError(f"number of frames must be a positive integer, got {frames}")
    _check_args(None, -(-int(frames) // CLIP_LEN), size, workers)
    workers = workers or os.cpu_count() or 1
    num_seq = max(1, -(-frames // (CLIP_LEN * VIEWS)))
    job = _make_job(num_seq * VIEWS, size, seed, None, None)
    n_frames = num_seq * VIEWS * CLIP_LEN
    _init_worker(job)
    render_sequence(job, num_seq)  # warm-up (imports, caches), not timed
    _CACHE.clear()
    timings: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    for q in range(num_seq):
        render_sequence(job, q, timings)
    single, single_cpu = time.perf_counter() - t0, time.process_time() - c0
    _CACHE.clear()
    with _context().Pool(workers, initializer=_init_worker, initargs=(job,)) as pool:
        pool.map(warm_worker, range(workers))  # start-up not timed
        t0 = time.perf_counter()
        for _ in pool.imap(_work, range(num_seq)):
            pass
        multi = time.perf_counter() - t0
    _CACHE.clear()
    return {
        "size": size,
        "frames": n_frames,
        "workers": workers,
        "cpus": os.cpu_count(),
        "frames_per_s": n_frames / multi,
        "frames_per_s_single": n_frames / single,
        "frames_per_cpu_s_single": n_frames / max(single_cpu, 1e-9),
        "ms_per_frame_motion": 1e3 * timings.get("motion_s", 0.0) / n_frames,
        "ms_per_frame_render": 1e3 * timings.get("render_s", 0.0) / n_frames,
        "target_frames_per_s": 150.0,
    }
