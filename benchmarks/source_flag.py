"""Does a lifter trained on mixed 2D do better when told where each window's 2D came from?

    python benchmarks/source_flag.py --out runs/flag0-S8 [--flag 0.0] [--epochs 2] \
        [--data ../shared/data/h36m/data_3d_h36m.npz] \
        [--detections ../shared/data/h36m/pose_baseline_layout]

``lift-h36m-sh`` mixes windows of a detector's keypoints with projected ground truth, so one
network must both correct the detector's own idea of each joint (its "spine" is not Human3.6M's)
and trust exact 2D. Here the lifter takes a third input per joint (``confidence: true``): 1 for
projected windows and the constant ``--flag`` for the detector's (the Stacked Hourglass gives no
scores), at training and at evaluation, so it can tell the two apart. Trained on S1, S5, S6, S7
(the preset cut to ``--epochs`` million windows), evaluated on S8 with its detections and with
the projection; compare with the same fold without the flag (docs/results.md, "Training on
detections"). Prints the four figures as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import dynapose.evaluation.lifter as evaluation
import dynapose.training.lift as training
from dynapose.config import load_lift_config
from dynapose.data.detections import Detections, load_detections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="run folder (must not exist)")
    parser.add_argument("--flag", type=float, default=0.0,
                        help="the detector windows' constant third input (projected: 1)")
    parser.add_argument("--epochs", type=int, default=2, help="million windows")
    parser.add_argument("--data", default="../shared/data/h36m/data_3d_h36m.npz")
    parser.add_argument("--detections", default="../shared/data/h36m/pose_baseline_layout")
    args = parser.parse_args()
    if Path(args.out).exists():
        raise SystemExit(f"{args.out} exists")

    def flagged(path: str, subjects: list[str] | None = None) -> Detections:
        found = load_detections(path, subjects)
        for key, px in found.pixels.items():
            found.confidence[key] = np.full(px.shape[:2], args.flag)
        return found

    # training and evaluation read detections through these names
    training.load_detections = flagged  # type: ignore[assignment]
    evaluation.load_detections = flagged  # type: ignore[assignment]
    config = load_lift_config("lift-h36m-sh", overrides={
        "epochs": args.epochs, "confidence": True, "train_subjects": ["S1", "S5", "S6", "S7"],
        "val_subjects": ["S8"]})
    training.train_lifter(args.data, args.out, config, progress=False,
                          detections=args.detections)
    result = {"flag": args.flag, "windows": args.epochs * config.samples_per_epoch}
    for name, source in (("sh", args.detections), ("gt", None)):
        report = evaluation.evaluate_lifter(Path(args.out) / "checkpoint", args.data,
                                            subjects=["S8"], detections=source)
        result[f"s8_{name}_p1"] = report["overall"]["mpjpe_p1"]
        result[f"s8_{name}_p1_rigid"] = report["rigid"]["overall"]["mpjpe_p1"]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
