"""How well export-motion's world frame and BVH export do on Human3.6M (dynapose.animation).

    python benchmarks/animation_h36m.py [--data ../shared/data/h36m/data_3d_h36m.npz]
        [--subjects S8] [--inputs gt noise20 lifter] [--bvhio N] [--json OUT.json]

Every sequence of the subjects, seen by each of its 4 published cameras, every frame. The
input is a camera-frame prediction (F, 17, 3) mm:

* ``gt``: the ground-truth camera-frame joints;
* ``noiseK``: the same with independent Gaussian noise of K mm (per coordinate, joint and frame;
  seeded);
* ``lifter``: the shipped lifter (``dynapose/weights/lifter-cmu``; the figures in
  docs/results.md were measured with the procedural-only lifter shipped before it) on the
  ground-truth 2D projections, rigid bones, the root placed by reprojection onto
  the undistorted 2D with the camera's true intrinsics -- what ``predict --lifter`` does.

The truth: world joints (Z up, floor at z = 0 in Human3.6M) and the published cameras, so the
floor's normal in the camera frame is ``R @ (0, 0, 1)`` and the camera height ``T_z``. Both the
estimate and the truth are put in the world frame of :func:`dynapose.scene.floor.
world_frame_of` (origin on the floor below the camera, Y up), and compared there:

* floor: angle between the normals (deg), camera height error (mm), pitch and roll errors;
* root (pelvis) position error in the world frame, mm (3D, vertical, horizontal), averaged over
  all frames;
* smoothing (none / offline / causal, the export's default windows): MPJPE and MPJVE against
  the true joints put in the same estimated world frame (so the floor's error does not mask
  the smoothing's), jitter (mm/frame^2), foot skating (mm per contact), and the lag: the time
  shift (frames, positive = late) of the smoothed joints that best matches that truth;
* BVH export (``export_motion`` with ``origin="camera"``): the round trip (DynaPose's reader on
  every file; ``bvhio`` from PyPI on the first N frames of each, if installed) and the change
  the export makes (rigid bones) against its input.

Camera 54138969 is used for the BVH files (one per sequence); all four for the rest.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from dynapose.animation import ik
from dynapose.animation.export import PredictionJoints, export_motion
from dynapose.animation.quality import jitter, motion_quality
from dynapose.animation.smooth import smooth, window_frames
from dynapose.scene.floor import estimate_floor, world_frame_of

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/h36m/data_3d_h36m.npz"
FPS = 50.0


def lifted(lifter: Any, cam: Any, points: np.ndarray) -> np.ndarray:
    """The lifter's camera-frame joints from the true 2D (see the module docstring)."""
    from dynapose.camera import normalize_screen, solve_root_translation
    from dynapose.inference.lifting import lift_sequence
    from dynapose.inference.refine import rigid_bones

    px = cam.project(points)
    rel = rigid_bones(lift_sequence(lifter, normalize_screen(px, cam.width, cam.height),
                                    flip_tta=True))
    root = solve_root_translation(rel, cam.rays(px), None, 1.0, 0.0, 0.0)
    return rel + root[:, None, :]


def lag_frames(pred: np.ndarray, truth: np.ndarray, max_shift: int = 4) -> float:
    """The shift s (frames, parabola-refined) minimising the error of pred(t) against
    truth(t - s): positive = pred lags the truth."""
    errs = []
    for s in range(-max_shift, max_shift + 1):
        a = pred[max_shift + s: len(pred) - max_shift + s]
        b = truth[max_shift: len(truth) - max_shift]
        errs.append(float(np.linalg.norm(a - b, axis=-1).mean()))
    e = np.array(errs)
    i = int(np.argmin(e))
    if 0 < i < len(e) - 1:
        den = e[i - 1] - 2 * e[i] + e[i + 1]
        off = 0.5 * (e[i - 1] - e[i + 1]) / den if den > 0 else 0.0
    else:
        off = 0.0
    return -(i - max_shift + off)


