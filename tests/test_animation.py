"""Animation-ready motion (dynapose.animation): floor and camera tilt from the feet, contacts,
rotations from positions, BVH export and its round trip, smoothing without lag, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from dynapose.animation import export_motion, ik, read_prediction
from dynapose.animation.bvh_write import bvh_text
from dynapose.animation.export import PredictionJoints, read_back
from dynapose.animation.quality import bone_spread, jitter
from dynapose.animation.smooth import smooth
from dynapose.camera import look_at
from dynapose.data.bvh import load_bvh, parse_bvh
from dynapose.data.synthetic.motion import BodyShape, generate_motion, sample_body
from dynapose.errors import DynaPoseError
from dynapose.inference.refine import rigid_bones, sequence_bone_lengths
from dynapose.scene import rotations
from dynapose.scene.feet import foot_contacts, foot_skating
from dynapose.scene.floor import estimate_floor, fit_plane, world_frame

FPS = 50.0


def _motion(action: str = "walk", frames: int = 300, seed: int = 0
            ) -> tuple[np.ndarray, BodyShape]:
    """A procedural motion: world joints (F, 17, 3) mm, Z up, floor at 0, and its body."""
    rng = np.random.default_rng(seed)
    body = sample_body(rng)
    return generate_motion(action, body, frames, rng=rng).joints.astype(np.float64), body


def _camera(height: float = 1600.0, roll_deg: float = 0.0) -> np.ndarray:
    """World -> camera rotation of a camera `height` mm up, 4 m away, looking down at the
    person's hips, turned `roll_deg` about its optical axis."""
    r = look_at(np.array([3000.0, -2800.0, height]), np.array([0.0, 0.0, 900.0]))
    a = np.radians(roll_deg)
    roll = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0, 0, 1.0]])
    return roll @ r


def _filmed(world: np.ndarray, rotation: np.ndarray, height: float) -> np.ndarray:
    eye = np.array([3000.0, -2800.0, height])
    return (world - eye) @ rotation.T


def _y_up(world_zup: np.ndarray) -> np.ndarray:
    return world_zup[..., [0, 2, 1]] * np.array([1.0, 1.0, -1.0])


# --------------------------------------------------------------------------------------------
# Floor, tilt, world frame, contacts


@pytest.mark.parametrize(("action", "seed", "height", "roll"),
                         [("walk", 0, 1600.0, 0.0), ("walk", 1, 2400.0, 6.0),
                          ("run", 2, 1200.0, -4.0), ("turn", 3, 1800.0, 3.0)])
def test_floor_and_camera_tilt_are_recovered(action: str, seed: int, height: float,
                                             roll: float) -> None:
    world, body = _motion(action, seed=seed)
    rot = _camera(height, roll)
    cam = _filmed(world, rot, height)
    floor = estimate_floor(cam, None, FPS, ankle_height=body.ankle_height)
    up_true = rot @ np.array([0.0, 0.0, 1.0])
    angle = np.degrees(np.arccos(np.clip(floor.up @ up_true, -1.0, 1.0)))
    assert angle < 0.5  # degrees
    assert abs(floor.camera_height - height) < 15.0  # mm
    tilt = floor.camera_tilt()
    assert abs(tilt["roll_deg"] - np.degrees(np.arcsin(up_true[0]))) < 0.5
    assert abs(tilt["pitch_deg"] - np.degrees(np.arcsin(-up_true[2]))) < 0.5
    assert abs(tilt["roll_deg"] - roll) < 1.0
    assert floor.steps >= 4
    if action != "turn":  # turning on the spot covers little floor, and says so
        assert not floor.assumptions
    # in the world frame the floor is at y = 0: planted ankles sit at the ankle height
    frame = world_frame(floor, cam, origin="start")
    w = frame.to_world(cam)
    planted = w[:, [3, 6], 1][floor.contacts]
    assert abs(np.median(planted) - body.ankle_height) < 5.0
    np.testing.assert_allclose(w[0, 0, [0, 2]], 0.0, atol=1e-9)  # origin below the pelvis
    # the trajectory over the ground is the true one, turned about the vertical
    true_y = _y_up(world)
    step = np.linalg.norm(np.diff(w[:, 0, [0, 2]], axis=0), axis=-1)
    true_step = np.linalg.norm(np.diff(true_y[:, 0, [0, 2]], axis=0), axis=-1)
    assert abs(step.sum() - true_step.sum()) < 0.01 * true_step.sum() + 5.0


