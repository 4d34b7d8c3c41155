"""From a video to 3D joints: crop, sliding 8-frame windows, averaging, files people can use.

Pipeline (one streaming pass over the video for the joints; memory stays flat):

1. **Decode** any container/codec/resolution/fps with PyAV (:mod:`dynapose.video`).
2. **Crop** each frame to a square around the person, resized to the model's input side N:

   - ``box=(x, y, w, h)`` (pixels, top-left corner and size in the upright frame): that box, the
     same for every frame, grown to the enclosing square about its centre (so the person keeps
     their aspect ratio); parts outside the frame are black.
   - ``detector="mediapipe"`` (or ``"auto"`` when MediaPipe is installed): MediaPipe Pose's
     landmarks on every frame; the box is the square around them, enlarged by
     :data:`DETECTOR_MARGIN`, smoothed over time; frames without a detection keep the last box
     (the centred square before the first detection). Needs ``pip install 'dynapose[mediapipe]'``
     (``mediapipe==0.10.21``, the last release that ships its models inside the wheel).
   - default (``detector="none"``, or ``"auto"`` without MediaPipe): the **centred square** of
     the whole frame, side ``min(width, height)`` — the whole frame for square video such as
     Human3.6M's, which is what the models are trained on. Put the person in the middle, or pass
     a box.
3. **Windows**: frames are grouped into windows of T=8 (the model's clip length) starting every
   `stride` frames (default 4, so interior frames are estimated twice). Each frame's joints are
   the mean of every window estimate that covers it, so every frame gets exactly one estimate.
   The last window is padded by repeating the last frame (also for videos shorter than T); the
   padded frames' estimates are dropped. Windows go through the model `batch` at a time.
4. **Write** (when `out_dir` is given; everything goes to a temporary folder renamed into place,
   so a failure leaves nothing behind): ``joints.npz``, ``joints.json`` (schema in
   :func:`Prediction.to_json`), ``joints.csv``, and the visual outputs: ``overlay.mp4`` (the
   video with the skeleton drawn on it), ``skeleton3d.mp4`` (a 3D animation) and
   ``viewer.html`` (interactive, self-contained; :mod:`dynapose.viewer`).

Joints are in millimetres in the camera frame (x right, y down, z forward). The 2D overlay
projects them with **assumed intrinsics**: the crop is treated as a Human3.6M-like view — focal
length :data:`FOCAL_PER_CROP_SIDE` x the crop side (Human3.6M's cameras have fx ~ 1145 px for
1000-px frames), principal point at the crop centre, no distortion. The seed model predicts no
2D joints of its own, so this projection is what the overlay shows.
"""

from __future__ import annotations

import collections
import csv
import json
import math
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dynapose.errors import DynaPoseError
from dynapose.fsutil import atomic_dir
from dynapose.keypoints import mediapipe_available
from dynapose.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS
from dynapose.video import VideoInfo, iter_frames, probe_video

#: Focal length of the assumed pinhole camera, as a multiple of the crop side (pixels).
FOCAL_PER_CROP_SIDE = 1.145
#: The detector's square box is this many times the landmarks' larger extent.
DETECTOR_MARGIN = 1.3
#: Smoothing of the detector's box over time (weight of the new frame's box).
DETECTOR_SMOOTHING = 0.5
DEFAULT_STRIDE = 4
#: Longest side (pixels) of overlay.mp4; larger videos are scaled down to it.
OVERLAY_MAX_SIDE = 1280
#: (H, W) pixels of the 3D skeleton animation.
SKELETON3D_SIZE = (360, 360)
DEFAULT_BATCH = 16
VISUALS = ("overlay", "skeleton3d", "viewer")
COORDINATE_FRAME = (
    "camera frame: origin at the camera centre, x right, y down, z forward (away from the "
    "camera), as Human3.6M's D3_Positions_mono"
)
ROOT_FRAME = (
    "pelvis-relative camera frame: origin at the pelvis, camera axes (x right, y down, z forward);"
    " the model was trained on pelvis-relative targets (a crop hides how far away the person is)"
)
#: For the 2D overlay of a pelvis-relative model only: the skeleton's larger image extent is
#: taken to be this fraction of the crop side (synthetic crops add 15 % margins on each side).
ASSUMED_FILL = 1.0 / 1.3

Box = tuple[float, float, float, float]


