"""Peak memory of ``predict`` (the shipped lifter, MediaPipe, every visual) against the video's
length, and of the lifting alone against the sequence's.

    python benchmarks/predict_memory.py CLIP [--loops 2 20] [--viewer-frames 100] \
        [--lift-frames 3000 18000]

For each `--loops` count, CLIP is played back and forth that many times into one H.264 file
(PyAV, x264 ultrafast, in a temporary folder) and ``predict_video_lifted`` writes every output
for it in a fresh process, whose peak resident set (``ru_maxrss``) and wall time are printed;
`--viewer-frames` caps the viewer's pictures (100 keeps them out of the comparison). For each
`--lift-frames` count, ``lift_sequence`` lifts that many frames of random keypoints at 25
frames/s (flip TTA, resampled to 50 frames/s) in a fresh process: its peak resident set above
what it held before lifting. Prints one line per run, then JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import av
from av.video.stream import VideoStream

_PREDICT = """
import json, resource, sys, time
from dynapose.inference.lifted import predict_video_lifted
t = time.perf_counter()
pred = predict_video_lifted(sys.argv[1], out_dir=sys.argv[2], viewer_frames=int(sys.argv[3]))
print(json.dumps({"frames": pred.num_frames, "viewer_frames": int(sys.argv[3]),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "wall_s": round(time.perf_counter() - t, 1)}))
"""

_LIFT = """
import json, resource, sys
import numpy as np
from dynapose.inference.lifting import lift_sequence, load_default_lifter, load_lifter
model = load_lifter(load_default_lifter())
n = int(sys.argv[1])
kp = np.random.default_rng(0).normal(0.0, 0.3, (n, 17, 2))
conf = np.ones((n, 17)) if model.config["confidence"] else None
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
lift_sequence(model, kp, conf, flip_tta=True, times=np.arange(n) / 25.0)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"lift_frames": n, "lift_peak_growth_mb": round(after - before)}))
"""


def looped(clip: Path, loops: int, dest: Path) -> Path:
    """`clip` played forwards, backwards, forwards... `loops` times (no jump at the seams)."""
    with av.open(str(clip)) as source:
        stream = source.streams.video[0]
        rate = stream.average_rate or 25
        frames = [f.to_ndarray(format="yuv420p") for f in source.decode(stream)]
        width, height = stream.codec_context.width, stream.codec_context.height
    with av.open(str(dest), "w") as out:
        s = out.add_stream("libx264", rate=rate)
        assert isinstance(s, VideoStream)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        s.options = {"preset": "ultrafast", "crf": "23"}
        for k in range(loops):
            for yuv in frames if k % 2 == 0 else frames[::-1]:
                out.mux(s.encode(av.VideoFrame.from_ndarray(yuv, format="yuv420p")))
        out.mux(s.encode())
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--loops", type=int, nargs="*", default=[2, 20])
    parser.add_argument("--viewer-frames", type=int, default=100)
    parser.add_argument("--lift-frames", type=int, nargs="*", default=[3000, 18000])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="dynapose-memory-") as tmp:
        for loops in args.loops:
            video = looped(args.clip, loops, Path(tmp) / f"loop{loops}.mp4")
            out = subprocess.run([sys.executable, "-c", _PREDICT, str(video),
                                  str(Path(tmp) / f"out{loops}"), str(args.viewer_frames)],
                                 check=True, capture_output=True, text=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            print(f"predict, {rows[-1]['frames']} frames: peak {rows[-1]['peak_rss_mb']} MB, "
                  f"{rows[-1]['wall_s']} s", flush=True)
    for n in args.lift_frames:
        out = subprocess.run([sys.executable, "-c", _LIFT, str(n)], check=True,
                             capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(f"lift_sequence, {n} frames: peak +{rows[-1]['lift_peak_growth_mb']} MB", flush=True)
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