def test_a_person_on_one_spot_leaves_the_tilt_to_the_body_and_says_so() -> None:
    world, body = _motion("wave", seed=4)
    rot = _camera()
    floor = estimate_floor(_filmed(world, rot, 1600.0), None, FPS,
                           ankle_height=body.ankle_height)
    assert any("body's up direction" in a for a in floor.assumptions)
    angle = np.degrees(np.arccos(floor.up @ (rot @ np.array([0.0, 0.0, 1.0]))))
    assert angle < 15.0 and floor.tilt_uncertainty_deg > 3.0


def test_fit_plane_is_robust_to_a_raised_foot_and_never_stands_on_its_side() -> None:
    rng = np.random.default_rng(0)
    xz = rng.uniform(-1500, 1500, (60, 2))
    tilt = np.radians(5.0)
    pts = np.stack([xz[:, 0], xz[:, 0] * np.tan(tilt), xz[:, 1]], -1)  # y up, tilted about z
    pts[:10, 1] += 400.0  # a foot resting on a chair's rung
    n, _ = fit_plane(pts, np.array([0.0, 1.0, 0.0]))
    true = np.array([-np.sin(tilt), np.cos(tilt), 0.0])
    assert np.degrees(np.arccos(n @ true)) < 0.5
    # points stacked vertically: a least-squares plane would be vertical, the prior forbids it
    column = np.stack([rng.normal(0, 5, 30), np.linspace(0, 900, 30), rng.normal(0, 5, 30)], -1)
    n, _ = fit_plane(column, np.array([0.0, 1.0, 0.0]))
    assert n[1] > np.cos(np.radians(30.0))


def test_contacts_of_a_known_walk() -> None:
    world, body = _motion("walk", seed=0)
    y = _y_up(world)
    ankles = y[:, [3, 6]]
    speed = np.zeros((len(y), 2))
    speed[1:-1] = np.linalg.norm(ankles[2:] - ankles[:-2], axis=-1) * FPS / 2
    truth = (ankles[..., 1] - body.ankle_height < 3.0) & (speed < 20.0)  # planted by design
    est = foot_contacts(y, np.ones(len(y), dtype=bool), FPS, body.ankle_height)
    assert truth.mean() > 0.25
    assert (est == truth)[1:-1].mean() > 0.95
    skate = foot_skating(y, est, FPS)
    assert skate["contacts"] >= 6 and skate["mm_per_contact"] < 20.0
    # feet dragged 10 mm per frame while planted: skating measures it
    dragged = y.copy()
    dragged[:, :, 0] += 10.0 * np.arange(len(y))[:, None]
    dragged[:, [3, 6], 0] -= 10.0 * np.arange(len(y))[:, None] * ~truth
    assert foot_skating(dragged, truth, FPS)["mm_per_frame"] > 9.0


# --------------------------------------------------------------------------------------------
# IK and the BVH


@pytest.mark.parametrize("action", ["walk", "sit", "reach", "jump", "turn"])
def test_ik_reproduces_positions_and_euler_angles_round_trip(action: str) -> None:
    world, _ = _motion(action, frames=120, seed=5)
    y = rigid_bones(_y_up(world))
    lengths = sequence_bone_lengths(y)
    glob = ik.solve(y)
    assert np.allclose(np.linalg.det(glob), 1.0) and np.allclose(
        np.swapaxes(glob, -1, -2) @ glob, np.eye(3), atol=1e-9)
    local = ik.local_rotations(glob)
    offsets = ik.rest_offsets(lengths)
    pos = ik.joints_of(ik.forward(local, y[:, 0], offsets))
    assert np.abs(pos - y).max() < 1e-6  # mm
    angles = rotations.matrix_to_euler_zxy(local)
    np.testing.assert_allclose(rotations.euler_zxy_to_matrix(angles), local, atol=1e-9)
    assert np.abs(np.diff(angles, axis=0)).max() < 90.0  # curves without jumps
    # the rest pose: legs down, arms out, facing +Z
    rest = ik.forward(np.broadcast_to(np.eye(3), (1, len(ik.RIG), 3, 3)), np.zeros((1, 3)),
                      offsets)[0]
    idx = ik.RIG_NAMES.index
    assert rest[idx("left_wrist"), 0] > 0 > rest[idx("right_wrist"), 0]
    assert rest[idx("head"), 1] > 0 > rest[idx("left_ankle"), 1]


