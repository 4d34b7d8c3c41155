"""Fitting lifted sequences to rigid bones on the cameras' rays (dynapose.inference.refine), and the
undistortion it needs (dynapose.camera.pixels_to_rays)."""

from __future__ import annotations

import numpy as np
import pytest

from dynapose import metrics
from dynapose.camera import pixels_to_rays, solve_root_translation
from dynapose.data import h36m_cameras
from dynapose.data.synthetic.motion import generate_motion, sample_body
from dynapose.inference.refine import (
    fit_sequence,
    rigid_bones,
    sequence_bone_lengths,
    with_bone_lengths,
)
from dynapose.skeleton import BONES, LEFT_JOINTS, RIGHT_JOINTS, bone_lengths


def _filmed(frames: int = 120, seed: int = 0):
    """(camera, camera-frame joints (T, 17, 3) mm, distorted pixels (T, 17, 2)) of a
    procedural walk filmed by one of Human3.6M's calibrated cameras."""
    rng = np.random.default_rng(seed)
    world = generate_motion("walk", sample_body(rng), frames, rng=rng).joints.astype(np.float64)
    world[..., :2] -= world[:, :1, :2].mean(axis=0)  # walk about the capture centre
    cam = h36m_cameras.camera("S8", "54138969")
    points = cam.world_to_camera(world)
    return cam, points, cam.project(points)


def test_rays_invert_the_human36m_lens() -> None:
    cam, points, px = _filmed()
    rays = cam.rays(px)
    np.testing.assert_allclose(rays, points[..., :2] / points[..., 2:], atol=1e-12)
    back = cam.project(np.concatenate([rays, np.ones_like(rays[..., :1])], -1))
    np.testing.assert_allclose(back, px, atol=1e-9)
    # without a lens model the rays are the plain pinhole's
    np.testing.assert_allclose(pixels_to_rays(px, cam.f, cam.c), (px - cam.c) / cam.f)


def test_bone_lengths_of_a_sequence_are_median_and_symmetric() -> None:
    _, points, _ = _filmed()
    rel = points - points[:, :1]
    noisy = rel * np.random.default_rng(1).normal(1.0, 0.05, (len(rel), 1, 1))
    lengths = sequence_bone_lengths(noisy)
    index = {c: i for i, (c, _) in enumerate(BONES)}
    for left, right in zip(LEFT_JOINTS, RIGHT_JOINTS, strict=True):
        assert lengths[index[left]] == lengths[index[right]]
    np.testing.assert_allclose(lengths, sequence_bone_lengths(rel), rtol=0.03)
    rebuilt = with_bone_lengths(noisy, lengths)
    np.testing.assert_allclose(bone_lengths(rebuilt), np.broadcast_to(lengths, (len(rel), 16)),
                               rtol=1e-12)
    # directions are kept: each bone of the rebuilt pose is parallel to the noisy one
    for child, parent in BONES:
        a, b = rebuilt[:, child] - rebuilt[:, parent], noisy[:, child] - noisy[:, parent]
        np.testing.assert_allclose(np.cross(a, b), 0, atol=1e-6)


def test_fit_leaves_the_truth_alone_and_mends_a_noisy_prediction() -> None:
    cam, points, px = _filmed()
    rel = points - points[:, :1]
    rays = cam.rays(px)
    # the generator's bodies are symmetric and rigid, so the truth is a fixed point
    np.testing.assert_allclose(fit_sequence(rel, rays), rel, atol=1e-3)  # float32 motion
    # a prediction with per-frame size errors, wobbly bones and depth errors: the fit uses the
    # 2D and the rigid bones to take most of them out
    rng = np.random.default_rng(2)
    noisy = rel * rng.normal(1.0, 0.04, (len(rel), 1, 1))
    noisy = noisy + rng.normal(0, 25.0, noisy.shape) * np.array([1.0, 1.0, 1.5])
    noisy -= noisy[:, :1]
    fitted = fit_sequence(noisy, rays)
    before = float(metrics.mpjpe_p1(noisy, rel))
    after = float(metrics.mpjpe_p1(fitted, rel))
    assert after < 0.7 * before, (before, after)
    # the fitted joints lie on their rays: placed in the camera frame they reproject exactly
    # onto the 2D keypoints (the noisy prediction does not)
    for joints, exact in ((fitted, True), (noisy, False)):
        placed = joints + solve_root_translation(joints, rays, None, 1.0, 0.0, 0.0)[:, None]
        off = np.abs(placed[..., :2] / placed[..., 2:] - rays).max()
        assert (off < 1e-9) == exact, off


def test_fit_gaps_stay_gaps() -> None:
    cam, points, px = _filmed(40)
    rel = points - points[:, :1]
    rays = cam.rays(px)
    rays[5] = np.nan
    rel_nan = rel.copy()
    rel_nan[9] = np.nan
    fitted = fit_sequence(rel_nan, rays)
    assert np.isnan(fitted[[5, 9]]).all()
    keep = np.ones(len(rel), bool)
    keep[[5, 9]] = False
    np.testing.assert_allclose(fitted[keep], rel[keep], atol=1e-3)
    assert np.isnan(fit_sequence(np.full_like(rel, np.nan), rays)).all()


@pytest.mark.parametrize("weight", [0.05, 1.0])
def test_fit_weight_trades_bones_against_depths(weight: float) -> None:
    cam, points, px = _filmed(60)
    rel = points - points[:, :1]
    noisy = rel + np.random.default_rng(3).normal(0, 30.0, rel.shape)
    noisy -= noisy[:, :1]
    fitted = fit_sequence(noisy, cam.rays(px), weight=weight)
    assert float(metrics.mpjpe_p1(fitted, rel)) < float(metrics.mpjpe_p1(noisy, rel))


def test_rigid_bones_without_camera_or_2d() -> None:
    _, points, _ = _filmed(50)
    rel = points - points[:, :1]
    wobbly = rel * np.random.default_rng(4).normal(1.0, 0.05, (len(rel), 1, 1))
    wobbly[7] = np.nan  # a gap: stays one, and has no say in the lengths
    rigid = rigid_bones(wobbly)
    assert np.isnan(rigid[7]).all() and np.isfinite(np.delete(rigid, 7, axis=0)).all()
    lengths = bone_lengths(np.delete(rigid, 7, axis=0))
    np.testing.assert_allclose(lengths, np.broadcast_to(lengths[0], lengths.shape), rtol=1e-12)
    np.testing.assert_allclose(lengths[0], sequence_bone_lengths(np.delete(wobbly, 7, axis=0)))
    assert float(metrics.mpjpe_p1(np.delete(rigid, 7, axis=0), np.delete(rel, 7, axis=0))) < \
        0.5 * float(metrics.mpjpe_p1(np.delete(wobbly, 7, axis=0), np.delete(rel, 7, axis=0)))
    assert np.isnan(rigid_bones(np.full_like(rel, np.nan))).all()
