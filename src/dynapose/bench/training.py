"""Benchmarks: measured, never estimated. ``bench_train`` is the seed model's training step.

A training step is ``dynapose.training.image.train_step`` with the seed recipe's optimizer: forward,
mean-squared error, backward and a Keras-exact Adam update, on random uint8 clips
(B, 8, S, S, 3) and joints held in memory (on the GPU, for ``device`` cuda). After warm-up
steps, each step is timed alone (it ends by reading the loss, so a GPU's queue is drained).
The measurement runs in a fresh Python process so ``peak_rss_mb`` (``ru_maxrss``) is the
benchmark's own peak, including the interpreter, torch and the batch itself.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from dynapose.config import load_config
from dynapose.data.store import ClipStoreWriter
from dynapose.device import check_precision, describe, make_deterministic, resolve_device
from dynapose.models.seed import SeedModel, count_parameters
from dynapose.training.image import make_optimizer, train_step


def bench_train(
    batch: int = 80,
    size: int = 224,
    steps: int = 10,
    warmup: int = 2,
    threads: int | None = None,
    clip_len: int = 8,
    huge_pages: bool = True,
    fresh_process: bool = True,
    device: str = "auto",
    precision: str = "fp32",
    compile: bool = False,
    stem: str = "auto",
) -> dict[str, Any]:
    """Steady-state training speed and peak memory of the seed model.

    Returns a dict with ``clips_per_s`` (batch / median step time), ``clips_per_s_best``,
    ``step_ms`` (median), ``step_ms_min``, ``step_ms_max``, ``cpu_ms_per_step`` (process CPU
    time per step, all threads: robust to other load on the machine), ``peak_rss_mb`` and the
    settings (``batch``, ``size``, ``steps``, ``threads``, ...).

    `huge_pages` sets ``THP_MEM_ALLOC_ENABLE=1`` for the measuring process (torch then asks
    for transparent huge pages for its large tensors: far fewer page faults per step). It only
    applies with `fresh_process`, as torch reads the variable once, at start-up.

    `device`, `precision` ("fp32", "bf16") and `compile` as ``dynapose train`` takes them;
    `stem`: the first stage as the model picks it ("auto": chunked on the CPU, plain layers on
    a GPU), or forced "chunked" or "plain", to compare them. On CUDA the result also holds
    ``gpu_peak_mb`` (the most GPU memory torch held) and the device's description.
    """
    if batch < 1 or size < 1 or steps < 1 or warmup < 0:
        raise ValueError("batch, size and steps must be >= 1 and warmup >= 0")
    if stem not in ("auto", "chunked", "plain"):
        raise ValueError(f"stem must be auto, chunked or plain, got {stem!r}")
    kwargs: dict[str, Any] = {
        "batch": batch,
        "size": size,
        "steps": steps,
        "warmup": warmup,
        "threads": threads,
        "clip_len": clip_len,
        "device": device,
        "precision": precision,
        "compile": compile,
        "stem": stem,
    }
    if not fresh_process:
        return _train_worker(**kwargs)
    code = (
        "import json, sys; from dynapose.bench.training import _train_worker; "
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
    batch: int, size: int, steps: int, warmup: int, threads: int | None, clip_len: int,
    device: str = "auto", precision: str = "fp32", compile: bool = False, stem: str = "auto",
) -> dict[str, Any]:
    """Run the measurement in this process (see :func:`bench_train`)."""
    import torch  # in the measuring process itself, so its thread setting is its own

    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _measure(torch, batch, size, steps, warmup, clip_len, device, precision,
                        compile, stem)
    finally:
        torch.set_num_threads(previous_threads)


def _measure(
    torch: Any, batch: int, size: int, steps: int, warmup: int, clip_len: int,
    device: str = "auto", precision: str = "fp32", compile: bool = False, stem: str = "auto",
) -> dict[str, Any]:
    where = resolve_device(device)
    check_precision(precision, where)
    make_deterministic(where)  # as `dynapose train` runs on a GPU
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = SeedModel(clip_len=clip_len, input_size=size)
    if stem != "auto":
        model.fast = stem == "chunked"
        if stem == "chunked" and where.type != "cpu":
            raise ValueError("the chunked stem runs on the CPU only")
    model.to(where)
    optimizer = make_optimizer(model.parameters(), load_config("seed"))
    net = torch.compile(model) if compile else model
    clips = torch.randint(
        0, 256, (batch, clip_len, size, size, 3), dtype=torch.uint8, generator=gen
    ).to(where)
    joints = (torch.randn(batch, clip_len, 17, 3, generator=gen) * 300.0).to(where)

    def step() -> float:
        # Exactly what `dynapose train` runs per batch (the seed recipe's optimizer and loss).
        return float(train_step(net, optimizer, clips, joints, "mse", precision)[0])

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
    gpu = {}
    if where.type == "cuda":
        gpu = {"gpu_peak_mb": round(torch.cuda.max_memory_allocated(where) / 2**20, 1)}
    return {
        "model": "seed",
        **describe(where),
        "precision": precision,
        "compile": compile,
        "stem": "chunked" if model.fast and where.type == "cpu" else "plain",
        **gpu,
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


# --------------------------------------------------------------------------------------------
# bench memory: peak resident memory of a training epoch against store size
# --------------------------------------------------------------------------------------------
def _tree_rss_mb(root: int) -> float:
    """Resident memory (MB) of process `root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / 2**20


def _process_peak_rss_mb(pid: int) -> float | None:
    """The peak resident memory (VmHWM, MB) of a live process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def make_random_store(path: Path, clips: int, size: int = 224, seed: int = 0) -> Path:
    """A store of `clips` random clips (16 distinct ones, repeated) for memory benchmarks."""

    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (16, 8, size, size, 3), dtype=np.uint8)
    joints = rng.normal(0, 300, (16, 8, 17, 3)).astype(np.float32) + np.array(
        [0, 0, 4500], dtype=np.float32
    )
    with ClipStoreWriter(path, height=size, width=size, overwrite=True) as writer:
        for i in range(clips):
            writer.add(frames[i % 16], joints[i % 16], split="train", source="random")
    return path


def bench_memory(
    sizes: tuple[int, ...] = (500, 2000, 8000),
    size: int = 224,
    batch: int = 80,
    workers: int = 1,
    root: str | os.PathLike[str] | None = None,
    keep: bool = False,
) -> dict[str, Any]:
    """Peak resident memory of one training epoch of the seed model over stores of each size.

    Each epoch runs in a fresh ``dynapose train`` process; reported per size: ``peak_rss_mb``
    (the trainer process's own peak, its VmHWM) and ``peak_tree_rss_mb`` (trainer plus its
    data-loading workers, sampled from /proc every 0.1 s; shared pages count once per process).
    """

    base = Path(root) if root else Path(tempfile.mkdtemp(prefix="dynapose-bench-memory-"))
    base.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for n in sizes:
            store = make_random_store(base / f"store-{n}", n, size)
            run = base / f"run-{n}"
            shutil.rmtree(run, ignore_errors=True)
            cmd = [sys.executable, "-m", "dynapose", "train", "--data", str(store), "--out",
                   str(run), "--epochs", "1", "--batch-size", str(batch), "--workers",
                   str(workers), "--checkpoint-every", "0", "--input-size", str(size), "--quiet"]
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
            tree_peak, peak = 0.0, 0.0
            while proc.poll() is None:
                tree_peak = max(tree_peak, _tree_rss_mb(proc.pid))
                peak = max(peak, _process_peak_rss_mb(proc.pid) or 0.0)
                time.sleep(0.1)
            seconds = time.perf_counter() - start
            if proc.returncode != 0:
                raise RuntimeError(f"training on {store} failed (exit {proc.returncode})")
            rows.append({
                "clips": n,
                "store_gb": round(n * 8 * size * size * 3 / 1e9, 2),
                "peak_rss_mb": round(peak, 1),
                "peak_tree_rss_mb": round(tree_peak, 1),
                "epoch_s": round(seconds, 1),
                "clips_per_s": round(n / seconds, 1),
            })
            if not keep:
                shutil.rmtree(store, ignore_errors=True)
                shutil.rmtree(run, ignore_errors=True)
    finally:
        if not keep and root is None:
            shutil.rmtree(base, ignore_errors=True)
    return {"benchmark": "memory", "size": size, "batch": batch, "workers": workers,
            "results": rows}
