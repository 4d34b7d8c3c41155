"""``dynapose live``: a camera, a stream or a video file to 3D joints in real time, shown, sent and
recorded as it goes.

Per frame (:func:`run_live`): the capture thread's newest frame (:mod:`dynapose.live.source`) ->
MediaPipe's 2D keypoints (:class:`dynapose.inference.mediapipe.MediaPipePose`) -> the causal
lifter, rigid bones and root placement (:mod:`dynapose.live.pose`) -> the world frame
(:class:`dynapose.live.vmc.LiveWorld`) -> sent: the VMC protocol over OSC
(:mod:`dynapose.live.vmc`), JSON over WebSocket (:mod:`dynapose.live.server`) -> then shown (an
OpenCV window or the browser page) and recorded (:mod:`dynapose.live.record`). Latency is
measured from the frame's capture to the end of its sending.

The session ends when the source ends (a file), after `max_frames` or `seconds`, when the window
is closed, or on Ctrl-C (SIGINT: the loop stops after its frame, and the recording is written
whole; a second Ctrl-C interrupts at once). A camera or stream that vanishes, a URL that does not
answer, a busy port: DynaPoseError (one line), with the recording of what was seen written
first.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import torch

from dynapose.errors import DynaPoseError
from dynapose.inference.mediapipe import MediaPipePose
from dynapose.inference.writer import VISUALS
from dynapose.io.atomic import check_output
from dynapose.live.detect import STALL_S, DetectAhead
from dynapose.live.pose import CausalLifter, LivePose
from dynapose.live.record import Recorder
from dynapose.live.server import PoseServer, hello, parse_address
from dynapose.live.source import FrameSource, describe, open_source, parse_source
from dynapose.live.vmc import LiveWorld, VmcSender, humanoid_pose, vmc_messages
from dynapose.live.window import Window, has_display
from dynapose.models.lifter import TemporalLifter

View = Literal["auto", "window", "browser", "none"]
VIEWS: tuple[str, ...] = ("auto", "window", "browser", "none")
#: Longest side (px) of the pictures sent to the browser page.
BROWSER_MAX_SIDE = 640
#: The browser view's default port (0: any free one).
BROWSER_PORT = 8765
#: MediaPipe BlazePose's landmark models by model_complexity.
POSE_MODELS = {0: "lite", 1: "full", 2: "heavy"}


@dataclass
class LiveSummary:
    """What a session did. frames: processed; captured: read from the source (dropped: read
    but never processed, the loop being busy); found: frames with a person; seconds: from the
    first processed frame to the last; latency_ms: per processed frame, capture to sent;
    frame_times: per processed frame, its time in the source (s);
    stages_ms: per stage (detect, lift, send, view, record), per frame; stopped: why it
    ended (``end``, ``frames``, ``seconds``, ``window``, ``interrupted``, or the source's
    error); osc_bundles: bundles sent; clients: WebSocket connections seen; urls: where the
    servers answer; files: the recording's files by kind."""

    source: str
    width: int
    height: int
    source_fps: float
    frames: int = 0
    captured: int = 0
    dropped: int = 0
    found: int = 0
    seconds: float = 0.0
    latency_ms: list[float] = field(default_factory=list)
    frame_times: list[float] = field(default_factory=list)
    stages_ms: dict[str, list[float]] = field(default_factory=dict)
    stopped: str = ""
    osc_bundles: int = 0
    clients: int = 0
    urls: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def frames_per_s(self) -> float:
        return (self.frames - 1) / self.seconds if self.frames > 1 and self.seconds > 0 else 0.0

    def latency(self) -> dict[str, float]:
        """Median and 95th percentile of the capture-to-sent latency, ms (NaN: no frame)."""
        lat = np.asarray(self.latency_ms, dtype=np.float64)
        if not len(lat):
            return {"median_ms": float("nan"), "p95_ms": float("nan")}
        return {"median_ms": float(np.median(lat)), "p95_ms": float(np.percentile(lat, 95))}

    def stage_medians(self) -> dict[str, float]:
        """Median ms of each stage per frame."""
        return {k: float(np.median(v)) for k, v in self.stages_ms.items() if v}

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source, "size": [self.width, self.height],
            "source_fps": round(self.source_fps, 3), "frames": self.frames,
            "captured": self.captured, "dropped": self.dropped, "found": self.found,
            "seconds": round(self.seconds, 3), "frames_per_s": round(self.frames_per_s, 2),
            **{k: round(v, 2) for k, v in self.latency().items()},
            "stages_median_ms": {k: round(v, 2) for k, v in self.stage_medians().items()},
            "stopped": self.stopped, "osc_bundles": self.osc_bundles, "clients": self.clients,
            "urls": self.urls, "files": {k: os.fspath(v) for k, v in self.files.items()},
        }


