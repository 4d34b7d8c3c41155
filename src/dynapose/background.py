"""Work handed to a thread of its own, a few items behind the caller: :class:`BackgroundWorker`.

What runs there (drawing and encoding video, the viewer's pictures, a frame's camera motion:
OpenCV, FFmpeg and Pillow release Python's lock) uses the core the caller's own work (the 2D
detector, the lifter) leaves free.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")


class BackgroundWorker(Generic[Item]):
    """Runs `handle(item)` for each item :meth:`put`, in order, on a thread named `name`, at
    most `depth` items behind the caller; after the last item, `finish()` (flushing an encoder,
    say). Items are taken as they are: the caller must not change them after.

    An error on the thread stops the handling (what the caller still puts is taken and dropped)
    and is raised by the next :meth:`put` or by :meth:`close`; :meth:`stop` ends the thread
    without raising it (the caller is already failing).
    """

    def __init__(self, handle: Callable[[Item], None], name: str, depth: int = 4,
                 finish: Callable[[], None] | None = None) -> None:
        self._handle, self._finish = handle, finish
        self._queue: queue.Queue[tuple[Item] | None] = queue.Queue(depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        ended = False
        try:
            while not ended:
                box = self._queue.get()
                ended = box is None
                if box is not None:
                    self._handle(box[0])
            if self._finish is not None:
                self._finish()
        except BaseException as exc:  # handed to the caller by _raise
            self._error = exc
            while not ended:  # take what the caller still hands over, until it stops
                ended = self._queue.get() is None

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _hand_over(self, box: tuple[Item] | None) -> None:
        while self._thread.is_alive():
            try:
                self._queue.put(box, timeout=0.1)
                return
            except queue.Full:
                continue

    def put(self, item: Item) -> None:
        """Hand one item over (waits while `depth` are pending); raises the thread's error."""
        self._raise()
        self._hand_over((item,))

    def close(self) -> None:
        """Wait until every item was handled and `finish` ran; raise the thread's error."""
        self.stop()
        self._raise()

    def stop(self) -> None:
        """Let the thread end after what it was given, and wait for it; raises nothing."""
        self._hand_over(None)
        self._thread.join()
