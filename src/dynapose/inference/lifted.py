"""Real video -> 2D keypoints -> lifter -> 3D joints, with the same outputs as ``dynapose predict``.

Pipeline (:func:`predict_video_lifted`):

1. **2D keypoints** per frame (:mod:`dynapose.data.keypoints`): from a file the user brings
   (``.npy``/``.npz``, COCO-17 JSON, VideoPose3D 2D npz), else MediaPipe BlazePose full on the
   video (installed with DynaPose). A frame without a person is a *gap*.
2. **Normalise** with :func:`dynapose.camera.normalize_screen` (the video's width and
   height). Gaps are filled *for the network's input only* (linear interpolation between the
   neighbouring found frames, the first/last found frame repeated at the ends), because every
   frame's estimate uses the frames around it.
3. **Lift** the whole sequence (:func:`dynapose.inference.lifting.lift_sequence`, test-time
   flip on; resampled by the frames' timestamps to the 50 frames/s lifters learn at, and
   back): root-relative joints in the camera frame, mm; then (``rigid``, the default) give
   the person one length per bone for the whole video
   (:func:`dynapose.inference.refine.rigid_bones`: the median of the predicted lengths over the
   frames with a person, left and right averaged), each frame keeping its own bone directions.
   The lifter's other refinement, fitting the joints onto the keypoints' rays
   (:func:`dynapose.inference.refine.fit_sequence`), is not applied: it needs exact 2D and
   calibrated cameras, and detections' noise makes it worse than the network.
4. **Place the root** in the camera frame: per frame, the translation T (mm) that best
   reprojects the 3D joints onto the detected 2D keypoints under *assumed intrinsics* -- a
   pinhole camera with focal length ``FOCAL_PER_CROP_SIDE x max(width, height)`` px and the
   principal point at the image centre, no distortion. With the joints P_j = (X, Y, Z) and
   keypoints (u_j, v_j), ``u_j = cx + f (X + Tx) / (Z + Tz)`` gives two equations per joint
   that are linear in T: ``f Tx - (u_j - cx) Tz = (u_j - cx) Z - f X`` (and likewise for y),
   solved by least squares with each joint's rows weighted by its confidence
   (:func:`solve_root_translation`). The depth thus comes from the lifter's body size, so it is
   as right as the assumed focal length.
5. **Write** what ``dynapose predict`` writes (:func:`dynapose.inference.writer.write_joints`,
   :func:`dynapose.inference.writer.write_visuals`, one atomic output folder). Gap frames are a
   documented gap: ``valid`` False and NaN joints in the NPZ, ``"joints": null`` in the JSON,
   empty cells in the CSV, nothing drawn on the overlay. The overlay draws the detected 2D
   keypoints; ``boxes`` are the keypoints' bounding squares (NaN in gaps).

With MediaPipe, the frames its pass decodes also feed, on a thread beside it
(:class:`~dynapose.inference.taps.BackgroundTap`), the camera's motion
(:mod:`dynapose.scene.camera_motion`: ``camera_motion`` in the JSON header) and, with an output
folder, the overlay and the viewer's pictures (:class:`~dynapose.inference.writer.FrameVisuals`);
the header also gets the ``floor`` and what was assumed for it. A video cut short or corrupt
midway keeps the frames before the damage, the frames its container declares after them are
gaps, and ``video_damage`` says so.

The default lifter is the one shipped in the package, :func:`default_lifter_path`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dynapose.camera import (
    FOCAL_PER_CROP_SIDE,
    assumed_intrinsics,
    normalize_screen,
    solve_root_translation,
)
from dynapose.data.keypoints import (
    Keypoints2D,
    bounding_squares,
    fill_gaps,
    from_array,
    read_keypoints_file,
)
from dynapose.errors import DynaPoseError
from dynapose.inference.lifting import (
    LIFTER_FPS,
    default_lifter_path,
    lift_sequence,
    load_default_lifter,
    load_lifter,
)
from dynapose.inference.mediapipe import (
    MEDIAPIPE_HINT,
    FrameTap,
    detect_keypoints_mediapipe,
    mediapipe_available,
)
from dynapose.inference.prediction import Prediction
from dynapose.inference.refine import rigid_bones
from dynapose.inference.taps import BackgroundTap
from dynapose.inference.writer import VISUALS, floor_summary, write_prediction
from dynapose.io.checkpoint import resolve_checkpoint
from dynapose.io.video import (
    DamageReport,
    Frame,
    VideoInfo,
    frame_times,
    ignore_damage,
    probe_video,
)
from dynapose.models.lifter import TemporalLifter
from dynapose.scene.camera_motion import CameraMotion, CameraMotionReport, joints_box


def _keypoints(video: Path,
               keypoints: str | os.PathLike[str] | np.ndarray | Keypoints2D | None,
               sequence: str | None, on_frame: FrameTap | None = None,
               progress: bool | None = False, on_damage: DamageReport | None = None,
               ) -> tuple[Keypoints2D, list[float], str | None]:
    """(keypoints, frame times, keypoint file or None). With MediaPipe, each decoded frame and
    its keypoints also go to `on_frame`, under a progress bar (`progress`), and a video cut
    short or corrupt midway is told to `on_damage` (the frames before kept)."""
    if keypoints is None:
        if not mediapipe_available():
            raise DynaPoseError(f"finding 2D keypoints in a video needs MediaPipe: "
                                f"{MEDIAPIPE_HINT}, or pass --keypoints FILE", video)
        times: list[float] = []
        kp = detect_keypoints_mediapipe(video, times=times, on_frame=on_frame,
                                        progress=progress, on_damage=on_damage)
        return kp, times, None
    times = frame_times(video).tolist()  # decoded, no pixels converted
    if isinstance(keypoints, Keypoints2D):
        return keypoints, times, None
    if isinstance(keypoints, np.ndarray):
        return from_array(keypoints), times, None
    kp = read_keypoints_file(keypoints, sequence=sequence, num_frames=len(times))
    return kp, times, os.fspath(keypoints)


def predict_video_lifted(
    video: str | os.PathLike[str],
    lifter: str | os.PathLike[str] | TemporalLifter | None = None,
    keypoints: str | os.PathLike[str] | np.ndarray | Keypoints2D | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    visuals: Sequence[str] = VISUALS,
    overwrite: bool = False,
    sequence: str | None = None,
    flip_tta: bool = True,
    viewer_frames: int = 1500,
    rigid: bool = True,
    device: str = "auto",
    progress: bool | None = False,
    camera_motion: CameraMotionReport | None = None,
) -> Prediction:
    """3D joints (mm, camera frame) of every frame of `video` by lifting 2D keypoints.

    lifter: a lifter run/checkpoint folder, a loaded TemporalLifter, or None for the shipped
    default (:func:`default_lifter_path`). keypoints: a keypoint file (``.npy``, ``.npz``,
    COCO ``.json``, VideoPose3D ``.npz``; `sequence` picks a VideoPose3D sequence), an array
    (F, 17, 2|3) px in Human3.6M order, a :class:`Keypoints2D`, or None for MediaPipe on the
    video. The keypoints must cover every frame of the video. out_dir, visuals, overwrite,
    viewer_frames: as :func:`dynapose.inference.image_model.predict_video`. `rigid`: give
    the person one length per bone for the whole video
    (:func:`dynapose.inference.refine.rigid_bones`). `device`: where the lifter runs (auto,
    cpu, cuda, cuda:N). camera_motion: for given keypoints (whose video is not decoded here),
    the camera's motion measured where they were found (else "not measured"). See the module
    docstring.
    """

    video = Path(video)
    info = probe_video(video, on_damage=ignore_damage)  # reported by the detection pass
    unknown = sorted(set(visuals) - set(VISUALS))
    if unknown:
        raise DynaPoseError(f"unknown visual outputs {unknown} (choose from {', '.join(VISUALS)})")
    if out_dir is not None:
        out_dir = Path(out_dir)
        if out_dir.exists() and not overwrite:
            raise DynaPoseError("already exists (pass --overwrite to replace it)", out_dir)
        if video.resolve().is_relative_to(out_dir.resolve()):
            raise DynaPoseError("output folder must not contain the video", out_dir)
    model = load_lifter(load_default_lifter() if lifter is None else lifter, device)

    def make(on_frame: FrameTap | None = None) -> Prediction:
        motion = CameraMotion()

        def tap(frame: Frame, found: tuple[np.ndarray, np.ndarray] | None) -> None:
            motion.add(frame.image, None if found is None else joints_box(found[0]))
            if on_frame is not None:
                on_frame(frame, found)

        damage: list[str] = []
        with BackgroundTap(tap) as beside:  # on the core MediaPipe leaves free
            kp, times, kp_file = _keypoints(video, keypoints, sequence, beside, progress,
                                            damage.append)
        decoded = len(kp)
        if damage:
            kp, times = _gaps_to_the_end(kp, times, info)
        pred = _lifted(video, info, lifter, model, kp, times, kp_file, keypoints is None,
                       flip_tta, rigid)
        measured = motion.report() if motion.frames else camera_motion
        pred.method["camera_motion"] = (
            measured.to_json() if measured is not None else
            {"camera": "not measured", "meaning": "the keypoints were given: the video's "
             "pixels were not decoded, so the camera is assumed to stand still"})
        pred.method["floor"] = floor_summary(pred)
        if damage:
            pred.method["video_damage"] = {
                "frames_decoded": decoded, "frames_declared": info.num_frames,
                "reason": damage[0],
                "meaning": "decoding stopped at damaged or missing data: the frames before are "
                           "kept; the frames the container declares after them are gaps (no "
                           "person), timed at its frame rate"}
        return pred

    if out_dir is None:
        return make()
    return write_prediction(make, video, out_dir, visuals, viewer_frames, overwrite, tap=True,
                            progress=progress)


def _gaps_to_the_end(kp: Keypoints2D, times: list[float], info: VideoInfo
                     ) -> tuple[Keypoints2D, list[float]]:
    """`kp` and `times` with gap frames added up to the frame count `info` declares (a video
    that ended early), timed one frame interval apart after the last decoded frame."""
    missing = info.num_frames - len(kp)
    if missing <= 0:
        return kp, times
    step = 1.0 / info.fps if info.fps > 0 else 0.04
    last = times[-1] if times else -step
    more = [last + step * (k + 1) for k in range(missing)]
    return Keypoints2D(
        pixels=np.concatenate([kp.pixels, np.full((missing, *kp.pixels.shape[1:]), np.nan)]),
        confidence=np.concatenate([kp.confidence, np.zeros((missing, kp.confidence.shape[1]))]),
        found=np.concatenate([kp.found, np.zeros(missing, dtype=bool)]),
        source=kp.source, width=kp.width, height=kp.height), times + more


def _lifted(video: Path, info: VideoInfo, lifter: str | os.PathLike[str] | TemporalLifter | None,
            model: TemporalLifter, kp: Keypoints2D, times: list[float], kp_file: str | None,
            detected: bool, flip_tta: bool, rigid: bool) -> Prediction:
    """The prediction of keypoints `kp` at `times` (the steps of the module docstring)."""
    source = kp_file or video
    if len(kp) != len(times):
        raise DynaPoseError(f"keypoints cover {len(kp)} frames, the video has {len(times)}",
                            source)
    if kp.num_found == 0:
        where = "by MediaPipe" if detected else "in the keypoints"
        raise DynaPoseError(f"no person found in any of the {len(kp)} frames {where}", source)
    if (kp.width, kp.height) not in ((None, None), (info.width, info.height)):
        raise DynaPoseError(f"keypoints are for a {kp.width}x{kp.height} video, this one is "
                            f"{info.width}x{info.height}", source)

    found = kp.found
    filled = fill_gaps(kp.pixels, found)
    conf = fill_gaps(kp.confidence, found) if model.config["confidence"] else None
    rel = lift_sequence(model, normalize_screen(filled, info.width, info.height), conf,
                        flip_tta=flip_tta, times=np.asarray(times, dtype=np.float64))
    rel[~found] = np.nan  # gap frames: no joints, and no say in the bone lengths
    if rigid:
        rel = rigid_bones(rel)
    focal, cx, cy = assumed_intrinsics(info.width, info.height)
    root = solve_root_translation(rel, filled, kp.confidence, focal, cx, cy)
    joints = rel + root[:, None, :]
    joints[~found] = np.nan

    checkpoint = "(in memory)"
    if not isinstance(lifter, TemporalLifter):

        checkpoint = str(resolve_checkpoint(default_lifter_path() if lifter is None else lifter))
    pred = Prediction(
        joints=joints.astype(np.float32),
        frame_index=np.arange(len(kp), dtype=np.int64),
        time=np.asarray(times, dtype=np.float64),
        points_2d=kp.pixels.astype(np.float32),
        boxes=bounding_squares(kp.pixels).astype(np.float32),
        found=found.copy(),
        fps=info.fps,
        video=info,
        model={"name": "lifter", "config": dict(model.config), "checkpoint": checkpoint,
               "backend": "torch", "receptive_field": model.receptive_field,
               "flip_tta": flip_tta, "rigid_bones": rigid},
        source="keypoints",
        method=_method(kp, kp_file, model, focal, cx, cy, flip_tta, rigid),
        confidence_2d=kp.confidence.astype(np.float32),
    )
    return pred


def _method(kp: Keypoints2D, kp_file: str | None, model: TemporalLifter, focal: float,
            cx: float, cy: float, flip_tta: bool, rigid: bool) -> dict[str, Any]:
    gaps = int((~kp.found).sum())
    return {
        "crop": {
            "policy": "keypoints: no crop; the lifter takes the whole frame's 2D keypoints",
            "input_size": 0,
            "box_format": "x, y, w, h in pixels: the square around the frame's 2D keypoints "
                          "(null in gap frames)",
        },
        "windows": {
            "length": model.span,  # frames at LIFTER_FPS; the network sees every frame_stride-th
            "frame_stride": model.frame_stride,
            "stride": 1,
            "frame_rate": (f"the 2D resampled to {LIFTER_FPS:g} frames/s by the frames' "
                           "timestamps (the rate lifters learn at), the joints back to the "
                           "frames' times"),
            "averaging": "one pass over the whole sequence: frame t sees the receptive field "
                         "centred on it (causal: ending at it), edges padded by repetition"
                         + ("; averaged with the mirrored input's prediction" if flip_tta
                            else ""),
        },
        "projection": {
            "assumed": True,
            "focal_px": round(focal, 3),
            "focal_rule": f"{FOCAL_PER_CROP_SIDE} x max(width, height)",
            "principal_point": [cx, cy],
            "distortion": "none",
        },
        "bones": ("rigid: one length per bone for the whole video (the median of the lifter's "
                  "lengths over the frames with a person, left and right averaged), each frame "
                  "rebuilt along its own bone directions" if rigid else
                  "as the lifter predicted them, frame by frame"),
        "root": "solved by reprojection: per frame, the camera-frame translation of the "
                "lifter's root-relative joints that best reprojects them onto the 2D keypoints "
                "(linear least squares, confidence-weighted) with the assumed intrinsics in "
                "'projection'",
        "keypoints": {
            "source": kp.source,
            "file": kp_file,
            "order": "Human3.6M (joint_names); mappings in dynapose.data.keypoints",
            "frames_found": kp.num_found,
        },
        "gaps": {
            "frames": gaps,
            "meaning": "frames without a person: joints null (JSON), empty cells (CSV), NaN "
                       "with valid = false (NPZ); the network's input there is interpolated "
                       "from the neighbouring frames, but no joints are reported",
        },
    }
