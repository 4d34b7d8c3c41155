"""What the feet do: contacts per frame, how far a planted foot slides (skating), and a
trajectory over the ground that follows the planted foot (for pelvis-relative predictions).

World frame of :mod:`dynapose.scene.floor`: Y up, the floor at y = 0, millimetres.
"""

from __future__ import annotations

import numpy as np

from dynapose.scene.floor import (
    ANKLE_HEIGHT_MM,
    CONTACT_BAND_MM,
    CONTACT_SPEED_MM_S,
    point_speeds,
    runs,
    unit,
)
from dynapose.scene.rotations import frame_from

#: Foot locking of pelvis-relative joints: scales of an ankle's height above the lower one (mm)
#: and of its forward speed relative to the hips (mm/s) in its support weight.
LOCK_HEIGHT_MM = 15.0


LOCK_SPEED_MM_S = 100.0


def foot_contacts(world: np.ndarray, valid: np.ndarray, fps: float,
                  ankle_height: float = ANKLE_HEIGHT_MM) -> np.ndarray:
    """(F, 2) bool: right and left foot planted, from world joints (F, 17, 3) mm (Y up, floor
    at 0): ankle below ``ankle_height + CONTACT_BAND_MM`` and slower than
    :data:`CONTACT_SPEED_MM_S` (a single frame: height alone)."""
    world = np.asarray(world, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool) & np.isfinite(world).all(axis=(1, 2))
    ankles = world[:, [3, 6]]
    low = valid[:, None] & (np.nan_to_num(ankles[..., 1], nan=np.inf)
                            < ankle_height + CONTACT_BAND_MM)
    speed = point_speeds(ankles, valid, fps)
    if not np.isfinite(speed).any():
        return low
    return low & (speed < CONTACT_SPEED_MM_S)


def foot_skating(world: np.ndarray, contacts: np.ndarray, fps: float) -> dict[str, float]:
    """How far planted feet slide, from world joints (F, 17, 3) mm (Y up) and contacts (F, 2).

    A *contact* is a run of at least two contact frames of one foot; its slide is the ankle's
    horizontal path length (x, z) over the run. Returns mm_per_contact (mean slide),
    mm_per_frame (mean horizontal step of a planted ankle between consecutive contact frames),
    contacts (their number) and contact_fraction (share of foot-frames planted).
    """
    world = np.asarray(world, dtype=np.float64)
    slides, steps = [], []
    for k, joint in enumerate((3, 6)):
        for a, b in runs(contacts[:, k]):
            if b - a < 2:
                continue
            d = np.linalg.norm(np.diff(world[a:b, joint][:, [0, 2]], axis=0), axis=-1)
            d = d[np.isfinite(d)]
            slides.append(float(d.sum()))
            steps.extend(d.tolist())
    return {
        "mm_per_contact": float(np.mean(slides)) if slides else 0.0,
        "mm_per_frame": float(np.mean(steps)) if steps else 0.0,
        "contacts": len(slides),
        "contact_fraction": float(np.asarray(contacts).mean()) if np.size(contacts) else 0.0,
        "fps": float(fps),
    }


def foot_locked_trajectory(world_rel: np.ndarray, fps: float,
                           ankle_height: float = ANKLE_HEIGHT_MM) -> np.ndarray:
    """A trajectory for pelvis-relative world joints (F, 17, 3) mm (Y up, pelvis at the
    origin): per frame, the pelvis translation (F, 3) mm, starting at the origin.

    The body follows its supporting foot: between frames the pelvis moves by minus the
    horizontal step (relative to the pelvis) of the ankles, each weighted by
    ``exp(-height / LOCK_HEIGHT_MM - forward speed / LOCK_SPEED_MM_S)`` -- a planted foot is the
    lower one and does not move forward relative to the hips (forward: the hips' facing; only
    forward speed counts), and level feet share the support. Vertically the lower ankle rests
    at `ankle_height`. A jump's or a run's flight, and any sliding of the whole body, are lost
    (on procedural walks the trajectory stays within about 0.1 m of the truth; runs cover
    about 4 % less ground).
    """

    rel = np.asarray(world_rel, dtype=np.float64)
    ankles = rel[:, [3, 6]]
    h = ankles[..., 1] - ankles[..., 1].min(axis=1, keepdims=True)
    facing = frame_from(rel[:, 4] - rel[:, 1], rel[:, 7] - rel[:, 0], 0, 1)[..., 2]
    facing[:, 1] = 0.0
    facing = unit(facing)
    vel = np.zeros_like(ankles)
    if len(rel) > 2:
        vel[1:-1] = 0.5 * (ankles[2:] - ankles[:-2]) * fps
    forward = np.maximum(np.einsum("fkc,fc->fk", vel, facing), 0.0)
    logw = -h / LOCK_HEIGHT_MM - forward / LOCK_SPEED_MM_S
    w = np.exp(logw - logw.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    out = np.zeros((len(rel), 3))
    if len(rel) > 1:
        step = np.diff(ankles[..., [0, 2]], axis=0)  # (F-1, 2 feet, 2)
        wm = 0.5 * (w[1:] + w[:-1])
        out[1:, [0, 2]] = -np.cumsum((wm[..., None] * step).sum(axis=1), axis=0)
    out[:, 1] = ankle_height - ankles[..., 1].min(axis=1)
    return out
