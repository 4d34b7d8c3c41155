"""Per-frame 3D pose without lookahead: what ``predict`` does to a whole video, done as each
frame arrives.

``predict`` (:mod:`dynapose.inference.lifted`) lifts the whole sequence at once: frame t's pose
comes from the 2D of the frames around it, past and future. Live, only the past exists. Per
frame :class:`CausalLifter`:

1. keeps the 2D keypoints of the last :attr:`CausalLifter.history_s` seconds (frames without a
   person are left out: the lifter's input there holds the last person seen, the causal form of
   ``predict``'s interpolation across gaps);
2. builds the lifter's window at the rate lifters learn at (:data:`LIFTER_FPS`), ending or centred
   on the newest frame: the 2D at times ``now + k * frame_stride / 50 s`` for the model's window
   offsets k, interpolated from the kept frames' timestamps (as ``predict`` resamples a video to
   50 frames/s), times before the first kept frame taking the first one's 2D (``predict``'s edge
   padding). A **centred** lifter (the shipped one: 81 frames at stride 2, 1.6 s each way) would
   read 1.6 s of future; its future half is filled with the newest frame, exactly as ``predict``
   pads the last frame of a video. So frame t's live pose is the pose ``predict`` gives frame t
   of the video cut at t (tested), and a **causal** checkpoint (``causal: true``, its window
   ending at the newest frame) needs no padding at all;
3. runs the network on that one window (:meth:`TemporalLifter.forward`, test-time flip as
   ``predict``), then rigid bones: one length per bone, the median of the lengths of the frames
   seen so far (:data:`BONE_HISTORY` at most), left and right averaged
   (:func:`dynapose.inference.refine.sequence_bone_lengths`), and the root placed by
   reprojection under the assumed intrinsics (:func:`dynapose.camera.solve_root_translation`),
   as ``predict`` does per frame.

What causality costs in accuracy is measured in docs/results.md (``## Live``).
"""

from __future__ import annotations

import collections
import os
from dataclasses import dataclass

import numpy as np
import torch

from dynapose.camera import MIN_WEIGHT, assumed_intrinsics, normalize_screen
from dynapose.inference.lifting import (
    LIFTER_FPS,
    load_default_lifter,
    load_lifter,
)
from dynapose.inference.refine import sequence_bone_lengths, with_bone_lengths
from dynapose.models.lifter import TemporalLifter, flip_keypoints
from dynapose.skeleton import BONES, NUM_JOINTS, bone_lengths, flip_permutation

#: Frames whose bone lengths make the running median (about 30 s at 30 frames/s).
BONE_HISTORY = 900


@dataclass
class LivePose:
    """One frame's result. found: a person was detected; keypoints (17, 2) px and confidence
    (17,) of the 2D (NaN / 0 without a person); joints (17, 3) mm, camera frame (x right, y
    down, z forward), rigid bones and the root placed (NaN without a person); lengths (16,) mm,
    the bone lengths in use (``BONES`` order; NaN before the first person)."""

    found: bool
    keypoints: np.ndarray
    confidence: np.ndarray
    joints: np.ndarray
    lengths: np.ndarray


