"""Work on each decoded frame done beside the 2D detector: :class:`BackgroundTap`."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from dynapose.background import BackgroundWorker

#: What a tap is given per decoded frame: (frame, keypoints or None).
Tap = Callable[[Any, Any], None]


class BackgroundTap:
    """Runs `tap(frame, found)` for each frame handed to it on a thread of its own, at most
    `depth` frames behind the caller (:class:`~dynapose.background.BackgroundWorker`), so
    drawing and encoding the overlay, the viewer's pictures and the camera's motion run on the
    core the 2D detector leaves free. Frames are taken as they are (the caller must not change
    them after). An error on the thread is raised by the next call or by :meth:`close`. As a
    context manager it closes on success; on an exception it stops without raising its own.
    """

    def __init__(self, tap: Tap, depth: int = 4) -> None:
        self._worker: BackgroundWorker[tuple[Any, Any]] = BackgroundWorker(
            lambda item: tap(*item), "frame tap", depth)

    def __call__(self, frame: Any, found: Any) -> None:
        self._worker.put((frame, found))

    def close(self) -> None:
        """Wait until every frame handed over was tapped; raise the thread's error, if any."""
        self._worker.close()

    def __enter__(self) -> BackgroundTap:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None:
            self.close()
        else:
            self._worker.stop()
