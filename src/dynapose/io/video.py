"""Video decoding with PyAV: open and validate a file, then stream its frames as RGB uint8.

Any container and codec FFmpeg reads (mp4, mov, mkv, webm, avi, ...), any resolution up to
:data:`MAX_FRAME_AREA`, any frame rate, as phones and editors write them:

* **Frames are what the stream presents.** Edit lists (a trimmed start), B-frame reordering and
  variable frame rate are left to FFmpeg; the container's frame count and duration are hints
  (:attr:`VideoInfo.num_frames`, :attr:`VideoInfo.duration`), never a reason to refuse a file.
* **Each frame is timed by its own timestamp**: pts x time_base, in seconds from the first
  presented frame (:attr:`Frame.time`; :func:`frame_times` for the times alone).
* **Display matrix applied** (portrait phone video is stored landscape with a rotation): quarter
  turns and mirroring as FFmpeg's own autorotate does, so frames come out upright and the probed
  width and height are the displayed ones.
* **Bounded memory**: frames are streamed one at a time (the decoder holds a few in flight), so
  memory does not grow with the video's length; `size` resizes while converting to RGB.

Bad input raises :class:`~dynapose.errors.DynaPoseError` naming the file: not a video, no video
stream, frames larger than :data:`MAX_FRAME_AREA` (refused from the header, before any frame is
decoded), a file shorter than its own container structure says (truncated; MP4/MOV, Matroska/WebM
and AVI are checked before decoding), no frames, or data the decoder rejects (corrupt; found while
decoding, so the error may come after some frames were yielded: callers write their outputs only
once the stream is done).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from av.video.stream import VideoStream

from dynapose.errors import DynaPoseError
from dynapose.io.containers import check_not_cut

#: Largest frame area (width x height, pixels) accepted: 8192 x 8192 = 67.1 Mpx, which takes
#: 8K UHD (7680 x 4320) and DCI 8K (8192 x 4320) either way up. A bigger header is refused
#: before anything is decoded: one RGB frame of that size is already 201 MB, and FFmpeg's decoder
#: is told the same limit (its ``max_pixels``) for streams that change size midway.
MAX_FRAME_AREA = 8192 * 8192


#: (quarter turns counter-clockwise, then mirror left-right): how a decoded frame is made upright.
Orientation = tuple[int, bool]


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about its video stream, and the size of its first frame.

    width, height: upright frame size in pixels (after the display matrix). fps: average frame
    rate (frames/s; a guess for variable-rate video). num_frames: frame count the container
    declares, or duration x fps when it declares none (0 when unknown): a hint only, since edit
    lists, variable frame rate and damaged headers make it differ from the frames decoded.
    duration: declared seconds (0.0 when unknown), also a hint. rotation: degrees
    counter-clockwise turned to make frames upright (0, 90, 180, 270); mirrored: flipped left-right
    after that turn.
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
    mirrored: bool = False

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
            "mirrored": self.mirrored,
        }


@dataclass(frozen=True)
class Frame:
    """One decoded frame. image: (H, W, 3) uint8 RGB, upright; time: seconds from the first
    presented frame, from the frame's own timestamp (pts x time_base)."""

    index: int
    time: float
    image: np.ndarray


#: Told of damage found in a video (one line, without the file's name) when decoding goes on
#: past it: see :func:`iter_frames`'s `on_damage`.
DamageReport = Callable[[str], None]


def _open(path: Path, on_damage: DamageReport | None = None
          ) -> tuple[av.container.InputContainer, VideoStream]:
    """Open `path` and pick its video stream; refuses what cannot be decoded safely (a cut file
    is only reported to `on_damage` when given)."""
    if not path.exists():
        raise DynaPoseError("video not found", path)
    if not path.is_file():
        raise DynaPoseError("not a file", path)
    if path.stat().st_size == 0:
        raise DynaPoseError("empty file, not a video", path)
    try:
        check_not_cut(path)
    except DynaPoseError as exc:
        if on_damage is None:
            raise
        on_damage(exc.problem)
    try:
        # max_pixels: decoders probing the stream (find_stream_info) refuse oversized frames
        # instead of allocating them
        container = av.open(str(path), mode="r", options={"max_pixels": str(MAX_FRAME_AREA)})
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise _open_error(path, exc) from exc
    try:
        stream = _video_stream(path, container)
    except BaseException:
        container.close()
        raise
    return container, stream


