"""Cameras: world <-> camera transforms and projection with lens distortion.

Conventions (as Human3.6M): the world frame is Z up, millimetres. The camera frame is x right,
y down, z forward (mm). A camera is given by its rotation ``R`` (world -> camera, 3x3), its centre
``T`` in world mm, focal lengths ``f`` (fx, fy) and principal point ``c`` (cx, cy) in pixels,
radial distortion ``k`` (k1, k2, k3) and tangential distortion ``p`` (p1, p2), so that::

    X_cam = R @ (X_world - T)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from dynapose.linalg import pinv

#: Lowest total confidence weight for which :func:`solve_root_translation` uses the confidences;
#: below it the joints are weighted equally.
MIN_WEIGHT = 1e-6


@dataclass(frozen=True)
class Camera:
    """One calibrated camera. Arrays are float64; see the module docstring for conventions."""

    R: np.ndarray  # (3, 3) world -> camera rotation
    T: np.ndarray  # (3,) camera centre in world mm
    f: np.ndarray  # (2,) focal lengths, px
    c: np.ndarray  # (2,) principal point, px
    k: np.ndarray = field(default_factory=lambda: np.zeros(3))  # radial k1, k2, k3
    p: np.ndarray = field(default_factory=lambda: np.zeros(2))  # tangential p1, p2
    width: int = 1000
    height: int = 1000
    name: str = ""

    def __post_init__(self) -> None:
        for attr, shape in (("R", (3, 3)), ("T", (3,)), ("f", (2,)), ("c", (2,)), ("k", (3,)),
                            ("p", (2,))):
            value = np.asarray(getattr(self, attr), dtype=np.float64).reshape(shape)
            object.__setattr__(self, attr, value)

    def world_to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (..., 3) mm -> camera-frame points (..., 3) mm."""
        return world_to_camera(points, self.R, self.T)

    def camera_to_world(self, points: np.ndarray) -> np.ndarray:
        """Camera-frame points (..., 3) mm -> world points (..., 3) mm."""
        return camera_to_world(points, self.R, self.T)

    def project(self, points_cam: np.ndarray, distort: bool = True) -> np.ndarray:
        """Camera-frame points (..., 3) mm -> pixel coordinates (..., 2)."""
        k, p = (self.k, self.p) if distort else (np.zeros(3), np.zeros(2))
        return project(points_cam, self.f, self.c, k, p)

    def rays(self, pixels: np.ndarray) -> np.ndarray:
        """Pixels (..., 2) -> rays (x/z, y/z) (..., 2): :func:`pixels_to_rays` with this lens."""
        return pixels_to_rays(pixels, self.f, self.c, self.k, self.p)

    def project_world(self, points_world: np.ndarray, distort: bool = True) -> np.ndarray:
        """World points (..., 3) mm -> pixel coordinates (..., 2)."""
        return self.project(self.world_to_camera(points_world), distort=distort)


def world_to_camera(points: np.ndarray, R: np.ndarray, T: np.ndarray) -> np.ndarray:
    """X_cam = R (X_world - T); points (..., 3)."""
    return (np.asarray(points) - T) @ np.asarray(R).T


def camera_to_world(points: np.ndarray, R: np.ndarray, T: np.ndarray) -> np.ndarray:
    """X_world = R^T X_cam + T; points (..., 3)."""
    return np.asarray(points) @ np.asarray(R) + T


def project(
    points_cam: np.ndarray,
    f: np.ndarray,
    c: np.ndarray,
    k: np.ndarray | None = None,
    p: np.ndarray | None = None,
) -> np.ndarray:
    """Pinhole projection with Brown-Conrady distortion (the Human3.6M camera model).

    points_cam: (..., 3) camera frame, z > 0 in front of the camera. Returns (..., 2) pixels.
    """
    pts = np.asarray(points_cam, dtype=np.float64)
    xy = pts[..., :2] / pts[..., 2:3]
    if k is not None or p is not None:
        k = np.zeros(3) if k is None else np.asarray(k, dtype=np.float64)
        p = np.zeros(2) if p is None else np.asarray(p, dtype=np.float64)
        factor, offset = _distortion(xy, k, p)
        xy = xy * factor + offset
    return xy * np.asarray(f, dtype=np.float64) + np.asarray(c, dtype=np.float64)


