"""Writing frames as MP4 (H.264) or GIF, atomically, and the side-by-side comparison video
(frame | predicted 3D | true 3D) of held-out clips.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from av.video.stream import VideoStream
from PIL import Image

from dynapose.errors import DynaPoseError
from dynapose.io.atomic import atomic_path
from dynapose.skeleton import NUM_JOINTS, PELVIS
from dynapose.viz.skeleton import Limits, Skeleton3DRenderer, draw_skeleton_2d, skeleton_limits

VIDEO_SUFFIXES = (".mp4", ".gif")


def _check_frame(frame: Any, path: Path, first: tuple[int, ...] | None) -> np.ndarray:
    arr = np.asarray(frame)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise DynaPoseError(f"frames must be uint8 (H, W, 3), got {arr.dtype} {arr.shape}", path)
    if first is not None and arr.shape != first:
        raise DynaPoseError(f"frame size changed from {first} to {arr.shape}", path)
    return np.ascontiguousarray(arr)


def _write_mp4(frames: Iterable[Any], tmp: Path, dest: Path, fps: float, crf: int) -> int:
    rate = Fraction(fps).limit_denominator(1001)
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    count = 0
    first: tuple[int, ...] | None = None
    pad = (0, 0)
    with av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream: VideoStream | None = None
        for frame in frames:
            arr = _check_frame(frame, dest, first)
            if stream is None:
                first = arr.shape
                h, w = arr.shape[:2]
                pad = (h % 2, w % 2)  # yuv420p needs even sizes
                added = out.add_stream(codec, rate=rate)
                assert isinstance(added, VideoStream)  # a video codec gives a video stream
                stream = added
                stream.width, stream.height = w + pad[1], h + pad[0]
                stream.pix_fmt = "yuv420p"
                if codec == "libx264":
                    stream.options = {"crf": str(crf), "preset": "veryfast"}
            if pad != (0, 0):
                arr = np.pad(arr, ((0, pad[0]), (0, pad[1]), (0, 0)), mode="edge")
            video_frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            for packet in stream.encode(video_frame):
                out.mux(packet)
            count += 1
        if stream is not None:
            for packet in stream.encode(None):
                out.mux(packet)
    return count


def _write_gif(frames: Iterable[Any], tmp: Path, dest: Path, fps: float) -> int:
    images: list[Image.Image] = []
    first: tuple[int, ...] | None = None
    for frame in frames:
        arr = _check_frame(frame, dest, first)
        first = arr.shape
        images.append(Image.fromarray(arr).quantize(256, method=Image.Quantize.FASTOCTREE))
    if images:
        images[0].save(
            tmp, format="GIF", save_all=True, append_images=images[1:],
            duration=max(20, round(1000.0 / fps)), loop=0,
        )
    return len(images)


def write_video(
    frames: Iterable[np.ndarray],
    path: str | os.PathLike[str],
    fps: float = 25.0,
    crf: int = 20,
) -> Path:
    """Write uint8 RGB frames (H, W, 3), all one size, to `path` atomically; returns the path.

    The suffix picks the format: ``.mp4`` is H.264 (libx264, yuv420p, quality `crf`; an odd
    width or height is padded by one edge pixel to make it even), ``.gif`` is an endlessly
    looping GIF (Pillow, one fast-octree palette per frame; identical consecutive frames are
    merged into one longer frame, and GIF timing has 10 ms steps). Frames are streamed for MP4;
    a GIF keeps them in memory (1 byte per pixel).
    """
    dest = Path(path)
    suffix = dest.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise DynaPoseError(f"unsupported video type {suffix or '(none)'!r}; use .mp4 or .gif",
                            dest)
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise DynaPoseError(f"frame rate must be a positive number, got {fps!r}", dest)
    try:
        with atomic_path(dest) as tmp:
            if suffix == ".mp4":
                count = _write_mp4(frames, tmp, dest, float(fps), crf)
            else:
                count = _write_gif(frames, tmp, dest, float(fps))
            if count == 0:
                raise DynaPoseError("no frames to write", dest)
    except DynaPoseError:
        raise
    except OSError as exc:
        raise DynaPoseError(f"cannot write video: {exc.strerror or exc}", dest) from None
    return dest


def _resize(image: np.ndarray, height: int) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    if h == height:
        return image, 1.0
    scale = height / h
    new_w = max(1, round(w * scale))
    img = Image.fromarray(image).resize((new_w, height), Image.Resampling.BILINEAR)
    return np.asarray(img), scale


def comparison_frames(
    frames: Iterable[np.ndarray],
    pred3d: np.ndarray,
    true3d: np.ndarray | None = None,
    joints2d_pred: np.ndarray | None = None,
    height: int | None = None,
    limits: Limits | None = None,
    root_align: bool = False,
    labels: Sequence[str] = ("predicted", "true"),
    elev: float = 12.0,
    azim: float = -70.0,
) -> Iterator[np.ndarray]:
    """Yield, per input frame, the frame (with `joints2d_pred` drawn if given) beside a 3D view
    of the predicted and, if given, true skeletons.

    frames: N uint8 (H, W, 3) images; pred3d, true3d: (N, 17, 3) mm camera frame;
    joints2d_pred: (N, 17, 2) px in the input frames, drawn in the prediction's colour. Output
    frames are (h, W*h/H + h, 3) with h = `height` (default max(H, 256), made even): the input
    scaled to h rows, then an h x h 3D panel.
    The 3D axis limits are fixed for the whole sequence (`limits`, default fitted to all poses).
    `root_align` moves each pose's pelvis to the origin (compare shape, not placement).
    """
    pred = np.asarray(pred3d, dtype=np.float64)
    true = None if true3d is None else np.asarray(true3d, dtype=np.float64)
    if pred.ndim != 3 or pred.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(f"pred3d must be (N, {NUM_JOINTS}, 3), got {pred.shape}")
    if true is not None and true.shape != pred.shape:
        raise ValueError(f"true3d shape {true.shape} differs from pred3d {pred.shape}")
    j2d = None if joints2d_pred is None else np.asarray(joints2d_pred, dtype=np.float64)
    if j2d is not None and j2d.shape != (len(pred), NUM_JOINTS, 2):
        raise ValueError(f"joints2d_pred must be ({len(pred)}, {NUM_JOINTS}, 2), got {j2d.shape}")
    if root_align:
        pred = pred - pred[:, PELVIS : PELVIS + 1]
        true = None if true is None else true - true[:, PELVIS : PELVIS + 1]
    if limits is None:
        limits = skeleton_limits(pred, true)
    renderer: Skeleton3DRenderer | None = None
    n = 0
    for i, frame in enumerate(frames):
        if i >= len(pred):
            raise ValueError(f"more frames than poses ({len(pred)})")
        img = np.asarray(frame)
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"frames must be uint8 (H, W, 3), got {img.dtype} {img.shape}")
        h = height or max(img.shape[0], 256)
        h += h % 2
        if renderer is None:
            names = list(labels[: 1 if true is None else 2])
            renderer = Skeleton3DRenderer((h, h), limits, labels=names, elev=elev, azim=azim)
        left, scale = _resize(img, h)
        if j2d is not None:
            left = draw_skeleton_2d(left, j2d[i] * scale, color=renderer.colors[0])
        right = renderer.render(pred[i], [] if true is None else [true[i]])
        yield np.concatenate([left, right], axis=1)
        n = i + 1
    if n != len(pred):
        raise ValueError(f"{n} frames for {len(pred)} poses")


def side_by_side_frames(
    frames: Iterable[np.ndarray],
    points_2d: np.ndarray,
    joints: np.ndarray,
    height: int = 360,
    floor: np.ndarray | None = None,
    path: np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """Yield, per video frame, [the frame with its 2D skeleton | the 3D skeleton seen from the
    camera | seen from the side], each `height` px high, in the overlay's left/right colours.

    frames: uint8 (H, W, 3) video frames; points_2d (F, 17, 2) px; joints (F, 17, 3) mm camera
    frame (NaN: no person, nothing drawn); floor, path: the scenery of
    :meth:`Skeleton3DRenderer.set_scenery` (floor grid segments and trajectory). The 3D axes
    are fixed over the clip (fitted to every joint, floor and path).
    """
    j3d = np.asarray(joints, dtype=np.float64)
    j2d = np.asarray(points_2d, dtype=np.float64)
    h = height + height % 2
    limits = skeleton_limits(j3d, None if floor is None else floor.reshape(-1, 3)[None],
                             None if path is None else path[None], margin=100.0)
    views = []
    for elev, azim in ((8.0, -90.0), (8.0, 0.0)):  # from the camera, from its right
        view = Skeleton3DRenderer((h, h), limits, colors=(None,), elev=elev, azim=azim,
                                  show_axes=False)
        view.set_scenery(floor, path)
        views.append(view)
    blank = np.full((NUM_JOINTS, 3), np.nan)
    for i, frame in enumerate(frames):
        if i >= len(j3d):
            break
        left, scale = _resize(np.asarray(frame), h)
        left = draw_skeleton_2d(left, j2d[i] * scale)
        pose = j3d[i] if np.isfinite(j3d[i]).all() else blank
        yield np.concatenate([left, *(v.render(pose) for v in views)], axis=1)


def comparison_video(
    frames: Iterable[np.ndarray],
    pred3d: np.ndarray,
    true3d: np.ndarray | None,
    path: str | os.PathLike[str],
    fps: float = 25.0,
    joints2d_pred: np.ndarray | None = None,
    **kwargs: Any,
) -> Path:
    """Write the `comparison_frames` of a clip as MP4 or GIF (by suffix) to `path`, atomically.

    frames (N, H, W, 3) uint8; pred3d and true3d (N, 17, 3) mm camera frame (true3d may be None);
    joints2d_pred (N, 17, 2) px. Extra keyword arguments go to `comparison_frames`.
    """
    return write_video(
        comparison_frames(frames, pred3d, true3d, joints2d_pred, **kwargs), path, fps=fps
    )
