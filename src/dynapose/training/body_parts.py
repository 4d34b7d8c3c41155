"""Body parts of world-frame windows: turned about their parents, or taken from another window.

Both work on bones (each joint minus its parent) expressed in the torso's own frame
(:func:`torso_frames`), so a part keeps its place on the body while the person moves, bone
lengths are kept, and the body is moved vertically afterwards so it stands on the floor as
before. Windows are (B, R, 17, 3) joints, mm, world frame with Z up.
"""

from __future__ import annotations

import numpy as np
import torch

from dynapose.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS

ANKLES = [JOINT_NAMES.index("right_ankle"), JOINT_NAMES.index("left_ankle")]


#: The joints :func:`turn_body_parts` turns about their parents (not the hips: the pelvis's width
#: is fixed by the skeleton's definition).
POSTURE_JOINTS = tuple(j for j in range(1, NUM_JOINTS) if PARENTS[j] != 0 or
                       JOINT_NAMES[j] == "spine")


def _ancestry() -> torch.Tensor:
    """(17, 17): entry (j, k) is 1 when joint k is j or above it, so ``ancestry @ bones`` turns
    bone vectors (each joint minus its parent; the root's own position) into joints."""
    out = torch.zeros(NUM_JOINTS, NUM_JOINTS)
    for j in range(NUM_JOINTS):
        k = j
        while k >= 0:
            out[j, k] = 1.0
            k = PARENTS[k]
    return out


def torso_frames(world: torch.Tensor) -> torch.Tensor:
    """(..., 17, 3) joints -> (..., 3, 3) rotations whose columns are the body's left (right
    hip to left hip), up (pelvis to thorax, made orthogonal) and forward axes."""
    names = JOINT_NAMES.index
    left = world[..., names("left_hip"), :] - world[..., names("right_hip"), :]
    left = left / left.norm(dim=-1, keepdim=True).clamp_min(1e-6)
    up = world[..., names("thorax"), :] - world[..., 0, :]
    up = up - (up * left).sum(-1, keepdim=True) * left
    up = up / up.norm(dim=-1, keepdim=True).clamp_min(1e-6)
    return torch.stack([left, up, torch.linalg.cross(left, up)], -1)


def axis_angle_matrices(vectors: np.ndarray) -> torch.Tensor:
    """Rotation vectors (..., 3) (axis x angle, radians) -> rotation matrices (..., 3, 3), by
    Rodrigues' formula (several times faster on a CPU than ``torch.linalg.matrix_exp``)."""
    v = torch.from_numpy(np.asarray(vectors, dtype=np.float32))
    angle = v.norm(dim=-1, keepdim=True)
    x, y, z = (v / angle.clamp_min(1e-12)).unbind(-1)
    zero = torch.zeros_like(x)
    k = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).view(*x.shape, 3, 3)
    sin, cos = torch.sin(angle)[..., None], torch.cos(angle)[..., None]
    return torch.eye(3) + sin * k + (1 - cos) * (k @ k)


def _mix_joints(matrix: torch.Tensor, joints: torch.Tensor) -> torch.Tensor:
    """``matrix @ joints`` for one (17, 17) matrix and (B, R, 17, 3) joints, as one matrix
    product over every window, frame and axis (batched 17 x 17 products are slow on CPUs)."""
    b, r = joints.shape[:2]
    flat = joints.permute(2, 0, 1, 3).reshape(NUM_JOINTS, -1)
    return (matrix @ flat).view(NUM_JOINTS, b, r, 3).permute(1, 2, 0, 3)


