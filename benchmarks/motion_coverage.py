"""How a lifter's error on Human3.6M grows with how far each pose is from its training motion.

    python benchmarks/motion_coverage.py [--checkpoint src/dynapose/weights/lifter-cmu] \
        [--train cmu:../shared/data/mocap/cmu+synthetic:100:600] \
        [--data ../shared/data/h36m/data_3d_h36m.npz] [--subjects S1,S5,S6,S7,S8] [--every 20]
    python benchmarks/motion_coverage.py --coverage-only --train MOTION [--train-subjects A,B] \
        [--recombined COPIES]

Every `--every`-th frame of each test sequence is lifted from its ground-truth projection (one
camera, the first of the subject's four; whole sequences through the network as
``evaluate-lift`` does, with flip test-time augmentation) and its protocol-1 error set against
its *coverage*: the distance (mm, mean over the 17 joints) from the test pose to the nearest
training pose, both pelvis-centred, turned to face the same way (the hips' axis along x) and
scaled to the same leg length, with the training poses mirrored too (training mirrors windows),
taken at 10 frames/s. The training motion is the checkpoint's own: its run's data (or `--train`)
and ``train_subjects``. A lifter trained with ``recombine`` also saw poses made of two training
poses' parts (:func:`dynapose.training.body_parts.recombine_parts`): `--recombined COPIES` adds
that many such poses per training pose, drawn as training draws them (default: 1 for such a
checkpoint, else 0; training sees several times more).

With `--coverage-only` no lifter runs: only the coverage of the test poses by the `--train`
motion (all its subjects, or `--train-subjects`) is measured, per band and per action.

Prints a table (frames, P1, share of frames and of the error) per coverage band and per action
with its median coverage, then JSON. A lifter limited by the motion it saw has errors that rise
with that distance; one limited by its 2D input or its size does not.
"""

from __future__ import annotations

import argparse
import itertools
import json

import numpy as np
import torch

from dynapose.camera import normalize_screen
from dynapose.data.lift_motion import load_motion
from dynapose.evaluation.lifter import action_group
from dynapose.inference.lifting import lift_sequence, load_lifter
from dynapose.io.checkpoint import read_checkpoint_config
from dynapose.skeleton import JOINT_NAMES, flip_permutation
from dynapose.training.body_parts import PARTS, recombine_parts

LEFT_HIP, RIGHT_HIP = JOINT_NAMES.index("left_hip"), JOINT_NAMES.index("right_hip")
LEG = [(JOINT_NAMES.index(a), JOINT_NAMES.index(b)) for a, b in
       (("right_hip", "right_knee"), ("right_knee", "right_ankle"),
        ("left_hip", "left_knee"), ("left_knee", "left_ankle"))]
BANDS = (0, 40, 60, 80, 100, 130, 1e9)


def canonical(world: np.ndarray) -> np.ndarray:
    """(N, 17, 3) Z-up world poses -> pelvis-centred, the hips' axis turned onto +x about the
    vertical, legs scaled to 900 mm (the sum of the four leg bones / 2)."""
    p = world - world[:, :1]
    axis = p[:, LEFT_HIP, :2] - p[:, RIGHT_HIP, :2]
    angle = -np.arctan2(axis[:, 1], axis[:, 0])
    c, s = np.cos(angle), np.sin(angle)
    x, y = p[..., 0].copy(), p[..., 1].copy()
    p[..., 0] = c[:, None] * x - s[:, None] * y
    p[..., 1] = s[:, None] * x + c[:, None] * y
    leg = sum(np.linalg.norm(p[:, a] - p[:, b], axis=-1) for a, b in LEG) / 2
    return p * (900.0 / leg)[:, None, None]


def mirrored(poses: np.ndarray) -> np.ndarray:
    """Canonical poses mirrored left/right (x -> -x, sides swapped), turned back to canonical."""
    out = poses[:, flip_permutation()].copy()
    out[..., 0] *= -1
    return canonical(out)


