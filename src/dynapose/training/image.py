"""Training: one loop for every model, resumable, single- or multi-process.

Read top to bottom: :func:`train` opens the store, builds the model and optimizer, then runs
epochs of shuffled batches; each epoch ends with validation, a row in ``metrics.csv``, redrawn
figures and a checkpoint. A resumable snapshot (``state.safetensors``: weights, optimizer, epoch,
step and the epoch's running sums) is written atomically every ``checkpoint_every`` steps, so a
run killed at any moment continues with ``resume=True`` and ends with the same weights as a run
that was never interrupted (the batch order is a pure function of seed and epoch).

Multi-process data parallelism uses torch's own engine: launched by ``torchrun`` (or
``dynapose train --nproc N``), each process trains on its share of every global batch through
``DistributedDataParallel`` (NCCL between GPUs, gloo between CPU processes), and the processes
check at each epoch end that their weights are bit-identical.

``device`` (``auto``: a GPU when there is one) says where the model trains; batches stream from
the store through loader workers into pinned memory and are copied to the GPU asynchronously.
``precision: bf16`` runs the forward and backward under bfloat16 autocast.

Run folder::

    RUN/run.json           the merged TrainConfig and the data it trained on
    RUN/metrics.csv        one row per epoch (train and validation metrics)
    RUN/loss.png, mpjpe.png, pck3d.png   the report's figures, redrawn every epoch
    RUN/checkpoint/        the latest weights (safetensors + config.json)
    RUN/state.safetensors  the resumable snapshot
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from dynapose import metrics
from dynapose.config import TrainConfig
from dynapose.data.dataset import ClipDataset, batch_loader
from dynapose.data.store import ClipStore
from dynapose.device import autocast, check_precision, loader_settings, out_of_memory, to_device
from dynapose.errors import DynaPoseError
from dynapose.io.checkpoint import save_checkpoint
from dynapose.models import build_model
from dynapose.skeleton import in_target_frame
from dynapose.training.harness import (
    METRICS_CSV,
    STATE,
    Dist,
    _check_in_sync,
    check_loss,
    data_parallel,
    distributed,
    epoch_batches,
    fresh_run,
    open_run,
    save_state,
    shard,
    write_metrics_csv,
    write_run_info,
)
from dynapose.training.keras_adam import KerasAdam
from dynapose.viz.plots import plot_training_curves

#: Metrics tracked per epoch, for the training batches and the validation set.
TRACKED = ("loss", "mpjpe", "mpjpe_p1", "p_mpjpe", "pck3d")


CSV_COLUMNS = ("epoch", *(f"{split}_{m}" for m in TRACKED for split in ("train", "val")))


def make_optimizer(params: Any, config: TrainConfig) -> torch.optim.Optimizer:
    """The configured Adam: Keras' formulation (``keras-adam``, the report's, epsilon outside the
    bias correction) or torch's (``adam``, which also takes weight decay)."""
    betas = (config.beta1, config.beta2)
    if config.optimizer == "keras-adam":
        if config.weight_decay:
            raise DynaPoseError("keras-adam has no weight decay; use optimizer: adam")
        return KerasAdam(params, lr=config.lr, betas=betas, eps=config.eps)
    return torch.optim.Adam(params, lr=config.lr, betas=betas, eps=config.eps,
                            weight_decay=config.weight_decay)