def _distortion(xy: np.ndarray, k: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Brown-Conrady at undistorted rays xy (..., 2): the (factor, offset) with which the
    distorted ray is ``xy * factor + offset`` (the 3d-pose-baseline / Human3.6M form of the
    tangential term)."""
    r2 = np.sum(xy**2, axis=-1, keepdims=True)
    radial = 1.0 + k[0] * r2 + k[1] * r2**2 + k[2] * r2**3
    tangential = p[0] * xy[..., 1:2] + p[1] * xy[..., 0:1]
    return radial + tangential, np.asarray([p[1], p[0]]) * r2


def solve_root_translation(joints: np.ndarray, pixels: np.ndarray,
                           confidence: np.ndarray | None, focal: float, cx: float,
                           cy: float) -> np.ndarray:
    """Per frame, the camera-frame translation (F, 3) mm that best reprojects root-relative
    joints (F, J, 3) mm onto pixels (F, J, 2), weighted by confidence (F, J) (None: equal).

    With the joints P_j = (X, Y, Z) and keypoints (u_j, v_j), ``u_j = cx + f (X + Tx) / (Z + Tz)``
    gives two equations per joint that are linear in T, ``f Tx - (u_j - cx) Tz = (u_j - cx) Z -
    f X`` (likewise for y), solved by least squares. With focal 1 and centre 0 the "pixels" are
    rays (x/z, y/z, see :func:`pixels_to_rays`). Frames whose confidences sum to ~0 are solved
    with equal weights; frames with NaN input give NaN.
    """
    joints = np.asarray(joints, dtype=np.float64)
    pixels = np.asarray(pixels, dtype=np.float64)
    f = len(joints)
    w = np.ones(joints.shape[:2]) if confidence is None else np.asarray(confidence, np.float64)
    w = np.where(w.sum(axis=1, keepdims=True) > MIN_WEIGHT, w, 1.0)
    du = pixels[..., 0] - cx
    dv = pixels[..., 1] - cy
    x, y, z = joints[..., 0], joints[..., 1], joints[..., 2]
    zeros = np.zeros_like(du)
    full = np.full_like(du, focal)
    a = np.concatenate([np.stack([full, zeros, -du], -1), np.stack([zeros, full, -dv], -1)],
                       axis=1)  # (F, 2J, 3)
    b = np.concatenate([du * z - focal * x, dv * z - focal * y], axis=1)  # (F, 2J)
    sw = np.sqrt(np.concatenate([w, w], axis=1))
    a, b = a * sw[..., None], b * sw
    out = np.full((f, 3), np.nan)
    ok = np.isfinite(a).all(axis=(1, 2)) & np.isfinite(b).all(axis=1)
    if ok.any():
        ata = np.einsum("fki,fkj->fij", a[ok], a[ok])
        atb = np.einsum("fki,fk->fi", a[ok], b[ok])
        # pinv rather than solve: keypoints all on one point give a singular system
        out[ok] = (pinv(ata) @ atb[..., None])[..., 0]
    return out


def pixels_to_rays(
    pixels: np.ndarray,
    f: np.ndarray,
    c: np.ndarray,
    k: np.ndarray | None = None,
    p: np.ndarray | None = None,
    iterations: int = 20,
) -> np.ndarray:
    """The inverse of :func:`project`: pixels (..., 2) -> rays (x/z, y/z) (..., 2), the
    undistorted normalised coordinates of the camera-frame points that project there.

    The distortion is inverted by fixed-point iteration, ``xy = (xy_d - offset(xy)) /
    factor(xy)`` (see :func:`_distortion`), which converges for lens distortions like
    Human3.6M's (round trip within 1e-9 px there).
    """
    xy_d = (np.asarray(pixels, dtype=np.float64) - np.asarray(c, dtype=np.float64)) / np.asarray(
        f, dtype=np.float64)
    if k is None and p is None:
        return xy_d
    k = np.zeros(3) if k is None else np.asarray(k, dtype=np.float64)
    p = np.zeros(2) if p is None else np.asarray(p, dtype=np.float64)
    xy = xy_d
    for _ in range(iterations):
        factor, offset = _distortion(xy, k, p)
        xy = (xy_d - offset) / factor
    return xy


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray | None = None) -> np.ndarray:
    """World -> camera rotation for a camera at `eye` looking at `target` (world Z up).

    The camera's y axis points down in the image, so it is aligned with -up.
    """
    up = np.array([0.0, 0.0, 1.0]) if up is None else np.asarray(up, dtype=np.float64)
    z = np.asarray(target, dtype=np.float64) - np.asarray(eye, dtype=np.float64)
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z])


#: Focal length of the assumed pinhole camera, as a multiple of the crop side (pixels).
FOCAL_PER_CROP_SIDE = 1.145


#: For the 2D overlay of a pelvis-relative model only: the skeleton's larger image extent is
#: taken to be this fraction of the crop side (synthetic crops add 15 % margins on each side).
ASSUMED_FILL = 1.0 / 1.3


def place_in_crop(joints: np.ndarray) -> np.ndarray:
    """Pelvis-relative joints (F, J, 3) mm -> camera-frame joints for drawing: the pelvis on the
    crop's axis, at the depth where the skeleton's larger x/y extent fills :data:`ASSUMED_FILL`
    of the crop under the assumed intrinsics (an assumption, for the overlay only)."""
    joints = np.asarray(joints, dtype=np.float64)
    extent = np.max(joints[..., :2].max(axis=1) - joints[..., :2].min(axis=1), axis=-1)
    depth = FOCAL_PER_CROP_SIDE * np.maximum(extent, 1.0) / ASSUMED_FILL
    return joints + np.stack([np.zeros_like(depth), np.zeros_like(depth), depth], -1)[:, None]


def project_to_frame(joints: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Camera-frame joints (F, J, 3) mm -> pixels (F, J, 2) of the full frame, assumed intrinsics.

    boxes (F, 4) are the square crops (x, y, w, h); see :meth:`Prediction.keypoints_2d`.
    """
    joints = np.asarray(joints, dtype=np.float64)
    boxes = np.asarray(boxes, dtype=np.float64)
    f = FOCAL_PER_CROP_SIDE * boxes[:, 2]
    cx = boxes[:, 0] + boxes[:, 2] / 2
    cy = boxes[:, 1] + boxes[:, 3] / 2
    z = joints[..., 2]
    valid = z > 1.0
    z = np.where(valid, z, 1.0)
    u = cx[:, None] + f[:, None] * joints[..., 0] / z
    v = cy[:, None] + f[:, None] * joints[..., 1] / z
    out = np.stack([u, v], axis=-1)
    out[~valid] = np.nan
    return out.astype(np.float32)


def assumed_intrinsics(width: int, height: int) -> tuple[float, float, float]:
    """(focal px, cx, cy) of the assumed pinhole camera of a width x height video."""
    return FOCAL_PER_CROP_SIDE * max(width, height), width / 2.0, height / 2.0


def project_torch(points: torch.Tensor, f: torch.Tensor, c: torch.Tensor, k: torch.Tensor,
                  p: torch.Tensor) -> torch.Tensor:
    """Camera-frame points (B, ..., 3) mm -> pixels (B, ..., 2); per-sample intrinsics f, c (B, 2),
    k (B, 3), p (B, 2). The same Brown-Conrady model as :func:`dynapose.camera.project`."""
    extra = (1,) * (points.ndim - 2)
    fx, fy, cx, cy, k1, k2, k3, p1, p2 = (
        t.reshape(t.shape[0], *extra, t.shape[-1])[..., i]
        for t, n in ((f, 2), (c, 2), (k, 3), (p, 2)) for i in range(n))
    x, y, z = points.unbind(-1)
    x, y = x / z, y / z
    r2 = x * x + y * y
    scale = k3 * r2 + k2  # radial 1 + k1 r2 + k2 r2^2 + k3 r2^3 (Horner), + tangential
    scale.mul_(r2).add_(k1).mul_(r2).add_(1).add_(p1 * y).add_(p2 * x)
    u = (x * scale).add_(p2 * r2).mul_(fx).add_(cx)
    v = (y * scale).add_(p1 * r2).mul_(fy).add_(cy)
    return torch.stack([u, v], -1)


def normalize_screen(keypoints: Any, width: Any, height: Any) -> Any:
    """Pixels (..., 2) -> normalised coordinates: x / w * 2 - 1, y / w * 2 - h / w (VideoPose3D).

    `width` and `height` are scalars or arrays broadcasting against (...), i.e. the keypoints
    without their last axis. numpy (float64 out) or torch (the keypoints' dtype).
    """
    if not isinstance(keypoints, torch.Tensor):
        keypoints = np.asarray(keypoints, dtype=np.float64)
        width, height = np.asarray(width, np.float64), np.asarray(height, np.float64)
        x = keypoints[..., 0] * (2.0 / width) - 1.0
        return np.stack([x, keypoints[..., 1] * (2.0 / width) - height / width], -1)
    x = keypoints[..., 0] * (2.0 / width) - 1.0
    return torch.stack([x, keypoints[..., 1] * (2.0 / width) - height / width], -1)
