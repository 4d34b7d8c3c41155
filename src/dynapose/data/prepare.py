"""Human3.6M -> training clips (a clip store) or whole-sequence poses (a pose store).

:func:`prepare_h36m` reads the official release (videos + CDF poses), and for each
(subject, action, camera) in a fixed order:

1. takes the labels: camera-frame 3D joints (``D3_Positions_mono``, else ``D3_Positions``
   through the camera) and image 2D joints (``D2_Positions``, else the 3D joints projected with
   lens distortion), the 17 DynaPose joints;
2. cuts clips of ``clip_len`` frames taken every ``downsample`` frames, one clip starting every
   ``stride`` source frames;
3. decodes the video with PyAV, streaming (only the frames of the clips being cut are held),
   crops each clip with one square around the clip's 2D joints plus a margin (black outside the
   image) and resizes it to ``size`` x ``size`` (Pillow, bilinear with antialiasing);
4. writes frames, 3D joints (camera frame, mm), 2D joints (crop pixels) and metadata (subject,
   action, camera, start frame, split, crop box) to a :class:`~dynapose.data.store.ClipStore`.

The work is split into segments of at most ``segment_clips`` clips; with ``workers > 1``
segments are decoded in parallel processes, at most ``workers + 1`` segments in memory at a
time, and written in order. The output does not depend on ``workers``. An interrupted run
restarted with the same arguments resumes from the clips already on disk and ends with the same
store (segments always decode from the same seek point).

With ``poses_only=True`` it writes a :class:`~dynapose.data.pose_store.PoseStore` instead, from
any layout with 3D positions (official, 3d-pose-baseline, VideoPose3D npz).

Kept as one module: the label, clip-cutting, decoding and resumable-writing steps are one
pipeline whose order and fixed seek points make the output identical however it is run.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import json
import math
import multiprocessing
import os
import warnings
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image
from tqdm import tqdm

from dynapose.camera import Camera
from dynapose.data import h36m_cameras
from dynapose.data.h36m import (
    CAMERA_IDS,
    CORRUPT_VIDEOS,
    FPS,
    BaselineLayout,
    OfficialLayout,
    _subject_key,
    cdf_pose_frames,
    detect_layout,
    load_npz_2d,
    load_npz_3d,
    read_cameras_h5,
    read_cdf_pose,
    split_of,
)
from dynapose.data.pose_store import PoseStoreWriter
from dynapose.data.store import ClipStoreWriter, partial_path
from dynapose.errors import DynaPoseError
from dynapose.io.atomic import atomic_write_text
from dynapose.skeleton import H36M_32_TO_17

_J17 = list(H36M_32_TO_17)


@dataclass(frozen=True)
class Settings:
    """Everything that determines the output of a clip prepare (recorded in the store's attrs)."""

    root: str
    subjects: tuple[str, ...]
    cameras: tuple[str, ...]
    clip_len: int
    stride: int
    downsample: int
    size: int
    margin: float
    min_crop: int
    segment_clips: int
    chunk_clips: int
    cameras_h5: str | None


@dataclass(frozen=True)
class _Sequence:
    subject: str
    action: str
    camera: Camera
    video: str
    frames: int  # label frames (the video may be longer, never shorter)
    starts: tuple[int, ...]  # first source frame of each clip


@dataclass(frozen=True)
class _Segment:
    seq: _Sequence
    lo: int  # clip range [lo, hi) of the sequence
    hi: int
    skip: int  # clips at the start of the segment already in the store (resume)


def clip_starts(frames: int, clip_len: int, stride: int, downsample: int) -> list[int]:
    """First frames of the clips cut from a sequence of `frames` frames."""
    span = (clip_len - 1) * downsample + 1
    return list(range(0, frames - span + 1, stride))


def crop_box(points: np.ndarray, margin: float, min_size: int) -> tuple[int, int, int]:
    """Square (x0, y0, side) in px around 2D `points` (..., 2): the box's longer side plus
    `margin` of it on each side, at least `min_size`, centred on the box."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    side = max(math.ceil(float(np.max(hi - lo)) * (1.0 + 2.0 * margin)), int(min_size), 1)
    centre = (lo + hi) / 2.0
    x0 = math.floor(centre[0] - side / 2.0 + 0.5)
    y0 = math.floor(centre[1] - side / 2.0 + 0.5)
    return x0, y0, side


def crop_resize(image: np.ndarray, box: tuple[int, int, int], size: int) -> np.ndarray:
    """Crop square `box` (x0, y0, side) from `image` (H, W, 3) uint8, black outside the image,
    and resize it to (size, size, 3) uint8 (bilinear, antialiased when shrinking)."""

    x0, y0, side = box
    h, w = image.shape[:2]
    canvas = np.zeros((side, side, 3), dtype=np.uint8)
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    if xa < xb and ya < yb:
        canvas[ya - y0:yb - y0, xa - x0:xb - x0] = image[ya:yb, xa:xb]
    if side == size:
        return canvas
    return np.asarray(Image.fromarray(canvas).resize((size, size), Image.Resampling.BILINEAR))


def to_crop_pixels(points: np.ndarray, box: tuple[int, int, int], size: int) -> np.ndarray:
    """Image px (..., 2) -> crop px for `box` resized to `size` (pixel centres at integers)."""
    x0, y0, side = box
    scale = size / side
    return (np.asarray(points, dtype=np.float64) - (x0, y0) + 0.5) * scale - 0.5


# -- labels ------------------------------------------------------------------------------------
def _labels(layout: OfficialLayout, seq: _Sequence) -> tuple[np.ndarray, np.ndarray]:
    """(camera-frame 3D (T, 17, 3) mm, image 2D (T, 17, 2) px) of a sequence."""
    mono = layout.mono_path(seq.subject, seq.action, seq.camera.name)
    if mono.is_file():
        j3 = read_cdf_pose(mono, 3)
    else:
        j3 = seq.camera.world_to_camera(read_cdf_pose(
            layout.world_path(seq.subject, seq.action), 3))
    d2 = layout.d2_path(seq.subject, seq.action, seq.camera.name)
    if d2.is_file():
        j2 = read_cdf_pose(d2, 2)
        if len(j2) != len(j3):
            raise DynaPoseError(
                f"has {len(j2)} frames but the 3D poses of the same sequence have {len(j3)}", d2
            )
    else:
        j2 = seq.camera.project(j3)
    return j3[:, _J17], j2[:, _J17]


# -- video -------------------------------------------------------------------------------------
def video_frame_count(path: str | os.PathLike[str]) -> tuple[int, int, int]:
    """(frames as the container states them or 0 if unknown, width, height) of a video."""

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise DynaPoseError("file has no video stream", path)
            stream = container.streams.video[0]
            return int(stream.frames or 0), int(stream.width), int(stream.height)
    except DynaPoseError:
        raise
    except Exception as exc:  # PyAV raises many error types for unreadable files
        raise DynaPoseError(f"not a readable video ({exc})", path) from exc


def iter_video_frames(
    path: str | os.PathLike[str], first: int, last: int, labels: int, seek: bool = True
) -> Iterator[tuple[int, Any]]:
    """(index, av.VideoFrame) for frames first..last of a video, decoded in order.

    With `seek`, jumps to the keyframe before `first` when the stream has timestamps; otherwise
    (or if the jump lands past `first`) decodes from the start. `labels` (the number of pose
    frames) goes into the error when the video ends before `last`.
    """
    if seek and first > 0:
        located = _seek(path, first)
        if located is not None:
            yield from _frames(path, located, first, last, labels)
            return
    yield from _frames(path, None, first, last, labels)


def _open_video(path: str | os.PathLike[str]) -> tuple[Any, Any]:
    try:
        container = av.open(str(path))
    except Exception as exc:  # PyAV raises many error types for unreadable files
        raise DynaPoseError(f"not a readable video ({exc})", path) from exc
    if not container.streams.video:
        container.close()
        raise DynaPoseError("file has no video stream", path)
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return container, stream


def _seek(path: str | os.PathLike[str], first: int) -> tuple[Any, Any, Any, int] | None:
    """(container, stream, frame iterator, index of its next frame) positioned at or before
    frame `first`, or None when the video cannot be positioned exactly."""
    container, stream = _open_video(path)
    try:
        rate, tb = stream.average_rate or stream.guessed_rate, stream.time_base
        start = stream.start_time or 0
        if rate and tb:
            container.seek(start + int(max(first - 4, 0) / rate / tb), stream=stream,
                           backward=True)
            frames = container.decode(stream)
            head = next(frames, None)
            if head is not None and head.pts is not None:
                index = round(float((head.pts - start) * tb * rate))
                if 0 <= index <= first:
                    return container, stream, itertools.chain([head], frames), index
    except Exception:  # any trouble positioning: decode from the start instead
        pass
    container.close()
    return None


def _frames(
    path: str | os.PathLike[str],
    located: tuple[Any, Any, Any, int] | None,
    first: int,
    last: int,
    labels: int,
) -> Iterator[tuple[int, Any]]:
    if located is None:
        container, stream = _open_video(path)
        frames, index = None, 0
    else:
        container, stream, frames, index = located
    try:
        if frames is None:
            frames = container.decode(stream)
        for frame in frames:
            if index >= first:
                yield index, frame
            if index >= last:
                return
            index += 1
        raise DynaPoseError(
            f"video is shorter than its poses (it ends at frame {index}; the poses have "
            f"{labels} frames)",
            path,
        )
    except DynaPoseError:
        raise
    except Exception as exc:
        raise DynaPoseError(f"cannot decode video ({exc})", path) from exc
    finally:
        container.close()


def _segment_clips(segment: _Segment, settings: Settings) -> Iterator[dict[str, Any]]:
    """The clips of `segment` after its `skip` first ones, in order, streaming the video."""
    seq = segment.seq
    layout = OfficialLayout(settings.root)
    j3, j2 = _labels(layout, seq)
    step, n = settings.downsample, settings.clip_len
    starts = seq.starts[segment.lo:segment.hi]
    needed = {s + i * step for s in starts for i in range(n)}
    window: dict[int, np.ndarray] = {}
    pending = deque(enumerate(starts))
    first, last = starts[0], starts[-1] + (n - 1) * step
    for index, frame in iter_video_frames(seq.video, first, last, seq.frames):
        if index in needed:
            window[index] = frame.to_ndarray(format="rgb24")
        while pending and index >= pending[0][1] + (n - 1) * step:
            k, s = pending.popleft()
            idx = [s + i * step for i in range(n)]
            if k >= segment.skip:
                box = crop_box(j2[idx], settings.margin, settings.min_crop)
                yield {
                    "frames": np.stack([crop_resize(window[i], box, settings.size) for i in idx]),
                    "joints3d": j3[idx].astype(np.float32),
                    "joints2d": to_crop_pixels(j2[idx], box, settings.size).astype(np.float32),
                    "subject": seq.subject, "action": seq.action, "camera": seq.camera.name,
                    "start": s, "split": split_of(seq.subject), "source": "h36m",
                    "frame_step": step, "crop_x": box[0], "crop_y": box[1], "crop_size": box[2],
                }
            keep = pending[0][1] if pending else last + 1
            for i in [i for i in window if i < keep]:
                del window[i]


def _run_segment(segment: _Segment, settings: Settings) -> list[dict[str, Any]]:
    return list(_segment_clips(segment, settings))


# -- planning ----------------------------------------------------------------------------------
def _plan(layout: OfficialLayout, settings: Settings) -> list[_Sequence]:
    plan: list[_Sequence] = []
    for subject in settings.subjects:
        layout.subject_dir(subject)
        layout.check_camera_ids(subject)
        for action in layout.actions(subject):
            for cam_id in settings.cameras:
                if (subject, action, cam_id) in CORRUPT_VIDEOS:
                    warnings.warn(
                        f"skipping {subject} {action} camera {cam_id}: its video is known to be "
                        "corrupt in the Human3.6M release",
                        stacklevel=3,
                    )
                    continue
                camera = layout.camera(subject, cam_id)
                mono = layout.mono_path(subject, action, cam_id)
                label_file = mono if mono.is_file() else layout.world_path(subject, action)
                frames = cdf_pose_frames(label_file, 3)
                video = layout.video_path(subject, action, cam_id)
                stated, _, _ = video_frame_count(video)
                if 0 < stated < frames:
                    raise DynaPoseError(
                        f"video is shorter than its poses ({stated} frames; {label_file.name} "
                        f"has {frames})",
                        video,
                    )
                starts = clip_starts(frames, settings.clip_len, settings.stride,
                                     settings.downsample)
                if starts:
                    plan.append(_Sequence(subject, action, camera, str(video), frames,
                                          tuple(starts)))
    return plan


def _segments(plan: Sequence[_Sequence], per: int, done: int) -> list[_Segment]:
    out, offset = [], 0
    for seq in plan:
        for lo in range(0, len(seq.starts), per):
            hi = min(lo + per, len(seq.starts))
            if offset + (hi - lo) > done:
                out.append(_Segment(seq, lo, hi, skip=max(done - offset, 0)))
            offset += hi - lo
    return out


def _check_cameras(values: Sequence[str] | None, root: Path) -> tuple[str, ...]:
    if not values:
        return CAMERA_IDS
    values = tuple(dict.fromkeys(str(v) for v in values))
    for v in values:
        if v not in CAMERA_IDS:
            raise DynaPoseError(
                f"unknown camera id {v} (Human3.6M cameras: {', '.join(CAMERA_IDS)})", root
            )
    return values


def _progress(total: int, initial: int, enabled: bool, desc: str) -> Any:
    return tqdm(total=total, initial=initial, unit="clip", desc=desc, disable=not enabled,
                dynamic_ncols=True)


# -- public API --------------------------------------------------------------------------------
def prepare_h36m(
    root: str | os.PathLike[str],
    out: str | os.PathLike[str],
    subjects: Sequence[str] | None = None,
    cameras: Sequence[str] | None = None,
    *,
    stride: int | None = None,
    downsample: int = 1,
    size: int = 224,
    clip_len: int = 8,
    margin: float = 0.2,
    min_crop: int = 32,
    poses_only: bool = False,
    workers: int = 1,
    cameras_h5: str | os.PathLike[str] | None = None,
    keypoints: str | os.PathLike[str] | None = None,
    segment_clips: int | None = None,
    chunk_clips: int = 256,
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Turn Human3.6M under `root` into a clip store at `out` (or a pose store); returns `out`.

    root: the official release folder (clips need its videos). With `poses_only`, also a
        3d-pose-baseline folder or a VideoPose3D ``data_3d_h36m.npz``.
    subjects: e.g. ("S1", "S5"); default all subject folders present. Splits are standard:
        train S1, S5, S6, S7, S8; test S9, S11.
    cameras: camera ids (default all four).
    stride: source frames between the starts of consecutive clips (default
        clip_len * downsample: clips do not overlap).
    downsample: take every `downsample`-th frame (50 fps / downsample).
    size: side of the square crops, px. margin: added on each side of the joints' box, as a
        share of its longer side. min_crop: smallest crop side in source px.
    workers: decoding processes (the output does not depend on it).
    cameras_h5: a 3d-pose-baseline ``cameras.h5`` to use instead of the published calibration.
    keypoints: with `poses_only`, a VideoPose3D 2D keypoint file to use as the 2D joints.
    segment_clips: clips per unit of work (default: ~64 MB of frames).

    The known-corrupt video (S11 Directions, camera 54138969) is skipped with a warning. An
    unfinished earlier run with the same arguments is resumed.
    """
    root, out = Path(root), Path(out)
    if poses_only:
        return prepare_h36m_poses(root, out, subjects, cameras, cameras_h5=cameras_h5,
                                  keypoints=keypoints, overwrite=overwrite)
    if keypoints:
        raise DynaPoseError("2D keypoint files go into pose stores: add --poses-only", keypoints)
    for name, value in (("stride", stride), ("downsample", downsample), ("size", size),
                        ("clip_len", clip_len), ("workers", workers),
                        ("segment_clips", segment_clips)):
        if value is not None and int(value) < 1:
            raise DynaPoseError(f"{name} must be at least 1 (got {value})")
    if margin < 0:
        raise DynaPoseError(f"margin must be >= 0 (got {margin})")
    layout_name = detect_layout(root)
    if layout_name != "official":
        raise DynaPoseError(
            f"clips need videos, and this is the {layout_name} layout, which has none; "
            "use --poses-only for a pose store, or point at the official release",
            root,
        )
    if out.exists() and not overwrite:
        raise DynaPoseError("already exists (pass --overwrite to replace it)", out)
    cams = read_cameras_h5(cameras_h5) if cameras_h5 else None
    layout = OfficialLayout(root, cameras=cams)
    subjects = tuple(dict.fromkeys(subjects)) if subjects else tuple(layout.subjects())
    cameras = _check_cameras(cameras, root)
    if not subjects:
        raise DynaPoseError("no subject folders (S1, S5, ...) found", root)
    frame_bytes = size * size * 3 * clip_len
    settings = Settings(
        root=str(root.resolve()), subjects=tuple(subjects), cameras=tuple(cameras),
        clip_len=int(clip_len), stride=int(stride or clip_len * downsample),
        downsample=int(downsample), size=int(size), margin=float(margin),
        min_crop=int(min_crop),
        segment_clips=int(segment_clips or max(1, (64 << 20) // frame_bytes)),
        chunk_clips=int(chunk_clips),
        cameras_h5=str(Path(cameras_h5).resolve()) if cameras_h5 else None,
    )
    plan = _plan(layout, settings)
    total = sum(len(s.starts) for s in plan)
    if total == 0:
        raise DynaPoseError("no clips to cut: every sequence is shorter than one clip", root)

    # Resume only an unfinished run with exactly these settings.
    sidecar = out.with_name(f".{out.name}.prepare.json")
    recorded = json.dumps(asdict(settings), sort_keys=True)
    resume = (partial_path(out).is_dir() and sidecar.is_file()
              and sidecar.read_text() == recorded)
    if partial_path(out).is_dir() and not resume:
        warnings.warn(f"discarding an unfinished store at {partial_path(out)} written with other "
                      "settings", stacklevel=2)
    writer = ClipStoreWriter(
        out, height=size, width=size, clip_len=clip_len, joints2d=True,
        chunk_clips=chunk_clips, overwrite=overwrite, resume=resume,
        attrs={"source": "h36m", "fps": FPS / settings.downsample,
               **{k: v for k, v in asdict(settings).items()
                  if k not in ("root", "segment_clips")}},
    )
    atomic_write_text(sidecar, recorded)
    done = writer.num_committed
    segments = _segments(plan, settings.segment_clips, done)
    bar = _progress(total, done, progress, "prepare h36m")
    try:
        with writer:
            for clip in _clips_in_order(segments, settings, workers):
                writer.add(clip.pop("frames"), clip.pop("joints3d"), clip.pop("joints2d"),
                           **clip)
                bar.update(1)
    finally:
        bar.close()
    sidecar.unlink(missing_ok=True)
    return out


def _clips_in_order(
    segments: list[_Segment], settings: Settings, workers: int
) -> Iterator[dict[str, Any]]:
    """Clips of all segments in order; decoded in `workers` processes when > 1."""
    if workers <= 1 or len(segments) <= 1:
        for seg in segments:
            yield from _segment_clips(seg, settings)
        return
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        queue: deque[cf.Future[list[dict[str, Any]]]] = deque()
        todo = iter(segments)
        try:
            for seg in todo:
                queue.append(pool.submit(_run_segment, seg, settings))
                if len(queue) > workers:
                    yield from queue.popleft().result()
            while queue:
                yield from queue.popleft().result()
        finally:
            for fut in queue:
                fut.cancel()


def prepare_h36m_poses(
    root: str | os.PathLike[str],
    out: str | os.PathLike[str],
    subjects: Sequence[str] | None = None,
    cameras: Sequence[str] | None = None,
    *,
    cameras_h5: str | os.PathLike[str] | None = None,
    keypoints: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a pose store (whole sequences, 17 joints, per camera) from any layout with 3D.

    Official: D3_Positions_mono (else D3_Positions through the camera) and D2_Positions (else
    projected). 3d-pose-baseline: world poses through ``cameras.h5``. VideoPose3D npz: world
    poses (m -> mm) through the published calibration (or `cameras_h5`). 2D is projected with
    lens distortion where the layout has none. `keypoints`: a VideoPose3D 2D file
    (``data_2d_h36m_*.npz``, 17 joints, e.g. detections) whose keypoints replace the 2D joints
    (trimmed to the 3D length, as VideoPose3D does).
    """
    root, out = Path(root), Path(out)
    layout_name = detect_layout(root)
    cams = _check_cameras(cameras, root)
    lookup = read_cameras_h5(cameras_h5) if cameras_h5 else None
    if out.exists() and not overwrite:
        raise DynaPoseError("already exists (pass --overwrite to replace it)", out)
    kp_path = Path(keypoints) if keypoints else None
    kp = _load_keypoints(kp_path) if kp_path else None
    attrs = {"source": "h36m", "layout": layout_name, "fps": FPS, "cameras": list(cams),
             "joints2d": kp_path.name if kp_path else "ground truth"}
    with PoseStoreWriter(out, overwrite=overwrite, attrs=attrs) as writer:
        for subject, action, camera, j3, j2 in _pose_sequences(root, layout_name, subjects,
                                                               cams, lookup):
            if kp is not None and kp_path is not None:
                j2 = _keypoints_for(kp, kp_path, subject, action, camera.name, len(j3))
            writer.add(j3, j2, camera=camera, subject=subject, action=action, fps=FPS,
                       split=split_of(subject))
    return out


def _load_keypoints(path: str | os.PathLike[str]) -> dict[str, dict[str, list[np.ndarray]]]:
    positions, metadata = load_npz_2d(path)
    joints = {a.shape[1] for acts in positions.values() for per in acts.values() for a in per}
    if joints != {17} or metadata.get("num_joints", 17) != 17:
        raise DynaPoseError(
            f"keypoints have {sorted(joints)} joints; the pose store needs the 17 Human3.6M "
            "joints in VideoPose3D order", path)
    return positions


def _keypoints_for(kp: dict[str, dict[str, list[np.ndarray]]], path: Path, subject: str,
                   action: str, cam_id: str, frames: int) -> np.ndarray:
    try:
        seq = kp[subject][action][CAMERA_IDS.index(cam_id)]
    except (KeyError, IndexError):
        raise DynaPoseError(f"no keypoints for {subject} {action!r} camera {cam_id}",
                            path) from None
    if len(seq) < frames:
        raise DynaPoseError(f"keypoints of {subject} {action!r} camera {cam_id} have "
                            f"{len(seq)} frames, the 3D poses {frames}", path)
    return seq[:frames]


def _pose_sequences(
    root: Path,
    layout_name: str,
    subjects: Sequence[str] | None,
    cams: Sequence[str],
    lookup: dict[tuple[str, str], Camera] | None,
) -> Iterator[tuple[str, str, Camera, np.ndarray, np.ndarray]]:
    """(subject, action, camera, 3D (T, 17, 3) camera mm, 2D (T, 17, 2) px) of every sequence."""
    if layout_name == "official":
        official = OfficialLayout(root, cameras=lookup)
        for subject in subjects or official.subjects():
            official.subject_dir(subject)
            official.check_camera_ids(subject)
            for action in official.actions(subject):
                for cam_id in cams:
                    camera = official.camera(subject, cam_id)
                    j3, j2 = _labels(official, _Sequence(subject, action, camera, "", 0, ()))
                    yield subject, action, camera, j3, j2
        return
    if layout_name == "baseline":
        base = BaselineLayout(root)
        default_camera = base.camera
        wanted = list(subjects or base.subjects())

        def world(subject: str) -> Iterator[tuple[str, np.ndarray]]:
            for action in base.actions(subject):
                yield action, base.world_positions(subject, action)
    else:
        data = load_npz_3d(root)
        default_camera = h36m_cameras.camera
        wanted = list(subjects or sorted(data, key=_subject_key))
        for s in wanted:
            if s not in data:
                raise DynaPoseError(f"subject {s} is not in the file (it has: "
                                    f"{', '.join(sorted(data, key=_subject_key))})", root)

        def world(subject: str) -> Iterator[tuple[str, np.ndarray]]:
            for action in sorted(data[subject]):
                yield action, data[subject][action]
    for subject in wanted:
        for action, pos in world(subject):
            if pos.shape[1] != 32:
                raise DynaPoseError(f"{subject} {action} has {pos.shape[1]} joints, "
                                    "expected Human3.6M's 32", root)
            for cam_id in cams:
                camera = (default_camera(subject, cam_id) if lookup is None
                          else _lookup(lookup, subject, cam_id, root))
                j3 = camera.world_to_camera(pos[:, _J17])
                yield subject, action, camera, j3, camera.project(j3)


def _lookup(cams: dict[tuple[str, str], Camera], subject: str, cam_id: str, root: Path) -> Camera:
    try:
        return cams[(subject, cam_id)]
    except KeyError:
        raise DynaPoseError(f"no calibration for subject {subject} camera {cam_id}", root) from None
