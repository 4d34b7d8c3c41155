"""World-frame 3D motion for lifter training and evaluation: Human3.6M (VideoPose3D npz or a
pose store) or DynaPose's procedural motion, with the cameras that see it.

Positions are world-frame millimetres, Z up; each sequence lists the cameras (indices into
``cameras``) it is seen by.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dynapose.camera import Camera
from dynapose.data import h36m_cameras
from dynapose.data.cmu import load_cmu
from dynapose.data.h36m import load_npz_3d
from dynapose.data.pose_store import PoseStore
from dynapose.data.synthetic.motion import ACTIONS, generate_motion, sample_body
from dynapose.data.synthetic.postures import posture_bodies
from dynapose.errors import DynaPoseError
from dynapose.skeleton import (
    H36M_32_TO_17,
    NUM_JOINTS,
)

#: Most frames ``synthetic:SEQUENCES:FRAMES`` may ask for (about 200 MB of joints).
MAX_SYNTHETIC_FRAMES = 1_000_000


@dataclass
class MotionData:
    """Concatenated world-frame sequences (float32 (N, 17, 3) mm, Z up) and a camera table.

    sequences: dicts with subject, action, start, frames, cameras (indices into `cameras`).
    """

    world: np.ndarray
    sequences: list[dict[str, Any]]
    cameras: list[Camera]
    source: str = ""

    @property
    def num_frames(self) -> int:
        return len(self.world)

    def subjects(self) -> list[str]:
        return sorted({s["subject"] for s in self.sequences})


def _h36m_camera_table(subjects: list[str]) -> tuple[list[Camera], dict[str, list[int]]]:
    table: list[Camera] = []
    per_subject: dict[str, list[int]] = {}
    for subject in subjects:
        if subject not in h36m_cameras.SUBJECTS:
            continue
        per_subject[subject] = []
        for cam_id in h36m_cameras.CAMERA_IDS:
            per_subject[subject].append(len(table))
            table.append(h36m_cameras.camera(subject, cam_id))
    return table, per_subject


def _assemble(items: list[tuple[str, str, np.ndarray, list[int]]], cameras: list[Camera],
              source: str) -> MotionData:
    sequences, arrays, start = [], [], 0
    for subject, action, world, cams in items:
        sequences.append({"subject": subject, "action": action, "start": start,
                          "frames": len(world), "cameras": list(cams)})
        arrays.append(np.asarray(world, dtype=np.float32))
        start += len(world)
    world = np.concatenate(arrays) if arrays else np.zeros((0, NUM_JOINTS, 3), np.float32)
    return MotionData(world, sequences, cameras, source)


def load_motion(data: str | os.PathLike[str], subjects: list[str] | None = None,
                *, synthetic_sequences: int = 48, synthetic_frames: int = 600,
                seed: int = 0) -> MotionData:
    """World motion from `data`: a VideoPose3D ``data_3d_h36m.npz``, a pose store folder,
    ``"synthetic[:SEQUENCES[:FRAMES]]"`` (DynaPose's procedural motion filmed by the Human3.6M
    cameras of S1, S5-S8; see :func:`synthetic_motion`), ``"postures[:SEQUENCES[:FRAMES]]"``
    (everyday postures and their transitions, :func:`posture_motion`), ``"cmu:FOLDER"`` (CMU
    motion capture, :func:`dynapose.data.cmu.load_cmu`, filmed by the same cameras), or a mix
    ``"A+B[+...]"`` of those (e.g. ``cmu:../shared/data/mocap/cmu+synthetic:100:600``: windows
    are drawn uniformly over all frames, so each part weighs by its frame count).

    Only `subjects` are kept (all when None). npz sequences are filmed by their subject's four
    published cameras; pose-store sequences by the cameras the store lists for their subject.
    """
    name = os.fspath(data)
    if "+" in name:  # a mix: each part whole, then the subjects (a part may hold none of them)
        mixed = [load_motion(part, None, synthetic_sequences=synthetic_sequences,
                             synthetic_frames=synthetic_frames, seed=seed)
                 for part in name.split("+")]
        return _concat_motion(mixed, subjects, name)
    if name.startswith("cmu:"):
        cameras, per_subject = _h36m_camera_table(["S1", "S5", "S6", "S7", "S8"])
        all_cams = [i for v in per_subject.values() for i in v]
        return _assemble([(s.subject, s.action, s.world, all_cams)
                          for s in load_cmu(name[len("cmu:"):], subjects)], cameras, name)
    kind = name.split(":")[0]
    if kind in ("synthetic", "postures"):
        parts = name.split(":")[1:]
        usage = (f"expected {kind}[:SEQUENCES[:FRAMES]]" if kind == "synthetic" else
                 "expected postures[:SEQUENCES[:FRAMES[:NAME,NAME...]]]")
        if len(parts) > (2 if kind == "synthetic" else 3):
            raise DynaPoseError(usage, name)
        try:
            n = int(parts[0]) if parts else synthetic_sequences
            frames = int(parts[1]) if len(parts) > 1 else synthetic_frames
        except ValueError:
            raise DynaPoseError(usage, name) from None
        if n < 1 or frames < 2 or n * frames > MAX_SYNTHETIC_FRAMES:
            raise DynaPoseError(f"{kind} motion needs SEQUENCES >= 1 and FRAMES >= 2, at most "
                                f"{MAX_SYNTHETIC_FRAMES} frames in all", name)
        try:
            if kind == "postures":
                allowed = tuple(parts[2].split(",")) if len(parts) > 2 else None
                return posture_motion(n, frames, seed=seed, subjects=subjects, allowed=allowed)
            return synthetic_motion(n, frames, seed=seed, subjects=subjects)
        except DynaPoseError as exc:  # name the data it was asked of
            raise DynaPoseError(exc.problem, exc.path or name) from exc
    path = Path(data)
    if path.is_file() and path.suffix == ".npz":

        raw = load_npz_3d(path)
        keep = [s for s in raw if subjects is None or s in subjects]
        cameras, per_subject = _h36m_camera_table(keep)
        items = []
        for subject in sorted(keep):
            if subject not in per_subject:
                raise DynaPoseError(f"no published camera calibration for {subject}", path)
            for action in sorted(raw[subject]):
                pos = raw[subject][action]
                if pos.shape[1] != 32:
                    raise DynaPoseError(f"positions_3d[{subject!r}][{action!r}] has "
                                        f"{pos.shape[1]} joints, expected 32", path)
                items.append((subject, action, pos[:, list(H36M_32_TO_17)],
                              per_subject[subject]))
        return _assemble(items, cameras, str(path))
    if path.is_dir():

        store = PoseStore(path)
        store_cameras: list[Camera] = []
        cam_index: dict[tuple[str, str], int] = {}
        seen: dict[tuple[str, str], Any] = {}
        for i, s in enumerate(store.sequences):
            if subjects is not None and s["subject"] not in subjects:
                continue
            key = (s["subject"], s["camera"])
            if key not in cam_index:
                cam_index[key] = len(store_cameras)
                store_cameras.append(store.camera(i))
            seen.setdefault((s["subject"], s["action"]), i)
        items = []
        for (subject, action), i in sorted(seen.items()):
            world = store.camera(i).camera_to_world(store.joints3d(i).astype(np.float64))
            cams = [v for (sub, _), v in cam_index.items() if sub == subject]
            items.append((subject, action, world, cams))
        return _assemble(items, store_cameras, str(path))
    raise DynaPoseError("not a VideoPose3D .npz, a pose store folder, 'synthetic' or 'cmu:FOLDER'",
                        path)


def _concat_motion(parts: list[MotionData], subjects: list[str] | None,
                   source: str) -> MotionData:
    """The sequences of `parts` (those of `subjects`; all when None) side by side, one camera
    table."""
    items: list[tuple[str, str, np.ndarray, list[int]]] = []
    cameras: list[Camera] = []
    for part in parts:
        for s in part.sequences:
            if subjects is None or s["subject"] in subjects:
                world = part.world[s["start"]: s["start"] + s["frames"]]
                items.append((s["subject"], s["action"], world,
                              [len(cameras) + c for c in s["cameras"]]))
        cameras.extend(part.cameras)
    return _assemble(items, cameras, source)


def synthetic_motion(num_sequences: int, frames: int, seed: int = 0,
                     subjects: list[str] | None = None) -> MotionData:
    """Procedural motion (:func:`dynapose.data.synthetic.motion.generate_motion`), one new body per
    sequence; subjects named ``synth-<k>`` (k = sequence index % 8), filmed by
    the published cameras of S1, S5, S6, S7 and S8. `subjects` keeps only those names. Each
    sequence's straight-line horizontal travel is removed so the person stays in view."""

    cameras, per_subject = _h36m_camera_table(["S1", "S5", "S6", "S7", "S8"])
    all_cams = [i for v in per_subject.values() for i in v]
    rng = np.random.default_rng([seed, 7])
    items = []
    for k in range(num_sequences):
        action = ACTIONS[(k + k // 8) % len(ACTIONS)]  # each subject gets every action in turn
        body = sample_body(rng)
        joints = generate_motion(action, body, frames, fps=50.0, rng=rng).joints
        # Keep the person inside the capture area: remove the pelvis's straight-line horizontal
        # travel (locomotion becomes treadmill-like; root-relative poses are unchanged).
        t = np.arange(frames, dtype=np.float64)
        design = np.stack([np.ones_like(t), t], axis=1)
        coef, *_ = np.linalg.lstsq(design, joints[:, 0, :2].astype(np.float64), rcond=None)
        joints = joints.copy()
        joints[..., :2] -= (design @ coef)[:, None, :].astype(np.float32)
        subject = f"synth-{k % 8}"
        if subjects is None or subject in subjects:
            items.append((subject, f"{action} {k}", joints, all_cams))
    if not items:
        raise DynaPoseError(f"no synthetic sequences for subjects {subjects}")
    return _assemble(items, cameras, "synthetic")


def posture_motion(num_sequences: int, frames: int, seed: int = 0,
                   subjects: list[str] | None = None,
                   allowed: tuple[str, ...] | None = None) -> MotionData:
    """Walks through everyday postures (:mod:`dynapose.data.synthetic.postures`: sitting,
    kneeling, squatting, lying, crawling, reaching, leaning, hands busy; only the `allowed`
    ones when given), one new body per sequence; subjects ``pose-<k>`` (k = sequence index % 8),
    filmed by the published cameras of S1, S5, S6, S7 and S8. `subjects` keeps only those
    names."""
    cameras, per_subject = _h36m_camera_table(["S1", "S5", "S6", "S7", "S8"])
    all_cams = [i for v in per_subject.values() for i in v]
    try:
        walks = posture_bodies(num_sequences, frames, seed, allowed)
    except ValueError as exc:
        raise DynaPoseError(str(exc)) from exc
    items = [(m.subject, f"{m.action} {k}", m.joints, all_cams)
             for k, m in enumerate(walks) if subjects is None or m.subject in subjects]
    if not items:
        raise DynaPoseError(f"no posture sequences for subjects {subjects}")
    return _assemble(items, cameras, "postures")
