"""Work on each decoded frame done beside the 2D detector: :class:`BackgroundTap`."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

#: What a tap is given per decoded frame: (frame, keypoints or None).
Tap = Callable[[Any, Any], None]


class BackgroundTap:
    """Runs `tap(frame, found)` for each frame handed to it on a thread of its own, at most
    `depth` frames behind the caller, so what it does (drawing and encoding the overlay, the
    viewer's pictures, the camera's motion: OpenCV, FFmpeg and Pillow release Python's lock)
    runs on the core the 2D detector leaves free. Frames are taken as they are (the caller
    must not change them after). An error on the thread is raised by the next call or by
    :meth:`close`. As a context manager it closes on success; on an exception it stops
    without raising its own.
    """

    def __init__(self, tap: Tap, depth: int = 4) -> None:
        self._tap = tap
        self._queue: queue.Queue[tuple[Any, Any] | None] = queue.Queue(depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="frame tap", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        ended = False
        try:
            while not ended:
                item = self._queue.get()
                ended = item is None
                if item is not None:
                    self._tap(*item)
        except BaseException as exc:  # handed to the caller by _raise
            self._error = exc
            while not ended:  # take what the caller still hands over, until it stops
                ended = self._queue.get() is None

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _put(self, item: tuple[Any, Any] | None) -> None:
        while self._thread.is_alive():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __call__(self, frame: Any, found: Any) -> None:
        self._raise()
        self._put((frame, found))

    def close(self) -> None:
        """Wait until every frame handed over was tapped; raise the thread's error, if any."""
        self._put(None)
        self._thread.join()
        self._raise()

    def __enter__(self) -> BackgroundTap:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None:
            self.close()
        else:
            self._put(None)
            self._thread.join()
