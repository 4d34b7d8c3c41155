"""What live's causality costs: the shipped lifter on Human3.6M, offline (``predict``: every frame
sees 1.6 s of past and future) against live (each frame only its past, the window's future half
filled with the newest frame; rigid bones from the frames seen so far).

Real 2D: the Stacked Hourglass detections of ../shared (and the ground-truth projection), every
camera of the subjects asked for, at their 50 frames/s. Protocol 1, protocol 2 and MPJVE (mm,
mean over actions, as ``evaluate-lift``), and the mean distance between the live and offline
poses themselves (``from_offline_mm``, per joint: live against offline, live rigid against
``predict``'s rigid).

Live's windows are gathered in one batch per sequence: at 50 frames/s the window of frame t is
frames ``clip(t + k * stride, 0, t)``, which is what :class:`dynapose.live.pose.CausalLifter`
interpolates (checked here against it on the first sequence's first frames).

    python benchmarks/live_causal_h36m.py --subjects S8 [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict

import numpy as np
import torch

from dynapose.data.detections import load_detections
from dynapose.evaluation.lifter import (
    _accumulate,
    _eval_sequences,
    _means,
    _per_action,
    action_group,
)
from dynapose.inference.lifting import lift_sequence, load_default_lifter
from dynapose.inference.refine import rigid_bones
from dynapose.live.pose import BONE_HISTORY, CausalLifter
from dynapose.models.lifter import TemporalLifter, flip_keypoints
from dynapose.skeleton import BONES, LEFT_JOINTS, RIGHT_JOINTS, bone_lengths

DATA = "../shared/data/h36m/data_3d_h36m.npz"
DETECTIONS = "../shared/data/h36m/pose_baseline_layout"


@torch.no_grad()
def lift_live(model: TemporalLifter, keypoints: np.ndarray, batch: int = 4096) -> np.ndarray:
    """Normalised 2D (T, 17, 2) at 50 frames/s -> each frame's pose from its past only (the
    centred window's future half the newest frame): (T, 17, 3) mm root-relative, flip-averaged."""
    before, after = model.pad
    offsets = np.arange(-before, after + 1, model.frame_stride)
    t = np.arange(len(keypoints))[:, None]
    index = np.clip(t + offsets[None], 0, t)  # (T, R): no frame after t
    x = torch.as_tensor(keypoints, dtype=torch.float32)
    out = []
    for i in range(0, len(index), batch):
        windows = x[torch.as_tensor(index[i:i + batch])]
        both = model(torch.cat([windows, flip_keypoints(windows)]))
        n = len(windows)
        out.append(0.5 * (both[:n] + flip_keypoints(both[n:])))
    return torch.cat(out).double().numpy()


def causal_rigid(rel: np.ndarray) -> np.ndarray:
    """Rigid bones as live gives them (:meth:`CausalLifter.lengths`), for a whole sequence at
    once: frame t rebuilt along its own bone directions with the median of the bone lengths of
    frames max(0, t - 899) .. t, left and right averaged."""
    lengths = bone_lengths(rel)  # (T, 16)
    running = np.empty_like(lengths)
    for t in range(len(rel)):
        running[t] = np.median(lengths[max(0, t + 1 - BONE_HISTORY): t + 1], axis=0)
    for left, right in zip(LEFT_JOINTS, RIGHT_JOINTS, strict=True):
        a, b = left - 1, right - 1  # the bone ending at joint j is BONES[j - 1]
        running[:, a] = running[:, b] = 0.5 * (running[:, a] + running[:, b])
    out = np.empty_like(rel)
    out[:, 0] = rel[:, 0]
    for i, (child, parent) in enumerate(BONES):
        bone = rel[:, child] - rel[:, parent]
        norm = np.linalg.norm(bone, axis=-1, keepdims=True)
        out[:, child] = out[:, parent] + running[:, i, None] * bone / np.maximum(norm, 1e-9)
    return out


def _check(model: TemporalLifter, keypoints: np.ndarray, width: int, height: int) -> float:
    """Largest difference (mm) between lift_live + causal_rigid and CausalLifter on the first
    120 frames."""
    live = CausalLifter(width, height, model)
    # CausalLifter takes pixels: undo normalize_screen (x = px / w * 2 - 1, y = py / w * 2 - h/w)
    px = np.empty_like(keypoints[:120])
    px[..., 0] = (keypoints[:120, :, 0] + 1.0) * width / 2
    px[..., 1] = (keypoints[:120, :, 1] + height / width) * width / 2
    mine = np.stack([live(i / 50.0, px[i]).joints for i in range(len(px))])
    mine -= mine[:, :1]
    return float(np.abs(mine - causal_rigid(lift_live(model, keypoints[:120]))).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", default="S8")
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--detections", default=DETECTIONS)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    subjects = args.subjects.split(",")
    torch.set_num_threads(2)
    model = load_default_lifter()
    started = time.perf_counter()
    results = {}
    for source in ("detections", "ground truth"):
        found = load_detections(args.detections, subjects) if source == "detections" else None
        seqs = _eval_sequences(args.data, subjects, None, 0.0, found, [])
        sums: dict[str, dict[str, np.ndarray]] = defaultdict(lambda: defaultdict(
            lambda: np.zeros(5)))
        apart: dict[str, dict[str, np.ndarray]] = defaultdict(lambda: defaultdict(
            lambda: np.zeros(2)))
        checked = None
        for seq in seqs:
            if checked is None:
                checked = _check(model, seq.keypoints, 1000, 1000)
                print(f"live here = CausalLifter within {checked:.2g} mm", flush=True)
            offline = lift_sequence(model, seq.keypoints, None, flip_tta=True)
            live = lift_live(model, seq.keypoints)
            target = seq.target - seq.target[:, :1]
            action = action_group(seq.meta["action"])
            rigid_offline = rigid_bones(offline)
            for kind, pred, reference in (
                    ("offline", offline, offline), ("live", live, offline),
                    ("offline rigid (predict)", rigid_offline, rigid_offline),
                    ("live rigid (live)", causal_rigid(live), rigid_offline)):
                _accumulate(sums[kind][action], pred, target)
                apart[kind][action] += (float(np.linalg.norm(pred - reference, axis=-1).sum()
                                              / 17), len(pred))
        table = {}
        for kind, per_action in sums.items():
            means = _means(_per_action(per_action))
            table[kind] = {k: round(v, 2) for k, v in means.items()} | {
                "from_offline_mm": round(float(np.mean(
                    [a / n for a, n in apart[kind].values()])), 2)}
        results[source] = {"table": table, "sequences": len(seqs),
                           "frames": int(sum(r[2] for r in sums["live"].values())),
                           "check_vs_causal_lifter_mm": checked}
        print(source, json.dumps(results[source], indent=1), flush=True)
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["subjects"] = subjects
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
