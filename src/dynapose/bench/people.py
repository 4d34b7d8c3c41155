"""Benchmark of ``predict --people``: people found, identity switches and speed on composite
clips built from real photographs of people.

Each clip places two real photographs (scikit-image's astronaut and cameraman, each resized to
`side` px) on a grey canvas, so where each person is in every frame is known:

* ``side_by_side``: the two next to each other, each drifting (a sine of 20 px);
* ``passing``: the cameraman still, the astronaut crossing the whole canvas in front of him
  (her picture covers his while they overlap: he is hidden there);
* ``entering``: the astronaut still at the left, the cameraman sliding in from the right edge
  a third of the way into the clip;
* ``alone``: the astronaut alone, drifting (what the default ``--people all`` costs on a video
  of one person);
* ``rendered_pair`` (on request): two people rendered by DynaPose's synthetic renderer (not
  real), one walking, one waving, side by side: limbs that move.

A person counts as *visible* in a frame when at least half of their picture shows. A pose found
belongs to the person whose visible picture holds its joints' median point (the one in front
first). Figures per clip: people visible and found per frame, the detection rate (visible
person-frames with a pose of theirs), poses on nobody, **identity switches** (per person, how
often the number of the track their poses belong to changes from one found frame to the next),
people kept and left out, and frames/s of the search (:func:`find_people`) against the
single-person tracker alone, and of ``predict_people`` end to end against ``predict``'s
single-person path, on the same clip.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from dynapose.errors import DynaPoseError
from dynapose.inference.mediapipe import detect_keypoints_mediapipe
from dynapose.inference.predict import predict
from dynapose.io.video import write_test_video
from dynapose.people.predict import find_people, predict_people

CLIPS = ("side_by_side", "passing", "entering", "alone")
#: Also built on request (``--clip``): two rendered people moving (DynaPose's synthetic renderer).
MORE_CLIPS = ("rendered_pair",)
#: Grey of the canvas.
CANVAS_GREY = 118


def _photos(side: int) -> list[np.ndarray]:
    try:
        from skimage import data  # optional (the dev extra): the photographs
    except ImportError as exc:
        raise DynaPoseError("bench people builds its clips from scikit-image's photographs: "
                            "pip install scikit-image") from exc
    camera = np.repeat(data.camera()[..., None], 3, axis=-1)
    return [np.asarray(Image.fromarray(p).resize((side, side))) for p in (data.astronaut(),
                                                                            camera)]


def composite(kind: str, frames: int, side: int = 360
              ) -> tuple[np.ndarray, np.ndarray]:
    """(video (F, H, W, 3) uint8, each person's picture per frame (F, P, 4) x0, y0, x1, y1 px,
    later pictures drawn over earlier ones) for clip `kind` (module docstring)."""
    if kind == "rendered_pair":
        return _rendered_pair(frames, side)
    astronaut, camera = _photos(side)
    height = side + 2 * (side // 8)
    top = side // 8
    if kind == "side_by_side":
        width = 2 * side + 3 * (side // 4)
    elif kind == "passing":
        width = 3 * side
    elif kind in ("entering", "alone"):
        width = 2 * side + 3 * (side // 4)
    else:
        raise DynaPoseError(f"unknown clip {kind!r} (one of {', '.join(CLIPS + MORE_CLIPS)})")
    video = np.full((frames, height, width, 3), CANVAS_GREY, dtype=np.uint8)
    places = np.zeros((frames, 1 if kind == "alone" else 2, 4), dtype=np.int64)
    gap = side // 4
    for i in range(frames):
        wobble = round(20 * math.sin(2 * math.pi * i / 50))
        if kind == "side_by_side":
            xs = [gap + wobble, 2 * gap + side - wobble]
        elif kind == "passing":  # [cameraman, astronaut]: she crosses in front of him
            xs = [side, round(-side / 2 + (width - 0 * side) * i / max(1, frames - 1))]
        elif kind == "alone":
            xs = [gap + side // 2 + wobble]
        else:
            start = frames // 3
            goal = 2 * gap + side
            t = min(1.0, max(0.0, (i - start) / max(1, frames // 3)))
            xs = [gap + wobble, round(width + t * (goal - width))]
        pictures = [camera, astronaut] if kind == "passing" else [astronaut, camera][:len(xs)]
        for k, (x, pic) in enumerate(zip(xs, pictures, strict=True)):
            x0, x1 = max(0, x), min(width, x + side)
            places[i, k] = (x, top, x + side, top + side)
            if x1 > x0:
                video[i, top:top + side, x0:x1] = pic[:, x0 - x:x1 - x]
    return video, places


def _rendered_pair(frames: int, side: int) -> tuple[np.ndarray, np.ndarray]:
    """Two rendered people side by side (module docstring): each its own `side` px clip."""
    from dynapose.data.synthetic.motion import (  # heavy: only for this clip
        generate_motion,
        sample_body,
    )
    from dynapose.data.synthetic.render import (  # heavy: only for this clip
        render_clip,
        sample_appearance,
    )

    clips = []
    for action, seed, azimuth in (("walk", 3, 2.5), ("wave", 7, 0.6)):
        rng = np.random.default_rng(seed)
        body = sample_body(rng)
        motion = generate_motion(action, body, frames, fps=25.0, rng=rng)
        clips.append(render_clip(motion.joints, sample_appearance(rng), (azimuth, 4000.0, 1100.0),
                                 rng, size=side, body=body).frames)
    gap = 2 * (side // 16)  # even: H.264's 4:2:0 wants an even width
    video = np.full((frames, side, 2 * side + gap, 3), CANVAS_GREY, dtype=np.uint8)
    video[:, :, :side] = clips[0]
    video[:, :, side + gap:] = clips[1]
    places = np.array([[0, 0, side, side], [side + gap, 0, 2 * side + gap, side]])
    return video, np.broadcast_to(places, (frames, 2, 4)).copy()


def _visible(places: np.ndarray, width: int) -> np.ndarray:
    """(F, P) bool: at least half of each picture shows (inside the canvas, not covered by a
    picture drawn later)."""
    frames, people = places.shape[:2]
    out = np.zeros((frames, people), dtype=bool)
    for i in range(frames):
        for k in range(people):
            x0, _, x1, _ = places[i, k]
            shown = np.zeros(x1 - x0, dtype=bool)
            shown[max(0, -x0):max(0, min(x1, width) - x0)] = True
            for later in range(k + 1, people):
                a, b = places[i, later, 0] - x0, places[i, later, 2] - x0
                shown[max(0, a):max(0, b)] = False
            out[i, k] = shown.mean() >= 0.5
    return out


def score(places: np.ndarray, visible: np.ndarray, tracks: Sequence[Any]) -> dict[str, Any]:
    """People found per frame, detection rate, poses on nobody and identity switches of
    `tracks` (:class:`dynapose.people.tracking.Track`) against the pictures (module docstring)."""
    frames, people = visible.shape
    owner = np.full((frames, people), 0)  # the track number each person's pose belongs to
    stray = 0
    for track in tracks:
        for i in np.flatnonzero(track.found):
            x, y = np.median(track.pixels[i], axis=0)
            hit = None
            for k in reversed(range(people)):  # the picture in front first
                x0, y0, x1, y1 = places[i, k]
                if visible[i, k] and x0 <= x < x1 and y0 <= y < y1:
                    hit = k
                    break
            if hit is None or owner[i, hit]:
                stray += 1
            else:
                owner[i, hit] = track.id
    switches = 0
    for k in range(people):
        ids = owner[owner[:, k] > 0, k]
        switches += int((ids[1:] != ids[:-1]).sum())
    found = (owner > 0) & visible
    return {
        "visible_per_frame": float(visible.sum(axis=1).mean()),
        "found_per_frame": float(np.mean([sum(int(t.found[i]) for t in tracks)
                                          for i in range(frames)])),
        "detection_rate": float(found.sum() / max(1, visible.sum())),
        "poses_on_nobody": stray,
        "identity_switches": switches,
    }


def bench_people(clips: Sequence[str] = CLIPS, frames: int = 90, side: int = 360,
                 fps: float = 25.0, detect_every: int = 1, end_to_end: bool = True
                 ) -> dict[str, Any]:
    """Build each clip (module docstring), find and follow its people, and score them; with
    `end_to_end`, also time ``predict_people`` and ``predict`` (single person) on it, both
    writing nothing. Returns a JSON-ready dict."""
    result: dict[str, Any] = {"frames": frames, "fps": fps, "picture_side_px": side,
                              "detect_every": detect_every}
    with tempfile.TemporaryDirectory(prefix="dynapose-bench-people-") as tmp_name:
        for kind in clips:
            video, places = composite(kind, frames, side)
            path = write_test_video(Path(tmp_name) / f"{kind}.mp4", video, fps=fps)
            found = find_people(path, detect_every=detect_every)
            tracking = found.tracking
            row: dict[str, Any] = {"size": f"{video.shape[2]}x{video.shape[1]}"}
            row.update(score(places, _visible(places, video.shape[2]), tracking.tracks))
            row["people_kept"] = len(tracking.tracks)
            row["left_out"] = len(tracking.short)
            row["min_frames"] = tracking.min_frames
            row["search_frames_per_s"] = frames / found.seconds
            t0 = time.perf_counter()
            detect_keypoints_mediapipe(path)
            row["single_tracker_frames_per_s"] = frames / (time.perf_counter() - t0)
            if end_to_end:
                t0 = time.perf_counter()
                predict_people(path, "all", detect_every=detect_every)
                row["predict_people_frames_per_s"] = frames / (time.perf_counter() - t0)
                t0 = time.perf_counter()
                predict(path)
                row["predict_single_frames_per_s"] = frames / (time.perf_counter() - t0)
            result[kind] = row
    return result