# --------------------------------------------------------------------------------------------
# Result


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

    For predictions from 2D keypoints (:mod:`dynapose.lift_predict`): found (F,) bool, False
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
        fps, num_frames as the container declares it (a hint: the frames decoded are the top
        level's), duration_s, codec, container, rotation_deg, mirrored), model (name, config,
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


def place_in_crop(joints: np.ndarray) -> np.ndarray:
    """Pelvis-relative joints (F, J, 3) mm -> camera-frame joints for drawing: the pelvis on the
    crop's axis, at the depth where the skeleton's larger x/y extent fills :data:`ASSUMED_FILL`
    of the crop under the assumed intrinsics (an assumption, for the overlay only)."""
    joints = np.asarray(joints, dtype=np.float64)
    extent = np.max(joints[..., :2].max(axis=1) - joints[..., :2].min(axis=1), axis=-1)
    depth = FOCAL_PER_CROP_SIDE * np.maximum(extent, 1.0) / ASSUMED_FILL
    return joints + np.stack([np.zeros_like(depth), np.zeros_like(depth), depth], -1)[:, None]


def project_to_frame(joints: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Camera-frame joints (F, J, 3) mm -> pixels (F, J, 2) of the full frame, assumed intrinsics.

    boxes (F, 4) are the square crops (x, y, w, h); see :meth:`Prediction.keypoints_2d`.
    """
    joints = np.asarray(joints, dtype=np.float64)
    boxes = np.asarray(boxes, dtype=np.float64)
    f = FOCAL_PER_CROP_SIDE * boxes[:, 2]
    cx = boxes[:, 0] + boxes[:, 2] / 2
    cy = boxes[:, 1] + boxes[:, 3] / 2
    z = joints[..., 2]
    valid = z > 1.0
    z = np.where(valid, z, 1.0)
    u = cx[:, None] + f[:, None] * joints[..., 0] / z
    v = cy[:, None] + f[:, None] * joints[..., 1] / z
    out = np.stack([u, v], axis=-1)
    out[~valid] = np.nan
    return out.astype(np.float32)


# --------------------------------------------------------------------------------------------
# Model backends


class _TorchRunner:
    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model

    def __call__(self, clips: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.model(torch.from_numpy(clips)).numpy()


@dataclass
class LoadedModel:
    """A model ready for inference: `run` maps uint8 (B, T, N, N, 3) to float32 (B, T, 17, 3) mm.

    When the model splits into a per-frame encoder and a temporal head (the seed model: CNN, then
    LSTM and dense layers), `encode` maps frames uint8 (M, N, N, 3) to features (M, F) and `head`
    maps feature windows (B, T, F) to joints (B, T, 17, 3). Overlapping windows then share each
    frame's CNN features instead of recomputing them (stride 4: half the work), with the same
    result: the split is checked against the whole model when loading.
    """

    run: Callable[[np.ndarray], np.ndarray]
    clip_len: int
    input_size: int
    info: dict[str, Any]
    encode: Callable[[np.ndarray], np.ndarray] | None = None
    head: Callable[[np.ndarray], np.ndarray] | None = None


def load_model(
    checkpoint: str | os.PathLike[str],
    backend: str = "torch",
    onnx_path: str | os.PathLike[str] | None = None,
) -> LoadedModel:
    """Load `checkpoint` for inference with `backend` ("torch" or "onnx") and check it.

    The model must map uint8 (1, T, N, N, 3) to (1, T, 17, 3), T and N from its config. For
    "onnx", `onnx_path` is an ONNX file exported from this checkpoint (``dynapose export``);
    without one, the checkpoint is exported to a temporary file first.
    """
    from dynapose.checkpoint import load_checkpoint, resolve_checkpoint
    from dynapose.export import model_geometry

    if backend not in ("torch", "onnx"):
        raise DynaPoseError(f"unknown backend {backend!r} (torch or onnx)")
    if onnx_path is not None and backend != "onnx":
        raise DynaPoseError("an ONNX file is run by backend 'onnx', not 'torch'", onnx_path)
    model, config = load_checkpoint(checkpoint)
    folder = resolve_checkpoint(checkpoint)
    clip_len, size = model_geometry(config)
    info = {
        "name": config["model"]["name"],
        "config": config["model"].get("config", {}),
        "targets": config.get("info", {}).get("targets", "camera"),
        "checkpoint": str(folder),
        "backend": backend,
    }
    runner: Callable[[np.ndarray], np.ndarray] = _TorchRunner(model)
    _check_model(runner, clip_len, size, folder)
    if backend == "onnx":
        runner = _onnx_runner(checkpoint, config, onnx_path, clip_len, size)
        _check_model(runner, clip_len, size, Path(onnx_path) if onnx_path else folder)
        if onnx_path:
            info["onnx"] = str(onnx_path)
        return LoadedModel(run=runner, clip_len=clip_len, input_size=size, info=info)
    split = _split_model(model, clip_len, size)
    encode, head = split if split else (None, None)
    return LoadedModel(runner, clip_len, size, info, encode, head)


def _split_model(
    model: torch.nn.Module, clip_len: int, size: int
) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]] | None:
    """(encode, head) for a model with per-frame ``features`` and ``forward_from_features``.

    Accepted only when encode-then-head reproduces the whole model's output on random clips
    (1e-4 relative); None otherwise.
    """
    features = getattr(model, "features", None)
    rest = getattr(model, "forward_from_features", None)
    if features is None or rest is None:
        return None

    def encode(frames: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return features(torch.from_numpy(frames)).numpy()

    def head(feats: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return rest(torch.from_numpy(feats)).numpy()

    probe = np.random.default_rng(0).integers(0, 256, (2, clip_len, size, size, 3), np.uint8)
    try:
        whole = _TorchRunner(model)(probe)
        feats = encode(probe.reshape(-1, size, size, 3))
        parts = head(np.ascontiguousarray(feats.reshape(2, clip_len, -1)))
    except Exception:  # not splittable after all: use whole windows
        return None
    if parts.shape != whole.shape or not np.allclose(parts, whole, rtol=1e-4, atol=1e-3):
        return None
    return encode, head


def _onnx_runner(
    checkpoint: str | os.PathLike[str],
    config: dict[str, Any],
    onnx_path: str | os.PathLike[str] | None,
    clip_len: int,
    size: int,
) -> Callable[[np.ndarray], np.ndarray]:
    from dynapose.export import OnnxModel, export_onnx

    if onnx_path is None:
        with tempfile.TemporaryDirectory(prefix="dynapose-onnx-") as tmp:
            path = Path(tmp) / "model.onnx"
            export_onnx(checkpoint, path, check=False)
            return OnnxModel(path)  # the session keeps the graph in memory
    onnx_model = OnnxModel(onnx_path)
    if onnx_model.geometry() != (clip_len, size):
        t, n = onnx_model.geometry()
        raise DynaPoseError(
            f"ONNX model takes {t} frames of {n}x{n}, the checkpoint's model {clip_len} of "
            f"{size}x{size}: export it again from this checkpoint",
            onnx_path,
        )
    stored = onnx_model.config.get("model")
    if stored is not None and stored != config["model"]:
        raise DynaPoseError(
            "ONNX model was exported from a checkpoint with another model config", onnx_path
        )
    return onnx_model


def _check_model(
    run: Callable[[np.ndarray], np.ndarray], clip_len: int, size: int, source: Path
) -> None:
    probe = np.zeros((1, clip_len, size, size, 3), dtype=np.uint8)
    try:
        out = np.asarray(run(probe))
    except Exception as exc:  # a model that cannot take its own declared input
        raise DynaPoseError(
            f"model cannot run on (1, {clip_len}, {size}, {size}, 3) uint8 clips "
            f"({' '.join(str(exc).split())[:160]})",
            source,
        ) from exc
    if out.shape != (1, clip_len, NUM_JOINTS, 3):
        raise DynaPoseError(
            f"model returns shape {out.shape}, not (1, {clip_len}, {NUM_JOINTS}, 3) joints",
            source,
        )


# --------------------------------------------------------------------------------------------
# Crops


def centre_square(width: int, height: int) -> Box:
    """The centred square (x, y, side, side) of a width x height frame, side = min(w, h)."""
    side = min(width, height)
    return ((width - side) / 2, (height - side) / 2, float(side), float(side))


def square_box(box: Sequence[float]) -> Box:
    """The square (x, y, s, s) enclosing box (x, y, w, h), about the same centre."""
    x, y, w, h = (float(v) for v in box)
    if not (w > 0 and h > 0) or not all(math.isfinite(v) for v in (x, y, w, h)):
        raise DynaPoseError(f"crop box must be x,y,w,h with w, h > 0, got {tuple(box)}")
    side = max(w, h)
    return (x + w / 2 - side / 2, y + h / 2 - side / 2, side, side)


def parse_box(text: str) -> Box:
    """Parse "x,y,w,h" (pixels) into a tuple of floats."""
    try:
        values = [float(v) for v in text.replace(" ", "").split(",")]
    except ValueError:
        values = []
    if len(values) != 4:
        raise DynaPoseError(f"--box must be x,y,w,h in pixels, got {text!r}")
    return (values[0], values[1], values[2], values[3])


def crop_resize(image: np.ndarray, box: Box, size: int) -> np.ndarray:
    """Crop the square `box` (x, y, s, s) of an (H, W, 3) uint8 image and resize to (size, size, 3).

    Parts of the box outside the image are black. Bilinear (antialiased when shrinking; Pillow).
    """
    from PIL import Image

    height, width = image.shape[:2]
    x, y, s, _ = box
    x0, y0, x1, y1 = math.floor(x), math.floor(y), math.ceil(x + s), math.ceil(y + s)
    pad = max(0, -x0, -y0, x1 - width, y1 - height)
    if pad:
        image = np.pad(image, ((pad, pad), (pad, pad), (0, 0)))
    region = (x + pad, y + pad, x + s + pad, y + s + pad)
    out = Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR, box=region)
    return np.asarray(out)


def _take_square(image: np.ndarray, x: int, y: int, size: int) -> np.ndarray:
    """image[y:y+size, x:x+size] with black where that lies outside the image."""
    height, width = image.shape[:2]
    if 0 <= x and 0 <= y and x + size <= width and y + size <= height:
        return image[y : y + size, x : x + size]
    out = np.zeros((size, size, 3), dtype=np.uint8)
    sx0, sy0 = max(0, x), max(0, y)
    sx1, sy1 = min(width, x + size), min(height, y + size)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y : sy1 - y, sx0 - x : sx1 - x] = image[sy0:sy1, sx0:sx1]
    return out


def _fixed_box_crops(
    video: Path, info: VideoInfo, box: Box, size: int
) -> Iterator[tuple[float, np.ndarray, Box]]:
    """(time, crop, box) per frame for one box. When the box is at least N pixels, the whole
    frame is scaled by N / side while converting to RGB (one swscale pass) and the crop is cut
    from that; smaller boxes are cut at full resolution and enlarged."""
    x, y, side, _ = box
    ratio = size / side
    if ratio <= 1.0:
        scaled = (max(1, round(info.width * ratio)), max(1, round(info.height * ratio)))
        ox, oy = round(x * ratio), round(y * ratio)
        for frame in iter_frames(video, size=scaled):
            yield frame.time, _take_square(frame.image, ox, oy, size), box
    else:
        for frame in iter_frames(video):
            yield frame.time, crop_resize(frame.image, box, size), box


class MediaPipeBoxes:
    """Per-frame person boxes from MediaPipe Pose (``mediapipe==0.10.21``, optional extra).

    `__call__(image)` takes an (H, W, 3) uint8 RGB frame and returns the square box (x, y, s, s)
    around the detected landmarks, enlarged by DETECTOR_MARGIN and smoothed over time; a frame
    with no detection keeps the previous box (the centred square before the first one).
    """

    def __init__(self, width: int, height: int) -> None:
        from dynapose.keypoints import open_blazepose

        # model_complexity=1 (BlazePose full): the only landmark model inside the 0.10.21 wheel;
        # 0 (lite) and 2 (heavy) are downloaded at first use, which fails offline.
        self._pose = open_blazepose(1)
        self._box: Box = centre_square(width, height)
        self._seen = False

    def __call__(self, image: np.ndarray) -> Box:
        height, width = image.shape[:2]
        result = self._pose.process(image)
        if result.pose_landmarks is not None:
            pts = np.array([(p.x * width, p.y * height) for p in result.pose_landmarks.landmark])
            lo, hi = pts.min(axis=0), pts.max(axis=0)
            cx, cy = (lo + hi) / 2
            side = max(float((hi - lo).max()) * DETECTOR_MARGIN, 16.0)
            new = (cx - side / 2, cy - side / 2, side, side)
            if self._seen:
                a = DETECTOR_SMOOTHING
                new = tuple(a * n + (1 - a) * o for n, o in zip(new, self._box, strict=True))
            self._box = (new[0], new[1], new[2], new[2])
            self._seen = True
        return self._box

    def close(self) -> None:
        self._pose.close()


def _detector_crops(
    video: Path, info: VideoInfo, size: int
) -> Iterator[tuple[float, np.ndarray, Box]]:
    detector = MediaPipeBoxes(info.width, info.height)
    try:
        for frame in iter_frames(video):
            box = detector(frame.image)
            yield frame.time, crop_resize(frame.image, box, size), box
    finally:
        detector.close()


def crop_policy(box: Sequence[float] | None, detector: str) -> str:
    """Which crop policy applies: "box", "mediapipe" or "centre" (see the module docstring)."""
    if detector not in ("auto", "none", "mediapipe"):
        raise DynaPoseError(f"unknown detector {detector!r} (auto, none or mediapipe)")
    if box is not None:
        return "box"
    if detector == "mediapipe" or (detector == "auto" and mediapipe_available()):
        return "mediapipe"
    return "centre"


def iter_crops(
    video: str | os.PathLike[str],
    size: int,
    box: Sequence[float] | None = None,
    detector: str = "auto",
    info: VideoInfo | None = None,
) -> Iterator[tuple[float, np.ndarray, Box]]:
    """Stream (time s, crop uint8 (size, size, 3), box (x, y, s, s)) for every frame of `video`."""
    video = Path(video)
    info = info or probe_video(video)
    policy = crop_policy(box, detector)
    if policy == "mediapipe":
        return _detector_crops(video, info, size)
    if policy == "box" and box is not None:
        chosen = square_box(box)
    else:
        chosen = centre_square(info.width, info.height)
    return _fixed_box_crops(video, info, chosen, size)


# --------------------------------------------------------------------------------------------
# Sliding windows


class WindowAverager:
    """Feed frames one by one; runs the model on batches of T-frame windows every `stride`
    frames and keeps, per frame, the sum and count of the estimates covering it.

    A frame is whatever `run` takes per time step: a crop (N, N, 3) uint8 for a whole model, or
    a feature vector (F,) for a temporal head. `run` maps (B, T, ...) to (B, T, 17, 3).
    `finish()` adds the padded tail windows and returns the per-frame means, (F, 17, 3).
    """

    def __init__(
        self,
        run: Callable[[np.ndarray], np.ndarray],
        clip_len: int,
        stride: int = DEFAULT_STRIDE,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        if not 1 <= stride <= clip_len:
            raise DynaPoseError(f"stride must be between 1 and {clip_len}, got {stride}")
        if batch < 1:
            raise DynaPoseError(f"batch must be at least 1, got {batch}")
        self.run, self.clip_len, self.stride, self.batch = run, clip_len, stride, batch
        self.recent: collections.deque[np.ndarray] = collections.deque(maxlen=clip_len)
        self.clips: np.ndarray | None = None  # (batch, T, *frame shape), allocated on first use
        self.starts: list[int] = []
        self.count = 0  # frames fed
        self.sums = np.zeros((256, NUM_JOINTS, 3), dtype=np.float64)
        self.hits = np.zeros(256, dtype=np.int32)

    def add(self, frame: np.ndarray) -> None:
        """Feed the next frame (a crop or a feature vector)."""
        if self.clips is None:
            self.clips = np.empty((self.batch, self.clip_len, *frame.shape), dtype=frame.dtype)
        self.recent.append(frame)
        self.count += 1
        start = self.count - self.clip_len
        if start >= 0 and start % self.stride == 0:
            self._queue(start, list(self.recent))

    def _queue(self, start: int, frames: list[np.ndarray]) -> None:
        assert self.clips is not None
        slot = len(self.starts)
        for t, frame in enumerate(frames):
            self.clips[slot, t] = frame
        self.starts.append(start)
        if len(self.starts) == self.clips.shape[0]:
            self._flush()

    def _flush(self) -> None:
        if not self.starts or self.clips is None:
            return
        k = len(self.starts)
        out = np.asarray(self.run(self.clips[:k]), dtype=np.float64)
        end = max(self.starts) + self.clip_len
        if end > self.sums.shape[0]:
            grow = max(end, 2 * self.sums.shape[0])
            extra = grow - self.sums.shape[0]
            self.sums = np.concatenate([self.sums, np.zeros((extra, NUM_JOINTS, 3))])
            self.hits = np.concatenate([self.hits, np.zeros(extra, np.int32)])
        for b, start in enumerate(self.starts):
            valid = min(self.clip_len, self.count - start)
            self.sums[start : start + valid] += out[b, :valid]
            self.hits[start : start + valid] += 1
        self.starts = []

    def finish(self) -> np.ndarray:
        """Run the remaining (padded) windows; per-frame mean joints (F, 17, 3) float32."""
        n = self.count
        if n == 0:
            return np.zeros((0, NUM_JOINTS, 3), dtype=np.float32)
        last_start = max(0, math.ceil((n - self.clip_len) / self.stride)) * self.stride
        recent = list(self.recent)  # frames n - len(recent) .. n - 1
        first = n - len(recent)
        for start in range(0, last_start + 1, self.stride):
            if start + self.clip_len <= n:
                continue  # already run as a full window
            frames = recent[start - first :]
            frames += [frames[-1]] * (self.clip_len - len(frames))
            self._queue(start, frames)
        self._flush()
        hits = self.hits[:n]
        if (hits == 0).any():  # cannot happen with 1 <= stride <= T; guard the invariant
            raise RuntimeError("a frame received no window estimate")
        return (self.sums[:n] / hits[:, None, None]).astype(np.float32)


def prefetch(items: Iterator[Any], depth: int = 64) -> Iterator[Any]:
    """Iterate `items` in a background thread, up to `depth` ahead (decoding overlaps the model;
    PyAV and torch release the GIL). Exceptions are re-raised in the caller's thread."""
    done = object()
    box: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[BaseException | None, Any]) -> bool:
        while not stop.is_set():
            try:
                box.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((None, item)):
                    return
            put((None, done))
        except BaseException as exc:  # handed to the consumer
            put((exc, None))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="dynapose-decode", daemon=True)
    thread.start()
    try:
        while True:
            exc, item = box.get()
            if exc is not None:
                raise exc
            if item is done:
                return
            yield item
    finally:
        stop.set()
        thread.join()


