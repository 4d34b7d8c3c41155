"""Benchmarks: measured, never estimated. ``bench_train`` is the seed model's training step.

A training step is what ``dynapose train`` does per batch: forward, mean-squared error, backward
and a Keras-exact Adam update (lr 5e-3, betas 0.75/0.95, eps 1e-7), on random uint8 clips
(B, 8, S, S, 3) and joints held in memory. After warm-up steps, each step is timed alone.
The measurement runs in a fresh Python process so ``peak_rss_mb`` (``ru_maxrss``) is the
benchmark's own peak, including the interpreter, torch and the batch itself.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any


def bench_train(
    batch: int = 80,
    size: int = 224,
    steps: int = 10,
    warmup: int = 2,
    threads: int | None = None,
    clip_len: int = 8,
    huge_pages: bool = True,
    fresh_process: bool = True,
) -> dict[str, Any]:
    """Steady-state training speed and peak memory of the seed model.

    Returns a dict with ``clips_per_s`` (batch / median step time), ``clips_per_s_best``,
    ``step_ms`` (median), ``step_ms_min``, ``step_ms_max``, ``cpu_ms_per_step`` (process CPU
    time per step, all threads: robust to other load on the machine), ``peak_rss_mb`` and the
    settings (``batch``, ``size``, ``steps``, ``threads``, ...).

    `huge_pages` sets ``THP_MEM_ALLOC_ENABLE=1`` for the measuring process (torch then asks
    for transparent huge pages for its large tensors: ~30x fewer page faults per step). It only
    applies with `fresh_process`, as torch reads the variable once, at start-up.
    """
    if batch < 1 or size < 1 or steps < 1 or warmup < 0:
        raise ValueError("batch, size and steps must be >= 1 and warmup >= 0")
    kwargs = {
        "batch": batch,
        "size": size,
        "steps": steps,
        "warmup": warmup,
        "threads": threads,
        "clip_len": clip_len,
    }
    if not fresh_process:
        return _train_worker(**kwargs)
    code = (
        "import json, sys; from dynapose.bench import _train_worker; "
        "print('@@' + json.dumps(_train_worker(**json.loads(sys.argv[1]))))"
    )
    env = dict(os.environ)
    if huge_pages:
        env["THP_MEM_ALLOC_ENABLE"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(kwargs)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"benchmark process failed ({proc.returncode}): {' | '.join(tail)}")
    return json.loads(lines[-1][2:])


def _train_worker(
    batch: int, size: int, steps: int, warmup: int, threads: int | None, clip_len: int
) -> dict[str, Any]:
    """Run the measurement in this process (see :func:`bench_train`)."""
    import torch

    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _measure(torch, batch, size, steps, warmup, clip_len)
    finally:
        torch.set_num_threads(previous_threads)


def _measure(
    torch: Any, batch: int, size: int, steps: int, warmup: int, clip_len: int
) -> dict[str, Any]:
    from dynapose.models.keras_adam import KerasAdam
    from dynapose.models.seed import SeedModel, count_parameters

    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = SeedModel(clip_len=clip_len, input_size=size)
    model.train()
    optimizer = KerasAdam(model.parameters())
    clips = torch.randint(
        0, 256, (batch, clip_len, size, size, 3), dtype=torch.uint8, generator=gen
    )
    joints = torch.randn(batch, clip_len, 17, 3, generator=gen) * 300.0

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = torch.mean((model(clips) - joints) ** 2)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    for _ in range(warmup):
        step()
    wall, cpu = [], []
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    median = statistics.median(wall)
    return {
        "model": "seed",
        "batch": batch,
        "clip_len": clip_len,
        "size": size,
        "steps": steps,
        "warmup": warmup,
        "threads": torch.get_num_threads(),
        "params": count_parameters(model),
        "clips_per_s": round(batch / median, 2),
        "clips_per_s_best": round(batch / min(wall), 2),
        "step_ms": round(1000 * median, 1),
        "step_ms_min": round(1000 * min(wall), 1),
        "step_ms_max": round(1000 * max(wall), 1),
        "cpu_ms_per_step": round(1000 * statistics.median(cpu), 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "page_faults_per_step": round(
            (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / steps
        ),
        "huge_pages": os.environ.get("THP_MEM_ALLOC_ENABLE") == "1",
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
    }


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (``ru_maxrss``, KiB on Linux, B on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def format_table(result: dict[str, Any]) -> str:
    """A two-column text table of a benchmark result."""
    width = max(len(k) for k in result)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in result.items())