def nearest(test: np.ndarray, train: np.ndarray, memory: float = 2e9) -> np.ndarray:
    """Mean per-joint distance (mm) from each test pose to its nearest training pose (nearest
    by the Euclidean distance over all 51 coordinates); `memory`: bytes of distances at once."""
    tr = torch.from_numpy(train.reshape(len(train), -1)).float()
    chunk = max(1, int(memory // (4 * len(tr))))
    out = []
    for i in range(0, len(test), chunk):
        q = torch.from_numpy(test[i:i + chunk].reshape(-1, tr.shape[1])).float()
        best = torch.cdist(q, tr).argmin(1)
        gap = (q.view(-1, 17, 3) - tr[best].view(-1, 17, 3)).norm(dim=-1).mean(-1)
        out.append(gap.numpy())
    return np.concatenate(out)


def recombined(world: np.ndarray, copies: int, seed: int = 0) -> np.ndarray:
    """`copies` x N poses, each a random pose of `world` (N, 17, 3) with random parts (each of
    PARTS with probability 1/2, at least one) of another, as ``recombine`` draws them."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(copies):
        parts = rng.random((len(world), len(PARTS))) < 0.5
        none = ~parts.any(1)
        parts[none, rng.integers(0, len(PARTS), int(none.sum()))] = True
        body = torch.from_numpy(world[rng.permutation(len(world))]).float()[:, None]
        donor = torch.from_numpy(world[rng.permutation(len(world))]).float()[:, None]
        out.append(recombine_parts(body, donor, parts)[:, 0].double().numpy())
    return np.concatenate(out) if out else world[:0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="src/dynapose/weights/lifter-cmu")
    parser.add_argument("--train", default=None,
                        help="the training motion (default: the data the checkpoint names)")
    parser.add_argument("--data", default="../shared/data/h36m/data_3d_h36m.npz")
    parser.add_argument("--subjects", default="S1,S5,S6,S7,S8")
    parser.add_argument("--every", type=int, default=20)
    parser.add_argument("--coverage-only", action="store_true",
                        help="measure the coverage alone, no lifter (needs --train)")
    parser.add_argument("--train-subjects", default=None,
                        help="the training motion's subjects (default: the checkpoint's, or all)")
    parser.add_argument("--recombined", type=int, default=None,
                        help="poses made of two training poses' parts, per training pose "
                             "(default: 1 for a checkpoint trained with recombine, else 0)")
    args = parser.parse_args()

    if args.coverage_only:
        if args.train is None:
            parser.error("--coverage-only needs --train")
        subjects = args.train_subjects.split(",") if args.train_subjects else None
        copies = args.recombined or 0
    else:
        info = read_checkpoint_config(args.checkpoint)["info"]
        args.train = args.train or info["data"]
        subjects = (args.train_subjects.split(",") if args.train_subjects
                    else info["lift_config"]["train_subjects"])
        copies = (args.recombined if args.recombined is not None
                  else int(info["lift_config"].get("recombine", 0) > 0))
    motion = load_motion(args.train, subjects)
    poses = motion.world[::5].astype(np.float64)  # 10 frames/s
    train = canonical(np.concatenate([poses, recombined(poses, copies)]))
    train = np.concatenate([train, mirrored(train)])

    model = None if args.coverage_only else load_lifter(args.checkpoint, "cpu")
    test = load_motion(args.data, args.subjects.split(","))
    errors, covers, actions = [], [], []
    for s in test.sequences:
        world = test.world[s["start"]: s["start"] + s["frames"]].astype(np.float64)
        if model is None:
            errors.append(np.zeros(len(world[::args.every])))
        else:
            cam = test.cameras[s["cameras"][0]]
            points = cam.world_to_camera(world)
            kp = normalize_screen(cam.project(points), cam.width, cam.height)
            pred = lift_sequence(model, kp, flip_tta=True)[::args.every]
            target = (points - points[:, :1])[::args.every]
            errors.append(np.linalg.norm(pred - target, axis=-1).mean(-1))
        covers.append(nearest(canonical(world[::args.every]), train))
        actions += [action_group(s["action"])] * len(errors[-1])
    err, cover, act = np.concatenate(errors), np.concatenate(covers), np.array(actions)

    rows = []
    print(f"{'coverage mm':>14} {'frames':>7} {'P1 mm':>7} {'frames %':>9} {'error %':>8}")
    for lo, hi in itertools.pairwise(BANDS):
        m = (cover >= lo) & (cover < hi)
        if m.any():
            rows.append({"from": lo, "to": hi, "frames": int(m.sum()),
                         "p1": float(err[m].mean()), "share_frames": float(m.mean()),
                         "share_error": float(err[m].sum() / max(err.sum(), 1e-9))})
            r = rows[-1]
            band = f"{lo:g}-{hi:g}" if hi < 1e9 else f">= {lo:g}"
            print(f"{band:>14} {r['frames']:>7} {r['p1']:>7.1f} {100 * r['share_frames']:>9.1f} "
                  f"{100 * r['share_error']:>8.1f}")
    per_action = {}
    print(f"\n{'action':<14} {'P1 mm':>7} {'median coverage mm':>19}")
    for a in sorted(set(act)):
        m = act == a
        per_action[a] = {"p1": float(err[m].mean()), "coverage": float(np.median(cover[m]))}
        print(f"{a:<14} {per_action[a]['p1']:>7.1f} {per_action[a]['coverage']:>19.1f}")
    corr = float(np.corrcoef(cover, err)[0, 1]) if model is not None else float("nan")
    print(f"\nframes {len(err)}, P1 {err.mean():.1f} mm, correlation of error and coverage "
          f"{corr:.2f}")
    print(json.dumps({"checkpoint": args.checkpoint, "train": args.train, "recombined": copies,
                      "subjects": args.subjects, "every": args.every, "frames": len(err),
                      "p1": float(err.mean()), "correlation": corr, "bands": rows,
                      "per_action": per_action}))


if __name__ == "__main__":
    main()
