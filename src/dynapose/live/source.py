"""Live frame sources: a camera, a stream URL or a video file, read by a capture thread that keeps
only the newest frame.

The capture thread (:class:`FrameSource`) reads frames as fast as the source gives them and
hands over only the newest one (:meth:`FrameSource.next`): when the pose loop falls behind,
older frames are dropped, never queued, so what is shown and sent is always the latest view.
A video file is played at its own rate (each frame released at its timestamp after the first),
as a camera would deliver it.

Sources (:func:`open_source`): an integer (``0``: the first camera, OpenCV's ``VideoCapture``),
a URL (``rtsp://``, ``http://``, ``udp://`` ..., opened by PyAV with a timeout), or a path to a
video file (:func:`dynapose.io.video.iter_frames`). A camera or stream that stops giving frames
has vanished (:attr:`FrameSource.error`); a file that reaches its end has simply ended.
"""

from __future__ import annotations

import importlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from dynapose.errors import DynaPoseError, debugging
from dynapose.io.video import iter_frames, probe_video

#: Seconds a URL may take to answer (opening, and between two packets).
URL_TIMEOUT_S = 5.0
#: Seconds a camera may take to give its first frame.
CAMERA_START_S = 5.0

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass(frozen=True)
class CapturedFrame:
    """One frame as the capture thread got it. index: the source's frame number from 0 (frames
    dropped before the pose loop took them still count); time: seconds from the first frame
    (the file's or stream's timestamps, the clock for a camera); captured: ``time.perf_counter()``
    when it was read (where latency starts); image: (H, W, 3) uint8 RGB."""

    index: int
    time: float
    captured: float
    image: np.ndarray


def describe(source: str | int) -> str:
    """How a source is named in messages: ``camera 0``, the URL, or the file's path."""
    if isinstance(source, int):
        return f"camera {source}"
    return str(source)


def parse_source(text: str | int) -> str | int:
    """A command line's SOURCE: digits are a camera index, anything else a URL or a path."""
    if isinstance(text, int):
        return text
    return int(text) if text.strip().isdigit() else text


class FrameSource:
    """A capture thread keeping the newest frame of `reader` (an iterator of (time s, RGB image)),
    started by the first :meth:`next`.

    `paced`: release each frame at its timestamp after the first (a file played at its own
    rate). `vanishes`: the reader running out means the source vanished (a camera, a stream),
    not that it ended (a file). Use :meth:`next` in the pose loop and :meth:`close` at the end.
    """

    def __init__(self, name: str, reader: Iterator[tuple[float, np.ndarray]], width: int,
                 height: int, fps: float, *, paced: bool, vanishes: bool,
                 close_reader: Callable[[], None] | None = None) -> None:
        self.name, self.width, self.height, self.fps = name, width, height, fps
        self.paced, self.vanishes = paced, vanishes
        self.captured = 0  # frames read from the source
        self.taken = 0  # frames handed to the pose loop
        self.ended = False
        self.error: DynaPoseError | None = None
        self._reader = reader
        self._close_reader = close_reader
        self._newest: CapturedFrame | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        # started by the first next(): a file plays from its first frame however long the
        # models take to load
        self._thread = threading.Thread(target=self._run, name=f"capture {name}", daemon=True)
        self._started = False

    @property
    def dropped(self) -> int:
        """Frames read but never handed over (the loop was busy with an earlier one)."""
        with self._cond:
            pending = 1 if self._newest is not None else 0
            return self.captured - self.taken - pending

    def _run(self) -> None:
        start: float | None = None
        first_time = 0.0
        try:
            for t, image in self._reader:
                if self._stop.is_set():
                    break
                now = time.perf_counter()
                if start is None:
                    start, first_time = now, t
                elif self.paced:  # a file: wait for the frame's moment, as a camera would
                    wait = start + (t - first_time) - now
                    if wait > 0 and self._stop.wait(wait):
                        break
                    now = time.perf_counter()
                frame = CapturedFrame(self.captured, t - first_time, now, image)
                with self._cond:
                    self._newest = frame
                    self.captured += 1
                    self._cond.notify_all()
            else:
                if self.vanishes and not self._stop.is_set():
                    raise DynaPoseError(f"stopped giving frames after {self.captured} (the "
                                        "camera or stream vanished)", self.name)
        except DynaPoseError as exc:
            self.error = exc if exc.path else DynaPoseError(exc.problem, self.name)
        except Exception as exc:  # a reader's failure: the source is gone
            self.error = DynaPoseError(f"stopped giving frames after {self.captured}: "
                                       f"{' '.join(str(exc).split()) or type(exc).__name__}",
                                       self.name)
        finally:
            with self._cond:
                self.ended = True
                self._cond.notify_all()

    def next(self, timeout: float | None = None) -> CapturedFrame | None:
        """The newest frame not yet taken, waiting for one; None once the source has ended (or
        vanished: then :attr:`error` says why) or after `timeout` seconds without a frame."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            if not self._started:
                self._started = True
                self._thread.start()
            while self._newest is None:
                if self.ended:
                    return None
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(left)
            frame, self._newest = self._newest, None
            self.taken += 1
            return frame

    def close(self) -> None:
        """Stop the capture thread and release the source."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        if self._close_reader is not None:
            try:
                self._close_reader()
            except Exception:
                pass

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(source: str | int | os.PathLike[str]) -> FrameSource:
    """A :class:`FrameSource` for a camera index, a stream URL or a video file (module
    docstring). DynaPoseError (one line naming the source) when it cannot be opened: no such
    camera, a URL that does not answer within :data:`URL_TIMEOUT_S`, a missing or unreadable
    file."""
    if isinstance(source, int):
        return _open_camera(source)
    text = os.fspath(source)
    if _URL.match(text):
        return _open_url(text)
    return _open_file(Path(text))


