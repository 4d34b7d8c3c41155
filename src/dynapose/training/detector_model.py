"""A model of the errors a 2D detector makes, for lifter windows projected from motion.

The lifter in ``predict`` reads a detector's keypoints (MediaPipe's), never an exact projection.
This model gives projected training windows the kinds of error a detector makes, at sizes taken
from published statistics, not fitted on any benchmark's detections:

- **joint definitions** (3D, per window): a detector's hips, pelvis, spine, thorax, neck/nose
  and head are its annotators' points, not a mocap skeleton's: each is moved along the trunk by
  N(0, 30 mm), the hips apart or together by N(0, 15 %) of the hip width;
- **joints slid along limbs** (3D, per window): knees, ankles, elbows and wrists moved along
  their bone by N(0, 5 %) of its length;
- **localisation error** (2D): per joint, a bias held over the window plus a smooth jitter
  (AR(1), correlation 0.8 frame to frame), each of standard deviation ``level * sigma_k * s`` per
  coordinate, where sigma_k is COCO's per-keypoint spread of human annotations (the OKS
  constants: nose 0.026, shoulders 0.079, elbows 0.072, wrists 0.062, hips 0.107, knees 0.087,
  ankles 0.089; derived joints from their sources), s the person's scale (0.9 x the square root
  of the joints' box area, about COCO's sqrt(segment area)) and level ~ U(0.25, 1) per window,
  from a detector as good as an annotator to one four times better;
- **left/right swaps** (2D): with probability 0.08 a window has the arms' or the legs' sides
  exchanged for 2-12 frames;
- **a lost limb** (2D): with probability 0.05 a window has one forearm or shank (elbow and
  wrist, or knee and ankle) collapsed onto its shoulder or hip for 2-10 frames.
"""

from __future__ import annotations

import numpy as np
import torch

from dynapose.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS

_J = JOINT_NAMES.index
#: COCO's keypoint OKS sigmas, on the 17 joints (derived joints: their sources' combined spread).
COCO_SIGMA = np.array([
    0.076, 0.107, 0.087, 0.089, 0.107, 0.087, 0.089,  # pelvis (mean of hips), legs
    0.065, 0.056, 0.026, 0.030,  # spine, thorax (mean of shoulders), nose, head (eyes/ears)
    0.079, 0.072, 0.062, 0.079, 0.072, 0.062,  # arms
])
TRUNK = [_J(n) for n in ("pelvis", "right_hip", "left_hip", "spine", "thorax", "neck", "head")]
LIMB_ENDS = [_J(n) for n in ("right_knee", "right_ankle", "left_knee", "left_ankle",
                             "left_elbow", "left_wrist", "right_elbow", "right_wrist")]
SWAPS = ([_J(n) for n in ("right_shoulder", "right_elbow", "right_wrist")],
         [_J(n) for n in ("left_shoulder", "left_elbow", "left_wrist")],
         [_J(n) for n in ("right_hip", "right_knee", "right_ankle")],
         [_J(n) for n in ("left_hip", "left_knee", "left_ankle")])
#: A lost limb: (the joints that collapse, the joint they collapse onto).
LOST = (([_J("left_elbow"), _J("left_wrist")], _J("left_shoulder")),
        ([_J("right_elbow"), _J("right_wrist")], _J("right_shoulder")),
        ([_J("left_knee"), _J("left_ankle")], _J("left_hip")),
        ([_J("right_knee"), _J("right_ankle")], _J("right_hip")))
SWAP_RATE, LOST_RATE = 0.08, 0.05


def _gen(rng: np.random.Generator, shape: tuple[int, ...], std: float = 1.0) -> np.ndarray:
    return rng.normal(0.0, std, shape).astype(np.float32)


