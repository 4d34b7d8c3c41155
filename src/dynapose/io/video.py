"""Video decoding with PyAV: open and validate a file, then stream its frames as RGB uint8.

Any container and codec FFmpeg reads (mp4, mkv, webm, avi, mov, ...), any resolution and frame
rate, constant or variable. Frames are streamed one at a time, so memory stays flat however long
the video is. Rotation metadata (phones) is applied, so frames come out upright.

Bad input raises :class:`~dynapose.errors.DynaPoseError` naming the file: not a video, no video
stream, no frames, or a truncated or corrupt file (detected while decoding, so the error may come
after some frames were yielded: callers write their outputs only once the stream is done).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from av.video.stream import VideoStream

from dynapose.errors import DynaPoseError

#: A stream counts as truncated when fewer than this share of its declared frames (or duration)
#: decode; the slack absorbs edit lists and rounding in container headers.
TRUNCATION_SLACK = 0.02


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about its first video stream (before decoding it all).

    width, height: upright frame size in pixels (after rotation metadata). fps: average frame
    rate (frames/s; a guess for variable-rate video). num_frames: declared frame count, or an
    estimate from duration x fps when the container does not store one (0 when unknown).
    duration: seconds (0.0 when unknown). rotation: degrees counter-clockwise applied to frames.
    """

    path: str
    width: int
    height: int
    fps: float
    num_frames: int
    duration: float
    codec: str
    container: str
    rotation: int = 0

    def to_json(self) -> dict[str, object]:
        """The fields as a JSON-ready dict."""
        return {
            "path": self.path,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "num_frames": self.num_frames,
            "duration_s": self.duration,
            "codec": self.codec,
            "container": self.container,
            "rotation_deg": self.rotation,
        }


@dataclass(frozen=True)
class Frame:
    """One decoded frame. image: (H, W, 3) uint8 RGB, upright; time: seconds from the start."""

    index: int
    time: float
    image: np.ndarray


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise DynaPoseError("video not found", path)
    if not path.is_file():
        raise DynaPoseError("not a file", path)
    if path.stat().st_size == 0:
        raise DynaPoseError("empty file, not a video", path)
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise DynaPoseError(f"not a readable video ({_reason(exc)})", path) from exc
    if not container.streams.video:
        container.close()
        raise DynaPoseError("has no video stream (no video frames)", path)
    return container


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