def test_shortest_rotation_handles_opposite_vectors() -> None:
    a = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    b = -a
    r = rotations.shortest_rotation(a, b)
    np.testing.assert_allclose(np.einsum("fij,fj->fi", r, a), b, atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(r), 1.0)


def _export(tmp_path: Path, cam: np.ndarray, valid: np.ndarray | None = None,
            relative: bool = False, **kw: object) -> tuple[Path, dict]:
    v = np.isfinite(cam).all(axis=(1, 2)) if valid is None else valid
    bvh = tmp_path / "motion.bvh"
    rep = export_motion(PredictionJoints(cam, v, FPS, relative, "test"), bvh, **kw)  # type: ignore[arg-type]
    return bvh, rep


def _no_nan(path: Path) -> None:
    text = path.read_text()
    assert "nan" not in text.lower() and "inf" not in text.lower()
    assert np.isfinite(parse_bvh(path).motion).all()


@pytest.mark.parametrize("unit", ["cm", "mm", "m"])
def test_bvh_round_trip_with_dynapose_reader(tmp_path: Path, unit: str) -> None:
    world, _ = _motion("walk", frames=150, seed=6)
    cam = _filmed(world, _camera(), 1600.0)
    bvh, rep = _export(tmp_path, cam, unit=unit)
    _no_nan(bvh)
    data = parse_bvh(bvh)
    assert [n for n in data.names if "/End" not in n] == list(ik.RIG_NAMES)
    assert data.num_frames == 150 and abs(1.0 / data.frame_time - FPS) < 1e-6
    back, _ = read_back(bvh, unit)
    world_npz = rep["round_trip_mm"]
    assert world_npz["max"] < 0.01  # mm
    # the exported motion is the prediction in the world frame (rigid bones already)
    assert rep["change_mm"]["max"] < 0.01
    assert rep["quality_after"]["bone_spread_mm"] < 1e-6
    # the joints, read independently: world frame Y up, feet on the floor
    assert np.abs(np.median(back[:, [3, 6], 1].min(axis=1)) - 75.0) < 30.0
    # DynaPose's 17-joint loader recognises the rig (Z up, floor at 0, mm)
    motion = load_bvh(bvh)
    zup = back[..., [0, 2, 1]] * np.array([1.0, -1.0, 1.0])
    assert motion.fps == pytest.approx(FPS)
    np.testing.assert_allclose(motion.joints[..., :2], zup[..., :2], atol=0.01)
    assert np.abs(motion.joints[..., 2] - zup[..., 2]).max() < 60.0  # floor re-grounded


def test_bvh_round_trip_with_bvhio(tmp_path: Path) -> None:
    bvhio = pytest.importorskip("bvhio", reason="bvhio (PyPI) not installed")
    world, _ = _motion("reach", frames=40, seed=7)
    cam = _filmed(world, _camera(), 1600.0)
    bvh, _ = _export(tmp_path, cam, unit="cm")
    ours, _ = read_back(bvh, "cm")
    root = bvhio.readAsHierarchy(str(bvh))
    joints = {j.Name: j for j, _, _ in root.layout()}
    wanted = [joints[ik.RIG_NAMES[i]] for i in ik.RIG_OF_JOINT]
    theirs = np.zeros_like(ours)
    for t in range(len(ours)):
        root.loadPose(t)
        theirs[t] = [tuple(j.PositionWorld) for j in wanted]
    assert np.abs(theirs * 10.0 - ours).max() < 0.01  # mm (bvhio computes in float32)


def test_bvh_writer_refuses_nan() -> None:
    offsets = np.zeros((len(ik.RIG), 3))
    angles = np.zeros((2, len(ik.RIG), 3))
    angles[1, 3, 0] = np.nan
    with pytest.raises(DynaPoseError, match="NaN"):
        bvh_text(offsets, np.zeros((2, 3)), angles, 0.02)


