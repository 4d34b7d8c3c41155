"""Resampling a time series: one place for video keypoints, motion capture and procedural motion.

Values are arrays of shape (T, ...) sampled at times in seconds; they are linearly interpolated
between the two neighbouring samples and held at the ends. The lifters learn at one rate
(50 frames/s), so video of any frame rate and motion capture of any rate meet them here.
"""

from __future__ import annotations

import numpy as np


def interpolate(values: np.ndarray, times: np.ndarray, new_times: np.ndarray) -> np.ndarray:
    """(T, ...) values at non-decreasing `times` (s) -> (N, ...) float64 at `new_times` (s),
    linear between neighbouring samples, held before the first and after the last."""
    values = np.asarray(values, dtype=np.float64)
    t = np.maximum.accumulate(np.asarray(times, dtype=np.float64))
    new_times = np.asarray(new_times, dtype=np.float64)
    if len(t) == 1:
        return np.repeat(values, len(new_times), axis=0)
    i = np.clip(np.searchsorted(t, new_times, side="right") - 1, 0, len(t) - 2)
    gap = t[i + 1] - t[i]
    w = np.clip(np.divide(new_times - t[i], gap, out=np.zeros(len(i)), where=gap > 0), 0, 1)
    w = w.reshape(-1, *([1] * (values.ndim - 1)))
    return values[i] * (1 - w) + values[i + 1] * w


def change_rate(values: np.ndarray, fps: float, new_fps: float) -> np.ndarray:
    """(T, ...) values at `fps` -> the same span of time at `new_fps` (float64): the first
    sample kept, then every 1 / `new_fps` s up to the last sample's time."""
    if not (fps > 0 and new_fps > 0):
        raise ValueError(f"frame rates must be positive, got {fps} and {new_fps}")
    duration = (len(values) - 1) / fps
    new_times = np.arange(int(np.floor(duration * new_fps + 1e-6)) + 1) / new_fps
    return interpolate(values, np.arange(len(values)) / fps, new_times)
