"""MediaPipe BlazePose (``mediapipe==0.10.21``, whose wheel ships the pose model): 2D keypoints of a
person in video frames, mapped to the 17 Human3.6M joints.

One wrapper for both uses: the keypoints the lifter lifts, and the person box of the image model's
crop (:class:`dynapose.inference.crops.MediaPipeBoxes`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from dynapose.data.keypoints import Keypoints2D, _checked, mediapipe_to_h36m
from dynapose.errors import DynaPoseError
from dynapose.io.video import iter_frames
from dynapose.skeleton import NUM_JOINTS

#: Installing the detector.
MEDIAPIPE_HINT = ("DynaPose installs mediapipe==0.10.21 where a wheel exists (Python < 3.13, "
                  "not aarch64): pip install mediapipe==0.10.21 'numpy<2' 'protobuf<5'")


def mediapipe_available() -> bool:
    """Whether MediaPipe's pose solution can be imported."""
    try:
        from mediapipe.python.solutions import pose  # noqa: F401  (heavy: ~1 s to import)
    except Exception:
        return False
    return True


def open_blazepose(model_complexity: int = 1, alternative: str = "") -> Any:
    """MediaPipe's video-mode pose tracker (``mediapipe.python.solutions.pose.Pose``); a
    DynaPoseError saying how to install it (and `alternative`) when MediaPipe is absent."""
    try:
        from mediapipe.python.solutions import pose as mp_pose  # heavy: imported on first use
    except ImportError as exc:
        hint = f"MediaPipe is not installed: {MEDIAPIPE_HINT}"
        raise DynaPoseError(f"{hint}, {alternative}" if alternative else hint) from exc
    return mp_pose.Pose(static_image_mode=False, model_complexity=model_complexity)


class MediaPipePose:
    """BlazePose full (``model_complexity=1``, tracking across frames) on RGB frames.

    Only model_complexity 1 ships inside the ``mediapipe==0.10.21`` wheel: MediaPipe downloads
    0 (lite) and 2 (heavy) at first use, which fails offline.

    `__call__(image)` takes (H, W, 3) uint8 RGB and returns (pixels (17, 2), confidences (17,))
    in Human3.6M order, or None when no pose is found. Close it with :meth:`close`.
    """

    def __init__(self, model_complexity: int = 1,
                 alternative: str = "or pass --keypoints FILE with your own detector's 2D "
                                    "keypoints") -> None:
        self._pose = open_blazepose(model_complexity, alternative)

    def landmarks(self, image: np.ndarray) -> list[Any] | None:
        """MediaPipe's landmarks of the person in (H, W, 3) uint8 RGB, or None (nobody)."""
        result = self._pose.process(np.ascontiguousarray(image))
        if result.pose_landmarks is None:
            return None
        return list(result.pose_landmarks.landmark)

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        height, width = image.shape[:2]
        marks = self.landmarks(image)
        if marks is None:
            return None
        xy = np.array([(p.x * width, p.y * height) for p in marks], dtype=np.float64)
        vis = np.array([p.visibility for p in marks], dtype=np.float64)
        return mediapipe_to_h36m(xy, vis)

    def close(self) -> None:
        self._pose.close()


def iter_mediapipe(video: str | os.PathLike[str], model_complexity: int = 1
                   ) -> Iterator[tuple[float, tuple[np.ndarray, np.ndarray] | None]]:
    """(time s, keypoints or None) for every frame of `video` (see :class:`MediaPipePose`)."""

    pose = MediaPipePose(model_complexity)
    try:
        for frame in iter_frames(video):
            yield frame.time, pose(frame.image)
    finally:
        pose.close()


def detect_keypoints_mediapipe(video: str | os.PathLike[str], model_complexity: int = 1,
                               times: list[float] | None = None) -> Keypoints2D:
    """2D keypoints of every frame of `video` with MediaPipe BlazePose full (module docstring).

    Frames without a pose are gaps. `times`, when given, receives each frame's time (s).
    Raises DynaPoseError when MediaPipe is not installed.
    """
    pixels: list[np.ndarray] = []
    conf: list[np.ndarray] = []
    for t, found in iter_mediapipe(video, model_complexity):
        if times is not None:
            times.append(t)
        if found is None:
            pixels.append(np.full((NUM_JOINTS, 2), np.nan))
            conf.append(np.zeros(NUM_JOINTS))
        else:
            pixels.append(found[0])
            conf.append(found[1])
    px = np.stack(pixels) if pixels else np.zeros((0, NUM_JOINTS, 2))
    c = np.stack(conf) if conf else np.zeros((0, NUM_JOINTS))
    return _checked(px, c, video, f"MediaPipe BlazePose full (model_complexity="
                    f"{model_complexity}), mapped 33 -> 17")
