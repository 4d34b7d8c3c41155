"""Lifter training batches: random windows of world motion, augmented, projected to 2D.

Each window is moved, turned, scaled and mirrored as one affine map in the world frame (plus
optional body-part turns), then projected through a real camera (torch, batched) into the lifter's
normalised 2D input; the targets are the window's root-relative camera-frame joints, mm.

A batch is computed on the device that holds the motion and the camera table (a GPU in
training on CUDA: :func:`motion_tensor`, :func:`camera_tensors`). Every random choice (windows,
cameras, augmentation parameters, noise) is drawn on the CPU by the numpy generator, in the same
order on every device, so the same seed gives the same batches on a CPU and a GPU up to float
rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from dynapose.camera import Camera, normalize_screen, project_torch
from dynapose.config import LiftConfig
from dynapose.data.lift_motion import MotionData
from dynapose.skeleton import LEFT_JOINTS, NUM_JOINTS, PARENTS, RIGHT_JOINTS, flip_permutation
from dynapose.training.body_parts import (
    ANKLES,
    PARTS,
    lowest_ankle,
    recombine_parts,
    turn_body_parts,
)
from dynapose.training.detector_model import detector_noise, displace_joints
from dynapose.training.views import user_views


def camera_tensors(cameras: list[Camera], device: torch.device | str = "cpu"
                   ) -> dict[str, torch.Tensor]:
    """The camera table as float32 tensors on `device`: R (C,3,3), T (C,3), f, c (C,2),
    k (C,3), p (C,2), size (C,2) = (width, height)."""
    def stack(name: str) -> torch.Tensor:
        return torch.as_tensor(np.stack([getattr(c, name) for c in cameras]), dtype=torch.float32)

    table = {name: stack(name) for name in ("R", "T", "f", "c", "k", "p")}
    table["size"] = torch.as_tensor([[c.width, c.height] for c in cameras], dtype=torch.float32)
    return {name: t.to(device) for name, t in table.items()}


def motion_tensor(motion: MotionData, device: torch.device | str = "cpu") -> torch.Tensor:
    """The motion's world-frame joints (N, 17, 3) mm as one float32 tensor on `device`, for
    :func:`make_batch` to cut windows from (Human3.6M's training subjects: 75 MB)."""
    return torch.from_numpy(motion.world).to(device)


def window_offsets(receptive_field: int, causal: bool, frame_stride: int = 1) -> np.ndarray:
    """Frame offsets of a window's R frames relative to its predicted frame."""
    r = receptive_field - 1
    steps = np.arange(-r, 1) if causal else np.arange(-(r // 2), r - r // 2 + 1)
    return steps * frame_stride


def sample_windows(motion: MotionData, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """n random (frame, camera) pairs, frames uniform over all frames: (global frame, sequence
    index, camera index) arrays."""
    starts = np.array([s["start"] for s in motion.sequences])
    frame = rng.integers(0, motion.num_frames, size=n)
    seq = np.searchsorted(starts, frame, side="right") - 1
    ncams = np.array([len(s["cameras"]) for s in motion.sequences])
    pick = (rng.random(n) * ncams[seq]).astype(int)
    cams = np.array([motion.sequences[s]["cameras"][j] for s, j in zip(seq, pick, strict=True)])
    return frame, seq, cams


def window_index(motion: MotionData, frame: np.ndarray, seq: np.ndarray, config: LiftConfig
                 ) -> np.ndarray:
    """(B, R) global frame indices of the windows around global frames `frame` of sequences
    `seq`, padded at sequence ends by repeating the edge frame."""
    starts = np.array([motion.sequences[s]["start"] for s in seq])
    ends = starts + np.array([motion.sequences[s]["frames"] for s in seq]) - 1
    offsets = window_offsets(config.receptive_field, config.causal, config.frame_stride)
    return np.clip(frame[:, None] + offsets[None, :], starts[:, None], ends[:, None])


def make_batch(motion: MotionData, cams: dict[str, torch.Tensor], frame: np.ndarray,
               seq: np.ndarray, cam: np.ndarray, config: LiftConfig, rng: np.random.Generator,
               augment: bool = True, world: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Windows around global frames `frame` of sequences `seq`, filmed by cameras `cam`.

    Returns (inputs (B, R, 17, 2) normalised coordinates, targets (B, 17, 3) root-relative
    camera-frame mm), on the device of `world` (:func:`motion_tensor`; default the CPU), where
    `cams` must be too. Windows are padded at sequence ends by repeating the edge frame.

    Apart from the optional posture turn (:func:`turn_body_parts`, applied first), every
    augmentation before the projection is linear in the joints, so a window's camera-frame
    points are ``A @ (M @ world) + t``: M (17 x 17, per window) scales the bones and mirrors
    left/right, A (3 x 3) turns the person, rotates into the camera and flips x, and t holds
    the translations (camera position, turn pivot, feet kept on the floor). One batched matrix
    product per window then does what a pass per augmentation did, in under half the time
    (docs/results.md; ``test_one_affine_map_per_window_...`` checks it against the
    augmentations applied one by one).
    """
    b = len(frame)
    offsets = window_offsets(config.receptive_field, config.causal, config.frame_stride)
    idx = window_index(motion, frame, seq, config)
    source = torch.from_numpy(motion.world) if world is None else world
    dev = source.device

    def put(array: np.ndarray) -> torch.Tensor:  # a CPU draw, on the batch's device
        return torch.from_numpy(array).to(dev)

    world = source[put(idx)]  # (B, R, 17, 3)
    if augment and config.recombine > 0:
        world = with_parts_of_others(motion, source, world, config, rng)
    if augment and config.posture_deg > 0:
        turns = rng.normal(0.0, math.radians(config.posture_deg), (b, NUM_JOINTS, 3))
        world = turn_body_parts(world, turns)
    centre = int(np.nonzero(offsets == 0)[0][0])
    pivot = world[:, centre, 0].clone()  # the person turns about the centre frame's pelvis
    pivot[:, 2] = 0
    turn = torch.eye(3, device=dev).repeat(b, 1, 1)  # (B, 3, 3) about the vertical (world Z)
    if augment and config.yaw_deg > 0:
        angle = put(rng.uniform(-1, 1, b) * math.radians(config.yaw_deg)).float()
        cos, sin = torch.cos(angle), torch.sin(angle)
        turn[:, 0, 0], turn[:, 0, 1], turn[:, 1, 0], turn[:, 1, 1] = cos, -sin, sin, cos
    joints = torch.eye(NUM_JOINTS, device=dev).repeat(b, 1, 1)  # (B, 17, 17): the bone scaling
    lift = torch.zeros(b, device=dev)  # vertical shift keeping the feet on the floor, mm
    if augment and (config.bone_scale > 0 or config.body_scale > 0):
        factors = rng.normal(1.0, config.bone_scale, (b, NUM_JOINTS))
        joints = bone_scaling(factors * rng.normal(1.0, config.body_scale, (b, 1))).to(dev)
        if config.keep_feet_on_floor:
            lift = floor_shift(world, joints)
    ci = put(cam)
    view = {name: t[ci] for name, t in cams.items()}  # each window's camera
    if augment and config.user_views > 0:
        chosen = rng.random(b) < config.user_views
        aim = world[:, centre, 0].detach().cpu().double().numpy()  # the centre frame's pelvis
        drawn = user_views(rng, aim, dev)
        pick = put(chosen)
        view = {name: torch.where(pick.view(-1, *[1] * (t.dim() - 1)), drawn[name], t)
                for name, t in view.items()}
    R, T = view["R"], view["T"]
    mirror = torch.ones(b, 3, device=dev)
    if augment and config.flip > 0:
        flip = put(rng.random(b) < config.flip)
        joints = torch.where(flip[:, None, None], joints[:, put(flip_permutation())], joints)
        mirror[:, 0] = torch.where(flip, -1.0, 1.0)
    rotate = mirror[:, :, None] * (R @ turn)  # (B, 3, 3)
    up = torch.zeros(b, 3, device=dev)
    up[:, 2] = lift
    shift = mirror * torch.einsum("bij,bj->bi", R, (turn @ (up - pivot)[..., None])[..., 0]
                                  + pivot - T)
    # one (R, 51) x (51, 51) product per window: the Kronecker product of joints and rotate
    affine = torch.einsum("bjk,bic->bjikc", joints, rotate).reshape(b, 3 * NUM_JOINTS, -1)
    points = torch.baddbmm(shift.repeat(1, NUM_JOINTS)[:, None], world.flatten(2),
                           affine.transpose(1, 2)).view(world.shape)
    # A window that leaves the camera's view (possible with synthetic motion) is moved so its
    # centre-frame pelvis stands at the world origin: the lens model is only valid in view.
    away = out_of_view(points)
    if bool(away.any()):
        back = mirror * torch.einsum("bij,bj->bi", R, pivot)
        points = torch.where(away[:, None, None, None], points - back[:, None, None], points)
        # One that travels too far for that (a 3 s run crosses the room) would put joints near
        # the camera's plane, 2D coordinates up to 1e17: it is filmed from farther away, its
        # path centred on the optical axis; what still does not fit is replaced by the batch's
        # first window in view (the batch's size and its random draws are unchanged).
        away = out_of_view(points)
        if bool(away.any()):
            points = torch.where(away[:, None, None, None], step_back(points), points)
            away = out_of_view(points)
        if bool(away.any()) and not bool(away.all()):
            first = torch.argmin(away.int())
            points = torch.where(away[:, None, None, None], points[first], points)
    target = points[:, centre] - points[:, centre, :1]
    px = observe(points, view, config, rng, augment)
    size = view["size"]
    inputs = normalize_screen(px, size[:, 0, None, None], size[:, 1, None, None])
    return inputs.float(), target.float()


def with_parts_of_others(motion: MotionData, source: torch.Tensor, world: torch.Tensor,
                         config: LiftConfig, rng: np.random.Generator) -> torch.Tensor:
    """`world` windows (B, R, 17, 3), a ``config.recombine`` share of them given body parts
    (:func:`~dynapose.training.body_parts.recombine_parts`: each part of :data:`PARTS` with
    probability 1/2, at least one) of other random windows of `motion` (held in `source`)."""
    chosen = np.nonzero(rng.random(len(world)) < config.recombine)[0]
    if not len(chosen):
        return world
    frame, seq, _ = sample_windows(motion, len(chosen), rng)
    donor = source[torch.from_numpy(window_index(motion, frame, seq, config)).to(source.device)]
    parts = rng.random((len(chosen), len(PARTS))) < 0.5
    none = ~parts.any(1)
    parts[none, rng.integers(0, len(PARTS), int(none.sum()))] = True
    rows = torch.from_numpy(chosen).to(world.device)
    world = world.clone()
    world[rows] = recombine_parts(world[rows], donor, parts)
    return world


def exact_2d(points: torch.Tensor, view: dict[str, torch.Tensor], config: LiftConfig,
             rng: np.random.Generator, augment: bool) -> torch.Tensor:
    """The projection of camera-frame windows (B, R, 17, 3) mm through each window's camera
    `view` -> (B, R, 17, 2) px, with the generic augmentations: ``jitter_mm`` (3D, held over the
    window) and ``noise_px`` (2D, every frame)."""
    b = len(points)
    if augment and config.jitter_mm > 0:
        jitter = rng.normal(0, config.jitter_mm, (b, 1, NUM_JOINTS, 3)).astype(np.float32)
        points = points + torch.from_numpy(jitter).to(points.device)
    px = project_torch(points, view["f"], view["c"], view["k"], view["p"])
    if augment and config.noise_px > 0:
        px = px + torch.from_numpy(rng.normal(0, config.noise_px, px.shape).astype(
            np.float32)).to(px.device)
    return px


def modelled_detector_2d(points: torch.Tensor, view: dict[str, torch.Tensor],
                         config: LiftConfig, rng: np.random.Generator, augment: bool
                         ) -> torch.Tensor:
    """What a detector would find (:mod:`dynapose.training.detector_model`) in the image of
    camera-frame windows (B, R, 17, 3) mm through `view` -> (B, R, 17, 2) px."""
    px = project_torch(displace_joints(points, rng), view["f"], view["c"], view["k"], view["p"])
    return detector_noise(px, rng)


#: The 2D sources of projected windows, by the config share that picks them (the rest:
#: :func:`exact_2d`). Each turns camera-frame windows and their cameras into pixels.
Observer = Callable[[torch.Tensor, dict[str, torch.Tensor], LiftConfig, np.random.Generator,
                     bool], torch.Tensor]
OBSERVERS: dict[str, Observer] = {"detector_model": modelled_detector_2d}


def observe(points: torch.Tensor, view: dict[str, torch.Tensor], config: LiftConfig,
            rng: np.random.Generator, augment: bool) -> torch.Tensor:
    """The 2D (B, R, 17, 2) px of camera-frame windows (B, R, 17, 3) mm: each window from one
    source of :data:`OBSERVERS`, drawn by their config shares (with `augment`), else
    :func:`exact_2d`."""
    px = exact_2d(points, view, config, rng, augment)
    if not augment:
        return px
    draw = rng.random(len(points))
    low = 0.0
    for name, source in OBSERVERS.items():
        share = float(getattr(config, name))
        chosen = np.nonzero((draw >= low) & (draw < low + share))[0]
        low += share
        if len(chosen):
            rows = torch.from_numpy(chosen).to(points.device)
            px[rows] = source(points[rows], {k: v[rows] for k, v in view.items()}, config,
                              rng, augment)
    return px


def out_of_view(points: torch.Tensor) -> torch.Tensor:
    """(B, R, 17, 3) camera-frame windows, mm -> (B,) bool: some joint of the window is nearer
    than 0.5 m or off the cone of half-angle atan(0.6) (about 31 degrees) in x or y."""
    x, y, z = points.unbind(-1)
    margin = 0.6 * z
    return ((z < 500) | (x.abs() > margin) | (y.abs() > margin)).flatten(1).any(1)


def step_back(points: torch.Tensor) -> torch.Tensor:
    """Camera-frame windows (B, R, 17, 3) mm moved so the middle of their pelvis's path is on the
    optical axis, at the least depth (never nearer than before) where every joint of the window
    is inside the cone :func:`out_of_view` checks, with 5 % to spare: a long run seen from far
    away."""
    path = points[:, :, 0]  # (B, R, 3)
    middle = (path.amax(1) + path.amin(1)) / 2
    rel = (points - middle[:, None, None]).flatten(1, 2)  # (B, R * 17, 3)
    # a joint at depth d + dz with offsets x, y fits when d >= max(0.5 m, |x| / 0.6, |y| / 0.6)
    # - dz
    need = torch.maximum(rel[..., :2].abs().amax(-1) / 0.6, rel.new_tensor(500.0)) - rel[..., 2]
    depth = torch.maximum(middle[:, 2], 1.05 * need.amax(1))
    shift = torch.stack([-middle[:, 0], -middle[:, 1], depth - middle[:, 2]], -1)
    return points + shift[:, None, None]


def bone_scaling(factors: np.ndarray) -> torch.Tensor:
    """Per-window bone factors (B, 17) (entry j scales the bone from joint j's parent to j) ->
    (B, 17, 17) joint maps M with ``M @ joints`` the scaled body, pelvis fixed.

    The right side's factors are copied from the left so the body stays symmetric (and
    mirroring commutes with the scaling); factors are clipped to [0.7, 1.3].
    """
    factors = factors.copy()
    factors[:, list(RIGHT_JOINTS)] = factors[:, list(LEFT_JOINTS)]
    f = torch.from_numpy(np.clip(factors, 0.7, 1.3).astype(np.float32))
    eye = torch.eye(NUM_JOINTS)
    rows = [eye[0].expand(len(f), -1)]
    for j, parent in enumerate(PARENTS):  # parents come before their children
        if parent >= 0:
            rows.append(rows[parent] + f[:, j, None] * (eye[j] - eye[parent]))
    return torch.stack(rows, 1)


def floor_shift(world: torch.Tensor, joints: torch.Tensor) -> torch.Tensor:
    """How far (mm, (B,)) to lift the bodies ``joints @ world`` ((B, 17, 17) maps applied to
    (B, R, 17, 3) world windows, Z up) so their lowest ankle over the window is as high as before.

    Scaling about the pelvis alone would push longer legs through the floor and teach the
    network that where the feet meet the floor in the image (a cue to distance, hence to size)
    means nothing.
    """
    after = torch.einsum("bak,bfk->bfa", joints[:, ANKLES], world[..., 2]).flatten(1).amin(1)
    return lowest_ankle(world) - after
