"""Whether finding people leaks memory: the resident memory of one process that runs
``find_people`` and ``predict_people`` in turn on the same small two-person video.

    python benchmarks/people_memory.py [--runs 6]

Prints the resident memory (MB, from /proc/self/statm: Linux) after each run. A process that
serves many videos should level off after the first few runs, not grow by the size of the
models every time.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data as skimage_data

from dynapose.io.video import write_test_video
from dynapose.people.predict import find_people, predict_people


def resident_mb() -> int:
    """This process's resident memory now (MB)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 // 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()
    photo = np.asarray(Image.fromarray(skimage_data.astronaut()).resize((256, 256)))
    frames = [np.concatenate([np.roll(photo, (i, 2 * i), axis=(0, 1)),
                              np.roll(photo[:, ::-1], (-i, i), axis=(0, 1))], axis=1)
              for i in range(8)]
    with tempfile.TemporaryDirectory() as tmp:
        video = write_test_video(Path(tmp) / "two.mp4", np.stack(frames), fps=10.0)
        for run in range(args.runs):
            if run % 2:
                predict_people(video, "all", min_frames=4)
            else:
                find_people(video, min_frames=4)
            gc.collect()
            print(f"run {run + 1}: {resident_mb()} MB", flush=True)


if __name__ == "__main__":
    main()
