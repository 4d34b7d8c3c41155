"""Procedural motion: body shapes, determinism, rigid bones, feet on the floor, distinct actions."""

from __future__ import annotations

import numpy as np
import pytest

from dynapose.data.synthetic.motion import ACTIONS, BodyShape, Motion, generate_motion, sample_body
from dynapose.skeleton import bone_lengths

FPS = 50.0


def make(action: str, seed: int = 0, frames: int = 200) -> Motion:
    body = sample_body(np.random.default_rng(seed))
    return generate_motion(action, body, frames, FPS, np.random.default_rng(seed + 100),
                           subject=f"synth-{seed:02d}")


def facing(j: np.ndarray) -> np.ndarray:
    """(T, 2) unit forward directions from the hips: forward = left x up."""
    left = j[:, 4, :2] - j[:, 1, :2]
    left = left / np.linalg.norm(left, axis=-1, keepdims=True)
    return np.stack([left[:, 1], -left[:, 0]], axis=-1)


def test_sample_body_is_human_and_deterministic():
    bodies = [sample_body(np.random.default_rng(s)) for s in range(200)]
    heights = np.array([b.height for b in bodies])
    assert heights.min() >= 1500 and heights.max() <= 1950 and heights.std() > 50
    for b in bodies:
        assert b.standing_head_height() + b.crown == pytest.approx(b.height)
        leg = b.thigh + b.shin
        assert 0.5 < (leg + b.ankle_height) / b.height < 0.6  # hip height / stature
        assert 0.28 < (b.upper_arm + b.forearm) / b.height < 0.36
        assert 0.11 < 2 * b.hip_half_width / b.height < 0.2
    assert sample_body(np.random.default_rng(3)) == sample_body(np.random.default_rng(3))
    assert sample_body(np.random.default_rng(3)) != sample_body(np.random.default_rng(4))
    b = bodies[0]
    assert BodyShape.from_dict(b.to_dict()) == b


@pytest.mark.parametrize("action", ACTIONS)
def test_motion_shape_determinism_and_rigid_bones(action):
    m = make(action, seed=1)
    assert isinstance(m, Motion)
    assert m.joints.shape == (200, 17, 3) and m.joints.dtype == np.float32
    assert (m.fps, m.action, m.subject, m.source) == (FPS, action, "synth-01", "procedural")
    np.testing.assert_array_equal(make(action, seed=1).joints, m.joints)
    assert np.abs(make(action, seed=2).joints - m.joints).max() > 50
    # Forward kinematics keeps every bone at its length (float32 rounding only).
    bl = bone_lengths(m.joints.astype(np.float64))
    assert bl.std(axis=0).max() < 0.01
    body = m.body
    assert body is not None
    np.testing.assert_allclose(bl[0], np.linalg.norm(body.rest_offsets()[1:], axis=1),
                               rtol=1e-5)


@pytest.mark.parametrize("action", ACTIONS)
def test_feet_on_the_floor_and_no_teleports(action):
    for seed in range(3):
        m = make(action, seed=seed, frames=300)
        j = m.joints
        lower = j[:, [3, 6], 2].min(axis=1) - m.body.ankle_height
        # Never below the floor; planted (at the floor) most of the time, airborne only in
        # jumps and runs.
        assert lower.min() > -0.01
        planted = np.mean(lower < 1.0)
        assert planted > (0.3 if action == "run" else 0.6 if action == "jump" else 0.999)
        # No joint below the floor, the head well above it.
        assert j[..., 2].min() > 0 and j[:, 10, 2].min() > 1000
        # Plausible speeds: no joint faster than 13 m/s, the body (pelvis) under 5 m/s.
        speed = np.linalg.norm(np.diff(j, axis=0), axis=-1) * FPS
        assert speed.max() < 13000
        assert speed[:, 0].max() < 5000


def test_jump_leaves_the_ground_and_lands():
    m = make("jump", seed=4, frames=400)
    lower = m.joints[:, [3, 6], 2].min(axis=1) - m.body.ankle_height
    assert lower.max() > 100  # flight: both feet high off the floor
    assert np.mean(lower < 1.0) > 0.5


def test_gaits_travel_forward_with_a_planted_foot():
    for seed in range(3):
        walk, run = make("walk", seed), make("run", seed)
        for m, lo, hi in ((walk, 700, 2000), (run, 1800, 4500)):
            j = m.joints
            step = np.diff(j[:, 0, :2], axis=0)
            speed = np.linalg.norm(step, axis=-1) * FPS
            assert lo < speed.mean() < hi
            # The pelvis moves the way the person faces (so left is on their left).
            along = (step * facing(j)[1:]).sum(-1) / np.maximum(np.linalg.norm(step, axis=-1),
                                                                1e-9)
            assert np.mean(along > 0.8) > 0.9
        # Walking: one foot is planted at almost every moment (the slower ankle rests).
        j = walk.joints
        ankle_speed = np.linalg.norm(np.diff(j[:, [3, 6], :2], axis=0), axis=-1) * FPS
        assert np.median(ankle_speed.min(axis=1)) < 30
        assert np.mean(ankle_speed.min(axis=1) < 150) > 0.8  # hand-overs: ~10% of a stride


