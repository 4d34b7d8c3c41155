"""Cameras: world <-> camera transforms and projection with lens distortion.

Conventions (as Human3.6M): the world frame is Z up, millimetres. The camera frame is x right,
y down, z forward (mm). A camera is given by its rotation ``R`` (world -> camera, 3x3), its centre
``T`` in world mm, focal lengths ``f`` (fx, fy) and principal point ``c`` (cx, cy) in pixels,
radial distortion ``k`` (k1, k2, k3) and tangential distortion ``p`` (p1, p2), so that::

    X_cam = R @ (X_world - T)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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
        out[ok] = (np.linalg.pinv(ata) @ atb[..., None])[..., 0]
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
