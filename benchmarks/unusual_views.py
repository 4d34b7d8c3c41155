"""A lifter's error on motion it never saw, filmed from where users film versus from Human3.6M's
studio cameras.

    python benchmarks/unusual_views.py [--checkpoint src/dynapose/weights/lifter-cmu] \
        [--motion cmu:../shared/data/mocap/cmu] [--subjects cmu-actions-test] \
        [--views 4] [--frames 1500] [--seed 1]

Each sequence of `--motion` (only `--subjects`; the default is CMU's held-out performer, never
trained on by the shipped recipes) is cut to at most `--frames` frames and filmed, as a static
camera would, by `--views` cameras drawn by :func:`dynapose.training.views.user_views` (a phone
on a table, a tripod at hip height, a ceiling corner, a zoom; aimed at the sequence's mean
pelvis; a drawn camera that loses the person in some frame is drawn again) and by the four
Human3.6M cameras of S1. The exact projection is lifted whole (flip test-time augmentation, as
``evaluate-lift``) and protocol 1 (mm) reported per camera kind, and per camera height band for
the users' views. Prints a table, then JSON.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from dynapose.camera import Camera, normalize_screen
from dynapose.data import h36m_cameras
from dynapose.data.lift_motion import load_motion
from dynapose.inference.lifting import lift_sequence, load_lifter
from dynapose.training.views import user_views

BANDS = ((0, 800, "below 0.8 m"), (800, 2000, "0.8-2 m"), (2000, 3001, "above 2 m"))


def drawn_cameras(rng: np.random.Generator, world: np.ndarray, n: int, tries: int = 50
                  ) -> list[Camera]:
    """Up to `n` user cameras aimed at the mean pelvis of `world` (T, 17, 3) mm that keep every
    joint of every frame in the picture (a static camera filming the whole sequence); drawn
    views that lose the person are drawn again, at most `tries` times in all."""
    aim = world[:, 0].mean(0)
    kept: list[Camera] = []
    for _ in range(tries):
        view = user_views(rng, aim[None])
        t = {k: v[0].double().numpy() for k, v in view.items()}
        cam = Camera(R=t["R"], T=t["T"], f=t["f"], c=t["c"], k=t["k"], p=t["p"],
                     width=int(t["size"][0]), height=int(t["size"][1]), name=f"user-{len(kept)}")
        points = cam.world_to_camera(world)
        if points[..., 2].min() < 500:
            continue
        px = cam.project(points, distort=False)
        if (px >= 0).all() and (px[..., 0] <= cam.width).all() and (px[..., 1] <= cam.height).all():
            kept.append(cam)
            if len(kept) == n:
                break
    return kept


def p1(model: torch.nn.Module, world: np.ndarray, cam: Camera) -> float:
    points = cam.world_to_camera(world)
    kp = normalize_screen(cam.project(points, distort=False), cam.width, cam.height)
    pred = lift_sequence(model, kp, flip_tta=True)
    return float(np.linalg.norm(pred - (points - points[:, :1]), axis=-1).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="src/dynapose/weights/lifter-cmu")
    parser.add_argument("--motion", default="cmu:../shared/data/mocap/cmu")
    parser.add_argument("--subjects", default="cmu-actions-test")
    parser.add_argument("--views", type=int, default=4)
    parser.add_argument("--frames", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    model = load_lifter(args.checkpoint, "cpu")
    motion = load_motion(args.motion, args.subjects.split(","), seed=args.seed)
    rng = np.random.default_rng([args.seed, 5])
    studio = [h36m_cameras.camera("S1", c) for c in h36m_cameras.CAMERA_IDS]
    user: list[tuple[float, float]] = []  # (camera height mm, P1)
    h36m: list[float] = []
    for s in motion.sequences:
        world = motion.world[s["start"]: s["start"] + min(s["frames"], args.frames)]
        world = world.astype(np.float64)
        if len(world) < 10:
            continue
        aim = world[:, 0].mean(0)
        for cam in drawn_cameras(rng, world, args.views):
            user.append((float(cam.T[2]), p1(model, world, cam)))
        # the studio cameras look at their capture area's centre: move the person there
        centred = world - np.array([aim[0], aim[1], 0.0])
        h36m += [p1(model, centred, cam) for cam in studio]
    heights, errors = np.array(user).T
    result = {"checkpoint": args.checkpoint, "motion": args.motion, "subjects": args.subjects,
              "views": len(errors), "user_p1": float(errors.mean()),
              "h36m_p1": float(np.mean(h36m)), "by_height": {}}
    print(f"{'cameras':<24} {'views':>6} {'P1 mm':>7}")
    print(f"{'Human3.6M studio':<24} {len(h36m):>6} {np.mean(h36m):>7.1f}")
    print(f"{'users, all':<24} {len(errors):>6} {errors.mean():>7.1f}")
    for lo, hi, name in BANDS:
        m = (heights >= lo) & (heights < hi)
        if m.any():
            result["by_height"][name] = float(errors[m].mean())
            print(f"{'users, ' + name:<24} {int(m.sum()):>6} {errors[m].mean():>7.1f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
