"""Visualisation: training curves, 2D overlays, 3D views, MP4/GIF writing."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from dynapose.errors import DynaPoseError
from dynapose.skeleton import BONES
from dynapose.viz.plots import plot_training_curves
from dynapose.viz.skeleton import draw_skeleton_2d, floor_grid, side_colors, skeleton_limits
from dynapose.viz.video import comparison_video, write_video
from dynapose.viz.view3d import Skeleton3DRenderer, render_skeleton_3d

# A person standing 4 m in front of the camera, facing it (camera frame: y down, mm).
STANDING = np.array(
    [
        [0, 0, 0], [-120, 0, 0], [-120, 450, 0], [-120, 880, 0], [120, 0, 0], [120, 450, 0],
        [120, 880, 0], [0, -230, 0], [0, -480, 0], [0, -580, 0], [0, -700, 0], [180, -480, 0],
        [200, -220, 0], [210, 20, 0], [-180, -480, 0], [-200, -220, 0], [-210, 20, 0],
    ],
    dtype=np.float64,
) + np.array([0.0, 0.0, 4000.0])

COLUMNS = [
    "epoch", "train_loss", "val_loss", "train_mpjpe", "val_mpjpe", "train_mpjpe_p1",
    "val_mpjpe_p1", "train_p_mpjpe", "val_p_mpjpe", "train_pck3d", "val_pck3d",
]
TAB_BLUE = np.array([31, 119, 180])
TAB_ORANGE = np.array([255, 127, 14])


def _has_color(img: np.ndarray, rgb: np.ndarray, tol: int = 12, count: int = 20) -> bool:
    close = (np.abs(img[..., :3].astype(int) - rgb) <= tol).all(axis=-1)
    return int(close.sum()) >= count


def _write_metrics(path: Path, with_val: bool) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for e in range(1, 5):
            train = [1e5 / e, 300 / e, 200 / e, 120 / e, 0.1 * e]
            val = [1.2e5 / e, 320 / e, 210 / e, 130 / e, 0.08 * e] if with_val else [""] * 5
            w.writerow([e] + [x for pair in zip(train, val, strict=True) for x in pair])


# ---------------------------------------------------------------- training curves


@pytest.mark.parametrize("with_val", [True, False])
def test_training_curves_written_and_not_blank(tmp_path: Path, with_val: bool) -> None:
    csv_path = tmp_path / "metrics.csv"
    _write_metrics(csv_path, with_val)
    out = tmp_path / "figs"
    paths = plot_training_curves(csv_path, out)
    names = [p.name for p in paths]
    assert names == ["loss.png", "mpjpe.png", "pck3d.png", "mpjpe_protocols.png"]
    for p in paths:
        img = np.asarray(Image.open(p).convert("RGB"))
        assert img.shape[0] > 100 and img.std() > 5
        assert _has_color(img, TAB_BLUE), p.name  # the training curve is drawn
        assert _has_color(img, TAB_ORANGE) == with_val, p.name  # validation only when known
    assert sorted(os.listdir(out)) == sorted(names)  # no temporary files left


def test_training_curves_from_rows(tmp_path: Path) -> None:
    rows = [{"epoch": 1, "train_loss": 5.0, "val_loss": None, "train_mpjpe": 100.0}]
    paths = plot_training_curves(rows, tmp_path)
    assert all(p.stat().st_size > 1000 for p in paths)


def test_training_curves_bad_input(tmp_path: Path) -> None:
    with pytest.raises(DynaPoseError, match="metrics file not found"):
        plot_training_curves(tmp_path / "missing.csv", tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("step,loss\n1,2\n")
    with pytest.raises(DynaPoseError, match=r"bad\.csv.*epoch"):
        plot_training_curves(bad, tmp_path / "out")
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(COLUMNS) + "\n")
    with pytest.raises(DynaPoseError, match="no epochs"):
        plot_training_curves(empty, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# ---------------------------------------------------------------- 2D overlay


def test_draw_skeleton_2d_changes_bone_pixels() -> None:
    img = np.full((64, 64, 3), 40, np.uint8)
    joints = STANDING[:, :2] / 30.0 + np.array([32.0, 34.0])  # about 53 px tall
    out = draw_skeleton_2d(img, joints, thickness=1, radius=1)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert (img == 40).all()  # the input is not modified
    palette = side_colors()
    for child, parent in BONES:
        mid = np.round((joints[child] + joints[parent]) / 2).astype(int)
        side = "left" if child in (4, 5, 6, 11, 12, 13) else "right" if child in (
            1, 2, 3, 14, 15, 16) else "centre"
        around = out[mid[1] - 1 : mid[1] + 2, mid[0] - 1 : mid[0] + 2].reshape(-1, 3)
        assert any(tuple(px) == palette[side] for px in around), (child, parent)
    assert (out[0:3, 0:3] == 40).all()  # far from the skeleton nothing changes
    assert len({palette["left"], palette["right"], palette["centre"]}) == 3


def test_draw_skeleton_2d_skips_nan_joints_and_tints() -> None:
    img = np.zeros((64, 64, 3), np.uint8)
    joints = STANDING[:, :2] / 30.0 + np.array([32.0, 34.0])
    joints[3] = np.nan  # right ankle missing: the shin is not drawn, the thigh is
    out = draw_skeleton_2d(img, joints, color=(200, 0, 200), thickness=1, radius=1)
    shin_mid = np.round((joints[2] + STANDING[3, :2] / 30.0 + [32.0, 34.0]) / 2).astype(int)
    knee_to_ankle_low = np.round(STANDING[3, :2] / 30.0 + [32.0, 33.0]).astype(int)
    assert (out[knee_to_ankle_low[1], knee_to_ankle_low[0]] == 0).all()
    assert (out[shin_mid[1] + 3, shin_mid[0]] == 0).all()
    thigh_mid = np.round((joints[1] + joints[2]) / 2).astype(int)
    assert out[thigh_mid[1], thigh_mid[0]].any()
    tints = side_colors((200, 0, 200))
    assert tints["centre"] == (200, 0, 200) and tints["left"] != tints["right"]
    with pytest.raises(ValueError):
        draw_skeleton_2d(img, joints[:5])


# ---------------------------------------------------------------- 3D view


def _mask(img: np.ndarray, reddish: bool) -> np.ndarray:
    r, b = img[..., 0].astype(int), img[..., 2].astype(int)
    return (r - b > 80) if reddish else (b - r > 80)


def test_render_3d_is_upright_and_not_mirrored() -> None:
    head = np.tile(STANDING[10], (17, 1))  # a skeleton collapsed onto the head (red)
    pelvis = np.tile(STANDING[0], (17, 1))  # and one collapsed onto the pelvis (blue)
    limits = skeleton_limits(STANDING)
    img = render_skeleton_3d(
        head, [pelvis], size=(96, 96), limits=limits, colors=[(255, 0, 0), (0, 0, 255)],
        show_axes=False,
    )
    assert img.shape == (96, 96, 3) and img.dtype == np.uint8
    red_rows = np.nonzero(_mask(img, True))[0]
    blue_rows = np.nonzero(_mask(img, False))[0]
    assert len(red_rows) > 0 and len(blue_rows) > 0
    assert red_rows.mean() < blue_rows.mean() - 15  # head above pelvis: up is -y
    # Seen from the camera (azim -90, elev 0), +x (camera right) is on the image's right.
    right = np.tile(STANDING[0] + [600.0, 0, 0], (17, 1))
    img = render_skeleton_3d(
        right, [pelvis], size=(96, 96), limits=limits, colors=[(255, 0, 0), (0, 0, 255)],
        elev=0.0, azim=-90.0, show_axes=False,
    )
    assert np.nonzero(_mask(img, True))[1].mean() > np.nonzero(_mask(img, False))[1].mean() + 15


def test_renderer_reuses_figure_without_leftovers() -> None:
    moved = STANDING + np.array([300.0, 0.0, 0.0])
    limits = skeleton_limits(STANDING, moved)
    r1 = Skeleton3DRenderer((80, 96), limits)
    first = r1.render(STANDING, [STANDING])
    second = r1.render(moved, [STANDING])
    assert first.shape == (80, 96, 3)
    assert (first != second).any()
    fresh = Skeleton3DRenderer((80, 96), limits)
    np.testing.assert_array_equal(fresh.render(moved, [STANDING]), second)
    # Leaving the second skeleton out hides it; NaN joints are tolerated.
    gappy = moved.copy()
    gappy[13] = np.nan
    solo = r1.render(gappy, [None])
    assert _mask(solo, True).any() and not _mask(solo, False).any()


# ---------------------------------------------------------------- video files


def _frames(n: int, h: int, w: int) -> list[np.ndarray]:
    """Frames of flat grey levels, one per frame, so each decoded frame is recognisable."""
    return [np.full((h, w, 3), 30 + 40 * i, np.uint8) for i in range(n)]


def _decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.mark.parametrize(("h", "w", "out_hw"), [(48, 64, (48, 64)), (47, 63, (48, 64))])
def test_write_mp4_round_trip(tmp_path: Path, h: int, w: int, out_hw: tuple[int, int]) -> None:
    path = write_video(iter(_frames(5, h, w)), tmp_path / "clip.mp4", fps=12.5)
    decoded = _decode(path)
    assert len(decoded) == 5
    assert decoded[0].shape == (*out_hw, 3)
    levels = [float(f[:h, :w].mean()) for f in decoded]
    assert levels == pytest.approx([30 + 40 * i for i in range(5)], abs=4)
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert float(stream.average_rate) == pytest.approx(12.5)
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_write_gif_round_trip(tmp_path: Path) -> None:
    path = write_video(_frames(4, 30, 40), tmp_path / "clip.gif", fps=10)
    with Image.open(path) as im:
        assert im.size == (40, 30) and im.n_frames == 4
        im.seek(2)
        assert np.asarray(im.convert("RGB")).mean() == pytest.approx(110, abs=2)
        assert im.info["duration"] == 100


def test_write_video_bad_input_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(DynaPoseError, match=r"clip\.avi.*unsupported"):
        write_video(_frames(2, 8, 8), tmp_path / "clip.avi")
    with pytest.raises(DynaPoseError, match="no frames"):
        write_video([], tmp_path / "empty.mp4")
    mixed = [*_frames(2, 16, 16), np.zeros((8, 8, 3), np.uint8)]
    for suffix in (".mp4", ".gif"):
        with pytest.raises(DynaPoseError, match="frame size changed"):
            write_video(mixed, tmp_path / f"mixed{suffix}")
    with pytest.raises(DynaPoseError, match="uint8"):
        write_video([np.zeros((8, 8, 3), np.float32)], tmp_path / "float.mp4")
    with pytest.raises(DynaPoseError, match="frame rate"):
        write_video(_frames(2, 8, 8), tmp_path / "rate.mp4", fps=0)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_destination_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")  # a file where the output folder should be: fails even for root
    with pytest.raises(DynaPoseError, match=r"not_a_folder/clip\.mp4: cannot write"):
        write_video(_frames(2, 8, 8), blocker / "clip.mp4")
    with pytest.raises(DynaPoseError, match=r"not_a_folder/loss\.png: cannot write"):
        plot_training_curves([{"epoch": 1, "train_loss": 1.0}], blocker)
    assert [p.name for p in tmp_path.iterdir()] == ["not_a_folder"]


# ---------------------------------------------------------------- comparison video


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_comparison_video(tmp_path: Path, suffix: str) -> None:
    n = 3
    frames = np.zeros((n, 64, 64, 3), np.uint8)
    true = np.stack([STANDING + np.array([20.0 * i, 0, 0]) for i in range(n)])
    pred = true + np.array([60.0, 0.0, 150.0])
    joints2d = true[..., :2] / 30.0 + np.array([32.0, 34.0])
    path = comparison_video(frames, pred, true, tmp_path / f"cmp{suffix}", fps=5,
                                joints2d_pred=joints2d)
    if suffix == ".mp4":
        decoded = _decode(path)
    else:
        with Image.open(path) as im:
            decoded = []
            for k in range(im.n_frames):
                im.seek(k)
                decoded.append(np.asarray(im.convert("RGB")))
    assert len(decoded) == n
    assert decoded[0].shape == (256, 512, 3)  # the 64 px frame scaled to 256, then a 256 panel
    left, right = decoded[0][:, :256], decoded[0][:, 256:]
    assert left.max() > 100  # the 2D skeleton is drawn on the black frame
    assert _mask(right, True).sum() > 20 and _mask(right, False).sum() > 20  # pred and true


def test_comparison_frames_mismatch_leaves_nothing(tmp_path: Path) -> None:
    frames = np.zeros((2, 32, 32, 3), np.uint8)
    pred = np.stack([STANDING] * 3)
    with pytest.raises(ValueError, match="2 frames for 3 poses"):
        comparison_video(frames, pred, None, tmp_path / "x.mp4")
    with pytest.raises(ValueError, match="true3d"):
        comparison_video(frames, pred, pred[:2], tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []


def test_bench_viz_command_prints_json() -> None:
    import json

    from click.testing import CliRunner

    from dynapose.cli import main

    result = CliRunner().invoke(main, ["bench", "viz", "--frames", "3", "--size", "32", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for key in ("overlay_2d", "render_3d", "follow_3d", "comparison_mp4", "comparison_gif"):
        assert data[key]["frames_per_s"] > 0, key
    assert data["frames"] == 3 and data["training_curves_s"] > 0


def test_3d_view_in_the_overlay_palette() -> None:
    """colors=(None,) draws the skeleton with the 2D overlay's left/right/centre colours, so the
    3D animation reads beside the overlay."""
    from dynapose.data.synthetic.motion import generate_motion, sample_body
    from dynapose.viz.skeleton import SIDE_COLORS_2D

    world = generate_motion("walk", sample_body(np.random.default_rng(0)), 10).joints[5]
    pose = np.stack([world[:, 0], -world[:, 2], world[:, 1] + 4000.0], axis=-1)  # camera frame
    img = render_skeleton_3d(pose, size=(200, 200), colors=(None,), show_axes=False)
    pixels = img.reshape(-1, 3).astype(int)
    for side in ("left", "right"):
        want = np.array(SIDE_COLORS_2D[side])
        assert (np.abs(pixels - want).sum(axis=1) < 40).sum() > 10, side
    default = render_skeleton_3d(pose, size=(200, 200), show_axes=False).reshape(-1, 3)
    blue = np.array(SIDE_COLORS_2D["left"])
    assert (np.abs(default.astype(int) - blue).sum(axis=1) < 40).sum() == 0


def test_floor_grid_lies_on_the_floor() -> None:
    """floor_grid's segments lie on the plane up . p + h = 0, centred below the given point."""
    from dynapose.viz.skeleton import floor_grid

    up = np.array([0.0, -np.cos(0.3), -np.sin(0.3)])  # a camera looking down by 0.3 rad
    segs = floor_grid(up, 1500.0, np.array([100.0, 200.0, 4000.0]), half=1000.0, step=500.0)
    pts = segs.reshape(-1, 3)
    np.testing.assert_allclose(pts @ up + 1500.0, 0.0, atol=1e-6)
    assert len(segs) == 2 * 5  # 5 lines each way
    centre = pts.mean(axis=0)
    below = np.array([100.0, 200.0, 4000.0])
    below = below - (below @ up + 1500.0) * up
    np.testing.assert_allclose(centre, below, atol=1e-6)


