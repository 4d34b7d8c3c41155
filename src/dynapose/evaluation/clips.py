"""Evaluation: every metric over a clip store, overall, per joint, per subject and per action.

Next to the model's numbers it reports the mean-pose baseline (always predicting the training
set's mean pose, kept in the checkpoint), so a result can be told apart from no learning at all.
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

import numpy as np
import torch

from dynapose import metrics
from dynapose.data.dataset import ClipDataset, batch_loader
from dynapose.data.store import ClipStore
from dynapose.device import loader_settings, out_of_memory, resolve_device, to_device
from dynapose.errors import DynaPoseError
from dynapose.evaluation.report import CLIP_METRICS, report_header
from dynapose.io.checkpoint import load_checkpoint
from dynapose.skeleton import JOINT_NAMES, in_target_frame


def default_split(store: ClipStore) -> str | None:
    """The split evaluated when none is named: test if the store has one, else val, else all."""
    splits = set(store.meta_columns.get("split", []))
    for split in ("test", "val"):
        if split in splits:
            return split
    return None


def _per_clip(pred: np.ndarray, target: np.ndarray) -> dict[str, np.ndarray]:
    """Each metric for each clip of a batch: (B, T, 17, 3) -> {metric: (B,)}."""
    values = metrics.compute_all(pred, target, per_sample=True)
    return {name: np.asarray(values[name]) for name in CLIP_METRICS}


def evaluate(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    split: str | None = "auto",
    batch_size: int = 32,
    workers: int = -1,
    limit: int | None = None,
    device: str = "auto",
) -> dict[str, Any]:
    """Evaluate the model at `checkpoint` on the clips of `split` in the store `data`, on
    `device` (auto, cpu, cuda, cuda:N), `workers` loader processes (-1: sized to the device).

    Returns a JSON-able report: ``overall`` (every metric), ``baseline`` (the mean-pose
    predictor's metrics), ``targets`` (the frame the model predicts, "camera" or "root"; the
    ground truth is compared in that frame, :func:`dynapose.skeleton.in_target_frame`),
    ``per_joint`` (MPJPE and protocol 1, mm), ``per_subject`` and ``per_action`` (all metrics,
    where the store records them), and what was evaluated.
    """
    where = resolve_device(device)
    model, config = load_checkpoint(checkpoint)
    model.to(where)
    store = ClipStore(data)
    size = config["model"].get("config", {}).get("input_size")
    if size is not None and (store.height, store.width) != (size, size):
        raise DynaPoseError(
            f"store clips are {store.height}x{store.width}, the checkpoint's model expects "
            f"{size}x{size}",
            data,
        )
    if split == "auto":
        split = default_split(store)
    indices = store.indices(split)
    if limit is not None:
        indices = indices[:limit]
    if len(indices) == 0:
        raise DynaPoseError(f"no clips in split {split!r}", data)
    store.check_finite(indices)
    mean_pose = config.get("info", {}).get("mean_pose")
    frame = config.get("info", {}).get("targets", "camera")  # what the model predicts

    rows: dict[str, list[np.ndarray]] = defaultdict(list)
    joint_err: list[np.ndarray] = []
    joint_err_p1: list[np.ndarray] = []
    batches = [indices[i : i + batch_size] for i in range(0, len(indices), batch_size)]
    workers, pin = loader_settings(where, workers)
    loader = batch_loader(ClipDataset(store), batches, workers, pin_memory=pin)
    with torch.no_grad(), out_of_memory(where, "evaluating the model", batch_size):
        for frames, joints, _ in loader:
            pred = model(to_device(frames, where)).cpu().numpy()
            if not np.isfinite(pred).all():  # the metrics would fail or mislead
                raise DynaPoseError("the model returns NaN or infinite joints", checkpoint)
            target = in_target_frame(joints.numpy(), frame)
            for name, values in _per_clip(pred, target).items():
                rows[name].append(values)
            joint_err.append(np.linalg.norm(pred - target, axis=-1).mean(axis=1))
            rel = (pred - pred[..., :1, :]) - (target - target[..., :1, :])
            joint_err_p1.append(np.linalg.norm(rel, axis=-1).mean(axis=1))
            if mean_pose is not None:
                base = np.broadcast_to(np.asarray(mean_pose, dtype=np.float32), target.shape)
                for name, values in _per_clip(base, target).items():
                    rows[f"baseline_{name}"].append(values)
    per_clip = {k: np.concatenate(v) for k, v in rows.items()}
    errors = np.concatenate(joint_err)
    errors_p1 = np.concatenate(joint_err_p1)

    def summary(mask: np.ndarray, prefix: str = "") -> dict[str, float]:
        return {m: float(per_clip[prefix + m][mask].mean()) for m in CLIP_METRICS}

    everything = np.ones(len(indices), dtype=bool)
    report: dict[str, Any] = {
        **report_header("image"),
        "checkpoint": str(checkpoint),
        "data": str(data),
        "split": split,
        "clips": len(indices),
        "frames": len(indices) * store.clip_len,
        "model": config["model"],
        "targets": frame,
        "overall": summary(everything),
        "baseline": summary(everything, "baseline_") if mean_pose is not None else None,
        "per_joint": {
            name: {"mpjpe": float(errors[:, j].mean()), "mpjpe_p1": float(errors_p1[:, j].mean())}
            for j, name in enumerate(JOINT_NAMES)
        },
    }
    for column in ("subject", "action"):
        labels = store.column(column)[indices] if column in store.meta_columns else None
        if labels is None or all(v in ("", None) for v in labels):
            continue
        report[f"per_{column}"] = {
            str(v): {**summary(labels == v), "clips": int((labels == v).sum())}
            for v in sorted(set(labels))
        }
    return report
