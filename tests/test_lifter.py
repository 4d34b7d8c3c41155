"""2D -> 3D lifters: shapes, causality, flip, training, resume, evaluation, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from conftest import SHARED
from dynapose.camera import Camera, look_at, normalize_screen, project_torch
from dynapose.cli import main
from dynapose.config import LiftConfig, load_lift_config
from dynapose.data.lift_motion import MotionData, load_motion
from dynapose.errors import DynaPoseError
from dynapose.evaluation.lifter import evaluate_lifter
from dynapose.inference.lifting import lift_file, lift_sequence, read_keypoints
from dynapose.io.checkpoint import load_checkpoint
from dynapose.models import build_model
from dynapose.models.lifter import RECEPTIVE_FIELDS, FastDropout, flip_keypoints
from dynapose.training.body_parts import torso_frames, turn_body_parts
from dynapose.training.lift import train_lifter
from dynapose.training.lift_batch import (
    bone_scaling,
    camera_tensors,
    floor_shift,
    make_batch,
    sample_windows,
    window_offsets,
)

NPZ = SHARED / "data" / "h36m" / "data_3d_h36m.npz"
SYNTH = "synthetic:32:150"
SPLIT = {"train_subjects": [f"synth-{k}" for k in range(6)], "val_subjects": ["synth-6",
                                                                               "synth-7"]}


pytestmark = pytest.mark.usefixtures("one_thread")


def _tiny(**kw):
    return load_lift_config("lift-quick", overrides={**SPLIT, "threads": 1, **kw})


# -- model ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("rf", sorted(RECEPTIVE_FIELDS))
@pytest.mark.parametrize("causal", [False, True])
def test_shapes_and_receptive_field(rf: int, causal: bool) -> None:
    model = build_model("lifter", filter_widths=RECEPTIVE_FIELDS[rf], channels=16,
                        causal=causal).eval()
    assert model.receptive_field == rf
    assert sum(model.pad) == rf - 1
    assert model.pad == ((rf - 1, 0) if causal else ((rf - 1) // 2, (rf - 1) // 2))
    x = torch.randn(2, rf, 17, 2) * 0.3
    out = model(x)
    assert out.shape == (2, 17, 3)
    assert torch.all(out[:, 0] == 0)  # root-relative: the pelvis is the origin
    seq = torch.randn(2, rf + 6, 17, 2) * 0.3
    full = model.forward_sequence(seq)
    assert full.shape == (2, rf + 6, 17, 3)
    # strided (training) and dilated (inference) paths share weights and agree
    valid = model.forward_sequence(seq, pad=False)
    assert valid.shape == (2, 7, 17, 3)
    windows = torch.stack([model(seq[:, i:i + rf]) for i in range(7)], dim=1)
    torch.testing.assert_close(windows, valid, atol=1e-3, rtol=1e-4)
    with pytest.raises(ValueError, match="receptive field"):
        model(torch.randn(1, rf + 2, 17, 2))
    with pytest.raises(ValueError, match="17"):
        model.forward_sequence(torch.randn(1, rf, 16, 2))


@pytest.mark.parametrize("causal", [False, True])
def test_frame_stride_sees_every_sth_frame(causal: bool) -> None:
    torch.manual_seed(0)
    model = build_model("lifter", filter_widths=(3, 3), channels=16, causal=causal,
                        frame_stride=3).eval()
    assert model.receptive_field == 9 and model.span == 25
    assert model.pad == ((24, 0) if causal else (12, 12))
    seq = torch.randn(1, 30, 17, 2) * 0.3
    valid = model.forward_sequence(seq, pad=False)
    assert valid.shape == (1, 6, 17, 3)
    # the window of output i is frames i, i+3, ..., i+24: the strided path on those agrees
    windows = torch.stack([model(seq[:, i:i + 25:3]) for i in range(6)], dim=1)
    torch.testing.assert_close(windows, valid, atol=1e-3, rtol=1e-4)
    # frames between the strided ones change nothing
    other = seq.clone()
    other[:, 1:25:3] += 1.0
    torch.testing.assert_close(model.forward_sequence(other, pad=False)[:, 0], valid[:, 0])
    assert model.forward_sequence(seq).shape == (1, 30, 17, 3)
    offsets = window_offsets(9, causal, 3)
    assert list(offsets) == (list(range(-24, 1, 3)) if causal else list(range(-12, 13, 3)))


def test_confidence_input() -> None:
    model = build_model("lifter", filter_widths=(3, 3), channels=8, confidence=True).eval()
    x = torch.randn(1, 9, 17, 2)
    ones = model(x, torch.ones(1, 9, 17))
    torch.testing.assert_close(model(x), ones)  # missing confidences mean 1
    assert not torch.allclose(model(x, torch.zeros(1, 9, 17)), ones)


@pytest.mark.parametrize("p", [0.1, 0.25])
def test_fast_dropout_drops_p_and_keeps_the_mean(p: float) -> None:
    drop = FastDropout(p).train()
    x = torch.ones(1000, 257, requires_grad=True)  # an odd size: the last draw is cut short
    torch.manual_seed(0)
    y = drop(x)
    dropped = float((y == 0).double().mean())
    assert abs(dropped - p) < 4 * (p * (1 - p) / y.numel()) ** 0.5  # within 4 standard errors
    assert y.unique().tolist() == pytest.approx([0.0, 1 / (1 - p)])
    flat = (y == 0).flatten().double()  # neighbours (and the 4 lanes of one draw) independent
    for lag in (1, 2, 3, 4):
        assert abs(float(torch.corrcoef(torch.stack([flat[:-lag], flat[lag:]]))[0, 1])) < 0.01
    y.sum().backward()  # the gradient passes the kept values, scaled
    torch.testing.assert_close(x.grad, y.detach())
    torch.manual_seed(0)
    torch.testing.assert_close(drop(x), y, atol=0, rtol=0)  # seeded: replayable
    assert drop.eval()(x) is x


def test_causal_model_ignores_future_frames() -> None:
    torch.manual_seed(0)
    causal = build_model("lifter", filter_widths=(3, 3, 3), channels=16, causal=True).eval()
    centred = build_model("lifter", filter_widths=(3, 3, 3), channels=16).eval()
    centred.load_state_dict(causal.state_dict())
    x = torch.randn(1, 60, 17, 2) * 0.3
    y = x.clone()
    y[:, 40:] += torch.randn_like(y[:, 40:])  # change the future of frame 39
    a, b = causal.forward_sequence(x), causal.forward_sequence(y)
    torch.testing.assert_close(a[:, :40], b[:, :40], atol=0, rtol=0)
    assert not torch.allclose(a[:, 40:], b[:, 40:])
    # the centred model does look 13 frames ahead (so the check above can fail)
    c, d = centred.forward_sequence(x), centred.forward_sequence(y)
    torch.testing.assert_close(c[:, :27], d[:, :27], atol=0, rtol=0)
    assert not torch.allclose(c[:, 27:40], d[:, 27:40])


# -- data and augmentation ----------------------------------------------------------------------
def test_projection_matches_numpy_camera() -> None:
    from dynapose.data.h36m_cameras import camera

    cam = camera("S1", "54138969")
    rng = np.random.default_rng(0)
    points = rng.normal(0, 400, (5, 17, 3)) + cam.world_to_camera(np.array([0, 0, 900.0]))
    t = camera_tensors([cam])
    idx = torch.zeros(5, dtype=torch.long)
    px = project_torch(torch.as_tensor(points, dtype=torch.float64), t["f"][idx].double(),
                       t["c"][idx].double(), t["k"][idx].double(), t["p"][idx].double())
    np.testing.assert_allclose(px.numpy(), cam.project(points), atol=1e-3)


def _ideal_motion() -> MotionData:
    """Synthetic motion filmed by an undistorted camera with its principal point centred."""
    motion = load_motion(SYNTH, ["synth-0"])
    eye, target = np.array([3500.0, -2500.0, 1500.0]), np.array([0.0, 0.0, 900.0])
    cam = Camera(R=look_at(eye, target), T=eye, f=np.array([1100.0, 1100.0]),
                 c=np.array([500.0, 500.0]), width=1000, height=1000, name="ideal")
    for s in motion.sequences:
        s["cameras"] = [0]
    return MotionData(motion.world, motion.sequences, [cam], "ideal")


def test_flip_is_the_projection_of_the_mirrored_person() -> None:
    motion = _ideal_motion()
    cams = camera_tensors(motion.cameras)
    frame, seq, cam = sample_windows(motion, 32, np.random.default_rng(1))
    plain = make_batch(motion, cams, frame, seq, cam, LiftConfig(flip=0.0),
                       np.random.default_rng(2))
    flipped = make_batch(motion, cams, frame, seq, cam, LiftConfig(flip=1.0),
                         np.random.default_rng(2))
    # the 2D of the mirrored 3D is the mirrored 2D (x -> -x, left <-> right) ...
    torch.testing.assert_close(flipped[0], flip_keypoints(plain[0]), atol=1e-5, rtol=1e-5)
    # ... and the target is the mirrored 3D
    torch.testing.assert_close(flipped[1], flip_keypoints(plain[1]), atol=1e-3, rtol=1e-5)
    assert not torch.allclose(flipped[0], plain[0], atol=1e-2)


def test_batches_are_replayable_and_augmentations_act() -> None:
    motion = load_motion(SYNTH, ["synth-0", "synth-1"])
    cams = camera_tensors(motion.cameras)
    config = LiftConfig(noise_px=2.0, jitter_mm=20.0, yaw_deg=90.0)

    def batch(cfg: LiftConfig, seed: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng(seed)
        frame, seq, cam = sample_windows(motion, 64, rng)
        return make_batch(motion, cams, frame, seq, cam, cfg, rng)

    a, b = batch(config), batch(config)
    torch.testing.assert_close(a[0], b[0], atol=0, rtol=0)
    clean = batch(LiftConfig())
    assert not torch.allclose(a[0], clean[0])
    assert a[0].shape == (64, 27, 17, 2) and a[1].shape == (64, 17, 3)
    assert torch.all(a[1][:, 0] == 0)
    # the input stays inside a sane normalised image (the person is in view)
    assert float(clean[0].abs().max()) < 1.5


def _scale_bones(world: torch.Tensor, factors: np.ndarray,
                 keep_feet_on_floor: bool = True) -> torch.Tensor:
    """Windows (B, R, 17, 3) world mm with each bone scaled as make_batch scales it
    (:func:`bone_scaling`), lifted by :func:`floor_shift` unless not `keep_feet_on_floor`."""
    joints = bone_scaling(factors)
    out = torch.einsum("bjk,bfkc->bfjc", joints, world)
    if keep_feet_on_floor:
        out[..., 2] += floor_shift(world, joints)[:, None, None]
    return out


def _step_by_step_batch(motion: MotionData, cams: dict[str, torch.Tensor], frame: np.ndarray,
                        seq: np.ndarray, cam: np.ndarray, config: LiftConfig,
                        rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """make_batch's augmentations one after the other, as plainly as possible (same draws)."""
    import math

    from dynapose.skeleton import flip_permutation

    starts = np.array([motion.sequences[s]["start"] for s in seq])
    ends = starts + np.array([motion.sequences[s]["frames"] for s in seq]) - 1
    offsets = window_offsets(config.receptive_field, config.causal, config.frame_stride)
    world = torch.from_numpy(motion.world[np.clip(frame[:, None] + offsets, starts[:, None],
                                                  ends[:, None])]).double()
    centre = int(np.nonzero(offsets == 0)[0][0])
    angle = rng.uniform(-1, 1, len(frame)) * math.radians(config.yaw_deg)
    out = []
    factors = rng.normal(1.0, config.bone_scale, (len(frame), 17))
    factors = factors * rng.normal(1.0, config.body_scale, (len(frame), 1))
    flips = rng.random(len(frame)) < config.flip
    for i in range(len(frame)):
        w = world[i].clone()
        pivot = torch.tensor([w[centre, 0, 0], w[centre, 0, 1], 0.0], dtype=torch.float64)
        c, s = math.cos(angle[i]), math.sin(angle[i])
        turn = torch.tensor([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=torch.float64)
        w = (w - pivot) @ turn.T + pivot
        w = _scale_bones(w[None].float(), factors[i:i + 1])[0].double()
        p = (w - cams["T"][cam[i]].double()) @ cams["R"][cam[i]].double().T
        if flips[i]:
            p = p[:, list(flip_permutation())] * torch.tensor([-1.0, 1.0, 1.0],
                                                              dtype=torch.float64)
        out.append(p)
    points = torch.stack(out)
    idx = torch.from_numpy(cam)
    px = project_torch(points, *(cams[k][idx].double() for k in ("f", "c", "k", "p")))
    size = cams["size"][idx].double()
    inputs = normalize_screen(px, size[:, 0, None, None], size[:, 1, None, None])
    return inputs.float(), (points[:, centre] - points[:, centre, :1]).float()


def test_one_affine_map_per_window_is_the_augmentations_in_turn() -> None:
    motion = load_motion(SYNTH, ["synth-0", "synth-1"])
    cams = camera_tensors(motion.cameras)
    config = LiftConfig(receptive_field=27, frame_stride=3, yaw_deg=30.0, bone_scale=0.1,
                        body_scale=0.1, flip=0.5)
    frame, seq, cam = sample_windows(motion, 48, np.random.default_rng(3))
    fused = make_batch(motion, cams, frame, seq, cam, config, np.random.default_rng(4))
    plain = _step_by_step_batch(motion, cams, frame, seq, cam, config, np.random.default_rng(4))
    torch.testing.assert_close(fused[0], plain[0], atol=2e-5, rtol=0)  # ~0.01 px
    torch.testing.assert_close(fused[1], plain[1], atol=5e-3, rtol=0)  # mm
    assert float((fused[1] - make_batch(motion, cams, frame, seq, cam, LiftConfig(
        receptive_field=27, frame_stride=3), np.random.default_rng(4))[1]).abs().max()) > 10


def _yaw(world: torch.Tensor, angle: float) -> torch.Tensor:
    c, s = np.cos(angle), np.sin(angle)
    return world @ torch.tensor([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=world.dtype).T


def test_posture_turns_keep_bones_pelvis_hips_and_floor() -> None:
    from dynapose.skeleton import JOINT_NAMES, bone_lengths

    motion = load_motion(SYNTH, ["synth-0", "synth-1"])
    rng = np.random.default_rng(0)
    world = torch.from_numpy(motion.world[rng.integers(0, 500, (8, 1)) + np.arange(0, 60, 3)])
    torch.testing.assert_close(turn_body_parts(world, np.zeros((8, 17, 3))), world,
                               atol=2e-3, rtol=0)
    turned = turn_body_parts(world, rng.normal(0, 0.15, (8, 17, 3)))
    np.testing.assert_allclose(bone_lengths(turned.numpy()), bone_lengths(world.numpy()),
                               atol=2e-3)
    hips = [0, JOINT_NAMES.index("right_hip"), JOINT_NAMES.index("left_hip")]
    lift = torch.zeros(8, 1, 1, 3)  # the only move of the pelvis: vertical
    lift[..., 2] = turned[:, :1, :1, 2] - world[:, :1, :1, 2]
    torch.testing.assert_close(turned[:, :, hips] - lift, world[:, :, hips], atol=2e-3, rtol=0)
    ankles = [JOINT_NAMES.index("right_ankle"), JOINT_NAMES.index("left_ankle")]
    torch.testing.assert_close(turned[:, :, ankles, 2].flatten(1).amin(1),
                               world[:, :, ankles, 2].flatten(1).amin(1), atol=2e-3, rtol=0)
    assert float((turned - world).norm(dim=-1).amax()) > 50  # something did move


def test_posture_turns_are_fixed_in_the_torso_frame() -> None:
    """Turning the head alone is, frame by frame, the same turn of the neck->head bone seen in
    the torso's axes; and turning a person then facing them elsewhere is the same as facing
    them elsewhere then turning."""
    from dynapose.skeleton import JOINT_NAMES

    motion = load_motion(SYNTH, ["synth-0"])
    world = torch.from_numpy(motion.world[None, :40]).double()  # (1, 40, 17, 3)
    head, neck = JOINT_NAMES.index("head"), JOINT_NAMES.index("neck")
    turns = np.zeros((1, 17, 3))
    turns[0, head] = [0.3, 0.0, 0.2]  # about the torso's left and forward axes
    turned = turn_body_parts(world.float(), turns).double()
    angle = np.linalg.norm(turns[0, head])
    axis = turns[0, head] / angle
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation = torch.from_numpy(np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k)
    frames = torso_frames(world)[0]  # (40, 3, 3)
    for t in range(40):
        before = frames[t].T @ (world[0, t, head] - world[0, t, neck])
        after = frames[t].T @ (turned[0, t, head] - turned[0, t, neck])
        torch.testing.assert_close(after, rotation @ before, atol=5e-3, rtol=0)
    others = [j for j in range(17) if j != head]
    torch.testing.assert_close(turned[0, :, others], world[0, :, others], atol=5e-3, rtol=0)
    many = np.random.default_rng(1).normal(0, 0.2, (1, 17, 3))
    torch.testing.assert_close(turn_body_parts(_yaw(world, 1.0).float(), many),
                               _yaw(turn_body_parts(world.float(), many).double(), 1.0).float(),
                               atol=5e-3, rtol=0)


def test_posture_turns_are_the_part_turns_one_after_another() -> None:
    """turn_body_parts's chained rotations equal turning each part's subtree about its parent's
    current position, parents first, one joint at a time."""
    from dynapose.skeleton import PARENTS
    from dynapose.training.body_parts import ANKLES, POSTURE_JOINTS, axis_angle_matrices

    motion = load_motion(SYNTH, ["synth-0"])
    world = torch.from_numpy(motion.world[None, :30]).double()
    turns = np.random.default_rng(2).normal(0, 0.3, (1, 17, 3))
    frames, turn = torso_frames(world)[0], axis_angle_matrices(turns)[0].double()
    out = world[0].clone()
    for j in POSTURE_JOINTS:
        below = [j] + [k for k in range(17) if k != j and j in _ancestors(k, PARENTS)]
        for t in range(30):
            rotate = frames[t] @ turn[j] @ frames[t].T
            out[t, below] = out[t, PARENTS[j]] + (out[t, below] - out[t, PARENTS[j]]) @ rotate.T
    out[..., 2] += world[0, :, ANKLES, 2].min() - out[:, ANKLES, 2].min()  # feet on the floor
    torch.testing.assert_close(turn_body_parts(world.float(), turns)[0].double(), out,
                               atol=5e-3, rtol=0)


def _ancestors(joint: int, parents: tuple[int, ...]) -> list[int]:
    out = []
    while parents[joint] >= 0:
        joint = parents[joint]
        out.append(joint)
    return out


def test_make_batch_turns_postures_when_asked() -> None:
    from dynapose.skeleton import bone_lengths

    motion = load_motion(SYNTH, ["synth-0", "synth-1"])
    cams = camera_tensors(motion.cameras)
    frame, seq, cam = sample_windows(motion, 32, np.random.default_rng(1))
    config = LiftConfig(flip=0.0)
    plain = make_batch(motion, cams, frame, seq, cam, config, np.random.default_rng(2))
    turned = make_batch(motion, cams, frame, seq, cam, LiftConfig(flip=0.0, posture_deg=10.0),
                        np.random.default_rng(2))
    assert float((turned[1] - plain[1]).norm(dim=-1).mean()) > 20
    np.testing.assert_allclose(bone_lengths(turned[1].numpy()), bone_lengths(plain[1].numpy()),
                               atol=0.05)
    with pytest.raises(DynaPoseError, match="augmentations must be >= 0"):
        LiftConfig(posture_deg=-1.0).validate()


def test_windows_out_of_view_are_moved_into_it() -> None:
    motion = load_motion(SYNTH, ["synth-0"])
    cams = camera_tensors(motion.cameras)
    far = MotionData(motion.world + np.float32([9000.0, 0.0, 0.0]), motion.sequences,
                     motion.cameras)  # behind or beside every camera
    rng = np.random.default_rng(0)
    frame, seq, cam = sample_windows(far, 64, rng)
    inputs, target = make_batch(far, cams, frame, seq, cam, LiftConfig(), rng)
    near = make_batch(motion, cams, frame, seq, cam, LiftConfig(), np.random.default_rng(0))
    assert torch.isfinite(inputs).all() and float(inputs.abs().max()) < 1.5
    # the same people, only moved: the same bone lengths (the view direction differs)
    from dynapose.skeleton import bone_lengths

    np.testing.assert_allclose(bone_lengths(target.numpy()), bone_lengths(near[1].numpy()),
                               atol=0.05)


def test_windows_travelling_too_far_are_filmed_from_farther_or_replaced() -> None:
    """A 3 s window of a fast run crosses a camera's view: moved to the origin it still puts
    joints near the camera's plane (2D coordinates up to 1e17 once, the NaN BatchNorm statistics
    of lift-cmu's training). It is filmed from farther instead, the same root-relative pose."""
    motion = load_motion(SYNTH, ["synth-0"])
    s = motion.sequences[0]
    world = motion.world[s["start"]: s["start"] + s["frames"]].copy()
    world[..., 0] += np.linspace(-6000, 6000, len(world), dtype=np.float32)[:, None]  # 4 m/s
    one = MotionData(world, [dict(s, start=0)], motion.cameras)
    cams = camera_tensors(one.cameras)
    config = LiftConfig(receptive_field=81, frame_stride=2, flip=0.0)
    frame = np.full(8, len(world) // 2)
    seq, cam = np.zeros(8, int), np.arange(8)
    inputs, target = make_batch(one, cams, frame, seq, cam, config, np.random.default_rng(0))
    assert torch.isfinite(inputs).all() and float(inputs.abs().max()) < 1.5
    # translation only: the root-relative pose is the camera's view of the centre frame
    for b in range(8):
        c = one.cameras[b]
        pose = c.world_to_camera(world[len(world) // 2].astype(np.float64))
        np.testing.assert_allclose(target[b].numpy(), pose - pose[:1], atol=1e-2)


def test_bone_scaling_keeps_the_body_symmetric() -> None:
    from dynapose.skeleton import BONES, LEFT_JOINTS, RIGHT_JOINTS, bone_lengths

    motion = load_motion(SYNTH, ["synth-0"])
    world = torch.from_numpy(motion.world[:10])[None]  # (1, 10, 17, 3)
    factors = np.random.default_rng(0).normal(1.0, 0.1, (1, 17))
    scaled = _scale_bones(world, factors)
    ratio = bone_lengths(scaled.numpy()) / bone_lengths(world.numpy())
    child = [c for c, _ in BONES]
    for left, right in zip(LEFT_JOINTS, RIGHT_JOINTS, strict=True):
        np.testing.assert_allclose(ratio[..., child.index(left)], factors[0, left], rtol=1e-4)
        np.testing.assert_allclose(ratio[..., child.index(right)], factors[0, left], rtol=1e-4)
    # the pelvis moves only vertically, and just enough to keep the feet on the floor
    torch.testing.assert_close(scaled[:, :, 0, :2], world[:, :, 0, :2])
    shift = scaled[:, :, 0, 2] - world[:, :, 0, 2]
    torch.testing.assert_close(shift, shift[:, :1].expand_as(shift))
    ankles = [3, 6]
    torch.testing.assert_close(scaled[:, :, ankles, 2].min(), world[:, :, ankles, 2].min())
    assert float(shift.abs().max()) > 1.0  # longer or shorter legs did move the pelvis
    about_pelvis = _scale_bones(world, factors, keep_feet_on_floor=False)
    torch.testing.assert_close(about_pelvis[:, :, 0], world[:, :, 0])
    torch.testing.assert_close(about_pelvis[..., 2] + shift[..., None], scaled[..., 2])


def test_normalize_screen_numpy_and_torch() -> None:
    px = np.array([[0.0, 0.0], [1000.0, 1002.0], [500.0, 501.0]])
    expected = np.array([[-1.0, -1.002], [1.0, 1.002], [0.0, 0.0]])
    np.testing.assert_allclose(normalize_screen(px, 1000, 1002), expected, atol=1e-12)
    out = normalize_screen(torch.as_tensor(px), torch.tensor(1000.0), torch.tensor(1002.0))
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-6)


# -- training ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_tiny_training_reduces_error_and_checkpoints(tmp_path: Path) -> None:
    config = _tiny()
    before = build_model("lifter", **config.model_config())
    val = evaluate_lifter(before, SYNTH, subjects=SPLIT["val_subjects"], flip_tta=False)
    result = train_lifter(SYNTH, tmp_path / "run", config, progress=False)
    assert result["finished"] and result["steps"] == 2 * (4096 // 256)
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[0].startswith("epoch,step")
    _, ckpt = load_checkpoint(tmp_path / "run")
    assert ckpt["model"]["name"] == "lifter"
    after = evaluate_lifter(tmp_path / "run", SYNTH, subjects=SPLIT["val_subjects"])
    before_p1, after_p1 = val["overall"]["mpjpe_p1"], after["overall"]["mpjpe_p1"]
    assert after_p1 < 0.6 * before_p1, (before_p1, after_p1)
    assert after["frames"] == val["frames"] > 0
    assert set(after["per_action"]) >= {"walk", "run"}


def test_bf16_steps_learn_and_keep_float32_weights_and_outputs() -> None:
    from dynapose.training.lift import make_optimizer, train_step

    motion = load_motion(SYNTH, ["synth-0"])
    cams = camera_tensors(motion.cameras)
    config = LiftConfig(receptive_field=27, channels=64, dropout=0.0, lr=3e-3)
    frame, seq, cam = sample_windows(motion, 128, np.random.default_rng(0))
    inputs, target = make_batch(motion, cams, frame, seq, cam, config, np.random.default_rng(0))
    torch.manual_seed(0)
    model = build_model("lifter", **config.model_config())
    optimizer = make_optimizer(model, config)
    losses = [train_step(model, optimizer, inputs, target, "bf16") for _ in range(30)]
    assert losses[-1] < 0.5 * losses[0], losses
    assert all(p.dtype == torch.float32 for p in model.parameters())
    model.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        low = model(inputs)
    with torch.no_grad():
        full = model(inputs)
    # the last layer stays float32: no 8-bit-mantissa rounding of the millimetres
    assert low.dtype == torch.float32
    assert 0 < float((low - full).abs().mean()) < 2.0


@pytest.mark.slow
def test_resume_gives_the_same_weights(tmp_path: Path) -> None:
    config = _tiny(epochs=2, samples_per_epoch=2048, checkpoint_every=3, val_windows=64)
    train_lifter(SYNTH, tmp_path / "whole", config, progress=False)
    part = train_lifter(SYNTH, tmp_path / "cut", config, progress=False, max_steps=5)
    assert not part["finished"]
    assert not (tmp_path / "cut" / "checkpoint").exists()  # stopped inside epoch 1
    with pytest.raises(DynaPoseError, match="changed settings"):
        train_lifter(SYNTH, tmp_path / "cut", _tiny(epochs=2, samples_per_epoch=2048,
                                                     checkpoint_every=3, val_windows=64,
                                                     lr=0.002), resume=True, progress=False)
    rest = train_lifter(SYNTH, tmp_path / "cut", config, resume=True, progress=False)
    assert rest["finished"] and rest["steps"] == 16 - 5
    a = load_file(str(tmp_path / "whole" / "checkpoint" / "model.safetensors"))
    b = load_file(str(tmp_path / "cut" / "checkpoint" / "model.safetensors"))
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=0, rtol=0)
    assert (tmp_path / "whole" / "metrics.csv").read_text().count("\n") == \
        (tmp_path / "cut" / "metrics.csv").read_text().count("\n")
    with pytest.raises(DynaPoseError, match="already holds a run"):
        train_lifter(SYNTH, tmp_path / "whole", config, progress=False)


def test_config_errors(tmp_path: Path) -> None:
    with pytest.raises(DynaPoseError, match="unknown lift preset"):
        load_lift_config("seed")
    bad = tmp_path / "bad.yaml"
    bad.write_text("receptive_field: 30\n")
    with pytest.raises(DynaPoseError, match=r"bad\.yaml: receptive_field"):
        load_lift_config("lift-quick", bad)
    bad.write_text("frobnicate: 1\n")
    with pytest.raises(DynaPoseError, match="unknown setting"):
        load_lift_config("lift-quick", bad)
    bad.write_text("precision: fp16\n")
    with pytest.raises(DynaPoseError, match=r"bad\.yaml: precision must be auto, fp32 or bf16"):
        load_lift_config("lift-quick", bad)
    with pytest.raises(DynaPoseError, match="not a VideoPose3D"):
        load_motion(tmp_path / "nothing.txt")


# -- keypoint files ------------------------------------------------------------------------------
def _tiny_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("lifter", filter_widths=(3, 3), channels=8).eval()


def test_lift_file_and_bad_keypoints(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    good = tmp_path / "kp.npz"
    np.savez(good, keypoints=rng.uniform(300, 700, (20, 17, 3)))
    out = lift_file(_tiny_model(), good, 1000, 1000)
    assert out.shape == (20, 17, 3) and np.all(np.isfinite(out))
    px, conf = read_keypoints(good)
    assert px.shape == (20, 17, 2) and conf.shape == (20, 17)

    wrong = tmp_path / "coco18.npy"
    np.save(wrong, rng.uniform(0, 1, (20, 18, 2)))
    with pytest.raises(DynaPoseError, match="18 joints, expected 17") as err:
        read_keypoints(wrong)
    assert str(wrong) in str(err.value) and "\n" not in str(err.value)

    nan = tmp_path / "nan.npy"
    array = rng.uniform(0, 1000, (20, 17, 2))
    array[7, 3] = np.nan
    np.save(nan, array)
    with pytest.raises(DynaPoseError, match=r"NaN or infinite values in 1 frame.*frame 7") as err:
        lift_file(_tiny_model(), nan, 1000, 1000)
    assert str(nan) in str(err.value) and "\n" not in str(err.value)

    flat = tmp_path / "flat.npy"
    np.save(flat, np.zeros((20, 34)))
    with pytest.raises(DynaPoseError, match="shape"):
        read_keypoints(flat)
    with pytest.raises(DynaPoseError, match="not found"):
        read_keypoints(tmp_path / "missing.npy")


def test_flip_tta_is_symmetric() -> None:
    model = _tiny_model()
    kp = np.random.default_rng(3).uniform(-0.5, 0.5, (30, 17, 2))
    mirrored = flip_keypoints(torch.as_tensor(kp)).numpy()
    a = lift_sequence(model, kp, flip_tta=True)
    b = lift_sequence(model, mirrored, flip_tta=True)
    np.testing.assert_allclose(flip_keypoints(torch.as_tensor(b)).numpy(), a, atol=1e-3)


# -- evaluation on a pose store and the command line ---------------------------------------------
def _pose_store(path: Path) -> Path:
    from dynapose.data.pose_store import PoseStoreWriter

    motion = load_motion(SYNTH, ["synth-6"])
    with PoseStoreWriter(path) as w:
        for s in motion.sequences:
            world = motion.world[s["start"]: s["start"] + s["frames"]].astype(np.float64)
            for ci in s["cameras"][:2]:
                cam = motion.cameras[ci]
                points = cam.world_to_camera(world)
                w.add(points, cam.project(points), camera=cam, subject="synth-6",
                      action=s["action"], fps=50, split="test")
    return path


@pytest.mark.slow
def test_cli_train_evaluate_bench(tmp_path: Path) -> None:
    runner = CliRunner()
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("train_subjects: [synth-0, synth-1, synth-2]\nval_subjects: [synth-6]\n"
                   "epochs: 1\nsamples_per_epoch: 1024\nval_windows: 64\nthreads: 1\n")
    run = tmp_path / "run"
    res = runner.invoke(main, ["train-lift", "--data", SYNTH, "--out", str(run), "--preset",
                               "lift-quick", "--config", str(cfg), "--quiet"])
    assert res.exit_code == 0, res.output
    assert (run / "checkpoint" / "model.safetensors").is_file()
    store = _pose_store(tmp_path / "poses")
    res = runner.invoke(main, ["evaluate-lift", "--checkpoint", str(run), "--data", str(store)])
    assert res.exit_code == 0, res.output
    report = json.loads((run / "eval-lift.json").read_text())  # a run's report: in the run
    assert report["sequences"] == 8 and report["overall"]["mpjpe_p1"] > 0
    assert report["family"] == "lifter" and "average" in res.output
    # beside the network's errors, those of its joints fitted to the pose store's 2D (lift_fit)
    fitted = report["fitted"]
    assert set(fitted["per_action"]) == set(report["per_action"]) and "P1 fit" in res.output
    assert 0 < fitted["overall"]["mpjpe_p1"] != report["overall"]["mpjpe_p1"]
    assert np.isfinite(fitted["overall"]["mpjve"])
    res = runner.invoke(main, ["evaluate-lift", "--checkpoint", str(run), "--data", str(store),
                               "--noise-px", "2", "--out", str(tmp_path / "noisy.json")])
    assert res.exit_code == 0, res.output
    noisy = json.loads((tmp_path / "noisy.json").read_text())
    assert noisy["noise_px"] == 2 and noisy["overall"]["mpjpe_p1"] != report["overall"]["mpjpe_p1"]
    res = runner.invoke(main, ["evaluate-lift", "--checkpoint", str(run), "--data", str(store),
                               "--noise-px", "-1"])
    assert res.exit_code == 2 and "Invalid value for '--noise-px'" in res.output
    # `dynapose evaluate` recognises a lifter and runs the same protocol.
    res = runner.invoke(main, ["evaluate", "--checkpoint", str(run), "--data", str(store),
                               "--out", str(tmp_path / "same.json")])
    assert res.exit_code == 0, res.output
    same = json.loads((tmp_path / "same.json").read_text())
    assert same["overall"]["mpjpe_p1"] == report["overall"]["mpjpe_p1"]
    res = runner.invoke(main, ["bench", "lift", "--json", "--receptive-field", "27",
                               "--channels", "16", "--batch", "32", "--frames", "100",
                               "--seconds", "0.05", "--threads", "1", "--precision", "fp32"])
    assert res.exit_code == 0, res.output
    bench = json.loads(res.output)
    assert bench["train"]["samples_per_s"] > 0 and bench["infer_causal_stream"]["frames_per_s"] > 0
    assert bench["precision"] == "fp32"
    res = runner.invoke(main, ["evaluate-lift", "--checkpoint", str(tmp_path / "nope"),
                               "--data", str(store)])
    assert res.exit_code == 2 and "checkpoint not found" in res.output


def test_shipped_lifter_report_goes_to_the_current_folder(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from dynapose.inference.lifting import default_lifter_path

    store = _pose_store(tmp_path / "poses")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    res = CliRunner().invoke(main, ["evaluate-lift", "--checkpoint", str(default_lifter_path()),
                                    "--data", str(store)])
    assert res.exit_code == 0, res.output
    assert (work / "eval-lift.json").is_file()  # not inside the installed package
    assert not (Path(default_lifter_path()) / "eval-lift.json").exists()


def test_cli_chooses_subjects_and_refuses_overlap(tmp_path: Path) -> None:
    """--train-subjects / --val-subjects replace the preset's (leave-one-subject-out
    cross-validation from the command line); a subject in both is refused before training."""
    run = tmp_path / "run"
    common = ["train-lift", "--data", SYNTH, "--out", str(run), "--preset", "lift-quick",
              "--epochs", "1", "--samples-per-epoch", "128", "--batch-size", "64",
              "--channels", "16", "--threads", "1", "--quiet", "--no-evaluate"]
    res = CliRunner().invoke(main, [*common, "--train-subjects", "synth-0,synth-1",
                                    "--train-subjects", "synth-2", "--val-subjects", "synth-6"])
    assert res.exit_code == 0, res.output
    info = json.loads((run / "run.json").read_text())
    assert info["config"]["train_subjects"] == ["synth-0", "synth-1", "synth-2"]
    assert info["config"]["val_subjects"] == ["synth-6"] and info["val_frames"] > 0
    bad = tmp_path / "bad"
    res = CliRunner().invoke(main, [*common[:4], str(bad), *common[5:], "--train-subjects",
                                    "synth-0,synth-6", "--val-subjects", "synth-6"])
    assert res.exit_code == 2
    assert "['synth-6'] are in both train_subjects and val_subjects" in res.output
    assert not bad.exists()


@pytest.mark.slow
@pytest.mark.skipif(not NPZ.is_file(), reason=f"real Human3.6M poses not present at {NPZ}")
def test_real_npz_windows_and_evaluation() -> None:
    motion = load_motion(NPZ, ["S8"])
    assert motion.subjects() == ["S8"] and len(motion.cameras) == 4
    cams = camera_tensors(motion.cameras)
    rng = np.random.default_rng(0)
    frame, seq, cam = sample_windows(motion, 16, rng)
    inputs, target = make_batch(motion, cams, frame, seq, cam, LiftConfig(flip=0), rng)
    assert float(inputs.abs().max()) < 1.2  # ground-truth 2D lands inside the image
    assert 300 < float(target.norm(dim=-1).max()) < 1200  # a human-sized skeleton, mm
    report = evaluate_lifter(_tiny_model(), NPZ, subjects=["S8"], cameras=["54138969"],
                             max_sequences=2, flip_tta=False)
    assert report["sequences"] == 2 and report["frames"] > 1000
    # the fit (test_lift_fit) runs on it
    assert np.isfinite(report["fitted"]["overall"]["mpjpe_p1"])


def test_h36m_presets_share_one_recipe() -> None:
    """lift-h36m-s9s11 is lift-h36m with the standard split: the recipe measured on S8 is the one
    that would be scored on S9/S11, so the two must not drift apart."""
    held_out = load_lift_config("lift-h36m").to_dict()
    standard = load_lift_config("lift-h36m-s9s11").to_dict()
    split = ("train_subjects", "val_subjects", "preset")
    assert {k: v for k, v in held_out.items() if k not in split} == \
        {k: v for k, v in standard.items() if k not in split}


@pytest.mark.slow
@pytest.mark.skipif(not NPZ.is_file(), reason=f"real Human3.6M poses not present at {NPZ}")
def test_s9s11_preset_without_its_test_subjects(tmp_path: Path) -> None:
    """The five-subject preset trains on S1, S5-S8; where S9/S11 are absent (as in
    ../shared/data) it says so and skips validation and evaluation instead of failing."""
    config = load_lift_config("lift-h36m-s9s11")
    assert config.train_subjects == ["S1", "S5", "S6", "S7", "S8"]
    assert config.val_subjects == ["S9", "S11"]
    run = tmp_path / "run"
    res = CliRunner().invoke(main, [
        "train-lift", "--data", str(NPZ), "--out", str(run), "--preset", "lift-h36m-s9s11",
        "--epochs", "1", "--samples-per-epoch", "256", "--batch-size", "128", "--channels", "16",
        "--threads", "1", "--quiet"])
    assert res.exit_code == 0, res.output
    assert "no frames of S9, S11" in res.output and "evaluation skipped" in res.output
    info = json.loads((run / "run.json").read_text())
    assert info["val_frames"] == 0 and info["train_frames"] > 300_000
    assert not (run / "eval.json").exists()
    assert (run / "checkpoint" / "model.safetensors").is_file()
