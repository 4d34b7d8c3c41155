"""What ``predict --people all``'s glance for a second person costs on a video of one person.

    PYTHONPATH=src python benchmarks/people_glance.py VIDEO [--runs 2]

After one warm-up ``dynapose.predict`` (the lifter loaded, MediaPipe imported and started),
runs, alternately `--runs` times: :func:`dynapose.people.predict.glance` and
``dynapose.predict`` (joints only, nothing written); then the glance's parts on their own:
opening and closing its :class:`~dynapose.people.blazepose.PeopleFinder` (three graphs, each
run once on a blank picture), and decoding the video without converting a pixel. Prints one
line per run, then JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from dynapose import predict
from dynapose.io.video import iter_frames
from dynapose.people.blazepose import PeopleFinder
from dynapose.people.predict import glance


def _seconds(call: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    predict(args.video)
    runs = []
    for run in range(1, args.runs + 1):
        glance_s, several = _seconds(lambda: glance(args.video))
        predict_s, _ = _seconds(lambda: predict(args.video))
        runs.append({"run": run, "glance_s": round(glance_s, 2), "several": several,
                     "predict_s": round(predict_s, 2), "ratio": round(glance_s / predict_s, 3)})
        print(f"run {run}: glance {glance_s:.2f} s (several people: {several}), predict "
              f"{predict_s:.2f} s, glance / predict {glance_s / predict_s:.1%}")

    def finder() -> None:
        PeopleFinder(max_people=2).close()

    def decode() -> None:
        for _ in iter_frames(args.video, wanted=lambda i: False):
            pass

    parts = {"finder_open_close_s": round(_seconds(finder)[0], 2),
             "decode_no_pixels_s": round(_seconds(decode)[0], 2)}
    print(f"parts: {parts}")
    print(json.dumps({"video": args.video, "runs": runs, **parts}, indent=1))


if __name__ == "__main__":
    main()
