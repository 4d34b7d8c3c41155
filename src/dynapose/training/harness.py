"""The training harness both model families share: run folder state, metrics.csv, resume and
distributed processes.

A run folder holds ``state.safetensors`` (weights, optimiser, the epoch's running sums; replaced
atomically, always from CPU tensors) and ``metrics.csv``; :func:`distributed` joins torch's
process group when launched by torchrun (NCCL between GPUs, each process on
``cuda:LOCAL_RANK``; gloo between CPU processes). The loops themselves are
:mod:`dynapose.training.image` (the report's image model) and :mod:`dynapose.training.lift`
(the 2D->3D lifter).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from dynapose.config import LiftConfig, TrainConfig, changed_settings
from dynapose.device import make_deterministic, process_group_backend, rank_device
from dynapose.errors import DynaPoseError
from dynapose.io.atomic import atomic_path, atomic_write_text

#: The resumable snapshot in a run folder (weights, optimiser, the epoch's running sums).
STATE = "state.safetensors"
#: One row per epoch (or validation), columns chosen by each loop.
METRICS_CSV = "metrics.csv"
#: Every collective this process started from Python, kept referenced until it exits.
_ISSUED: list[dist.Work] = []


def _finish(work: dist.Work | None) -> None:
    """Wait for a collective and keep its handle (and so its tensors) for the process's life.

    Gloo's worker thread drops its own reference to a finished collective only after the waiter
    has resumed. Were that reference the last, the worker would free Python-owned tensors, which
    takes the GIL; in an interpreter that is already exiting this aborts the process ("terminate
    called without an active exception"), so a run that trained correctly would fail at exit.
    Holding every handle here makes the worker's reference never the last one.
    """
    if work is None:  # this process is not in the group
        return
    work.wait()
    _ISSUED.append(work)


_CPU = torch.device("cpu")


@dataclass(frozen=True)
class Dist:
    """This process's place among the training processes, and the device it trains on."""

    rank: int = 0
    world: int = 1
    device: torch.device = _CPU

    @property
    def main(self) -> bool:
        return self.rank == 0

    def all_sum(self, values: np.ndarray) -> np.ndarray:
        """Element-wise sum of a float64 vector over all processes."""
        if self.world == 1:
            return values
        t = torch.as_tensor(values, dtype=torch.float64, device=self.device)  # NCCL: on the GPU
        _finish(dist.all_reduce(t, async_op=True))
        return t.cpu().numpy().copy()

    def all_gather(self, values: list[float]) -> list[list[float]]:
        """Every process's float64 vector, in rank order (all of the same length)."""
        mine = torch.tensor(values, dtype=torch.float64, device=self.device)
        if self.world == 1:
            return [mine.tolist()]
        gathered = [torch.empty_like(mine) for _ in range(self.world)]
        _finish(dist.all_gather(gathered, mine, async_op=True))
        return [g.tolist() for g in gathered]


@contextmanager
def distributed(device: str = "cpu") -> Iterator[Dist]:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1) and choose this
    process's device from the spec `device` (:mod:`dynapose.device`): on CUDA each process
    takes ``cuda:LOCAL_RANK`` and the group talks over NCCL; on the CPU over gloo. Training on
    CUDA is made deterministic (:func:`dynapose.device.make_deterministic`)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    here = rank_device(device, int(os.environ.get("LOCAL_RANK", "0")), world)
    make_deterministic(here)
    if world <= 1:
        yield Dist(device=here)
        return
    if here.type == "cuda":
        torch.cuda.set_device(here)
    started = not dist.is_initialized()
    if started:
        dist.init_process_group(backend=process_group_backend(here))
    barrier: dict[str, Any] = {"device_ids": [here.index]} if here.type == "cuda" else {}
    try:
        yield Dist(rank=dist.get_rank(), world=dist.get_world_size(), device=here)
        if started:  # every process's files are written
            _finish(dist.barrier(async_op=True, **barrier))
    finally:
        if started:
            dist.destroy_process_group()


@contextmanager
def fresh_run(out: Path, resume: bool) -> Iterator[None]:
    """Guard a run folder: when a fresh run fails (an exception, not an interruption) before
    its first checkpoint, remove what it wrote (run.json, state, metrics), and the folder if
    the run made it, so bad input found mid-way leaves nothing behind. A resumed run, or one
    that has written a checkpoint, keeps everything: that progress is worth keeping."""
    existed = out.is_dir()
    before = set(out.iterdir()) if existed else set()
    try:
        yield
    except Exception:
        if not resume and out.is_dir() and not (out / "checkpoint").exists():
            for entry in set(out.iterdir()) - before:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
            if not existed and not any(out.iterdir()):
                out.rmdir()
        raise


