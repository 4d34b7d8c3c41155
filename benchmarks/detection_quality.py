"""How far a detector's 2D keypoints of Human3.6M are from the ground truth's projection.

    python benchmarks/detection_quality.py [--data ../shared/data/h36m/data_3d_h36m.npz] \
        [--detections ../shared/data/h36m/pose_baseline_layout] [--subjects S1,S5,S6,S7,S8]

Every frame of every camera: the detections (:func:`dynapose.data.detections.load_detections`)
against the 3D joints projected through the published cameras, lens distortion included (the
2D the projected protocol lifts). Errors are pixels and, to compare people at different
distances, per cent of the person's height in the image (the projected joints' vertical extent
in that frame). The neck/nose, which MPII-16 lacks and DynaPose estimates, is left out of the
means and shown on its own line.

Prints per subject, per action group and per joint tables, then JSON. A subject whose
detections are worse explains part of a lifter's error on that subject that no training can
remove.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

import numpy as np

from dynapose.data.detections import load_detections
from dynapose.data.lift_motion import load_motion
from dynapose.evaluation.lifter import action_group
from dynapose.skeleton import JOINT_NAMES

NECK = JOINT_NAMES.index("neck")
DETECTED = [j for j in range(len(JOINT_NAMES)) if j != NECK]
#: A detection this far from the projection (per cent of the person's image height) is a miss.
MISS_PCT = 10.0


def sequence_errors(data: str, detections: str, subjects: list[str]
                    ) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """(subject, action group, errors (T, 17) px, heights (T,) px) per sequence and camera."""
    motion = load_motion(data, subjects)
    found = load_detections(detections, subjects)
    out = []
    for s in motion.sequences:
        world = motion.world[s["start"]: s["start"] + s["frames"]].astype(np.float64)
        for ci in s["cameras"]:
            cam = motion.cameras[ci]
            truth = cam.project_world(world)
            px, _ = found.get(s["subject"], s["action"], cam.name, len(truth))
            height = truth[..., 1].max(axis=1) - truth[..., 1].min(axis=1)
            out.append((s["subject"], action_group(s["action"]),
                        np.linalg.norm(px - truth, axis=-1), height))
    return out


def summary(errors: np.ndarray, heights: np.ndarray) -> dict[str, float]:
    """Means over frames and the detected joints: px, % of image height, share of misses."""
    pct = errors[:, DETECTED] / heights[:, None] * 100
    return {"frames": len(errors), "px": float(errors[:, DETECTED].mean()),
            "median_px": float(np.median(errors[:, DETECTED])), "pct_height": float(pct.mean()),
            "misses": float((pct > MISS_PCT).mean()), "height_px": float(heights.mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/h36m/data_3d_h36m.npz")
    parser.add_argument("--detections", default="../shared/data/h36m/pose_baseline_layout")
    parser.add_argument("--subjects", default="S1,S5,S6,S7,S8")
    args = parser.parse_args()
    subjects = args.subjects.split(",")
    rows = sequence_errors(args.data, args.detections, subjects)

    def gather(keep) -> tuple[np.ndarray, np.ndarray]:
        chosen = [r for r in rows if keep(r)]
        return (np.concatenate([r[2] for r in chosen]), np.concatenate([r[3] for r in chosen]))

    everything = gather(lambda r: True)
    per_subject = {s: summary(*gather(lambda r, s=s: r[0] == s)) for s in subjects}
    groups: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for s in subjects:
        for g in sorted({r[1] for r in rows if r[0] == s}):
            groups[g][s] = summary(*gather(lambda r, s=s, g=g: r[0] == s and r[1] == g))
    err, height = everything
    joints = {name: {"px": float(err[:, j].mean()),
                     "pct_height": float((err[:, j] / height * 100).mean())}
              for j, name in enumerate(JOINT_NAMES)}
    overall = summary(*everything)
    result = {"all": overall, "subjects": per_subject, "actions": dict(groups), "joints": joints}

    print(f"{'subject':8} {'frames':>8} {'mean px':>8} {'median':>7} {'% height':>9} "
          f"{'misses':>7} {'height px':>10}")
    for name, r in [*per_subject.items(), ("all", overall)]:
        print(f"{name:8} {r['frames']:8d} {r['px']:8.1f} {r['median_px']:7.1f} "
              f"{r['pct_height']:9.2f} {r['misses'] * 100:6.1f}% {r['height_px']:10.0f}")
    print(f"\n% of image height by action group (misses: over {MISS_PCT:g} %)")
    print(f"{'action':14}" + "".join(f"{s:>8}" for s in subjects))
    for g, per in groups.items():
        print(f"{g:14}" + "".join(f"{per[s]['pct_height']:8.2f}" if s in per else f"{'-':>8}"
                                  for s in subjects))
    print("\nper joint (all subjects): px, % of image height" +
          "   (neck/nose: estimated, not detected)")
    for name, r in joints.items():
        print(f"  {name:15} {r['px']:6.1f} {r['pct_height']:6.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