def displace_joints(points: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Camera-frame windows (B, R, 17, 3) mm -> the points a detector would call those joints
    (module docstring: joint definitions and slides along limbs, held over each window)."""
    b = len(points)
    put = lambda a: torch.from_numpy(a).to(points.device)  # noqa: E731
    centre = points.shape[1] // 2
    trunk = points[:, centre, _J("thorax")] - points[:, centre, 0]
    trunk = trunk / trunk.norm(dim=-1, keepdim=True).clamp_min(1e-6)  # (B, 3)
    out = points.clone()
    along = put(_gen(rng, (b, len(TRUNK)), 30.0))
    out[:, :, TRUNK] += along[:, None, :, None] * trunk[:, None, None, :]
    width = put(_gen(rng, (b, 1), 0.15))
    for hip in (_J("right_hip"), _J("left_hip")):
        out[:, :, hip] += width[:, None] * (points[:, :, hip] - points[:, :, 0])
    slide = put(_gen(rng, (b, len(LIMB_ENDS)), 0.05))
    parents = [PARENTS[j] for j in LIMB_ENDS]
    bones = points[:, :, LIMB_ENDS] - points[:, :, parents]  # (B, R, 8, 3)
    out[:, :, LIMB_ENDS] += slide[:, None, :, None] * bones
    return out


def person_scale(px: torch.Tensor) -> torch.Tensor:
    """(B, R, 17, 2) px -> (B,) the person's scale s, px: 0.9 x sqrt of the joints' box area over
    the window's centre frame, the box's short side at least 0.3 x its long side."""
    frame = px[:, px.shape[1] // 2]
    extent = frame.amax(1) - frame.amin(1)  # (B, 2)
    long, short = extent.amax(-1), extent.amin(-1)
    return 0.9 * torch.sqrt(long * torch.maximum(short, 0.3 * long)).clamp_min(1.0)


def detector_noise(px: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Projected windows (B, R, 17, 2) px -> with a detector's localisation error, swaps and lost
    limbs (module docstring)."""
    b, r = px.shape[:2]
    dev = px.device
    put = lambda a: torch.from_numpy(a).to(dev)  # noqa: E731
    level = rng.uniform(0.25, 1.0, b).astype(np.float32)
    std = put(level[:, None] * COCO_SIGMA[None].astype(np.float32)) * person_scale(px)[:, None]
    bias = put(_gen(rng, (b, 1, NUM_JOINTS, 2)))
    steps = _gen(rng, (b, r, NUM_JOINTS, 2))
    jitter = np.empty_like(steps)
    jitter[:, 0] = steps[:, 0]
    rho = 0.8
    for t in range(1, r):  # AR(1) of unit variance
        jitter[:, t] = rho * jitter[:, t - 1] + np.sqrt(1 - rho**2) * steps[:, t]
    return swaps_and_losses(px + (bias + put(jitter)) * std[:, None, :, None], rng)


def swaps_and_losses(px: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Windows (B, R, 17, 2) px with the arms' or legs' sides exchanged (probability
    :data:`SWAP_RATE`, 2-12 frames) or a forearm or shank collapsed onto its root joint
    (:data:`LOST_RATE`, 2-10 frames)."""
    b, r = px.shape[:2]
    out = px.clone()
    frames = torch.arange(r, device=px.device)
    for rate, kinds, lo, hi in ((SWAP_RATE, 2, 2, 12), (LOST_RATE, len(LOST), 2, 10)):
        hit = np.nonzero(rng.random(b) < rate)[0]
        if len(hit) == 0:
            continue
        kind = rng.integers(0, kinds, len(hit))
        length = rng.integers(lo, hi + 1, len(hit))
        start = rng.integers(0, max(r - lo, 1), len(hit))
        for i, k, n, s in zip(hit, kind, length, start, strict=True):
            span = (frames >= s) & (frames < s + n)
            if rate == SWAP_RATE:  # k 0: arms, 1: legs
                a, c = SWAPS[2 * k], SWAPS[2 * k + 1]
                both = out[i][:, a + c].clone()
                swapped = torch.cat([both[:, len(a):], both[:, :len(a)]], 1)
                rows = out[i].clone()
                rows[:, a + c] = torch.where(span[:, None, None], swapped, both)
                out[i] = rows
            else:
                joints, onto = LOST[k]
                rows = out[i].clone()
                rows[:, joints] = torch.where(span[:, None, None],
                                              rows[:, onto:onto + 1].expand(-1, len(joints), -1),
                                              rows[:, joints])
                out[i] = rows
    return out
