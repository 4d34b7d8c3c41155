"""Does the camera move? The background's motion between frames, measured cheaply while a video
is decoded for the 2D detector.

Joints are found in the camera frame; a trajectory over the floor is the person's own only when
the camera stands still. A camera that pans, tilts or zooms moves the background in the picture,
so per frame (:class:`CameraMotion`): the frame scaled down to :data:`WORK_WIDTH` px wide, in
grey; up to 120 corners (``cv2.goodFeaturesToTrack``) outside the people's boxes (each enlarged
by :data:`BOX_MARGIN` of its size; people move, the background does not); tracked into the
next frame (pyramidal Lucas-Kanade); a similarity transform (shift, zoom, turn) fitted to them
with RANSAC (``cv2.estimateAffinePartial2D``). A frame shift under :data:`DEAD_ZONE_PX` (of the
small frame) counts as none, so tracking noise does not add up over a long video. The camera
*moves* when the background's accumulated shift strays over :data:`MOVING_SHIFT` of the frame
width from where it started, or its accumulated zoom over :data:`MOVING_ZOOM`. Frames with too
few corners (:data:`MIN_POINTS`: a plain wall, a dark room) are not measured; a video with too
few measured frames gets "unknown". About 1 ms a frame on one core.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

#: Width (px) of the grey frames the background is tracked in.
WORK_WIDTH = 160
#: The person's box is enlarged by this fraction of its size on each side before it is masked.
BOX_MARGIN = 0.15
#: A frame's shift (px of the small frame) below this counts as none; its zoom likewise below
#: DEAD_ZONE_PX / WORK_WIDTH.
DEAD_ZONE_PX = 0.15
#: Fewest tracked background corners that measure a frame.
MIN_POINTS = 8
#: The camera moves when the background strays this far (fraction of the frame width) ...
MOVING_SHIFT = 0.05
#: ... or zooms by this fraction, from where it was in the first measured frame.
MOVING_ZOOM = 0.05
#: Fewest measured frames (and fraction of all frames) for a verdict.
MIN_MEASURED = 5
MIN_MEASURED_FRACTION = 0.25


@dataclass(frozen=True)
class CameraMotionReport:
    """moving: True (pans, tilts or zooms), False (stands still), None (unknown: too little
    background texture). max_shift: the background's largest accumulated shift from its start,
    fraction of the frame width; max_zoom: largest accumulated zoom (|scale - 1|); frames,
    measured: frames seen, and of them those whose motion could be measured."""

    moving: bool | None
    max_shift: float
    max_zoom: float
    frames: int
    measured: int

    def to_json(self) -> dict[str, Any]:
        """The report as written in joints.json's ``camera_motion``."""
        verdict = {True: "moves", False: "still", None: "unknown"}[self.moving]
        return {
            "camera": verdict,
            "max_background_shift": round(self.max_shift, 4),
            "max_zoom": round(self.max_zoom, 4),
            "frames_measured": self.measured,
            "frames": self.frames,
            "meaning": ("the background's motion between frames outside the person's box: "
                        f"'moves' when it strays over {MOVING_SHIFT:.0%} of the frame width or "
                        f"zooms over {MOVING_ZOOM:.0%}; the joints are then relative to a "
                        "moving camera, and their path over the floor is not the person's"),
        }

    def line(self) -> str | None:
        """One line for the terminal when the camera moves or cannot be told, else None."""
        if self.moving:
            return (f"the camera moves (the background shifts up to {self.max_shift:.0%} of "
                    f"the frame, zooms up to {self.max_zoom:.0%}): the path over the floor is "
                    "camera-relative, not drawn")
        if self.moving is None and self.frames:
            return ("could not tell whether the camera moves (too little background texture):"
                    " the path over the floor assumes it stands still")
        return None


