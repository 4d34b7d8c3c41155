"""Benchmark `prepare_h36m`: clips/s and peak memory on a generated official-layout dataset.

    python benchmarks/bench_prepare.py [--frames 400] [--cameras 2] [--workers 1 2] [--json]

The dataset is written to a temporary folder first (not timed): subject S1, action "Walking",
full-size Human3.6M videos (1000x1002 / 1000x1000, H.264, 50 fps) seen through the published
calibration, a person walking across the room drawn as joint dots on a textured background.
Then each worker count prepares 224x224 clips (stride 8, no overlap) in a fresh process and
reports wall time, clips/s, decoded source frames/s and peak resident memory (the main process
and its largest decoding worker).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _h36m_mini import world_poses, write_cdf
from dynapose.data import h36m_cameras
from dynapose.skeleton import H36M_32_TO_17


def make_video(path: Path, uv: np.ndarray, width: int, height: int) -> None:
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:height, 0:width]
    base = ((xx // 40 + yy // 40) % 2 * 60 + 60).astype(np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=50)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23", "g": "50"}
        for i, points in enumerate(uv):
            img = np.repeat(np.roll(base, i, axis=1)[..., None], 3, axis=2)
            for x, y in np.rint(points).astype(int):
                img[max(y - 6, 0):max(y + 7, 0), max(x - 6, 0):max(x + 7, 0)] = (250, 40, 40)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def make_dataset(root: Path, frames: int, cameras: tuple[str, ...]) -> None:
    world = world_poses(frames, seed=0)
    world[..., 0] = world[..., 0] * 0.3  # stay inside the room for long runs
    feats = root / "S1" / "MyPoseFeatures"
    write_cdf(feats / "D3_Positions" / "Walking.cdf", world)
    for cam_id in cameras:
        cam = h36m_cameras.camera("S1", cam_id)
        uv = cam.project_world(world)
        write_cdf(feats / "D2_Positions" / f"Walking.{cam_id}.cdf", uv)
        make_video(root / "S1" / "Videos" / f"Walking.{cam_id}.mp4",
                   uv[:, list(H36M_32_TO_17)], cam.width, cam.height)


_CHILD = """
import json, resource, sys, time
from dynapose.data.prepare import prepare_h36m
root, out, cams = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
size, workers = int(sys.argv[4]), int(sys.argv[5])
t0 = time.perf_counter()
prepare_h36m(root, out, ["S1"], cams, size=size, workers=workers, progress=False)
wall = time.perf_counter() - t0
mb = lambda who: round(resource.getrusage(who).ru_maxrss / 1024, 1)
print(json.dumps({"wall_s": wall, "self_mb": mb(resource.RUSAGE_SELF),
                  "largest_worker_mb": mb(resource.RUSAGE_CHILDREN)}))
"""


def run_prepare(root: Path, out: Path, cameras: tuple[str, ...], size: int, workers: int) -> dict:
    """One prepare in a fresh process, so its peak memory is its own."""
    cmd = [sys.executable, "-c", _CHILD, str(root), str(out), ",".join(cameras), str(size),
           str(workers)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=400, help="Frames per video.")
    parser.add_argument("--cameras", type=int, default=2, help="Videos (1-4 cameras).")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--json", action="store_true", help="Print JSON.")
    args = parser.parse_args()
    cameras = h36m_cameras.CAMERA_IDS[: args.cameras]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "h36m"
        t0 = time.perf_counter()
        make_dataset(root, args.frames, cameras)
        setup = time.perf_counter() - t0
        for workers in args.workers:
            out = Path(tmp) / f"store-{workers}"
            run = run_prepare(root, out, cameras, args.size, workers)
            wall = run["wall_s"]
            clips = (args.frames // 8) * len(cameras)
            results.append({
                "workers": workers, "wall_s": round(wall, 2), "clips": clips,
                "clips_per_s": round(clips / wall, 2),
                "source_frames_per_s": round(args.frames * len(cameras) / wall, 1),
                "peak_rss_mb": {"main": run["self_mb"], "largest_worker": run["largest_worker_mb"]},
            })
    report = {"setup_s": round(setup, 1), "frames_per_video": args.frames,
              "videos": len(cameras), "size": args.size, "runs": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"dataset: {len(cameras)} videos x {args.frames} frames (written in {setup:.1f} s)")
    for r in results:
        print(f"workers={r['workers']}: {r['wall_s']:.2f} s, {r['clips_per_s']:.1f} clips/s, "
              f"{r['source_frames_per_s']:.0f} source frames/s, peak RSS {r['peak_rss_mb']}")


if __name__ == "__main__":
    main()
