"""Writing a :class:`~dynapose.inference.prediction.Prediction`: joints (npz, json, csv) and the
visuals (overlay.mp4, skeleton3d.mp4, viewer.html), all or nothing in one atomic folder.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dynapose.errors import DynaPoseError
from dynapose.inference.prediction import ROOT_FRAME, Prediction
from dynapose.inference.progress import progress_bar
from dynapose.io.atomic import atomic_dir
from dynapose.io.video import Frame, ignore_damage, iter_frames, probe_video
from dynapose.scene.floor import FloorEstimate, estimate_floor
from dynapose.skeleton import JOINT_NAMES, PARENTS
from dynapose.viz import viewer
from dynapose.viz.skeleton import draw_skeleton_2d, floor_grid, resize_image
from dynapose.viz.video import FollowViews, SideBySide, VideoWriter

#: Longest side (pixels) of overlay.mp4; larger videos are scaled down to it.
OVERLAY_MAX_SIDE = 1280


#: (H, W) pixels of the 3D skeleton animation.
SKELETON3D_SIZE = (360, 360)


#: Visual outputs, the one a person opens first first.
VISUALS = ("side_by_side", "overlay", "skeleton3d", "viewer")
#: Height (px) of side_by_side.mp4's three panels.
SIDE_BY_SIDE_HEIGHT = 360


def write_prediction(
    make: Callable[..., Prediction],
    video: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    visuals: Sequence[str] = VISUALS,
    viewer_frames: int = 1500,
    overwrite: bool = False,
    tap: bool = False,
    progress: bool | None = False,
) -> Prediction:
    """Run `make` and write its prediction's joint files and `visuals` into `out_dir`, all or
    nothing: everything goes to a temporary folder renamed into place, so a failure (in `make`
    too) leaves no output behind. Returns the prediction with ``files`` set.

    tap: `make` takes one argument, a :class:`FrameVisuals` writing into that folder, to feed
    with the frames it decodes (the overlay and the viewer's pictures are then made in that
    pass, not in a second one). progress: a bar for the drawing pass (None: on a terminal).
    """
    out_dir = Path(out_dir)
    tmp = out_dir
    try:
        with atomic_dir(out_dir, overwrite=overwrite) as tmp, contextlib.ExitStack() as stack:
            early = None
            if tap:
                info = probe_video(video, on_damage=ignore_damage)
                early = stack.enter_context(
                    FrameVisuals(tmp, visuals, viewer_frames, info.fps, info.num_frames))
                pred = make(early)
            else:
                pred = make()
            if early is not None:
                early.finish(pred)
            pred.files = write_joints(pred, tmp)
            pred.files.update(write_visuals(pred, video, tmp, visuals, viewer_frames,
                                            early=early, progress=progress))
            _usual_permissions(tmp)
    except OSError as exc:
        raise DynaPoseError(f"cannot write output ({exc.strerror or exc})", out_dir) from exc
    except DynaPoseError as exc:  # a file in the temporary folder (a video): name the output
        if exc.path is None or Path(exc.path).parent != tmp:
            raise
        raise DynaPoseError(f"cannot write output ({Path(exc.path).name}: {exc.problem})",
                            out_dir) from None
    pred.files = {k: out_dir / p.name for k, p in pred.files.items()}
    return pred


def _usual_permissions(folder: Path) -> None:
    """Give the output folder and its files the modes the umask implies (temporary files and
    folders are created private)."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for file in folder.iterdir():
        file.chmod(0o666 & ~umask)


