"""3D pose metrics, in numpy and torch, over any leading dimensions.

Every metric takes ``pred`` and ``target`` of shape (..., J, 3) in millimetres (J = 17 for the
Human3.6M skeleton, joint 0 the pelvis) and returns millimetres (PCK3D and AUC: a share in
[0, 1]). One function per metric serves both libraries: if either argument is a
``torch.Tensor`` the computation runs in torch (on that tensor's device and dtype, differentiable
where the maths is) and returns a tensor; otherwise it runs in float64 numpy and returns a
Python ``float`` (reduced) or an ``np.ndarray`` (``reduce=False``).

By default a metric is averaged over joints and over all leading dimensions (frames, clips,
batch). ``reduce=False`` returns the per-joint values instead, shape (..., J) — per-joint and
per-sample numbers for evaluation are means of that array over the axes one wants.

Alignments (named as in the literature):

=============  ==========================================================================
``mpjpe``      none: the raw Euclidean distance, what the report computed.
``mpjpe_p1``   protocol 1: each pose's pelvis (joint 0) subtracted from pred and target.
``p_mpjpe``    protocol 2: per pose, the similarity transform (rotation, uniform scale,
               translation; never a reflection) that best maps pred onto target.
``n_mpjpe``    per pose, pelvis-centred then pred scaled by the least-squares factor (as
               VideoPose3D, which applies its ``n_mpjpe`` to root-relative poses).
``mpjve``      none by default: error of the first differences along the time axis (-3).
``pck3d``      none by default: share of joints whose error is <= 150 mm.
``auc``        none by default: mean PCK3D over thresholds 0, 5, ..., 150 mm.
=============  ==========================================================================
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import torch

Align = Literal["none", "pelvis", "procrustes", "scale"]

PCK_THRESHOLD_MM = 150.0
#: Thresholds of the AUC: 0 to 150 mm in 5 mm steps (31 values), as MPI-INF-3DHP.
AUC_THRESHOLDS_MM: tuple[float, ...] = tuple(5.0 * i for i in range(31))
#: Keys of `compute_all`, in a stable order.
METRIC_KEYS: tuple[str, ...] = ("mpjpe", "mpjpe_p1", "p_mpjpe", "n_mpjpe", "mpjve", "pck3d", "auc")

_EPS = 1e-12


def _prepare(pred: Any, target: Any) -> tuple[Any, Any, bool]:
    """Both arrays as float64 numpy, or both as torch tensors (the tensor's dtype and device)."""
    p: torch.Tensor | np.ndarray
    t: torch.Tensor | np.ndarray
    if isinstance(pred, torch.Tensor) or isinstance(target, torch.Tensor):
        ref = pred if isinstance(pred, torch.Tensor) else target
        dtype = ref.dtype if ref.is_floating_point() else torch.get_default_dtype()
        p = torch.as_tensor(pred, device=ref.device).to(dtype)
        t = torch.as_tensor(target, device=ref.device).to(dtype)
        is_torch = True
    else:
        p = np.asarray(pred, dtype=np.float64)
        t = np.asarray(target, dtype=np.float64)
        is_torch = False
    if tuple(p.shape) != tuple(t.shape):
        raise ValueError(f"pred and target shapes differ: {tuple(p.shape)} vs {tuple(t.shape)}")
    if p.ndim < 2 or p.shape[-1] != 3 or p.shape[-2] < 1:
        raise ValueError(f"expected poses of shape (..., J, 3), got {tuple(p.shape)}")
    return p, t, is_torch


def _norm(x: Any) -> Any:
    """Euclidean norm over the last axis."""
    if isinstance(x, torch.Tensor):
        return torch.linalg.vector_norm(x, dim=-1)
    return np.linalg.norm(x, axis=-1)


def _finish(values: Any, reduce: bool) -> Any:
    """Mean of everything (float, or 0-d tensor) or the array itself."""
    if not reduce:
        return values
    if isinstance(values, torch.Tensor):
        return values.mean()
    return float(np.mean(values))


def _center(x: Any) -> Any:
    """Subtract each pose's pelvis (joint 0)."""
    return x - x[..., :1, :]


def _procrustes(pred: Any, target: Any) -> Any:
    """`pred` moved by the best similarity transform onto `target`, per pose (..., J, 3).

    Umeyama/Kabsch: with centred poses P and X (J x 3 each) and the SVD P^T X = U S V^T, the
    rotation is R = U D V^T with D = diag(1, 1, sign det(U V^T)) so that it is never a
    reflection, the scale s = tr(S D) / |P|^2, and the aligned pose s (P R) + mean(X).
    """
    if isinstance(pred, torch.Tensor):
        return _procrustes_torch(pred, target)
    return _procrustes_numpy(pred, target)


def _procrustes_torch(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """:func:`_procrustes` for torch tensors (the tensors' dtype and device)."""
    mu_p = pred.mean(dim=-2, keepdim=True)
    mu_t = target.mean(dim=-2, keepdim=True)
    p0, t0 = pred - mu_p, target - mu_t
    h = p0.transpose(-1, -2) @ t0
    u, s, vh = torch.linalg.svd(h)
    d = torch.sign(torch.linalg.det(u @ vh)).detach()
    d = torch.where(d == 0, torch.ones_like(d), d)
    ones = torch.ones_like(d)
    diag = torch.stack([ones, ones, d], dim=-1)  # (..., 3)
    rot = (u * diag.unsqueeze(-2)) @ vh
    trace = (s * diag).sum(dim=-1)
    scale = trace / (p0.square().sum(dim=(-1, -2))).clamp_min(_EPS)
    return scale[..., None, None] * (p0 @ rot) + mu_t


def _procrustes_numpy(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """:func:`_procrustes` for numpy arrays."""
    mu_p = pred.mean(axis=-2, keepdims=True)
    mu_t = target.mean(axis=-2, keepdims=True)
    p0, t0 = pred - mu_p, target - mu_t
    h = np.swapaxes(p0, -1, -2) @ t0
    u, s, vh = np.linalg.svd(h)
    d = np.sign(np.linalg.det(u @ vh))
    d = np.where(d == 0, 1.0, d)
    diag = np.stack([np.ones_like(d), np.ones_like(d), d], axis=-1)
    rot = (u * diag[..., None, :]) @ vh
    trace = (s * diag).sum(axis=-1)
    scale = trace / np.maximum((p0**2).sum(axis=(-1, -2)), _EPS)
    return scale[..., None, None] * (p0 @ rot) + mu_t


def _scale_align(pred: Any, target: Any) -> Any:
    """`pred` times the per-pose factor s minimising |s pred - target|^2 (no centring here)."""
    if isinstance(pred, torch.Tensor):
        num = (pred * target).sum(dim=(-1, -2))
        den = pred.square().sum(dim=(-1, -2)).clamp_min(_EPS)
    else:
        num = (pred * target).sum(axis=(-1, -2))
        den = np.maximum((pred**2).sum(axis=(-1, -2)), _EPS)
    return (num / den)[..., None, None] * pred


def align(pred: Any, target: Any, how: Align = "none") -> tuple[Any, Any]:
    """Apply one of the alignments ("none", "pelvis", "procrustes", "scale") to (pred, target).

    Shapes (..., J, 3) in mm, returned the same way (numpy float64, or torch as given).
    """
    pred, target, _ = _prepare(pred, target)
    if how == "none":
        return pred, target
    if how == "pelvis":
        return _center(pred), _center(target)
    if how == "procrustes":
        return _procrustes(pred, target), target
    if how == "scale":
        pred, target = _center(pred), _center(target)
        return _scale_align(pred, target), target
    raise ValueError(f"unknown alignment {how!r}; expected none, pelvis, procrustes or scale")


def joint_errors(pred: Any, target: Any, how: Align = "none") -> Any:
    """Per-joint Euclidean errors (..., J) in mm after the alignment `how` (see `align`)."""
    p, t = align(pred, target, how)
    return _norm(p - t)


def mpjpe(pred: Any, target: Any, reduce: bool = True) -> Any:
    """Mean per-joint position error (mm), no alignment (what the report computed)."""
    return _finish(joint_errors(pred, target, "none"), reduce)


def mpjpe_p1(pred: Any, target: Any, reduce: bool = True) -> Any:
    """Protocol 1 MPJPE (mm): each pose's pelvis (joint 0) moved to the origin first."""
    return _finish(joint_errors(pred, target, "pelvis"), reduce)


def p_mpjpe(pred: Any, target: Any, reduce: bool = True) -> Any:
    """Protocol 2 MPJPE (mm): after per-pose Procrustes alignment (rotation, scale, translation;
    reflections excluded). Differentiable in torch (through the SVD; gradients are undefined
    for degenerate poses with repeated singular values)."""
    return _finish(joint_errors(pred, target, "procrustes"), reduce)


def n_mpjpe(pred: Any, target: Any, reduce: bool = True) -> Any:
    """Normalised MPJPE (mm): both poses pelvis-centred, then pred scaled per pose by the
    least-squares factor onto target (VideoPose3D's n_mpjpe on root-relative poses)."""
    return _finish(joint_errors(pred, target, "scale"), reduce)


def mpjve(pred: Any, target: Any, reduce: bool = True, how: Align = "none") -> Any:
    """Mean per-joint velocity error (mm per frame): the error between the first differences of
    pred and target along the time axis, axis -3 of (..., T, J, 3), T >= 2.

    No alignment by default (`how="pelvis"` makes it root-relative, as VideoPose3D).
    ``reduce=False`` returns (..., T-1, J).
    """
    p, t = align(pred, target, how)
    if p.ndim < 3 or p.shape[-3] < 2:
        raise ValueError(f"mpjve needs a time axis (..., T>=2, J, 3), got {tuple(p.shape)}")
    if isinstance(p, torch.Tensor):
        return _finish(_norm(torch.diff(p, dim=-3) - torch.diff(t, dim=-3)), reduce)
    return _finish(_norm(np.diff(p, axis=-3) - np.diff(t, axis=-3)), reduce)


def pck3d(
    pred: Any,
    target: Any,
    threshold: float = PCK_THRESHOLD_MM,
    reduce: bool = True,
    how: Align = "none",
) -> Any:
    """Percentage of correct 3D keypoints as a share in [0, 1]: joints whose error is
    <= `threshold` mm (default 150). No alignment by default, like `mpjpe`; `how="pelvis"`
    gives the root-relative PCK3D of MPI-INF-3DHP. ``reduce=False`` returns (..., J) of 0/1.
    Not differentiable."""
    err = joint_errors(pred, target, how)
    if isinstance(err, torch.Tensor):
        return _finish((err <= threshold).to(err.dtype), reduce)
    return _finish((err <= threshold).astype(np.float64), reduce)


def auc(
    pred: Any,
    target: Any,
    thresholds: tuple[float, ...] = AUC_THRESHOLDS_MM,
    reduce: bool = True,
    how: Align = "none",
) -> Any:
    """Area under the PCK3D curve: the mean of `pck3d` over `thresholds` (0..150 mm, 5 mm steps),
    a share in [0, 1]. ``reduce=False`` returns (..., J)."""
    err = joint_errors(pred, target, how)
    if isinstance(err, torch.Tensor):
        th = torch.as_tensor(thresholds, dtype=err.dtype, device=err.device)
        within = (err[..., None] <= th).to(err.dtype).mean(dim=-1)
    else:
        within = (err[..., None] <= np.asarray(thresholds, dtype=np.float64)).mean(axis=-1)
    return _finish(within, reduce)


def compute_all(pred: Any, target: Any, per_sample: bool = False) -> dict[str, Any]:
    """All metrics, keys `METRIC_KEYS`: mpjpe, mpjpe_p1, p_mpjpe, n_mpjpe (mm), mpjve (mm/frame;
    NaN when there is no time axis of length >= 2), pck3d and auc (shares in [0, 1]).

    pred, target: (..., J, 3) mm, numpy or torch (computed in float64 either way, no gradient).
    Returns Python floats averaged over everything, or with `per_sample` one float64 array (N,)
    per metric for inputs (N, ..., J, 3), each sample averaged over its own frames and joints
    (mpjve needs (N, T, J, 3) for a time axis).
    """
    if isinstance(pred, torch.Tensor):
        pred = pred.detach().cpu().double().numpy()
    if isinstance(target, torch.Tensor):
        target = target.detach().cpu().double().numpy()
    p, t, _ = _prepare(pred, target)
    if per_sample and p.ndim < 3:
        raise ValueError(f"per_sample needs (N, ..., J, 3), got {p.shape}")
    has_time = p.ndim >= (4 if per_sample else 3) and p.shape[-3] >= 2
    per_joint = {
        "mpjpe": joint_errors(p, t, "none"),
        "mpjpe_p1": joint_errors(p, t, "pelvis"),
        "p_mpjpe": joint_errors(p, t, "procrustes"),
        "n_mpjpe": joint_errors(p, t, "scale"),
        "mpjve": mpjve(p, t, reduce=False) if has_time else None,
    }
    per_joint["pck3d"] = (per_joint["mpjpe"] <= PCK_THRESHOLD_MM).astype(np.float64)
    th = np.asarray(AUC_THRESHOLDS_MM, dtype=np.float64)
    per_joint["auc"] = (per_joint["mpjpe"][..., None] <= th).mean(axis=-1)
    if not per_sample:
        return {k: math.nan if v is None else float(np.mean(v)) for k, v in per_joint.items()}
    n = p.shape[0]
    return {
        k: np.full(n, math.nan) if v is None else v.reshape(n, -1).mean(axis=1)
        for k, v in per_joint.items()
    }