# ---------------------------------------------------------------- 3D views: OpenCV, following


def _walk(frames: int = 60, distance: float = 8000.0) -> np.ndarray:
    """(F, 17, 3) mm camera frame: STANDING carried `distance` mm to the right and as far away
    from the camera over the frames (a long walk, diagonal in the picture)."""
    t = np.linspace(0.0, 1.0, frames)[:, None, None]
    return STANDING[None] + t * np.array([distance, 0.0, distance])


def _skeleton_pixels(img: np.ndarray) -> np.ndarray:
    """(N, 2) x, y of saturated pixels: the skeleton's, not the greys of floor, path and text."""
    rgb = img.astype(int)
    ys, xs = np.nonzero(rgb.max(axis=2) - rgb.min(axis=2) > 60)
    return np.stack([xs, ys], axis=1)


@pytest.mark.parametrize("size", [(90, 160), (200, 120), (37, 37)])
def test_3d_panel_is_the_requested_size(size: tuple[int, int]) -> None:
    limits = skeleton_limits(STANDING)
    for show_axes in (True, False):
        img = render_skeleton_3d(STANDING, size=size, limits=limits, show_axes=show_axes,
                                 labels=["p"])
        assert img.shape == (*size, 3) and img.dtype == np.uint8
    view = Skeleton3DRenderer(size, colors=(None,), title="from the side")
    view.set_scenery(floor_grid(np.array([0.0, -1.0, 0.0]), -955.0, STANDING[0]), STANDING[:, :3])
    assert view.render(STANDING, centre=STANDING[0]).shape == (*size, 3)