# --------------------------------------------------------------------------------------------
# Bad input: gaps, never still, too short, nothing


def test_gaps_are_filled_and_said(tmp_path: Path) -> None:
    world, _ = _motion("walk", frames=200, seed=8)
    cam = _filmed(world, _camera(), 1600.0)
    cam[:5] = np.nan
    cam[90:110] = np.nan
    cam[-3:] = np.nan
    bvh, rep = _export(tmp_path, cam)
    _no_nan(bvh)
    assert parse_bvh(bvh).num_frames == 200 and rep["frames_without_person"] == 28
    assert any("28 frame(s) without a person" in a for a in rep["assumptions"])
    back, _ = read_back(bvh)
    # a gap's frames lie between the poses around it; the ends hold the first/last pose
    np.testing.assert_allclose(back[0], back[5], atol=1e-3)
    between = back[89, 0] + (100 - 89) / (110 - 89) * (back[110, 0] - back[89, 0])
    assert np.linalg.norm(back[100, 0] - between) < 1e-3


def test_a_person_who_never_stands_still(tmp_path: Path) -> None:
    world, _ = _motion("wave", frames=150, seed=9)
    world[..., 0] += 12.0 * np.arange(len(world))[:, None]  # carried along at 600 mm/s
    cam = _filmed(world, _camera(), 1600.0)
    bvh, rep = _export(tmp_path, cam)
    _no_nan(bvh)
    assert any("no foot ever stood still" in a for a in rep["assumptions"]), rep["assumptions"]
    assert rep["round_trip_mm"]["max"] < 0.01


@pytest.mark.parametrize("frames", [1, 2, 4])
def test_clips_too_short_to_find_the_floor(tmp_path: Path, frames: int) -> None:
    world, _ = _motion("walk", frames=frames, seed=10)
    cam = _filmed(world, _camera(), 1600.0)
    bvh, rep = _export(tmp_path, cam)
    _no_nan(bvh)
    assert parse_bvh(bvh).num_frames == frames
    assert rep["assumptions"]  # what was assumed is said
    assert rep["round_trip_mm"]["max"] < 0.01


def test_no_person_at_all_is_an_error_and_writes_nothing(tmp_path: Path) -> None:
    cam = np.full((10, 17, 3), np.nan)
    with pytest.raises(DynaPoseError, match="no frame holds a person"):
        _export(tmp_path, cam)
    assert not list(tmp_path.iterdir())


def test_pelvis_relative_predictions_get_a_foot_locked_trajectory(tmp_path: Path) -> None:
    world, _ = _motion("walk", frames=250, seed=11)
    cam = _filmed(world, _camera(), 1600.0)
    bvh, rep = _export(tmp_path, cam - cam[:, :1], relative=True)
    _no_nan(bvh)
    back, _ = read_back(bvh)
    travelled = np.linalg.norm(back[-1, 0, [0, 2]] - back[0, 0, [0, 2]])
    truth = np.linalg.norm(world[-1, 0, :2] - world[0, 0, :2])
    assert abs(travelled - truth) < 0.1 * truth
    assert any("supporting foot" in a for a in rep["assumptions"])


# --------------------------------------------------------------------------------------------
# Smoothing and quality


def test_smoothing_adds_no_lag() -> None:
    t = np.arange(120, dtype=np.float64)
    quad = np.stack([3.0 + 2.0 * t - 0.05 * t**2, -t, 0.01 * t**2], -1)
    for mode in ("offline", "causal"):
        np.testing.assert_allclose(smooth(quad, mode, 15), quad, atol=1e-8)
    # a causal moving average would lag a steady movement by (w - 1) / 2 frames; this does not
    wave = np.sin(2 * np.pi * t / 60.0)[:, None]
    noisy = wave + np.random.default_rng(0).normal(0, 0.05, wave.shape)
    out = smooth(noisy, "causal", 15)

    def err(shift: int) -> float:
        return float(np.abs(out[20 + shift: 100 + shift] - wave[20:100]).mean())

    assert err(0) < min(err(1), err(-1)) and err(0) < err(7)
    # causal: a frame's value depends on no later frame
    changed = noisy.copy()
    changed[60:] += 5.0
    np.testing.assert_array_equal(smooth(changed, "causal", 15)[:60], out[:60])
    assert np.abs(np.diff(out, 2, axis=0)).mean() < np.abs(np.diff(noisy, 2, axis=0)).mean()