def check_loss(loss: float, out: Path, epoch: int, step: int) -> None:
    """Stop a run whose loss is NaN or infinite (it diverged: nothing after it is worth
    saving), naming the step; the last snapshot on disk stays the last finite one."""
    if not math.isfinite(loss):
        raise DynaPoseError(f"training diverged: the loss is {loss} at epoch {epoch + 1}, step "
                            f"{step + 1} (try a lower lr)", out)
def data_parallel(model: nn.Module, d: Dist) -> nn.Module:
    """`model` (already on ``d.device``) wrapped for data-parallel training when there are
    several processes: gradients are averaged across them in the backward pass."""
    if d.world == 1:
        return model
    ids = [d.device.index] if d.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def check_resumable(saved: dict[str, Any], config: TrainConfig | LiftConfig,
                    out: Path) -> None:
    """Refuse to resume a run whose recipe was `saved` with another recipe (where and how it
    computes, :data:`dynapose.config.PLACEMENT_SETTINGS`, may change)."""
    changed = changed_settings(saved, config)
    if changed:
        raise DynaPoseError(f"cannot resume with changed settings: {', '.join(changed)}", out)


def epoch_batches(indices: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Global batches of clip indices for `epoch`: a seeded shuffle cut into `batch_size` pieces."""
    order = np.random.default_rng([seed, epoch]).permutation(np.asarray(indices))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def shard(batch: np.ndarray, rank: int, world: int) -> np.ndarray:
    """This process's contiguous share of a global batch (equal sizes; a remainder is dropped)."""
    per = len(batch) // world
    return batch[rank * per : (rank + 1) * per]


def save_state(
    path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, meta: dict[str, Any]
) -> None:
    # CPU tensors: the state loads on any machine, whatever device trained it
    tensors = {f"model.{k}": v.detach().cpu().contiguous()
               for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for pid, slots in opt["state"].items():
        for name, value in slots.items():
            tensors[f"optim.{pid}.{name}"] = torch.as_tensor(value).cpu().contiguous()
    meta = {**meta, "param_groups": opt["param_groups"]}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"dynapose": json.dumps(meta)})


def load_state(
    path: Path, model: nn.Module, optimizer: torch.optim.Optimizer
) -> dict[str, Any]:
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads(f.metadata()["dynapose"])
    except (SafetensorError, OSError, KeyError, ValueError) as exc:
        raise DynaPoseError(f"corrupt or truncated training state ({exc})", path) from exc
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta.pop("param_groups")})
    return meta


def open_run(out: Path, model: nn.Module, optimizer: torch.optim.Optimizer,
             config: TrainConfig | LiftConfig, resume: bool) -> dict[str, Any] | None:
    """Start or resume the run in folder `out`, the same way for every loop.

    Resume: load the snapshot into `model` and `optimizer` and return its meta (epoch, step,
    the epoch's running sums, history, ...), refusing a missing snapshot or a changed recipe
    (:func:`check_resumable`). Fresh: refuse a folder that already holds a run and return None
    (nothing is written yet).
    """
    state_file = out / STATE
    if resume:
        if not state_file.is_file():
            raise DynaPoseError(f"nothing to resume: no {STATE}", out)
        meta = load_state(state_file, model, optimizer)
        check_resumable(meta.get("config", {}), config, out)
        return meta
    if state_file.exists() or (out / "checkpoint").exists():
        raise DynaPoseError("run folder already holds a run (use --resume or a new --out)", out)
    return None


def write_run_info(out: Path, info: dict[str, Any]) -> None:
    """Create the run folder and write ``run.json`` (the settings and data of the run)."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "run.json", json.dumps(info, indent=2) + "\n")


def write_metrics_csv(path: Path, history: list[dict[str, Any]], columns: Sequence[str]) -> None:
    """Write the run's history as ``metrics.csv`` (atomically), `columns` in order; a missing or
    None value is an empty cell."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in history:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in columns})
    atomic_write_text(path, buf.getvalue())


def _params_checksum(model: nn.Module) -> list[float]:
    with torch.no_grad():
        flat = torch.cat([p.detach().reshape(-1).double() for p in model.parameters()])
        weights = torch.arange(1, flat.numel() + 1, dtype=torch.float64,
                               device=flat.device).remainder_(97)
        return [float(flat.sum()), float((flat * flat).sum()), float((flat * weights).sum())]


def _check_in_sync(model: nn.Module, d: Dist) -> list[list[float]]:
    """Checksums of every process's weights; raises if the processes diverged."""
    gathered = d.all_gather(_params_checksum(model))
    if any(g != gathered[0] for g in gathered):
        raise RuntimeError(f"training processes diverged: weight checksums {gathered}")
    return gathered
