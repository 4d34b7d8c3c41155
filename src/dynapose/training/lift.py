"""Training 2D -> 3D lifters (:mod:`dynapose.models.lifter`) on 3D motion, projected on the fly.

Read top to bottom: :func:`load_motion` reads world-frame 3D motion (VideoPose3D npz, a pose
store, or DynaPose's procedural motion) with the cameras that filmed it; :func:`make_batch` cuts
random windows, optionally turns each person about the vertical axis and scales their bones
(per bone, left and right alike, and overall: unseen bodies are what held-out subjects are),
picks a camera, optionally mirrors the person (x -> -x in the camera frame, left/right joints
swapped), and *projects* the 3D through the camera (Brown-Conrady distortion, as Human3.6M) to
get the 2D input, with 2D Gaussian noise and joint-definition jitter (a constant 3D offset per
joint and window applied to the input only). Optionally each body part is first turned about
its parent, fixed in the torso's frame over the window (``posture_deg``,
:func:`turn_body_parts`). Targets are root-relative camera-frame joints (mm) of the window's
centre frame (last frame when causal). With ``detections`` (the field's protocol), a share of
the windows takes its 2D from a detector's keypoints instead
(:mod:`dynapose.training.lift_detections`). A batch is a pure function of (seed, epoch, step),
so a resumed run replays exactly the batches it would have seen.

:func:`train_lifter` runs Adam (AMSGrad, as VideoPose3D) on the MPJPE loss with a per-step
learning-rate schedule and a decaying BatchNorm momentum, optionally under bfloat16 autocast
(``precision: bf16``, :func:`train_step`), writes ``metrics.csv`` each epoch and a
resumable ``state.safetensors`` every ``checkpoint_every`` steps
(:func:`dynapose.training.harness.save_state`). On a GPU (``device``) the batches are made there
too, from motion and cameras held in GPU memory, and the loop waits for the GPU only every
:data:`SYNC_EVERY` steps (progress, snapshots, epoch ends).

Run folder::

    RUN/run.json          the LiftConfig and the data it trained on
    RUN/metrics.csv       one row per epoch
    RUN/checkpoint/       the latest weights (safetensors + config.json)
    RUN/state.safetensors the resumable snapshot
    RUN/eval.json         the full protocol evaluation (``--evaluate``), see lift_eval
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from tqdm import tqdm

from dynapose import metrics
from dynapose.config import LiftConfig
from dynapose.data.detections import left_out_record, load_detections
from dynapose.data.lift_motion import MotionData, load_motion
from dynapose.device import (
    autocast,
    check_precision,
    make_deterministic,
    out_of_memory,
    resolve_device,
    resolve_precision,
)
from dynapose.errors import DynaPoseError
from dynapose.io.checkpoint import save_checkpoint
from dynapose.models import build_model
from dynapose.models.lifter import TemporalLifter
from dynapose.training.harness import (
    METRICS_CSV,
    STATE,
    check_loss,
    fresh_run,
    open_run,
    save_state,
    write_metrics_csv,
    write_run_info,
)
from dynapose.training.lift_batch import camera_tensors, motion_tensor, sample_windows
from dynapose.training.lift_detections import (
    DetectedInputs,
    detected_cameras,
    detected_inputs,
    training_batch,
)

#: Steps between waits for the device (the progress bar's loss; snapshots and epoch ends wait
#: too): in between, the CPU queues the next batches while the GPU computes.
SYNC_EVERY = 25

CSV_COLUMNS = ("epoch", "step", "samples", "seconds", "lr", "train_mpjpe_p1", "val_mpjpe_p1",
               "val_p_mpjpe")


def lr_at(step: int, total: int, config: LiftConfig) -> float:
    """Learning rate of optimizer step `step` (0-based) of `total`: warm-up, then exponential or
    cosine decay from ``lr`` to ``lr_end``."""
    warm = int(config.warmup * total)
    if step < warm:
        return config.lr * (step + 1) / warm
    u = (step - warm) / max(total - warm - 1, 1)
    if config.schedule == "cosine":
        return config.lr_end + 0.5 * (config.lr - config.lr_end) * (1 + math.cos(math.pi * u))
    return config.lr * (config.lr_end / config.lr) ** u


def bn_momentum_at(step: int, total: int, config: LiftConfig) -> float:
    u = step / max(total - 1, 1)
    return config.bn_momentum * (config.bn_momentum_end / config.bn_momentum) ** u


@torch.no_grad()
def validate_windows(model: TemporalLifter, motion: MotionData, config: LiftConfig,
                     batch: int = 2048, detected: DetectedInputs | None = None
                     ) -> dict[str, float]:
    """Protocol 1 and 2 (mm) on `config.val_windows` fixed random windows of `motion`, their 2D
    projected or, with `detected`, the detector's."""
    if motion.num_frames == 0 or config.val_windows == 0:
        return {}
    model.eval()
    device = next(model.parameters()).device
    rng = np.random.default_rng([config.seed, 999_983])
    frame, seq, cam = sample_windows(motion, config.val_windows, rng)
    cams = camera_tensors(motion.cameras, device)
    world = motion_tensor(motion, device)
    p1, p2 = [], []
    for i in range(0, len(frame), batch):
        sl = slice(i, i + batch)
        inputs, target, conf = training_batch(motion, cams, frame[sl], seq[sl], cam[sl], config,
                                              rng, detected=detected, augment=False, world=world)
        pred, target = model(inputs, conf).cpu(), target.cpu()
        p1.append(metrics.mpjpe_p1(pred, target, reduce=False).mean(-1))
        p2.append(torch.as_tensor(metrics.p_mpjpe(pred.double().numpy(),
                                                  target.double().numpy(), reduce=False)).mean(-1))
    return {"val_mpjpe_p1": float(torch.cat(p1).mean()),
            "val_p_mpjpe": float(torch.cat(p2).mean())}


