"""MediaPipe one frame ahead: the 2D keypoints of the newest frame found in a thread of its own
while the loop lifts, sends and shows the frame before it.

MediaPipe takes most of a frame's time (docs/results.md, ``## Live``) and runs in native code
without Python's lock, so on two cores it overlaps the lifter, the sending and the capture
thread's decoding: frames/s is set by the slowest stage instead of the sum of all, and latency
(capture to sent) stays the sum of one frame's stages. Like the capture thread, the detector
hands over only its newest result: a loop that falls behind skips a frame's 2D (the lifter
interpolates over its timestamps), it never queues them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dynapose.live.source import CapturedFrame, FrameSource

#: Seconds without a new frame after which a camera or stream counts as stalled (vanished).
STALL_S = 10.0

Keypoints = tuple[np.ndarray, np.ndarray] | None


@dataclass(frozen=True)
class Detected:
    """A frame with its 2D: keypoints (17, 2) px and confidences (17,), or None (no person);
    detect_ms: MediaPipe's time on it."""

    frame: CapturedFrame
    keypoints: Keypoints
    detect_ms: float


def next_frame(src: FrameSource, stop: threading.Event) -> CapturedFrame | None:
    """The source's next frame, waiting while `stop` is unset; None at the source's end, on
    `stop`, or after STALL_S seconds without a frame from a camera or stream."""
    deadline = time.monotonic() + STALL_S
    while not stop.is_set():
        frame = src.next(timeout=0.1)
        if frame is not None or src.ended:
            return frame
        if src.vanishes and time.monotonic() > deadline:
            return None
    return None


class DetectAhead:
    """The 2D of the source's frames (module docstring). `detector(image)` -> keypoints or
    None. `overlap` False: detect in the caller's thread when :meth:`next` is called (no
    thread). Close with :meth:`close`."""

    def __init__(self, src: FrameSource, detector: Callable[[np.ndarray], Keypoints],
                 stop: threading.Event, overlap: bool = True) -> None:
        self.src, self.detector, self.stop, self.overlap = src, detector, stop, overlap
        self.dropped = 0  # detected but never taken: the loop was busy
        self.error: BaseException | None = None
        self._newest: Detected | None = None
        self._ended = False
        self._cond = threading.Condition()
        self._quit = threading.Event()
        self._thread: threading.Thread | None = None
        if overlap:
            self._thread = threading.Thread(target=self._run, name="detect", daemon=True)
            self._thread.start()

    def _detect(self, frame: CapturedFrame) -> Detected:
        start = time.perf_counter()
        found = self.detector(frame.image)
        return Detected(frame, found, (time.perf_counter() - start) * 1000.0)

    def _run(self) -> None:
        try:
            while not self._quit.is_set():
                frame = next_frame(self.src, self.stop)
                if frame is None:
                    break
                done = self._detect(frame)
                with self._cond:
                    if self._newest is not None:
                        self.dropped += 1
                    self._newest = done
                    self._cond.notify_all()
        except BaseException as exc:  # MediaPipe's failure: the loop raises it
            self.error = exc
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def next(self) -> Detected | None:
        """The newest detected frame not yet taken; None when no more will come (the source
        ended, vanished or stalled, `stop` was set; :attr:`error` if MediaPipe failed)."""
        if not self.overlap:
            frame = next_frame(self.src, self.stop)
            return None if frame is None else self._detect(frame)
        with self._cond:
            while self._newest is None and not self._ended:
                self._cond.wait(0.1)
            done, self._newest = self._newest, None
        if done is None and self.error is not None:
            raise self.error
        return done

    def close(self) -> None:
        """Stop the thread (after the frame it is on)."""
        self._quit.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)