def write_joints(pred: Prediction, folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Write joints.npz, joints.json and joints.csv into `folder`; returns their paths.

    NPZ keys: joints (F, 17, 3) float32 mm; keypoints_2d (F, 17, 2) float32 px (assumed
    intrinsics; a lifted prediction's detected keypoints); valid (F,) bool (False: a gap frame
    without a person, its joints and box NaN); frame_index, time_s, boxes (F, 4); joint_names;
    parents; fps; meta (the JSON header as a string); keypoint_confidence (F, 17) for lifted
    predictions. CSV: one row per frame: frame, time_s, box_x, box_y, box_w, box_h, then
    ``<joint>_x_mm, <joint>_y_mm, <joint>_z_mm`` for the 17 joints in order (empty cells in a
    gap frame). JSON: :meth:`Prediction.to_json`, written row by row.
    """
    folder = Path(folder)
    files = {kind: folder / f"joints.{kind}" for kind in ("npz", "json", "csv")}
    extra: dict[str, Any] = {}
    if pred.confidence_2d is not None:
        extra["keypoint_confidence"] = np.asarray(pred.confidence_2d, dtype=np.float32)
    with open(files["npz"], "wb") as f:
        np.savez_compressed(
            f,
            joints=pred.joints.astype(np.float32),
            keypoints_2d=pred.keypoints_2d(),
            valid=pred.valid(),
            frame_index=pred.frame_index,
            time_s=pred.time,
            boxes=pred.boxes,
            joint_names=np.array(JOINT_NAMES),
            parents=np.array(PARENTS, dtype=np.int64),
            fps=np.float64(pred.fps),
            meta=np.array(json.dumps(pred.header())),
            **extra,
        )
    with open(files["json"], "w", encoding="utf-8") as f:
        header = json.dumps(pred.header(), indent=1)
        f.write(header[: header.rindex("}")].rstrip() + ',\n "frames": [\n')
        for i in range(pred.num_frames):
            row = pred.frame_row(i)
            f.write("  " + json.dumps(row) + (",\n" if i + 1 < pred.num_frames else "\n"))
        f.write(" ]\n}\n")
    with open(files["csv"], "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["frame", "time_s", "box_x", "box_y", "box_w", "box_h"]
            + [f"{name}_{axis}_mm" for name in JOINT_NAMES for axis in "xyz"]
        )
        flat = np.round(pred.joints.reshape(pred.num_frames, -1).astype(np.float64), 2)
        for i in range(pred.num_frames):
            writer.writerow(
                [int(pred.frame_index[i]), f"{pred.time[i]:.6f}"]
                + [f"{v:.2f}" if math.isfinite(v) else "" for v in pred.boxes[i]]
                + [f"{v:.2f}" if math.isfinite(v) else "" for v in flat[i]]
            )
    return files


def _floor(pred: Prediction) -> FloorEstimate | None:
    """The floor found from `pred`'s feet (:func:`estimate_floor`), None without one."""
    valid = pred.valid()
    if valid.sum() < 2:
        return None
    try:
        return estimate_floor(pred.joints, valid, pred.fps if pred.fps > 0 else 25.0,
                              relative=pred.coordinate_frame == ROOT_FRAME)
    except DynaPoseError:
        return None


def camera_moves(pred: Prediction) -> bool:
    """Whether `pred`'s video was found to come from a moving camera (``camera_motion``)."""
    return bool(pred.method.get("camera_motion", {}).get("camera") == "moves")


def floor_summary(pred: Prediction) -> dict[str, Any]:
    """joints.json's ``floor``: the floor under the person (camera frame) and what was
    assumed to find it (:func:`estimate_floor`), or why there is none."""
    floor = _floor(pred)
    if floor is None:
        return {"found": False, "assumed": ["fewer than 2 frames with a person: no floor"]}
    return {"found": True, "up": np.round(floor.up, 4).tolist(),
            "camera_height_mm": round(floor.camera_height, 1), "steps": floor.steps,
            "tilt_from_body_up_deg": round(floor.prior_angle_deg, 1),
            "assumed": list(floor.assumptions)}


def notes(pred: Prediction) -> list[str]:
    """What a person should know before trusting the pictures: the ``assumed:`` lines of the
    floor and a moving camera's (one line each)."""
    lines = [f"assumed: {a}" for a in pred.method.get("floor", {}).get("assumed", [])]
    damage = pred.method.get("video_damage")
    if damage:
        lines.insert(0, f"video: {damage['reason']}: kept the {damage['frames_decoded']} "
                        f"frame(s) before; the {pred.num_frames - damage['frames_decoded']} "
                        "more its container declares are gaps")
    motion = pred.method.get("camera_motion", {})
    if motion.get("camera") == "moves":
        lines.append(f"camera: moves (the background shifts up to "
                     f"{motion['max_background_shift']:.0%} of the frame, zooms up to "
                     f"{motion['max_zoom']:.0%}): the joints and the path are relative to the "
                     "moving camera; no path is drawn")
    elif motion.get("camera") == "unknown" and motion.get("frames", 0) >= 10:
        lines.append("camera: could not tell whether it moves (too little background "
                     "texture); the path assumes it stands still")
    return lines


def scenery(pred: Prediction) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(floor grid segments (L, 2, 3), pelvis path on the floor (N, 3)), camera frame, mm, for
    the 3D views: the floor found from the person's feet (:func:`estimate_floor`); the path is
    None for pelvis-relative joints and for a moving camera (:func:`camera_moves`: it would be
    the camera's motion as much as the person's), both None when the clip does not show a
    floor."""
    floor = _floor(pred)
    if floor is None:
        return None, None
    valid = pred.valid()
    pelvis = np.asarray(pred.joints, dtype=np.float64)[valid, 0]
    dropped = pelvis - (pelvis @ floor.up + floor.camera_height)[:, None] * floor.up
    centre = dropped.mean(axis=0)
    reach = float(np.linalg.norm(dropped - centre, axis=1).max())
    half = 500.0 * math.ceil((reach + 700.0) / 500.0)  # the path and a step around it
    grid = floor_grid(floor.up, floor.camera_height, centre, half)
    hidden = pred.coordinate_frame == ROOT_FRAME or camera_moves(pred)
    return grid, None if hidden else dropped


class FrameVisuals:
    """The visuals that need only each frame and its 2D keypoints -- overlay.mp4 and the
    viewer's pictures -- made from frames handed over one by one while another pass decodes
    them (the 2D detector's: :func:`~dynapose.inference.mediapipe.detect_keypoints_mediapipe`'s
    `on_frame`), so :func:`write_visuals` needs no full-size decoding pass of its own.

    folder: where overlay.mp4 goes; visuals, viewer_frames: as :func:`write_visuals`; fps: the
    video's frame rate (:attr:`VideoInfo.fps`); expected_frames: the frame count its container
    declares (a hint; 0: unknown). Frames are
    (frame, keypoints (pixels (17, 2), confidences (17,)) or None) in decoding order. The
    number of frames is only known at the end (:meth:`finish`): the viewer keeps every
    `thumb_step`-th frame's picture, the step set from `expected_frames` and doubled (every
    other picture dropped) whenever they would outnumber `viewer_frames`. A context manager:
    an exception drops the overlay.
    """

    def __init__(self, folder: str | os.PathLike[str], visuals: Sequence[str] = VISUALS,
                 viewer_frames: int = 1500, fps: float = 25.0, expected_frames: int = 0
                 ) -> None:
        self.folder = Path(folder)
        self.viewer_frames = viewer_frames if "viewer" in visuals else 0
        self.thumbs: dict[int, bytes] = {}
        # the container's frame count, a hint: the pictures' spacing starts from it
        self.thumb_step = max(1, math.ceil(expected_frames / max(1, viewer_frames)))
        self.count = 0
        self.fps = fps if fps > 0 else 25.0
        self._stack = contextlib.ExitStack()
        self.overlay: VideoWriter | None = None
        self._want_overlay = "overlay" in visuals
        self.finished = False

    def __call__(self, frame: Frame, found: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Take decoded frame `frame` and its keypoints (None: no person)."""
        image = frame.image
        if self._want_overlay:
            height, width = image.shape[:2]
            scale = min(1.0, OVERLAY_MAX_SIDE / max(width, height))
            if self.overlay is None:
                self.overlay = self._stack.enter_context(
                    VideoWriter(self.folder / "overlay.mp4", fps=self.fps))
            if scale < 1.0:
                image = resize_image(image, _scaled(width, height, scale))
            points = None if found is None else found[0] * (image.shape[1] / width)
            self.overlay.write(image if points is None else draw_skeleton_2d(image, points))
        if self.viewer_frames > 0 and frame.index % self.thumb_step == 0:
            self.thumbs[frame.index] = viewer.jpeg_thumbnail(frame.image)
            if len(self.thumbs) > self.viewer_frames:  # keep every other one
                self.thumb_step *= 2
                self.thumbs = {i: t for i, t in self.thumbs.items() if i % self.thumb_step == 0}
        self.count = frame.index + 1

    def finish(self, pred: Prediction) -> None:
        """Close the overlay; `pred` is the prediction of the frames that were handed over."""
        if self.overlay is not None:
            self.overlay.close()
        self.finished = self.count > 0  # every frame the video gave (gaps may follow)

    def __enter__(self) -> FrameVisuals:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.overlay is not None and exc[0] is not None:
            self.overlay.abort()
        self._stack.close()