def check_pose_model(model_complexity: int) -> None:
    """DynaPoseError unless MediaPipe's landmark model of `model_complexity` is installed (the
    wheel ships only the full one; MediaPipe would download the others at first use)."""
    if model_complexity not in POSE_MODELS:
        raise DynaPoseError(f"--pose-model takes {', '.join(POSE_MODELS.values())}")
    if model_complexity == 1:
        return
    spec = find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        return  # MediaPipePose names what is missing
    name = f"pose_landmark_{POSE_MODELS[model_complexity]}.tflite"
    path = Path(next(iter(spec.submodule_search_locations))) / "modules" / "pose_landmark" / name
    if not path.is_file():
        raise DynaPoseError(f"MediaPipe's {POSE_MODELS[model_complexity]} pose model is not "
                            "installed (the wheel ships the full one only; place the model "
                            "file here to use it)", path)


@contextlib.contextmanager
def _stop_on_sigint(stop: threading.Event) -> Iterator[None]:
    """The first SIGINT sets `stop`; a second one interrupts (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def frame_message(index: int, time_s: float, width: int, height: int, pose: LivePose,
                  world: np.ndarray | None) -> dict[str, Any]:
    """A frame's JSON message (``--json-ws``, the browser page): docs/live.md."""
    found = pose.found

    def rows(a: np.ndarray | None, digits: int) -> list[list[float]] | None:
        return None if a is None or not found else np.round(a, digits).tolist()

    return {
        "type": "frame", "frame": index, "time_s": round(time_s, 6), "found": found,
        "image_size": [width, height],
        "keypoints_2d": rows(pose.keypoints, 2),
        "confidence": np.round(pose.confidence, 3).tolist() if found else None,
        "joints_camera_mm": rows(pose.joints, 1),
        "joints_world_mm": rows(world, 1),
        "bone_lengths_mm": (np.round(pose.lengths, 1).tolist()
                            if np.isfinite(pose.lengths).all() else None),
    }


def _jpeg(image: np.ndarray) -> bytes:
    h, w = image.shape[:2]
    scale = min(1.0, BROWSER_MAX_SIDE / max(h, w))
    if scale < 1.0:
        image = cv2.resize(image, (round(w * scale), round(h * scale)),
                           interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, 75])
    return data.tobytes() if ok else b""


def _method(lifter: CausalLifter, model_complexity: int) -> dict[str, Any]:
    return {
        "live": {
            "causal": True,
            "lookahead_s": 0.0,
            "window": (f"the lifter's window of {lifter.model.receptive_field} frames at stride "
                       f"{lifter.model.frame_stride} (50 frames/s) ending at the newest frame"
                       if lifter.lookahead_s == 0 else
                       f"the lifter's centred window of {lifter.model.receptive_field} frames "
                       f"at stride {lifter.model.frame_stride} (50 frames/s): its past half "
                       "from the frames seen, its future half "
                       f"({lifter.lookahead_s:.2f} s) filled with the newest frame"),
            "bones": "rigid: the median of the lengths over the frames seen so far, left and "
                     "right averaged" if lifter.rigid else "as the lifter predicted them",
            "root": "placed by reprojection per frame under assumed intrinsics (as predict)",
            "keypoints": f"MediaPipe BlazePose {POSE_MODELS[model_complexity]}, mapped 33 -> 17",
            "frames": "the frames processed; frames dropped while the loop was busy are not "
                      "in the recording (time_s keeps the real times)",
        },
        "projection": {"assumed": True, "focal_px": round(lifter.focal, 3),
                       "principal_point": [lifter.cx, lifter.cy], "distortion": "none"},
    }


