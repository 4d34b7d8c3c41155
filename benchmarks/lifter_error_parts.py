"""Where a lifter's error on Human3.6M lies: depth, proportions or size, joint by joint.

    python benchmarks/lifter_error_parts.py [--checkpoint src/dynapose/weights/lifter-cmu] \
        [--data ../shared/data/h36m/data_3d_h36m.npz] [--subjects S1,S5,S6,S7,S8] \
        [--detections ../shared/data/h36m/pose_baseline_layout] [--every 5]

Every sequence and camera is lifted whole (as ``evaluate-lift`` does, flip test-time
augmentation) from its ground-truth projection or a detector's 2D; every `--every`-th frame is
scored. Beside protocol 1 (P1, mm, pelvis-centred, camera frame) it prints what P1 would be if
one thing about the prediction were true, each an oracle that no lifter has:

* ``true size``: the prediction scaled by the one factor that fits the truth best (N-MPJPE);
* ``true bone lengths``: the predicted bone directions, each bone given its true length;
* ``true depth``: the predicted x and y with the true z (distance from the camera);
* ``true turn``: the prediction turned about the pelvis by the rotation that fits the truth
  best (Kabsch), whose mean and spread about each camera axis (degrees) are printed too: a
  lifter that leans everyone the same wrong way shows a mean far from 0;

and the mean error along the camera's x (right), y (down) and z (away) axes, per joint and per
action. A lifter whose error is mostly depth has learned the wrong prior over the poses that the
2D leaves ambiguous; one whose error is mostly proportions or size cannot read them from the 2D.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

import numpy as np

from dynapose.camera import normalize_screen
from dynapose.data.detections import load_detections
from dynapose.data.lift_motion import load_motion
from dynapose.evaluation.lifter import action_group
from dynapose.inference.lifting import lift_sequence, load_lifter
from dynapose.skeleton import JOINT_NAMES, PARENTS


def with_lengths(joints: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(N, 17, 3) joints rebuilt from the pelvis outwards with their own bone directions and the
    given bone lengths (N, 17), entry j the bone from joint j's parent to j (mm)."""
    out = np.zeros_like(joints)
    for j, p in enumerate(PARENTS):
        if p < 0:
            continue
        bone = joints[:, j] - joints[:, p]
        out[:, j] = out[:, p] + bone / np.linalg.norm(bone, axis=-1, keepdims=True) \
            * lengths[:, j:j + 1]
    return out


def lengths_of(joints: np.ndarray) -> np.ndarray:
    """(N, 17, 3) -> (N, 17) bone lengths, entry j from joint j's parent to j (0 at the pelvis)."""
    out = np.zeros(joints.shape[:2])
    for j, p in enumerate(PARENTS):
        if p >= 0:
            out[:, j] = np.linalg.norm(joints[:, j] - joints[:, p], axis=-1)
    return out


