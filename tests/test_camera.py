"""The skeleton's tables and the camera model: transforms, projection, look_at."""

from __future__ import annotations

import numpy as np
import pytest

from dynapose import camera as C
from dynapose import skeleton as S

# ---------------------------------------------------------------- skeleton


def test_skeleton_tables_are_consistent() -> None:
    assert S.NUM_JOINTS == 17 == len(S.PARENTS) == len(S.JOINT_NAMES)
    assert S.PARENTS[S.PELVIS] == -1
    assert all(p < j for j, p in enumerate(S.PARENTS) if p >= 0)  # parents come first
    assert len(S.BONES) == 16
    assert S.PARENTS == (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
    assert S.H36M_32_TO_17 == (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
    for left, right in zip(S.LEFT_JOINTS, S.RIGHT_JOINTS, strict=True):
        assert S.JOINT_NAMES[left].startswith("left_")
        assert S.JOINT_NAMES[right] == S.JOINT_NAMES[left].replace("left_", "right_")
    sides = set(S.LEFT_JOINTS) | set(S.RIGHT_JOINTS)
    middle = [S.JOINT_NAMES[j] for j in range(17) if j not in sides]
    assert not any(name.startswith(("left", "right")) for name in middle)


def test_flip_permutation_is_an_involution() -> None:
    perm = S.flip_permutation()
    assert sorted(perm) == list(range(17))
    np.testing.assert_array_equal(perm[perm], np.arange(17))
    assert perm[1] == 4 and perm[16] == 13 and perm[0] == 0 and perm[10] == 10
    # Flipping a pose (x -> -x, swap sides) keeps bone lengths, with sides swapped.
    rng = np.random.default_rng(0)
    pose = rng.normal(size=(17, 3))
    flipped = (pose * np.array([-1.0, 1.0, 1.0]))[perm]
    lengths, flipped_lengths = S.bone_lengths(pose), S.bone_lengths(flipped)
    bone_of_child = {c: i for i, (c, _) in enumerate(S.BONES)}
    for child in range(1, 17):
        assert flipped_lengths[bone_of_child[child]] == pytest.approx(
            lengths[bone_of_child[int(perm[child])]]
        )


def test_bone_lengths_hand_computed_and_batched() -> None:
    pose = np.zeros((17, 3))
    pose[1] = [3.0, 4.0, 0.0]  # right hip 5 from the pelvis
    pose[2] = [3.0, 4.0, 12.0]  # right knee 12 below it
    lengths = S.bone_lengths(pose)
    assert lengths.shape == (16,)
    assert lengths[0] == pytest.approx(5.0) and lengths[1] == pytest.approx(12.0)
    batch = np.stack([pose, 2 * pose])[None]  # (1, 2, 17, 3)
    out = S.bone_lengths(batch)
    assert out.shape == (1, 2, 16)
    np.testing.assert_allclose(out[0, 1], 2 * lengths)


# ---------------------------------------------------------------- camera


def _camera(**kw: object) -> C.Camera:
    eye = np.array([3500.0, -2500.0, 1100.0])
    target = np.array([0.0, 0.0, 900.0])
    args: dict[str, object] = {
        "R": C.look_at(eye, target),
        "T": eye,
        "f": [1150.0, 1148.0],
        "c": [500.0, 505.0],
    }
    args.update(kw)
    return C.Camera(**args)  # type: ignore[arg-type]


def test_look_at_is_a_proper_rotation_with_y_down() -> None:
    eye, target = np.array([4000.0, 1000.0, 1200.0]), np.array([0.0, 0.0, 1000.0])
    r = C.look_at(eye, target)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)
    forward = (target - eye) / np.linalg.norm(target - eye)
    np.testing.assert_allclose(r[2], forward, atol=1e-12)  # z is the viewing direction
    assert r[1] @ np.array([0.0, 0.0, 1.0]) < 0  # camera y points down in the world
    assert abs(r[0] @ np.array([0.0, 0.0, 1.0])) < 1e-12  # x stays horizontal (no roll)


def test_world_camera_round_trip_and_target_on_axis() -> None:
    cam = _camera()
    rng = np.random.default_rng(1)
    pts = rng.normal(scale=1000.0, size=(4, 5, 3))
    np.testing.assert_allclose(cam.camera_to_world(cam.world_to_camera(pts)), pts, atol=1e-9)
    # The camera centre maps to the origin; the look-at target is straight ahead at its distance.
    np.testing.assert_allclose(cam.world_to_camera(cam.T), 0.0, atol=1e-9)
    tgt = cam.world_to_camera(np.array([0.0, 0.0, 900.0]))
    assert tgt[:2] == pytest.approx([0.0, 0.0], abs=1e-9)
    assert tgt[2] == pytest.approx(np.linalg.norm(cam.T - [0.0, 0.0, 900.0]))
    np.testing.assert_allclose(cam.project_world(np.array([0.0, 0.0, 900.0])), cam.c)


def test_projection_hand_computed_and_orientation() -> None:
    cam = _camera()
    # Pinhole: (x, y, z) -> f * (x/z, y/z) + c.
    uv = cam.project(np.array([200.0, -100.0, 4000.0]))
    assert uv == pytest.approx([500 + 1150 * 0.05, 505 - 1148 * 0.025])
    # A world point above the target appears higher in the image (smaller row), and a point
    # to the camera's right further right.
    above = cam.project_world(np.array([0.0, 0.0, 1900.0]))
    assert above[1] < cam.c[1] - 100
    right_world = cam.camera_to_world(np.array([500.0, 0.0, 4000.0]))
    assert cam.project_world(right_world)[0] > cam.c[0] + 100
    # Batched shapes.
    pts = np.ones((2, 3, 17, 3)) + np.array([0.0, 0.0, 3000.0])
    assert cam.project(pts).shape == (2, 3, 17, 2)


def test_distortion_matches_the_human36m_model() -> None:
    k = np.array([-0.2, 0.24, -0.002])
    p = np.array([-0.0009, -0.0029])
    cam = _camera(k=k, p=p)
    pt = np.array([400.0, -300.0, 3000.0])
    x, y = pt[0] / pt[2], pt[1] / pt[2]
    r2 = x * x + y * y
    radial = 1 + k[0] * r2 + k[1] * r2**2 + k[2] * r2**3
    tan = p[0] * y + p[1] * x
    xd = x * (radial + tan) + p[1] * r2
    yd = y * (radial + tan) + p[0] * r2
    expected = [1150.0 * xd + 500.0, 1148.0 * yd + 505.0]
    assert cam.project(pt) == pytest.approx(expected, rel=1e-12)
    # distort=False is the plain pinhole; at the principal point distortion changes nothing.
    assert cam.project(pt, distort=False) == pytest.approx(
        [1150.0 * x + 500.0, 1148.0 * y + 505.0]
    )
    assert cam.project(np.array([0.0, 0.0, 2000.0])) == pytest.approx(cam.c)


def test_camera_coerces_and_checks_shapes() -> None:
    cam = C.Camera(R=np.eye(3).tolist(), T=[0, 0, 0], f=[1, 1], c=[0, 0])
    assert cam.R.dtype == np.float64 and cam.k.shape == (3,) and cam.p.shape == (2,)
    with pytest.raises(ValueError):
        C.Camera(R=np.eye(2), T=[0, 0, 0], f=[1, 1], c=[0, 0])
