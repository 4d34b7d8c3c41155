"""Issue 27's pictures and bad input for ``predict``: a moving camera told apart from a still one,
the floor's fallback to the body's up direction, progress bars, a video cut short or corrupt
midway, a disk that fills up while writing. Real clips are made from scikit-image's astronaut
photograph (a real person), panned or held still."""

from __future__ import annotations

import errno
import json
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from _predict_helpers import leftovers
from dynapose.cli import main
from dynapose.data.synthetic.motion import generate_motion, sample_body
from dynapose.errors import DynaPoseError
from dynapose.inference.mediapipe import mediapipe_available
from dynapose.io.video import iter_frames, write_test_video
from dynapose.scene.camera_motion import MOVING_SHIFT, CameraMotion
from dynapose.scene.floor import MAX_TILT_FROM_BODY_DEG, body_up, estimate_floor
from dynapose.viz.video import VideoWriter

skimage_data = pytest.importorskip("skimage.data")
needs_mediapipe = pytest.mark.skipif(not mediapipe_available(), reason="MediaPipe not installed")

W, H, FRAMES = 320, 180, 24


def _big_photo() -> np.ndarray:
    """The astronaut photograph at 460 x 460, so a 320 x 180 window shows her head to waist."""
    return cv2.resize(skimage_data.astronaut(), (460, 460), interpolation=cv2.INTER_AREA)


def _clip(pan_px: int, frames: int = FRAMES) -> Iterator[np.ndarray]:
    """A 320 x 180 window on the photo, moved `pan_px` right per frame (0: a still camera)."""
    big = _big_photo()
    for i in range(frames):
        x = (60 if pan_px == 0 else 13) + pan_px * i
        yield np.ascontiguousarray(big[98 : 98 + H, x : x + W])


# ------------------------------------------------------------------------- camera motion


def test_a_panning_camera_is_told_from_a_still_one() -> None:
    panned, still = CameraMotion(), CameraMotion()
    for a, b in zip(_clip(4), _clip(0), strict=True):
        panned.add(a)
        still.add(b)
    pan, calm = panned.report(), still.report()
    assert pan.moving is True and calm.moving is False
    assert abs(pan.max_shift - 4 * (FRAMES - 1) / W) < 0.02  # the window moved 92 px of 320
    assert calm.max_shift == 0.0 and calm.measured == FRAMES - 1


def test_a_person_moving_before_a_still_background_is_not_a_moving_camera() -> None:
    """The person's box is left out: only the background says whether the camera moves."""
    background = cv2.resize(skimage_data.coffee(), (W, H), interpolation=cv2.INTER_AREA)
    person = cv2.resize(skimage_data.astronaut()[:, 100:400], (60, 60))
    seen, boxless = CameraMotion(), CameraMotion()
    for i in range(FRAMES):
        frame = background.copy()
        x = 20 + 8 * i
        frame[60:120, x : x + 60] = person
        seen.add(frame, (x, 60, x + 60, 120))
        boxless.add(frame)
    assert seen.report().moving is False
    assert seen.report().max_shift < MOVING_SHIFT / 5


def test_a_plain_picture_cannot_tell() -> None:
    motion = CameraMotion()
    for _ in range(FRAMES):
        motion.add(np.full((H, W, 3), 90, np.uint8))
    assert motion.report().moving is None and motion.report().measured == 0


@needs_mediapipe
def test_predict_says_the_camera_moves_and_draws_no_path(tmp_path: Path) -> None:
    from dynapose.inference.lifted import predict_video_lifted
    from dynapose.inference.writer import scenery

    pan = write_test_video(tmp_path / "pan.mp4", _clip(4))
    still = write_test_video(tmp_path / "still.mp4", _clip(0))
    moving = predict_video_lifted(pan, out_dir=tmp_path / "pan-out", visuals=("viewer",))
    calm = predict_video_lifted(still, out_dir=tmp_path / "still-out", visuals=("viewer",))
    head = json.loads((tmp_path / "pan-out" / "joints.json").read_text())
    assert head["camera_motion"]["camera"] == "moves"
    assert json.loads((tmp_path / "still-out" / "joints.json").read_text())[
        "camera_motion"]["camera"] == "still"
    assert scenery(moving)[1] is None and scenery(calm)[1] is not None  # the path
    html = (tmp_path / "pan-out" / "viewer.html").read_text()
    assert "camera: moves" in html and "camera: moves" not in (
        tmp_path / "still-out" / "viewer.html").read_text()
    # the real clip's floor is within the trusted tilt of the body's up, or said to be assumed
    for pred in (moving, calm):
        floor = pred.method["floor"]
        assert floor["tilt_from_body_up_deg"] <= MAX_TILT_FROM_BODY_DEG or floor["assumed"]


# ------------------------------------------------------------------------- the floor