# --------------------------------------------------------------------------------------------
# The whole thing


def predict_video(
    video: str | os.PathLike[str],
    checkpoint: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    box: Sequence[float] | None = None,
    detector: str = "auto",
    backend: str = "torch",
    stride: int = DEFAULT_STRIDE,
    batch: int = DEFAULT_BATCH,
    onnx_path: str | os.PathLike[str] | None = None,
    visuals: Sequence[str] = VISUALS,
    overwrite: bool = False,
    viewer_frames: int = 1500,
    model: LoadedModel | None = None,
) -> Prediction:
    """Predict the 17 joints (mm, camera frame) of every frame of `video`; see the module docs.

    video: any file FFmpeg decodes. checkpoint: run or checkpoint folder. out_dir: folder to
    create with joints.{npz,json,csv} and the `visuals` (subset of "overlay", "skeleton3d",
    "viewer"); None writes nothing. box: (x, y, w, h) crop in pixels. detector: "auto", "none"
    or "mediapipe". backend: "torch" or "onnx" (with `onnx_path`, or a temporary export).
    stride: window stride, 1..T. batch: windows per model call. viewer_frames: at most this many
    video frames embedded in the viewer (as JPEG; evenly spaced when the video has more; 0 for
    none). model: an already loaded model (skips `checkpoint`/`backend`; for benchmarks).
    """
    video = Path(video)
    info = probe_video(video)
    policy = crop_policy(box, detector)
    unknown = sorted(set(visuals) - set(VISUALS))
    if unknown:
        raise DynaPoseError(f"unknown visual outputs {unknown} (choose from {', '.join(VISUALS)})")
    loaded = model or load_model(checkpoint, backend, onnx_path)
    if out_dir is None:
        return _predict(video, info, loaded, box, detector, policy, stride, batch)
    out_dir = Path(out_dir)
    if video.resolve().is_relative_to(out_dir.resolve()):
        raise DynaPoseError("output folder must not contain the video", out_dir)
    return write_prediction(
        lambda: _predict(video, info, loaded, box, detector, policy, stride, batch),
        video, out_dir, visuals, viewer_frames, overwrite)