@pytest.mark.parametrize(("elev", "azim"), [(0.0, -90.0), (12.0, -70.0), (10.0, 0.0)])
def test_skeleton_pixels_land_on_the_projected_joints(elev: float, azim: float) -> None:
    """Each joint is drawn, in its side's colour, where the view projects it; away from the
    skeleton the panel stays background."""
    from dynapose.viz.skeleton import SIDE_COLORS_2D, joint_side

    view = Skeleton3DRenderer((240, 240), skeleton_limits(STANDING), colors=(None,),
                              elev=elev, azim=azim, show_axes=False)
    img = view.render(STANDING)
    px = view.project(STANDING)
    assert np.isfinite(px).all() and ((px > 0) & (px < 240)).all()
    facing = (elev, azim) == (0.0, -90.0)  # from the camera: no joint hides another
    for j, (x, y) in enumerate(np.round(px).astype(int)):
        # its own side's colour; seen at an angle a nearer bone may cover it
        sides = [joint_side(j)] if facing else list(SIDE_COLORS_2D)
        want = np.array([SIDE_COLORS_2D[side] for side in sides])
        patch = img[y - 1 : y + 2, x - 1 : x + 2].reshape(-1, 1, 3).astype(int)
        assert (np.abs(patch - want).sum(axis=2) < 30).any(), (j, patch)
    drawn = _skeleton_pixels(img)
    lo, hi = px.min(axis=0) - 8, px.max(axis=0) + 8
    assert ((drawn >= lo) & (drawn <= hi)).all()  # nothing drawn away from the joints
    if facing:  # the camera's own picture
        assert px[10, 1] < px[0, 1] < px[3, 1]  # head above pelvis above ankle: upright
        assert px[14, 0] < px[0, 0] < px[11, 0]  # the person's right on the image's left


