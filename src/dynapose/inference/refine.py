"""Fitting a lifted sequence to its 2D keypoints: rigid bones on the cameras' rays.

A lifter predicts each frame's pose on its own, so its bone lengths wander from frame to frame
and its joints do not quite reproject onto the 2D keypoints it was given. Two facts hold for
every real person filmed by a calibrated camera, and :func:`fit_sequence` imposes both on the
network's output, with no ground truth:

1. **Rigid, symmetric bones.** A person's bone lengths are the same in every frame and on both
   sides. The sequence's lengths are estimated as the median over frames of the predicted ones,
   left and right averaged (:func:`sequence_bone_lengths`); every frame is rebuilt from the
   pelvis with those lengths along its predicted bone directions (:func:`with_bone_lengths`).
2. **Joints on their rays.** Each 2D keypoint, undistorted (:meth:`dynapose.camera.Camera.rays`),
   is the ray (x/z, y/z, 1) from the camera centre on which the joint lies, so a joint is known
   up to its depth Z. The pose is placed in the camera frame by the translation that best
   reprojects it (:func:`dynapose.camera.solve_root_translation`), which gives every joint a
   starting depth Z0. The depths are then fitted, per frame, by Gauss-Newton on
   ``sum_bones (|ray_c Z_c - ray_p Z_p| - L_b)^2 + weight * sum_joints (Z_j - Z0_j)^2``:
   the bone lengths of step 1, staying near the network's depths (which settle, among other
   things, whether a limb points towards the camera or away from it).

The result is root-relative again (camera axes, mm). Step 1 alone (:func:`rigid_bones`) needs
neither camera nor 2D and helps whatever the 2D's quality. Step 2 trusts the 2D completely: on
Human3.6M S8 with the lift-h36m lifter (protocol 1, mm) the network gives 40.0, rigid bones
38.1 and the whole fit 32.2 with the ground-truth 2D -- but with 3 px of Gaussian noise on the
2D (a good detector; ``dynapose evaluate-lift --noise-px 3``) 41.4, 39.5 and 49.4: the fit is
worse than the network, and with 8 px far worse (49.0, 47.1, 94.8). So the fit is for exact
2D (ground truth, projected motion capture, synthetic data); for detections use rigid bones.
"""

from __future__ import annotations

import numpy as np

from dynapose.camera import solve_root_translation
from dynapose.linalg import one_blas_thread
from dynapose.skeleton import BONES, LEFT_JOINTS, NUM_JOINTS, RIGHT_JOINTS, bone_lengths

_CHILD = np.array([c for c, _ in BONES])
_PARENT = np.array([p for _, p in BONES])
#: index in BONES of each joint's bone (the bone ending at it); the pelvis has none
_BONE_OF = {c: i for i, (c, _) in enumerate(BONES)}

#: Weight of the network's depths against the bone lengths in the depth fit (both in mm).
#: Chosen on the held-out training subject S8 with a lift-h36m lifter (receptive field 81,
#: before body_scale and yaw_deg joined the preset; protocol 1 / MPJVE:
#: 0.03 -> 35.4 / 1.58, 0.05 -> 35.2 / 1.39, 0.1 -> 35.3 / 1.25, 0.2 -> 35.8 / 1.22, 0.4 -> 36.3 /
#: 1.23 mm; the network alone 42.8 / 1.66).
DEPTH_WEIGHT = 0.1


def sequence_bone_lengths(joints: np.ndarray) -> np.ndarray:
    """One length per bone for a whole sequence (T, 17, 3) mm -> (16,) mm, `BONES` order: the
    median over frames of each bone's length, then left and right bones averaged."""
    lengths = np.median(bone_lengths(np.asarray(joints, dtype=np.float64)), axis=0)
    for left, right in zip(LEFT_JOINTS, RIGHT_JOINTS, strict=True):
        a, b = _BONE_OF[left], _BONE_OF[right]
        lengths[a] = lengths[b] = 0.5 * (lengths[a] + lengths[b])
    return lengths


