"""Writing frames as MP4 (H.264) or GIF, atomically, and the videos made of 3D views: the
side-by-side of `predict` (frame | 3D from the camera | 3D from the side) and the comparison
(frame | predicted 3D | true 3D) of held-out clips.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import cv2
import numpy as np
from av.container import OutputContainer
from av.video.stream import VideoStream
from PIL import Image

from dynapose.background import BackgroundWorker
from dynapose.errors import DynaPoseError
from dynapose.io.atomic import atomic_path
from dynapose.skeleton import NUM_JOINTS, PELVIS
from dynapose.viz.skeleton import Limits, draw_skeleton_2d, resize_image, skeleton_limits
from dynapose.viz.view3d import Skeleton3DRenderer, follow_view

VIDEO_SUFFIXES = (".mp4", ".gif")


def _check_frame(frame: Any, path: Path, first: tuple[int, ...] | None) -> np.ndarray:
    arr = np.asarray(frame)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise DynaPoseError(f"frames must be uint8 (H, W, 3), got {arr.dtype} {arr.shape}", path)
    if first is not None and arr.shape != first:
        raise DynaPoseError(f"frame size changed from {first} to {arr.shape}", path)
    return np.ascontiguousarray(arr)


class VideoWriter:
    """Frames pushed one at a time into an MP4 or GIF (by suffix), written atomically: the
    file appears whole at `close`, and nothing is left on an error or `abort`.

    Several writers can be fed from one loop (one decoding pass of a video, many outputs);
    frames are streamed for MP4, so memory stays flat in the video's length. MP4 frames are
    encoded on a thread of the writer's own (FFmpeg releases the GIL while it encodes), at most
    `ENCODE_QUEUE` frames behind the caller: the loop drawing the next frame, and the other
    writers' encoders, run beside it; x264 itself runs on that one thread (its own frame threads
    cost more CPU than they save on a busy 2-core machine). An error on that thread (a full
    disk...) is raised by the next `write` or by `close`. As a context manager it closes on
    success and aborts on an exception. Formats as :func:`write_video`.
    """

    #: Frames waiting for the encoder thread, at most (each one YUV 4:2:0 frame).
    ENCODE_QUEUE = 4

    def __init__(self, path: str | os.PathLike[str], fps: float = 25.0, crf: int = 20) -> None:
        dest = Path(path)
        suffix = dest.suffix.lower()
        if suffix not in VIDEO_SUFFIXES:
            raise DynaPoseError(
                f"unsupported video type {suffix or '(none)'!r}; use .mp4 or .gif", dest)
        if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
            raise DynaPoseError(f"frame rate must be a positive number, got {fps!r}", dest)
        self.path, self.fps, self.crf, self.count = dest, float(fps), crf, 0
        self._gif = suffix == ".gif"
        self._stack = contextlib.ExitStack()
        self._first: tuple[int, ...] | None = None
        self._pad = (0, 0)
        self._out: OutputContainer | None = None
        self._stream: VideoStream | None = None
        self._images: list[Image.Image] = []
        self._encoder: BackgroundWorker[np.ndarray] | None = None
        self._done = False
        try:
            self._tmp = self._stack.enter_context(atomic_path(dest))
        except OSError as exc:
            raise DynaPoseError(f"cannot write video: {exc.strerror or exc}", dest) from None

    def _start_mp4(self, shape: tuple[int, ...]) -> VideoStream:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        self._out = av.open(str(self._tmp), mode="w", format="mp4",
                            options={"movflags": "+faststart"})
        added = self._out.add_stream(codec, rate=Fraction(self.fps).limit_denominator(1001))
        assert isinstance(added, VideoStream)  # a video codec gives a video stream
        h, w = shape[:2]
        self._pad = (h % 2, w % 2)  # yuv420p needs even sizes
        added.width, added.height = w + self._pad[1], h + self._pad[0]
        added.pix_fmt = "yuv420p"
        if codec == "libx264":
            # veryfast with its motion search cut to the cheapest (diamond, one refinement):
            # a quarter less encoding time for a tenth more bytes on these videos, whose 3D
            # panels move as a whole when the view follows the person; one x264 thread (the
            # writer's own thread runs beside the caller's)
            added.options = {"crf": str(self.crf), "preset": "veryfast",
                             "x264-params": "me=dia:subme=1", "threads": "1"}
        self._encoder = BackgroundWorker(
            partial(self._encode, self._out, added), f"encode {self.path.name}",
            self.ENCODE_QUEUE, finish=partial(self._encode, self._out, added, None))
        return added

    @staticmethod
    def _encode(out: OutputContainer, stream: VideoStream, yuv: np.ndarray | None) -> None:
        """On the encoder's thread: one YUV 4:2:0 frame encoded and muxed (None: flushed)."""
        frame = None if yuv is None else av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        for packet in stream.encode(frame):
            out.mux(packet)

    def write(self, frame: np.ndarray) -> None:
        """Add one uint8 RGB frame (H, W, 3), the size of the first. A bad frame aborts the
        file (DynaPoseError)."""
        if self._done:
            raise DynaPoseError("video already closed", self.path)
        with self._cleanly():
            arr = _check_frame(frame, self.path, self._first)
            self._first = arr.shape
            if self._gif:
                self._images.append(
                    Image.fromarray(arr).quantize(256, method=Image.Quantize.FASTOCTREE))
            else:
                if self._stream is None:
                    self._stream = self._start_mp4(arr.shape)
                if self._pad != (0, 0):
                    arr = np.pad(arr, ((0, self._pad[0]), (0, self._pad[1]), (0, 0)), mode="edge")
                # OpenCV's RGB -> YUV 4:2:0 (BT.601, limited range, as FFmpeg's) is several
                # times faster than FFmpeg's swscale for RGB input; a new array, so the caller
                # may reuse its frame at once
                assert self._encoder is not None  # started with the stream
                self._encoder.put(np.asarray(cv2.cvtColor(arr, cv2.COLOR_RGB2YUV_I420),
                                             dtype=np.uint8))
            self.count += 1

    @contextlib.contextmanager
    def _cleanly(self) -> Iterator[None]:
        """On any error inside, drop the temporary file; an OSError (disk full...) becomes one
        DynaPoseError naming the video."""
        try:
            yield
        except OSError as exc:
            self._fail(exc)
            raise DynaPoseError(f"cannot write video: {exc.strerror or exc}", self.path) from None
        except BaseException as exc:
            self._fail(exc)
            raise

    def _fail(self, exc: BaseException) -> None:
        """Drop the temporary file (the destination stays as it was)."""
        if self._done:
            return
        self._done = True
        if self._encoder is not None:
            self._encoder.stop()
        if self._out is not None:
            with contextlib.suppress(Exception):
                self._out.close()
        with contextlib.suppress(BaseException):
            self._stack.__exit__(type(exc), exc, exc.__traceback__)

    def abort(self) -> None:
        """Stop without writing the file."""
        self._fail(DynaPoseError("aborted", self.path))

    def close(self) -> Path:
        """Finish the file and move it into place; returns its path. No frames is an error."""
        if self._done:
            raise DynaPoseError("video already closed", self.path)
        with self._cleanly():
            if self.count == 0:
                raise DynaPoseError("no frames to write", self.path)
            if self._gif:
                self._images[0].save(
                    self._tmp, format="GIF", save_all=True, append_images=self._images[1:],
                    duration=max(20, round(1000.0 / self.fps)), loop=0,
                )
                self._images = []
            else:
                assert self._out is not None and self._encoder is not None
                self._encoder.close()  # every frame encoded, the encoder flushed
                self._out.close()
        self._done = True
        try:
            self._stack.close()  # fsync and rename into place
        except OSError as exc:
            raise DynaPoseError(f"cannot write video: {exc.strerror or exc}", self.path) from None
        return self.path

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is not None:
            self._fail(exc)
        elif not self._done:
            self.close()


