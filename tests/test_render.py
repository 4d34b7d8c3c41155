"""The synthetic-person renderer: geometry, occlusion, labels, crops and determinism."""

from __future__ import annotations

import numpy as np
import pytest

from dynapose.camera import Camera
from dynapose.data.synthetic import render as R
from dynapose.data.synthetic.motion import generate_motion, sample_body
from dynapose.skeleton import bone_lengths

SIZE = 64


def _motion(action: str = "walk", seed: int = 0, frames: int = 8):
    rng = np.random.default_rng(seed)
    body = sample_body(rng)
    return generate_motion(action, body, frames, rng=rng), body


def _camera(size: int = SIZE) -> Camera:
    return Camera(R=np.eye(3), T=np.zeros(3), f=np.array([100.0, 100.0]),
                  c=np.array([size / 2, size / 2]), width=size, height=size)


@pytest.mark.parametrize("action", ["walk", "wave", "sit"])
def test_projected_joints_fall_on_the_rendered_body(action: str) -> None:
    motion, body = _motion(action)
    rng = np.random.default_rng(1)
    app = R.sample_appearance(rng)
    placement = R.camera_rig(rng)[2]
    clip = R.render_clip(motion.joints, app, placement, rng, size=SIZE, body=body)
    # Re-rasterise the same body with the clip's crop camera: the pixel under each projected
    # limb joint must be covered by the body.
    caps = R.body_capsules(motion.joints, app, body)
    cam = clip.camera
    _, shade, slots = R.render_capsules(cam.world_to_camera(caps.a), cam.world_to_camera(caps.b),
                                        caps.ra, caps.rb, caps.slot, cam, np.array([0, 0, -1.0]))
    for joint in (0, 2, 5, 8, 12, 15):  # pelvis, knees, thorax, elbows
        x, y = np.rint(clip.joints2d[:, joint]).astype(int).T
        assert np.all(slots[np.arange(len(x)), y, x] > 0), joint
    # And the frame there shows the body's colour, not the background: compose the same
    # shading over a black and a white background; body pixels do not depend on it.
    palette = app.palette()
    black = R.composite(shade, slots, palette, np.zeros((SIZE, SIZE, 3), np.uint8))
    white = R.composite(shade, slots, palette, np.full((SIZE, SIZE, 3), 255, np.uint8))
    x, y = np.rint(clip.joints2d[:, 12]).astype(int).T  # left elbow
    t = np.arange(len(x))
    assert np.array_equal(black[t, y, x], white[t, y, x])
    expected = palette[slots[t, y, x]] * shade[t, y, x][:, None] * 255
    assert np.allclose(black[t, y, x], np.minimum(expected, 255), atol=1)
    # The crop has a margin: its corners show the background.
    assert slots[:, [0, 0, -1, -1], [0, -1, 0, -1]].max() == 0


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_nearer_capsule_hides_the_farther_one(order: tuple[int, int]) -> None:
    # A horizontal capsule 3 m away crosses a vertical one 4 m away in front of the camera.
    a = np.array([[-600.0, 0.0, 3000.0], [0.0, -600.0, 4000.0]])
    b = np.array([[600.0, 0.0, 3000.0], [0.0, 600.0, 4000.0]])
    r = np.array([80.0, 150.0])
    slot = np.array([R.TOP, R.BOTTOM], dtype=np.uint8)
    idx = list(order)
    depth, shade, slots = R.render_capsules(a[idx], b[idx], r[idx], r[idx], slot[idx], _camera(),
                                            np.array([0.0, 0.0, -1.0]))
    c = SIZE // 2
    assert slots[c, c] == R.TOP  # the front one wins at the crossing
    assert depth[c, c] == pytest.approx(3000 - 80, abs=2)  # front surface, facing the camera
    assert shade[c, c] == pytest.approx(0.35 + 0.75, abs=0.02)  # lit head-on
    # Above the horizontal capsule only the vertical one is seen; far left, nothing.
    assert slots[c - 12, c] == R.BOTTOM
    assert slots[c, c - 18] == R.TOP and slots[c, 2] == 0 and slots[2, 2] == 0
    assert np.isinf(depth[2, 2])


