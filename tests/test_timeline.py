"""Resampling time series (dynapose.timeline): video keypoints at their timestamps, motion capture
and procedural motion at their rates, all meeting the lifters' 50 frames/s."""

from __future__ import annotations

import numpy as np
import pytest

from dynapose.inference.lifting import lifter_grid
from dynapose.timeline import change_rate, interpolate


def test_interpolate_is_linear_between_samples_and_held_at_the_ends() -> None:
    times = np.array([0.0, 0.04, 0.08, 0.2])  # uneven: a variable frame rate
    values = np.stack([3 * times, -times], -1)[:, None]  # (4, 1, 2), linear in time
    grid = lifter_grid(times)
    assert len(grid) == 11 and grid[-1] == pytest.approx(0.2)
    np.testing.assert_allclose(interpolate(values, times, grid)[:, 0],
                               np.stack([3 * grid, -grid], -1), atol=1e-12)
    np.testing.assert_allclose(interpolate(values, times, np.array([-1.0, 5.0]))[:, 0],
                               values[[0, -1], 0])
    assert interpolate(values[:1], times[:1], grid).shape == (11, 1, 2)


def test_interpolate_survives_repeated_and_backward_timestamps() -> None:
    """A stream's timestamps may repeat or step back (edits, B-frame reordering): no NaN, no
    division by zero, the values stay within the samples'."""
    times = np.array([0.0, 0.02, 0.02, 0.01, 0.06])
    values = np.arange(5.0)[:, None]
    out = interpolate(values, times, np.linspace(-0.01, 0.07, 17))
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 4


def test_change_rate_keeps_time_and_shape() -> None:
    t = np.arange(121) / 120.0
    world = np.broadcast_to(np.sin(2 * np.pi * t)[:, None, None], (121, 17, 3))
    out = change_rate(world, 120.0, 50.0)
    assert out.shape == (51, 17, 3)
    np.testing.assert_allclose(out[:, 0, 0], np.sin(2 * np.pi * np.arange(51) / 50), atol=2e-3)
    np.testing.assert_allclose(change_rate(world[:1], 120.0, 50.0), world[:1])


@pytest.mark.parametrize("fps, new_fps", [(0.0, 50.0), (50.0, -1.0)])
def test_change_rate_refuses_rates_that_are_not_positive(fps: float, new_fps: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        change_rate(np.zeros((3, 2)), fps, new_fps)
