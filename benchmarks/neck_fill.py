"""Measure how to give a lifter the joint MPII-16 detections lack (Human3.6M's neck/nose).

    python benchmarks/neck_fill.py --neck estimate|masked --out runs/neck-estimate \
        [--data ../shared/data/h36m/data_3d_h36m.npz] \
        [--detections ../shared/data/h36m/pose_baseline_layout] [--windows 500000]

Trains one lifter on the Stacked-Hourglass detections of S1, S5, S6, S7 (receptive field 27,
256 channels, the lift-h36m preset otherwise, every window from the detections) and evaluates
it on S8's detections, every frame of every camera:

* ``estimate``: the neck/nose placed halfway between the thorax and the head top, as
  :func:`dynapose.data.detections.from_mpii16` ships it;
* ``masked``: the neck/nose input held at one constant point (the image's top-left corner), so
  the network fills it in from the other joints (what a learned fill amounts to: the first
  layer's weights on a constant input are a learned bias).

Prints the S8 protocol-1 and rigid-bones figures as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

import dynapose.data.detections as detections_module
from dynapose.config import load_lift_config
from dynapose.evaluation.lifter import evaluate_lifter
from dynapose.skeleton import JOINT_NAMES
from dynapose.training.lift import train_lifter

NECK = JOINT_NAMES.index("neck")
_ESTIMATE = detections_module.from_mpii16


def _masked(poses: np.ndarray) -> np.ndarray:
    out = _ESTIMATE(poses)
    out[:, NECK] = 0.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neck", choices=("estimate", "masked"), required=True)
    parser.add_argument("--out", required=True, help="run folder (must not exist)")
    parser.add_argument("--data", default="../shared/data/h36m/data_3d_h36m.npz")
    parser.add_argument("--detections", default="../shared/data/h36m/pose_baseline_layout")
    parser.add_argument("--windows", type=int, default=500_000)
    args = parser.parse_args()
    if args.neck == "masked":
        detections_module.from_mpii16 = _masked
    config = load_lift_config("lift-h36m", overrides={
        "receptive_field": 27, "channels": 256, "epochs": 1,
        "samples_per_epoch": args.windows, "detection_share": 1.0})
    if Path(args.out).exists():
        raise SystemExit(f"{args.out} exists")
    train_lifter(args.data, args.out, config, progress=False, detections=args.detections)
    report = evaluate_lifter(Path(args.out) / "checkpoint", args.data, subjects=["S8"],
                             detections=args.detections)
    overall: dict[str, Any] = report["overall"]
    print(json.dumps({"neck": args.neck, "windows": args.windows,
                      "s8_sh_p1": overall["mpjpe_p1"],
                      "s8_sh_p1_rigid": report["rigid"]["overall"]["mpjpe_p1"]}, indent=1))


if __name__ == "__main__":
    main()