def _video_stream(path: Path, container: av.container.InputContainer) -> VideoStream:
    if not container.streams.video:
        raise DynaPoseError("has no video stream (no video frames)", path)
    # best: FFmpeg's choice, which passes over cover art (attached pictures)
    stream = cast(VideoStream, container.streams.best("video") or container.streams.video[0])
    if stream.codec_context is None:
        raise DynaPoseError("no decoder for its video codec in this FFmpeg build", path)
    width, height = int(stream.codec_context.width), int(stream.codec_context.height)
    _check_area(path, width, height)
    stream.codec_context.options = {"max_pixels": str(MAX_FRAME_AREA)}
    return stream


def _check_area(path: Path, width: int, height: int) -> None:
    if width * height > MAX_FRAME_AREA:
        raise DynaPoseError(
            f"frame size {width}x{height} ({width * height / 1e6:.0f} Mpx) is over the maximum "
            f"frame area of {MAX_FRAME_AREA / 1e6:.1f} Mpx (dynapose.io.video.MAX_FRAME_AREA)",
            path,
        )


#: FFmpeg's complaint about an impossible frame size (libavutil imgutils).
_PICTURE_SIZE = re.compile(r"Picture size (\d+)x(\d+) is invalid")


def _open_error(path: Path, exc: BaseException) -> DynaPoseError:
    """The DynaPoseError for a file FFmpeg could not open, with FFmpeg's own reason."""
    detail = _ffmpeg_complaint(path)
    size = _PICTURE_SIZE.search(detail or "")
    if size:  # FFmpeg refused the header's frame size before allocating it
        width, height = int(size.group(1)), int(size.group(2))
        _check_area(path, width, height)
        return DynaPoseError(f"frame size {width}x{height} is invalid", path)
    reason = _reason(exc)
    if detail and detail not in reason:
        reason = f"{reason}: {detail}"
    return DynaPoseError(f"not a readable video ({reason})", path)


def _ffmpeg_complaint(path: Path) -> str | None:
    """FFmpeg's last error line when opening `path`, or None.

    PyAV keeps FFmpeg's log lines only while its logging is on, which costs time on every
    decoded frame, so it stays off and a failed open is repeated here with it on, once.
    """
    level = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture() as logs:
            try:
                av.open(str(path), mode="r", options={"max_pixels": str(MAX_FRAME_AREA)}).close()
            except (av.error.FFmpegError, UnicodeDecodeError, ValueError):
                pass
    finally:
        av.logging.set_level(level)
    lines = [" ".join(msg.split()) for lvl, _, msg in logs if lvl <= av.logging.ERROR]
    return lines[-1] if lines else None


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


def _display_matrix(frame: av.VideoFrame) -> np.ndarray | None:
    """The frame's 3x3 display matrix (int32, FFmpeg's layout: 16.16 fixed point), or None."""
    for data in getattr(frame, "side_data", ()):
        kind = getattr(data, "type", None)
        if getattr(kind, "name", str(kind)).upper().endswith("DISPLAYMATRIX"):
            raw = bytes(data)
            if len(raw) == 36:
                return np.frombuffer(raw, dtype=np.int32)
    return None


def _matrix_orientation(m: np.ndarray) -> Orientation:
    """How to make a frame upright under display matrix `m`: FFmpeg's autorotate rules
    (fftools), restricted to quarter turns and mirroring (other angles are left as decoded)."""
    a, b, c, d = (float(m[i]) for i in (0, 1, 3, 4))
    if math.hypot(a, c) == 0 or math.hypot(b, d) == 0:
        return 0, False
    # av_display_rotation_get: counter-clockwise degrees; fftools' theta is clockwise, [0, 360)
    ccw = -math.degrees(math.atan2(b / math.hypot(b, d), a / math.hypot(a, c)))
    theta = float(-round(ccw))
    theta -= 360 * math.floor(theta / 360 + 0.9 / 360)
    if abs(theta - 90) < 1:
        return (3, True) if c > 0 else (3, False)  # transpose, or a quarter turn clockwise
    if abs(theta - 180) < 1:
        return {(True, True): (2, False), (True, False): (0, True),
                (False, True): (2, True), (False, False): (0, False)}[(a < 0, d < 0)]
    if abs(theta - 270) < 1:
        return (1, True) if c < 0 else (1, False)  # anti-transpose, or counter-clockwise
    if abs(theta) < 1 and d < 0:
        return 2, True  # upside-down mirror image: a vertical flip
    return 0, False