def write_video(
    frames: Iterable[np.ndarray],
    path: str | os.PathLike[str],
    fps: float = 25.0,
    crf: int = 20,
) -> Path:
    """Write uint8 RGB frames (H, W, 3), all one size, to `path` atomically; returns the path.

    The suffix picks the format: ``.mp4`` is H.264 (libx264 veryfast with the cheapest motion
    search, yuv420p, quality `crf`; an odd width or height is padded by one edge pixel to make
    it even), ``.gif`` is an endlessly looping GIF (Pillow, one fast-octree palette per frame;
    identical consecutive frames are merged into one longer frame, and GIF timing has 10 ms
    steps). Frames are streamed for MP4;
    a GIF keeps them in memory (1 byte per pixel). See :class:`VideoWriter` to feed frames one
    at a time (several files from one loop).
    """
    with VideoWriter(path, fps=fps, crf=crf) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.path


def _resize(image: np.ndarray, height: int) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    if h == height:
        return image, 1.0
    scale = height / h
    return resize_image(image, (max(1, round(w * scale)), height)), scale


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
    The 3D view is fixed for the whole sequence (`limits`, default fitted to all poses).
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


#: The two 3D views of the side-by-side video: (elev, azim) degrees and a caption.
SIDE_BY_SIDE_VIEWS: tuple[tuple[float, float, str], ...] = (
    (10.0, -90.0, "from the camera"),
    (10.0, 0.0, "from the side"),
)


