"""``--record DIR``: what ``predict`` writes, for the frames live saw.

While the loop runs, every frame it processed goes into a video at its capture time (a
variable-frame-rate MP4: dropped frames leave their time empty, as they were never seen) and its
2D keypoints and joints are kept. :meth:`Recorder.finish` then writes DIR in one atomic step:
``video.mp4`` (the frames seen) and, through ``predict``'s writer
(:func:`dynapose.inference.writer.write_joints` and
:func:`~dynapose.inference.writer.write_visuals`), joints.npz/json/csv and the visuals of those
frames. It runs however the loop ended -- the source's end, a camera vanishing, Ctrl-C -- so
everything seen up to then is kept; only frames that were never processed are missing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from dynapose.data.keypoints import bounding_squares
from dynapose.errors import DynaPoseError
from dynapose.inference.prediction import Prediction
from dynapose.inference.writer import write_joints, write_visuals
from dynapose.io.atomic import atomic_dir, check_output
from dynapose.io.video import probe_video


class SeenVideo:
    """An MP4 (H.264, yuv420p) of frames at given times: each frame shown from its time until
    the next one's (millisecond timestamps)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._out: Any = None
        self._stream: Any = None
        self._last_ms = -1

    def write(self, image: np.ndarray, time_s: float) -> None:
        h, w = image.shape[:2]
        if self._out is None:
            self._out = av.open(str(self.path), mode="w", format="mp4")
            codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
            self._stream = self._out.add_stream(codec, rate=30)
            self._stream.width, self._stream.height = w - w % 2, h - h % 2
            self._stream.pix_fmt = "yuv420p"
            self._stream.time_base = Fraction(1, 1000)
            if codec == "libx264":
                self._stream.options = {"crf": "20", "preset": "veryfast"}
        image = np.ascontiguousarray(image[: h - h % 2, : w - w % 2])
        yuv = np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        ms = max(round(time_s * 1000.0), self._last_ms + 1)
        frame.pts, frame.time_base = ms, Fraction(1, 1000)
        self._last_ms = ms
        for packet in self._stream.encode(frame):
            self._out.mux(packet)
        self.count += 1

    def close(self) -> None:
        if self._out is None:
            return
        try:
            for packet in self._stream.encode(None):
                self._out.mux(packet)
        finally:
            self._out.close()
            self._out = None


class Recorder:
    """Keeps what live saw and writes it to `folder` at :meth:`finish` (module docstring).

    visuals: :data:`dynapose.inference.writer.VISUALS` or fewer. model, method: the JSON
    header's blocks. The folder is checked at once (DynaPoseError: exists without `overwrite`,
    not writable).
    """

    def __init__(self, folder: str | os.PathLike[str], visuals: Sequence[str],
                 model: dict[str, Any], method: dict[str, Any], overwrite: bool = False) -> None:
        self.folder = check_output(folder, folder=True, overwrite=overwrite)
        self.visuals, self.model, self.method, self.overwrite = visuals, model, method, overwrite
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self._video_path = self.folder.parent / f".{self.folder.name}.live-{os.getpid()}.mp4"
        self._video = SeenVideo(self._video_path)
        self._times: list[float] = []
        self._points: list[np.ndarray] = []
        self._conf: list[np.ndarray] = []
        self._joints: list[np.ndarray] = []
        self._found: list[bool] = []
        self.files: dict[str, Path] = {}

    @property
    def frames(self) -> int:
        return len(self._times)

    def add(self, image: np.ndarray, time_s: float, keypoints: np.ndarray,
            confidence: np.ndarray, joints: np.ndarray, found: bool) -> None:
        """One processed frame: its picture, time (s from the first), 2D (17, 2) px,
        confidences (17,), joints (17, 3) mm camera frame (NaN without a person)."""
        self._video.write(image, time_s)
        self._times.append(float(time_s))
        self._points.append(np.asarray(keypoints, dtype=np.float32))
        self._conf.append(np.asarray(confidence, dtype=np.float32))
        self._joints.append(np.asarray(joints, dtype=np.float32))
        self._found.append(bool(found))

    def finish(self) -> dict[str, Path]:
        """Write the folder (module docstring); returns its files by kind. With no frame seen,
        nothing is written (and an empty dict returned)."""
        try:
            self._video.close()
            if not self._times:
                return {}
            info = dataclasses.replace(probe_video(self._video_path),
                                       path=str(self.folder / "video.mp4"))
            times = np.asarray(self._times, dtype=np.float64)
            span = float(times[-1] - times[0])
            fps = (len(times) - 1) / span if len(times) > 1 and span > 0 else info.fps
            points = np.stack(self._points)
            found = np.asarray(self._found, dtype=bool)
            pred = Prediction(
                joints=np.stack(self._joints), frame_index=np.arange(len(times), dtype=np.int64),
                time=times - times[0], points_2d=points, boxes=bounding_squares(points),
                found=found, fps=float(fps), video=info, model=self.model, source="keypoints",
                method=self.method, confidence_2d=np.stack(self._conf))
            with atomic_dir(self.folder, overwrite=self.overwrite) as tmp:
                video = tmp / "video.mp4"
                os.replace(self._video_path, video)
                files = {"video": video, **write_joints(pred, tmp)}
                files.update(write_visuals(pred, video, tmp, self.visuals))
            self.files = {k: self.folder / p.name for k, p in files.items()}
            return self.files
        except OSError as exc:
            raise DynaPoseError(f"cannot write the recording ({exc.strerror or exc})",
                                self.folder) from exc
        finally:
            with contextlib.suppress(OSError):
                self._video_path.unlink()