def joints_box(pixels: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) px: the box of one person's joints (J, 2) in a frame, what
    :meth:`CameraMotion.add` leaves out of the background."""
    lo, hi = np.nanmin(pixels, axis=0), np.nanmax(pixels, axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


class CameraMotion:
    """Feed every frame in order (:meth:`add`), then read :meth:`report` (module docstring)."""

    def __init__(self) -> None:
        self._prev: np.ndarray | None = None
        self._prev_mask: np.ndarray | None = None
        self._shift = np.zeros(2)
        self._log_zoom = 0.0
        self.max_shift = 0.0
        self.max_zoom = 0.0
        self.frames = 0
        self.measured = 0
        self._width = WORK_WIDTH

    def _small(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        w = image.shape[1]
        step = max(1, w // (2 * WORK_WIDTH))  # cheap subsampling first, then area averaging
        sub = image[::step, ::step]
        scale = WORK_WIDTH / sub.shape[1]
        size = (WORK_WIDTH, max(8, round(sub.shape[0] * scale)))
        grey = cv2.cvtColor(cv2.resize(sub, size, interpolation=cv2.INTER_AREA),
                            cv2.COLOR_RGB2GRAY)
        return grey, WORK_WIDTH / w

    def add(self, image: np.ndarray, *boxes: tuple[float, float, float, float] | None
            ) -> None:
        """Frame `image` (H, W, 3) uint8 RGB and the box (x0, y0, x1, y1) px of each person in
        it (none, or None: nobody); every box is left out of the background."""
        grey, scale = self._small(np.asarray(image))
        mask = np.full(grey.shape, 255, np.uint8)
        for box in boxes:
            if box is None or not all(math.isfinite(v) for v in box):
                continue
            x0, y0, x1, y1 = (v * scale for v in box)
            mx, my = BOX_MARGIN * (x1 - x0), BOX_MARGIN * (y1 - y0)
            mask[max(0, int(y0 - my)):max(0, math.ceil(y1 + my)),
                 max(0, int(x0 - mx)):max(0, math.ceil(x1 + mx))] = 0
        if (self._prev is not None and self._prev_mask is not None
                and self._prev.shape == grey.shape):
            self._measure(self._prev, grey, self._prev_mask & mask)
        self._prev, self._prev_mask = grey, mask
        self.frames += 1

    def _measure(self, a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> None:
        corners = cv2.goodFeaturesToTrack(a, maxCorners=120, qualityLevel=0.01, minDistance=4,
                                          mask=mask)
        if corners is None or len(corners) < MIN_POINTS:
            return
        moved, status, _ = cv2.calcOpticalFlowPyrLK(a, b, corners, np.empty_like(corners),
                                                    winSize=(15, 15), maxLevel=2)
        ok = status.reshape(-1) == 1
        if ok.sum() < MIN_POINTS:
            return
        m, inliers = cv2.estimateAffinePartial2D(corners[ok], moved[ok], method=cv2.RANSAC,
                                                 ransacReprojThreshold=1.0)
        if m is None or inliers is None or int(inliers.sum()) < MIN_POINTS:
            return
        self.measured += 1
        shift = m[:, 2] + (m[:, :2] - np.eye(2)) @ (np.array(a.shape[::-1]) / 2)  # at the centre
        zoom = math.log(math.hypot(m[0, 0], m[1, 0]))
        if np.hypot(*shift) >= DEAD_ZONE_PX:
            self._shift += shift
        if abs(zoom) >= DEAD_ZONE_PX / WORK_WIDTH:
            self._log_zoom += zoom
        self.max_shift = max(self.max_shift, float(np.hypot(*self._shift)) / WORK_WIDTH)
        self.max_zoom = max(self.max_zoom, abs(math.expm1(self._log_zoom)))

    def report(self) -> CameraMotionReport:
        """The verdict so far."""
        enough = (self.measured >= MIN_MEASURED
                  and self.measured >= MIN_MEASURED_FRACTION * max(1, self.frames - 1))
        moving = self.max_shift > MOVING_SHIFT or self.max_zoom > MOVING_ZOOM
        return CameraMotionReport(moving=True if moving else (False if enough else None),
                                  max_shift=self.max_shift, max_zoom=self.max_zoom,
                                  frames=self.frames, measured=self.measured)