def with_bone_lengths(joints: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Poses (..., 17, 3) rebuilt from their pelvis with bone lengths `lengths` (16,) along
    their own bone directions (a zero-length bone keeps its child on its parent)."""
    joints = np.asarray(joints, dtype=np.float64)
    out = np.empty_like(joints)
    out[..., 0, :] = joints[..., 0, :]
    for i, (child, parent) in enumerate(BONES):  # parents come before their children
        bone = joints[..., child, :] - joints[..., parent, :]
        norm = np.linalg.norm(bone, axis=-1, keepdims=True)
        direction = np.divide(bone, norm, out=np.zeros_like(bone), where=norm > 0)
        out[..., child, :] = out[..., parent, :] + lengths[i] * direction
    return out


def rigid_bones(joints: np.ndarray) -> np.ndarray:
    """A sequence (T, 17, 3) with every frame rebuilt from its pelvis along its own bone
    directions with the sequence's bone lengths (:func:`sequence_bone_lengths` over the frames
    that are finite; the others stay NaN): step 1 of the module docstring. It needs no camera
    and no 2D, and on Human3.6M S8 lowers protocol 1 by 1.2-1.7 mm with clean or noisy 2D."""
    joints = np.asarray(joints, dtype=np.float64)
    good = np.isfinite(joints).all(axis=(1, 2))
    if not good.any():
        return np.full(joints.shape, np.nan)
    return with_bone_lengths(joints, sequence_bone_lengths(joints[good]))


def fit_depths(joints: np.ndarray, rays: np.ndarray, lengths: np.ndarray,
               weight: float = DEPTH_WEIGHT, iterations: int = 8) -> np.ndarray:
    """Camera-frame joints (T, 17, 3) mm on the rays (T, 17, 2) whose bones best have `lengths`
    (16,) mm while their depths stay near those of `joints` placed by
    :func:`dynapose.camera.solve_root_translation` (root-relative input; see the module
    docstring). Frames with non-finite rays or joints come back NaN."""
    joints = np.asarray(joints, dtype=np.float64)
    rays = np.asarray(rays, dtype=np.float64)
    out = np.full(joints.shape, np.nan)
    ok = np.isfinite(joints).all(axis=(1, 2)) & np.isfinite(rays).all(axis=(1, 2))
    if not ok.any():
        return out
    rel, ray = joints[ok], np.concatenate([rays[ok], np.ones_like(rays[ok][..., :1])], -1)
    root = solve_root_translation(rel - rel[:, :1], ray[..., :2], None, 1.0, 0.0, 0.0)
    z0 = rel[..., 2] - rel[:, :1, 2] + root[:, None, 2]  # (F, 17) starting depths
    z = z0.copy()
    frames, bones = len(z), len(BONES)
    rows = np.arange(bones)
    jac = np.zeros((frames, bones + NUM_JOINTS, NUM_JOINTS))
    jac[:, bones + np.arange(NUM_JOINTS), np.arange(NUM_JOINTS)] = np.sqrt(weight)
    with one_blas_thread():  # thousands of 17 x 17 systems: one thread (dynapose.linalg)
        for _ in range(iterations):
            points = ray * z[..., None]
            bone = points[:, _CHILD] - points[:, _PARENT]  # (F, 16, 3)
            length = np.linalg.norm(bone, axis=-1)
            unit = bone / np.maximum(length, 1e-9)[..., None]
            jac[:, rows, _CHILD] = (unit * ray[:, _CHILD]).sum(-1)
            jac[:, rows, _PARENT] = -(unit * ray[:, _PARENT]).sum(-1)
            residual = np.concatenate([length - lengths, np.sqrt(weight) * (z - z0)], axis=1)
            normal = jac.transpose(0, 2, 1) @ jac
            step = np.linalg.solve(normal, jac.transpose(0, 2, 1) @ residual[..., None])
            z = z - step[..., 0]
    out[ok] = ray * z[..., None]
    return out


def fit_sequence(joints: np.ndarray, rays: np.ndarray, weight: float = DEPTH_WEIGHT,
                 iterations: int = 8) -> np.ndarray:
    """A lifted sequence (T, 17, 3) mm, root-relative camera frame, and the rays (T, 17, 2) of
    its 2D keypoints -> the same joints fitted to rigid bones on those rays (module docstring),
    root-relative. Frames with non-finite joints or rays come back NaN and are left out of the
    bone-length estimate."""
    joints = np.asarray(joints, dtype=np.float64)
    good = np.isfinite(joints).all(axis=(1, 2)) & np.isfinite(rays).all(axis=(1, 2))
    if not good.any():
        return np.full(joints.shape, np.nan)
    lengths = sequence_bone_lengths(joints[good])
    placed = fit_depths(with_bone_lengths(joints, lengths), rays, lengths, weight, iterations)
    return placed - placed[:, :1]
