"""Pictures of skeletons: colours, the 2D overlay, and what the 3D views share (axis limits,
the floor grid).

Everything renders off-screen with OpenCV's anti-aliased lines: the 2D overlay here, the 3D
views in :mod:`dynapose.viz.view3d` (matplotlib is kept for the training curves, drawn once,
not per frame). Every file is written atomically: a reader sees the previous file or the
finished new one, never half of one.

Conventions: images are uint8 RGB arrays (H, W, 3); 2D joints are (17, 2) pixels (x right,
y down), NaN for a joint that is missing; 3D joints are (17, 3) millimetres in the camera frame
(x right, y down, z forward). In the 3D views "up" is -y, so a person stands upright, and depth
(z) runs into the picture. Left-side bones are drawn lighter and right-side bones darker than a
skeleton's base colour, the centre line in the base colour.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import cast

import cv2
import numpy as np

from dynapose.skeleton import BONES, LEFT_JOINTS, NUM_JOINTS, RIGHT_JOINTS

RGB = tuple[int, int, int]


Limits = tuple[tuple[float, float], tuple[float, float], tuple[float, float]]


#: Base colours of the 2D overlay when none is given, per side.
SIDE_COLORS_2D: dict[str, RGB] = {
    "left": (0, 170, 255),
    "right": (255, 70, 40),
    "centre": (60, 220, 60),
}


#: Base colours of the skeletons of a 3D view, in order: prediction, ground truth, more.
COLORS_3D: tuple[RGB, ...] = ((230, 85, 20), (30, 110, 220), (40, 160, 60), (150, 60, 180))


def joint_side(joint: int) -> str:
    """"left", "right" or "centre": the side of the body joint `joint` (0-16) is on."""
    if joint in LEFT_JOINTS:
        return "left"
    if joint in RIGHT_JOINTS:
        return "right"
    return "centre"


def side_colors(color: Sequence[int] | None = None) -> dict[str, RGB]:
    """Colours for the left, right and centre parts of one skeleton.

    With no `color` the default overlay palette; with one, the centre in `color`, the left side
    45 % towards white and the right side 40 % towards black, so sides stay distinct.
    """
    if color is None:
        return dict(SIDE_COLORS_2D)
    base = np.asarray(color[:3], dtype=np.float64)
    light = base + 0.45 * (255.0 - base)
    dark = 0.6 * base
    return {
        "centre": tuple(round(float(v)) for v in base),  # type: ignore[dict-item]
        "left": tuple(round(float(v)) for v in light),  # type: ignore[dict-item]
        "right": tuple(round(float(v)) for v in dark),  # type: ignore[dict-item]
    }


_SHIFT = 4  # OpenCV's fractional bits: coordinates in 1/16 px, so lines are placed sub-pixel
_ONE = 1 << _SHIFT


@functools.lru_cache(maxsize=16)
def _palette(color: RGB | None) -> dict[str, RGB]:
    return side_colors(color)


def draw_skeleton_2d(
    image: np.ndarray,
    joints2d: np.ndarray,
    color: Sequence[int] | None = None,
    thickness: int | None = None,
    radius: int | None = None,
) -> np.ndarray:
    """A copy of `image` (uint8 H x W x 3) with the skeleton's bones and joints drawn on it.

    joints2d: (17, 2) pixel coordinates (x, y); a joint with a NaN coordinate and its bones are
    skipped. `color` gives the skeleton's base colour (see `side_colors`); `thickness` and
    `radius` (px) default to about 1/100 of the image's smaller side.
    """
    image = np.asarray(image)
    joints = np.asarray(joints2d, dtype=np.float64)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected a uint8 image (H, W, 3), got {image.dtype} {image.shape}")
    if joints.shape != (NUM_JOINTS, 2):
        raise ValueError(f"expected joints of shape ({NUM_JOINTS}, 2), got {joints.shape}")
    h, w = image.shape[:2]
    if thickness is None:
        thickness = max(1, round(min(h, w) / 100))
    if radius is None:
        radius = max(1, round(min(h, w) / 80))
    palette = _palette(None if color is None else tuple(int(v) for v in color[:3]))
    ok = cast(np.ndarray, np.isfinite(joints).all(axis=1))  # (17,) bool: joints is (17, 2)
    # Far-away points are clipped so OpenCV's fixed-point coordinates never overflow.
    pts = np.round(np.clip(np.nan_to_num(joints), -4.0 * (w + h), 5.0 * (w + h)) * _ONE)
    pts = pts.astype(np.int64)
    img = np.array(image, order="C", copy=True)
    line = cv2.LINE_AA if thickness > 1 else cv2.LINE_8  # 1 px: solid pixels, no halo
    for child, parent in BONES:
        if ok[child] and ok[parent]:
            cv2.line(img, (int(pts[parent, 0]), int(pts[parent, 1])),
                     (int(pts[child, 0]), int(pts[child, 1])), palette[joint_side(child)],
                     thickness, line, _SHIFT)
    for j in range(NUM_JOINTS):
        if ok[j]:
            cv2.circle(img, (int(pts[j, 0]), int(pts[j, 1])), radius * _ONE,
                       palette[joint_side(j)], -1, line, _SHIFT)
    return img


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` (H, W, 3) uint8 resized to `size` (width, height): shrunk by area averaging
    (an integer-factor box filter first, which OpenCV does fast, then bilinear the rest of the
    way), enlarged bilinearly."""
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    out_w, out_h = max(1, int(size[0])), max(1, int(size[1]))
    if (out_w, out_h) == (w, h):
        return image
    k = min(w // out_w, h // out_h)
    if k >= 2:
        image = cv2.resize(image, (w // k, h // k), interpolation=cv2.INTER_AREA)
        if image.shape[:2] == (out_h, out_w):
            return image
    return cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_LINEAR)


def skeleton_limits(*poses: np.ndarray | None, margin: float = 150.0) -> Limits:
    """Cube-shaped camera-frame axis limits (mm) around every finite joint of `poses`.

    poses: arrays (..., 17, 3) mm (None entries ignored). The same limits for a whole clip keep
    an animation from jumping. With no finite joint, a 2 m cube 4 m in front of the camera.
    """
    pts = [np.asarray(p, dtype=np.float64).reshape(-1, 3) for p in poses if p is not None]
    allpts = np.concatenate(pts) if pts else np.zeros((0, 3))
    allpts = allpts[np.isfinite(allpts).all(axis=1)]
    if len(allpts) == 0:
        centre, half = np.array([0.0, 0.0, 4000.0]), 1000.0
    else:
        lo, hi = allpts.min(axis=0), allpts.max(axis=0)
        centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2 + margin
    return tuple((float(c - half), float(c + half)) for c in centre)  # type: ignore[return-value]


def floor_grid(up: np.ndarray, camera_height: float, centre: np.ndarray, half: float = 2000.0,
               step: float = 500.0) -> np.ndarray:
    """Segments (L, 2, 3) mm, camera frame, of a square grid on the floor: the plane of points p
    with ``up . p + camera_height == 0`` (`up`: the floor's unit normal in the camera frame,
    pointing up; `camera_height`: mm). Centred below `centre` (3,) mm, ``half`` mm each way, a
    line every ``step`` mm."""
    n = np.asarray(up, dtype=np.float64)
    n = n / np.linalg.norm(n)
    helper = np.array([1.0, 0.0, 0.0]) if abs(n[0]) < 0.9 else np.array([0.0, 0.0, 1.0])
    e1 = np.cross(n, helper)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(n, e1)
    c = np.asarray(centre, dtype=np.float64)
    origin = c - (n @ c + camera_height) * n  # `centre` dropped onto the floor
    ticks = np.arange(-half, half + 1e-6, step)
    segs = [(origin + t * a - half * b, origin + t * a + half * b)
            for t in ticks for a, b in ((e1, e2), (e2, e1))]
    return np.asarray(segs, dtype=np.float64)
