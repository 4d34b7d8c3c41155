"""The one result of inference, whatever model made it: :class:`Prediction`.

A prediction is arrays (per-frame joints in mm, their 2D positions in the video, which frames have
a person) plus ``method``: the blocks that describe how they were made (crop or keypoints,
windows, projection, bones, root placement, gaps). Each model family fills ``method`` in its own
module (:mod:`dynapose.inference.image_model`, :mod:`dynapose.inference.lifted`); this module and
the writer (:mod:`dynapose.inference.writer`) know nothing of either family.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

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

#: A square or rectangle in pixels of the upright frame: x, y (top-left corner), width, height.
Box = tuple[float, float, float, float]


@dataclass
class Prediction:
    """Per-frame 3D joints predicted for one video.

    joints: float32 (F, 17, 3), millimetres, in ``coordinate_frame`` (by default the camera frame:
    x right, y down, z forward), joint order :data:`dynapose.skeleton.JOINT_NAMES`; NaN where
    ``found`` is False. frame_index: int64 (F,), decode order from 0. time: float64 (F,), seconds
    from the first frame (presentation time stamps). points_2d: float32 (F, 17, 2), where the
    joints are in the video's pixels (what the overlay draws). boxes: float32 (F, 4), the region
    (x, y, w, h, pixels) the person was found in per frame. found: bool (F,), False for gap frames
    without a person. fps: the video's average frame rate. video: what the container says.
    model: name, config, checkpoint and backend of the model. source: how the model's input was
    taken from the video ("centre", "box", "mediapipe" crops or "keypoints"). method: the JSON
    header's blocks that describe the method. confidence_2d: (F, 17) confidences of the 2D
    keypoints a lifter was given, or None. files: what was written, by kind ("npz", "json",
    "csv", "overlay", "skeleton3d", "viewer"), empty when nothing was written.
    """

    joints: np.ndarray
    frame_index: np.ndarray
    time: np.ndarray
    points_2d: np.ndarray
    boxes: np.ndarray
    found: np.ndarray
    fps: float
    video: VideoInfo
    model: dict[str, Any]
    source: str
    method: dict[str, Any] = field(default_factory=dict)
    coordinate_frame: str = COORDINATE_FRAME
    confidence_2d: np.ndarray | None = None
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    def valid(self) -> np.ndarray:
        """(F,) bool: frames with joints (False for gap frames without a person)."""
        return np.asarray(self.found, dtype=bool)

    def keypoints_2d(self) -> np.ndarray:
        """(F, 17, 2) float32 pixels of the video: where the joints are drawn (NaN in gaps)."""
        return np.asarray(self.points_2d, dtype=np.float32)

    def frame_row(self, i: int) -> dict[str, Any]:
        """Frame `i`'s object in ``joints.json``: index, time_s, box, joints (box and joints
        null in a gap frame)."""
        ok = bool(self.found[i])
        box = self.boxes[i]
        return {
            "index": int(self.frame_index[i]),
            "time_s": round(float(self.time[i]), 6),
            "box": [round(float(v), 2) for v in box] if ok and np.isfinite(box).all() else None,
            "joints": np.round(self.joints[i].astype(np.float64), 2).tolist() if ok else None,
        }

    def to_json(self) -> dict[str, Any]:
        """The ``joints.json`` document (format ``dynapose-joints`` version 1).

        Top level: format, version, units ("mm"), coordinate_frame, joint_names, parents (index of
        each joint's parent, -1 for the pelvis), fps, num_frames, video (path, width, height,
        fps, num_frames as the container declares it (a hint: the frames decoded are the top
        level's), duration_s, codec, container, rotation_deg, mirrored), model (name, config,
        checkpoint, backend), then the method's blocks (an image model's crop, windows and
        projection; a lifter's also bones, root, keypoints and gaps), and ``frames``: one object
        per frame, ``{"index", "time_s", "box": [x, y, w, h], "joints": [[x, y, z] x 17]}`` with
        joints rounded to 0.01 mm; a gap frame (no person) has ``"box": null, "joints": null``.
        """
        return {**self.header(), "frames": [self.frame_row(i) for i in range(self.num_frames)]}

    def header(self) -> dict[str, Any]:
        """Everything in ``joints.json`` but the frames."""
        return {
            "format": "dynapose-joints",
            "version": 1,
            "units": "mm",
            "coordinate_frame": self.coordinate_frame,
            "joint_names": list(JOINT_NAMES),
            "parents": list(PARENTS),
            "fps": self.fps,
            "num_frames": self.num_frames,
            "video": self.video.to_json(),
            "model": self.model,
            **self.method,
        }

