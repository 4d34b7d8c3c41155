"""From a video to 3D joints: crop, sliding 8-frame windows, averaging, files people can use.

Pipeline (one streaming pass over the video for the joints; memory stays flat):

1. **Decode** any container/codec/resolution/fps with PyAV (:mod:`dynapose.io.video`).
2. **Crop** each frame to a square around the person, resized to the model's input side N:

   - ``box=(x, y, w, h)`` (pixels, top-left corner and size in the upright frame): that box, the
     same for every frame, grown to the enclosing square about its centre (so the person keeps
     their aspect ratio); parts outside the frame are black.
   - ``detector="mediapipe"`` (or ``"auto"`` when MediaPipe is installed): MediaPipe Pose's
     landmarks on every frame; the box is the square around them, enlarged by
     :data:`DETECTOR_MARGIN`, smoothed over time; frames without a detection keep the last box
     (the centred square before the first detection). Needs MediaPipe (installed with DynaPose)
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
   ``viewer.html`` (interactive, self-contained; :mod:`dynapose.viz.viewer`).

Joints are in millimetres in the camera frame (x right, y down, z forward). The 2D overlay
projects them with **assumed intrinsics**: the crop is treated as a Human3.6M-like view — focal
length :data:`FOCAL_PER_CROP_SIDE` x the crop side (Human3.6M's cameras have fx ~ 1145 px for
1000-px frames), principal point at the crop centre, no distortion. The seed model predicts no
2D joints of its own, so this projection is what the overlay shows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dynapose.camera import FOCAL_PER_CROP_SIDE, place_in_crop, project_to_frame
from dynapose.errors import DynaPoseError
from dynapose.inference.backends import LoadedModel, load_model
from dynapose.inference.crops import crop_policy, iter_crops
from dynapose.inference.prediction import COORDINATE_FRAME, ROOT_FRAME, Box, Prediction
from dynapose.inference.windows import DEFAULT_BATCH, DEFAULT_STRIDE, WindowAverager, prefetch
from dynapose.inference.writer import VISUALS, write_prediction
from dynapose.io.video import VideoInfo, probe_video


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
    device: str = "auto",
) -> Prediction:
    """Predict the 17 joints (mm, camera frame) of every frame of `video`; see the module docs.

    video: any file FFmpeg decodes. checkpoint: run or checkpoint folder. out_dir: folder to
    create with joints.{npz,json,csv} and the `visuals` (subset of "overlay", "skeleton3d",
    "viewer"); None writes nothing. box: (x, y, w, h) crop in pixels. detector: "auto", "none"
    or "mediapipe". backend: "torch" or "onnx" (with `onnx_path`, or a temporary export).
    stride: window stride, 1..T. batch: windows per model call. viewer_frames: at most this many
    video frames embedded in the viewer (as JPEG; evenly spaced when the video has more; 0 for
    none). model: an already loaded model (skips `checkpoint`/`backend`; for benchmarks).
    device: where the torch backend runs (auto, cpu, cuda, cuda:N).
    """
    video = Path(video)
    info = probe_video(video)
    policy = crop_policy(box, detector)
    unknown = sorted(set(visuals) - set(VISUALS))
    if unknown:
        raise DynaPoseError(f"unknown visual outputs {unknown} (choose from {', '.join(VISUALS)})")
    loaded = model or load_model(checkpoint, backend, onnx_path, device)
    if out_dir is None:
        return _predict(video, info, loaded, box, detector, policy, stride, batch)
    out_dir = Path(out_dir)
    if video.resolve().is_relative_to(out_dir.resolve()):
        raise DynaPoseError("output folder must not contain the video", out_dir)
    return write_prediction(
        lambda: _predict(video, info, loaded, box, detector, policy, stride, batch),
        video, out_dir, visuals, viewer_frames, overwrite)


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
    return image_prediction(joints, np.asarray(times, dtype=np.float64),
                            np.asarray(boxes, dtype=np.float32).reshape(-1, 4), info, loaded.info,
                            policy, stride, loaded.clip_len)


def image_prediction(joints: np.ndarray, times: np.ndarray, boxes: np.ndarray, info: VideoInfo,
                     model: dict[str, Any], policy: str, stride: int, window: int = 8
                     ) -> Prediction:
    """The :class:`Prediction` of an image model: joints (F, 17, 3) mm from crops `boxes`
    (F, 4) px, with the method's blocks (crop, windows, projection) and the 2D positions the
    overlay draws (the joints projected with assumed intrinsics, see the module docstring)."""
    root = model.get("targets") == "root"
    placed = place_in_crop(joints) if root else joints
    return Prediction(
        joints=joints,
        frame_index=np.arange(len(times), dtype=np.int64),
        time=times,
        points_2d=project_to_frame(placed, boxes),
        boxes=boxes,
        found=np.ones(len(times), dtype=bool),
        fps=info.fps,
        video=info,
        model=model,
        source=policy,
        coordinate_frame=ROOT_FRAME if root else COORDINATE_FRAME,
        method={
            "crop": {
                "policy": policy,
                "input_size": int(model.get("config", {}).get("input_size", 0)),
                "box_format": "x, y, w, h in pixels of the upright frame (top-left, size)",
            },
            "windows": {
                "length": window,
                "stride": stride,
                "averaging": "mean of every window estimate covering the frame; the last window "
                "is padded by repeating the last frame",
            },
            "projection": {
                "assumed": True,
                "focal_px": f"{FOCAL_PER_CROP_SIDE} x box width",
                "principal_point": "box centre",
                "distortion": "none",
            },
        },
    )
