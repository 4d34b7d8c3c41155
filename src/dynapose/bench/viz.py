"""Benchmark of the visual outputs: 2D overlay drawing, 3D skeleton rendering and video
encoding, frames/s.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from dynapose.viz.plots import plot_training_curves
from dynapose.viz.skeleton import draw_skeleton_2d, floor_grid, skeleton_limits
from dynapose.viz.video import SIDE_BY_SIDE_VIEWS, FollowViews, comparison_video
from dynapose.viz.view3d import Skeleton3DRenderer

#: A person standing 4 m in front of the camera, facing it (camera frame, mm): benchmark input.
_STANDING_MM = np.array(
    [[0, 0, 0], [-120, 0, 0], [-120, 450, 0], [-120, 880, 0], [120, 0, 0], [120, 450, 0],
     [120, 880, 0], [0, -230, 0], [0, -480, 0], [0, -580, 0], [0, -700, 0], [180, -480, 0],
     [200, -220, 0], [210, 20, 0], [-180, -480, 0], [-200, -220, 0], [-210, 20, 0]],
    dtype=np.float64,
) + np.array([0.0, 0.0, 4000.0])


def bench_viz(frames: int = 200, size: int = 224) -> dict[str, Any]:
    """Time the visual outputs on generated input: frames per second of the 2D overlay (on
    `size` x `size` frames), of the 3D view (256 x 256, predicted and true skeletons), of the
    side-by-side's two 3D views (360 x 360 each, following a person walking 4 m over a floor
    grid with their path: ``follow_3d``), of `comparison_video` end to end to MP4 and to GIF,
    and the seconds to draw the training curves of a 5-epoch run. Returns a JSON-able dict."""

    rng = np.random.default_rng(0)
    t = np.arange(frames)[:, None, None]
    true = _STANDING_MM + 80.0 * np.sin(t / 7.0 + np.arange(17)[None, :, None])
    pred = true + rng.normal(scale=40.0, size=true.shape)
    j2d = true[..., :2] * (size / 2200.0) + size / 2
    video = rng.integers(0, 255, size=(frames, size, size, 3), dtype=np.uint8)
    result: dict[str, Any] = {"frames": frames, "frame_size": size}

    start = time.perf_counter()
    for i in range(frames):
        draw_skeleton_2d(video[i], j2d[i])
    result["overlay_2d"] = {"frames_per_s": frames / (time.perf_counter() - start)}

    renderer = Skeleton3DRenderer((256, 256), skeleton_limits(pred, true), labels=["p", "t"])
    renderer.render(pred[0], [true[0]])  # the first frame draws the labels it reuses
    start = time.perf_counter()
    for i in range(frames):
        renderer.render(pred[i], [true[i]])
    result["render_3d"] = {"frames_per_s": frames / (time.perf_counter() - start)}

    walk = true + np.linspace(0.0, 4000.0, frames)[:, None, None] * np.array([1.0, 0.0, 0.5])
    floor = floor_grid(np.array([0.0, -1.0, 0.0]), -955.0, walk[:, 0].mean(axis=0), 3000.0)
    views = FollowViews(walk, (360, 360), SIDE_BY_SIDE_VIEWS, floor,
                        walk[:, 0] + np.array([0.0, 955.0, 0.0]))
    start = time.perf_counter()
    for i in range(frames):
        views.render(i)
    result["follow_3d"] = {"frames_per_s": frames / (time.perf_counter() - start),
                           "views": len(SIDE_BY_SIDE_VIEWS)}

    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".mp4", ".gif"):
            start = time.perf_counter()
            comparison_video(video, pred, true, Path(tmp) / f"c{suffix}", fps=25,
                             joints2d_pred=j2d)
            key = f"comparison_{suffix[1:]}"
            result[key] = {"frames_per_s": frames / (time.perf_counter() - start)}
        rows = [{"epoch": e, **{f"{s}_{m}": 100.0 / e for s in ("train", "val")
                                for m in ("loss", "mpjpe", "mpjpe_p1", "p_mpjpe", "pck3d")}}
                for e in range(1, 6)]
        start = time.perf_counter()
        plot_training_curves(rows, tmp)
        result["training_curves_s"] = time.perf_counter() - start
    return result