def _fps(stream: av.video.stream.VideoStream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and float(rate) > 0:
            return float(rate)
    return 0.0


def _info(path: Path, container: av.container.InputContainer, rotation: int = 0) -> VideoInfo:
    stream = container.streams.video[0]
    ctx = stream.codec_context
    fps = _fps(stream)
    duration = 0.0
    if stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    elif container.duration:
        duration = container.duration / av.time_base
    num_frames = int(stream.frames or 0)
    if num_frames <= 0 and duration > 0 and fps > 0:
        num_frames = round(duration * fps)
    width, height = int(ctx.width), int(ctx.height)
    if rotation % 180:
        width, height = height, width
    if width <= 0 or height <= 0:
        raise DynaPoseError(f"video stream has no frame size ({width}x{height})", path)
    return VideoInfo(
        path=str(path),
        width=width,
        height=height,
        fps=fps,
        num_frames=num_frames,
        duration=duration,
        codec=str(ctx.name),
        container=str(container.format.name),
        rotation=rotation,
    )


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Open `path`, check it holds a video stream with a decodable first frame; its VideoInfo.

    Decodes only the first frame (for its rotation); :func:`iter_frames` finds truncated streams.
    """
    path = Path(path)
    container = _open(path)
    try:
        _info(path, container)  # validates the stream's frame size
        try:
            first = next(container.decode(container.streams.video[0]), None)
        except av.error.FFmpegError as exc:
            raise DynaPoseError(
                f"corrupt video: first frame undecodable ({_reason(exc)})", path
            ) from exc
        if first is None:
            raise DynaPoseError("no video frames (empty, truncated or corrupt)", path)
        return _info(path, container, _frame_rotation(first))
    finally:
        container.close()


def _frame_rotation(frame: av.VideoFrame) -> int:
    """Counter-clockwise rotation (degrees, a multiple of 90) that makes `frame` upright."""
    angle = float(getattr(frame, "rotation", 0) or 0)
    return round(angle / 90.0) * 90 % 360


def _upright(image: np.ndarray, rotation: int) -> np.ndarray:
    if rotation == 0:
        return image
    return np.ascontiguousarray(np.rot90(image, k=rotation // 90))


def iter_frames(
    path: str | os.PathLike[str],
    size: tuple[int, int] | None = None,
    threads: bool = True,
) -> Iterator[Frame]:
    """Decode `path` frame by frame: yields :class:`Frame` (RGB uint8, upright) in display order.

    size: optional (width, height) to scale every frame to while converting to RGB (one swscale
    pass with area averaging, much faster than converting at full size and resizing after).
    threads: let FFmpeg decode with several threads. Raises DynaPoseError for no frames, for a
    stream that ends before the frame count or duration its container declares (truncated), or
    for undecodable data (corrupt).
    """
    path = Path(path)
    container = _open(path)
    try:
        info = probe_video(path)
        stream = container.streams.video[0]
        if threads:
            stream.thread_type = "AUTO"
        time_base = stream.time_base or Fraction(1, 1)
        start: float | None = None
        n = 0
        last_time = 0.0
        out_w, out_h = size if size is not None else (None, None)
        if info.rotation % 180 and size is not None:
            out_w, out_h = out_h, out_w  # scale before rotating
        try:
            for frame in container.decode(stream):
                if frame.pts is not None:
                    t = float(frame.pts * time_base)
                else:
                    t = n / info.fps if info.fps > 0 else float(n)
                if start is None:
                    start = t
                last_time = t - start
                if out_w is not None:
                    image = frame.to_ndarray(
                        width=out_w, height=out_h, format="rgb24", interpolation="AREA"
                    )
                else:
                    image = frame.to_ndarray(format="rgb24")
                yield Frame(index=n, time=last_time, image=_upright(image, _frame_rotation(frame)))
                n += 1
        except av.error.FFmpegError as exc:
            raise DynaPoseError(
                f"corrupt or truncated video: decoding failed after {n} frames ({_reason(exc)})",
                path,
            ) from exc
        if n == 0:
            raise DynaPoseError(
                "no video frames could be decoded (empty, truncated or corrupt)", path
            )
        _check_complete(path, info, n, last_time)
    finally:
        container.close()


def _check_complete(path: Path, info: VideoInfo, n: int, last_time: float) -> None:
    """Raise if fewer frames decoded than the container declares (a truncated file)."""
    if info.num_frames > 0 and n < math.floor(info.num_frames * (1 - TRUNCATION_SLACK)) - 1:
        raise DynaPoseError(
            f"truncated or corrupt video: decoded {n} of {info.num_frames} declared frames", path
        )
    if info.duration > 0 and info.fps > 0:
        decoded = last_time + 1.0 / info.fps
        if decoded < info.duration * (1 - TRUNCATION_SLACK) - 1.5 / info.fps:
            raise DynaPoseError(
                f"truncated or corrupt video: frames end at {decoded:.2f} s of a declared "
                f"{info.duration:.2f} s",
                path,
            )


def write_test_video(
    path: str | os.PathLike[str],
    frames: np.ndarray | Iterator[np.ndarray],
    fps: float = 25.0,
    codec: str | None = None,
) -> Path:
    """Encode RGB uint8 frames ((N, H, W, 3) or an iterator of (H, W, 3)) as a video file.

    The codec defaults by suffix: .mp4/.mkv/.mov -> libx264 (yuv420p, so H and W must be even),
    .webm -> libvpx-vp9, .avi -> mpeg4. Used by tests and benchmarks to make real videos.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    codec = codec or {".webm": "libvpx-vp9", ".avi": "mpeg4"}.get(suffix, "libx264")
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), mode="w") as container:
        stream: VideoStream | None = None
        for image in frames:
            if stream is None:
                stream = cast(VideoStream, container.add_stream(codec, rate=rate))
                stream.height, stream.width = image.shape[:2]
                stream.pix_fmt = "yuv420p"
                if codec == "libx264":
                    stream.options = {"preset": "veryfast", "crf": "18"}
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        if stream is not None:
            for packet in stream.encode():
                container.mux(packet)
    return path
