"""The one result of inference, whatever model made it: :class:`Prediction` (per-frame joints,
mm, plus a block describing the method) and its ``joints.json`` schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dynapose.camera import FOCAL_PER_CROP_SIDE, place_in_crop, project_to_frame
from dynapose.io.video import VideoInfo
from dynapose.skeleton import JOINT_NAMES, PARENTS

COORDINATE_FRAME = (
    "camera frame: origin at the camera centre, x right, y down, z forward (away from the "
    "camera), as Human3.6M's D3_Positions_mono"
)


ROOT_FRAME = (
    "pelvis-relative camera frame: origin at the pelvis, camera axes (x right, y down, z forward);"
    " the model was trained on pelvis-relative targets (a crop hides how far away the person is)"
)


Box = tuple[float, float, float, float]


@dataclass
class Prediction:
    """Per-frame 3D joints predicted for one video.

    joints: float32 (F, 17, 3), millimetres, camera frame (x right, y down, z forward), joint
    order :data:`dynapose.skeleton.JOINT_NAMES`. frame_index: int64 (F,), decode order from 0.
    time: float64 (F,), seconds from the first frame (presentation time stamps). boxes: float32
    (F, 4), the square crop (x, y, w, h) in pixels of the upright frame that the model saw.
    fps: the video's average frame rate. video: what the container says. model: name, config,
    checkpoint path and backend. crop_policy: "box", "centre" or "mediapipe". stride: window
    stride (frames). files: what was written, by kind ("npz", "json", "csv", "overlay",
    "skeleton3d", "viewer"), empty when no output folder was given.

    For predictions from 2D keypoints (:mod:`dynapose.inference.lifted`): found (F,) bool, False
    for gap frames (no person: their joints and boxes are NaN); detected_2d (F, 17, 2) px, the
    2D keypoints the joints were lifted from (what :meth:`keypoints_2d` returns and the overlay
    draws); confidence_2d (F, 17) their confidences; header_extra: entries that replace or add
    to the JSON header (crop, windows, projection, root, keypoints, gaps). All None/empty for
    the image models.
    """

    joints: np.ndarray
    frame_index: np.ndarray
    time: np.ndarray
    boxes: np.ndarray
    fps: float
    video: VideoInfo
    model: dict[str, Any]
    crop_policy: str
    stride: int
    window: int = 8
    files: dict[str, Path] = field(default_factory=dict)
    found: np.ndarray | None = None
    detected_2d: np.ndarray | None = None
    confidence_2d: np.ndarray | None = None
    header_extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    def valid(self) -> np.ndarray:
        """(F,) bool: frames with joints (False for gap frames without a person)."""
        if self.found is None:
            return np.ones(self.num_frames, dtype=bool)
        return np.asarray(self.found, dtype=bool)

    def keypoints_2d(self) -> np.ndarray:
        """Joints projected into the video's pixels, (F, 17, 2) float32, with assumed intrinsics.

        Per frame, a pinhole camera with focal length FOCAL_PER_CROP_SIDE x crop side and its
        principal point at the crop centre. Joints at z <= 1 mm (behind the camera) are NaN.
        A lifted prediction returns its detected 2D keypoints instead (NaN in gap frames).
        """
        if self.detected_2d is not None:
            return np.asarray(self.detected_2d, dtype=np.float32)
        if self.model.get("targets") == "root":
            return project_to_frame(place_in_crop(self.joints), self.boxes)
        return project_to_frame(self.joints, self.boxes)

    def frame_row(self, i: int) -> dict[str, Any]:
        """Frame `i`'s object in ``joints.json``: index, time_s, box, joints (box and joints
        null in a gap frame)."""
        ok = bool(self.valid()[i])
        box = self.boxes[i]
        return {
            "index": int(self.frame_index[i]),
            "time_s": round(float(self.time[i]), 6),
            "box": [round(float(v), 2) for v in box] if np.isfinite(box).all() else None,
            "joints": np.round(self.joints[i].astype(np.float64), 2).tolist() if ok else None,
        }

    def to_json(self) -> dict[str, Any]:
        """The ``joints.json`` document (format ``dynapose-joints`` version 1).

        Top level: format, version, units ("mm"), coordinate_frame, joint_names, parents (index of
        each joint's parent, -1 for the pelvis), fps, num_frames, video (path, width, height,
        fps, num_frames, duration_s, codec, container, rotation_deg), model (name, config,
        checkpoint, backend), crop (policy, input_size, box_format "x,y,w,h pixels"), windows
        (length, stride, averaging), projection (assumed intrinsics for 2D), and ``frames``: one
        object per frame, ``{"index", "time_s", "box": [x, y, w, h], "joints": [[x, y, z] x 17]}``
        with joints rounded to 0.01 mm. A gap frame (no person; lifted predictions) has
        ``"box": null, "joints": null``; such predictions' headers also say ``root``,
        ``keypoints`` and ``gaps``.
        """
        return {**self._header(), "frames": [self.frame_row(i) for i in range(self.num_frames)]}

    def _header(self) -> dict[str, Any]:
        return {
            "format": "dynapose-joints",
            "version": 1,
            "units": "mm",
            "coordinate_frame": ROOT_FRAME if self.model.get("targets") == "root"
            else COORDINATE_FRAME,
            "joint_names": list(JOINT_NAMES),
            "parents": list(PARENTS),
            "fps": self.fps,
            "num_frames": self.num_frames,
            "video": self.video.to_json(),
            "model": self.model,
            "crop": {
                "policy": self.crop_policy,
                "input_size": int(self.model.get("config", {}).get("input_size", 0)),
                "box_format": "x, y, w, h in pixels of the upright frame (top-left, size)",
            },
            "windows": {
                "length": self.window,
                "stride": self.stride,
                "averaging": "mean of every window estimate covering the frame; the last window "
                "is padded by repeating the last frame",
            },
            "projection": {
                "assumed": True,
                "focal_px": f"{FOCAL_PER_CROP_SIDE} x box width",
                "principal_point": "box centre",
                "distortion": "none",
            },
        } | self.header_extra
