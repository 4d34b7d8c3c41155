"""Benchmark of ``dynapose live``: frames/s and the latency from a frame's capture to its pose
being sent, on a video played at its own rate as a camera would deliver it.

For each frame size a video of a person is made (scikit-image's astronaut photo moving across the
frame, or the frames of ``video`` scaled to fit), played by :func:`dynapose.live.run_live` at
`fps` with the VMC protocol sent to a UDP receiver on the loopback (which counts what arrives)
and no view. The first `warmup` seconds (MediaPipe's first detection, the caches) are left out of
the figures. The machine's load average is reported with them: on a shared 2-core machine the
figures move with what else runs.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from dynapose.errors import DynaPoseError
from dynapose.io.video import iter_frames, write_test_video
from dynapose.live.session import POSE_MODELS, run_live

#: Frame sizes (width, height) measured by default.
SIZES: tuple[tuple[int, int], ...] = ((640, 480), (1280, 720))


def _fit(image: np.ndarray, width: int, height: int, x_shift: float = 0.0) -> np.ndarray:
    """`image` scaled to the frame's height (at most its width), on grey, shifted by
    `x_shift` of the free width from the centre."""
    h, w = image.shape[:2]
    scale = min(height / h, width / w)
    size = (max(2, round(w * scale)), max(2, round(h * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    out = np.full((height, width, 3), 60, np.uint8)
    x = round((width - size[0]) / 2 * (1.0 + x_shift))
    y = height - size[1]
    out[y:y + size[1], x:x + size[0]] = small
    return out


def person_frames(width: int, height: int, frames: int, fps: float,
                  video: str | os.PathLike[str] | None = None) -> Iterator[np.ndarray]:
    """`frames` RGB frames of a person: `video`'s frames scaled to fit (looped), or the
    astronaut photo of scikit-image walking from side to side (0.2 Hz)."""
    if video is not None:
        source = [_fit(f.image, width, height) for f in iter_frames(video)]
        for i in range(frames):
            yield source[i % len(source)]
        return
    try:
        from skimage import data  # scikit-image: an optional (dev) dependency
    except ImportError:
        raise DynaPoseError("the generated source needs scikit-image (pip install "
                            "scikit-image), or pass --video FILE with a person in it") from None
    photo = data.astronaut()
    for i in range(frames):
        yield _fit(photo, width, height, 0.6 * float(np.sin(2 * np.pi * 0.2 * i / fps)))


class _Receiver:
    """A UDP socket on the loopback counting the datagrams that arrive, in a thread."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = int(self.socket.getsockname()[1])
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.socket.recv(65536)
            except (TimeoutError, OSError):
                continue
            self.count += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


def bench_live(sizes: Sequence[tuple[int, int]] = SIZES, seconds: float = 20.0,
               warmup: float = 3.0, fps: float = 30.0, pose_model: int = 1,
               flip_tta: bool = True, video: str | os.PathLike[str] | None = None,
               overlaps: Sequence[bool] = (False, True)) -> dict[str, Any]:
    """Frames/s and capture-to-sent latency (median, 95th percentile) of live per frame size
    (module docstring), with each stage's median ms (detect: MediaPipe; lift: the causal
    lifter, bones and root; send: world frame, rotations and the OSC bundle), frames dropped
    and the load average around each run, for each of `overlaps` (MediaPipe in turn with the
    other stages, or one frame ahead in a thread: :mod:`dynapose.live.detect`). Returns a
    JSON-able dict keyed ``WxH`` (in turn) and ``WxH overlap``."""
    results: dict[str, Any] = {"cpus": os.cpu_count(), "fps_source": fps,
                               "pose_model": POSE_MODELS[pose_model], "flip_tta": flip_tta,
                               "seconds": seconds, "warmup_s": warmup,
                               "source": os.fspath(video) if video else "astronaut photo, moving"}
    n = round((seconds + warmup) * fps)
    with tempfile.TemporaryDirectory(prefix="dynapose-bench-live-") as tmp:
        for width, height in sizes:
            path = Path(tmp) / f"person-{width}x{height}.mp4"
            write_test_video(path, person_frames(width, height, n, fps, video), fps=fps)
            for overlap in overlaps:
                results[f"{width}x{height}" + (" overlap" if overlap else "")] = _measure(
                    path, warmup, pose_model, flip_tta, overlap)
    return results


def _measure(path: Path, warmup: float, pose_model: int, flip_tta: bool, overlap: bool
             ) -> dict[str, Any]:
    """One run of live on `path` (see :func:`bench_live`)."""
    receiver = _Receiver()
    load_before = os.getloadavg()[0]
    try:
        summary = run_live(path, view="none", osc=f"127.0.0.1:{receiver.port}",
                           pose_model=pose_model, flip_tta=flip_tta, overlap=overlap)
    finally:
        receiver.close()
    load_after = os.getloadavg()[0]
    times = np.asarray(summary.frame_times)
    keep = times >= warmup
    lat = np.asarray(summary.latency_ms)[keep]
    kept = times[keep]
    rate = (len(kept) - 1) / float(kept[-1] - kept[0]) \
        if len(kept) > 1 and kept[-1] > kept[0] else 0.0
    stages = {k: round(float(np.median(np.asarray(v)[keep])), 2)
              for k, v in summary.stages_ms.items() if len(v) and k in ("detect", "lift", "send")}
    return {
        "frames_per_s": round(rate, 2),
        "latency_median_ms": round(float(np.median(lat)), 2) if len(lat) else None,
        "latency_p95_ms": round(float(np.percentile(lat, 95)), 2) if len(lat) else None,
        "frames": int(keep.sum()), "with_person": summary.found,
        "dropped": summary.dropped, "captured": summary.captured,
        "osc_bundles_received": receiver.count, "stages_median_ms": stages,
        "load_average": [round(load_before, 2), round(load_after, 2)],
    }
