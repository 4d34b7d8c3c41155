"""Training 2D -> 3D lifters (:mod:`dynapose.models.lifter`) on 3D motion, projected on the fly.

Read top to bottom: :func:`load_motion` reads world-frame 3D motion (VideoPose3D npz, a pose
store, or DynaPose's procedural motion) with the cameras that filmed it; :func:`make_batch` cuts
random windows, optionally turns each person about the vertical axis and scales their bones
(per bone, left and right alike, and overall: unseen bodies are what held-out subjects are),
picks a camera, optionally mirrors the person (x -> -x in the camera frame, left/right joints
swapped), and *projects* the 3D through the camera (Brown-Conrady distortion, as Human3.6M) to
get the 2D input, with 2D Gaussian noise and joint-definition jitter (a constant 3D offset per
joint and window applied to the input only). Optionally each body part is first turned about
its parent, fixed in the torso's frame over the window (``posture_deg``,
:func:`turn_body_parts`). Targets are root-relative camera-frame joints (mm) of the window's
centre frame (last frame when causal). A batch is a pure function of
(seed, epoch, step), so a resumed run replays exactly the batches it would have seen.

:func:`train_lifter` runs Adam (AMSGrad, as VideoPose3D) on the MPJPE loss with a per-step
learning-rate schedule and a decaying BatchNorm momentum, optionally under bfloat16 autocast
(``precision: bf16``, :func:`train_step`), writes ``metrics.csv`` each epoch and a
resumable ``state.safetensors`` every ``checkpoint_every`` steps
(:func:`dynapose.train.save_state`).

Run folder::

    RUN/run.json          the LiftConfig and the data it trained on
    RUN/metrics.csv       one row per epoch
    RUN/checkpoint/       the latest weights (safetensors + config.json)
    RUN/state.safetensors the resumable snapshot
    RUN/eval.json         the full protocol evaluation (``--evaluate``), see lift_eval
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from dynapose import metrics
from dynapose.camera import Camera
from dynapose.checkpoint import save_checkpoint
from dynapose.config import check_settings, read_preset, read_settings_file
from dynapose.errors import DynaPoseError
from dynapose.fsutil import atomic_write_text
from dynapose.models import build_model
from dynapose.models.lifter import TemporalLifter, filter_widths_for, normalize_screen
from dynapose.skeleton import (
    H36M_32_TO_17,
    JOINT_NAMES,
    LEFT_JOINTS,
    NUM_JOINTS,
    PARENTS,
    RIGHT_JOINTS,
    flip_permutation,
)
from dynapose.train import load_state, save_state

STATE = "state.safetensors"
ANKLES = [JOINT_NAMES.index("right_ankle"), JOINT_NAMES.index("left_ankle")]
METRICS_CSV = "metrics.csv"
CSV_COLUMNS = ("epoch", "step", "samples", "seconds", "lr", "train_mpjpe_p1", "val_mpjpe_p1",
               "val_p_mpjpe")


# --------------------------------------------------------------------------------------------
# Configuration (its own dataclass: the image models' TrainConfig does not fit lifters)
# --------------------------------------------------------------------------------------------
@dataclass
class LiftConfig:
    """Everything a lifter training run needs besides its data (presets: configs/lift-*.yaml)."""

    receptive_field: int = 27  # frames: 1, 27, 81 or 243
    frame_stride: int = 1  # the network sees every s-th frame: a window spans (R-1)*s+1 frames
    channels: int = 512
    dropout: float = 0.25
    causal: bool = False
    confidence: bool = False  # a third input value per joint (1.0 for ground-truth 2D)
    epochs: int = 10
    samples_per_epoch: int = 200_000  # random windows per epoch
    batch_size: int = 1024
    lr: float = 1e-3
    lr_end: float = 1e-5  # learning rate at the last step
    schedule: str = "exp"  # exp | cosine: decay from lr to lr_end over all steps
    warmup: float = 0.0  # share of all steps with a linear warm-up
    amsgrad: bool = True
    precision: str = "fp32"  # fp32 | bf16: the training forward/backward under bfloat16 autocast
    bn_momentum: float = 0.1  # BatchNorm momentum at the start ...
    bn_momentum_end: float = 0.01  # ... decayed exponentially to this (VideoPose3D: 0.001)
    train_subjects: list[str] = field(default_factory=lambda: ["S1", "S5", "S6", "S7"])
    val_subjects: list[str] = field(default_factory=lambda: ["S8"])
    flip: float = 0.5  # probability of mirroring a window
    yaw_deg: float = 0.0  # turn each window's person by up to +- this about the vertical axis
    noise_px: float = 0.0  # std of Gaussian noise added to the 2D input, pixels
    jitter_mm: float = 0.0  # std of the per-joint offset applied to the input's 3D only
    bone_scale: float = 0.0  # std of a per-window factor on each bone's length (left = right)
    body_scale: float = 0.0  # std of a per-window factor on every bone (the person's size)
    posture_deg: float = 0.0  # std (degrees, per axis) of a per-window turn of each body part
    keep_feet_on_floor: bool = True  # after scaling, shift the body so its feet touch the floor
    val_windows: int = 4096  # fixed validation windows scored each epoch
    seed: int = 0
    threads: int = 0  # torch threads; 0 = all cores
    checkpoint_every: int = 100  # steps between resumable snapshots (0: epoch ends only)
    preset: str = ""

    def validate(self, source: str | None = None) -> LiftConfig:
        """Raise DynaPoseError on impossible values; return self."""
        checks = [
            (self.receptive_field in (1, 27, 81, 243), "receptive_field must be 1, 27, 81 or 243"),
            (self.frame_stride >= 1, "frame_stride must be >= 1"),
            (self.channels >= 1 and self.epochs >= 1 and self.batch_size >= 1,
             "channels, epochs and batch_size must be >= 1"),
            (self.samples_per_epoch >= self.batch_size, "samples_per_epoch must be >= batch_size"),
            (0 <= self.dropout < 1 and 0 <= self.flip <= 1, "dropout and flip must be in [0, 1)"),
            (self.lr > 0 and 0 < self.lr_end <= self.lr, "need 0 < lr_end <= lr"),
            (self.schedule in ("exp", "cosine"), f"unknown schedule {self.schedule!r}"),
            (self.precision in ("fp32", "bf16"), f"precision must be fp32 or bf16, "
                                                 f"got {self.precision!r}"),
            (0 <= self.warmup < 1, "warmup must be in [0, 1)"),
            (min(self.noise_px, self.jitter_mm, self.yaw_deg, self.bone_scale,
                 self.body_scale, self.posture_deg) >= 0,
             "augmentations must be >= 0"),
            (self.threads >= 0 and self.checkpoint_every >= 0 and self.val_windows >= 0,
             "threads, checkpoint_every and val_windows must be >= 0"),
            (bool(self.train_subjects), "train_subjects is empty"),
            (not set(self.train_subjects) & set(self.val_subjects),
             f"subjects {sorted(set(self.train_subjects) & set(self.val_subjects))} are in both "
             "train_subjects and val_subjects: validation would score the training data"),
        ]
        check_settings(checks, source)
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def model_config(self) -> dict[str, Any]:
        return {"filter_widths": list(filter_widths_for(self.receptive_field)),
                "channels": self.channels, "dropout": self.dropout, "causal": self.causal,
                "confidence": self.confidence, "bn_momentum": self.bn_momentum,
                "frame_stride": self.frame_stride}


def lift_preset_names() -> list[str]:
    folder = resources.files("dynapose") / "configs"
    return sorted(p.name[:-5] for p in folder.iterdir()
                  if p.name.startswith("lift-") and p.name.endswith(".yaml"))


def load_lift_config(preset: str | None = "lift-h36m",
                     config_file: str | os.PathLike[str] | None = None,
                     overrides: dict[str, Any] | None = None) -> LiftConfig:
    """Merge a lift preset, an optional YAML file and overrides (None values ignored)."""
    values: dict[str, Any] = (read_preset(preset, LiftConfig, lift_preset_names(), "lift")
                              if preset else {})
    if config_file is not None:
        values.update(read_settings_file(config_file, LiftConfig))
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        config = LiftConfig(**values)
    except TypeError as exc:
        raise DynaPoseError(f"bad configuration ({exc})", config_file) from exc
    return config.validate(None if config_file is None else os.fspath(config_file))


# --------------------------------------------------------------------------------------------
# Motion: world-frame 3D sequences and the cameras that may film them
# --------------------------------------------------------------------------------------------
@dataclass
class MotionData:
    """Concatenated world-frame sequences (float32 (N, 17, 3) mm, Z up) and a camera table.

    sequences: dicts with subject, action, start, frames, cameras (indices into `cameras`).
    """

    world: np.ndarray
    sequences: list[dict[str, Any]]
    cameras: list[Camera]
    source: str = ""

    @property
    def num_frames(self) -> int:
        return len(self.world)

    def subjects(self) -> list[str]:
        return sorted({s["subject"] for s in self.sequences})


def _h36m_camera_table(subjects: list[str]) -> tuple[list[Camera], dict[str, list[int]]]:
    from dynapose.data import h36m_cameras

    table: list[Camera] = []
    per_subject: dict[str, list[int]] = {}
    for subject in subjects:
        if subject not in h36m_cameras.SUBJECTS:
            continue
        per_subject[subject] = []
        for cam_id in h36m_cameras.CAMERA_IDS:
            per_subject[subject].append(len(table))
            table.append(h36m_cameras.camera(subject, cam_id))
    return table, per_subject


def _assemble(items: list[tuple[str, str, np.ndarray, list[int]]], cameras: list[Camera],
              source: str) -> MotionData:
    sequences, arrays, start = [], [], 0
    for subject, action, world, cams in items:
        sequences.append({"subject": subject, "action": action, "start": start,
                          "frames": len(world), "cameras": list(cams)})
        arrays.append(np.asarray(world, dtype=np.float32))
        start += len(world)
    world = np.concatenate(arrays) if arrays else np.zeros((0, NUM_JOINTS, 3), np.float32)
    return MotionData(world, sequences, cameras, source)


def load_motion(data: str | os.PathLike[str], subjects: list[str] | None = None,
                *, synthetic_sequences: int = 48, synthetic_frames: int = 600,
                seed: int = 0) -> MotionData:
    """World motion from `data`: a VideoPose3D ``data_3d_h36m.npz``, a pose store folder,
    ``"synthetic[:SEQUENCES[:FRAMES]]"`` (DynaPose's procedural motion filmed by the Human3.6M
    cameras of S1, S5-S8; see :func:`synthetic_motion`), ``"cmu:FOLDER"`` (CMU motion capture,
    :func:`dynapose.data.cmu.load_cmu`, filmed by the same cameras), or a mix ``"A+B[+...]"``
    of those (e.g. ``cmu:../shared/data/mocap/cmu+synthetic:100:600``: windows are drawn
    uniformly over all frames, so each part weighs by its frame count).

    Only `subjects` are kept (all when None). npz sequences are filmed by their subject's four
    published cameras; pose-store sequences by the cameras the store lists for their subject.
    """
    name = os.fspath(data)
    if "+" in name:  # a mix: each part whole, then the subjects (a part may hold none of them)
        mixed = [load_motion(part, None, synthetic_sequences=synthetic_sequences,
                             synthetic_frames=synthetic_frames, seed=seed)
                 for part in name.split("+")]
        return _concat_motion(mixed, subjects, name)
    if name.startswith("cmu:"):
        from dynapose.data.cmu import load_cmu

        cameras, per_subject = _h36m_camera_table(["S1", "S5", "S6", "S7", "S8"])
        all_cams = [i for v in per_subject.values() for i in v]
        return _assemble([(s.subject, s.action, s.world, all_cams)
                          for s in load_cmu(name[len("cmu:"):], subjects)], cameras, name)
    if name == "synthetic" or name.startswith("synthetic:"):
        parts = name.split(":")[1:]
        try:
            n = int(parts[0]) if parts else synthetic_sequences
            frames = int(parts[1]) if len(parts) > 1 else synthetic_frames
        except ValueError:
            raise DynaPoseError("expected synthetic[:SEQUENCES[:FRAMES]]", name) from None
        return synthetic_motion(n, frames, seed=seed, subjects=subjects)
    path = Path(data)
    if path.is_file() and path.suffix == ".npz":
        from dynapose.data.h36m import load_npz_3d

        raw = load_npz_3d(path)
        keep = [s for s in raw if subjects is None or s in subjects]
        cameras, per_subject = _h36m_camera_table(keep)
        items = []
        for subject in sorted(keep):
            if subject not in per_subject:
                raise DynaPoseError(f"no published camera calibration for {subject}", path)
            for action in sorted(raw[subject]):
                pos = raw[subject][action]
                if pos.shape[1] != 32:
                    raise DynaPoseError(f"positions_3d[{subject!r}][{action!r}] has "
                                        f"{pos.shape[1]} joints, expected 32", path)
                items.append((subject, action, pos[:, list(H36M_32_TO_17)],
                              per_subject[subject]))
        return _assemble(items, cameras, str(path))
    if path.is_dir():
        from dynapose.data.pose_store import PoseStore

        store = PoseStore(path)
        store_cameras: list[Camera] = []
        cam_index: dict[tuple[str, str], int] = {}
        seen: dict[tuple[str, str], Any] = {}
        for i, s in enumerate(store.sequences):
            if subjects is not None and s["subject"] not in subjects:
                continue
            key = (s["subject"], s["camera"])
            if key not in cam_index:
                cam_index[key] = len(store_cameras)
                store_cameras.append(store.camera(i))
            seen.setdefault((s["subject"], s["action"]), i)
        items = []
        for (subject, action), i in sorted(seen.items()):
            world = store.camera(i).camera_to_world(store.joints3d(i).astype(np.float64))
            cams = [v for (sub, _), v in cam_index.items() if sub == subject]
            items.append((subject, action, world, cams))
        return _assemble(items, store_cameras, str(path))
    raise DynaPoseError("not a VideoPose3D .npz, a pose store folder, 'synthetic' or 'cmu:FOLDER'",
                        path)


def _concat_motion(parts: list[MotionData], subjects: list[str] | None,
                   source: str) -> MotionData:
    """The sequences of `parts` (those of `subjects`; all when None) side by side, one camera
    table."""
    items: list[tuple[str, str, np.ndarray, list[int]]] = []
    cameras: list[Camera] = []
    for part in parts:
        for s in part.sequences:
            if subjects is None or s["subject"] in subjects:
                world = part.world[s["start"]: s["start"] + s["frames"]]
                items.append((s["subject"], s["action"], world,
                              [len(cameras) + c for c in s["cameras"]]))
        cameras.extend(part.cameras)
    return _assemble(items, cameras, source)


def synthetic_motion(num_sequences: int, frames: int, seed: int = 0,
                     subjects: list[str] | None = None) -> MotionData:
    """Procedural motion (:func:`dynapose.data.motion.generate_motion`), one new body per
    sequence; subjects named ``synth-<k>`` (k = sequence index % 8), filmed by
    the published cameras of S1, S5, S6, S7 and S8. `subjects` keeps only those names. Each
    sequence's straight-line horizontal travel is removed so the person stays in view."""
    from dynapose.data.motion import ACTIONS, generate_motion, sample_body

    cameras, per_subject = _h36m_camera_table(["S1", "S5", "S6", "S7", "S8"])
    all_cams = [i for v in per_subject.values() for i in v]
    rng = np.random.default_rng([seed, 7])
    items = []
    for k in range(num_sequences):
        action = ACTIONS[(k + k // 8) % len(ACTIONS)]  # each subject gets every action in turn
        body = sample_body(rng)
        joints = generate_motion(action, body, frames, fps=50.0, rng=rng).joints
        # Keep the person inside the capture area: remove the pelvis's straight-line horizontal
        # travel (locomotion becomes treadmill-like; root-relative poses are unchanged).
        t = np.arange(frames, dtype=np.float64)
        design = np.stack([np.ones_like(t), t], axis=1)
        coef, *_ = np.linalg.lstsq(design, joints[:, 0, :2].astype(np.float64), rcond=None)
        joints = joints.copy()
        joints[..., :2] -= (design @ coef)[:, None, :].astype(np.float32)
        subject = f"synth-{k % 8}"
        if subjects is None or subject in subjects:
            items.append((subject, f"{action} {k}", joints, all_cams))
    if not items:
        raise DynaPoseError(f"no synthetic sequences for subjects {subjects}")
    return _assemble(items, cameras, "synthetic")


# --------------------------------------------------------------------------------------------
# Projection and batches
# --------------------------------------------------------------------------------------------
def camera_tensors(cameras: list[Camera]) -> dict[str, torch.Tensor]:
    """The camera table as float32 tensors: R (C,3,3), T (C,3), f, c (C,2), k (C,3), p (C,2),
    size (C,2) = (width, height)."""
    def stack(name: str) -> torch.Tensor:
        return torch.as_tensor(np.stack([getattr(c, name) for c in cameras]), dtype=torch.float32)

    table = {name: stack(name) for name in ("R", "T", "f", "c", "k", "p")}
    table["size"] = torch.as_tensor([[c.width, c.height] for c in cameras], dtype=torch.float32)
    return table


def project_torch(points: torch.Tensor, f: torch.Tensor, c: torch.Tensor, k: torch.Tensor,
                  p: torch.Tensor) -> torch.Tensor:
    """Camera-frame points (B, ..., 3) mm -> pixels (B, ..., 2); per-sample intrinsics f, c (B, 2),
    k (B, 3), p (B, 2). The same Brown-Conrady model as :func:`dynapose.camera.project`."""
    extra = (1,) * (points.ndim - 2)
    fx, fy, cx, cy, k1, k2, k3, p1, p2 = (
        t.reshape(t.shape[0], *extra, t.shape[-1])[..., i]
        for t, n in ((f, 2), (c, 2), (k, 3), (p, 2)) for i in range(n))
    x, y, z = points.unbind(-1)
    x, y = x / z, y / z
    r2 = x * x + y * y
    scale = k3 * r2 + k2  # radial 1 + k1 r2 + k2 r2^2 + k3 r2^3 (Horner), + tangential
    scale.mul_(r2).add_(k1).mul_(r2).add_(1).add_(p1 * y).add_(p2 * x)
    u = (x * scale).add_(p2 * r2).mul_(fx).add_(cx)
    v = (y * scale).add_(p1 * r2).mul_(fy).add_(cy)
    return torch.stack([u, v], -1)


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


def make_batch(motion: MotionData, cams: dict[str, torch.Tensor], frame: np.ndarray,
               seq: np.ndarray, cam: np.ndarray, config: LiftConfig, rng: np.random.Generator,
               augment: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Windows around global frames `frame` of sequences `seq`, filmed by cameras `cam`.

    Returns (inputs (B, R, 17, 2) normalised coordinates, targets (B, 17, 3) root-relative
    camera-frame mm). Windows are padded at sequence ends by repeating the edge frame.

    Apart from the optional posture turn (:func:`turn_body_parts`, applied first), every
    augmentation before the projection is linear in the joints, so a window's camera-frame
    points are ``A @ (M @ world) + t``: M (17 x 17, per window) scales the bones and mirrors
    left/right, A (3 x 3) turns the person, rotates into the camera and flips x, and t holds
    the translations (camera position, turn pivot, feet kept on the floor). One batched matrix
    product per window then does what a pass per augmentation did: 27 ms instead of 62 for 512
    windows of 81 frames on this 2-core machine (``test_one_affine_map_per_window_...`` checks
    it against the augmentations applied one by one).
    """
    b = len(frame)
    starts = np.array([motion.sequences[s]["start"] for s in seq])
    ends = starts + np.array([motion.sequences[s]["frames"] for s in seq]) - 1
    offsets = window_offsets(config.receptive_field, config.causal, config.frame_stride)
    idx = np.clip(frame[:, None] + offsets[None, :], starts[:, None], ends[:, None])
    world = torch.from_numpy(motion.world)[torch.from_numpy(idx)]  # (B, R, 17, 3)
    if augment and config.posture_deg > 0:
        turns = rng.normal(0.0, math.radians(config.posture_deg), (b, NUM_JOINTS, 3))
        world = turn_body_parts(world, turns)
    centre = int(np.nonzero(offsets == 0)[0][0])
    pivot = world[:, centre, 0].clone()  # the person turns about the centre frame's pelvis
    pivot[:, 2] = 0
    turn = torch.eye(3).repeat(b, 1, 1)  # (B, 3, 3) about the vertical (world Z) axis
    if augment and config.yaw_deg > 0:
        angle = torch.from_numpy(rng.uniform(-1, 1, b) * math.radians(config.yaw_deg)).float()
        cos, sin = torch.cos(angle), torch.sin(angle)
        turn[:, 0, 0], turn[:, 0, 1], turn[:, 1, 0], turn[:, 1, 1] = cos, -sin, sin, cos
    joints = torch.eye(NUM_JOINTS).repeat(b, 1, 1)  # (B, 17, 17): the bone scaling
    lift = torch.zeros(b)  # vertical shift keeping the feet on the floor, mm
    if augment and (config.bone_scale > 0 or config.body_scale > 0):
        factors = rng.normal(1.0, config.bone_scale, (b, NUM_JOINTS))
        joints = bone_scaling(factors * rng.normal(1.0, config.body_scale, (b, 1)))
        if config.keep_feet_on_floor:
            lift = floor_shift(world, joints)
    ci = torch.from_numpy(cam)
    R, T = cams["R"][ci], cams["T"][ci]
    mirror = torch.ones(b, 3)
    if augment and config.flip > 0:
        flip = torch.from_numpy(rng.random(b) < config.flip)
        joints = torch.where(flip[:, None, None], joints[:, torch.from_numpy(flip_permutation())],
                             joints)
        mirror[:, 0] = torch.where(flip, -1.0, 1.0)
    rotate = mirror[:, :, None] * (R @ turn)  # (B, 3, 3)
    up = torch.zeros(b, 3)
    up[:, 2] = lift
    shift = mirror * torch.einsum("bij,bj->bi", R, (turn @ (up - pivot)[..., None])[..., 0]
                                  + pivot - T)
    # one (R, 51) x (51, 51) product per window: the Kronecker product of joints and rotate
    affine = torch.einsum("bjk,bic->bjikc", joints, rotate).reshape(b, 3 * NUM_JOINTS, -1)
    points = torch.baddbmm(shift.repeat(1, NUM_JOINTS)[:, None], world.flatten(2),
                           affine.transpose(1, 2)).view(world.shape)
    # A window that leaves the camera's view (possible with synthetic motion) is moved so its
    # centre-frame pelvis stands at the world origin: the lens model is only valid in view.
    x, y, z = points.unbind(-1)
    margin = 0.6 * z
    away = ((z < 500) | (x.abs() > margin) | (y.abs() > margin)).flatten(1).any(1)
    if bool(away.any()):
        back = mirror * torch.einsum("bij,bj->bi", R, pivot)
        points = torch.where(away[:, None, None, None], points - back[:, None, None], points)
    target = points[:, centre] - points[:, centre, :1]
    seen = points
    if augment and config.jitter_mm > 0:
        jitter = rng.normal(0, config.jitter_mm, (b, 1, NUM_JOINTS, 3)).astype(np.float32)
        seen = points + torch.from_numpy(jitter)
    px = project_torch(seen, cams["f"][ci], cams["c"][ci], cams["k"][ci], cams["p"][ci])
    if augment and config.noise_px > 0:
        px = px + torch.from_numpy(rng.normal(0, config.noise_px, px.shape).astype(np.float32))
    size = cams["size"][ci]
    inputs = normalize_screen(px, size[:, 0, None, None], size[:, 1, None, None])
    return inputs.float(), target.float()


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
    """Rotation vectors (..., 3) (axis x angle, radians) -> rotation matrices (..., 3, 3)."""
    x, y, z = torch.from_numpy(np.asarray(vectors, dtype=np.float32)).unbind(-1)
    zero = torch.zeros_like(x)
    skew = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).view(*x.shape, 3, 3)
    return torch.linalg.matrix_exp(skew)


def turn_body_parts(world: torch.Tensor, turns: np.ndarray) -> torch.Tensor:
    """Give each window's person another posture: every joint of :data:`POSTURE_JOINTS` (with
    the joints below it) turned about its parent by rotation vector ``turns[:, joint]``
    ((B, 17, 3) radians), fixed in the torso's frame (:func:`torso_frames`) over the window.

    Part of a held-out subject's error is their own way of standing (Human3.6M S8's head sits
    ~36 mm further forward, its left arm ~40 mm further out than a lifter trained on S1, S5,
    S6 and S7 guesses, in every action): a posture that stays put in the body's frame while the
    person moves is what the 2D over a window can reveal. Bone lengths are kept; the body is
    then moved vertically so its lowest ankle over the window is as high as before.
    (B, R, 17, 3) -> (B, R, 17, 3). Costs 35-50 ms per 512 windows of 81 frames on 2 cores.

    Measured (``posture_deg: 5`` on the earlier, 256-channel lift-h36m recipe cut to 3 M
    windows, each subject held out in turn, network P1 on its full protocol): S8 44.8 vs 44.3
    without, S7 46.8 vs 47.9, S6 54.5 vs 56.2; mean 48.7 vs 49.4 (a second seed moved S8's
    44.3 by 0.02). Not in the presets: their validation subject S8 does not gain, and longer
    runs and the 512-channel recipe are unmeasured.
    """
    frames = torso_frames(world)  # (B, R, 3, 3), columns: the torso's axes
    turn = axis_angle_matrices(turns)  # (B, 17, 3, 3) in the torso's frame
    chain = [torch.eye(3).expand(len(world), 3, 3)]  # each bone's turn and its ancestors'
    for j in range(1, NUM_JOINTS):  # parents come before their children
        above = chain[PARENTS[j]]
        chain.append(turn[:, j] @ above if j in POSTURE_JOINTS else above)
    parents = [max(p, 0) for p in PARENTS]
    bones = world - world[:, :, parents] * (torch.arange(NUM_JOINTS) > 0)[:, None].float()
    local = torch.einsum("bric,brki->brkc", frames, bones)  # bones in the torso's frame
    turned = torch.einsum("bkcd,brkd->brkc", torch.stack(chain, 1), local)
    out = (_ancestry() @ torch.einsum("bric,brkc->brki", frames, turned)).contiguous()
    out[..., 2] += (lowest_ankle(world) - lowest_ankle(out))[:, None, None]
    return out


def lowest_ankle(world: torch.Tensor) -> torch.Tensor:
    """The height (mm, (B,)) of the lowest ankle over each (B, R, 17, 3) Z-up window."""
    return world[:, :, ANKLES, 2].flatten(1).amin(1)


def floor_shift(world: torch.Tensor, joints: torch.Tensor) -> torch.Tensor:
    """How far (mm, (B,)) to lift the bodies ``joints @ world`` ((B, 17, 17) maps applied to
    (B, R, 17, 3) world windows, Z up) so their lowest ankle over the window is as high as before.

    Scaling about the pelvis alone would push longer legs through the floor and teach the
    network that where the feet meet the floor in the image (a cue to distance, hence to size)
    means nothing.
    """
    after = torch.einsum("bak,bfk->bfa", joints[:, ANKLES], world[..., 2]).flatten(1).amin(1)
    return lowest_ankle(world) - after


# --------------------------------------------------------------------------------------------
# Schedule
# --------------------------------------------------------------------------------------------
def lr_at(step: int, total: int, config: LiftConfig) -> float:
    """Learning rate of optimizer step `step` (0-based) of `total`: warm-up, then exponential or
    cosine decay from ``lr`` to ``lr_end``."""
    warm = int(config.warmup * total)
    if step < warm:
        return config.lr * (step + 1) / warm
    u = (step - warm) / max(total - warm - 1, 1)
    if config.schedule == "cosine":
        return config.lr_end + 0.5 * (config.lr - config.lr_end) * (1 + math.cos(math.pi * u))
    return config.lr * (config.lr_end / config.lr) ** u


def bn_momentum_at(step: int, total: int, config: LiftConfig) -> float:
    u = step / max(total - 1, 1)
    return config.bn_momentum * (config.bn_momentum_end / config.bn_momentum) ** u


# --------------------------------------------------------------------------------------------
# Validation on fixed windows (the full protocol is lift_eval.evaluate_lifter)
# --------------------------------------------------------------------------------------------
@torch.no_grad()
def validate_windows(model: TemporalLifter, motion: MotionData, config: LiftConfig,
                     batch: int = 2048) -> dict[str, float]:
    """Protocol 1 and 2 (mm) on `config.val_windows` fixed random windows of `motion`."""
    if motion.num_frames == 0 or config.val_windows == 0:
        return {}
    model.eval()
    rng = np.random.default_rng([config.seed, 999_983])
    frame, seq, cam = sample_windows(motion, config.val_windows, rng)
    cams = camera_tensors(motion.cameras)
    p1, p2 = [], []
    for i in range(0, len(frame), batch):
        sl = slice(i, i + batch)
        inputs, target = make_batch(motion, cams, frame[sl], seq[sl], cam[sl], config, rng,
                                    augment=False)
        pred = model(inputs)
        p1.append(metrics.mpjpe_p1(pred, target, reduce=False).mean(-1))
        p2.append(torch.as_tensor(metrics.p_mpjpe(pred.double().numpy(),
                                                  target.double().numpy(), reduce=False)).mean(-1))
    return {"val_mpjpe_p1": float(torch.cat(p1).mean()),
            "val_p_mpjpe": float(torch.cat(p2).mean())}


# --------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------
def make_optimizer(model: torch.nn.Module, config: LiftConfig) -> torch.optim.Adam:
    """Adam (AMSGrad unless ``amsgrad: false``), fused: one kernel for all parameters."""
    return torch.optim.Adam(model.parameters(), lr=config.lr, amsgrad=config.amsgrad, fused=True)


def train_step(model: TemporalLifter, optimizer: torch.optim.Optimizer, inputs: torch.Tensor,
               target: torch.Tensor, precision: str = "fp32") -> float:
    """One optimizer step on the MPJPE (mm) of `model(inputs)` against `target`; returns it.

    ``precision="bf16"`` runs the forward (hence the backward) under bfloat16 autocast, the
    weights and the update staying float32: 1.6x the samples/s on this 2-core CPU, with the same
    error after the same samples (S8 protocol 1 after 0.5 M windows: 54.3 vs 54.1 mm).
    """
    model.train()
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        pred = model(inputs)
    loss = metrics.mpjpe(pred.float(), target)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def _write_csv(path: Path, history: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), extrasaction="ignore")
    writer.writeheader()
    for row in history:
        writer.writerow({k: row.get(k, "") for k in CSV_COLUMNS})
    atomic_write_text(path, buf.getvalue())


def train_lifter(data: str | os.PathLike[str], out: str | os.PathLike[str], config: LiftConfig,
                 *, resume: bool = False, progress: bool = True,
                 max_steps: int | None = None) -> dict[str, Any]:
    """Train a lifter on the motion `data` (see :func:`load_motion`), writing the run folder `out`.

    `max_steps` stops early (for tests of resuming: the run is left as if interrupted).
    Returns a summary: history, checkpoint and run paths, steps, seconds, samples_per_s,
    val_frames (0 when the data holds none of the validation subjects: nothing was validated).
    """
    config.validate()
    out = Path(out)
    torch.set_num_threads(config.threads or os.cpu_count() or 1)
    train_motion = load_motion(data, config.train_subjects, seed=config.seed)
    if train_motion.num_frames == 0:
        raise DynaPoseError(f"no motion for training subjects {config.train_subjects}", data)
    val_motion = (load_motion(data, config.val_subjects, seed=config.seed)
                  if config.val_subjects else None)
    if progress and val_motion is not None and not val_motion.num_frames:
        tqdm.write(f"no frames of {', '.join(config.val_subjects)} in {os.fspath(data)}: "
                   "training without validation")
    torch.manual_seed(config.seed)
    model = build_model("lifter", **config.model_config())
    assert isinstance(model, TemporalLifter)
    optimizer = make_optimizer(model, config)
    state_file = out / STATE
    history: list[dict[str, Any]] = []
    start_epoch, start_step, sums = 0, 0, [0.0, 0.0]
    if resume:
        if not state_file.is_file():
            raise DynaPoseError(f"nothing to resume: no {STATE}", out)
        meta = load_state(state_file, model, optimizer)
        if meta.get("config") != config.to_dict():
            changed = sorted(k for k, v in config.to_dict().items() if meta["config"].get(k) != v)
            raise DynaPoseError(f"cannot resume with changed settings: {', '.join(changed)}", out)
        start_epoch, start_step = meta["epoch"], meta["step"]
        sums, history = meta["sums"], meta["history"]
    else:
        if state_file.exists() or (out / "checkpoint").exists():
            raise DynaPoseError("run folder already holds a run (use --resume or a new --out)",
                                out)
        out.mkdir(parents=True, exist_ok=True)
        run_info = {"config": config.to_dict(), "data": os.fspath(data),
                    "train_frames": train_motion.num_frames,
                    "val_frames": 0 if val_motion is None else val_motion.num_frames}
        atomic_write_text(out / "run.json", json.dumps(run_info, indent=2) + "\n")

    cams = camera_tensors(train_motion.cameras)
    steps_per_epoch = config.samples_per_epoch // config.batch_size
    total = steps_per_epoch * config.epochs
    started = time.perf_counter()
    steps_done = 0
    stopped = False
    train_seconds = 0.0
    for epoch in range(start_epoch, config.epochs):
        bar = tqdm(total=steps_per_epoch, initial=start_step, unit="batch",
                   desc=f"epoch {epoch + 1}/{config.epochs}", disable=not progress,
                   dynamic_ncols=True)
        epoch_start = time.perf_counter()
        for step in range(start_step, steps_per_epoch):
            if max_steps is not None and steps_done >= max_steps:
                stopped = True
                break
            g = epoch * steps_per_epoch + step
            t0 = time.perf_counter()
            rng = np.random.default_rng([config.seed, epoch, step])
            frame, seq, cam = sample_windows(train_motion, config.batch_size, rng)
            inputs, target = make_batch(train_motion, cams, frame, seq, cam, config, rng)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(g, total, config)
            model.set_bn_momentum(bn_momentum_at(g, total, config))
            torch.manual_seed(config.seed * 1_000_003 + g)  # dropout: replayable on resume
            value = train_step(model, optimizer, inputs, target, config.precision)
            train_seconds += time.perf_counter() - t0
            sums = [sums[0] + value * len(frame), sums[1] + len(frame)]
            steps_done += 1
            bar.update(1)
            bar.set_postfix(mpjpe=f"{value:.1f}", lr=f"{lr_at(g, total, config):.2g}")
            if (config.checkpoint_every and (step + 1) % config.checkpoint_every == 0
                    and step + 1 < steps_per_epoch):
                save_state(state_file, model, optimizer,
                           _meta(epoch, step + 1, sums, history, config))
        bar.close()
        if stopped:
            save_state(state_file, model, optimizer, _meta(epoch, step, sums, history, config))
            break
        row: dict[str, Any] = {
            "epoch": epoch + 1, "step": (epoch + 1) * steps_per_epoch,
            "samples": (epoch + 1) * steps_per_epoch * config.batch_size,
            "seconds": round(time.perf_counter() - epoch_start, 2),
            "lr": lr_at((epoch + 1) * steps_per_epoch - 1, total, config),
            "train_mpjpe_p1": sums[0] / max(sums[1], 1),
        }
        if val_motion is not None and val_motion.num_frames:
            row.update(validate_windows(model, val_motion, config))
        history.append(row)
        start_step, sums = 0, [0.0, 0.0]
        _write_csv(out / METRICS_CSV, history)
        save_checkpoint(out / "checkpoint", model, {
            "epoch": epoch + 1, "metrics": row, "lift_config": config.to_dict(),
            "data": os.fspath(data), "input": "normalised 2D (x/w*2-1, y/w*2-h/w)",
            "output": "root-relative camera-frame joints, mm"})
        save_state(state_file, model, optimizer, _meta(epoch + 1, 0, sums, history, config))
        tqdm.write(f"epoch {epoch + 1}/{config.epochs}: train P1 {row['train_mpjpe_p1']:.1f} mm"
                   + (f", val P1 {row['val_mpjpe_p1']:.1f} P2 {row['val_p_mpjpe']:.1f} mm"
                      if "val_mpjpe_p1" in row else "")
                   + f" ({row['seconds']:.0f} s)")
    elapsed = time.perf_counter() - started
    return {
        "history": history, "checkpoint": str(out / "checkpoint"), "run": str(out),
        "steps": steps_done, "seconds": elapsed, "finished": not stopped,
        "samples_per_s": steps_done * config.batch_size / train_seconds if train_seconds else 0.0,
        "val_frames": 0 if val_motion is None else val_motion.num_frames,
    }


def _meta(epoch: int, step: int, sums: list[float], history: list[dict[str, Any]],
          config: LiftConfig) -> dict[str, Any]:
    return {"epoch": epoch, "step": step, "sums": sums, "history": history,
            "config": config.to_dict()}
