"""Measure how the CMU sets' joint definitions differ from Human3.6M's (a measurement only).

    PYTHONPATH=src python benchmarks/cmu_joint_definitions.py \
        [--cmu ../shared/data/mocap/cmu] [--h36m ../shared/data/h36m/data_3d_h36m.npz] [--json]

For each CMU set, as the rig gives it ("raw": mapped to the 17 joints, Z up) and as
:func:`dynapose.data.cmu.canonical_joints` corrects it ("canonical"), and for DynaPose's
procedural motion, against the Human3.6M subjects in the npz (S1, S5, S6, S7, S8):

* body-frame mean positions (mm) of the trunk and head joints: origin the set's own pelvis, axes
  forward / left / up of the torso (left: right hip to left hip; up: pelvis to thorax made
  orthogonal; forward = left x up), averaged over every 4th frame (Human3.6M: every 8th);
* the distance of each such mean from Human3.6M's, after scaling the set to Human3.6M's leg
  length (thigh + shin), and its sum over those joints / 17: what a perfect lifter that kept
  the set's definitions would lose in protocol 1 on those joints alone (limbs not counted);
* median bone lengths and their ratio to Human3.6M's.

Nothing here feeds the CMU loader: the corrections it ships use no Human3.6M data.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from dynapose.data import cmu
from dynapose.data.h36m import load_npz_3d
from dynapose.skeleton import BONES, H36M_32_TO_17, JOINT_NAMES

ROOT = Path(__file__).resolve().parents[1]
TRUNK = [JOINT_NAMES.index(n) for n in ("right_hip", "spine", "thorax", "neck", "head",
                                          "left_shoulder")]
SYMMETRIC = {"right_hip": "left_hip", "left_shoulder": "right_shoulder"}  # also counted


def body_frame(world: np.ndarray) -> np.ndarray:
    """(T, 17, 3) Z-up joints -> the same relative to the pelvis in torso axes (fwd, left, up)."""
    left = world[:, 4] - world[:, 1]
    left /= np.linalg.norm(left, axis=-1, keepdims=True)
    up = world[:, 8] - world[:, 0]
    up -= (up * left).sum(-1, keepdims=True) * left
    up /= np.linalg.norm(up, axis=-1, keepdims=True)
    axes = np.stack([np.cross(left, up), left, up], -1)  # columns
    return np.einsum("tjc,tcd->tjd", world - world[:, :1], axes)


def bones(world: np.ndarray) -> np.ndarray:
    return np.stack([np.linalg.norm(world[:, c] - world[:, p], axis=-1) for c, p in BONES], -1)


def leg(world: np.ndarray) -> float:
    b = np.median(bones(world), 0)
    names = [JOINT_NAMES[c] for c, _ in BONES]
    return float(np.mean([b[names.index(f"{s}_knee")] + b[names.index(f"{s}_ankle")]
                          for s in ("left", "right")]))


def cmu_sets(folder: Path) -> dict[str, np.ndarray]:
    out: dict[str, list[np.ndarray]] = {}
    for spec in cmu.SETS:
        for _, pos, fps in cmu.read_set(folder, spec):
            world = cmu.y_up_to_z_up(pos)
            upper = None
            if world.shape[1] == 38:
                upper, world = world[:, cmu.ASF_UPPER_BACK], world[:, list(cmu.ACTIONS_38_TO_17)]
            spans, _ = cmu.clean_spans(world, fps)
            keep = np.concatenate([np.arange(s, e) for s, e in spans])[::4]
            canon = cmu.canonical_joints(world, spec.name, upper)
            out.setdefault(f"{spec.name} raw", []).append(world[keep])
            out.setdefault(f"{spec.name} canonical", []).append(canon[keep])
    return {k: np.concatenate(v) for k, v in out.items()}


def synthetic() -> np.ndarray:
    from dynapose.data.lift_motion import synthetic_motion

    return synthetic_motion(48, 300, seed=0).world[::4].astype(np.float64)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cmu", default=str(ROOT.parent / "shared/data/mocap/cmu"))
    ap.add_argument("--h36m", default=str(ROOT.parent / "shared/data/h36m/data_3d_h36m.npz"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    raw = load_npz_3d(args.h36m)
    h36m = np.concatenate([a[::8][:, list(H36M_32_TO_17)] for s in sorted(raw)
                           for a in raw[s].values()])
    sets = {"h36m": h36m, **cmu_sets(Path(args.cmu)), "synthetic": synthetic()}
    ref_mean, ref_leg = body_frame(h36m).mean(0), leg(h36m)
    ref_bones = np.median(bones(h36m), 0)
    report: dict[str, dict[str, object]] = {}
    for name, world in sets.items():
        mean = body_frame(world).mean(0)
        scale = ref_leg / leg(world)
        gaps = {JOINT_NAMES[j]: float(np.linalg.norm(mean[j] * scale - ref_mean[j]))
                for j in TRUNK}
        counted = list(gaps.values()) + [
            float(np.linalg.norm(mean[JOINT_NAMES.index(o)] * scale
                                 - ref_mean[JOINT_NAMES.index(o)]))
            for o in SYMMETRIC.values()]
        b = np.median(bones(world), 0)
        report[name] = {
            "frames": len(world), "leg_mm": leg(world),
            "body_frame_mm": {JOINT_NAMES[j]: [round(float(v)) for v in mean[j]] for j in TRUNK},
            "gap_to_h36m_scaled_mm": {k: round(v) for k, v in gaps.items()},
            "trunk_gap_per_17_joints_mm": round(sum(counted) / 17, 1),
            "bone_mm": {f"{JOINT_NAMES[p]}-{JOINT_NAMES[c]}": round(float(v))
                        for (c, p), v in zip(BONES, b, strict=True)},
            "bone_ratio_to_h36m": [round(float(v), 2) for v in b / ref_bones],
        }
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print("body frame (forward, left, up) mm, origin the set's pelvis; "
          "gap = |scaled mean - Human3.6M mean| mm")
    for name, r in report.items():
        pos, gap = r["body_frame_mm"], r["gap_to_h36m_scaled_mm"]
        assert isinstance(pos, dict) and isinstance(gap, dict)
        print(f"{name:20s} leg {r['leg_mm']:5.0f}  "
              + "  ".join(f"{k.split('_')[-1][:5]} {pos[k]} gap {gap[k]}" for k in pos)
              + f"  | trunk gap / 17: {r['trunk_gap_per_17_joints_mm']}")
    print("\nbone ratio to Human3.6M (bones: " + ", ".join(
        f"{JOINT_NAMES[p][:6]}-{JOINT_NAMES[c][:6]}" for c, p in BONES) + ")")
    for name, r in report.items():
        print(f"{name:20s} " + " ".join(f"{v:4.2f}" for v in r["bone_ratio_to_h36m"]))  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