def _scaled(width: int, height: int, scale: float) -> tuple[int, int]:
    """(width, height) scaled by `scale`, made even."""
    return max(2, 2 * round(width * scale / 2)), max(2, 2 * round(height * scale / 2))


def write_visuals(
    pred: Prediction,
    video: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    visuals: Sequence[str] = VISUALS,
    viewer_frames: int = 1500,
    early: FrameVisuals | None = None,
    progress: bool | None = False,
) -> dict[str, Path]:
    """Write the requested visual outputs of `pred` into `folder`; returns their paths.

    side_by_side.mp4: the video with its 2D skeleton beside the 3D skeleton seen from the
    camera and from the side, in the overlay's colours, on the floor found from the feet
    (:mod:`dynapose.scene.floor`) with the pelvis's path over it; the 3D views follow the
    person (centred on the pelvis, scaled to the body). overlay.mp4: the video with the
    projected skeleton drawn on each frame, scaled down to OVERLAY_MAX_SIDE pixels when larger.
    skeleton3d.mp4: the 3D skeleton animated at the video's frame rate, following the person on
    the same floor. viewer.html: the interactive viewer with up to `viewer_frames` frames
    embedded as JPEG. The video is decoded once for all of them (every file is fed from one
    pass, in memory flat in the video's length); `early`, a :class:`FrameVisuals` that was fed
    every frame in an earlier pass (the 2D detector's), has made the overlay and the viewer's
    pictures, and this pass decodes the frames only at the side-by-side's height. Gap frames
    (no person; :meth:`Prediction.valid`) get no skeleton on the overlay or in the animation,
    and are left out of the viewer. progress: a bar (None: on a terminal).
    """
    folder = Path(folder)
    files: dict[str, Path] = {}
    if not visuals:
        return files
    fps = pred.fps if pred.fps > 0 else 25.0
    wanted = set(visuals)
    floor, path = scenery(pred) if {"side_by_side", "viewer", "skeleton3d"} & wanted else (
        None, None)
    done_early = early is not None and early.finished
    if done_early:
        assert early is not None
        thumbs, step = early.thumbs, early.thumb_step
        if early.overlay is not None:
            files["overlay"] = early.overlay.path
            wanted.discard("overlay")
    else:
        thumbs, step = {}, 0
    want_frames = ("viewer" in wanted and viewer_frames > 0 and pred.num_frames > 0
                   and not done_early)
    if want_frames:
        step = max(1, math.ceil(pred.num_frames / viewer_frames))
    with contextlib.ExitStack() as stack:
        writers: dict[str, VideoWriter] = {}
        for kind in ("overlay", "side_by_side", "skeleton3d"):
            if kind in wanted and pred.num_frames > 0:
                files[kind] = folder / f"{kind}.mp4"
                writers[kind] = stack.enter_context(VideoWriter(files[kind], fps=fps))
        if writers or want_frames:
            bar = stack.enter_context(progress_bar(pred.num_frames, "pictures", progress))
            _draw_videos(pred, video, writers, floor, path, thumbs if want_frames else None,
                         step, bar)
    if "viewer" in visuals:
        files["viewer"] = folder / "viewer.html"
        # gap frames (NaN joints, no person) stay on the timeline: the viewer says so there
        html = viewer.viewer_html(
            pred.joints, fps=fps, frames=thumbs or None, frame_step=step or 1,
            title=f"DynaPose — {Path(video).name}", meta=pred.header(), times=pred.time,
            floor=floor, path=path, notes=notes(pred),
        )
        files["viewer"].write_text(html, encoding="utf-8")
    return files