def make_optimizer(model: torch.nn.Module, config: LiftConfig) -> torch.optim.Adam:
    """Adam (AMSGrad unless ``amsgrad: false``), fused: one kernel for all parameters."""
    return torch.optim.Adam(model.parameters(), lr=config.lr, amsgrad=config.amsgrad, fused=True)


def train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, inputs: torch.Tensor,
               target: torch.Tensor, precision: str = "fp32",
               confidences: torch.Tensor | None = None) -> float:
    """One optimizer step on the MPJPE (mm) of `model(inputs)` against `target`; returns it.

    ``precision="bf16"`` runs the forward (hence the backward) under bfloat16 autocast, the
    weights and the update staying float32: faster on CPUs, with the same error after the same
    samples (docs/results.md).
    """
    return float(queue_step(model, optimizer, inputs, target, precision, confidences))


def queue_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, inputs: torch.Tensor,
               target: torch.Tensor, precision: str = "fp32",
               confidences: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`train_step` without waiting for the device: returns the loss as a 0-d tensor
    (on a GPU, possibly not computed yet)."""
    model.train()
    optimizer.zero_grad(set_to_none=True)
    with autocast(inputs.device, precision):
        pred = model(inputs, confidences)
    loss = metrics.mpjpe(pred.float(), target)
    loss.backward()
    optimizer.step()
    return loss.detach()


def train_lifter(data: str | os.PathLike[str], out: str | os.PathLike[str], config: LiftConfig,
                 *, resume: bool = False, progress: bool = True,
                 max_steps: int | None = None,
                 detections: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Train a lifter on the motion `data` (see :func:`load_motion`), writing the run folder `out`.

    `detections`: a detector's 2D of `data`'s sequences (a 3d-pose-baseline folder or a
    VideoPose3D 2D npz, :func:`~dynapose.data.detections.load_detections`) as the input of
    ``config.detection_share`` of the windows, and of validation
    (:mod:`dynapose.training.lift_detections`).

    `max_steps` stops early (for tests of resuming: the run is left as if interrupted).
    Returns a summary: history, checkpoint and run paths, steps, seconds, samples_per_s,
    val_frames (0 when the data holds none of the validation subjects: nothing was validated).
    """
    config.validate()
    out = Path(out)
    device = resolve_device(config.device)
    check_precision(config.precision, device)
    make_deterministic(device)
    with fresh_run(out, resume), out_of_memory(device, "training the lifter", config.batch_size):
        return _train_lifter(data, out, config, device, resume=resume, progress=progress,
                             max_steps=max_steps, detections=detections)