def loss_fn(pred: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """'mse': mean squared error over all elements (mm^2), as Keras; 'mpjpe': mean joint error."""
    if kind == "mse":
        return torch.mean((pred - target) ** 2)
    return metrics.mpjpe(pred, target)


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    frames: torch.Tensor,
    joints: torch.Tensor,
    loss: str = "mse",
    precision: str = "fp32",
) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimizer step on a batch. Returns (loss, detached prediction (B, T, 17, 3) mm).

    ``precision="bf16"``: the forward (hence the backward) under bfloat16 autocast; the loss,
    the weights and their update stay float32."""
    model.train()
    optimizer.zero_grad(set_to_none=True)
    with autocast(frames.device, precision):
        pred = model(frames)
    pred = pred.float()
    value = loss_fn(pred, joints, loss)
    value.backward()
    optimizer.step()
    return value.detach(), pred.detach()


class Sums:
    """Running sums of the tracked metrics over clips, for epoch averages across processes."""

    def __init__(self, values: np.ndarray | None = None) -> None:
        self.values = np.zeros(len(TRACKED) + 1) if values is None else np.asarray(values, float)

    def add(self, loss: float, pred: torch.Tensor, target: torch.Tensor) -> None:
        n = pred.shape[0]
        m = metrics.compute_all(pred, target)
        row = [loss, *(m[k] for k in TRACKED[1:])]
        self.values[:-1] += np.asarray(row, dtype=float) * n
        self.values[-1] += n

    def means(self, d: Dist) -> dict[str, float]:
        total = d.all_sum(self.values.copy())
        if total[-1] == 0:
            return {}
        return {k: float(v / total[-1]) for k, v in zip(TRACKED, total[:-1], strict=True)}


@torch.no_grad()
def validate(
    model: nn.Module, dataset: ClipDataset, indices: np.ndarray, config: TrainConfig, d: Dist
) -> dict[str, float]:
    """Mean loss and metrics over the clips `indices` (shared out among the processes)."""
    model.eval()
    sums = Sums()
    mine = indices[d.rank :: d.world]
    batches = [mine[i : i + config.batch_size] for i in range(0, len(mine), config.batch_size)]
    workers, pin = loader_settings(d.device, config.workers, d.world)
    for frames, joints, _ in batch_loader(dataset, batches, workers, pin_memory=pin):
        frames, joints = to_device(frames, d.device), to_device(joints, d.device)
        joints = in_target_frame(joints, config.targets)
        with autocast(d.device, config.precision):
            pred = model(frames).float()
        sums.add(float(loss_fn(pred, joints, config.loss)), pred, joints)
    return sums.means(d)


def target_statistics(store: ClipStore, indices: np.ndarray, frame: str = "camera"
                      ) -> tuple[np.ndarray, float]:
    """Mean pose (17, 3) mm over the frames of the clips `indices` (joints in the target `frame`,
    see :func:`dynapose.skeleton.in_target_frame`), and the targets' spread: the
    root-mean-square distance (mm) of a coordinate from its mean-pose value."""
    total = np.zeros((17, 3))
    total_sq = np.zeros((17, 3))
    for joints in store.iter_joints3d(indices):
        joints = in_target_frame(joints, frame)
        total += joints.mean(axis=0)
        total_sq += (joints.astype(np.float64) ** 2).mean(axis=0)
    n = max(len(indices), 1)
    mean = total / n
    spread = float(np.sqrt(max(float(np.mean(total_sq / n - mean**2)), 0.0)))
    return mean.astype(np.float32), spread


def train(
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    config: TrainConfig,
    *,
    resume: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Train `config.model` on the clip store `data`, writing the run folder `out`.

    Returns a summary: the metrics history, the final checkpoint path and the run's timing.
    """
    config.validate()
    out = Path(out)
    with distributed(config.device) as d, fresh_run(out, resume or not d.main):
        check_precision(config.precision, d.device)
        with out_of_memory(d.device, f"training {config.model}", config.batch_size):
            return _train(Path(data), out, config, d, resume=resume, progress=progress)