def test_the_follow_view_keeps_the_person_central_and_large() -> None:
    """Following the pelvis, a person walking 8 m stays in the middle of the panel, about the
    same size, while a view fixed over the whole walk shows them small."""
    from dynapose.viz.video import FollowViews

    walk = _walk()
    floor = floor_grid(np.array([0.0, -1.0, 0.0]), -955.0, walk[:, 0].mean(axis=0), 6000.0)
    path = walk[:, 0] + np.array([0.0, 955.0, 0.0])
    size = 240
    views = FollowViews(walk, (size, size), ((10.0, -90.0, None), (10.0, 0.0, None)),
                        floor, path)
    heights = []
    for i in (0, 30, 59):
        frame = views.render(i)
        assert frame.shape == (size, 2 * size, 3)
        for k in range(2):
            pts = _skeleton_pixels(frame[:, k * size : (k + 1) * size])
            assert len(pts) > 100, (i, k)  # in the picture
            lo, hi = pts.min(axis=0), pts.max(axis=0)
            centre = (lo + hi) / 2
            assert (np.abs(centre - size / 2) < 0.15 * size).all(), (i, k, centre)
            heights.append(hi[1] - lo[1])
            # the floor and the path are drawn around the person (greys)
            grey = frame[:, k * size : (k + 1) * size].astype(int)
            assert ((grey.max(axis=2) < 200) & (grey.max(axis=2) - grey.min(axis=2) < 10)).any()
    assert min(heights) > 0.5 * size and max(heights) < 0.95 * size
    fixed = Skeleton3DRenderer((size, size), skeleton_limits(walk), colors=(None,),
                               show_axes=False)
    far = _skeleton_pixels(fixed.render(walk[59]))
    assert np.ptp(far[:, 1]) < 0.5 * min(heights)


