"""Square crops around the person for the image model: a fixed box, the centred square, or a
MediaPipe box per frame; streamed, resized to the model's input side.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from dynapose.errors import DynaPoseError
from dynapose.inference.mediapipe import MediaPipePose, mediapipe_available
from dynapose.inference.prediction import Box
from dynapose.io.video import VideoInfo, iter_frames, probe_video

#: The detector's square box is this many times the landmarks' larger extent.
DETECTOR_MARGIN = 1.3


#: Smoothing of the detector's box over time (weight of the new frame's box).
DETECTOR_SMOOTHING = 0.5


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
        self._pose = MediaPipePose(alternative="")  # BlazePose full, the model the wheel ships
        self._box: Box = centre_square(width, height)
        self._seen = False

    def __call__(self, image: np.ndarray) -> Box:
        height, width = image.shape[:2]
        marks = self._pose.landmarks(image)
        if marks is not None:
            pts = np.array([(p.x * width, p.y * height) for p in marks])
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
        x, y, side, _ = chosen
        if x >= info.width or y >= info.height or x + side <= 0 or y + side <= 0:
            raise DynaPoseError(f"crop box {tuple(box)} lies entirely outside the "
                                f"{info.width}x{info.height} frame", video)
    else:
        chosen = centre_square(info.width, info.height)
    return _fixed_box_crops(video, info, chosen, size)