def _train(
    data: Path, out: Path, config: TrainConfig, d: Dist, *, resume: bool, progress: bool
) -> dict[str, Any]:
    threads = config.threads or max(1, (os.cpu_count() or 1) // d.world)
    torch.set_num_threads(threads)
    store = ClipStore(data)
    train_idx = store.indices(config.train_split)
    val_idx = store.indices(config.val_split)
    if len(train_idx) < d.world:
        raise DynaPoseError(
            f"no training clips in split {config.train_split!r} ({len(train_idx)} found)", data
        )
    store.check_finite(np.concatenate([train_idx, val_idx]))  # before anything is written
    torch.manual_seed(config.seed)
    model = build_model(config.model, **config.model_config)
    size = getattr(model, "input_size", None)
    if size is not None and (store.height, store.width) != (size, size):
        raise DynaPoseError(
            f"store clips are {store.height}x{store.width} but model {config.model} expects "
            f"{size}x{size} (set model_config.input_size or use another store)",
            data,
        )
    model.to(d.device)
    optimizer = make_optimizer(model.parameters(), config)
    state_file = out / STATE
    history: list[dict[str, Any]] = []
    start_epoch, start_step, sums = 0, 0, Sums()
    meta = open_run(out, model, optimizer, config, resume)
    if meta is not None:
        start_epoch, start_step = meta["epoch"], meta["step"]
        sums, history = Sums(meta["sums"]), meta["history"]
        pose = np.asarray(meta["mean_pose"], dtype=np.float32)
    else:
        pose, spread = target_statistics(store, train_idx, config.targets)
        if config.normalize_targets and hasattr(model, "pose_offset"):
            with torch.no_grad():
                model.pose_offset.copy_(torch.from_numpy(pose))  # type: ignore[operator]
                model.pose_scale.fill_(max(spread, 1.0))  # type: ignore[operator]
    if d.main:
        write_run_info(out, {"config": config.to_dict(), "data": str(data.resolve()),
                             "world_size": d.world})

    net = data_parallel(model, d)
    if config.compile:
        net = cast(nn.Module, torch.compile(net))
    dataset = ClipDataset(store)
    workers, pin = loader_settings(d.device, config.workers, d.world)
    steps_done = 0
    started = time.perf_counter()
    checksums: list[list[float]] = []
    for epoch in range(start_epoch, config.epochs):
        batches = epoch_batches(train_idx, config.batch_size, config.seed, epoch)
        batches = [b for b in batches if len(b) >= d.world]
        mine = [shard(b, d.rank, d.world) for b in batches[start_step:]]
        bar = tqdm(total=len(batches), initial=start_step, unit="batch",
                   desc=f"epoch {epoch + 1}/{config.epochs}",
                   disable=not (progress and d.main), dynamic_ncols=True)
        step = start_step
        for frames, joints, _ in batch_loader(dataset, mine, workers, pin_memory=pin):
            frames, joints = to_device(frames, d.device), to_device(joints, d.device)
            joints = in_target_frame(joints, config.targets)
            loss, pred = train_step(net, optimizer, frames, joints, config.loss,
                                    config.precision)
            check_loss(float(loss), out, epoch, step)
            sums.add(float(loss), pred, joints)
            step += 1
            steps_done += 1
            bar.update(1)
            bar.set_postfix(loss=f"{float(loss):.4g}", mpjpe=f"{metrics.mpjpe(pred, joints):.1f}")
            if config.checkpoint_every and step % config.checkpoint_every == 0 and step < len(
                batches
            ):
                if d.main:
                    save_state(state_file, model, optimizer, _meta(epoch, step, sums, history,
                                                                   pose, config))
        bar.close()
        row: dict[str, Any] = {"epoch": epoch + 1}
        row.update({f"train_{k}": v for k, v in sums.means(d).items()})
        if len(val_idx):
            row.update({f"val_{k}": v for k, v in validate(model, dataset, val_idx, config,
                                                            d).items()})
        history.append(row)
        checksums = _check_in_sync(model, d)
        start_step, sums = 0, Sums()
        if d.main:
            _end_of_epoch(out, model, optimizer, history, pose, config, checksums, store)
            save_state(state_file, model, optimizer, _meta(epoch + 1, 0, sums, history, pose,
                                                           config))
            _print_epoch(row, config)
    elapsed = time.perf_counter() - started
    if not checksums:
        checksums = _check_in_sync(model, d)
    return {
        "history": history,
        "checkpoint": str(out / "checkpoint"),
        "run": str(out),
        "steps": steps_done,
        "seconds": elapsed,
        "world_size": d.world,
        "rank_checksums": checksums,
    }


def _meta(epoch: int, step: int, sums: Sums, history: list[dict[str, Any]], pose: np.ndarray,
          config: TrainConfig) -> dict[str, Any]:
    return {"epoch": epoch, "step": step, "sums": sums.values.tolist(), "history": history,
            "mean_pose": pose.tolist(), "config": config.to_dict()}


def _end_of_epoch(out: Path, model: nn.Module, optimizer: torch.optim.Optimizer,
                  history: list[dict[str, Any]], pose: np.ndarray, config: TrainConfig,
                  checksums: list[list[float]], store: ClipStore) -> None:

    write_metrics_csv(out / METRICS_CSV, history, CSV_COLUMNS)
    plot_training_curves(history, out)
    info = {
        "epoch": history[-1]["epoch"],
        "metrics": history[-1],
        "mean_pose": pose.tolist(),
        "targets": config.targets,
        "train_config": config.to_dict(),
        "data": str(store.path.resolve()),
        "world_size": len(checksums),
        "rank_checksums": checksums,
    }
    save_checkpoint(out / "checkpoint", model, info)


def _print_epoch(row: dict[str, Any], config: TrainConfig) -> None:
    def fmt(key: str) -> str:
        v = row.get(key)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-"
        return f"{100 * v:.1f}" if key.endswith("pck3d") else f"{v:.1f}"

    tqdm.write(
        f"epoch {row['epoch']}/{config.epochs}: loss {fmt('train_loss')} / {fmt('val_loss')}  "
        f"MPJPE {fmt('train_mpjpe')} / {fmt('val_mpjpe')} mm  "
        f"P-MPJPE {fmt('train_p_mpjpe')} / {fmt('val_p_mpjpe')} mm  "
        f"PCK3D {fmt('train_pck3d')} / {fmt('val_pck3d')} %  (train / val)"
    )