class CausalLifter:
    """Root-relative 3D per frame from the 2D of that frame and earlier ones (module docstring).

    lifter: a lifter checkpoint folder, a TemporalLifter, or None for the shipped one. width,
    height: the frames' size in pixels. flip_tta: average with the mirrored input's prediction
    (``predict``'s default). rigid: one length per bone over the frames seen so far.
    """

    def __init__(self, width: int, height: int,
                 lifter: str | os.PathLike[str] | TemporalLifter | None = None,
                 flip_tta: bool = True, rigid: bool = True, device: str = "cpu") -> None:
        self.model = load_lifter(load_default_lifter() if lifter is None else lifter, device)
        self.width, self.height = int(width), int(height)
        self.flip_tta, self.rigid = flip_tta, rigid
        before, after = self.model.pad  # video frames at LIFTER_FPS before/after the output
        stride = self.model.frame_stride
        #: the window's offsets in seconds from the newest frame (> 0: the future, padded)
        self.offsets = np.arange(-before, after + 1, stride, dtype=np.float64) / LIFTER_FPS
        self.history_s = before / LIFTER_FPS
        self._times: collections.deque[float] = collections.deque()
        self._points: collections.deque[np.ndarray] = collections.deque()
        self._poses = np.zeros((BONE_HISTORY, NUM_JOINTS, 3))  # a ring of root-relative poses
        self._posed = 0  # poses put in the ring so far
        self.focal, self.cx, self.cy = assumed_intrinsics(self.width, self.height)
        self._device = next(self.model.parameters()).device
        self._perm = torch.as_tensor(flip_permutation(), device=self._device)

    @property
    def lookahead_s(self) -> float:
        """Seconds of future the network's window would read (filled with the newest frame)."""
        return float(max(self.offsets[-1], 0.0))

    def window(self, now: float) -> np.ndarray:
        """The lifter's input for the newest frame at time `now` (s): (R, 17, 2) px, each
        joint interpolated linearly over the kept frames at ``now + offsets`` (clamped to the
        kept span: the first kept frame before it, the newest after it)."""
        times = np.fromiter(self._times, dtype=np.float64, count=len(self._times))
        points = np.stack(self._points)  # (N, 17, 2)
        at = np.clip(now + self.offsets, times[0], times[-1])
        if len(times) == 1:
            return np.broadcast_to(points[0], (len(at), NUM_JOINTS, 2)).copy()
        right = np.clip(np.searchsorted(times, at, side="right"), 1, len(times) - 1)
        left = right - 1
        gap = times[right] - times[left]
        w = np.clip(np.divide(at - times[left], gap, out=np.zeros_like(at), where=gap > 0),
                    0.0, 1.0)[:, None, None]
        return points[left] * (1.0 - w) + points[right] * w

    def remember(self, time_s: float, keypoints: np.ndarray | None) -> None:
        """Keep frame `time_s`'s 2D (17, 2) px (None: no person, nothing kept) and forget what
        the window can no longer reach."""
        if keypoints is not None:
            if self._times and time_s <= self._times[-1]:  # a timestamp going back: start anew
                self._times.clear()
                self._points.clear()
            self._times.append(float(time_s))
            self._points.append(np.asarray(keypoints, dtype=np.float64))
        while len(self._times) > 2 and self._times[1] < self._times[-1] - self.history_s:
            self._times.popleft()
            self._points.popleft()

    @torch.no_grad()
    def lift_window(self, window_px: np.ndarray) -> np.ndarray:
        """One window (R, 17, 2) px -> the root-relative pose (17, 3) mm of its output frame."""
        x = torch.as_tensor(normalize_screen(window_px, self.width, self.height),
                            dtype=torch.float32, device=self._device)[None]
        if self.flip_tta:
            both = self.model(torch.cat([x, flip_keypoints(x)]))
            pred = 0.5 * (both[:1] + flip_keypoints(both[1:]))
        else:
            pred = self.model(x)
        return pred[0].double().cpu().numpy()

    def __call__(self, time_s: float, keypoints: np.ndarray | None,
                 confidence: np.ndarray | None = None) -> LivePose:
        """The pose of the frame at `time_s` (s) whose 2D is `keypoints` (17, 2) px (None: no
        person) with `confidence` (17,) (None: equal weights in the root's placement)."""
        self.remember(time_s, keypoints)
        conf = np.zeros(NUM_JOINTS) if confidence is None else np.asarray(confidence, np.float64)
        if keypoints is None:
            nan = np.full((NUM_JOINTS, 3), np.nan)
            return LivePose(False, np.full((NUM_JOINTS, 2), np.nan), np.zeros(NUM_JOINTS), nan,
                            self.lengths())
        px = np.asarray(keypoints, dtype=np.float64)
        rel = self.lift_window(self.window(time_s))
        self._poses[self._posed % BONE_HISTORY] = rel
        self._posed += 1
        if self.rigid:
            rel = with_bone_lengths(rel, self.lengths())
        root = root_translation(rel, px, None if confidence is None else conf,
                                self.focal, self.cx, self.cy)
        return LivePose(True, px, conf, rel + root,
                        self.lengths() if self.rigid else bone_lengths(rel))

    def lengths(self) -> np.ndarray:
        """The bone lengths in use (16,) mm: those of the frames seen so far (NaN before any
        person)."""
        if not self._posed:
            return np.full(len(BONES), np.nan)
        return sequence_bone_lengths(self._poses[: min(self._posed, BONE_HISTORY)])


def root_translation(joints: np.ndarray, pixels: np.ndarray, confidence: np.ndarray | None,
                     focal: float, cx: float, cy: float) -> np.ndarray:
    """One frame's :func:`dynapose.camera.solve_root_translation` (the same weighted least
    squares, (3,) mm) without the batched solver's BLAS thread hold, which costs about a
    millisecond per call to set up: one 3 x 3 system needs no threads to hold."""
    w = np.ones(len(joints)) if confidence is None else np.asarray(confidence, np.float64)
    if w.sum() <= MIN_WEIGHT:
        w = np.ones(len(joints))
    du, dv = pixels[:, 0] - cx, pixels[:, 1] - cy
    x, y, z = joints[:, 0], joints[:, 1], joints[:, 2]
    zeros, full = np.zeros_like(du), np.full_like(du, focal)
    a = np.concatenate([np.stack([full, zeros, -du], -1), np.stack([zeros, full, -dv], -1)])
    b = np.concatenate([du * z - focal * x, dv * z - focal * y])
    sw = np.sqrt(np.concatenate([w, w]))
    return np.linalg.lstsq(a * sw[:, None], b * sw, rcond=None)[0]


def lift_causal(keypoints: np.ndarray, times: np.ndarray, width: int, height: int,
                lifter: str | os.PathLike[str] | TemporalLifter | None = None,
                flip_tta: bool = True, rigid: bool = True) -> np.ndarray:
    """Every frame of a 2D sequence (T, 17, 2) px (NaN frames: no person) at `times` (T,) s
    lifted as live does it, each from its own past only: camera-frame joints (T, 17, 3) mm
    (NaN without a person). For comparing live with ``predict`` on a recorded clip."""
    live = CausalLifter(width, height, lifter, flip_tta=flip_tta, rigid=rigid)
    out = np.full((len(keypoints), NUM_JOINTS, 3), np.nan)
    for i, (t, px) in enumerate(zip(times, keypoints, strict=True)):
        found = bool(np.isfinite(px).all())
        out[i] = live(float(t), px if found else None).joints
    return out