def _walk_on(tilt_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """A procedural walk (camera frame, mm) whose feet stand on a floor tilted `tilt_deg` from
    the body's up direction (the whole body sheared up the slope, so it stays upright), and
    the true floor normal."""
    rng = np.random.default_rng(5)
    world = generate_motion("walk", sample_body(rng), 300, rng=rng).joints.astype(np.float64)
    slope = np.tan(np.radians(tilt_deg))
    world[..., 2] += slope * world[..., 0]  # z up: the floor z = slope * x
    normal = np.array([-slope, 0.0, 1.0]) / np.hypot(slope, 1.0)
    to_cam = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # x right, y down, z forward
    cam = (world - np.array([0.0, -4000.0, 1500.0])) @ to_cam.T
    return cam, to_cam @ normal


def test_a_floor_far_from_the_body_falls_back_to_the_body_and_says_so() -> None:
    level, _ = _walk_on(0.0)
    floor = estimate_floor(level, None, 50.0)
    assert not any("not trusted" in a for a in floor.assumptions)
    tilted, true_normal = _walk_on(35.0)
    floor = estimate_floor(tilted, None, 50.0)
    assert any("not trusted" in a and "tilted" in a for a in floor.assumptions), floor.assumptions
    np.testing.assert_allclose(floor.up, body_up(tilted, np.ones(len(tilted), bool)))
    assert np.degrees(np.arccos(floor.up @ true_normal)) > 25.0  # the body, not the slope


def test_contacts_off_one_plane_are_not_trusted() -> None:
    cam, _ = _walk_on(0.0)
    # every half second the person is 300 mm higher or back down: steps on two levels
    jumps = np.repeat(300.0 * (np.arange(len(cam) // 25 + 1) % 2), 25)[: len(cam)]
    cam = cam + jumps[:, None, None] * np.array([0.0, -1.0, 0.0])
    floor = estimate_floor(cam, None, 50.0)
    assert any("off one plane" in a for a in floor.assumptions), floor.assumptions


# ------------------------------------------------------------------------- progress


@needs_mediapipe
def test_progress_bar_only_when_asked_or_on_a_terminal(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    from dynapose.inference.mediapipe import detect_keypoints_mediapipe

    clip = write_test_video(tmp_path / "still.mp4", _clip(0, frames=6))
    detect_keypoints_mediapipe(clip, progress=True)
    shown = capsys.readouterr().err
    assert "2D keypoints" in shown and "/6 [" in shown and "frame/s" in shown  # rate, time left
    detect_keypoints_mediapipe(clip, progress=None)  # captured stderr is no terminal
    assert "2D keypoints" not in capsys.readouterr().err


# ------------------------------------------------------------------------- broken videos


def _faststart(path: Path, frames: int = 40) -> Path:
    """A real clip with its index first (a cut copy still opens), short GOPs so a cut lands
    between frames in the middle."""
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.options = {"preset": "veryfast", "g": "8"}
        for image in _clip(3, frames):
            c.mux(s.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        c.mux(s.encode())
    return path


def test_iter_frames_keeps_the_frames_before_damage_when_asked(tmp_path: Path) -> None:
    whole = _faststart(tmp_path / "whole.mp4")
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DynaPoseError, match="truncated"):
        list(iter_frames(cut))  # without on_damage: refused, as before
    told: list[str] = []
    kept = list(iter_frames(cut, on_damage=told.append))
    assert 5 <= len(kept) < 40 and len(told) == 1 and "truncated" in told[0]
    reference = [f.image for f in iter_frames(whole)]
    for frame in kept:  # the frames kept are the video's own, in order
        assert np.abs(frame.image.astype(int) - reference[frame.index]).mean() < 1.0


@needs_mediapipe
def test_predict_keeps_the_frames_of_a_cut_or_corrupt_video(tmp_path: Path) -> None:
    whole = _faststart(tmp_path / "whole.mp4")
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 3 // 5])
    result = CliRunner().invoke(main, ["predict", str(cut), "--out", str(tmp_path / "cut-out")])
    assert result.exit_code == 0, result.output
    damage = [line for line in result.output.splitlines() if line.startswith("video:")]
    assert len(damage) == 1 and "truncated" in damage[0] and "are gaps" in damage[0]
    head = json.loads((tmp_path / "cut-out" / "joints.json").read_text())
    kept = head["video_damage"]["frames_decoded"]
    assert head["num_frames"] == 40 or len(head["frames"]) == 40
    assert 5 <= kept < 40
    assert all(f["joints"] is None for f in head["frames"][kept:])  # the rest: gaps
    assert sum(f["joints"] is not None for f in head["frames"][:kept]) >= kept - 2
    assert len(list(iter_frames(tmp_path / "cut-out" / "overlay.mp4"))) == kept

    garbled = bytearray(data)
    mdat = garbled.find(b"mdat")
    middle = (mdat + len(garbled)) // 2
    garbled[middle : middle + 3000] = np.random.default_rng(0).integers(
        0, 256, 3000, np.uint8).tobytes()
    bad = tmp_path / "garbled.mp4"
    bad.write_bytes(bytes(garbled))
    result = CliRunner().invoke(main, ["predict", str(bad), "--out", str(tmp_path / "bad-out"),
                                       "--no-visuals"])
    assert result.exit_code == 0, result.output
    head = json.loads((tmp_path / "bad-out" / "joints.json").read_text())
    assert len(head["frames"]) == 40
    assert sum(f["joints"] is not None for f in head["frames"]) >= 10


# ------------------------------------------------------------------------- a full disk


def test_a_video_writer_whose_encoder_thread_fails_leaves_nothing(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    from av.container import OutputContainer

    def full(self: OutputContainer, packet: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(OutputContainer, "mux", full)
    dest = tmp_path / "out.mp4"
    with pytest.raises(DynaPoseError, match=r"out\.mp4: cannot write video: No space left"):
        with VideoWriter(dest) as writer:
            for image in _clip(2, 30):
                writer.write(image)
    assert not dest.exists() and leftovers(tmp_path) == []


@needs_mediapipe
def test_predict_on_a_full_disk_says_so_in_one_line_and_leaves_no_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from av.container import OutputContainer

    clip = write_test_video(tmp_path / "still.mp4", _clip(0, frames=8))
    real_mux = OutputContainer.mux
    written = [0]

    def filling(self: OutputContainer, packet: object) -> None:
        written[0] += 1
        if written[0] > 3:  # the disk fills up a few packets into the first video
            raise OSError(errno.ENOSPC, "No space left on device")
        real_mux(self, packet)  # type: ignore[arg-type]

    monkeypatch.setattr(OutputContainer, "mux", filling)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["predict", str(clip), "--out", str(out)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "out: cannot write output" in result.output and "No space left" in result.output
    assert not out.exists() and leftovers(tmp_path) == []


# ------------------------------------------------------------------------- one pass, the bench


def test_frame_visuals_keep_at_most_the_viewer_frames_evenly(tmp_path: Path) -> None:
    from dynapose.inference.writer import FrameVisuals
    from dynapose.io.video import Frame

    with FrameVisuals(tmp_path, ("viewer",), viewer_frames=4) as early:  # no count known
        for i, image in enumerate(_clip(2, 11)):
            early(Frame(index=i, time=i / 25, image=image), None)
    assert sorted(early.thumbs) == [0, 4, 8] and early.thumb_step == 4 and early.count == 11
    assert early.overlay is None and list(tmp_path.iterdir()) == []
    with FrameVisuals(tmp_path, ("viewer",), viewer_frames=4, expected_frames=11) as early:
        assert early.thumb_step == 3  # the container's count sets the spacing from the start


@needs_mediapipe
def test_bench_predict_video_gives_ratios_to_mediapipe(tmp_path: Path) -> None:
    clip = write_test_video(tmp_path / "still.mp4", _clip(0, frames=6))
    result = CliRunner().invoke(main, ["bench", "predict", "--video", str(clip), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["mediapipe_2d"]["frames"] == 6
    mediapipe = figures["mediapipe_2d"]
    rate = 2 / (1 / mediapipe["frames_per_s"] + 1 / mediapipe["again_frames_per_s"])
    for key in ("end_to_end", "end_to_end_with_visuals"):  # against the two runs' mean rate
        # (ratios are rounded to 0.01: on a loaded machine a 6-frame clip's can be near 0.1)
        assert figures[key]["ratio_to_mediapipe"] == pytest.approx(
            figures[key]["frames_per_s"] / rate, rel=0.1, abs=0.011)
    assert figures["targets"] == {"end_to_end_ratio": 0.9, "end_to_end_with_visuals_ratio": 0.6}
    assert figures["peak_rss_mb"] > 0


def test_long_sequences_are_lifted_in_pieces_with_the_same_result() -> None:
    import torch

    from dynapose.inference.lifting import _in_chunks
    from dynapose.models.lifter import TemporalLifter

    torch.manual_seed(0)
    model = TemporalLifter(filter_widths=(3, 3, 3), channels=32, confidence=True).eval()
    x = torch.randn(1, 300, 17, 2) * 0.3
    c = torch.rand(1, 300, 17)
    with torch.no_grad():
        whole = model.forward_sequence(x, c)
        pieces = _in_chunks(model, x, c, chunk=64)  # 5 pieces, the last one short
    assert pieces.shape == whole.shape
    torch.testing.assert_close(pieces, whole, atol=1e-4, rtol=1e-4)


def test_background_tap_sees_every_frame_in_order_and_hands_back_its_error() -> None:
    from dynapose.inference.taps import BackgroundTap

    seen: list[int] = []
    with BackgroundTap(lambda frame, found: seen.append(frame)) as tap:
        for i in range(50):
            tap(i, None)
    assert seen == list(range(50))

    def fails(frame: int, found: object) -> None:
        if frame == 3:
            raise OSError(errno.ENOSPC, "No space left on device")

    tap = BackgroundTap(fails, depth=2)
    with pytest.raises(OSError, match="No space left"):
        for i in range(100):  # raised by a later call, or at the latest by close()
            tap(i, None)
        tap.close()
