"""Cameras placed as users film, and the modelled detector's errors, in lifter batches."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from dynapose.camera import project_torch
from dynapose.config import LiftConfig
from dynapose.data.lift_motion import load_motion
from dynapose.skeleton import JOINT_NAMES
from dynapose.training.detector_model import (
    COCO_SIGMA,
    LOST_RATE,
    SWAP_RATE,
    detector_noise,
    displace_joints,
    person_scale,
    swaps_and_losses,
)
from dynapose.training.lift_batch import camera_tensors, make_batch, motion_tensor, sample_windows
from dynapose.training.views import user_views


def test_user_views_look_at_the_person_from_the_drawn_ranges() -> None:
    rng = np.random.default_rng(0)
    aim = np.tile([300.0, -200.0, 950.0], (2000, 1))
    view = user_views(rng, aim)
    R, T = view["R"].double(), view["T"].double()
    eye = torch.eye(3, dtype=torch.float64).expand(len(R), 3, 3)
    torch.testing.assert_close(R @ R.transpose(1, 2), eye, atol=1e-5, rtol=0)
    assert torch.allclose(torch.linalg.det(R), torch.ones(len(R), dtype=torch.float64), atol=1e-5)
    assert T[:, 2].min() >= 0 and T[:, 2].max() <= 3000 + 1e-3  # floor to ceiling
    pelvis = torch.einsum("bij,bj->bi", R, torch.as_tensor(aim) - T)
    assert (pelvis[:, 2] > 1000).all()  # in front of the camera
    px = project_torch(pelvis[:, None].float(), view["f"], view["c"], view["k"], view["p"])[:, 0]
    inside = (px >= 0).all(-1) & (px <= view["size"]).all(-1)
    assert bool(inside.all())  # the pelvis is in the picture, off centre by at most a fifth
    assert view["size"][:, 1].unique().numel() >= 3
    height = T[:, 2]
    assert (height < 800).any() and (height > 2500).any()
    fov = 2 * torch.atan(view["size"][:, 1] / 2 / view["f"][:, 1]).rad2deg()
    assert fov.min() < 30 and fov.max() > 60


def _standing_windows(b: int, r: int) -> torch.Tensor:
    """(b, r, 17, 3) camera-frame mm: one standing person, still, 4 m away."""
    from dynapose.bench.viz import _STANDING_MM

    return torch.as_tensor(_STANDING_MM, dtype=torch.float32).expand(b, r, 17, 3).clone()


def test_displaced_joints_move_by_the_documented_amounts() -> None:
    points = _standing_windows(2000, 27)
    moved = displace_joints(points, np.random.default_rng(2))
    shift = (moved - points).norm(dim=-1)
    assert float(shift.std(1).max()) < 1e-3  # held over each window
    head, wrist = JOINT_NAMES.index("head"), JOINT_NAMES.index("left_wrist")
    assert 18 < float(shift[:, 0, head].mean()) < 30  # E|N(0, 30 mm)| = 24 mm
    forearm = float((points[0, 0, wrist] - points[0, 0, wrist - 1]).norm())
    assert 0.03 < float(shift[:, 0, wrist].mean()) / forearm < 0.07  # elbow and wrist slide


def test_detector_noise_scales_with_coco_sigmas() -> None:
    points = _standing_windows(4000, 27)
    px = points[..., :2] / points[..., 2:] * 1000 + 500  # a 1000 px lens: ~400 px tall
    noisy = detector_noise(px, np.random.default_rng(3))
    error = (noisy - px)[:, 13].norm(dim=-1)  # (B, 17), centre frame
    typical = error.median(0).values.numpy()
    nose, hip = JOINT_NAMES.index("neck"), JOINT_NAMES.index("left_hip")
    assert typical[hip] > 2.5 * typical[nose]  # hips are ~4x as uncertain as the nose
    ratio = typical[hip] / COCO_SIGMA[hip] / float(person_scale(px)[0])
    assert 0.5 < ratio < 1.5  # level ~ U(0.25, 1) x sqrt(2) per-coordinate spreads


def test_swaps_and_lost_limbs_happen_at_their_rates_for_a_few_frames() -> None:
    points = _standing_windows(4000, 27)
    px = points[..., :2] / points[..., 2:] * 1000 + 500
    out = swaps_and_losses(px, np.random.default_rng(4))
    changed = (out - px).norm(dim=-1).amax(-1) > 1.0  # (B, R)
    hit = changed.any(1)
    assert abs(float(hit.float().mean()) - (SWAP_RATE + LOST_RATE)) < 0.03
    runs = changed[hit].sum(1)
    assert int(runs.min()) >= 1 and int(runs.max()) <= 12 + 10  # a swap and a loss at most


def test_validation_batches_stay_exact_whatever_the_shares() -> None:
    motion = load_motion("postures:2:200")
    cams = camera_tensors(motion.cameras)
    plain = LiftConfig(receptive_field=27)
    varied = dataclasses.replace(plain, user_views=1.0, detector_model=1.0)
    args = sample_windows(motion, 64, np.random.default_rng(5))
    a = make_batch(motion, cams, *args, plain, np.random.default_rng(6), augment=False)
    b = make_batch(motion, cams, *args, varied, np.random.default_rng(6), augment=False)
    torch.testing.assert_close(a, b)
    c = make_batch(motion, cams, *args, varied, np.random.default_rng(6), augment=True,
                   world=motion_tensor(motion))
    assert not torch.allclose(a[0], c[0])
    assert torch.isfinite(c[0]).all() and torch.isfinite(c[1]).all()