def run_live(
    source: str | int | os.PathLike[str] = 0,
    *,
    lifter: str | os.PathLike[str] | TemporalLifter | None = None,
    view: View = "none",
    port: int = BROWSER_PORT,
    record: str | os.PathLike[str] | None = None,
    visuals: Sequence[str] = VISUALS,
    overwrite: bool = False,
    osc: str | None = None,
    json_ws: str | None = None,
    pose_model: int = 1,
    flip_tta: bool = True,
    rigid: bool = True,
    max_frames: int | None = None,
    seconds: float | None = None,
    on_frame: Callable[[int, LiveSummary], None] | None = None,
    on_start: Callable[[dict[str, str]], None] | None = None,
    overlap: bool = False,
) -> LiveSummary:
    """Run a live session (module docstring) and return its :class:`LiveSummary`.

    source: a camera index, a stream URL or a video file (played at its own rate).
    lifter: a lifter checkpoint (None: the shipped one). view: "window" (OpenCV), "browser" (a
    page on http://127.0.0.1:`port`/), "none", or "auto" (a window where a display exists, else
    none). record: a folder to write what ``predict`` writes for the frames seen, with
    `visuals`. osc: ``HOST:PORT`` to send the VMC protocol to. json_ws: ``HOST:PORT`` to serve
    per-frame JSON on (``ws://HOST:PORT/ws``). pose_model: MediaPipe's model complexity (0 lite,
    1 full, 2 heavy; only full ships with MediaPipe). max_frames, seconds: stop after that many
    processed frames or seconds. on_frame: called after each frame with its number and the
    summary so far (a progress line); on_start: called once ready, with where the servers
    answer (``LiveSummary.urls``). overlap: run MediaPipe one frame ahead in a thread of its
    own (:mod:`dynapose.live.detect`; faster only where a core is free for it: docs/results.md);
    False: every stage in turn.
    """
    if view not in VIEWS:
        raise DynaPoseError(f"--view takes {', '.join(VIEWS)}, got {view!r}")
    if view == "auto":
        view = "window" if has_display() else "none"
    check_pose_model(pose_model)
    osc_target = None if osc is None else parse_address(osc, "--osc")
    ws_target = None if json_ws is None else parse_address(json_ws, "--json-ws")
    if record is not None:
        check_output(record, folder=True, overwrite=overwrite)
    spec = parse_source(os.fspath(source) if not isinstance(source, int) else source)
    stop = threading.Event()
    with contextlib.ExitStack() as stack:
        stack.enter_context(_stop_on_sigint(stop))
        src: FrameSource = stack.enter_context(open_source(spec))
        summary = LiveSummary(describe(spec), src.width, src.height, src.fps)
        window = Window() if view == "window" else None
        if window is not None:
            stack.callback(window.close)
        browser = None
        if view == "browser":
            browser = PoseServer("127.0.0.1", port, hello(src.width, src.height, summary.source),
                                 page=True, option="--port")
            stack.callback(browser.close)
            summary.urls["browser"] = browser.url
        ws = None
        if ws_target is not None:
            ws = PoseServer(*ws_target, hello(src.width, src.height, summary.source))
            stack.callback(ws.close)
            summary.urls["json_ws"] = ws.url
        sender = None
        if osc_target is not None:
            sender = VmcSender(*osc_target)
            stack.callback(sender.close)
            summary.urls["osc"] = sender.target
        stack.enter_context(_torch_threads(1))  # one small window per frame: one thread is best
        causal = CausalLifter(src.width, src.height, lifter, flip_tta=flip_tta, rigid=rigid)
        detector = MediaPipePose(pose_model, alternative="")
        stack.callback(detector.close)
        recorder = None
        if record is not None:
            model = {"name": "lifter", "config": dict(causal.model.config),
                     "checkpoint": "(in memory)" if isinstance(lifter, TemporalLifter) else
                     os.fspath(lifter) if lifter is not None else "(shipped: lifter-cmu)",
                     "backend": "torch", "receptive_field": causal.model.receptive_field,
                     "flip_tta": flip_tta, "rigid_bones": rigid}
            recorder = Recorder(record, visuals, model, _method(causal, pose_model), overwrite)
        world = LiveWorld(src.fps)
        stages: dict[str, list[float]] = {k: [] for k in ("detect", "lift", "send", "view",
                                                           "record")}
        summary.stages_ms = stages
        first = last = None
        error: DynaPoseError | None = None
        if on_start is not None:
            on_start(dict(summary.urls))
        ahead = DetectAhead(src, detector, stop, overlap)
        stack.callback(ahead.close)  # before the detector closes (callbacks run last first)
        try:
            while not stop.is_set():
                detected = ahead.next()
                if detected is None:
                    if stop.is_set():
                        summary.stopped = "interrupted"
                    elif src.error is not None:
                        error = src.error
                        summary.stopped = "vanished"
                    elif not src.ended:
                        error = DynaPoseError(f"no frame for {STALL_S:g} s (the camera or "
                                              "stream stalled)", summary.source)
                        summary.stopped = "stalled"
                    else:
                        summary.stopped = "end"
                    break
                frame, found = detected.frame, detected.keypoints
                t1 = time.perf_counter()
                pose = causal(frame.time, None if found is None else found[0],
                              None if found is None else found[1])
                t2 = time.perf_counter()
                frame_world = world.update(pose.joints)
                world_joints = None
                if pose.found and frame_world is not None:
                    world_joints = frame_world.to_world(pose.joints)
                if sender is not None:
                    humanoid = None if world_joints is None else \
                        humanoid_pose(world_joints, pose.lengths)
                    sender.send(vmc_messages(humanoid, frame.time))
                if ws is not None or (browser is not None and browser.clients):
                    message = frame_message(frame.index, frame.time, src.width, src.height,
                                            pose, world_joints)
                    if ws is not None:
                        ws.publish(message)
                    if browser is not None:
                        browser.publish(message, _jpeg(frame.image))
                t3 = time.perf_counter()
                summary.latency_ms.append((t3 - frame.captured) * 1000.0)
                summary.frame_times.append(frame.time)
                keep = True
                if window is not None:
                    keep = window.show(frame.image, pose.keypoints, pose.joints)
                t4 = time.perf_counter()
                if recorder is not None:
                    recorder.add(frame.image, frame.time, pose.keypoints, pose.confidence,
                                 pose.joints, pose.found)
                t5 = time.perf_counter()
                stages["detect"].append(detected.detect_ms)
                for key, a, b in (("lift", t1, t2), ("send", t2, t3), ("view", t3, t4),
                                  ("record", t4, t5)):
                    stages[key].append((b - a) * 1000.0)
                first = frame.captured if first is None else first
                last = frame.captured
                summary.frames += 1
                summary.found += int(pose.found)
                if on_frame is not None:
                    on_frame(summary.frames, summary)
                if not keep:
                    summary.stopped = "window"
                    break
                if max_frames is not None and summary.frames >= max_frames:
                    summary.stopped = "frames"
                    break
                if seconds is not None and last - first >= seconds:
                    summary.stopped = "seconds"
                    break
            else:
                summary.stopped = "interrupted"
        finally:
            ahead.close()
            summary.captured, summary.dropped = src.captured, src.dropped + ahead.dropped
            summary.seconds = 0.0 if first is None or last is None else last - first
            summary.osc_bundles = 0 if sender is None else sender.sent
            summary.clients = sum(s.clients_seen for s in (ws, browser) if s is not None)
            src.close()
            if recorder is not None:  # whatever ended the loop: keep what was seen
                summary.files = recorder.finish()
        if error is not None:
            kept = f"; the {summary.frames} frames seen are in {record}" if summary.files else ""
            raise DynaPoseError(error.problem + kept, error.path)
    return summary
