"""How animation-ready a motion is: bone-length spread, jitter, foot skating (per clip).

All from world joints (F, 17, 3) mm (Y up, floor at y = 0) and the frames that hold a person:

* ``bone_spread_mm``: per bone, the standard deviation of its length over the frames, averaged
  over the 16 bones (0 for rigid bones); ``bone_range_mm``: the largest max - min of a bone.
* ``jitter_mm_per_frame2``: the mean size of the joints' acceleration, ``|p(t+1) - 2 p(t) +
  p(t-1)|`` over joints and the frames whose neighbours hold a person, mm per frame squared
  (noise shows up here first: a joint jittering by e mm gives about 2.4 e).
* ``skating``: :func:`dynapose.scene.feet.foot_skating` with the contacts of
  :func:`dynapose.scene.feet.foot_contacts`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dynapose.scene.feet import foot_contacts, foot_skating
from dynapose.scene.floor import ANKLE_HEIGHT_MM
from dynapose.skeleton import bone_lengths


def bone_spread(joints: np.ndarray, valid: np.ndarray) -> dict[str, float]:
    """bone_spread_mm (mean over bones of the std of the length over valid frames) and
    bone_range_mm (largest max - min over frames of one bone's length)."""
    j = np.asarray(joints, dtype=np.float64)[np.asarray(valid, dtype=bool)]
    if len(j) == 0:
        return {"bone_spread_mm": 0.0, "bone_range_mm": 0.0}
    lengths = bone_lengths(j)
    return {"bone_spread_mm": float(lengths.std(axis=0).mean()),
            "bone_range_mm": float((lengths.max(axis=0) - lengths.min(axis=0)).max())}


def jitter(joints: np.ndarray, valid: np.ndarray) -> float:
    """Mean acceleration size (mm/frame^2) over joints and frames with valid neighbours."""
    j = np.asarray(joints, dtype=np.float64)
    v = np.asarray(valid, dtype=bool)
    if len(j) < 3:
        return 0.0
    ok = v[2:] & v[1:-1] & v[:-2]
    if not ok.any():
        return 0.0
    acc = j[2:] - 2 * j[1:-1] + j[:-2]
    return float(np.linalg.norm(acc[ok], axis=-1).mean())


def motion_quality(world: np.ndarray, valid: np.ndarray, fps: float,
                   ankle_height: float = ANKLE_HEIGHT_MM) -> dict[str, Any]:
    """The module's three measures of world joints (F, 17, 3) mm over the valid frames (F,)."""
    world = np.asarray(world, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool) & np.isfinite(world).all(axis=(1, 2))
    contacts = foot_contacts(world, valid, fps, ankle_height)
    return {**bone_spread(world, valid), "jitter_mm_per_frame2": jitter(world, valid),
            "skating": foot_skating(world, contacts, fps)}
