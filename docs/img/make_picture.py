"""Make docs/img/predict.png, the README's picture: `dynapose predict` on a rendered video.

A procedural wave is rendered as one 480x480 video (DynaPose's synthetic renderer, the crop fixed
for the whole sequence); its exact 2D joints are the keypoint file; the shipped lifter lifts them.
The picture is one frame of the output's side_by_side.mp4 (video and 2D | 3D from the camera |
3D from the side, on the floor found from the feet, with the pelvis's path).

    PYTHONPATH=src python docs/img/make_picture.py [WORK_DIR [ACTION SEED AZIMUTH_RAD [--try]]]

(with --try the picture stays in WORK_DIR)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import numpy as np
from PIL import Image

from dynapose.data.synthetic.motion import generate_motion, sample_body
from dynapose.data.synthetic.render import render_clip, sample_appearance
from dynapose.io.video import write_test_video


def frame_of(video: Path, index: int) -> Image.Image:
    with av.open(str(video)) as box:
        for i, frame in enumerate(box.decode(video=0)):
            if i == index:
                return frame.to_image()
    raise SystemExit(f"{video}: fewer than {index + 1} frames")


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/dynapose-picture")
    action, seed, azimuth = (sys.argv[2:5] if len(sys.argv) > 4 else ("walk", "3", "2.5"))
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(int(seed))
    body = sample_body(rng)
    motion = generate_motion(action, body, 100, fps=50.0, rng=rng)
    clip = render_clip(motion.joints, sample_appearance(rng), (float(azimuth), 4000.0, 1100.0),
                       rng, size=480, body=body)
    video = write_test_video(work / "walk.mp4", clip.frames, fps=50.0)
    np.save(work / "walk-2d.npy", clip.joints2d)
    out = work / "walk-pose"
    subprocess.run([sys.executable, "-m", "dynapose", "predict", str(video),
                    "--keypoints", str(work / "walk-2d.npy"), "--out", str(out), "--overwrite"],
                   check=True)
    picture = frame_of(out / "side_by_side.mp4", 60)
    target = work / "predict.png" if len(sys.argv) > 5 else Path(__file__).with_name("predict.png")
    picture.quantize(colors=128).save(target, optimize=True)
    print(f"{target}: {picture.width}x{picture.height}, {target.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