def write_prediction(
    make: Callable[[], Prediction],
    video: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    visuals: Sequence[str] = VISUALS,
    viewer_frames: int = 1500,
    overwrite: bool = False,
) -> Prediction:
    """Run `make` and write its prediction's joint files and `visuals` into `out_dir`, all or
    nothing: everything goes to a temporary folder renamed into place, so a failure (in `make`
    too) leaves no output behind. Returns the prediction with ``files`` set."""
    out_dir = Path(out_dir)
    try:
        with atomic_dir(out_dir, overwrite=overwrite) as tmp:
            pred = make()
            pred.files = write_joints(pred, tmp)
            pred.files.update(write_visuals(pred, video, tmp, visuals, viewer_frames))
            _usual_permissions(tmp)
    except OSError as exc:
        raise DynaPoseError(f"cannot write output ({exc.strerror or exc})", out_dir) from exc
    pred.files = {k: out_dir / p.name for k, p in pred.files.items()}
    return pred


def _usual_permissions(folder: Path) -> None:
    """Give the output folder and its files the modes the umask implies (temporary files and
    folders are created private)."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for file in folder.iterdir():
        file.chmod(0o666 & ~umask)


def _predict(
    video: Path,
    info: VideoInfo,
    loaded: LoadedModel,
    box: Sequence[float] | None,
    detector: str,
    policy: str,
    stride: int,
    batch: int,
) -> Prediction:
    times: list[float] = []
    boxes: list[Box] = []
    crops = prefetch(iter_crops(video, loaded.input_size, box, detector, info))
    if loaded.encode is not None and loaded.head is not None:
        # Each frame through the CNN once, windows of features through the temporal head.
        averager = WindowAverager(loaded.head, loaded.clip_len, stride, batch)
        chunk = max(1, batch * stride)
        pending: list[np.ndarray] = []
        for t, crop, crop_box in crops:
            pending.append(crop)
            times.append(t)
            boxes.append(crop_box)
            if len(pending) == chunk:
                for feat in loaded.encode(np.stack(pending)):
                    averager.add(feat)
                pending = []
        if pending:
            for feat in loaded.encode(np.stack(pending)):
                averager.add(feat)
    else:
        averager = WindowAverager(loaded.run, loaded.clip_len, stride, batch)
        for t, crop, crop_box in crops:
            averager.add(crop)
            times.append(t)
            boxes.append(crop_box)
    joints = averager.finish()
    return Prediction(
        joints=joints,
        frame_index=np.arange(len(times), dtype=np.int64),
        time=np.asarray(times, dtype=np.float64),
        boxes=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
        fps=info.fps,
        video=info,
        model=loaded.info,
        crop_policy=policy,
        stride=stride,
        window=loaded.clip_len,
    )


# --------------------------------------------------------------------------------------------
# Writing


def write_joints(pred: Prediction, folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Write joints.npz, joints.json and joints.csv into `folder`; returns their paths.

    NPZ keys: joints (F, 17, 3) float32 mm; keypoints_2d (F, 17, 2) float32 px (assumed
    intrinsics; a lifted prediction's detected keypoints); valid (F,) bool (False: a gap frame
    without a person, its joints and box NaN); frame_index, time_s, boxes (F, 4); joint_names;
    parents; fps; meta (the JSON header as a string); keypoint_confidence (F, 17) for lifted
    predictions. CSV: one row per frame: frame, time_s, box_x, box_y, box_w, box_h, then
    ``<joint>_x_mm, <joint>_y_mm, <joint>_z_mm`` for the 17 joints in order (empty cells in a
    gap frame). JSON: :meth:`Prediction.to_json`, written row by row.
    """
    folder = Path(folder)
    files = {kind: folder / f"joints.{kind}" for kind in ("npz", "json", "csv")}
    extra: dict[str, Any] = {}
    if pred.confidence_2d is not None:
        extra["keypoint_confidence"] = np.asarray(pred.confidence_2d, dtype=np.float32)
    with open(files["npz"], "wb") as f:
        np.savez_compressed(
            f,
            joints=pred.joints.astype(np.float32),
            keypoints_2d=pred.keypoints_2d(),
            valid=pred.valid(),
            frame_index=pred.frame_index,
            time_s=pred.time,
            boxes=pred.boxes,
            joint_names=np.array(JOINT_NAMES),
            parents=np.array(PARENTS, dtype=np.int64),
            fps=np.float64(pred.fps),
            meta=np.array(json.dumps(pred._header())),
            **extra,
        )
    with open(files["json"], "w", encoding="utf-8") as f:
        header = json.dumps(pred._header(), indent=1)
        f.write(header[: header.rindex("}")].rstrip() + ',\n "frames": [\n')
        for i in range(pred.num_frames):
            row = pred.frame_row(i)
            f.write("  " + json.dumps(row) + (",\n" if i + 1 < pred.num_frames else "\n"))
        f.write(" ]\n}\n")
    with open(files["csv"], "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["frame", "time_s", "box_x", "box_y", "box_w", "box_h"]
            + [f"{name}_{axis}_mm" for name in JOINT_NAMES for axis in "xyz"]
        )
        flat = np.round(pred.joints.reshape(pred.num_frames, -1).astype(np.float64), 2)
        for i in range(pred.num_frames):
            writer.writerow(
                [int(pred.frame_index[i]), f"{pred.time[i]:.6f}"]
                + [f"{v:.2f}" if math.isfinite(v) else "" for v in pred.boxes[i]]
                + [f"{v:.2f}" if math.isfinite(v) else "" for v in flat[i]]
            )
    return files


