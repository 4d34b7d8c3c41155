"""A prediction -> an animation: world frame, rigid bones, joint rotations, a BVH file.

:func:`export_motion` reads what ``dynapose predict`` wrote (a prediction folder, its
``joints.npz`` or ``joints.json``, or a plain ``.npy`` of (F, 17, 3) camera-frame mm) and:

1. finds the floor and the world frame (:mod:`dynapose.scene.floor`); a pelvis-relative
   prediction gets a trajectory from its planted feet (:func:`~dynapose.scene.floor.
   foot_locked_trajectory`);
2. fills gap frames (no person) by linear interpolation between the frames around them (the
   first/last pose held at the ends): a BVH has a pose in every frame;
3. smooths, if asked (:mod:`dynapose.animation.smooth`; ``causal`` adds no lag);
4. gives every bone one length for the clip (:func:`dynapose.inference.refine.rigid_bones`'s: the
   median over the frames with a person, left and right averaged);
5. solves the rotations (:mod:`dynapose.animation.ik`) and writes the BVH at the prediction's
   frame rate (:mod:`dynapose.animation.bvh_write`), atomically;
6. reads the file back with DynaPose's BVH reader and checks it against the posed joints.

It returns a report (and writes it as JSON with ``report_path``): the floor and camera, what was
assumed, the quality measures of :mod:`dynapose.animation.quality` before (the prediction in the
world frame) and after (the exported motion), and the round trip's error.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dynapose.animation import ik
from dynapose.animation.bvh_write import UNITS, write_bvh
from dynapose.animation.quality import motion_quality
from dynapose.animation.smooth import MODES, Mode, smooth, window_frames
from dynapose.data.bvh import bvh_positions, parse_bvh
from dynapose.data.keypoints import fill_gaps
from dynapose.errors import DynaPoseError
from dynapose.inference.refine import sequence_bone_lengths, with_bone_lengths
from dynapose.io.atomic import atomic_path, atomic_write_text
from dynapose.scene import rotations
from dynapose.scene.feet import foot_locked_trajectory
from dynapose.scene.floor import (
    ANKLE_HEIGHT_MM,
    FloorEstimate,
    Origin,
    estimate_floor,
    world_frame,
)
from dynapose.skeleton import NUM_JOINTS

#: Largest joint error (mm) the read-back check accepts between the file and the posed joints.
ROUND_TRIP_TOLERANCE_MM = 0.01


@dataclass
class PredictionJoints:
    """What export needs from a prediction. joints (F, 17, 3) float64 mm, camera frame (NaN in
    gap frames); valid (F,) bool; fps; relative: the joints are pelvis-relative (a model
    trained on ``targets: root``); source: the file read."""

    joints: np.ndarray
    valid: np.ndarray
    fps: float
    relative: bool
    source: str


def _is_relative(header: dict[str, Any]) -> bool:
    frame = str(header.get("coordinate_frame", ""))
    model = header.get("model") or {}
    return frame.startswith("pelvis-relative") or (isinstance(model, dict)
                                                   and model.get("targets") == "root")


def read_prediction(path: str | os.PathLike[str], fps: float | None = None) -> PredictionJoints:
    """Read a prediction folder (its joints.npz, else joints.json), a joints.npz / joints.json
    file, or a .npy (F, 17, 3) camera-frame mm (needs `fps`). `fps` overrides the file's.
    Raises DynaPoseError naming the file for anything unusable."""
    p = Path(path)
    if p.is_dir():
        for name in ("joints.npz", "joints.json"):
            if (p / name).is_file():
                p = p / name
                break
        else:
            raise DynaPoseError("no joints.npz or joints.json in this prediction folder", path)
    if not p.is_file():
        raise DynaPoseError("no such prediction file or folder", p)
    header: dict[str, Any] = {}
    file_fps: float | None = None
    valid: np.ndarray | None
    try:
        if p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as data:
                if "joints" not in data:
                    raise DynaPoseError("no 'joints' array (not a DynaPose joints.npz)", p)
                joints = np.asarray(data["joints"], dtype=np.float64)
                valid = np.asarray(data["valid"], dtype=bool) if "valid" in data else None
                file_fps = float(data["fps"]) if "fps" in data else None
                if "meta" in data:
                    header = json.loads(str(data["meta"]))
        elif p.suffix == ".json":
            doc = json.loads(p.read_text(encoding="utf-8"))
            if not isinstance(doc, dict) or not isinstance(doc.get("frames"), list):
                raise DynaPoseError("no 'frames' list (not a DynaPose joints.json)", p)
            header = doc
            file_fps = float(doc["fps"]) if doc.get("fps") is not None else None
            rows = [fr.get("joints") if isinstance(fr, dict) else None for fr in doc["frames"]]
            valid = np.array([r is not None for r in rows], dtype=bool)
            joints = np.full((len(rows), NUM_JOINTS, 3), np.nan)
            for i, r in enumerate(rows):
                if r is not None:
                    joints[i] = np.asarray(r, dtype=np.float64)
        elif p.suffix == ".npy":
            joints = np.asarray(np.load(p, allow_pickle=False), dtype=np.float64)
            valid = None
        else:
            raise DynaPoseError("expected a prediction folder, joints.npz, joints.json or .npy",
                                p)
    except DynaPoseError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DynaPoseError(f"cannot read prediction ({exc})", p) from None
    if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3) or len(joints) == 0:
        raise DynaPoseError(f"joints are {joints.shape}, expected (frames, 17, 3)", p)
    finite = np.isfinite(joints).all(axis=(1, 2))
    if valid is None:
        valid = np.asarray(finite, dtype=bool)
    if valid.shape != (len(joints),):
        raise DynaPoseError(f"'valid' is {valid.shape}, expected ({len(joints)},)", p)
    bad = np.flatnonzero(valid & ~finite)
    if len(bad):
        raise DynaPoseError(f"frame {int(bad[0])} is marked as holding a person but its joints "
                            "are not all finite", p)
    rate = fps if fps is not None else file_fps
    if rate is None or not (np.isfinite(rate) and rate > 0):
        raise DynaPoseError(f"no usable frame rate ({rate}): pass fps (--fps)", p)
    return PredictionJoints(np.where(valid[:, None, None], joints, np.nan), valid, float(rate),
                            _is_relative(header), os.fspath(p))


def export_motion(prediction: str | os.PathLike[str] | PredictionJoints,
                  bvh_path: str | os.PathLike[str], *, smoothing: Mode = "none",
                  window_s: float | None = None, unit: str = "cm", origin: Origin = "start",
                  fps: float | None = None, report_path: str | os.PathLike[str] | None = None,
                  world_path: str | os.PathLike[str] | None = None,
                  ankle_height: float = ANKLE_HEIGHT_MM,
                  floor: FloorEstimate | None = None) -> dict[str, Any]:
    """Write `prediction` as a BVH animation (module docstring); returns the report.

    smoothing: "none", "offline" (centred, zero phase) or "causal" (no lag); window_s: its
    window (default :mod:`dynapose.animation.smooth`'s). unit: the BVH's length unit (mm, cm,
    m). origin: "start" (the floor below the first pelvis) or "camera" (below the camera).
    fps: overrides the prediction's frame rate. report_path: also write the report as JSON.
    world_path: also write an .npz with the world joints before export (``world``, NaN in
    gaps), the exported joints (``exported``), ``valid``, ``contacts`` (F, 2), ``fps`` and the
    camera-to-world ``rotation``/``translation``. floor: the floor to stand on instead of the
    one found from this prediction's feet (several people in one world frame:
    :mod:`dynapose.people.motion`).
    """
    if smoothing not in MODES:
        raise DynaPoseError(f"unknown smoothing {smoothing!r} (one of {', '.join(MODES)})")
    if unit not in UNITS:
        raise DynaPoseError(f"unknown length unit {unit!r} (one of {', '.join(UNITS)})")
    pred = prediction if isinstance(prediction, PredictionJoints) else \
        read_prediction(prediction, fps)
    joints, valid, rate = pred.joints, pred.valid.copy(), pred.fps
    if not valid.any():
        raise DynaPoseError("no frame holds a person: nothing to animate", pred.source)
    if floor is None:
        floor = estimate_floor(joints, valid, rate, ankle_height, relative=pred.relative)
    frame = world_frame(floor, joints, valid, "camera" if pred.relative else origin)
    world = frame.to_world(joints)
    assumptions = list(floor.assumptions)
    if pred.relative:
        rel = world - world[:, :1]
        traj = foot_locked_trajectory(fill_gaps(rel, valid), rate, ankle_height)
        traj -= np.array([traj[valid][0, 0], 0.0, traj[valid][0, 2]])
        world = rel + traj[:, None, :]
        world[~valid] = np.nan
        assumptions.append("pelvis-relative joints: the trajectory follows the supporting foot "
                           "(the lower one, not moving forward), which rests on the floor (no "
                           "flight in jumps or runs)")
    before = motion_quality(world, valid, rate, ankle_height)

    gaps = int((~valid).sum())
    filled = fill_gaps(world, valid)
    if gaps:
        assumptions.append(f"{gaps} frame(s) without a person: poses interpolated linearly "
                           "between the frames around them (held at the clip's ends)")
    window = window_frames(smoothing, rate, window_s)
    smoothed = smooth(filled, smoothing, window)
    lengths = sequence_bone_lengths(smoothed[valid])
    posed = with_bone_lengths(smoothed, lengths)

    glob = ik.solve(posed)
    local = ik.local_rotations(glob)
    offsets = ik.rest_offsets(lengths)
    angles = rotations.matrix_to_euler_zxy(local)
    write_bvh(bvh_path, offsets, posed[:, 0], angles, 1.0 / rate, unit)

    back, read_fps = read_back(bvh_path, unit)
    err = np.linalg.norm(back - posed, axis=-1)
    if not np.isfinite(back).all() or err.max() > ROUND_TRIP_TOLERANCE_MM:
        raise DynaPoseError(f"the written BVH does not reproduce the posed joints (max error "
                            f"{float(np.nanmax(err)):.4g} mm)", bvh_path)
    after = motion_quality(back, np.ones(len(back), dtype=bool), rate, ankle_height)
    changed = np.linalg.norm(back[valid] - world[valid], axis=-1)
    report: dict[str, Any] = {
        "prediction": pred.source, "bvh": os.fspath(bvh_path), "frames": len(joints),
        "fps": rate, "frames_without_person": gaps, "unit": unit,
        "rig": {"joints": list(ik.RIG_NAMES), "channels": "root: Xposition Yposition "
                "Zposition Zrotation Xrotation Yrotation; others: Zrotation Xrotation Yrotation "
                "(R = Rz Rx Ry, degrees, relative to the parent)",
                "bone_lengths_mm": [round(float(v), 2) for v in lengths]},
        "world": {"axes": "Y up (floor at y = 0), X the camera's x axis on the floor, Z = X x Y "
                          "(towards the camera)",
                  "origin": "below the camera" if pred.relative or origin == "camera"
                  else "below the first pelvis", "relative_input": pred.relative,
                  "floor_normal_in_camera": [round(float(v), 6) for v in floor.up],
                  "camera": {k: round(v, 3) for k, v in floor.camera_tilt().items()}
                  | {"position_mm": [round(float(v), 2) for v in frame.camera_position]},
                  "steps": floor.steps, "places": floor.places,
                  "place_support_mm": round(floor.support_mm, 1),
                  "tilt_uncertainty_deg": round(floor.tilt_uncertainty_deg, 2),
                  "angle_to_body_up_deg": round(floor.prior_angle_deg, 2),
                  "ankle_height_mm": ankle_height},
        "assumptions": assumptions,
        "smoothing": {"mode": smoothing, "window_frames": window,
                      "lag": "none: " + ("symmetric window" if smoothing == "offline" else
                                         "quadratic fit read at its newest frame" if
                                         smoothing == "causal" else "no smoothing")},
        "quality_before": before, "quality_after": after,
        "change_mm": {"mean": float(changed.mean()), "max": float(changed.max()),
                      "meaning": "exported joints vs the prediction in the world frame, frames "
                                 "with a person (rigid bones, smoothing)"},
        "round_trip_mm": {"mean": float(err.mean()), "max": float(err.max()),
                          "reader": "dynapose.data.bvh", "tolerance": ROUND_TRIP_TOLERANCE_MM,
                          "frame_rate": read_fps},
    }
    if world_path is not None:
        with atomic_path(world_path) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, world=world.astype(np.float32),
                                exported=back.astype(np.float32), valid=valid,
                                contacts=floor.contacts, fps=np.float64(rate),
                                rotation=frame.rotation, translation=frame.translation)
        report["world_npz"] = os.fspath(world_path)
    if report_path is not None:
        atomic_write_text(report_path, json.dumps(report, indent=1) + "\n")
        report["report"] = os.fspath(report_path)
    return report


def read_back(path: str | os.PathLike[str], unit: str = "cm") -> tuple[np.ndarray, float]:
    """The 17 joints (F, 17, 3) mm, Y up, and the frame rate of a BVH written by
    :func:`export_motion` in `unit`, read with DynaPose's BVH parser and forward kinematics
    (:mod:`dynapose.data.bvh`)."""

    data = parse_bvh(path)
    index = {n: i for i, n in enumerate(data.names)}
    missing = [n for n in ik.RIG_NAMES if n not in index]
    if missing:
        raise DynaPoseError(f"not a DynaPose rig (no joint {missing[0]!r})", path)
    pos = bvh_positions(data)[:, [index[ik.RIG_NAMES[i]] for i in ik.RIG_OF_JOINT]]
    return pos * UNITS[unit][0], 1.0 / data.frame_time