def _train_lifter(data: str | os.PathLike[str], out: Path, config: LiftConfig,
                  device: torch.device, *, resume: bool, progress: bool,
                  max_steps: int | None,
                  detections: str | os.PathLike[str] | None) -> dict[str, Any]:
    torch.set_num_threads(config.threads or os.cpu_count() or 1)
    train_motion = load_motion(data, config.train_subjects, seed=config.seed)
    if train_motion.num_frames == 0:
        raise DynaPoseError(f"no motion for training subjects {config.train_subjects}", data)
    val_motion = (load_motion(data, config.val_subjects, seed=config.seed)
                  if config.val_subjects else None)
    if progress and val_motion is not None and not val_motion.num_frames:
        tqdm.write(f"no frames of {', '.join(config.val_subjects)} in {os.fspath(data)}: "
                   "training without validation")
    detected = val_detected = None
    left_out: list[tuple[str, str, str]] = []
    if detections is not None:
        # a camera without detections of a sequence is left out of it (windows are drawn from
        # each sequence's camera list), one line each, counted in run.json
        found = load_detections(detections, train_motion.subjects())
        train_motion, missing = detected_cameras(train_motion, found)
        left_out += missing
        val_found = None
        if val_motion is not None and val_motion.num_frames:
            val_found = load_detections(detections, val_motion.subjects())
            val_motion, missing = detected_cameras(val_motion, val_found)
            left_out += missing
        for subject, action, camera in left_out:
            tqdm.write(found.left_out(subject, action, camera))
        detected = detected_inputs(train_motion, found)
        if val_motion is not None and val_found is not None:
            val_detected = detected_inputs(val_motion, val_found)
    precision = resolve_precision(config.precision, device)
    torch.manual_seed(config.seed)
    model = build_model("lifter", **config.model_config())
    assert isinstance(model, TemporalLifter)
    model.to(device)
    optimizer = make_optimizer(model, config)
    state_file = out / STATE
    history: list[dict[str, Any]] = []
    start_epoch, start_step, sums = 0, 0, [0.0, 0.0]
    meta = open_run(out, model, optimizer, config, resume)
    if meta is not None:
        start_epoch, start_step = meta["epoch"], meta["step"]
        sums, history = meta["sums"], meta["history"]
        _check_same_input(out, detections)
    else:
        write_run_info(out, {"config": config.to_dict(), "data": os.fspath(data),
                             "detections": None if detections is None else os.fspath(detections),
                             **({} if detections is None else
                                {"detections_left_out": left_out_record(left_out)}),
                             "precision": precision,
                             "train_frames": train_motion.num_frames,
                             "val_frames": 0 if val_motion is None else val_motion.num_frames})

    cams = camera_tensors(train_motion.cameras, device)
    world = motion_tensor(train_motion, device)
    if detected is not None:
        detected = detected.to(device)
    if val_detected is not None:
        val_detected = val_detected.to(device)
    net = cast(torch.nn.Module, torch.compile(model)) if config.compile else model
    steps_per_epoch = config.samples_per_epoch // config.batch_size
    total = steps_per_epoch * config.epochs
    started = time.perf_counter()
    steps_done = 0
    stopped = False
    losses = _Losses(sums, out)
    for epoch in range(start_epoch, config.epochs):
        bar = tqdm(total=steps_per_epoch, initial=start_step, unit="batch",
                   desc=f"epoch {epoch + 1}/{config.epochs}", disable=not progress,
                   dynamic_ncols=True)
        epoch_start = time.perf_counter()
        losses.resume()
        for step in range(start_step, steps_per_epoch):
            if max_steps is not None and steps_done >= max_steps:
                stopped = True
                break
            g = epoch * steps_per_epoch + step
            rng = np.random.default_rng([config.seed, epoch, step])
            frame, seq, cam = sample_windows(train_motion, config.batch_size, rng)
            inputs, target, conf = training_batch(train_motion, cams, frame, seq, cam, config,
                                                  rng, detected=detected,
                                                  share=config.detection_share, world=world)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(g, total, config)
            model.set_bn_momentum(bn_momentum_at(g, total, config))
            torch.manual_seed(config.seed * 1_000_003 + g)  # dropout: replayable on resume
            losses.add(queue_step(net, optimizer, inputs, target, precision, conf), len(frame),
                       (epoch, step))
            steps_done += 1
            bar.update(1)
            snapshot = (config.checkpoint_every and (step + 1) % config.checkpoint_every == 0
                        and step + 1 < steps_per_epoch)
            if snapshot or (step + 1) % SYNC_EVERY == 0:
                value = losses.fold()
                bar.set_postfix(mpjpe=f"{value:.1f}", lr=f"{lr_at(g, total, config):.2g}")
                if snapshot:
                    save_state(state_file, model, optimizer,
                               _meta(epoch, step + 1, losses.sums, history, config))
                losses.resume()
        losses.fold()
        bar.close()
        if stopped:
            save_state(state_file, model, optimizer,
                       _meta(epoch, step, losses.sums, history, config))
            break
        row: dict[str, Any] = {
            "epoch": epoch + 1, "step": (epoch + 1) * steps_per_epoch,
            "samples": (epoch + 1) * steps_per_epoch * config.batch_size,
            "seconds": round(time.perf_counter() - epoch_start, 2),
            "lr": lr_at((epoch + 1) * steps_per_epoch - 1, total, config),
            "train_mpjpe_p1": losses.sums[0] / max(losses.sums[1], 1),
        }
        if val_motion is not None and val_motion.num_frames:
            row.update(validate_windows(model, val_motion, config, detected=val_detected))
        history.append(row)
        start_step, losses.sums = 0, [0.0, 0.0]
        write_metrics_csv(out / METRICS_CSV, history, CSV_COLUMNS)
        save_checkpoint(out / "checkpoint", model, {
            "epoch": epoch + 1, "metrics": row, "lift_config": config.to_dict(),
            "data": os.fspath(data), "input": "normalised 2D (x/w*2-1, y/w*2-h/w)",
            "detections": None if detected is None else detected.detector,
            "output": "root-relative camera-frame joints, mm"})
        save_state(state_file, model, optimizer,
                   _meta(epoch + 1, 0, losses.sums, history, config))
        tqdm.write(f"epoch {epoch + 1}/{config.epochs}: train P1 {row['train_mpjpe_p1']:.1f} mm"
                   + (f", val P1 {row['val_mpjpe_p1']:.1f} P2 {row['val_p_mpjpe']:.1f} mm"
                      if "val_mpjpe_p1" in row else "")
                   + f" ({row['seconds']:.0f} s)")
    elapsed = time.perf_counter() - started
    return {
        "history": history, "checkpoint": str(out / "checkpoint"), "run": str(out),
        "steps": steps_done, "seconds": elapsed, "finished": not stopped,
        "samples_per_s": (steps_done * config.batch_size / losses.seconds if losses.seconds
                          else 0.0),
        "device": str(device), "precision": precision,
        "val_frames": 0 if val_motion is None else val_motion.num_frames,
        "detections_left_out": len(left_out),
    }


