"""``--view window``: the frame with its 2D skeleton beside the 3D skeleton, in an OpenCV window.

The 3D panel is DynaPose's own renderer (:class:`dynapose.viz.view3d.Skeleton3DRenderer`)
following the pelvis, seen from the side of the camera. The window needs a display (an X11 or
Wayland session); without one :func:`has_display` is False and ``dynapose live`` says to use
``--view browser``. ``q`` or Esc in the window, or closing it, stops the session.
"""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np

from dynapose.errors import DynaPoseError
from dynapose.viz.skeleton import draw_skeleton_2d, resize_image
from dynapose.viz.view3d import Skeleton3DRenderer

#: Height (px) of the window's two panels.
PANEL_HEIGHT = 480
#: Half the 3D panel's extent around the pelvis, mm.
VIEW_HALF_MM = 1100.0
TITLE = "DynaPose live (q: quit)"


def has_display() -> bool:
    """Whether a window can be opened: a display on Linux, always elsewhere."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def compose(image: np.ndarray, keypoints: np.ndarray, joints: np.ndarray,
            renderer: Skeleton3DRenderer, centre: np.ndarray) -> np.ndarray:
    """One window frame (RGB): the picture with its 2D skeleton, scaled to PANEL_HEIGHT, beside
    the 3D view of `joints` (17, 3) mm camera frame (none drawn without a person) centred on
    `centre` (3,) mm."""
    h, w = image.shape[:2]
    scale = PANEL_HEIGHT / h
    size = (max(2, round(w * scale)), PANEL_HEIGHT)
    left = draw_skeleton_2d(resize_image(image, size), np.asarray(keypoints) * scale)
    right = renderer.render(np.asarray(joints, dtype=np.float64), centre=centre)
    return np.concatenate([left, right], axis=1)


class Window:
    """The OpenCV window. :meth:`show` returns False once the user asked to stop."""

    def __init__(self) -> None:
        if not has_display():
            raise DynaPoseError("no display for a window here: use --view browser (a page on "
                                "localhost) or --view none")
        self.renderer = Skeleton3DRenderer((PANEL_HEIGHT, PANEL_HEIGHT), elev=12.0, azim=-70.0)
        self._centre = np.array([0.0, 0.0, 3000.0])  # the last pelvis seen; first 3 m ahead
        self.renderer.set_view(self._centre, VIEW_HALF_MM)
        try:
            cv2.namedWindow(TITLE, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)  # no toolbar
        except cv2.error as exc:
            raise DynaPoseError(f"cannot open a window ({' '.join(str(exc).split())}): use "
                                "--view browser or --view none") from None
        self._open = True

    def show(self, image: np.ndarray, keypoints: np.ndarray, joints: np.ndarray) -> bool:
        if np.isfinite(joints).all():
            self._centre = np.asarray(joints[0], dtype=np.float64)
        frame = compose(image, keypoints, joints, self.renderer, self._centre)
        cv2.imshow(TITLE, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        key = cv2.waitKey(1) & 0xFF
        visible = cv2.getWindowProperty(TITLE, cv2.WND_PROP_VISIBLE) >= 1
        return key not in (ord("q"), 27) and visible

    def close(self) -> None:
        if self._open:
            self._open = False
            try:
                cv2.destroyWindow(TITLE)
                cv2.waitKey(1)
            except cv2.error:
                pass
