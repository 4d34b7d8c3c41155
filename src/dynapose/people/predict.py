"""``predict --people``: every person in a video found, followed, lifted and written.

:func:`predict_people` runs, once over the video:

1. :class:`~dynapose.people.blazepose.PeopleFinder` on every frame: each person's 2D pose;
2. :func:`~dynapose.people.tracking.track_people`: the poses joined into people with stable
   identities (1, 2, ... by first appearance); a person never seen in `min_frames` frames
   in a row is reported and left out; then every person's keypoints through the
   single-person tracker's own landmark filter (:func:`~dynapose.people.smoothing.
   smooth_tracks`), the same for everyone;
3. the choice (`people`): ``"all"``, ``"largest"`` (the largest mean height in the video) or a
   person's number;
4. each chosen person lifted on their own by the single-person lifter
   (:func:`dynapose.inference.lifted.predict_video_lifted` with their keypoints, the one path
   a single person's keypoints take too: gaps filled for the lifter's input only, rigid bones,
   the root placed by reprojection with the same assumed camera, so everyone stands in one
   camera frame, each at the depth their own size gives).

Before all that, a **glance** (:func:`glance`): the same finder on two frames a second, and on
every frame while it sees two people. A video where it never sees two people for the minimum
track length in a row goes straight to ``dynapose predict``'s single-person path (the search
would cost more than that path itself). A second person seen in no glanced frame is one seen
for under half a second, whom the minimum track length leaves out anyway.

**One person** found gives exactly what ``dynapose predict`` gives: its single-person path is
run (MediaPipe's tracker again, on the whole video), so the files are the same byte for byte,
and a video without anyone gets its error. A chosen person of several is written in the same
layout.

**Several people** (``all``) write one folder (:func:`write_people`):

* ``person-<n>/``: that person's prediction, the files of ``dynapose predict`` (joints.npz/json/
  csv, side_by_side.mp4, overlay.mp4, skeleton3d.mp4, viewer.html), all frames of the video
  (``valid`` False where the person is not seen);
* ``people.npz``: ``joints`` (P, F, 17, 3) float32 mm camera frame, ``keypoints_2d`` (P, F,
  17, 2) px, ``valid`` (P, F), ``person`` (P,) the people's numbers, ``time_s`` (F,), ``fps``,
  ``joint_names``;
* ``people.json``: the people (number, folder, frames found, first and last frame, mean
  height px, colour), those left out as too short, ``min_frames``, and how they were found;
* ``overlay.mp4``: the video with every person's skeleton in their own colour, numbered;
* ``scene.mp4``: everyone in one 3D scene (camera frame, a fixed view over the whole clip, the
  floor found from the person seen longest: :func:`scene_floor`);
* ``viewer.html``: everyone in one interactive 3D scene, placed as in ``scene.mp4``, each in
  their colour with their number (:func:`dynapose.viz.people_viewer.people_viewer_html`), beside the
  overlay's pictures.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from dynapose.data.keypoints import Keypoints2D
from dynapose.errors import DynaPoseError
from dynapose.inference.lifted import predict_video_lifted
from dynapose.inference.mediapipe import MEDIAPIPE_HINT, NativeLog, mediapipe_available
from dynapose.inference.prediction import Prediction
from dynapose.inference.writer import (
    OVERLAY_MAX_SIDE,
    VISUALS,
    notes,
    scenery,
    write_joints,
    write_visuals,
)
from dynapose.io.atomic import atomic_dir, check_output
from dynapose.io.video import ignore_damage, iter_frames, probe_video
from dynapose.people.blazepose import PeopleFinder
from dynapose.people.smoothing import smooth_tracks
from dynapose.people.tracking import Track, Tracking, track_people
from dynapose.scene.camera_motion import CameraMotion, CameraMotionReport, joints_box
from dynapose.skeleton import JOINT_NAMES
from dynapose.viz.people_viewer import people_viewer_html
from dynapose.viz.skeleton import draw_skeleton_2d
from dynapose.viz.video import VideoWriter
from dynapose.viz.view3d import Skeleton3DRenderer
from dynapose.viz.viewer import jpeg_thumbnail

#: One colour per person (RGB), by number: person n gets PERSON_COLORS[(n - 1) % len].
PERSON_COLORS: tuple[tuple[int, int, int], ...] = (
    (230, 85, 20), (30, 110, 220), (40, 160, 60), (150, 60, 180), (220, 180, 0),
    (0, 170, 170), (200, 40, 120), (110, 80, 40))
#: Default shortest track kept: this many seconds of frames (at least 3 frames).
MIN_TRACK_SECONDS = 0.5
#: Default longest time (s) a person may go unseen and keep their number.
MAX_GAP_SECONDS = 2.0
#: Frames a second :func:`glance` looks at: at least one in every MIN_TRACK_SECONDS.
GLANCES_PER_SECOND = 2.0
#: Longest side (px) of the frames :func:`glance` looks at (BlazePose sees 256 px anyway).
GLANCE_SIDE = 640
#: (H, W) px of scene.mp4.
SCENE_SIZE = (480, 640)
#: The source of MediaPipe's keypoints, as ``dynapose predict`` names it.
TRACKER_SOURCE = "MediaPipe BlazePose full (model_complexity=1), mapped 33 -> 17"


def person_color(number: int) -> tuple[int, int, int]:
    return PERSON_COLORS[(number - 1) % len(PERSON_COLORS)]


@dataclass
class FoundPeople:
    """Every frame's people in one video (:func:`find_people`).

    poses: per frame, the poses found (pixels (17, 2), confidences (17,)). times: each frame's
    time (s). seconds: wall time of the search. tracking: the people followed. damage: why
    decoding stopped early (a video cut short or corrupt midway; the frames before are kept),
    else empty. camera_motion: whether the camera moves, from the background outside every
    pose found (:class:`~dynapose.scene.camera_motion.CameraMotion`), None when not measured.
    """

    poses: list[list[tuple[np.ndarray, np.ndarray]]]
    times: list[float]
    seconds: float = 0.0
    tracking: Tracking = field(default_factory=lambda: Tracking([]))
    damage: list[str] = field(default_factory=list)
    camera_motion: CameraMotionReport | None = None


class People(list[Prediction]):
    """The predictions :func:`predict_people` returns (a list, one per chosen person, in the
    people's order), with `found`: the search and tracking they came from, and `numbers`: each
    prediction's person number."""

    def __init__(self, preds: Sequence[Prediction], found: FoundPeople,
                 numbers: Sequence[int]) -> None:
        super().__init__(preds)
        self.found = found
        self.numbers = list(numbers)


def find_people(video: str | os.PathLike[str], max_people: int = 8, detect_every: int = 1,
                min_frames: int | None = None, max_gap: int | None = None,
                progress: bool | None = None) -> FoundPeople:
    """Find and follow every person in `video` (module docstring, steps 1-2).

    min_frames: frames in a row a kept person is seen at least once (default
    MIN_TRACK_SECONDS of frames, at least 3). max_gap: frames a
    person may go unseen and keep their number (default MAX_GAP_SECONDS). max_people,
    detect_every: as :class:`PeopleFinder`. progress: a progress bar on stderr (None: when
    stderr is a terminal).
    """
    if not mediapipe_available():
        raise DynaPoseError(f"finding people in a video needs MediaPipe: {MEDIAPIPE_HINT}", video)
    damage: list[str] = []
    info = probe_video(video, on_damage=ignore_damage)  # reported by the decoding below
    fps = info.fps if info.fps > 0 else 25.0
    if min_frames is None:
        min_frames = max(3, round(MIN_TRACK_SECONDS * fps))
    if max_gap is None:
        max_gap = max(1, round(MAX_GAP_SECONDS * fps))
    start = clock.perf_counter()
    poses: list[list[tuple[np.ndarray, np.ndarray]]] = []
    times: list[float] = []
    finder = PeopleFinder(max_people=max_people, detect_every=detect_every)
    motion = CameraMotion()
    bar = tqdm(total=info.num_frames or None, desc="finding people", unit="frame", leave=False,
               dynamic_ncols=True, disable=None if progress is None else not progress)
    try:
        for frame in iter_frames(video, on_damage=damage.append):
            poses.append(finder(frame.image))
            motion.add(frame.image, *(joints_box(px) for px, _ in poses[-1]))
            times.append(frame.time)
            bar.update()
    finally:
        bar.close()
        finder.close()
    tracking = track_people(poses, max_gap=max_gap, min_frames=min_frames)
    smooth_tracks(tracking.tracks, max(info.width, info.height))
    return FoundPeople(poses, times, clock.perf_counter() - start, tracking, damage,
                       motion.report() if motion.frames else None)


def glance(video: str | os.PathLike[str], per_second: float = GLANCES_PER_SECOND,
           min_frames: int | None = None) -> bool:
    """Whether `video` may hold several people: :class:`PeopleFinder` on `per_second` frames
    a second; where it sees two people at once, on every frame after until they have been two
    for `min_frames` frames in a row (yes) or are one again (back to glancing). The video is
    decoded whole, but only the frames looked at are converted, at most GLANCE_SIDE px a side;
    damage ends the look. min_frames: as :func:`find_people`."""
    info = probe_video(video, on_damage=ignore_damage)
    fps = info.fps if info.fps > 0 else 25.0
    step = max(1, round(fps / per_second))
    need = max(3, round(MIN_TRACK_SECONDS * fps)) if min_frames is None else min_frames
    scale = min(1.0, GLANCE_SIDE / max(info.width, info.height, 1))
    size = (max(2, round(info.width * scale)), max(2, round(info.height * scale)))
    # MediaPipe's graphs start their interpreters on threads of their own: what they log may
    # come after the finder's first frame, so the whole glance is held (replayed on a failure)
    held = NativeLog()
    held.hold()
    together = 0  # frames in a row with two people seen

    def wanted(n: int) -> bool:
        return together > 0 or n % step == 0

    try:
        finder = PeopleFinder(max_people=2)
        try:
            for frame in iter_frames(video, size=size, on_damage=ignore_damage, wanted=wanted):
                together = together + 1 if len(finder(frame.image)) >= 2 else 0
                if together >= need:
                    break
        finally:
            finder.close()
    except BaseException:
        held.replay()
        raise
    held.release()
    return together >= need


def _keypoints(track: Track) -> Keypoints2D:
    return Keypoints2D(pixels=track.pixels.copy(), confidence=track.confidence.copy(),
                       found=track.found, source=f"{TRACKER_SOURCE}; every person "
                       f"(dynapose.people), person {track.id}")


def choose(tracking: Tracking, people: str | int) -> list[Track]:
    """The tracks `people` names: "all", "largest" or a person's number (module docstring).
    A number no one has is a DynaPoseError naming the people found."""
    if people == "all":
        return list(tracking.tracks)
    if people == "largest":
        return [max(tracking.tracks, key=lambda t: t.mean_height())] if tracking.tracks else []
    number = parse_people(people)
    assert isinstance(number, int)
    for track in tracking.tracks:
        if track.id == number:
            return [track]
    found = ", ".join(f"{t.id} (frames {t.first}-{t.last})" for t in tracking.tracks)
    raise DynaPoseError(f"--people {number}: no such person; the people found are {found}"
                        if found else f"--people {number}: no person was followed long enough")


def parse_people(value: str | int) -> str | int:
    """"all", "largest" or a person's number (>= 1) from `value`; a DynaPoseError otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif value in ("all", "largest"):
        return value
    else:
        try:
            number = int(str(value))
        except ValueError:
            number = 0
    if number < 1:
        raise DynaPoseError(f"--people takes all, largest or a person's number (1, 2, ...), "
                            f"not {value!r}")
    return number


def predict_people(
    video: str | os.PathLike[str],
    people: str | int = "all",
    out_dir: str | os.PathLike[str] | None = None,
    *,
    lifter: str | os.PathLike[str] | None = None,
    rigid: bool = True,
    visuals: Sequence[str] = VISUALS,
    overwrite: bool = False,
    device: str = "auto",
    min_frames: int | None = None,
    max_gap: int | None = None,
    max_people: int = 8,
    detect_every: int = 1,
    found: FoundPeople | None = None,
    progress: bool | None = False,
) -> People:
    """3D joints of every chosen person in `video`, one :class:`Prediction` each, in the
    people's order (module docstring).

    people: "all" (default), "largest" or a person's number. out_dir: where to write (one
    person: the layout of ``dynapose predict``; several: :func:`write_people`'s), None to write
    nothing. lifter: a lifter run or checkpoint folder (default: the shipped one). rigid,
    visuals, overwrite, device: as :func:`dynapose.inference.lifted.predict_video_lifted`.
    min_frames, max_gap, max_people, detect_every: as :func:`find_people`. found: a
    :func:`find_people` result to reuse (the search is then skipped). progress: progress bars
    on stderr (None: when stderr is a terminal).

    Raises DynaPoseError when nobody is found (the message ``dynapose predict`` gives) or when
    `people` names a person no one is. ``files`` of each prediction point to its files.
    """
    choice = parse_people(people)
    if out_dir is not None:
        check_output(out_dir, folder=True, overwrite=overwrite)
        if Path(video).resolve().is_relative_to(Path(out_dir).resolve()):
            raise DynaPoseError("output folder must not contain the video", out_dir)
    common: dict[str, Any] = {"visuals": visuals, "overwrite": overwrite, "rigid": rigid,
                              "device": device, "progress": progress}
    if found is None and choice in ("all", "largest", 1) and not glance(video,
                                                                         min_frames=min_frames):
        pred = predict_video_lifted(video, lifter, None, out_dir, **common)
        return People([pred], FoundPeople([], []), [1])
    if found is None:
        found = find_people(video, max_people, detect_every, min_frames, max_gap, progress)
    tracking = found.tracking
    if len(tracking.tracks) <= 1 and choice in ("all", "largest", 1):
        # one person (or nobody: its error): exactly `dynapose predict`'s single-person path
        number = tracking.tracks[0].id if tracking.tracks else 1
        pred = predict_video_lifted(video, lifter, None, out_dir, **common)
        return People([pred], found, [number])
    chosen = choose(tracking, choice)
    common["camera_motion"] = found.camera_motion
    if len(chosen) == 1:
        pred = predict_video_lifted(video, lifter, _keypoints(chosen[0]), out_dir, **common)
        return People([pred], found, [chosen[0].id])
    common.pop("overwrite")
    visuals = common.pop("visuals")
    preds = [predict_video_lifted(video, lifter, _keypoints(t), None, **common) for t in chosen]
    if out_dir is not None:
        write_people(preds, chosen, found, video, out_dir, visuals, overwrite)
    return People(preds, found, [t.id for t in chosen])


def write_people(preds: list[Prediction], tracks: list[Track], found: FoundPeople,
                 video: str | os.PathLike[str], out_dir: str | os.PathLike[str],
                 visuals: Sequence[str] = VISUALS, overwrite: bool = False,
                 viewer_frames: int = 1500) -> list[Prediction]:
    """Write several people's predictions into `out_dir` (module docstring), all or nothing.
    viewer_frames: at most this many pictures in each viewer (as
    :func:`~dynapose.inference.writer.write_visuals`). Returns `preds` with ``files`` set."""
    out_dir = Path(out_dir)
    try:
        with atomic_dir(out_dir, overwrite=overwrite) as tmp:
            for pred, track in zip(preds, tracks, strict=True):
                folder = tmp / f"person-{track.id}"
                folder.mkdir()
                pred.files = write_joints(pred, folder)
                pred.files.update(write_visuals(pred, video, folder, visuals, viewer_frames))
            _write_summary(preds, tracks, found, tmp)
            thumbs: dict[int, bytes] | None = None
            step = max(1, math.ceil(preds[0].num_frames / max(1, viewer_frames)))
            if "viewer" in visuals and viewer_frames > 0:
                thumbs = {}
            if "overlay" in visuals or thumbs is not None:
                _write_overlay(preds, tracks, video,
                               tmp / "overlay.mp4" if "overlay" in visuals else None, thumbs,
                               step)
            if {"skeleton3d", "side_by_side", "viewer"} & set(visuals):
                _write_scene(preds, tracks, tmp / "scene.mp4")
            if "viewer" in visuals:
                _write_viewer(preds, tracks, found, video, tmp / "viewer.html", thumbs, step)
            _usual_permissions(tmp)
    except OSError as exc:
        raise DynaPoseError(f"cannot write output ({exc.strerror or exc})", out_dir) from exc
    for pred, track in zip(preds, tracks, strict=True):
        pred.files = {k: out_dir / f"person-{track.id}" / p.name for k, p in pred.files.items()}
    return preds


def _usual_permissions(folder: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    for path in [folder, *folder.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def summary(tracks: list[Track], found: FoundPeople) -> dict[str, Any]:
    """What people.json says (module docstring)."""

    def row(t: Track) -> dict[str, Any]:
        return {"frames_found": t.num_found, "first_frame": t.first, "last_frame": t.last,
                "mean_height_px": round(t.mean_height(), 1)}

    tracking = found.tracking
    return {
        "format": "dynapose-people", "version": 1,
        "num_frames": len(found.times),
        "people": [{"person": t.id, "folder": f"person-{t.id}", "color": list(person_color(t.id)),
                    **row(t)} for t in tracks],
        "left_out": [row(t) for t in tracking.short],
        **({"video_damage": {"frames_decoded": len(found.times), "reason": found.damage[0]}}
           if found.damage else {}),
        "min_frames": tracking.min_frames,
        "method": "dynapose.people: the single-person BlazePose tracker, each person's landmark "
                  "model on the region of interest their last frame gives, BlazePose's person "
                  "detector on the frame with the people found painted over; tracks joined by "
                  "box overlap and 2D pose similarity (Hungarian assignment), each person "
                  "lifted on their own",
    }


def _write_summary(preds: list[Prediction], tracks: list[Track], found: FoundPeople,
                   folder: Path) -> None:
    (folder / "people.json").write_text(json.dumps(summary(tracks, found), indent=1) + "\n",
                                        encoding="utf-8")
    with open(folder / "people.npz", "wb") as f:
        np.savez_compressed(
            f, joints=np.stack([p.joints for p in preds]).astype(np.float32),
            keypoints_2d=np.stack([p.keypoints_2d() for p in preds]),
            valid=np.stack([p.valid() for p in preds]),
            person=np.array([t.id for t in tracks], dtype=np.int64),
            time_s=np.asarray(found.times, dtype=np.float64),
            fps=np.float64(preds[0].fps), joint_names=np.array(JOINT_NAMES))


def _write_overlay(preds: list[Prediction], tracks: list[Track],
                   video: str | os.PathLike[str], path: Path | None,
                   thumbs: dict[int, bytes] | None = None, step: int = 1) -> None:
    """The video with every person's 2D skeleton in their colour and their number, written
    to `path` (None: not written); every `step`-th frame of it also goes to `thumbs` as a JPEG
    (the viewer's pictures; None: none wanted)."""
    info = preds[0].video
    fps = preds[0].fps if preds[0].fps > 0 else 25.0
    scale = min(1.0, OVERLAY_MAX_SIDE / max(info.width, info.height))
    size = None
    if scale < 1.0:
        size = (max(2, 2 * round(info.width * scale / 2)),
                max(2, 2 * round(info.height * scale / 2)))
    with contextlib.ExitStack() as stack:
        writer = None if path is None else stack.enter_context(VideoWriter(path, fps=fps))
        for frame in iter_frames(video, size=size, on_damage=ignore_damage):
            i = frame.index
            if i >= preds[0].num_frames:
                break
            image = frame.image
            sx = image.shape[1] / info.width
            sy = image.shape[0] / info.height
            for pred, track in zip(preds, tracks, strict=True):
                if not pred.valid()[i]:
                    continue
                points = pred.keypoints_2d()[i] * np.array([sx, sy], dtype=np.float32)
                color = person_color(track.id)
                image = draw_skeleton_2d(image, points, color=color)
                top = points[np.nanargmin(points[:, 1])]
                cv2.putText(image, str(track.id), (int(top[0]) + 6, max(12, int(top[1]) - 10)),
                            cv2.FONT_HERSHEY_SIMPLEX, max(0.5, image.shape[0] / 720), color, 2,
                            cv2.LINE_AA)
            if writer is not None:
                writer.write(image)
            if thumbs is not None and i % step == 0:
                thumbs[i] = jpeg_thumbnail(image)


def _write_scene(preds: list[Prediction], tracks: list[Track], path: Path) -> None:
    """Everyone in one 3D scene, camera frame, a fixed view over the clip."""
    joints = np.stack([p.joints for p in preds]).astype(np.float64)  # (P, F, 17, 3)
    seen = np.isfinite(joints).all(axis=-1)
    points = joints[seen]
    lo, hi = points.min(axis=0) - 300.0, points.max(axis=0) + 300.0
    renderer = Skeleton3DRenderer(
        SCENE_SIZE, limits=tuple(zip(lo.tolist(), hi.tolist(), strict=True)),  # type: ignore[arg-type]
        colors=[person_color(t.id) for t in tracks],
        labels=[f"person {t.id}" for t in tracks], elev=20.0, azim=-70.0)
    floor = scene_floor(preds)
    if floor is not None:
        renderer.set_scenery(floor)
    fps = preds[0].fps if preds[0].fps > 0 else 25.0
    with VideoWriter(path, fps=fps) as writer:
        for i in range(preds[0].num_frames):
            poses = [j[i] for j in joints]  # a person not in this frame is NaN: not drawn
            writer.write(renderer.render(poses[0], poses[1:]))


def scene_floor(preds: Sequence[Prediction]) -> np.ndarray | None:
    """The floor grid (L, 2, 3) mm, camera frame, of the scene everyone is shown in
    (scene.mp4, viewer.html): :func:`~dynapose.inference.writer.scenery`'s floor under the
    person seen in the most frames, or None when their clip shows no floor."""
    return scenery(preds[_longest(preds)])[0]


def _longest(preds: Sequence[Prediction]) -> int:
    """Index of the prediction with the most frames seen (the first of equals)."""
    return max(range(len(preds)), key=lambda k: int(preds[k].valid().sum()))


def _write_viewer(preds: list[Prediction], tracks: list[Track], found: FoundPeople,
                  video: str | os.PathLike[str], path: Path, thumbs: dict[int, bytes] | None,
                  step: int) -> None:
    """viewer.html: everyone in one scene, placed as in scene.mp4 (module docstring), with the
    overlay's pictures (`thumbs`, every `step`-th frame)."""
    joints = np.stack([p.joints for p in preds])
    page = people_viewer_html(
        joints, [t.id for t in tracks], [person_color(t.id) for t in tracks],
        fps=preds[0].fps, frames=thumbs or None, frame_step=step,
        title=f"DynaPose — {Path(video).name} — {len(preds)} people",
        meta=summary(tracks, found), times=preds[0].time, floor=scene_floor(preds),
        notes=notes(preds[_longest(preds)]))
    path.write_text(page, encoding="utf-8")