def write_visuals(
    pred: Prediction,
    video: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    visuals: Sequence[str] = VISUALS,
    viewer_frames: int = 1500,
) -> dict[str, Path]:
    """Write the requested visual outputs of `pred` into `folder`; returns their paths.

    overlay.mp4: the video (second decoding pass) with the projected skeleton drawn on each
    frame, scaled down to OVERLAY_MAX_SIDE pixels when larger. skeleton3d.mp4: the 3D skeleton
    animated at the video's frame rate. viewer.html: the interactive viewer with up to
    `viewer_frames` frames embedded as JPEG. Gap frames (no person; :meth:`Prediction.valid`)
    get no skeleton on the overlay or in the animation, and are left out of the viewer.
    """
    folder = Path(folder)
    files: dict[str, Path] = {}
    if not visuals:
        return files
    from dynapose import viewer, viz

    fps = pred.fps if pred.fps > 0 else 25.0
    want_overlay = "overlay" in visuals
    want_frames = "viewer" in visuals and viewer_frames > 0 and pred.num_frames > 0
    step = max(1, math.ceil(pred.num_frames / viewer_frames)) if want_frames else 0
    thumbs: dict[int, bytes] = {}
    if want_overlay or want_frames:
        kp2d = pred.keypoints_2d()
        width, height = pred.video.width, pred.video.height
        scale = min(1.0, OVERLAY_MAX_SIDE / max(width, height))
        size = None
        if scale < 1.0:  # decode straight to the overlay's size (one swscale pass)
            size = (2 * round(width * scale / 2), 2 * round(height * scale / 2))
            kp2d = kp2d * np.array([size[0] / width, size[1] / height], dtype=np.float32)

        def overlay_frames() -> Iterator[np.ndarray]:
            for frame in iter_frames(video, size=size):
                i = frame.index
                if i >= pred.num_frames:
                    break
                if want_frames and i % step == 0:
                    thumbs[i] = viewer.jpeg_thumbnail(frame.image)
                if want_overlay:
                    yield viz.draw_skeleton_2d(frame.image, kp2d[i])

        if want_overlay:
            files["overlay"] = folder / "overlay.mp4"
            viz.write_video(overlay_frames(), files["overlay"], fps=fps)
        else:
            for _ in overlay_frames():
                pass
    if "skeleton3d" in visuals:
        files["skeleton3d"] = folder / "skeleton3d.mp4"
        limits = viz.skeleton_limits(pred.joints)
        views = (
            viz.render_skeleton_3d(pose, size=SKELETON3D_SIZE, limits=limits)
            for pose in pred.joints
        )
        viz.write_video(views, files["skeleton3d"], fps=fps)
    if "viewer" in visuals:
        files["viewer"] = folder / "viewer.html"
        # gap frames (NaN joints, no person) stay on the timeline: the viewer says so there
        html = viewer.viewer_html(
            pred.joints, fps=fps, frames=thumbs or None, frame_step=step or 1,
            title=f"DynaPose — {Path(video).name}", meta=pred._header(), times=pred.time,
        )
        files["viewer"].write_text(html, encoding="utf-8")
    return files