def test_follow_view_fills_gaps_and_scales_to_the_body() -> None:
    from dynapose.viz.view3d import follow_view

    walk = _walk(20)
    walk[5:8] = np.nan
    centres, half = follow_view(walk)
    assert np.isfinite(centres).all()
    # steady motion is followed exactly, to the last frame and across the gap
    np.testing.assert_allclose(centres, STANDING[0] + _walk(20)[:, 0] - STANDING[0], atol=1e-6)
    jitter = _walk(20)[:, 0] + np.random.default_rng(0).normal(0.0, 30.0, (20, 3))
    steady = follow_view(_walk(20) - _walk(20)[:, :1] + jitter[:, None])[0]
    assert np.abs(np.diff(steady, 2, axis=0)).max() < 0.5 * np.abs(np.diff(jitter, 2, axis=0)).max()
    reach = np.linalg.norm(STANDING - STANDING[0], axis=1).max()
    assert half == pytest.approx(1.5 * reach)
    assert follow_view(2 * (STANDING - STANDING[0])[None] + STANDING[0])[1] == pytest.approx(
        2 * half)


def test_video_writers_fed_from_one_loop(tmp_path: Path) -> None:
    """Two files from one pass over the frames; a failure in one aborts it and leaves nothing,
    a writer given no frames writes nothing."""
    from dynapose.viz.video import VideoWriter

    frames = _frames(4, 32, 48)
    with VideoWriter(tmp_path / "a.mp4", fps=10) as a, VideoWriter(tmp_path / "b.gif") as b:
        for f in frames:
            a.write(f)
            b.write(f[:16])
    assert len(_decode(tmp_path / "a.mp4")) == 4
    with Image.open(tmp_path / "b.gif") as im:
        assert im.n_frames == 4 and im.size == (48, 16)
    with pytest.raises(DynaPoseError, match="frame size changed"):
        with VideoWriter(tmp_path / "c.mp4") as c:
            c.write(frames[0])
            c.write(frames[1][:8])
    with pytest.raises(DynaPoseError, match="no frames"):
        VideoWriter(tmp_path / "d.mp4").close()
    with pytest.raises(RuntimeError):
        with VideoWriter(tmp_path / "e.mp4") as e:
            e.write(frames[0])
            raise RuntimeError("the loop failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4", "b.gif"]