def turn_body_parts(world: torch.Tensor, turns: np.ndarray) -> torch.Tensor:
    """Give each window's person another posture: every joint of :data:`POSTURE_JOINTS` (with
    the joints below it) turned about its parent by rotation vector ``turns[:, joint]``
    ((B, 17, 3) radians), fixed in the torso's frame (:func:`torso_frames`) over the window.

    Part of a held-out subject's error is their own way of standing (Human3.6M S8's head and
    left arm sit away from where a lifter trained on the other subjects puts them, in every
    action): a posture that stays put in the body's frame while the person moves is what the
    2D over a window can reveal. Bone lengths are kept; the body is then moved vertically so
    its lowest ankle over the window is as high as before. (B, R, 17, 3) -> (B, R, 17, 3).

    Not in the presets: held out in turn, the harder subjects gain but S8 does not, and it
    slows each batch (the figures: docs/results.md).
    """
    dev = world.device
    frames, local = local_bones(world)
    turn = axis_angle_matrices(turns).to(dev)  # (B, 17, 3, 3) in the torso's frame
    chain = [torch.eye(3, device=dev).expand(len(world), 3, 3)]  # each bone's turn, ancestors'
    for j in range(1, NUM_JOINTS):  # parents come before their children
        above = chain[PARENTS[j]]
        chain.append(turn[:, j] @ above if j in POSTURE_JOINTS else above)
    out = from_local_bones(frames, torch.einsum("bkcd,brkd->brkc", torch.stack(chain, 1), local))
    out[..., 2] += (lowest_ankle(world) - lowest_ankle(out))[:, None, None]
    return out


def lowest_ankle(world: torch.Tensor) -> torch.Tensor:
    """The height (mm, (B,)) of the lowest ankle over each (B, R, 17, 3) Z-up window."""
    return world[:, :, ANKLES, 2].flatten(1).amin(1)


def local_bones(world: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, R, 17, 3) windows -> their torso frames (B, R, 3, 3) (:func:`torso_frames`) and their
    bones in those frames (B, R, 17, 3); row 0 holds the pelvis's own position, turned alike."""
    frames = torso_frames(world)
    bones = _mix_joints(torch.linalg.inv(_ancestry().to(world.device)), world)
    return frames, torch.einsum("bric,brki->brkc", frames, bones)


def from_local_bones(frames: torch.Tensor, local: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`local_bones`: torso frames and bones in them -> (B, R, 17, 3)."""
    world = torch.einsum("bric,brkc->brki", frames, local)
    return _mix_joints(_ancestry().to(local.device), world).contiguous()


#: The parts :func:`recombine_parts` exchanges, by the joints whose bones (from their parents)
#: they hold. The hips' and the neck's places on the trunk stay the trunk's.
PARTS: dict[str, tuple[int, ...]] = {
    "legs": tuple(JOINT_NAMES.index(n) for n in ("right_knee", "right_ankle", "left_knee",
                                                 "left_ankle")),
    "left_arm": tuple(JOINT_NAMES.index(n) for n in ("left_shoulder", "left_elbow",
                                                     "left_wrist")),
    "right_arm": tuple(JOINT_NAMES.index(n) for n in ("right_shoulder", "right_elbow",
                                                      "right_wrist")),
    "head": tuple(JOINT_NAMES.index(n) for n in ("neck", "head")),
}


def recombine_parts(world: torch.Tensor, donor: torch.Tensor, parts: np.ndarray
                    ) -> torch.Tensor:
    """Windows whose chosen parts move as another window's do: part p of window b (where
    ``parts[b, p]``, (B, len(PARTS)) bool, in :data:`PARTS` order) takes the bone directions,
    in the torso's frame, of ``donor[b]`` (B, R, 17, 3) frame by frame; lengths stay `world`'s.

    Each part's own configuration comes from real (or generated) motion, so its joints stay
    within their ranges relative to the trunk; what is new is the combination: a walker's arms
    on a kneeling person's legs, a sitter's legs under a bending trunk (EvoSkeleton, CVPR 2020,
    and PoseAug, CVPR 2021, widen a lifter's poses this way). The body is then moved vertically
    so its lowest joint over the window is as high as before: kneeling legs put the knees where
    the feet were, on the floor. (B, R, 17, 3) -> (B, R, 17, 3).
    """
    frames, local = local_bones(world)
    _, other = local_bones(donor)
    length = local.norm(dim=-1, keepdim=True)
    direction = other / other.norm(dim=-1, keepdim=True).clamp_min(1e-6)
    take = torch.zeros(len(world), NUM_JOINTS, dtype=torch.bool)
    for p, joints in enumerate(PARTS.values()):
        take[:, list(joints)] |= torch.from_numpy(np.asarray(parts[:, p], dtype=bool))[:, None]
    take = take.to(world.device)[:, None, :, None]
    out = from_local_bones(frames, torch.where(take, direction * length, local))
    lowest = world[..., 2].flatten(1).amin(1) - out[..., 2].flatten(1).amin(1)
    out[..., 2] += lowest[:, None, None]
    return out