def bvhio_positions(path: Path, frames: int) -> np.ndarray:
    """The 17 joints of the first `frames` frames (frames, 17, 3), in file units, read by
    bvhio (PyPI) from a copy of the file cut to those frames (bvhio reads every frame)."""
    import bvhio

    head, motion = path.read_text().split("MOTION\n")
    lines = motion.splitlines()
    cut = path.with_suffix(".cut.bvh")
    cut.write_text(head + "MOTION\n" + f"Frames: {frames}\n" + lines[1] + "\n"
                   + "\n".join(lines[2: 2 + frames]) + "\n")
    root = bvhio.readAsHierarchy(str(cut))
    cut.unlink()
    by_name = {j.Name: j for j, _, _ in root.layout()}
    wanted = [by_name[ik.RIG_NAMES[i]] for i in ik.RIG_OF_JOINT]
    out = np.zeros((frames, 17, 3))
    for t in range(frames):
        root.loadPose(t)
        out[t] = [tuple(j.PositionWorld) for j in wanted]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--subjects", nargs="+", default=["S8"])
    ap.add_argument("--inputs", nargs="+", default=["gt", "noise20", "lifter"])
    ap.add_argument("--bvhio", type=int, default=200,
                    help="frames per file read back with bvhio (0: skip)")
    ap.add_argument("--max-sequences", type=int, default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    from dynapose.data.lift_motion import load_motion

    started = time.perf_counter()
    md = load_motion(args.data, args.subjects)
    seqs = md.sequences[: args.max_sequences] if args.max_sequences else md.sequences
    lifter = None
    if "lifter" in args.inputs:
        from dynapose.inference.lifting import default_lifter_path, load_lifter

        lifter = load_lifter(default_lifter_path())
    have_bvhio = False
    if args.bvhio:
        try:
            import bvhio  # noqa: F401
            have_bvhio = True
        except ImportError:
            print("bvhio not installed: third-party round trip skipped", file=sys.stderr)
    rng = np.random.default_rng(0)
    result: dict[str, Any] = {"data": args.data, "subjects": args.subjects,
                              "sequences": len(seqs), "inputs": {}}
    tmp = Path(tempfile.mkdtemp(prefix="anim-h36m-"))
    for kind in args.inputs:
        floor_rows: list[dict[str, float]] = []
        root_sum = np.zeros(3)
        frames = 0
        sm = {m: defaultdict(float) for m in ("none", "offline", "causal")}
        trip: dict[str, list[float]] = defaultdict(list)
        per_action: dict[str, list[float]] = defaultdict(list)
        for s in seqs:
            world_zup = md.world[s["start"]: s["start"] + s["frames"]].astype(np.float64)
            for ci in s["cameras"]:
                cam = md.cameras[ci]
                truth_cam = cam.world_to_camera(world_zup)
                if kind == "gt":
                    pred = truth_cam
                elif kind.startswith("noise"):
                    pred = truth_cam + rng.normal(0.0, float(kind[5:]), truth_cam.shape)
                elif kind == "lifter":
                    pred = lifted(lifter, cam, truth_cam)
                else:
                    raise SystemExit(f"unknown input {kind}")
                floor = estimate_floor(pred, None, FPS)
                up_true = cam.R @ np.array([0.0, 0.0, 1.0])
                w_est = world_frame_of(floor.up, floor.camera_height)
                w_true = world_frame_of(up_true, float(cam.T[2]))
                est = w_est.to_world(pred)
                tru = w_true.to_world(truth_cam)
                tilt_true = {"pitch_deg": float(np.degrees(np.arcsin(-up_true[2]))),
                             "roll_deg": float(np.degrees(np.arcsin(up_true[0])))}
                t_est = floor.camera_tilt()
                d = est[:, 0] - tru[:, 0]
                row = {
                    "angle_deg": float(np.degrees(np.arccos(np.clip(floor.up @ up_true, -1,
                                                                    1)))),
                    "height_err_mm": floor.camera_height - float(cam.T[2]),
                    "pitch_err_deg": t_est["pitch_deg"] - tilt_true["pitch_deg"],
                    "roll_err_deg": t_est["roll_deg"] - tilt_true["roll_deg"],
                    "steps": floor.steps, "tilt_uncertainty_deg": floor.tilt_uncertainty_deg,
                    "root_mm": float(np.linalg.norm(d, axis=-1).mean()),
                }
                floor_rows.append(row)
                per_action[s["action"].split(" ")[0]].append(row["root_mm"])
                root_sum += [np.linalg.norm(d, axis=-1).sum(), np.abs(d[:, 1]).sum(),
                             np.linalg.norm(d[:, [0, 2]], axis=-1).sum()]
                frames += len(d)
                valid = np.ones(len(est), dtype=bool)
                # smoothing is judged against the truth in the same (estimated) world frame, so
                # that the floor's error does not mask it
                ref = w_est.to_world(truth_cam)
                for mode in sm:
                    out = smooth(est, mode, window_frames(mode, FPS))  # type: ignore[arg-type]
                    q = motion_quality(out, valid, FPS)
                    n = len(out)
                    sm[mode]["frames"] += n
                    sm[mode]["mpjpe"] += float(np.linalg.norm(out - ref, axis=-1).mean()) * n
                    vel = np.linalg.norm(np.diff(out, axis=0) - np.diff(ref, axis=0), axis=-1)
                    sm[mode]["mpjve"] += float(vel.mean()) * n
                    sm[mode]["jitter"] += jitter(out, valid) * n
                    sm[mode]["skate"] += q["skating"]["mm_per_contact"] * n
                    sm[mode]["lag"] += lag_frames(out, ref) * n
                if cam.name == "54138969":
                    bvh = tmp / f"{s['subject']}_{s['action']}_{kind}.bvh".replace(" ", "_")
                    rep = export_motion(PredictionJoints(pred, valid, FPS, False, "bench"), bvh,
                                        origin="camera", unit="cm")
                    trip["dynapose_mean"].append(rep["round_trip_mm"]["mean"])
                    trip["dynapose_max"].append(rep["round_trip_mm"]["max"])
                    trip["change_mean"].append(rep["change_mm"]["mean"])
                    trip["bone_spread_before"].append(rep["quality_before"]["bone_spread_mm"])
                    trip["bone_spread_after"].append(rep["quality_after"]["bone_spread_mm"])
                    trip["frames"].append(rep["frames"])
                    if have_bvhio:
                        n = min(args.bvhio, rep["frames"])
                        from dynapose.animation.export import read_back

                        ours = read_back(bvh, "cm")[0][:n]
                        theirs = bvhio_positions(bvh, n) * 10.0
                        e = np.linalg.norm(theirs - ours, axis=-1)
                        trip["bvhio_vs_dynapose_max"].append(float(e.max()))
                    bvh.unlink()
        rows = floor_rows

        def stats(key: str, rows: list[dict[str, float]] = rows) -> dict[str, float]:
            v = np.abs(np.array([r[key] for r in rows]))
            return {"mean": round(float(v.mean()), 2), "median": round(float(np.median(v)), 2),
                    "p90": round(float(np.percentile(v, 90)), 2),
                    "max": round(float(v.max()), 2)}

        res: dict[str, Any] = {
            "clips": len(rows), "frames": frames,
            "floor_angle_deg": stats("angle_deg"), "camera_height_abs_err_mm":
            stats("height_err_mm"), "camera_height_signed_err_mm_mean":
            round(float(np.mean([r["height_err_mm"] for r in rows])), 1),
            "pitch_abs_err_deg": stats("pitch_err_deg"), "roll_abs_err_deg":
            stats("roll_err_deg"),
            "root_world_mm": {"3d": round(root_sum[0] / frames, 1),
                              "vertical": round(root_sum[1] / frames, 1),
                              "horizontal": round(root_sum[2] / frames, 1)},
            "root_world_mm_per_action": {a: round(float(np.mean(v)), 1)
                                         for a, v in sorted(per_action.items())},
            "clips_with_tilt_from_body": int(sum(r["tilt_uncertainty_deg"] > 3.0
                                                 for r in rows)),
            "smoothing": {m: {k: round(v / d["frames"], 3) for k, v in d.items()
                              if k != "frames"} for m, d in sm.items()},
            "bvh": {"files": len(trip["frames"]), "frames": int(sum(trip["frames"])),
                    "round_trip_dynapose_mean_mm": float(np.mean(trip["dynapose_mean"])),
                    "round_trip_dynapose_max_mm": float(np.max(trip["dynapose_max"])),
                    "export_change_mean_mm": float(np.mean(trip["change_mean"])),
                    "bone_spread_before_mm": float(np.mean(trip["bone_spread_before"])),
                    "bone_spread_after_mm": float(np.mean(trip["bone_spread_after"]))},
        }
        if trip["bvhio_vs_dynapose_max"]:
            res["bvh"]["bvhio_frames_per_file"] = args.bvhio
            res["bvh"]["bvhio_vs_dynapose_max_mm"] = float(np.max(trip["bvhio_vs_dynapose_max"]))
        result["inputs"][kind] = res
        print(kind, json.dumps(res, indent=1), flush=True)
    result["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    print(f"{result['seconds']} s")


if __name__ == "__main__":
    main()