def _tag_orientation(stream: VideoStream) -> Orientation:
    """From the legacy ``rotate`` tag (clockwise degrees), which older FFmpeg builds export
    instead of a display matrix."""
    try:
        clockwise = int(float(stream.metadata.get("rotate", 0)))
    except ValueError:
        return 0, False
    return (-round(clockwise / 90)) % 4, False


class _Orienter:
    """Each frame's orientation, from its display matrix, else the stream's ``rotate`` tag.

    The matrix is read again only when the frame's rotation angle changes: reading
    ``frame.side_data`` ties the frame in a reference cycle that only the cyclic garbage
    collector frees, so doing it on every frame kept whole 4K frames alive by the hundred.
    """

    def __init__(self, stream: VideoStream) -> None:
        self._fallback = _tag_orientation(stream)
        self._angle: object = None
        self._orientation: Orientation | None = None

    def __call__(self, frame: av.VideoFrame) -> Orientation:
        angle = getattr(frame, "rotation", None)  # computed in C: no reference cycle
        if self._orientation is None or angle != self._angle:
            matrix = _display_matrix(frame)
            self._orientation = (self._fallback if matrix is None
                                 else _matrix_orientation(matrix))
            self._angle = angle
        return self._orientation


def _upright(image: np.ndarray, orientation: Orientation) -> np.ndarray:
    turns, mirror = orientation
    if turns == 0 and not mirror:
        return image
    out = np.rot90(image, k=turns)
    if mirror:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