def test_left_joints_on_the_left():
    for action in ACTIONS:
        j = make(action, seed=5).joints
        left_dir = np.stack([-facing(j)[:, 1], facing(j)[:, 0]], axis=-1)
        # Shoulders: the left shoulder is on the person's left (hips define the facing).
        assert ((j[:, 11, :2] - j[:, 14, :2]) * left_dir).sum(-1).min() > 100


def test_action_signatures():
    sit = make("sit", seed=2, frames=500).joints
    assert sit[:, 0, 2].min() < 650 and sit[:, 0, 2].max() > 850  # seated, then standing
    squat = make("squat", seed=2, frames=250).joints
    assert squat[:, 0, 2].max() - squat[:, 0, 2].min() > 250
    wave = make("wave", seed=2, frames=250).joints
    assert max(wave[:, 13, 2].max(), wave[:, 16, 2].max()) > wave[:, 10, 2].min()
    turn = make("turn", seed=2, frames=250).joints
    f = facing(turn)
    assert np.degrees(np.abs(np.diff(np.unwrap(np.arctan2(f[:, 1], f[:, 0])))).sum()) > 60
    reach = make("reach", seed=2, frames=250).joints
    arm = np.maximum(np.linalg.norm(reach[:, 13] - reach[:, 8], axis=-1),
                     np.linalg.norm(reach[:, 16] - reach[:, 8], axis=-1))
    assert arm.max() > 450


def _descriptor(m: Motion) -> np.ndarray:
    """Pose and movement statistics in the body frame; arms sorted so either arm may act."""
    j = m.joints.astype(np.float64)
    rel = j - j[:, :1]
    f2 = facing(j)
    f = np.concatenate([f2, np.zeros((len(j), 1))], axis=1)
    left = np.stack([-f2[:, 1], f2[:, 0], np.zeros(len(j))], axis=1)
    body = np.stack([(rel * f[:, None]).sum(-1), (rel * left[:, None]).sum(-1), rel[..., 2]], -1)
    arms = np.sort(np.stack([body[:, 11:14], body[:, 14:17] * [1, -1, 1]]), axis=0)
    feats = np.concatenate([body[:, :11].reshape(len(j), -1),
                            arms.transpose(1, 0, 2, 3).reshape(len(j), -1)], axis=1)
    speed = np.linalg.norm(np.diff(j[:, 0, :2], axis=0), axis=-1).mean() * m.fps
    turning = np.abs(np.diff(np.unwrap(np.arctan2(f2[:, 1], f2[:, 0])))).sum() * 100
    return np.concatenate([feats.mean(0), feats.std(0),
                           [speed, j[:, 0, 2].std(), j[:, 0, 2].mean(), turning]])


def test_every_action_is_distinct():
    """A nearest-centroid classifier fitted on some bodies/seeds recognises the action of
    motions from unseen bodies and seeds."""

    def dataset(seeds):
        return [(_descriptor(make(a, s)), a) for s in seeds for a in ACTIONS]

    train, test = dataset(range(4)), dataset(range(50, 54))
    x = np.stack([d for d, _ in train])
    labels = np.array([a for _, a in train])
    centroids = np.stack([x[labels == a].mean(0) for a in ACTIONS])
    scale = x.std(0) + 1.0
    correct = [ACTIONS[int(np.argmin((((d - centroids) / scale) ** 2).sum(-1)))] == a
               for d, a in test]
    assert np.mean(correct) >= 0.85
    # And no two actions share a centroid.
    dist = np.sqrt((((centroids[:, None] - centroids[None]) / scale) ** 2).sum(-1))
    assert dist[~np.eye(len(ACTIONS), dtype=bool)].min() > 3.0


def test_bad_arguments_and_motion_validation():
    body = sample_body(np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown action"):
        generate_motion("fly", body, 10)
    with pytest.raises(ValueError, match="num_frames"):
        generate_motion("walk", body, 0)
    with pytest.raises(ValueError, match="fps"):
        generate_motion("walk", body, 10, fps=0)
    with pytest.raises(ValueError):
        Motion(np.zeros((4, 16, 3)), 50.0, "walk", "s", "procedural")
    with pytest.raises(ValueError):
        Motion(np.full((4, 17, 3), np.nan), 50.0, "walk", "s", "procedural")
    one = generate_motion("walk", body, 1)
    assert one.joints.shape == (1, 17, 3)


def test_resample_keeps_the_path():
    m = make("walk", seed=3, frames=121)  # 2.4 s at 50 fps
    r = m.resample(30.0)
    assert r.fps == 30.0 and r.num_frames == 73
    np.testing.assert_allclose(r.joints[0], m.joints[0])
    np.testing.assert_allclose(r.joints[-1], m.joints[-1], atol=1e-3)
    # Frame 15 at 30 fps is t = 0.5 s = frame 25 at 50 fps.
    np.testing.assert_allclose(r.joints[15], m.joints[25], atol=1e-3)
