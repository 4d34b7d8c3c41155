"""How close :func:`dynapose.people.smoothing.smooth_track` comes to the single-person tracker's
own landmark filter, and how much it smooths.

    PYTHONPATH=src python benchmarks/people_smoothing.py [CLIP ...] [--frames 90]

Each CLIP is one of ``dynapose bench people``'s (default: alone, side_by_side; 25 frames/s,
real photographs). MediaPipe's single-person tracker runs over it twice, its landmark filter on
(what ``dynapose predict`` lifts) and off (what :class:`~dynapose.people.blazepose.PeopleFinder`
takes); the unfiltered keypoints then go through ``smooth_track``. Prints, per clip, the
jitter (mean length of the keypoints' second differences over time, px) of the three, and
the mean distance (px) of the unfiltered and of the smoothed keypoints to the tracker's
filtered ones, then JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from dynapose.bench.people import composite
from dynapose.inference.mediapipe import MediaPipePose
from dynapose.io.video import iter_frames, write_test_video
from dynapose.people.smoothing import smooth_track


def _tracked(video: Path, smooth: bool) -> tuple[np.ndarray, np.ndarray]:
    pose = MediaPipePose(smooth=smooth)
    pixels, confidence = [], []
    try:
        for frame in iter_frames(video):
            found = pose(frame.image)
            pixels.append(found[0] if found else np.full((17, 2), np.nan))
            confidence.append(found[1] if found else np.zeros(17))
    finally:
        pose.close()
    return np.array(pixels), np.array(confidence)


def _jitter(pixels: np.ndarray) -> float:
    return float(np.nanmean(np.linalg.norm(np.diff(pixels, 2, axis=0), axis=-1)))


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.nanmean(np.linalg.norm(a - b, axis=-1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", default=["alone", "side_by_side"])
    parser.add_argument("--frames", type=int, default=90)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.clips:
            frames, _ = composite(kind, args.frames)
            video = write_test_video(Path(tmp) / f"{kind}.mp4", frames, fps=25.0)
            filtered, _ = _tracked(video, smooth=True)
            raw, confidence = _tracked(video, smooth=False)
            smoothed, _ = smooth_track(raw, confidence, max(frames.shape[1:3]))
            row = {"clip": kind, "frames": args.frames,
                   "jitter_px": {"tracker_filtered": round(_jitter(filtered), 2),
                                 "unfiltered": round(_jitter(raw), 2),
                                 "smooth_track": round(_jitter(smoothed), 2)},
                   "distance_to_tracker_filtered_px": {
                       "unfiltered": round(_distance(raw, filtered), 2),
                       "smooth_track": round(_distance(smoothed, filtered), 2)}}
            rows.append(row)
            print(f"{kind}: jitter {row['jitter_px']}, distance to the tracker's filtered "
                  f"{row['distance_to_tracker_filtered_px']}")
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
