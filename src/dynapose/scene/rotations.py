"""Rotation maths for the rig, batched over leading axes: unit vectors, the shortest rotation
between two directions, axis-angle, a frame from two directions, ZXY Euler angles (BVH's order
here) and back. Matrices are (..., 3, 3) acting on column vectors."""

from __future__ import annotations

import numpy as np


def unit(v: np.ndarray) -> np.ndarray:
    """Unit vectors along the last axis (zero where the vector is zero)."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v), where=n > 1e-12)


def shortest_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotations (..., 3, 3) taking unit vectors a (..., 3) onto unit vectors b (..., 3) about
    the axis a x b (Rodrigues). Opposite vectors turn half a turn about an axis perpendicular
    to a."""
    a = unit(np.asarray(a, dtype=np.float64))
    b = unit(np.asarray(b, dtype=np.float64))
    axis = np.cross(a, b)
    s = np.linalg.norm(axis, axis=-1)
    c = np.sum(a * b, axis=-1)
    # fallback axis for (anti)parallel vectors: perpendicular to a
    helper = np.where(np.abs(a[..., :1]) < 0.9, np.array([1.0, 0.0, 0.0]),
                      np.array([0.0, 1.0, 0.0]))
    perp = unit(np.cross(a, helper))
    k = np.where((s > 1e-9)[..., None], axis / np.maximum(s, 1e-300)[..., None], perp)
    angle = np.arctan2(s, c)
    return axis_angle(k, angle)


def axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about unit axes (..., 3) by angles (...) radians."""
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    c, s = np.cos(angle), np.sin(angle)
    t = 1.0 - c
    return np.stack([
        np.stack([t * x * x + c, t * x * y - s * z, t * x * z + s * y], -1),
        np.stack([t * x * y + s * z, t * y * y + c, t * y * z - s * x], -1),
        np.stack([t * x * z - s * y, t * y * z + s * x, t * z * z + c], -1),
    ], -2)


def frame_from(primary: np.ndarray, secondary: np.ndarray, primary_axis: int,
               secondary_axis: int) -> np.ndarray:
    """Rotations (..., 3, 3) whose column `primary_axis` is unit(primary) and column
    `secondary_axis` is `secondary` made perpendicular to it (Gram-Schmidt); the third column
    completes a right-handed frame."""
    p = unit(primary)
    s = unit(secondary - np.sum(secondary * p, axis=-1, keepdims=True) * p)
    cols: list[np.ndarray | None] = [None, None, None]
    cols[primary_axis], cols[secondary_axis] = p, s
    third = 3 - primary_axis - secondary_axis
    # right-handed: col[i] x col[i+1] = col[i+2]
    a, b = (primary_axis, secondary_axis)
    sign = 1.0 if (b - a) % 3 == 1 else -1.0
    cols[third] = sign * np.cross(p, s)
    return np.stack(cols, axis=-1)  # type: ignore[arg-type]


def matrix_to_euler_zxy(rot: np.ndarray) -> np.ndarray:
    """Rotations (F, J, 3, 3) -> angles (F, J, 3) degrees (z, x, y) with R = Rz Rx Ry, each
    frame's solution of the two chosen, and each angle shifted by whole turns, to be nearest
    the previous frame's (so curves have no jumps for an animator)."""
    r = np.asarray(rot, dtype=np.float64)
    cb = np.hypot(r[..., 0, 1], r[..., 1, 1])
    b = np.arctan2(r[..., 2, 1], cb)
    a = np.arctan2(-r[..., 0, 1], r[..., 1, 1])
    c = np.arctan2(-r[..., 2, 0], r[..., 2, 2])
    lock = cb < 1e-9  # x at +-90 degrees: z and y turn about one axis; put it all in z
    a = np.where(lock, np.arctan2(r[..., 1, 0], r[..., 0, 0]), a)
    c = np.where(lock, 0.0, c)
    first = np.degrees(np.stack([a, b, c], axis=-1))
    second = first + np.array([180.0, 0.0, 180.0])
    second[..., 1] = 180.0 - first[..., 1]
    out = np.empty_like(first)
    prev = np.zeros(first.shape[1:])
    for t in range(len(first)):
        one = first[t] - 360.0 * np.round((first[t] - prev) / 360.0)
        two = second[t] - 360.0 * np.round((second[t] - prev) / 360.0)
        take_two = np.abs(two - prev).sum(axis=-1) < np.abs(one - prev).sum(axis=-1)
        out[t] = np.where(take_two[:, None], two, one)
        prev = out[t]
    return out


def euler_zxy_to_matrix(angles: np.ndarray) -> np.ndarray:
    """Angles (..., 3) degrees (z, x, y) -> rotations Rz Rx Ry (..., 3, 3)."""
    ang = np.radians(np.asarray(angles, dtype=np.float64))
    ez = np.broadcast_to(np.array([0.0, 0.0, 1.0]), ang.shape)
    ex = np.broadcast_to(np.array([1.0, 0.0, 0.0]), ang.shape)
    ey = np.broadcast_to(np.array([0.0, 1.0, 0.0]), ang.shape)
    return axis_angle(ez, ang[..., 0]) @ axis_angle(ex, ang[..., 1]) @ axis_angle(ey, ang[..., 2])