def test_quality_measures(tmp_path: Path) -> None:
    world, _ = _motion("walk", frames=150, seed=12)
    y = _y_up(world)
    noisy = y + np.random.default_rng(0).normal(0, 10.0, y.shape)
    valid = np.ones(len(y), dtype=bool)
    assert bone_spread(y, valid)["bone_spread_mm"] < 1e-3  # float32 joints
    assert bone_spread(noisy, valid)["bone_spread_mm"] > 5.0
    assert jitter(noisy, valid) > 10 * jitter(y, valid)
    cam = _filmed(world, _camera(), 1600.0) + np.random.default_rng(1).normal(0, 10.0, y.shape)
    _, rep = _export(tmp_path, cam, smoothing="offline")
    before, after = rep["quality_before"], rep["quality_after"]
    assert after["bone_spread_mm"] < 1e-6 < before["bone_spread_mm"]
    assert after["jitter_mm_per_frame2"] < 0.3 * before["jitter_mm_per_frame2"]


# --------------------------------------------------------------------------------------------
# Reading predictions and the command


def _write_prediction(folder: Path, joints: np.ndarray, targets: str = "camera") -> Path:
    from dynapose.inference.prediction import COORDINATE_FRAME, ROOT_FRAME, Prediction
    from dynapose.inference.writer import write_joints
    from dynapose.io.video import VideoInfo

    f = len(joints)
    found = np.isfinite(joints).all(axis=(1, 2))
    pred = Prediction(
        joints=joints.astype(np.float32), frame_index=np.arange(f), time=np.arange(f) / 25.0,
        points_2d=np.zeros((f, 17, 2), np.float32), boxes=np.zeros((f, 4), np.float32),
        found=found, fps=25.0,
        video=VideoInfo("v.mp4", 1000, 1000, 25.0, f, f / 25.0, "h264", "mp4"),
        model={"name": "lifter", "targets": targets}, source="keypoints",
        coordinate_frame=ROOT_FRAME if targets == "root" else COORDINATE_FRAME)
    folder.mkdir()
    write_joints(pred, folder)
    return folder


def test_read_prediction_folder_npz_and_json(tmp_path: Path) -> None:
    world, _ = _motion("walk", frames=60, seed=13)
    cam = _filmed(world, _camera(), 1600.0)
    cam[10:12] = np.nan
    folder = _write_prediction(tmp_path / "pred", cam)
    for source in (folder, folder / "joints.npz", folder / "joints.json"):
        p = read_prediction(source)
        assert p.fps == 25.0 and not p.relative and p.valid.sum() == 58
        np.testing.assert_allclose(p.joints[p.valid], cam[p.valid], atol=0.01)
    rel = _write_prediction(tmp_path / "rel", cam - cam[:, :1], targets="root")
    assert read_prediction(rel).relative


def test_cli_export_motion(tmp_path: Path) -> None:
    from dynapose.cli import main

    world, _ = _motion("walk", frames=100, seed=14)
    folder = _write_prediction(tmp_path / "pred", _filmed(world, _camera(), 1600.0))
    out = tmp_path / "out" / "walk.bvh"
    result = CliRunner().invoke(main, ["export-motion", str(folder), "--bvh", str(out),
                                       "--smooth", "causal", "--report", str(tmp_path / "r.json"),
                                       "--world", str(tmp_path / "w.npz")])
    assert result.exit_code == 0, result.output
    assert "camera:" in result.output and out.is_file()
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["smoothing"]["mode"] == "causal" and rep["fps"] == 25.0
    with np.load(tmp_path / "w.npz") as w:
        assert w["world"].shape == (100, 17, 3) and w["contacts"].shape == (100, 2)
    _no_nan(out)
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((5, 16, 3)))
    result = CliRunner().invoke(main, ["export-motion", str(bad), "--bvh",
                                       str(tmp_path / "x.bvh"), "--fps", "30"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: ") and "(frames, 17, 3)" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.bvh").exists()
