"""A 2D detector's keypoints of Human3.6M, lined up with the 3D sequences they were found in.

The field's benchmark lifts what a detector found in the images, not the ground truth's
projection. Two layouts are read:

* 3d-pose-baseline's ``DIR/S<n>/StackedHourglass/<Action>.<camera>.h5`` (dataset ``poses``,
  (T, 16, 2) float pixels, MPII-16 order, no confidences; a take's number is written with an
  underscore, ``Directions_1``, where the 3D names use a space, ``Directions 1``);
* VideoPose3D's ``data_2d_h36m_<detector>.npz`` (``positions_2d``: {subject: {action: [per
  camera (T, J, 2 or 3)]}}, cameras in :data:`dynapose.data.h36m_cameras.CAMERA_IDS` order;
  read with the plain-data unpickler; a third channel is the detector's confidence).

MPII-16 has no neck/nose joint: it is placed halfway between the thorax and the head top, on
the line a neck keeps in the image (an estimate; Human3.6M's neck/nose marker sits on the face,
in front of that line, which the lifter learns from training on detections).

Every sequence is returned as pixels (T, 17, 2) in the Human3.6M joint order, with confidences
(T, 17) where the file has them, keyed by (subject, action as the 3D names it, camera id).

A camera missing from a sequence the detections otherwise cover is left out of that sequence by
training and evaluation, with one line each and a count in the run's record and the report
(:meth:`Detections.has`); a subject or a sequence with no detections at all is an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from dynapose.data.h36m import load_npz_2d
from dynapose.data.h36m_cameras import CAMERA_IDS
from dynapose.errors import DynaPoseError
from dynapose.skeleton import NUM_JOINTS

#: Human3.6M joint -> its MPII-16 source index (None: the neck/nose, estimated).
#: MPII-16: RAnk, RKnee, RHip, LHip, LKnee, LAnk, Hip, Spine, Thorax, Head, RWri, RElb, RSho,
#: LSho, LElb, LWri.
MPII16_TO_H36M: tuple[int | None, ...] = (6, 2, 1, 0, 3, 4, 5, 7, 8, None, 9, 13, 14, 15, 12, 11,
                                          10)
THORAX_MPII, HEAD_MPII = 8, 9
#: Where the neck/nose is put, as a fraction of the way from the thorax to the head top.
NECK_FRACTION = 0.5


@dataclass
class Detections:
    """A detector's 2D keypoints of Human3.6M sequences.

    pixels[(subject, action, camera)]: (T, 17, 2) float64 px, Human3.6M order;
    confidence[(subject, action, camera)]: (T, 17) or absent; source: the file or folder read;
    detector: its name (the folder's or file's).
    """

    pixels: dict[tuple[str, str, str], np.ndarray]
    confidence: dict[tuple[str, str, str], np.ndarray]
    source: str
    detector: str

    def get(self, subject: str, action: str, camera: str, frames: int
            ) -> tuple[np.ndarray, np.ndarray | None]:
        """(pixels (T, 17, 2), confidences (T, 17) or None) of one sequence seen by one camera;
        a DynaPoseError naming the source when it is missing or of another length."""
        key = (subject, action, camera)
        if key not in self.pixels:
            raise DynaPoseError(f"no detections for {subject} {action!r} camera {camera}",
                                self.source)
        px = self.pixels[key]
        if len(px) != frames:
            raise DynaPoseError(f"detections of {subject} {action!r} camera {camera} have "
                                f"{len(px)} frames, the 3D sequence {frames}", self.source)
        return px, self.confidence.get(key)

    def has(self, subject: str, action: str, camera: str) -> bool:
        """Whether this camera's view of the sequence was detected. False leaves that camera
        out of the sequence (Human3.6M's public release has no Stacked-Hourglass file for S11
        'Directions' camera 54138969): see :meth:`left_out`. A DynaPoseError naming the source
        when no camera of the sequence has detections (another data set, or other names)."""
        if (subject, action, camera) in self.pixels:
            return True
        if not any(k[:2] == (subject, action) for k in self.pixels):
            raise DynaPoseError(f"no detections for {subject} {action!r} from any camera",
                                self.source)
        return False

    def left_out(self, subject: str, action: str, camera: str) -> str:
        """The line saying that a camera without detections is left out of a sequence."""
        what = "no file" if os.path.isdir(self.source) else "nothing"
        return (f"detections: {what} for {subject} {action!r} camera {camera}: that camera is "
                "left out of the sequence")


def left_out_record(left_out: list[tuple[str, str, str]]) -> dict[str, Any]:
    """How a run's record and an evaluation report count the (subject, action, camera id) left
    out for want of detections: {"count", "sequence_cameras": ["S11 'Directions' camera ..."]}."""
    return {"count": len(left_out),
            "sequence_cameras": [f"{s} {a!r} camera {c}" for s, a, c in left_out]}


def from_mpii16(poses: np.ndarray) -> np.ndarray:
    """MPII-16 keypoints (T, 16, 2) -> Human3.6M order (T, 17, 2), the neck/nose estimated."""
    poses = np.asarray(poses, dtype=np.float64)
    out = np.empty((len(poses), NUM_JOINTS, 2))
    for joint, source in enumerate(MPII16_TO_H36M):
        if source is None:
            thorax, head = poses[:, THORAX_MPII], poses[:, HEAD_MPII]
            out[:, joint] = thorax + NECK_FRACTION * (head - thorax)
        else:
            out[:, joint] = poses[:, source]
    return out


def _check(px: np.ndarray, where: Path, name: str) -> np.ndarray:
    if not np.isfinite(px).all():
        frame = int(np.flatnonzero(~np.isfinite(px).reshape(len(px), -1).all(axis=1))[0])
        raise DynaPoseError(f"{name}: frame {frame} holds NaN or infinite keypoints", where)
    return px


def _read_h5_folder(root: Path, subjects: list[str] | None) -> Detections:
    """3d-pose-baseline's layout (see the module docstring)."""
    folders = sorted(p for p in root.glob("*/*") if p.is_dir() and any(p.glob("*.h5")))
    if not folders:
        raise DynaPoseError("no <subject>/<detector>/*.h5 detections", root)
    detectors = sorted({p.name for p in folders})
    if len(detectors) > 1:
        raise DynaPoseError(f"detections of several detectors ({', '.join(detectors)}): give "
                            "one detector's folder layout", root)
    pixels: dict[tuple[str, str, str], np.ndarray] = {}
    wanted = subjects or sorted({p.parent.name for p in folders})
    for subject in wanted:
        folder = root / subject / detectors[0]
        files = sorted(folder.glob("*.h5")) if folder.is_dir() else []
        if not files:
            raise DynaPoseError(f"no detections for subject {subject}", folder)
        for file in files:
            stem, _, camera = file.stem.rpartition(".")
            if camera not in CAMERA_IDS:
                raise DynaPoseError(f"unknown camera {camera!r} in the file name (cameras: "
                                    f"{', '.join(CAMERA_IDS)})", file)
            try:
                with h5py.File(file, "r") as f:
                    if "poses" not in f:
                        raise DynaPoseError("no 'poses' dataset", file)
                    data = f["poses"]
                    if data.ndim != 3 or data.shape[1:] != (16, 2):
                        raise DynaPoseError(f"'poses' has shape {data.shape}, expected "
                                            "(T, 16, 2) MPII-16 keypoints", file)
                    poses = np.asarray(data, dtype=np.float64)
            except OSError as exc:
                raise DynaPoseError(f"unreadable HDF5 file ({exc})", file) from exc
            action = stem.replace("_", " ")
            pixels[(subject, action, camera)] = _check(from_mpii16(poses), file, "poses")
    return Detections(pixels, {}, os.fspath(root), detectors[0])


