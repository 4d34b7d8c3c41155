"""The 17-joint Human3.6M skeleton used everywhere in DynaPose.

Joint order as VideoPose3D and MMPose use it. Coordinates are millimetres; 3D joints live in the
camera frame (x right, y down, z forward) unless a function says otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "pelvis",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "spine",
    "thorax",
    "neck",
    "head",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
)
NUM_JOINTS = len(JOINT_NAMES)

#: Parent of each joint (-1 for the root, the pelvis).
PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)

#: Joints on the subject's left and right side; mirror images of each other, index by index.
LEFT_JOINTS: tuple[int, ...] = (4, 5, 6, 11, 12, 13)
RIGHT_JOINTS: tuple[int, ...] = (1, 2, 3, 14, 15, 16)

#: Indices of the 17 joints among Human3.6M's 32 motion-capture joints.
H36M_32_TO_17: tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)

#: (child, parent) pairs: the 16 bones.
BONES: tuple[tuple[int, int], ...] = tuple((j, p) for j, p in enumerate(PARENTS) if p >= 0)

PELVIS = 0


def flip_permutation() -> np.ndarray:
    """Joint permutation that swaps left and right (for horizontal-flip augmentation)."""
    perm = np.arange(NUM_JOINTS)
    perm[list(LEFT_JOINTS)] = RIGHT_JOINTS
    perm[list(RIGHT_JOINTS)] = LEFT_JOINTS
    return perm


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """Length of each bone in `BONES` order: (..., 17, 3) -> (..., 16), same unit as the input."""
    child = np.array([c for c, _ in BONES])
    parent = np.array([p for _, p in BONES])
    return np.linalg.norm(joints[..., child, :] - joints[..., parent, :], axis=-1)


#: What a model can be trained to predict: "camera" = joints in the camera frame (the report's
#: targets); "root" = relative to the pelvis, camera axes kept (the field's usual target for image
#: models: a crop around the person hides how far away they stand).
TARGET_FRAMES = ("camera", "root")


def in_target_frame(joints: Any, frame: str) -> Any:
    """Camera-frame joints (..., 17, 3) mm (numpy or torch) -> the same in `frame`."""
    if frame == "camera":
        return joints
    if frame == "root":
        return joints - joints[..., :1, :]
    raise ValueError(f"unknown target frame {frame!r} (one of {', '.join(TARGET_FRAMES)})")