class FollowViews:
    """3D views of one clip that follow the person (:func:`follow_view`): each frame centred on
    its pelvis, scaled to the body, on the floor and path given.

    joints: (F, 17, 3) mm camera frame (NaN rows: no person, the scenery alone is drawn);
    size: (H, W) px of each view; views: (elev, azim, title) per view, side by side in that
    order; floor, path: :meth:`Skeleton3DRenderer.set_scenery`'s scenery; show_axes: the
    direction marker and scale bar. `render(i)` gives frame i's views as one image.
    """

    def __init__(self, joints: np.ndarray, size: tuple[int, int],
                 views: Sequence[tuple[float, float, str | None]] = ((12.0, -70.0, None),),
                 floor: np.ndarray | None = None, path: np.ndarray | None = None,
                 show_axes: bool = False) -> None:
        self.joints = np.asarray(joints, dtype=np.float64).reshape(-1, NUM_JOINTS, 3)
        self.centres, half = follow_view(self.joints)
        self.views = []
        for elev, azim, title in views:
            view = Skeleton3DRenderer(size, colors=(None,), elev=elev, azim=azim,
                                      show_axes=show_axes, title=title)
            if len(self.centres):
                view.set_view(self.centres[0], half)
            view.set_scenery(floor, path)
            self.views.append(view)
        self._blank = np.full((NUM_JOINTS, 3), np.nan)

    def render(self, i: int) -> np.ndarray:
        pose = self.joints[i] if np.isfinite(self.joints[i]).all() else self._blank
        panels = [v.render(pose, centre=self.centres[i]) for v in self.views]
        return panels[0] if len(panels) == 1 else np.concatenate(panels, axis=1)


class SideBySide:
    """Frames of `predict`'s side_by_side.mp4: [the frame with its 2D skeleton | the 3D
    skeleton seen from the camera | seen from the side], each `height` px high (made even), in
    the overlay's left/right colours; the 3D views follow the person (:class:`FollowViews`).

    points_2d (F, 17, 2) px in the frames that `frame` will be given; joints (F, 17, 3) mm
    camera frame (NaN: no person, nothing drawn); floor, path: the scenery of
    :meth:`Skeleton3DRenderer.set_scenery` (floor grid segments and trajectory).
    """

    def __init__(self, points_2d: np.ndarray, joints: np.ndarray, height: int = 360,
                 floor: np.ndarray | None = None, path: np.ndarray | None = None) -> None:
        self.height = height + height % 2
        self.points_2d = np.asarray(points_2d, dtype=np.float64)
        self.views = FollowViews(joints, (self.height, self.height), SIDE_BY_SIDE_VIEWS,
                                 floor, path)

    def __len__(self) -> int:
        return len(self.views.joints)

    def frame(self, i: int, image: np.ndarray) -> np.ndarray:
        """The side-by-side frame of video frame i (uint8 (H, W, 3), any size)."""
        left, scale = _resize(np.asarray(image), self.height)
        left = draw_skeleton_2d(left, self.points_2d[i] * scale)
        return np.concatenate([left, self.views.render(i)], axis=1)


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
    :meth:`Skeleton3DRenderer.set_scenery` (floor grid segments and trajectory). The 3D views
    follow the person: centred on the pelvis, scaled to the body (:class:`SideBySide`).
    """
    panels = SideBySide(points_2d, joints, height, floor, path)
    for i, frame in enumerate(frames):
        if i >= len(panels):
            break
        yield panels.frame(i, frame)


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