def _open_file(path: Path) -> FrameSource:
    if not path.is_file():
        raise DynaPoseError("no such video file (a camera is a number: 0, 1 ...)", path)
    info = probe_video(path)
    frames = iter_frames(path)  # a generator: closing it closes the file

    def reader() -> Iterator[tuple[float, np.ndarray]]:
        for frame in frames:
            yield frame.time, frame.image

    return FrameSource(str(path), reader(), info.width, info.height, info.fps, paced=True,
                       vanishes=False, close_reader=frames.close)  # type: ignore[attr-defined]


def _open_url(url: str) -> FrameSource:
    try:
        container = av.open(url, timeout=(URL_TIMEOUT_S, URL_TIMEOUT_S))
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DynaPoseError(f"cannot open the stream ({reason})", url) from None
    if not container.streams.video:
        container.close()
        raise DynaPoseError("the stream has no video", url)
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    decoded = container.decode(stream)
    try:
        first = next(decoded)
    except Exception as exc:
        container.close()
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DynaPoseError(f"the stream gave no frame ({reason})", url) from None
    base = stream.time_base

    def when(frame: Any) -> float:
        return float(frame.pts * base) if frame.pts is not None and base is not None else \
            time.perf_counter()

    def reader() -> Iterator[tuple[float, np.ndarray]]:
        yield when(first), first.to_ndarray(format="rgb24")
        for frame in decoded:
            yield when(frame), frame.to_ndarray(format="rgb24")

    rate = float(stream.average_rate or stream.guessed_rate or 0.0)
    return FrameSource(url, reader(), first.width, first.height, rate, paced=True,
                       vanishes=True, close_reader=container.close)


def _silence_opencv() -> None:
    """OpenCV's log off: ``cv2.utils.logging`` in OpenCV 5, ``cv2.setLogLevel`` in 4."""
    try:
        logging = importlib.import_module("cv2.utils.logging")
        logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    except ImportError:
        set_level = getattr(cv2, "setLogLevel", None)
        if set_level is not None:
            set_level(0)


def _open_camera(index: int) -> FrameSource:
    if not debugging():  # OpenCV's own lines about a missing camera: the one line below says it
        _silence_opencv()
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        capture.release()
        raise DynaPoseError("no camera there (pass another index, a stream URL or a video file)",
                            f"camera {index}")
    ok, image = False, None
    deadline = time.monotonic() + CAMERA_START_S
    while not ok and time.monotonic() < deadline:
        ok, image = capture.read()
    if not ok or image is None:
        capture.release()
        raise DynaPoseError(f"the camera gave no frame within {CAMERA_START_S:g} s",
                            f"camera {index}")
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    start = time.perf_counter()

    def reader() -> Iterator[tuple[float, np.ndarray]]:
        yield 0.0, cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        while True:
            ok, bgr = capture.read()
            if not ok or bgr is None:
                return
            yield time.perf_counter() - start, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    height, width = image.shape[:2]
    return FrameSource(f"camera {index}", reader(), width, height, fps, paced=False,
                       vanishes=True, close_reader=capture.release)