def best_turns(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations R with ``pred @ R`` closest to `target` (N, 17, 3) (Kabsch, no
    reflection)."""
    u, _, vt = np.linalg.svd(np.einsum("nji,njk->nik", pred, target))
    flip = np.sign(np.linalg.det(u @ vt))
    u[:, :, 2] *= flip[:, None]
    return u @ vt


def turn_degrees(turns: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations applied as ``x @ R`` -> (N, 3) rotation vectors (degrees) of the
    turn each makes, about the camera's x, y and z axes."""
    r = np.transpose(turns, (0, 2, 1))  # as acting on column vectors
    angle = np.arccos(np.clip((np.trace(r, axis1=1, axis2=2) - 1) / 2, -1.0, 1.0))
    axis = np.stack([r[:, 2, 1] - r[:, 1, 2], r[:, 0, 2] - r[:, 2, 0], r[:, 1, 0] - r[:, 0, 1]], 1)
    norm = np.linalg.norm(axis, axis=1, keepdims=True)
    return np.degrees(angle)[:, None] * axis / np.where(norm > 0, norm, 1.0)


def error_parts(pred: np.ndarray, target: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame, per-joint errors (N, 17) of pelvis-centred camera-frame joints (mm): the
    prediction's and the three oracles'; and the absolute error along each camera axis
    (N, 17, 3)."""
    scale = (pred * target).sum((1, 2)) / (pred * pred).sum((1, 2))
    depth = pred.copy()
    depth[..., 2] = target[..., 2]
    turns = best_turns(pred, target)
    return {
        "P1": np.linalg.norm(pred - target, axis=-1),
        "true turn": np.linalg.norm(pred @ turns - target, axis=-1),
        "turn": turn_degrees(turns),
        "true size": np.linalg.norm(pred * scale[:, None, None] - target, axis=-1),
        "true bone lengths": np.linalg.norm(with_lengths(pred, lengths_of(target)) - target,
                                            axis=-1),
        "true depth": np.linalg.norm(depth - target, axis=-1),
        "axes": np.abs(pred - target),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default="src/dynapose/weights/lifter-cmu")
    parser.add_argument("--data", default="../shared/data/h36m/data_3d_h36m.npz")
    parser.add_argument("--subjects", default="S1,S5,S6,S7,S8")
    parser.add_argument("--detections", default=None)
    parser.add_argument("--every", type=int, default=5)
    args = parser.parse_args()
    subjects = args.subjects.split(",")
    model = load_lifter(args.checkpoint, "cpu")
    found = load_detections(args.detections, subjects) if args.detections else None
    motion = load_motion(args.data, subjects)
    parts: dict[str, dict[str, list[np.ndarray]]] = defaultdict(lambda: defaultdict(list))
    for s in motion.sequences:
        world = motion.world[s["start"]: s["start"] + s["frames"]].astype(np.float64)
        for ci in s["cameras"]:
            cam = motion.cameras[ci]
            if found is not None and not found.has(s["subject"], s["action"], cam.name):
                continue
            points = cam.world_to_camera(world)
            px = cam.project(points) if found is None else \
                found.get(s["subject"], s["action"], cam.name, len(points))[0]
            pred = lift_sequence(model, normalize_screen(px, cam.width, cam.height), None,
                                 flip_tta=True)[::args.every]
            target = (points - points[:, :1])[::args.every]
            for name, err in error_parts(pred, target).items():
                parts[action_group(s["action"])][name].append(err)
    per_action = {a: {k: np.concatenate(v) for k, v in d.items()} for a, d in parts.items()}
    kinds = ("P1", "true size", "true bone lengths", "true depth", "true turn")
    print(f"{'action':<14}" + "".join(f"{k:>18}" for k in kinds) + "   |x|   |y|   |z|"
          "  turn about x, y, z: mean (spread), deg")
    table = {}
    for action in [*sorted(per_action), "average"]:
        rows = list(per_action.values()) if action == "average" else [per_action[action]]
        row = {k: float(np.mean([r[k].mean() for r in rows])) for k in kinds}
        axes = np.mean([r["axes"].mean((0, 1)) for r in rows], 0)
        row.update(zip(("x", "y", "z"), axes, strict=True))
        turn = np.concatenate([r["turn"] for r in rows])
        row.update(zip(("turn x", "turn y", "turn z"), turn.mean(0), strict=True))
        row.update(zip(("spread x", "spread y", "spread z"), turn.std(0), strict=True))
        table[action] = {k: round(float(v), 1) for k, v in row.items()}
        print(f"{action:<14}" + "".join(f"{row[k]:18.1f}" for k in kinds)
              + "".join(f"{row[a]:6.1f}" for a in "xyz") + "  "
              + ", ".join(f"{row['turn ' + a]:.1f} ({row['spread ' + a]:.1f})" for a in "xyz"))
    joints = {name: {k: round(float(np.mean([r[k][:, j].mean() for r in per_action.values()])), 1)
                     for k in kinds} for j, name in enumerate(JOINT_NAMES)}
    print("per joint (P1 / with true depth):",
          ", ".join(f"{n} {v['P1']:.0f}/{v['true depth']:.0f}" for n, v in joints.items()))
    print(json.dumps({"checkpoint": args.checkpoint, "subjects": subjects,
                      "two_d": args.detections or "ground-truth projection",
                      "every": args.every, "per_action": table, "per_joint": joints}))


if __name__ == "__main__":
    main()
