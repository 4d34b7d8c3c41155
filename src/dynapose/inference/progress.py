"""Progress bars of ``predict``'s passes over a video: frames done, rate and time left."""

from __future__ import annotations

from typing import Any

from tqdm import tqdm


def progress_bar(total: int, desc: str, progress: bool | None = None) -> tqdm[Any]:
    """A tqdm bar over `total` frames (0: unknown) with its estimate of the time left, on
    stderr, gone when done. progress: True shows it, False hides it, None shows it only when
    stderr is a terminal."""
    return tqdm(total=total or None, desc=desc, unit="frame", leave=False, dynamic_ncols=True,
                disable=None if progress is None else not progress)
