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

import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dynapose import metrics
from dynapose.camera import normalize_screen
from dynapose.data.detections import Detections, left_out_record, load_detections
from dynapose.data.lift_motion import load_motion
from dynapose.data.pose_store import PoseStore
from dynapose.errors import DynaPoseError
from dynapose.evaluation.report import LIFTER_METRICS, report_header
from dynapose.inference.lifting import lift_sequence, load_lifter
from dynapose.inference.refine import fit_sequence, rigid_bones
from dynapose.io.checkpoint import read_checkpoint_config, resolve_checkpoint
from dynapose.models.lifter import TemporalLifter

#: Why the fit to the 2D's rays is not run on a detector's keypoints: it places each joint on
#: its ray, so it trusts the 2D exactly, and a detector's joints are not Human3.6M's (MPII's
#: "spine" is the thorax; `benchmarks/detection_quality.py` measures how far each one is).
FIT_ON_DETECTIONS = ("not run: the fit needs the true joints' 2D, and a detector's keypoints "
                     "are other points with errors of their own")


@dataclass
class EvalSequence:
    """One held-out sequence as one camera saw it."""

    meta: dict[str, Any]  # subject, action, camera (id)
    keypoints: np.ndarray  # (T, 17, 2) normalised coordinates: the lifter's input
    rays: np.ndarray  # (T, 17, 2) the same 2D as undistorted rays (x/z, y/z), for lift_fit
    target: np.ndarray  # (T, 17, 3) camera-frame joints, mm
    confidence: np.ndarray | None = None  # (T, 17) a detector's confidences, where it gives them


def _eval_sequences(data: str | os.PathLike[str], subjects: list[str] | None,
                    cameras: list[str] | None, noise_px: float = 0.0,
                    detections: Detections | None = None,
                    left_out: list[tuple[str, str, str]] | None = None) -> list[EvalSequence]:
    """The held-out sequences of `data`, each as seen by each of its cameras; `noise_px`: the
    std (pixels) of Gaussian noise added to the 2D (seeded: the same noise every time);
    `detections`: a detector's 2D instead of the projection (the 3D targets stay the truth); a
    camera they lack for a sequence they otherwise have is left out, (subject, action, camera)
    appended to `left_out` (:meth:`Detections.has`)."""

    rng = np.random.default_rng(0)

    def noisy(px: np.ndarray) -> np.ndarray:
        return px + rng.normal(0.0, noise_px, px.shape) if noise_px > 0 else px

    path = Path(data)
    out = []
    if path.is_dir():

        store = PoseStore(path)
        for i, s in enumerate(store.sequences):
            if (subjects and s["subject"] not in subjects) or (cameras and
                                                                s["camera"] not in cameras):
                continue
            conf = None
            if detections is not None and not detections.has(s["subject"], s["action"],
                                                             s["camera"]):
                if left_out is not None:
                    left_out.append((s["subject"], s["action"], s["camera"]))
                continue
            px = store.joints2d(i).astype(np.float64)
            if detections is not None:
                px, conf = detections.get(s["subject"], s["action"], s["camera"], len(px))
            px = noisy(px)
            out.append(EvalSequence(
                {"subject": s["subject"], "action": s["action"], "camera": s["camera"]},
                normalize_screen(px, s["width"], s["height"]), store.camera(i).rays(px),
                store.joints3d(i).astype(np.float64), conf))
        return out
    motion = load_motion(path, subjects)
    for s in motion.sequences:
        world = motion.world[s["start"]: s["start"] + s["frames"]].astype(np.float64)
        for ci in s["cameras"]:
            cam = motion.cameras[ci]
            if cameras and cam.name not in cameras:
                continue
            conf = None
            if detections is not None and not detections.has(s["subject"], s["action"],
                                                             cam.name):
                if left_out is not None:
                    left_out.append((s["subject"], s["action"], cam.name))
                continue
            points = cam.world_to_camera(world)
            if detections is not None:
                px, conf = detections.get(s["subject"], s["action"], cam.name, len(points))
            else:
                px = cam.project(points)
            px = noisy(px)
            out.append(EvalSequence(
                {"subject": s["subject"], "action": s["action"], "camera": cam.name},
                normalize_screen(px, cam.width, cam.height), cam.rays(px), points, conf))
    return out


def action_group(action: str) -> str:
    """The action a sequence belongs to: its name without the take number ('Walking 1')."""
    return action.split(" ")[0]