def _draw_videos(pred: Prediction, video: str | os.PathLike[str],
                 writers: dict[str, VideoWriter], floor: np.ndarray | None,
                 path: np.ndarray | None, thumbs: dict[int, bytes] | None, step: int,
                 bar: Any) -> None:
    """Feed `writers` (overlay, side_by_side, skeleton3d; any of them) from one decoding pass
    of `video`, and put every `step`-th frame's picture in `thumbs` (None: none wanted)."""
    views = None
    if "skeleton3d" in writers:
        views = FollowViews(pred.joints, SKELETON3D_SIZE, floor=floor, path=path,
                            show_axes=True)
    done = 0  # skeleton3d frames written
    if {"overlay", "side_by_side"} & set(writers) or thumbs is not None:
        width, height = pred.video.width, pred.video.height
        if "overlay" in writers or thumbs is not None:  # the overlay's size
            scale = min(1.0, OVERLAY_MAX_SIDE / max(width, height))
        else:  # only the side-by-side: decoded at its panels' height
            scale = min(1.0, SIDE_BY_SIDE_HEIGHT / height)
        size = None
        kp2d = pred.keypoints_2d()
        if scale < 1.0:  # decode straight to that size (one swscale pass)
            size = _scaled(width, height, scale)
            kp2d = kp2d * np.array([size[0] / width, size[1] / height], dtype=np.float32)
        panels = None
        if "side_by_side" in writers:
            panels = SideBySide(kp2d, pred.joints, SIDE_BY_SIDE_HEIGHT, floor, path)
        for frame in iter_frames(video, size=size, on_damage=ignore_damage):
            i = frame.index
            if i >= pred.num_frames:
                break
            if thumbs is not None and i % step == 0:
                thumbs[i] = viewer.jpeg_thumbnail(frame.image)
            if "overlay" in writers:
                writers["overlay"].write(draw_skeleton_2d(frame.image, kp2d[i]))
            if panels is not None:
                writers["side_by_side"].write(panels.frame(i, frame.image))
            if views is not None:
                writers["skeleton3d"].write(views.render(i))
                done = i + 1
            bar.update()
    if views is not None:  # needs no pixels: every frame, however many were decoded
        for i in range(done, pred.num_frames):
            writers["skeleton3d"].write(views.render(i))
            bar.update()
