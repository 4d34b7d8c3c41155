"""Metrics: hand-computed cases, invariances, numpy/torch agreement, shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dynapose import metrics as M


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


def _poses(rng: np.random.Generator, *lead: int) -> np.ndarray:
    """Plausibly spread poses (..., 17, 3) mm, about 4 m in front of a camera."""
    base = rng.normal(scale=300.0, size=(17, 3)) + np.array([0.0, 0.0, 4000.0])
    return base + rng.normal(scale=40.0, size=(*lead, 17, 3))


# ---------------------------------------------------------------- hand-computed values


def test_mpjpe_hand_computed() -> None:
    target = np.zeros((2, 17, 3))
    pred = target.copy()
    pred[0, :, 0] = 3.0
    pred[0, :, 1] = 4.0  # every joint of pose 0 is 5 mm off
    pred[1, 5, 2] = 17.0  # one joint of pose 1 is 17 mm off
    assert M.mpjpe(pred, target) == pytest.approx((17 * 5 + 17) / 34)
    per = M.mpjpe(pred, target, reduce=False)
    assert per.shape == (2, 17)
    assert per[0] == pytest.approx(np.full(17, 5.0))
    assert per[1, 5] == pytest.approx(17.0)
    assert per[1].sum() == pytest.approx(17.0)


def test_protocol1_hand_computed() -> None:
    target = np.zeros((17, 3))
    pred = np.zeros((17, 3))
    pred[:, 0] = 100.0  # a pure translation: no error after pelvis alignment
    pred[3, 1] = 34.0  # plus one ankle 34 mm off
    assert M.mpjpe_p1(pred, target) == pytest.approx(34.0 / 17)
    assert M.mpjpe(pred, target) > 99.0
    # The pelvis's own error is zero after alignment.
    assert M.mpjpe_p1(pred, target, reduce=False)[0] == 0.0


def test_pck_and_auc_hand_computed() -> None:
    target = np.zeros((1, 17, 3))
    pred = np.zeros((1, 17, 3))
    errors = np.array([0, 10, 50, 100, 149, 150, 151, 200, 300, 0, 0, 0, 0, 0, 0, 0, 1000.0])
    pred[0, :, 0] = errors
    assert M.pck3d(pred, target) == pytest.approx(np.mean(errors <= 150))  # 13 of 17
    assert M.pck3d(pred, target) == pytest.approx(13 / 17)
    assert M.pck3d(pred, target, threshold=50.0) == pytest.approx(10 / 17)
    # AUC: for each joint, the share of the 31 thresholds 0,5,...,150 that it is within.
    expected = np.mean([[e <= t for t in range(0, 151, 5)] for e in errors])
    assert M.auc(pred, target) == pytest.approx(expected)
    one = np.zeros((1, 1, 3))
    one[0, 0, 0] = 12.0  # within 15, 20, ..., 150: 28 of 31 thresholds
    assert M.auc(one, np.zeros((1, 1, 3))) == pytest.approx(28 / 31)


def test_mpjve_hand_computed() -> None:
    target = np.zeros((4, 17, 3))
    pred = np.zeros((4, 17, 3))
    pred[:, :, 0] = 50.0  # constant offset: zero velocity error
    assert M.mpjve(pred, target) == 0.0
    pred[2, 0, 1] = 6.0  # a one-frame blip on one joint: velocity error 6 twice
    vel = M.mpjve(pred, target, reduce=False)
    assert vel.shape == (3, 17)
    assert vel[1, 0] == pytest.approx(6.0) and vel[2, 0] == pytest.approx(6.0)
    assert M.mpjve(pred, target) == pytest.approx(12.0 / (3 * 17))
    with pytest.raises(ValueError, match="time axis"):
        M.mpjve(pred[:1], target[:1])


def test_n_mpjpe_hand_computed() -> None:
    rng = np.random.default_rng(0)
    target = _poses(rng, 3)
    # Pred = target at half size about the pelvis: scale alignment recovers it exactly.
    pred = target[..., :1, :] + 0.5 * (target - target[..., :1, :])
    assert M.n_mpjpe(pred, target) == pytest.approx(0.0, abs=1e-9)
    assert M.mpjpe_p1(pred, target) > 50.0
    # Scale factor by hand for a 1-D case: pred (1, 0, 0), target (2, 1, 0) relative to pelvis.
    p = np.zeros((2, 3))
    t = np.zeros((2, 3))
    p[1] = [1.0, 0, 0]
    t[1] = [2.0, 1.0, 0]
    # s = <p, t>/<p, p> = 2; aligned (2, 0, 0): error 1 on joint 1, 0 on the pelvis.
    assert M.n_mpjpe(p, t) == pytest.approx(0.5)


def test_p_mpjpe_hand_computed_and_no_reflection() -> None:
    # A planar triangle rotated by 90 degrees about z and doubled: P-MPJPE 0.
    tri = np.array([[0.0, 0, 0], [100, 0, 0], [0, 50, 0], [30, 30, 40]])
    rz = np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    assert M.p_mpjpe(2 * tri @ rz.T + 7, tri) == pytest.approx(0.0, abs=1e-9)
    # A mirror image must not be undone by a reflection: the error stays positive.
    mirror = tri * np.array([-1.0, 1, 1])
    err = M.p_mpjpe(mirror, tri)
    assert err > 1.0
    # The best proper alignment is never worse than doing nothing (centred, unscaled).
    centred = (mirror - mirror.mean(0)) + tri.mean(0)
    assert err <= M.mpjpe(centred, tri) + 1e-9


def test_reflection_handling_matches_brute_force() -> None:
    """With a mirror-image pred, Procrustes finds the best proper rotation, not a reflection."""
    rng = np.random.default_rng(5)
    target = rng.normal(scale=100.0, size=(6, 3))
    pred = target * np.array([1.0, 1.0, -1.0]) + rng.normal(scale=5.0, size=(6, 3))
    aligned, _ = M.align(pred, target, "procrustes")
    t0 = target - target.mean(0)
    sse = float(((aligned - target) ** 2).sum())
    # The map from centred pred to the aligned pose is s * R with det(R) = +1.
    p0 = pred - pred.mean(0)
    lin = np.linalg.lstsq(p0, aligned - aligned.mean(0), rcond=None)[0]
    assert np.linalg.det(lin) > 0
    np.testing.assert_allclose(lin @ lin.T, np.eye(3) * (lin @ lin.T)[0, 0], atol=1e-9)
    # No random proper rotation (with its best scale) does better in squared error.
    best = math.inf
    for _ in range(2000):
        q = p0 @ _rotation(rng)
        s = max((q * t0).sum() / (q * q).sum(), 0.0)
        best = min(best, float(((s * q - t0) ** 2).sum()))
    assert sse <= best + 1e-6
    # Allowing a reflection would fit almost perfectly: so one was indeed excluded.
    u, sv, vh = np.linalg.svd(p0.T @ t0)
    refl = (sv.sum() / (p0**2).sum()) * p0 @ (u @ vh)
    assert float(((refl - t0) ** 2).sum()) < 0.1 * sse


# ---------------------------------------------------------------- invariances


def test_identical_inputs_give_zero_error() -> None:
    rng = np.random.default_rng(1)
    x = _poses(rng, 2, 5)
    out = M.compute_all(x, x.copy())
    assert list(out) == list(M.METRIC_KEYS)
    for key in ("mpjpe", "mpjpe_p1", "p_mpjpe", "n_mpjpe", "mpjve"):
        assert out[key] == pytest.approx(0.0, abs=1e-6), key
    assert out["pck3d"] == 1.0 and out["auc"] == 1.0
    tx = torch.from_numpy(x)
    assert float(M.p_mpjpe(tx, tx.clone())) == pytest.approx(0.0, abs=1e-6)


def test_p_mpjpe_invariant_to_similarity_of_pred() -> None:
    rng = np.random.default_rng(2)
    target = _poses(rng, 4, 3)
    pred = target + rng.normal(scale=30.0, size=target.shape)
    base = M.p_mpjpe(pred, target, reduce=False)
    r = _rotation(rng)
    moved = 1.7 * pred @ r.T + np.array([300.0, -200.0, 1000.0])
    assert M.p_mpjpe(moved, target, reduce=False) == pytest.approx(base, rel=1e-7, abs=1e-7)
    assert M.mpjpe(moved, target) > 2 * M.mpjpe(pred, target)  # the move mattered elsewhere
    # A different transform per pose is also absorbed (alignment is per pose).
    rs = np.stack([_rotation(rng) for _ in range(12)]).reshape(4, 3, 3, 3)
    per_pose = np.einsum("abij,abkj->abki", rs, pred) * rng.uniform(0.5, 2, (4, 3, 1, 1))
    assert M.p_mpjpe(per_pose, target) == pytest.approx(M.p_mpjpe(pred, target), rel=1e-7)


def test_p1_invariant_to_translation_and_n_to_scale() -> None:
    rng = np.random.default_rng(3)
    target = _poses(rng, 6)
    pred = target + rng.normal(scale=25.0, size=target.shape)
    shift = rng.normal(scale=500.0, size=(6, 1, 3))  # a different shift per pose
    assert M.mpjpe_p1(pred + shift, target) == pytest.approx(M.mpjpe_p1(pred, target))
    assert M.mpjpe_p1(pred, target + shift) == pytest.approx(M.mpjpe_p1(pred, target))
    assert M.mpjpe(pred + shift, target) != pytest.approx(M.mpjpe(pred, target))
    scale = rng.uniform(0.3, 3.0, size=(6, 1, 1))
    assert M.n_mpjpe(pred * scale, target) == pytest.approx(M.n_mpjpe(pred, target))
    assert M.n_mpjpe(pred * 2.5, target) == pytest.approx(M.n_mpjpe(pred, target))
    # The ordering of the protocols: each alignment has more freedom than the last.
    assert M.p_mpjpe(pred, target) <= M.n_mpjpe(pred, target) <= M.mpjpe_p1(pred, target)


# ---------------------------------------------------------------- numpy vs torch, shapes


@pytest.mark.parametrize("name", M.METRIC_KEYS)
def test_numpy_and_torch_agree(name: str) -> None:
    rng = np.random.default_rng(4)
    target = _poses(rng, 3, 8)
    pred = target + rng.normal(scale=80.0, size=target.shape)
    fn = getattr(M, name)
    ref = fn(pred, target)
    assert isinstance(ref, float)
    got = fn(torch.from_numpy(pred), torch.from_numpy(target))
    assert isinstance(got, torch.Tensor) and got.ndim == 0
    assert float(got) == pytest.approx(ref, rel=1e-9, abs=1e-9)
    got32 = fn(torch.from_numpy(pred).float(), torch.from_numpy(target).float())
    assert got32.dtype == torch.float32
    # float32 may flip a joint sitting exactly on a PCK threshold; elsewhere it is ~1e-5.
    assert float(got32) == pytest.approx(ref, rel=1e-3, abs=2e-2)
    per_np = fn(pred, target, reduce=False)
    per_t = fn(torch.from_numpy(pred), torch.from_numpy(target), reduce=False)
    np.testing.assert_allclose(per_t.numpy(), per_np, rtol=1e-9, atol=1e-9)
    # Mixed inputs run in torch.
    assert isinstance(fn(pred, torch.from_numpy(target)), torch.Tensor)


@pytest.mark.parametrize("lead", [(), (5,), (2, 8), (2, 3, 8)])
def test_leading_dimensions(lead: tuple[int, ...]) -> None:
    rng = np.random.default_rng(6)
    target = _poses(rng, *lead)
    pred = target + rng.normal(scale=50.0, size=target.shape)
    for name in ("mpjpe", "mpjpe_p1", "p_mpjpe", "n_mpjpe", "pck3d", "auc"):
        fn = getattr(M, name)
        per = fn(pred, target, reduce=False)
        assert per.shape == (*lead, 17), name
        assert fn(pred, target) == pytest.approx(float(per.mean())), name
        # Flattening the leading dims changes nothing (all are averaged alike).
        flat = fn(pred.reshape(-1, 17, 3), target.reshape(-1, 17, 3))
        assert flat == pytest.approx(fn(pred, target)), name
    if len(lead) >= 1 and lead[-1] >= 2:
        assert M.mpjve(pred, target, reduce=False).shape == (*lead[:-1], lead[-1] - 1, 17)


def test_compute_all_keys_and_types() -> None:
    rng = np.random.default_rng(7)
    target = _poses(rng, 2, 8)
    pred = target + rng.normal(scale=60.0, size=target.shape)
    out = M.compute_all(torch.from_numpy(pred).float(), torch.from_numpy(target).float())
    assert tuple(out) == M.METRIC_KEYS
    assert all(isinstance(v, float) for v in out.values())
    ref = M.compute_all(pred, target)
    for key in M.METRIC_KEYS:
        assert out[key] == pytest.approx(ref[key], rel=1e-4, abs=2e-2), key
    assert 0.0 < ref["pck3d"] < 1.0 and 0.0 < ref["auc"] < ref["pck3d"]
    single = M.compute_all(pred[0, 0], target[0, 0])  # one pose: no time axis
    assert math.isnan(single["mpjve"]) and single["mpjpe"] > 0


def test_compute_all_per_sample_matches_one_by_one() -> None:
    rng = np.random.default_rng(10)
    target = _poses(rng, 3, 8)  # 3 clips of 8 frames
    pred = target + rng.normal(scale=70.0, size=target.shape)
    per = M.compute_all(pred, target, per_sample=True)
    assert tuple(per) == M.METRIC_KEYS
    for i in range(3):
        one = M.compute_all(pred[i], target[i])
        for key in M.METRIC_KEYS:
            assert per[key].shape == (3,)
            assert per[key][i] == pytest.approx(one[key], rel=1e-12), key
    whole = M.compute_all(pred, target)
    for key in M.METRIC_KEYS:  # equal-sized samples: the mean of the means is the mean
        assert per[key].mean() == pytest.approx(whole[key], rel=1e-12), key
    frames = M.compute_all(pred[0], target[0], per_sample=True)  # samples are single poses
    assert frames["mpjpe"].shape == (8,) and np.isnan(frames["mpjve"]).all()
    with pytest.raises(ValueError, match="per_sample"):
        M.compute_all(pred[0, 0], target[0, 0], per_sample=True)


def test_bad_shapes_raise() -> None:
    with pytest.raises(ValueError, match="differ"):
        M.mpjpe(np.zeros((2, 17, 3)), np.zeros((3, 17, 3)))
    with pytest.raises(ValueError, match=r"\(\.\.\., J, 3\)"):
        M.mpjpe(np.zeros((2, 17, 2)), np.zeros((2, 17, 2)))
    with pytest.raises(ValueError, match="unknown alignment"):
        M.joint_errors(np.zeros((17, 3)), np.zeros((17, 3)), "bogus")  # type: ignore[arg-type]


# ---------------------------------------------------------------- gradients


def test_torch_metrics_are_differentiable() -> None:
    rng = np.random.default_rng(8)
    target = torch.from_numpy(_poses(rng, 2, 4))
    pred = (target + torch.randn(target.shape, dtype=torch.float64) * 30).requires_grad_(True)
    for name in ("mpjpe", "mpjpe_p1", "p_mpjpe", "n_mpjpe", "mpjve"):
        pred.grad = None
        loss = getattr(M, name)(pred, target)
        loss.backward()
        assert pred.grad is not None and torch.isfinite(pred.grad).all(), name
        assert pred.grad.abs().sum() > 0, name


def test_p_mpjpe_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(9)
    target = torch.from_numpy(rng.normal(scale=100.0, size=(2, 17, 3)))
    pred = (target + torch.from_numpy(rng.normal(scale=20.0, size=(2, 17, 3))))
    pred.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: M.p_mpjpe(p, target), (pred,), eps=1e-6, atol=1e-5)
    assert torch.autograd.gradcheck(lambda p: M.n_mpjpe(p, target), (pred,), eps=1e-6, atol=1e-5)


def test_in_target_frame() -> None:
    from dynapose.skeleton import in_target_frame

    joints = np.random.default_rng(0).normal(0, 500, (2, 8, 17, 3))
    assert in_target_frame(joints, "camera") is joints
    rel = in_target_frame(joints, "root")
    assert np.allclose(rel[..., 0, :], 0) and np.allclose(rel[..., 5, :] - rel[..., 3, :],
                                                          joints[..., 5, :] - joints[..., 3, :])
    assert torch.allclose(in_target_frame(torch.from_numpy(joints), "root"), torch.from_numpy(rel))
    with pytest.raises(ValueError, match="unknown target frame"):
        in_target_frame(joints, "world")
