"""The thread that runs work beside the caller (dynapose.background)."""

from __future__ import annotations

import threading

import pytest

from dynapose.background import BackgroundWorker


def test_items_are_handled_in_order_then_finish_runs_once() -> None:
    seen: list[int] = []
    finished: list[int] = []
    worker: BackgroundWorker[int] = BackgroundWorker(
        seen.append, "test worker", depth=2, finish=lambda: finished.append(len(seen)))
    for i in range(30):
        worker.put(i)
    worker.close()
    assert seen == list(range(30))
    assert finished == [30]  # after the last item, once


def test_an_error_on_the_thread_reaches_the_caller_and_later_items_are_dropped() -> None:
    seen: list[int] = []

    def handle(i: int) -> None:
        if i == 3:
            raise ValueError("bad item 3")
        seen.append(i)

    worker: BackgroundWorker[int] = BackgroundWorker(handle, "test worker", depth=1)
    with pytest.raises(ValueError, match="bad item 3"):
        for i in range(100):  # raised by a later put, or at the latest by close()
            worker.put(i)
        worker.close()
    worker.stop()  # after the error: ends at once, raises nothing
    assert seen == [0, 1, 2]
    assert not any(t.name == "test worker" for t in threading.enumerate())


def test_stop_ends_the_thread_without_raising_its_error() -> None:
    def finish() -> None:
        raise OSError("disk full")

    worker: BackgroundWorker[int] = BackgroundWorker(lambda i: None, "test worker", finish=finish)
    worker.put(1)
    worker.stop()  # the caller is already failing: the thread's own error is not raised
    assert not any(t.name == "test worker" for t in threading.enumerate())