def _check_same_input(out: Path, detections: str | os.PathLike[str] | None) -> None:
    """Refuse to resume a run on another 2D input than it began with (detections or not)."""
    info = out / "run.json"
    began = json.loads(info.read_text()).get("detections") if info.is_file() else None
    if (began is None) != (detections is None):
        raise DynaPoseError("this run began " + (f"on the detections {began}: resume with "
                                                 f"--detections {began}" if began else
                                                 "on projected 2D: resume without --detections"),
                            out)


class _Losses:
    """The losses of steps queued on the device, added to the epoch's running sums (``sums``:
    loss x samples, samples) when the loop waits for them (:meth:`fold`), in step order: the
    same sums as waiting at every step. ``seconds`` counts the time spent training (from
    :meth:`resume` to :meth:`fold`), not writing snapshots."""

    def __init__(self, sums: list[float], out: Path) -> None:
        self.sums = sums
        self.out = out  # named when a loss is not finite
        self.pending: list[tuple[torch.Tensor, int, tuple[int, int]]] = []
        self.seconds = 0.0
        self._since: float | None = None

    def resume(self) -> None:
        self._since = time.perf_counter()

    def add(self, loss: torch.Tensor, samples: int, at: tuple[int, int] = (0, 0)) -> None:
        """Queue the loss of the step `at` (epoch, step; both 0-based)."""
        self.pending.append((loss, samples, at))

    def fold(self) -> float:
        """Wait for the queued steps and add them to the sums; the last step's loss (NaN when
        none was queued)."""
        values = torch.stack([v for v, _, _ in self.pending]).tolist() if self.pending else []
        for value, (_, n, at) in zip(values, self.pending, strict=True):
            check_loss(value, self.out, *at)  # before any snapshot holds the diverged weights
            self.sums = [self.sums[0] + value * n, self.sums[1] + n]
        self.pending.clear()
        if self._since is not None:
            self.seconds += time.perf_counter() - self._since
            self._since = None
        return values[-1] if values else math.nan


def _meta(epoch: int, step: int, sums: list[float], history: list[dict[str, Any]],
          config: LiftConfig) -> dict[str, Any]:
    return {"epoch": epoch, "step": step, "sums": sums, "history": history,
            "config": config.to_dict()}
