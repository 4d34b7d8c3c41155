"""Lifters at work: the field's evaluation protocol, lifting keypoint files, and the benchmark.

:func:`evaluate_lifter` follows VideoPose3D's protocol: every frame of every camera of the held-out
subjects is lifted (whole sequences through the dilated network, edges padded by repetition;
optionally averaged with the mirrored input, "test-time flip"), errors are averaged per action
(actions named without their take number: "Walking 1" and "Walking" are one action) and then
over actions. Protocol 1 is MPJPE after moving each pose's pelvis to the origin; protocol 2 is
MPJPE after a per-frame similarity (Procrustes) alignment; MPJVE is the error of the
root-relative joints' frame-to-frame velocity (mm per frame).

The 2D input is the ground-truth projection: for a VideoPose3D npz, the world poses through the
subject's published cameras (with lens distortion); for a pose store, its stored 2D pixels.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dynapose import metrics
from dynapose.checkpoint import load_checkpoint, resolve_checkpoint
from dynapose.errors import DynaPoseError
from dynapose.fsutil import atomic_write_text
from dynapose.lift_fit import fit_sequence, rigid_bones
from dynapose.models.lifter import TemporalLifter, flip_keypoints, normalize_screen
from dynapose.skeleton import NUM_JOINTS


def load_lifter(checkpoint: str | os.PathLike[str] | TemporalLifter) -> TemporalLifter:
    """A lifter in eval mode from a run or checkpoint folder (or the model itself)."""
    if isinstance(checkpoint, TemporalLifter):
        return checkpoint.eval()
    model, config = load_checkpoint(checkpoint)
    if not isinstance(model, TemporalLifter):
        raise DynaPoseError(f"checkpoint holds model {config['model']['name']!r}, not a lifter",
                            resolve_checkpoint(checkpoint))
    return model


@torch.no_grad()
def lift_sequence(model: TemporalLifter, keypoints: np.ndarray | torch.Tensor,
                  confidences: np.ndarray | torch.Tensor | None = None,
                  flip_tta: bool = False) -> np.ndarray:
    """Normalised 2D (T, 17, 2) [+ confidences (T, 17)] -> (T, 17, 3) mm root-relative camera
    frame, every frame (edges padded). `flip_tta` averages with the mirrored input's mirrored
    prediction."""
    model.eval()
    x = torch.as_tensor(np.asarray(keypoints, dtype=np.float32))[None]
    c = None if confidences is None else torch.as_tensor(
        np.asarray(confidences, dtype=np.float32))[None]
    pred = model.forward_sequence(x, c)
    if flip_tta:
        from dynapose.skeleton import flip_permutation

        perm = torch.as_tensor(flip_permutation())
        cf = None if c is None else c[:, :, perm]
        pred = 0.5 * (pred + flip_keypoints(model.forward_sequence(flip_keypoints(x), cf)))
    return pred[0].double().numpy()


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------
@dataclass
class EvalSequence:
    """One held-out sequence as one camera saw it."""

    meta: dict[str, Any]  # subject, action, camera (id)
    keypoints: np.ndarray  # (T, 17, 2) normalised coordinates: the lifter's input
    rays: np.ndarray  # (T, 17, 2) the same 2D as undistorted rays (x/z, y/z), for lift_fit
    target: np.ndarray  # (T, 17, 3) camera-frame joints, mm


def _eval_sequences(data: str | os.PathLike[str], subjects: list[str] | None,
                    cameras: list[str] | None, noise_px: float = 0.0) -> list[EvalSequence]:
    """The held-out sequences of `data`, each as seen by each of its cameras; `noise_px`: the
    std (pixels) of Gaussian noise added to the 2D (seeded: the same noise every time)."""
    from dynapose.lift_train import load_motion

    rng = np.random.default_rng(0)

    def noisy(px: np.ndarray) -> np.ndarray:
        return px + rng.normal(0.0, noise_px, px.shape) if noise_px > 0 else px

    path = Path(data)
    out = []
    if path.is_dir():
        from dynapose.data.pose_store import PoseStore

        store = PoseStore(path)
        for i, s in enumerate(store.sequences):
            if (subjects and s["subject"] not in subjects) or (cameras and
                                                                s["camera"] not in cameras):
                continue
            px = noisy(store.joints2d(i).astype(np.float64))
            out.append(EvalSequence(
                {"subject": s["subject"], "action": s["action"], "camera": s["camera"]},
                normalize_screen(px, s["width"], s["height"]), store.camera(i).rays(px),
                store.joints3d(i).astype(np.float64)))
        return out
    motion = load_motion(path, subjects)
    for s in motion.sequences:
        world = motion.world[s["start"]: s["start"] + s["frames"]].astype(np.float64)
        for ci in s["cameras"]:
            cam = motion.cameras[ci]
            if cameras and cam.name not in cameras:
                continue
            points = cam.world_to_camera(world)
            px = noisy(cam.project(points))
            out.append(EvalSequence(
                {"subject": s["subject"], "action": s["action"], "camera": cam.name},
                normalize_screen(px, cam.width, cam.height), cam.rays(px), points))
    return out


def action_group(action: str) -> str:
    """The action a sequence belongs to: its name without the take number ('Walking 1')."""
    return action.split(" ")[0]


def evaluate_lifter(checkpoint: str | os.PathLike[str] | TemporalLifter,
                    data: str | os.PathLike[str], subjects: list[str] | None = None,
                    cameras: list[str] | None = None, flip_tta: bool = True,
                    max_sequences: int | None = None, noise_px: float = 0.0) -> dict[str, Any]:
    """Protocol 1, protocol 2 and MPJVE (mm) of a lifter on held-out sequences.

    data: a VideoPose3D npz (ground-truth 2D = projection through the published cameras) or a
    pose store. subjects: default the run's ``val_subjects`` (npz) or every sequence (store).
    noise_px: Gaussian noise (std, pixels) added to the 2D, to see how the lifter and the fits
    bear detector-like input (0: the protocol's exact 2D). Returns {"protocol1", "protocol2",
    "mpjve" (means over actions), "per_action": {action: {"protocol1", "protocol2", "mpjve",
    "frames"}}, "rigid" and "fitted" (the same for :func:`dynapose.lift_fit.rigid_bones` and
    :func:`dynapose.lift_fit.fit_sequence` of the network's joints), "frames", "sequences", ...}.
    """
    started = time.perf_counter()
    model = load_lifter(checkpoint)
    if subjects is None and not Path(data).is_dir():
        info = {} if isinstance(checkpoint, TemporalLifter) else \
            _checkpoint_info(checkpoint).get("lift_config", {})
        subjects = info.get("val_subjects") or ["S8"]
    if noise_px < 0:
        raise DynaPoseError(f"noise_px must be >= 0, got {noise_px}")
    seqs = _eval_sequences(data, subjects, cameras, noise_px)
    if max_sequences is not None:
        seqs = seqs[:max_sequences]
    if not seqs:
        raise DynaPoseError(f"no sequences to evaluate for subjects {subjects}, cameras "
                            f"{cameras}", data)
    kinds = ("network", "rigid", "fitted")
    sums: dict[str, dict[str, np.ndarray]] = {k: defaultdict(lambda: np.zeros(5)) for k in kinds}
    for seq in seqs:
        pred = lift_sequence(model, seq.keypoints, flip_tta=flip_tta)
        target = seq.target - seq.target[:, :1]
        outputs = (pred, rigid_bones(pred), fit_sequence(pred, seq.rays))
        for kind, joints in zip(kinds, outputs, strict=True):
            _accumulate(sums[kind][action_group(seq.meta["action"])], joints, target)
    per_action, rigid, fitted = (_per_action(sums[kind]) for kind in kinds)
    report = {
        "checkpoint": "(in memory)" if isinstance(checkpoint, TemporalLifter) else
        str(resolve_checkpoint(checkpoint)),
        "data": os.fspath(data), "subjects": subjects, "cameras": cameras,
        "flip_tta": flip_tta, "noise_px": noise_px,
        "receptive_field": model.receptive_field, "causal": model.causal,
        **_means(per_action),
        "frames": int(sum(v["frames"] for v in per_action.values())),
        "sequences": len(seqs),
        "per_action": per_action,
        "rigid": {**_means(rigid), "per_action": rigid,
                  "how": "the network's joints with the sequence's bone lengths "
                         "(dynapose.lift_fit.rigid_bones)"},
        "fitted": {**_means(fitted), "per_action": fitted,
                   "how": "the network's joints fitted to rigid bones on the 2D's camera rays "
                          "(dynapose.lift_fit.fit_sequence; needs exact 2D)"},
        "seconds": round(time.perf_counter() - started, 2),
    }
    return report


def _accumulate(acc: np.ndarray, pred: np.ndarray, target: np.ndarray) -> None:
    """Add one sequence's error sums to acc = [P1 sum, P2 sum, frames, MPJVE sum, MPJVE n]."""
    p1 = metrics.mpjpe_p1(pred, target, reduce=False).mean(-1)
    p2 = metrics.p_mpjpe(pred, target, reduce=False).mean(-1)
    acc[:3] += (p1.sum(), p2.sum(), len(p1))
    if len(pred) >= 2:
        vel = metrics.mpjve(pred, target, reduce=False, how="pelvis").mean(-1)
        acc[3:] += (vel.sum(), len(vel))


def _per_action(sums: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    return {a: {"protocol1": v[0] / v[2], "protocol2": v[1] / v[2],
                "mpjve": v[3] / v[4] if v[4] else float("nan"), "frames": int(v[2])}
            for a, v in sorted(sums.items())}


def _means(per_action: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Protocol 1, protocol 2 and MPJVE averaged over actions (the protocol's mean)."""
    return {key: float(np.nanmean([v[key] for v in per_action.values()]))
            for key in ("protocol1", "protocol2", "mpjve")}


def _checkpoint_info(checkpoint: str | os.PathLike[str]) -> dict[str, Any]:
    from dynapose.checkpoint import read_checkpoint_config

    return read_checkpoint_config(checkpoint).get("info", {})


def format_lift_report(report: dict[str, Any]) -> str:
    """A table: one row per action, then the mean over actions; the network's errors, then
    (where the report has them) those with rigid bones and fitted to the 2D (lift_fit)."""
    extra = [k for k in ("rigid", "fitted") if k in report]
    names = {"rigid": "rigid", "fitted": "fit"}
    head = f"{'action':<14}{'frames':>8}{'P1 mm':>9}{'P2 mm':>9}{'MPJVE':>9}"
    head += "".join(f"{'P1 ' + names[k]:>10}{'P2 ' + names[k]:>10}" for k in extra)
    rows = [(a, v, [report[k]["per_action"][a] for k in extra])
            for a, v in report["per_action"].items()]
    rows.append(("average", report, [report[k] for k in extra]))
    lines = [head]
    for action, v, more in rows:
        lines.append(f"{action:<14}{v['frames']:>8}"
                     f"{v['protocol1']:>9.1f}{v['protocol2']:>9.1f}{v['mpjve']:>9.2f}"
                     + "".join(f"{m['protocol1']:>10.1f}{m['protocol2']:>10.1f}" for m in more))
    return "\n".join(lines)


def write_lift_report(report: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(report, indent=2) + "\n")
    return path


# --------------------------------------------------------------------------------------------
# Keypoint files
# --------------------------------------------------------------------------------------------
def read_keypoints(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """2D keypoints from a ``.npy`` array or an ``.npz`` with a ``keypoints`` entry, shaped
    (T, 17, 2) pixels or (T, 17, 3) with a confidence last. Returns (px float64 (T, 17, 2),
    confidences (T, 17) or None). A frame that is entirely NaN is a gap (no person; it stays
    NaN); wrong shapes, partly NaN frames and infinite values are refused. For the other formats
    (COCO JSON, VideoPose3D npz) see :func:`dynapose.keypoints.read_keypoints_file`."""
    from dynapose.keypoints import from_array, load_keypoint_array

    array = load_keypoint_array(path)
    kp = from_array(array, path)
    return kp.pixels, (kp.confidence if array.shape[-1] == 3 else None)


def lift_file(checkpoint: str | os.PathLike[str] | TemporalLifter,
              keypoints: str | os.PathLike[str], width: int, height: int,
              flip_tta: bool = True) -> np.ndarray:
    """Lift a keypoint file (see :func:`read_keypoints`; pixels of a `width` x `height` image)
    -> (T, 17, 3) mm, root-relative camera frame. Gap frames (all NaN) are filled for the
    network's input (:func:`dynapose.keypoints.fill_gaps`) and come back NaN."""
    from dynapose.keypoints import fill_gaps

    px, conf = read_keypoints(keypoints)
    found = ~np.isnan(px).all(axis=(1, 2))
    if not found.any():
        raise DynaPoseError("keypoints are NaN in every frame (no person anywhere)", keypoints)
    model = load_lifter(checkpoint)
    if not model.config["confidence"]:
        conf = None
    elif conf is not None:
        conf = fill_gaps(conf, found)
    out = lift_sequence(model, normalize_screen(fill_gaps(px, found), width, height), conf,
                        flip_tta=flip_tta)
    out[~found] = np.nan
    return out


# --------------------------------------------------------------------------------------------
# Benchmark
# --------------------------------------------------------------------------------------------
def bench_lift(checkpoint: str | None = None, receptive_field: int = 243, channels: int = 256,
               batch: int = 1024, frames: int = 2000, seconds: float = 3.0,
               threads: int | None = None, precision: str = "bf16",
               video: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Measured speed of a lifter (default: random weights of the given size).

    * ``train``: samples/s of a full training step (random windows cut from synthetic motion,
      projected on the fly, forward, MPJPE, backward, AMSGrad Adam: the lift-h36m preset's
      step, :func:`dynapose.lift_train.train_step`, at this size and `precision`) at `batch`;
    * ``infer_batched``: frames/s lifting 4 sequences of `frames` frames at once (dilated);
    * ``infer_causal_stream``: frames/s one frame at a time with a causal model of the same size
      (each new frame: one strided pass over the last R frames, batch 1);
    * with `video`: ``mediapipe_2d`` and ``end_to_end`` (:func:`bench_lift_video`).
    Each figure is the median over repeats within `seconds`.
    """
    from dynapose.lift_train import (
        camera_tensors,
        load_lift_config,
        make_batch,
        make_optimizer,
        sample_windows,
        synthetic_motion,
        train_step,
    )
    from dynapose.models import build_model

    if threads:
        torch.set_num_threads(threads)
    if checkpoint is not None:
        model = load_lifter(checkpoint)
        receptive_field = model.receptive_field
        channels = model.config["channels"]
    config = load_lift_config("lift-h36m", overrides={
        "receptive_field": receptive_field, "channels": channels, "batch_size": batch,
        "precision": precision})
    if checkpoint is None:
        model = TemporalLifter(**config.model_config())
    causal = build_model("lifter", **{**model.config, "causal": True})

    def timed(fn: Any, units: int) -> dict[str, float]:
        fn()
        times: list[float] = []
        deadline = time.perf_counter() + seconds
        while not times or time.perf_counter() < deadline:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        median = float(np.median(times))
        return {"per_s": units / median, "ms": 1000 * median, "repeats": len(times)}

    motion = synthetic_motion(8, 400)
    cams = camera_tensors(motion.cameras)
    rng = np.random.default_rng(0)
    optimizer = make_optimizer(model, config)

    def step() -> None:
        frame, seq, cam = sample_windows(motion, batch, rng)
        inputs, target = make_batch(motion, cams, frame, seq, cam, config, rng)
        train_step(model, optimizer, inputs, target, precision)

    result: dict[str, Any] = {"receptive_field": receptive_field, "channels": channels,
                              "params": sum(p.numel() for p in model.parameters()),
                              "threads": torch.get_num_threads(), "batch": batch,
                              "precision": precision}
    result["train"] = timed(step, batch)
    model.eval()
    causal.eval()
    seqs = torch.randn(4, frames, NUM_JOINTS, 2) * 0.3
    with torch.no_grad():
        result["infer_batched"] = timed(lambda: model.forward_sequence(seqs), 4 * frames)
        window = torch.randn(1, model.receptive_field, NUM_JOINTS, 2) * 0.3
        result["infer_causal_stream"] = timed(lambda: causal(window), 1)
    for key in ("train", "infer_batched", "infer_causal_stream"):
        unit = "samples_per_s" if key == "train" else "frames_per_s"
        result[key] = {unit: round(result[key]["per_s"], 1), "ms": round(result[key]["ms"], 3),
                       "repeats": result[key]["repeats"]}
    if video is not None:
        result.update(bench_lift_video(video, model))
    return result


def bench_lift_video(video: str | os.PathLike[str],
                     lifter: str | os.PathLike[str] | TemporalLifter | None = None
                     ) -> dict[str, Any]:
    """End-to-end frames/s of ``predict --lifter`` on a real `video`: MediaPipe's 2D keypoints
    alone, then the whole command (MediaPipe, lifting, root solve, joints.{npz,json,csv}; no
    visual outputs). Needs MediaPipe (``dynapose[mediapipe]``)."""
    import tempfile

    from dynapose.keypoints import detect_keypoints_mediapipe
    from dynapose.lift_predict import predict_video_lifted

    t0 = time.perf_counter()
    keypoints = detect_keypoints_mediapipe(video)
    detect_s = time.perf_counter() - t0
    frames = len(keypoints.found)
    with tempfile.TemporaryDirectory(prefix="dynapose-bench-") as tmp:
        t0 = time.perf_counter()
        predict_video_lifted(video, lifter, out_dir=Path(tmp) / "out", visuals=())
        total_s = time.perf_counter() - t0
    return {
        "mediapipe_2d": {"frames_per_s": round(frames / detect_s, 1), "frames": frames,
                         "found": int(keypoints.found.sum())},
        "end_to_end": {"frames_per_s": round(frames / total_s, 1), "seconds": round(total_s, 2),
                       "video": str(video),
                       "includes": "decode, MediaPipe 2D, lifting (flip TTA), root solve, "
                                   "joints.npz/json/csv"},
    }
