"""Writing BVH files for the rig of :mod:`dynapose.animation.ik`.

Layout: the root (``pelvis``) has six channels, ``Xposition Yposition Zposition Zrotation
Xrotation Yrotation``, and OFFSET 0 0 0 (its position channels are its place in the world, so
readers that add the OFFSET and those that replace it agree); every other joint has three,
``Zrotation Xrotation Yrotation`` -- the rotation ``Rz @ Rx @ Ry`` in degrees relative to its
parent, as BVH readers (DynaPose's :mod:`dynapose.data.bvh`, Blender, bvhio) apply it. Y is up.
Lengths are in `unit` (``cm`` by default, what most animation tools expect; ``mm`` or ``m``).
Values are written with enough decimals that reading them back moves no joint by more than
0.001 mm.
"""

from __future__ import annotations

import io
import os

import numpy as np

from dynapose.animation.ik import RIG
from dynapose.errors import DynaPoseError
from dynapose.io.atomic import atomic_write_text

#: mm per unit, and decimals written for lengths in that unit (0.001 mm or finer).
UNITS: dict[str, tuple[float, int]] = {"mm": (1.0, 3), "cm": (10.0, 4), "m": (1000.0, 6)}
#: Decimals of the angles, degrees (1e-6 degrees moves a 1 m chain by 2e-5 mm).
ANGLE_DECIMALS = 6


def bvh_text(offsets_mm: np.ndarray, root_mm: np.ndarray, angles_deg: np.ndarray,
             frame_time: float, unit: str = "cm") -> str:
    """The BVH document: OFFSETs (len(RIG), 3) mm, root positions (F, 3) mm, angles
    (F, len(RIG), 3) degrees in (z, x, y) order, seconds per frame. Raises DynaPoseError for
    non-finite values (a BVH must never hold NaN)."""
    if unit not in UNITS:
        raise DynaPoseError(f"unknown length unit {unit!r} (one of {', '.join(UNITS)})")
    scale, decimals = UNITS[unit]
    offsets = np.asarray(offsets_mm, dtype=np.float64) / scale
    root = np.asarray(root_mm, dtype=np.float64) / scale
    angles = np.asarray(angles_deg, dtype=np.float64)
    frames = len(root)
    if frames < 1 or angles.shape != (frames, len(RIG), 3) or offsets.shape != (len(RIG), 3):
        raise ValueError(f"bad shapes: offsets {offsets.shape}, root {root.shape}, angles "
                         f"{angles.shape}")
    for what, values in (("offsets", offsets), ("root positions", root), ("angles", angles)):
        if not np.isfinite(values).all():
            raise DynaPoseError(f"non-finite {what}: refusing to write a BVH with NaN in it")
    # values that round to zero are written as 0, not -0
    offsets = np.where(np.abs(offsets) < 0.5 * 10.0**-decimals, 0.0, offsets)
    root = np.where(np.abs(root) < 0.5 * 10.0**-decimals, 0.0, root)
    angles = np.where(np.abs(angles) < 0.5 * 10.0**-ANGLE_DECIMALS, 0.0, angles)
    if not (np.isfinite(frame_time) and frame_time > 0):
        raise DynaPoseError(f"frame time must be positive, got {frame_time}")
    out = io.StringIO()
    out.write("HIERARCHY\n")
    children: dict[int, list[int]] = {i: [] for i in range(len(RIG))}
    for i, r in enumerate(RIG):
        if r.parent >= 0:
            children[r.parent].append(i)

    def fmt(v: np.ndarray | tuple[float, ...]) -> str:
        return " ".join(f"{x:.{decimals}f}" for x in v)

    def joint(i: int, depth: int) -> None:
        r = RIG[i]
        pad = "  " * depth
        out.write(f"{pad}{'ROOT' if r.parent < 0 else 'JOINT'} {r.name}\n{pad}{{\n")
        out.write(f"{pad}  OFFSET {fmt(offsets[i])}\n")
        if r.parent < 0:
            out.write(f"{pad}  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation "
                      "Yrotation\n")
        else:
            out.write(f"{pad}  CHANNELS 3 Zrotation Xrotation Yrotation\n")
        for c in children[i]:
            joint(c, depth + 1)
        if r.end is not None:
            end = np.asarray(r.end) / scale
            out.write(f"{pad}  End Site\n{pad}  {{\n{pad}    OFFSET {fmt(end)}\n{pad}  }}\n")
        out.write(f"{pad}}}\n")

    joint(0, 0)
    out.write(f"MOTION\nFrames: {frames}\nFrame Time: {frame_time:.9f}\n")
    adec = ANGLE_DECIMALS
    for t in range(frames):
        row = [f"{x:.{decimals}f}" for x in root[t]]
        row += [f"{x:.{adec}f}" for x in angles[t].ravel()]
        out.write(" ".join(row) + "\n")
    return out.getvalue()


def write_bvh(path: str | os.PathLike[str], offsets_mm: np.ndarray, root_mm: np.ndarray,
              angles_deg: np.ndarray, frame_time: float, unit: str = "cm") -> None:
    """Write :func:`bvh_text` to `path` atomically (a reader sees the old file or the new)."""
    text = bvh_text(offsets_mm, root_mm, angles_deg, frame_time, unit)
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise DynaPoseError(f"cannot write BVH ({exc.strerror or exc})", path) from exc
