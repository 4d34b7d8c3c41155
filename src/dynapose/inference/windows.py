"""Sliding T-frame windows over a stream of frames, and a background decoder.

:class:`WindowAverager` gives every frame the mean of the window estimates that cover it;
:func:`prefetch` overlaps decoding with the model.
"""

from __future__ import annotations

import collections
import math
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dynapose.errors import DynaPoseError
from dynapose.skeleton import NUM_JOINTS

DEFAULT_STRIDE = 4


DEFAULT_BATCH = 16


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
        joints = (self.sums[:n] / hits[:, None, None]).astype(np.float32)
        finite = np.isfinite(joints).all(axis=(1, 2))
        if not finite.all():  # never write a non-finite estimate as a valid frame
            raise DynaPoseError(f"the model returned NaN or infinite joints for "
                                f"{int((~finite).sum())} frame(s), first at frame "
                                f"{int(np.flatnonzero(~finite)[0])}")
        return joints


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
