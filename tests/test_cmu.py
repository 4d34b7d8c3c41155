"""CMU motion capture for lifters: reading, joint definitions, cleaning, and load_motion specs.

Most tests write small npz files in the layout of ../shared/data/mocap/cmu (procedural motion
turned Y up, with the faults the real files have); one reads the real files when present.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED
from dynapose.config import LiftConfig, load_lift_config
from dynapose.data import cmu
from dynapose.data.lift_motion import MotionData, load_motion
from dynapose.data.synthetic.motion import generate_motion, sample_body
from dynapose.errors import DynaPoseError
from dynapose.skeleton import JOINT_NAMES
from dynapose.training.lift_batch import camera_tensors, make_batch, sample_windows

REAL = SHARED / "data" / "mocap" / "cmu"


def take(action: str, seconds: float, fps: float, seed: int) -> np.ndarray:
    """Procedural motion (T, 17, 3) Z up at `fps`, as a capture would give it."""
    body = sample_body(np.random.default_rng(seed))
    frames = int(seconds * fps)
    return generate_motion(action, body, frames, fps, np.random.default_rng(seed + 50)).joints


def z_up_to_y_up(world: np.ndarray) -> np.ndarray:
    """The inverse of :func:`cmu.y_up_to_z_up`."""
    return np.stack([world[..., 0], world[..., 2], -world[..., 1]], axis=-1)


def t_pose(world: np.ndarray) -> np.ndarray:
    """A frame like `world[0]` with both arms straight out sideways (a rig's rest pose)."""
    pose = world[0].copy()
    left = pose[4] - pose[1]
    left[2] = 0
    left /= np.linalg.norm(left)
    for shoulder, elbow, wrist, side in cmu.ARMS:
        pose[elbow] = pose[shoulder] + side * 280 * left
        pose[wrist] = pose[elbow] + side * 250 * left
    return pose


def to_38(world: np.ndarray) -> np.ndarray:
    """17 joints -> the actions set's 38 (the unused ones at the pelvis; upper back between the
    spine and thorax joints)."""
    out = np.repeat(world[:, :1], 38, axis=1)
    out[:, list(cmu.ACTIONS_38_TO_17)] = world
    out[:, cmu.ASF_UPPER_BACK] = (world[:, cmu.SPINE] + world[:, cmu.THORAX]) / 2
    return out


def write_folder(folder: Path) -> Path:
    """Three small files in the real layout: a T-pose first frame in the actions takes, a glitch
    in one dance take, the subjects set 60 fps and 920 mm below its floor."""
    folder.mkdir(parents=True, exist_ok=True)
    walk = take("walk", 3.0, 120.0, 1)
    walk = np.concatenate([t_pose(walk)[None], walk])
    np.savez(folder / "cmu_actions_38j.npz", **{
        "pos3d/train/walking/walking_1": z_up_to_y_up(to_38(walk)).astype(np.float32),
        "pos3d/test/jumping/jumping_1": z_up_to_y_up(to_38(take("jump", 2.0, 120.0, 2))
                                                     ).astype(np.float32)})
    dance = take("wave", 4.0, 120.0, 3)
    dance[240:242, 3] += 300.0  # the right ankle jumps away for two frames (36 m/s)
    np.savez(folder / "cmu_dance_17j.npz", **{
        "pos3d/train_data_bvh/salsa/01": z_up_to_y_up(dance).astype(np.float32),
        "fps/train_data_bvh/salsa/01": np.float32(120.0),
        "joint_names": np.array(JOINT_NAMES)})
    low = take("squat", 2.0, 60.0, 4) - np.float32([0, 0, 920])
    np.savez(folder / "cmu_subjects1to7_17j.npz", **{
        "pos3d/subjects/005/005_02": z_up_to_y_up(low).astype(np.float32),
        "fps/subjects/005/005_02": np.float32(60.0)})
    return folder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_folder(tmp_path / "cmu")


def test_load_cleans_resamples_floors_and_centres(folder: Path) -> None:
    stats = cmu.CmuStats()
    seqs = cmu.load_cmu(folder, stats=stats)
    names = {(s.subject, s.action): s.world for s in seqs}
    assert set(names) == {("cmu-actions", "walking walking_1"),
                          ("cmu-actions-test", "jumping jumping_1"),
                          ("cmu-salsa", "salsa 01.1"), ("cmu-salsa", "salsa 01.2"),
                          ("cmu-005", "005 005_02")}
    # The T-pose frame went (only in the take that has one), and the glitch cut its take.
    assert (stats.takes, stats.rest_takes, stats.rest_frames) == (4, 1, 1)
    assert stats.glitch_takes == 1 and stats.sequences == 5
    walk = names[("cmu-actions", "walking walking_1")]
    assert len(walk) == 150  # 360 frames at 120 fps (the rest frame dropped) -> 3 s at 50 fps
    assert len(names[("cmu-005", "005 005_02")]) == 100  # 120 frames at 60 fps
    a, b = names[("cmu-salsa", "salsa 01.1")], names[("cmu-salsa", "salsa 01.2")]
    # Steps 239-240 and 241-242 are glitches: frames [233, 249) go (6 frames = 0.05 s margin).
    assert (len(a), len(b)) == (int(232 / 120 * 50) + 1, int((479 - 249) / 120 * 50) + 1)
    for world in names.values():
        assert world.dtype == np.float32 and world.shape[1:] == (17, 3)
        assert (world[:, cmu.HEAD, 2] > world[:, cmu.PELVIS, 2] + 300).all()  # Z is up
        lowest = world[:, [cmu.R_ANKLE, cmu.L_ANKLE], 2].min(1)
        assert lowest.min() > 0 and lowest.max() < 1000  # on the floor, not 920 mm under it
        mid = (world[:, 0, :2].min(0) + world[:, 0, :2].max(0)) / 2
        np.testing.assert_allclose(mid, 0.0, atol=1e-3)
    lowest = names[("cmu-005", "005 005_02")][:, [cmu.R_ANKLE, cmu.L_ANKLE], 2].min(1)
    assert np.percentile(lowest, 2) == pytest.approx(cmu.ANKLE_HEIGHT, abs=2.0)
    # Subjects select sequences.
    assert {s.subject for s in cmu.load_cmu(folder, ["cmu-005", "cmu-salsa"])} == {
        "cmu-005", "cmu-salsa"}


def test_z_up_is_a_rotation_that_keeps_walking_forward(folder: Path) -> None:
    walk = take("walk", 3.0, 50.0, 1)
    back = cmu.y_up_to_z_up(z_up_to_y_up(walk))
    np.testing.assert_allclose(back, walk)
    turn = np.stack([cmu.y_up_to_z_up(np.eye(3)[i]) for i in range(3)])
    assert np.linalg.det(turn) == pytest.approx(1.0)  # not a mirror: left stays left
    world = cmu.load_cmu(folder, ["cmu-actions"])[0].world.astype(np.float64)
    left = world[:, 4] - world[:, 1]
    forward = np.cross(left, world[:, 8] - world[:, 0])[:, :2]
    travel = world[-1, 0, :2] - world[0, 0, :2]
    assert (forward @ travel > 0).mean() > 0.95


def test_canonical_joints() -> None:
    rng = np.random.default_rng(0)
    world = take("walk", 1.0, 50.0, 5).astype(np.float64)
    raised = world.copy()
    raised[:, 0, 2] += 100.0  # a root above the hips, as ASF's
    # a spine joint high up the back (as the dance rig's 'chest'), 5 cm behind the trunk line
    world[:, 7] = world[:, 0] + 0.7 * (world[:, 8] - world[:, 0]) + [50.0, 0.0, 0.0]
    raised[:, 7] = world[:, 7]
    out = cmu.canonical_joints(raised, "actions")
    np.testing.assert_allclose(out[:, 0], (world[:, 1] + world[:, 4]) / 2)
    # The spine halfway along pelvis (the new one) -> rig spine -> thorax: here on the first
    # segment, as the rig's spine joint is high.
    half = (np.linalg.norm(world[:, 7] - out[:, 0], axis=-1)
            + np.linalg.norm(world[:, 8] - world[:, 7], axis=-1)) / 2
    np.testing.assert_allclose(np.linalg.norm(out[:, 7] - out[:, 0], axis=-1), half)
    np.testing.assert_allclose(np.linalg.norm(world[:, 7] - out[:, 0], axis=-1)
                               - np.linalg.norm(world[:, 7] - out[:, 7], axis=-1), half)
    assert (out[:, 7, 0] > out[:, 0, 0]).all()  # moved towards the rig's spine, off the line
    np.testing.assert_array_equal(out[:, 9:], world[:, 9:])  # ASF's neck and head are kept
    # Halfway along a polyline, on its segments.
    line = np.array([[[0, 0, 0], [0, 0, 100], [0, 300, 100]]], dtype=float)
    np.testing.assert_allclose(cmu.midway(line), [[0, 100, 100]])
    # Dance knees: thigh = shin, hip and ankle fixed, bent the same way.
    hip, knee, ankle = np.zeros((1, 3)), np.array([[30.0, 0, -370]]), np.array([[0, 0, -800.0]])
    new = cmu.rebalance_leg(hip, knee, ankle)
    total = np.linalg.norm(knee) + np.linalg.norm(ankle - knee)
    assert np.linalg.norm(new - hip) == pytest.approx(total / 2)
    assert np.linalg.norm(ankle - new) == pytest.approx(total / 2)
    assert new[0, 0] > 0 and new[0, 1] == pytest.approx(0)
    straight = cmu.rebalance_leg(hip, np.array([[0, 0, -370.0]]), np.array([[0, 0, -820.0]]))
    np.testing.assert_allclose(straight, [[0, 0, -410.0]])
    # Dance and subjects rigs: the neck becomes the skull base, the head ASF's head bone beyond.
    for name, skull in (("dance", cmu.NECK), ("subjects", cmu.HEAD)):
        out = cmu.canonical_joints(world + rng.normal(0, 1, world.shape), name)
        leg = out[:, cmu.HEAD] - out[:, cmu.NECK]
        assert np.linalg.norm(leg, axis=-1).std() < 1e-6
        np.testing.assert_allclose(out[:, cmu.NECK], (world + 0)[:, skull], atol=5)


def test_rest_pose_and_glitches_are_detected_not_assumed() -> None:
    fps = 120.0
    walk = take("walk", 2.0, fps, 6).astype(np.float64)
    rest = t_pose(walk)
    assert cmu.is_tpose(rest[None])[0] and not cmu.is_tpose(walk).any()
    # A rest pose followed by a jump goes; one the person moves out of smoothly stays.
    assert cmu.leading_rest_frames(np.concatenate([rest[None], walk]), fps) == 1
    held = np.concatenate([np.repeat(rest[None], 10, 0), walk])
    assert cmu.leading_rest_frames(held, fps) == 10
    blend = np.linspace(0, 1, 60)[:, None, None]
    smooth = np.concatenate([(1 - blend) * rest + blend * walk[0], walk])
    assert cmu.leading_rest_frames(smooth, fps) == 0
    assert cmu.clean_spans(smooth, fps) == ([(0, len(smooth))], 0)
    # A glitch drops GLITCH_MARGIN around it; pieces under MIN_PIECE go.
    spiky = walk.copy()
    spiky[100, 13] += 500.0
    spans, _ = cmu.clean_spans(spiky, fps)
    m = round(cmu.GLITCH_MARGIN * fps)
    assert spans == [(0, 99 - m), (101 + m + 1, len(walk))]
    spiky[30, 13] += 500.0  # leaves 29 - m frames at the start: under half a second
    assert cmu.clean_spans(spiky, fps)[0][0][0] > 30


def test_bad_files_raise_one_line_errors_naming_the_file(tmp_path: Path, folder: Path) -> None:
    def error(path: Path) -> str:
        with pytest.raises(DynaPoseError) as exc:
            cmu.load_cmu(path)
        assert "\n" not in str(exc.value)
        return str(exc.value)

    assert "not a folder" in error(tmp_path / "nowhere")
    (folder / "cmu_dance_17j.npz").unlink()
    assert "cmu_dance_17j.npz: missing" in error(folder)
    for content, problem in (
        ({"pos3d/train_data_bvh/salsa/01": np.zeros((50, 16, 3), np.float32)}, "expected float"),
        ({"pos3d/train_data_bvh/salsa/01": np.full((50, 17, 3), np.nan, np.float32)}, "NaN"),
        ({"pos3d/train_data_bvh/salsa/01": np.zeros((50, 17, 3), np.float32),
          "fps/train_data_bvh/salsa/01": np.float32(0)}, "fps"),
        ({"pos3d/train_data_bvh/salsa/01": np.array([{"a": 1}], dtype=object)}, "unreadable"),
        ({"joint_names": np.array(JOINT_NAMES)}, "no pos3d"),
    ):
        np.savez(folder / "cmu_dance_17j.npz", **content)
        message = error(folder)
        assert "cmu_dance_17j.npz" in message and problem in message, message
    (folder / "cmu_dance_17j.npz").write_bytes(b"not a zip")
    assert "not a readable .npz" in error(folder)


def test_load_motion_specs_cmu_and_mixes(folder: Path) -> None:
    spec = f"cmu:{folder}"
    motion = load_motion(spec)
    assert motion.subjects() == ["cmu-005", "cmu-actions", "cmu-actions-test", "cmu-salsa"]
    assert len(motion.cameras) == 20 and motion.source == spec
    assert all(len(s["cameras"]) == 20 for s in motion.sequences)
    only = load_motion(spec, ["cmu-salsa"])
    assert only.subjects() == ["cmu-salsa"] and only.num_frames < motion.num_frames
    mix = load_motion(f"{spec}+synthetic:8:100", ["cmu-actions", "synth-1", "synth-2"])
    assert mix.subjects() == ["cmu-actions", "synth-1", "synth-2"]
    assert len(mix.cameras) == 40 and mix.num_frames == 150 + 2 * 100
    synth = load_motion("synthetic:8:100")
    for s in mix.sequences:  # each part's sequences, pointing at that part's cameras
        part, offset = (motion, 0) if s["subject"].startswith("cmu") else (synth, 20)
        world, cams = _sequence(part, s["subject"], s["action"])
        np.testing.assert_array_equal(mix.world[s["start"]: s["start"] + s["frames"]], world)
        assert s["cameras"] == [offset + c for c in cams]
    assert sorted({c for s in mix.sequences for c in s["cameras"]}) == list(range(40))
    config = LiftConfig(receptive_field=27, yaw_deg=180, bone_scale=0.1, posture_deg=5)
    rng = np.random.default_rng(0)
    inputs, target = make_batch(mix, camera_tensors(mix.cameras),
                                *sample_windows(mix, 16, rng), config, rng)
    assert inputs.shape == (16, 27, 17, 2) and target.shape == (16, 17, 3)
    assert bool(target.isfinite().all())
    with pytest.raises(DynaPoseError, match="nope: not a folder"):
        load_motion(f"cmu:{folder / 'nope'}+synthetic:8:100")


def _sequence(motion: MotionData, subject: str, action: str) -> tuple[np.ndarray, list[int]]:
    s = next(s for s in motion.sequences if (s["subject"], s["action"]) == (subject, action))
    return motion.world[s["start"]: s["start"] + s["frames"]], s["cameras"]


@pytest.mark.skipif(not REAL.is_dir(), reason=f"the CMU mocap files are not here ({REAL})")
def test_real_files() -> None:
    stats = cmu.CmuStats()
    seqs = cmu.load_cmu(REAL, stats=stats)
    assert stats.takes == 200 and stats.frames == 185_146
    # Every actions and dance take starts with the rest pose; so do a few of the subjects set.
    assert stats.rest_takes >= 96 + 43
    assert stats.glitch_frames < 0.02 * stats.frames
    assert 27 * 60 < stats.seconds < 30 * 60
    assert {s.subject for s in seqs} == set(cmu.cmu_subjects())
    for s in seqs:
        world = s.world
        assert len(world) >= cmu.MIN_PIECE * cmu.TARGET_FPS
        assert world[:, cmu.HEAD, 2].mean() > world[:, cmu.PELVIS, 2].mean() + 400
        assert not cmu.is_tpose(world[:1])[0] or s.subject == "cmu-indian"  # arms-out dances
    lowest = np.concatenate([s.world[:, [cmu.R_ANKLE, cmu.L_ANKLE], 2].min(1) for s in seqs])
    assert np.median(lowest) == pytest.approx(cmu.ANKLE_HEIGHT, abs=40)


def test_lift_cmu_preset_uses_every_cmu_subject_once() -> None:

    config = load_lift_config("lift-cmu")
    cmu_train = {s for s in config.train_subjects if s.startswith("cmu-")}
    assert cmu_train | {"cmu-actions-test"} == set(cmu.cmu_subjects())
    assert "cmu-actions-test" in config.val_subjects and config.jitter_mm == 0
    assert {s for s in config.train_subjects + config.val_subjects
            if s.startswith("synth-")} == {f"synth-{k}" for k in range(8)}