def evaluate_lifter(checkpoint: str | os.PathLike[str] | TemporalLifter,
                    data: str | os.PathLike[str], subjects: list[str] | None = None,
                    cameras: list[str] | None = None, flip_tta: bool = True,
                    max_sequences: int | None = None, noise_px: float = 0.0,
                    device: str = "auto",
                    detections: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Protocol 1, protocol 2 and MPJVE (mm) of a lifter on held-out sequences.

    data: a VideoPose3D npz (ground-truth 2D = projection through the published cameras) or a
    pose store. subjects: default the run's ``val_subjects`` (npz) or every sequence (store).
    noise_px: Gaussian noise (std, pixels) added to the 2D, to see how the lifter and the fits
    bear detector-like input (0: the protocol's exact 2D). detections: a detector's keypoints
    (:func:`dynapose.data.detections.load_detections`: a 3d-pose-baseline folder or a
    VideoPose3D 2D npz) lifted instead of the projection; the report's ``two_d`` names the 2D
    source, and ``detections_left_out`` counts the sequence-cameras left out for want of
    detections ({"count", "sequence_cameras"}; a sequence with none at all is an error).
    device: where the network runs (auto, cpu, cuda, cuda:N; the bone and ray fits run on the
    CPU). Returns the report
    (:mod:`dynapose.evaluation.report`): "overall": {"mpjpe_p1", "p_mpjpe", "mpjve"} (means over
    actions), "per_action": {action: {"mpjpe_p1", "p_mpjpe", "mpjve", "frames"}}, "rigid" and
    "fitted" (the same for
    :func:`dynapose.inference.refine.rigid_bones` and
    :func:`dynapose.inference.refine.fit_sequence` of the network's joints; on detections
    "fitted" is {"skipped": why}: :data:`FIT_ON_DETECTIONS`), "frames", "sequences", ...}.
    """
    started = time.perf_counter()
    model = load_lifter(checkpoint, device)
    if subjects is None and not Path(data).is_dir():
        info = {} if isinstance(checkpoint, TemporalLifter) else \
            _checkpoint_info(checkpoint).get("lift_config", {})
        subjects = info.get("val_subjects") or ["S8"]
    if noise_px < 0:
        raise DynaPoseError(f"noise_px must be >= 0, got {noise_px}")
    found = None if detections is None else load_detections(detections, subjects)
    left_out: list[tuple[str, str, str]] = []
    seqs = _eval_sequences(data, subjects, cameras, noise_px, found, left_out)
    if max_sequences is not None:
        seqs = seqs[:max_sequences]
    if not seqs:
        raise DynaPoseError(f"no sequences to evaluate for subjects {subjects}, cameras "
                            f"{cameras}", data)
    kinds = ("network", "rigid", "fitted")
    sums: dict[str, dict[str, np.ndarray]] = {k: defaultdict(lambda: np.zeros(5)) for k in kinds}
    for seq in seqs:
        # a lifter that takes confidences gets the detector's (1.0 where there are none)
        conf = seq.confidence if model.config["confidence"] else None
        pred = lift_sequence(model, seq.keypoints, conf, flip_tta=flip_tta)
        if not np.isfinite(pred).all():  # the metrics' SVD would fail on them
            raise DynaPoseError("the lifter returns NaN or infinite joints",
                                None if isinstance(checkpoint, TemporalLifter) else checkpoint)
        target = seq.target - seq.target[:, :1]
        outputs = (pred, rigid_bones(pred), None if found else fit_sequence(pred, seq.rays))
        for kind, joints in zip(kinds, outputs, strict=True):
            if joints is None:
                continue
            _accumulate(sums[kind][action_group(seq.meta["action"])], joints, target)
    per_action, rigid, fitted = (_per_action(sums[kind]) for kind in kinds)
    report = {
        **report_header("lifter"),
        "checkpoint": "(in memory)" if isinstance(checkpoint, TemporalLifter) else
        str(resolve_checkpoint(checkpoint)),
        "data": os.fspath(data), "subjects": subjects, "cameras": cameras,
        "flip_tta": flip_tta, "noise_px": noise_px,
        "receptive_field": model.receptive_field, "causal": model.causal,
        "two_d": ("ground-truth projection" if found is None else
                  f"detections: {found.detector} ({found.source})")
                 + (f", Gaussian noise {noise_px} px" if noise_px else ""),
        **({} if found is None else {"detections_left_out": left_out_record(left_out)}),
        "overall": _means(per_action),
        "frames": int(sum(v["frames"] for v in per_action.values())),
        "sequences": len(seqs),
        "per_action": per_action,
        "rigid": {"overall": _means(rigid), "per_action": rigid,
                  "how": "the network's joints with the sequence's bone lengths "
                         "(dynapose.inference.refine.rigid_bones)"},
        "fitted": {"overall": _means(fitted), "per_action": fitted,
                   "how": "the network's joints fitted to rigid bones on the 2D's camera rays "
                          "(dynapose.inference.refine.fit_sequence; needs exact 2D)"}
        if found is None else {"skipped": FIT_ON_DETECTIONS},
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
    return {a: {"mpjpe_p1": v[0] / v[2], "p_mpjpe": v[1] / v[2],
                "mpjve": v[3] / v[4] if v[4] else float("nan"), "frames": int(v[2])}
            for a, v in sorted(sums.items())}


def _means(per_action: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Protocol 1, protocol 2 and MPJVE averaged over actions (the protocol's mean)."""
    return {key: float(np.nanmean([v[key] for v in per_action.values()]))
            for key in LIFTER_METRICS}


def _checkpoint_info(checkpoint: str | os.PathLike[str]) -> dict[str, Any]:
    return read_checkpoint_config(checkpoint).get("info", {})