def _read_npz(path: Path, subjects: list[str] | None) -> Detections:
    """VideoPose3D's 2D npz (see the module docstring)."""
    data, metadata = load_npz_2d(path, keep_confidence=True)
    pixels: dict[tuple[str, str, str], np.ndarray] = {}
    confidence: dict[tuple[str, str, str], np.ndarray] = {}
    for subject in subjects or sorted(data):
        if subject not in data:
            raise DynaPoseError(f"no detections for subject {subject} (it has: "
                                f"{', '.join(sorted(data))})", path)
        for action, per_camera in data[subject].items():
            if len(per_camera) != len(CAMERA_IDS):
                raise DynaPoseError(f"{subject} {action!r} has {len(per_camera)} cameras, "
                                    f"expected {len(CAMERA_IDS)}", path)
            for camera, arr in zip(CAMERA_IDS, per_camera, strict=True):
                if arr.shape[1] != NUM_JOINTS:
                    raise DynaPoseError(f"{subject} {action!r}: {arr.shape[1]} joints, expected "
                                        f"{NUM_JOINTS} in Human3.6M order", path)
                key = (subject, action, camera)
                pixels[key] = _check(np.asarray(arr[..., :2], np.float64), path, "positions_2d")
                if arr.shape[2] >= 3:
                    confidence[key] = np.clip(np.asarray(arr[..., 2], np.float64), 0.0, 1.0)
    name = path.stem.removeprefix("data_2d_h36m_") or str(metadata.get("detector", "detector"))
    return Detections(pixels, confidence, os.fspath(path), name)


def load_detections(path: str | os.PathLike[str], subjects: list[str] | None = None
                    ) -> Detections:
    """A detector's keypoints of Human3.6M from a 3d-pose-baseline folder or a VideoPose3D 2D
    npz (module docstring), for `subjects` (all when None)."""
    p = Path(path)
    if p.is_dir():
        return _read_h5_folder(p, subjects)
    if p.suffix == ".npz":
        return _read_npz(p, subjects)
    raise DynaPoseError("detections are a 3d-pose-baseline folder (S*/<detector>/*.h5) or a "
                        "VideoPose3D data_2d_h36m_<detector>.npz", p)