def _fps(stream: VideoStream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and float(rate) > 0:
            return float(rate)
    return 0.0


def _decoded(
    path: Path, container: av.container.InputContainer, stream: VideoStream, threads: bool,
    on_damage: DamageReport | None = None,
) -> Generator[tuple[av.VideoFrame, float], None, None]:
    """(frame, seconds from the first frame) for every frame the stream presents, in display
    order. A frame without a timestamp is put one average frame interval after the previous.

    Data the decoder rejects ends the frames there: a DynaPoseError, or, with `on_damage`, one
    line told to it after every frame before the damage was given. (The decoder drops the
    frames it holds -- frame threads, B-frame reordering -- when a packet fails, so with
    `on_damage` those are decoded again from the start, on one thread, packet by packet.)"""
    if threads:
        stream.thread_type = "AUTO"
    time_base = stream.time_base or Fraction(1, 1)
    fps = _fps(stream)
    step = 1.0 / fps if fps > 0 else 0.0
    start: float | None = None
    t = 0.0
    n = 0
    error: av.error.FFmpegError | None = None
    try:
        for frame in container.decode(stream):
            _check_area(path, frame.width, frame.height)
            t = float(frame.pts * time_base) if frame.pts is not None else t + step
            start = t if start is None else start
            yield frame, t - start
            n += 1
    except av.error.FFmpegError as exc:
        error = exc
    if error is not None and on_damage is not None:
        again = av.open(str(path), mode="r", options={"max_pixels": str(MAX_FRAME_AREA)})
        try:
            seen = 0
            for frame in _until_damage(again, _video_stream(path, again)):
                seen += 1
                if seen > n:
                    t = float(frame.pts * time_base) if frame.pts is not None else t + step
                    start = t if start is None else start
                    yield frame, t - start
                    n += 1
        finally:
            again.close()
    if error is not None:
        message = f"corrupt video: decoding failed after {n} frames ({_reason(error)})"
        if on_damage is None or n == 0:
            raise DynaPoseError(message, path) from error
        on_damage(message)
    if n == 0:
        raise DynaPoseError("no video frames could be decoded (empty, truncated or corrupt)", path)


def _until_damage(container: av.container.InputContainer, stream: VideoStream
                  ) -> Iterator[av.VideoFrame]:
    """The frames of `stream` decoded on one thread, packet by packet, up to the first packet
    the demuxer or the decoder rejects; then those the decoder still holds (reordering)."""
    try:
        for packet in container.demux(stream):
            yield from packet.decode()
    except av.error.FFmpegError:
        with contextlib.suppress(av.error.FFmpegError):
            yield from stream.codec_context.decode(None)


def _info(
    path: Path,
    container: av.container.InputContainer,
    stream: VideoStream,
    first: av.VideoFrame,
    orientation: Orientation,
) -> VideoInfo:
    fps = _fps(stream)
    duration = 0.0
    if stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    elif container.duration:
        duration = container.duration / av.time_base
    num_frames = int(stream.frames or 0)
    if num_frames <= 0 and duration > 0 and fps > 0:
        num_frames = round(duration * fps)
    width, height = int(first.width), int(first.height)
    if orientation[0] % 2:
        width, height = height, width
    return VideoInfo(
        path=str(path),
        width=width,
        height=height,
        fps=fps,
        num_frames=num_frames,
        duration=duration,
        codec=str(stream.codec_context.name),
        container=str(container.format.name),
        rotation=90 * orientation[0],
        mirrored=orientation[1],
    )


def probe_video(path: str | os.PathLike[str], on_damage: DamageReport | None = None
                ) -> VideoInfo:
    """Open `path`, check it holds a video stream with a decodable first frame; its VideoInfo.

    Decodes only the first frame (for its size and display matrix); :func:`iter_frames` finds
    corrupt data further on. on_damage: a file cut short is told to it, not refused.
    """
    path = Path(path)
    container, stream = _open(path, on_damage)
    frames = _decoded(path, container, stream, threads=False, on_damage=on_damage)
    try:
        first, _ = next(frames)  # raises DynaPoseError when there is none
        return _info(path, container, stream, first, _Orienter(stream)(first))
    finally:
        frames.close()
        container.close()


def iter_frames(
    path: str | os.PathLike[str],
    size: tuple[int, int] | None = None,
    threads: bool = True,
    on_damage: DamageReport | None = None,
    wanted: Callable[[int], bool] | None = None,
) -> Iterator[Frame]:
    """Decode `path` frame by frame: yields :class:`Frame` (RGB uint8, upright) in display order,
    every frame the stream presents, each with its own time (see the module docstring).

    size: optional upright (width, height) to scale every frame to while converting to RGB (one
    swscale pass with area averaging, much faster than converting at full size and resizing
    after; use it for large video a caller needs smaller). threads: let FFmpeg decode with
    several threads. Raises DynaPoseError for no frames or undecodable data (corrupt).
    on_damage: given, a file cut short (its container says it is longer) or data the decoder
    rejects after some frames is told to it in one line, and the frames decoded before are
    all there is (no error); a file with no decodable frame is still an error.
    wanted: given, only the frames n with ``wanted(n)`` are converted and yielded (asked as
    each is decoded, so the answer may follow what the caller has seen).
    """
    path = Path(path)
    container, stream = _open(path, on_damage)
    frames = _decoded(path, container, stream, threads, on_damage)
    try:
        orient = _Orienter(stream)
        for n, (frame, t) in enumerate(frames):
            if wanted is not None and not wanted(n):
                continue
            orientation = orient(frame)
            if size is not None:
                out_w, out_h = size if orientation[0] % 2 == 0 else size[::-1]  # scale, then turn
                image = frame.to_ndarray(
                    width=out_w, height=out_h, format="rgb24", interpolation="AREA"
                )
            else:
                image = frame.to_ndarray(format="rgb24")
            yield Frame(index=n, time=t, image=_upright(image, orientation))
    finally:
        frames.close()
        container.close()


def frame_times(path: str | os.PathLike[str], threads: bool = True) -> np.ndarray:
    """(F,) float64: the time (s, from the first frame) of every frame of `path`, as
    :func:`iter_frames` gives them. Decodes the whole stream (edit lists and dropped frames are
    the decoder's to settle) but converts no pixels."""
    path = Path(path)
    container, stream = _open(path)
    try:
        return np.fromiter((t for _, t in _decoded(path, container, stream, threads)),
                           dtype=np.float64)
    finally:
        container.close()


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


def ignore_damage(damage: str) -> None:
    """An `on_damage` that lets decoding go on past damage it leaves to another pass to report."""