# --------------------------------------------------------------------------------------------
# Benchmark


def bench_predict(
    checkpoint: str | os.PathLike[str] | None = None,
    batch: int = DEFAULT_BATCH,
    seconds: float = 3.0,
    video_frames: int = 400,
    video_size: int = 1000,
    backends: Sequence[str] = ("torch", "onnx"),
    stride: int = DEFAULT_STRIDE,
    input_size: int = 224,
) -> dict[str, Any]:
    """Measure frames/s of the model alone and of predict end to end; returns a JSON-ready dict.

    Model alone: repeated calls on `batch` windows of T frames (random uint8), per backend,
    frames/s = batch x T / median call time. End to end: `predict_video` on a generated
    `video_size` x `video_size` H.264 video of `video_frames` frames (decode, crop, model,
    writing joints.{npz,json,csv}; visual outputs are timed separately as "visuals"), with the
    torch backend; frames/s = video frames / wall time. Without `checkpoint`, a seed model
    with random weights at `input_size` is used (speed does not depend on the weights).
    """
    from dynapose.checkpoint import save_checkpoint
    from dynapose.models import build_model

    result: dict[str, Any] = {"batch_windows": batch, "torch_threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory(prefix="dynapose-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if checkpoint is None:
            torch.manual_seed(0)
            checkpoint = save_checkpoint(tmp / "ckpt", build_model("seed", input_size=input_size))
            result["checkpoint"] = f"seed, random weights, input {input_size}"
        else:
            result["checkpoint"] = str(checkpoint)
        for backend in backends:
            loaded = load_model(checkpoint, backend)
            clips = np.random.default_rng(0).integers(
                0, 256, (batch, loaded.clip_len, loaded.input_size, loaded.input_size, 3),
                dtype=np.uint8,
            )
            loaded.run(clips)  # warm-up
            times: list[float] = []
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline or len(times) < 3:
                t0 = time.perf_counter()
                loaded.run(clips)
                times.append(time.perf_counter() - t0)
            per_call = float(np.median(times))
            result[f"model_{backend}"] = {
                "frames_per_s": batch * loaded.clip_len / per_call,
                "clips_per_s": batch / per_call,
                "calls": len(times),
                "input": list(clips.shape),
            }
            if loaded.encode is not None and loaded.head is not None:
                result[f"model_{backend}_shared_features"] = _bench_shared(
                    loaded, clips, stride, seconds
                )
        video = tmp / "bench.mp4"
        _bench_video(video, video_frames, video_size)
        t0 = time.perf_counter()
        for _ in iter_crops(video, _size(checkpoint), detector="none"):
            pass
        result["decode_crop_only"] = {
            "frames_per_s": video_frames / (time.perf_counter() - t0),
            "includes": "decode, colour conversion, crop+resize to the model's input",
        }
        loaded = load_model(checkpoint, "torch")
        t0 = time.perf_counter()
        predict_video(video, checkpoint, tmp / "out", stride=stride, batch=batch, visuals=(),
                      model=loaded)
        elapsed = time.perf_counter() - t0
        result["end_to_end"] = {
            "frames_per_s": video_frames / elapsed,
            "seconds": elapsed,
            "video": f"{video_size}x{video_size} H.264, {video_frames} frames",
            "stride": stride,
            "includes": "decode, crop+resize, model, joints.npz/json/csv",
        }
        t0 = time.perf_counter()
        predict_video(video, checkpoint, tmp / "out_vis", stride=stride, batch=batch,
                      model=loaded)
        elapsed = time.perf_counter() - t0
        result["end_to_end_with_visuals"] = {
            "frames_per_s": video_frames / elapsed,
            "seconds": elapsed,
            "includes": "as end_to_end plus overlay.mp4, skeleton3d.mp4, viewer.html",
        }
    result["targets"] = {"model_frames_per_s": 2106, "end_to_end_frames_per_s": 200}
    return result


def _size(checkpoint: str | os.PathLike[str]) -> int:
    from dynapose.checkpoint import read_checkpoint_config
    from dynapose.export import model_geometry

    return model_geometry(read_checkpoint_config(checkpoint))[1]


def _bench_shared(
    loaded: LoadedModel, clips: np.ndarray, stride: int, seconds: float
) -> dict[str, Any]:
    """Video frames/s of the model as predict runs it: each frame's CNN features once
    (batch x stride frames per call), the temporal head on `batch` windows of them."""
    assert loaded.encode is not None and loaded.head is not None
    batch, clip_len = clips.shape[:2]
    frames = clips.reshape(-1, *clips.shape[2:])[: batch * stride]
    feats = loaded.encode(frames)
    windows = np.ascontiguousarray(
        np.stack([feats[(i * stride) % len(feats)][None].repeat(clip_len, 0) for i in range(batch)])
    )
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 3:
        t0 = time.perf_counter()
        loaded.encode(frames)
        loaded.head(windows)
        times.append(time.perf_counter() - t0)
    return {
        "frames_per_s": len(frames) / float(np.median(times)),
        "stride": stride,
        "calls": len(times),
        "note": "video frames/s: CNN once per frame, LSTM+dense head per window",
    }


def _bench_video(path: Path, frames: int, size: int) -> None:
    """A size x size H.264 video with a moving figure-like pattern over a gradient."""
    from dynapose.video import write_test_video

    yy, xx = np.mgrid[0:size, 0:size]
    base = np.stack([xx * 255 // size, yy * 255 // size, np.full_like(xx, 90)], -1).astype(np.uint8)

    def gen() -> Iterator[np.ndarray]:
        for i in range(frames):
            img = base.copy()
            cx = size // 2 + int(size * 0.2 * math.sin(i / 15))
            img[size // 5 : 4 * size // 5, cx - size // 12 : cx + size // 12] = (220, 180, 150)
            yield img

    write_test_video(path, gen(), fps=50.0)