def test_capsule_silhouette_matches_perspective_radius() -> None:
    # A sphere of radius 200 mm at 4 m, focal 100 px: projected radius 5 px.
    depth, _, slots = R.render_capsules(np.array([[0.0, 0.0, 4000.0]]),
                                        np.array([[0.0, 0.0, 4000.0]]), np.array([200.0]),
                                        np.array([200.0]), np.array([1], np.uint8), _camera(),
                                        np.array([0.0, 0.0, -1.0]))
    c = SIZE // 2
    row = slots[c]
    assert row[c - 4 : c + 5].all() and not row[c - 6] and not row[c + 6]
    assert depth[c, c] == pytest.approx(3800, abs=1)


def test_labels_are_consistent_with_the_crop_camera() -> None:
    motion, body = _motion("run", seed=3)
    rng = np.random.default_rng(4)
    clip = R.render_clip(motion.joints, R.sample_appearance(rng), R.camera_rig(rng)[0], rng,
                         size=SIZE, body=body)
    assert clip.frames.shape == (8, SIZE, SIZE, 3) and clip.frames.dtype == np.uint8
    assert clip.joints3d.shape == (8, 17, 3) and clip.joints2d.shape == (8, 17, 2)
    assert np.allclose(clip.camera.project(clip.joints3d.astype(np.float64)), clip.joints2d,
                       atol=1e-3)
    # Camera frame: a rigid transform of the world joints, 3-6 m in front of the camera.
    assert np.allclose(bone_lengths(clip.joints3d), bone_lengths(motion.joints), atol=0.05)
    assert np.all((clip.joints3d[..., 2] > 2000) & (clip.joints3d[..., 2] < 7000))
    # The whole person is inside the crop.
    assert np.all((clip.joints2d > 0) & (clip.joints2d < SIZE - 1))
    assert clip.camera.f[0] == pytest.approx(clip.camera.f[1])


def test_crop_camera_equals_cropping_and_resizing_the_full_image() -> None:
    full = R.place_camera((0.7, 4500.0, 1100.0), np.array([100.0, -200.0]), 900.0)
    pts = full.world_to_camera(np.array([[0.0, 0.0, 900.0], [300.0, -100.0, 1500.0]]))
    box = (380.0, 250.0, 420.0)
    crop = R.crop_camera(full, box, 224)
    uv_full = full.project(pts, distort=False)
    expected = (uv_full - np.array(box[:2])) * (224 / box[2]) - 0.5
    assert np.allclose(crop.project(pts, distort=False), expected)


def test_cameras_are_placed_as_in_human36m() -> None:
    rig = R.camera_rig(np.random.default_rng(0))
    assert len(rig) == 4
    az = np.sort(np.mod([p[0] for p in rig], 2 * np.pi))
    gaps = np.diff(np.concatenate([az, az[:1] + 2 * np.pi]))
    assert gaps.min() > np.radians(45)  # spread around the subject
    for _, dist, height in rig:
        assert 3000 <= dist <= 6000 and 800 <= height <= 1450
    cam = R.place_camera(rig[0], np.zeros(2), 1000.0)
    assert cam.f[0] == pytest.approx(1150) and cam.width == cam.height == 1000
    # It looks at the subject: the target projects to the image centre.
    assert np.allclose(cam.project_world(np.array([0.0, 0.0, 1000.0]), distort=False), 500)


def test_rendering_is_deterministic_and_seeded() -> None:
    motion, body = _motion("jump", seed=5)

    def render(seed: int) -> R.RenderedClip:
        rng = np.random.default_rng(seed)
        return R.render_clip(motion.joints, R.sample_appearance(rng), R.camera_rig(rng)[1], rng,
                             size=SIZE, body=body)

    a, b, c = render(7), render(7), render(8)
    assert a.frames.tobytes() == b.frames.tobytes()
    assert a.joints2d.tobytes() == b.joints2d.tobytes()
    assert a.frames.tobytes() != c.frames.tobytes()


def test_appearance_and_backgrounds_vary() -> None:
    motion, body = _motion("walk", seed=9)
    means = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        clip = R.render_clip(motion.joints, R.sample_appearance(rng), R.camera_rig(rng)[0], rng,
                             size=SIZE, body=body)
        means.append(clip.frames[0].reshape(-1, 3).mean(axis=0))
        assert clip.frames[0].std() > 5  # not a flat image
    assert np.ptp(np.array(means), axis=0).max() > 20
