"""predict: video decoding, crops, sliding windows, output files, bad input, the CLI."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from _predict_helpers import SIZE, frames, leftovers, make_checkpoint, make_video
from dynapose.camera import FOCAL_PER_CROP_SIDE, project_to_frame
from dynapose.cli import main
from dynapose.errors import DynaPoseError
from dynapose.inference.crops import centre_square, crop_resize, iter_crops, parse_box, square_box
from dynapose.inference.image_model import predict_video
from dynapose.inference.windows import WindowAverager
from dynapose.io.checkpoint import load_checkpoint
from dynapose.io.video import iter_frames, probe_video
from dynapose.skeleton import JOINT_NAMES


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("predict")
    return {
        "ckpt": make_checkpoint(root / "ckpt"),
        "mp4": make_video(root / "clip.mp4", n=20),
        "avi": make_video(root / "clip.avi", n=13, fps=30.0, seed=1),
        "short": make_video(root / "short.mkv", n=5, seed=2),
        "webm": make_video(root / "clip.webm", n=6, seed=5),
        "root": root,
    }


# ------------------------------------------------------------------------- video decoding


def test_decode_mp4_and_avi(assets: dict[str, Path]) -> None:
    info = probe_video(assets["mp4"])
    assert (info.width, info.height, info.fps, info.num_frames) == (128, 96, 25.0, 20)
    decoded = list(iter_frames(assets["mp4"]))
    assert [f.index for f in decoded] == list(range(20))
    assert np.allclose([f.time for f in decoded], np.arange(20) / 25.0)
    assert decoded[3].image.shape == (96, 128, 3) and decoded[3].image.dtype == np.uint8
    # lossy codec, but the content must be the frames that were encoded
    assert np.abs(decoded[3].image.astype(int) - frames(20)[3]).mean() < 8
    avi = list(iter_frames(assets["avi"]))
    assert len(avi) == 13 and probe_video(assets["avi"]).fps == 30.0
    webm = probe_video(assets["webm"])
    assert webm.codec == "vp9" and len(list(iter_frames(assets["webm"]))) == 6


def test_decode_scaled(assets: dict[str, Path]) -> None:
    small = next(iter(iter_frames(assets["mp4"], size=(64, 48)))).image
    full = next(iter(iter_frames(assets["mp4"]))).image
    assert small.shape == (48, 64, 3)
    assert np.abs(small.astype(int) - full[::2, ::2].astype(int)).mean() < 12


def test_rotated_video_comes_out_upright(tmp_path: Path) -> None:
    path = tmp_path / "rot.mp4"
    img = frames(4, 48, 64)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.set_display_rotation(90)
        for im in img:
            c.mux(s.encode(av.VideoFrame.from_ndarray(im, format="rgb24")))
        c.mux(s.encode())
    info = probe_video(path)
    first = next(iter(iter_frames(path))).image
    assert info.rotation in (90, 270) and (info.width, info.height) == (48, 64)
    assert first.shape == (64, 48, 3)
    expect = np.rot90(img[0], k=info.rotation // 90)
    assert np.abs(first.astype(int) - expect).mean() < 8


# ------------------------------------------------------------------------- crops


def test_crop_boxes() -> None:
    assert centre_square(128, 96) == (16.0, 0.0, 96.0, 96.0)
    assert centre_square(50, 80) == (0.0, 15.0, 50.0, 50.0)
    assert square_box((10, 20, 30, 60)) == (-5.0, 20.0, 60.0, 60.0)
    assert parse_box("1, 2,3,4") == (1.0, 2.0, 3.0, 4.0)
    for bad in ("1,2,3", "a,b,c,d"):
        with pytest.raises(DynaPoseError):
            parse_box(bad)
    with pytest.raises(DynaPoseError):
        square_box((0, 0, 0, 10))


def test_crop_resize_pads_outside_black() -> None:
    img = np.full((10, 10, 3), 200, np.uint8)
    out = crop_resize(img, (-10.0, 0.0, 20.0, 20.0), 20)
    assert out.shape == (20, 20, 3)
    assert (out[:, :8] == 0).all() and (out[:10, 12:] == 200).all() and (out[13:] == 0).all()


def test_fast_crop_matches_reference(assets: dict[str, Path]) -> None:
    """The swscale fast path (scale then cut) sees the same pixels as crop-then-resize."""
    full = [f.image for f in iter_frames(assets["mp4"])]
    box = (20.0, 8.0, 80.0, 80.0)
    for size in (64, 40):
        crops = list(iter_crops(assets["mp4"], size, box=box, detector="none"))
        assert len(crops) == 20
        for i in (0, 7, 19):
            _, crop, used = crops[i]
            assert used == box and crop.shape == (size, size, 3)
            ref = crop_resize(full[i], box, size)
            assert np.abs(crop.astype(int) - ref.astype(int)).mean() < 10


# ------------------------------------------------------------------------- windows


@pytest.mark.parametrize("n", [1, 5, 8, 9, 12, 21])
@pytest.mark.parametrize("stride", [1, 3, 4, 8])
def test_window_averaging(n: int, stride: int) -> None:
    """Every frame gets one estimate: the mean of the windows covering it; padding is dropped."""
    calls: list[np.ndarray] = []

    def model(clips: np.ndarray) -> np.ndarray:
        calls.append(clips.copy())
        value = clips[:, :, 0, 0, 0].astype(np.float64)  # (B, T): the frame's id
        out = np.zeros((*clips.shape[:2], 17, 3))
        out[..., 0] = value[..., None]
        out[..., 1] = np.arange(clips.shape[1])[None, :, None]  # position in the window
        return out

    avg = WindowAverager(model, clip_len=8, stride=stride, batch=3)
    for i in range(n):
        avg.add(np.full((2, 2, 3), i, np.uint8))
    joints = avg.finish()
    assert joints.shape == (n, 17, 3)
    assert np.allclose(joints[:, :, 0], np.arange(n)[:, None])  # each frame's own estimate
    windows = np.concatenate(calls)
    starts = windows[:, 0, 0, 0, 0].astype(int)
    assert list(starts) == list(range(0, max(0, -(-(n - 8) // stride)) * stride + 1, stride))
    for w in windows:  # padding repeats the last real frame
        ids = w[:, 0, 0, 0].astype(int)
        assert (np.diff(ids) >= 0).all() and ids.max() <= n - 1
    # expected position-in-window mean per frame, computed independently
    pos = [[f - s for s in starts if s <= f < s + 8] for f in range(n)]
    assert np.allclose(joints[:, 0, 1], [np.mean(p) for p in pos])


def test_window_arguments() -> None:
    with pytest.raises(DynaPoseError):
        WindowAverager(lambda x: x, 8, stride=9)
    with pytest.raises(DynaPoseError):
        WindowAverager(lambda x: x, 8, stride=0)


# ------------------------------------------------------------------------- end to end


def test_predict_matches_model_on_windows(assets: dict[str, Path]) -> None:
    """With stride 8 on 16 frames, each frame's estimate is the model on its own window."""
    path = make_video(assets["root"] / "sixteen.mp4", n=16, seed=3)
    pred = predict_video(path, assets["ckpt"], stride=8, detector="none")
    model, _ = load_checkpoint(assets["ckpt"])
    crops = np.stack([c for _, c, _ in iter_crops(path, SIZE, detector="none")])
    with torch.inference_mode():
        ref = model(torch.from_numpy(crops.reshape(2, 8, SIZE, SIZE, 3))).numpy()
    assert pred.joints.shape == (16, 17, 3)
    assert np.allclose(pred.joints, ref.reshape(16, 17, 3), atol=1e-3)
    assert pred.source == "centre" and np.allclose(pred.boxes, [16, 0, 96, 96])


def test_shared_features_give_the_same_joints(assets: dict[str, Path]) -> None:
    """Running each frame's CNN once (split model) equals running every window whole."""
    import dataclasses

    from dynapose.inference.backends import load_model

    loaded = load_model(assets["ckpt"])
    assert loaded.encode is not None and loaded.head is not None  # the seed model splits
    whole = dataclasses.replace(loaded, encode=None, head=None)
    for video, stride in ((assets["avi"], 2), (assets["mp4"], 4)):
        a = predict_video(video, assets["ckpt"], stride=stride, batch=3, model=loaded)
        b = predict_video(video, assets["ckpt"], stride=stride, batch=5, model=whole)
        assert np.allclose(a.joints, b.joints, rtol=1e-5, atol=1e-3)


def test_predict_writes_documented_outputs(assets: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    pred = predict_video(assets["mp4"], assets["ckpt"], out, detector="none")
    names = {"joints.npz", "joints.json", "joints.csv", "side_by_side.mp4", "overlay.mp4",
             "skeleton3d.mp4", "viewer.html"}
    assert {p.name for p in out.iterdir()} == names
    assert set(pred.files) == {"npz", "json", "csv", "side_by_side", "overlay", "skeleton3d",
                               "viewer"}
    assert pred.joints.shape == (20, 17, 3) and np.isfinite(pred.joints).all()
    assert leftovers(tmp_path) == []

    npz = np.load(out / "joints.npz")
    assert np.array_equal(npz["joints"], pred.joints)
    assert list(npz["joint_names"]) == list(JOINT_NAMES)
    assert npz["keypoints_2d"].shape == (20, 17, 2) and np.allclose(npz["time_s"][1], 0.04)

    doc = json.loads((out / "joints.json").read_text())
    assert doc["format"] == "dynapose-joints" and doc["units"] == "mm"
    assert doc["joint_names"] == list(JOINT_NAMES) and doc["fps"] == 25.0
    assert doc["crop"]["policy"] == "centre" and doc["crop"]["input_size"] == SIZE
    assert doc["model"]["name"] == "seed" and doc["windows"]["stride"] == 4
    assert len(doc["frames"]) == 20 and doc["frames"][19]["index"] == 19
    assert np.allclose(doc["frames"][5]["joints"], pred.joints[5], atol=0.006)
    assert doc["frames"][5]["box"] == [16.0, 0.0, 96.0, 96.0]
    assert doc == json.loads(json.dumps(pred.to_json()))  # the same document both ways

    with open(out / "joints.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:7] == ["frame", "time_s", "box_x", "box_y", "box_w", "box_h", "pelvis_x_mm"]
    assert len(rows) == 21 and len(rows[1]) == 6 + 51
    assert np.allclose(np.array(rows[8][6:], float), pred.joints[7].ravel(), atol=0.006)

    overlay = list(iter_frames(out / "overlay.mp4"))
    assert len(overlay) == 20 and overlay[0].image.shape == (96, 128, 3)
    plain = [f.image for f in iter_frames(assets["mp4"])]
    kp = pred.keypoints_2d()
    assert np.isfinite(kp).all() and (kp[..., 0] > 0).all() and (kp[..., 0] < 128).all()
    for i in (0, 10, 19):  # the skeleton is drawn: strongly changed pixels near the joints
        changed = np.abs(overlay[i].image.astype(int) - plain[i]).max(axis=-1) > 60
        assert changed.sum() > 30
        ys, xs = np.nonzero(changed)
        assert abs(xs.mean() - kp[i, :, 0].mean()) < 15 and abs(ys.mean() - kp[i, :, 1].mean()) < 15
    assert len(list(iter_frames(out / "skeleton3d.mp4"))) == 20
    html = (out / "viewer.html").read_text()
    assert html.count("data:image/jpeg;base64,") == 20


def test_overlay_projection() -> None:
    joints = np.zeros((1, 17, 3))
    joints[0, :, 2] = 4000.0
    joints[0, 1] = (400.0, -200.0, 4000.0)
    joints[0, 2, 2] = -5.0  # behind the camera: not drawable
    boxes = np.array([[100.0, 50.0, 200.0, 200.0]])
    uv = project_to_frame(joints, boxes)
    f = FOCAL_PER_CROP_SIDE * 200
    assert np.allclose(uv[0, 0], (200, 150))
    assert np.allclose(uv[0, 1], (200 + f * 0.1, 150 - f * 0.05))
    assert np.isnan(uv[0, 2]).all()


def test_short_video_box_and_other_container(assets: dict[str, Path], tmp_path: Path) -> None:
    pred = predict_video(assets["short"], assets["ckpt"], box=(10, 10, 40, 60), detector="auto")
    assert pred.joints.shape == (5, 17, 3) and pred.source == "box"
    assert np.allclose(pred.boxes, [0, 10, 60, 60])
    pred = predict_video(assets["avi"], assets["ckpt"], tmp_path / "o", stride=3,
                         visuals=("viewer",), viewer_frames=5)
    assert pred.joints.shape == (13, 17, 3) and pred.fps == 30.0
    assert {p.name for p in (tmp_path / "o").iterdir()} == {
        "joints.npz", "joints.json", "joints.csv", "viewer.html"}
    assert (tmp_path / "o" / "viewer.html").read_text().count("data:image/jpeg") == 5


def test_mediapipe_detector_is_optional(assets: dict[str, Path]) -> None:
    from dynapose.inference.mediapipe import mediapipe_available

    if mediapipe_available():
        pred = predict_video(assets["short"], assets["ckpt"], detector="mediapipe")
        assert pred.source == "mediapipe" and pred.boxes.shape == (5, 4)
    else:
        with pytest.raises(DynaPoseError, match="mediapipe"):
            predict_video(assets["short"], assets["ckpt"], detector="mediapipe")
        assert predict_video(assets["short"], assets["ckpt"]).source == "centre"


def test_detector_boxes_follow_the_person(assets: dict[str, Path],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The MediaPipe path with MediaPipe's API stood in for by a landmark finder for the bright
    block in the test video (the boxes' logic alone, whether or not MediaPipe is installed)."""
    import sys
    import types
    from types import SimpleNamespace

    calls: list[int] = []

    class Pose:
        def __init__(self, **kwargs: object) -> None:
            assert kwargs["static_image_mode"] is False

        def process(self, image: np.ndarray) -> SimpleNamespace:
            calls.append(1)
            if len(calls) == 1:  # nobody found in the first frame
                return SimpleNamespace(pose_landmarks=None)
            h, w = image.shape[:2]
            cols = np.flatnonzero((image[h // 2, :, 0] > 215) & (image[h // 2, :, 2] > 150))
            rows = np.flatnonzero(image[:, int(cols.mean()), 0] > 215)
            pts = [(cols.min() / w, rows.min() / h), (cols.max() / w, rows.max() / h)]
            landmark = [SimpleNamespace(x=x, y=y) for x, y in pts]
            return SimpleNamespace(pose_landmarks=SimpleNamespace(landmark=landmark))

        def close(self) -> None:
            pass

    pose = types.ModuleType("mediapipe.python.solutions.pose")
    pose.Pose = Pose  # type: ignore[attr-defined]
    solutions = types.ModuleType("mediapipe.python.solutions")
    solutions.pose = pose  # type: ignore[attr-defined]
    for name, module in [("mediapipe", types.ModuleType("mediapipe")),
                         ("mediapipe.python", types.ModuleType("mediapipe.python")),
                         ("mediapipe.python.solutions", solutions),
                         ("mediapipe.python.solutions.pose", pose)]:
        monkeypatch.setitem(sys.modules, name, module)

    pred = predict_video(assets["mp4"], assets["ckpt"], detector="auto")
    assert pred.source == "mediapipe" and len(calls) == 20
    assert np.allclose(pred.boxes[0], centre_square(128, 96))  # before the first detection
    assert (pred.boxes[:, 2] == pred.boxes[:, 3]).all()  # square
    centres = pred.boxes[:, 0] + pred.boxes[:, 2] / 2
    block = np.array([(i * 5) % 108 + 10 for i in range(20)], float)  # the block's true centre
    assert np.abs(centres[8:] - block[8:]).max() < 8  # smoothed, so it lags a little
    assert np.all(np.diff(centres[1:]) > 0)  # it follows the block rightwards


# ------------------------------------------------------------------------- bad input


def _expect_error(tmp_path: Path, video: Path, ckpt: Path, match: str, out: Path | None = None,
                  **kwargs: object) -> None:
    out = out or tmp_path / "out"
    with pytest.raises(DynaPoseError, match=match) as err:
        predict_video(video, ckpt, out, **kwargs)
    assert "\n" not in str(err.value)
    assert not out.exists()
    assert leftovers(out.parent) == [] if out.parent.is_dir() else True


def test_bad_videos(assets: dict[str, Path], tmp_path: Path) -> None:
    ckpt = assets["ckpt"]
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n")
    _expect_error(tmp_path, text, ckpt, "notes.mp4: not a readable video")
    empty = tmp_path / "empty.mkv"
    empty.write_bytes(b"")
    _expect_error(tmp_path, empty, ckpt, "empty.mkv: empty file")
    _expect_error(tmp_path, tmp_path / "missing.mp4", ckpt, "missing.mp4: video not found")

    zero = tmp_path / "zero.mp4"  # a container with a video stream header and no frames
    c = av.open(str(zero), "w")
    s = c.add_stream("libx264", rate=25)
    s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
    c.start_encoding()
    c.close()
    _expect_error(tmp_path, zero, ckpt, "zero.mp4: .*no video")

    good = make_video(tmp_path / "good.mkv", n=20, seed=4)
    data = good.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    _expect_error(tmp_path, cut, ckpt, "cut.mkv: truncated or corrupt")
    cut_mp4 = tmp_path / "cut.mp4"
    cut_mp4.write_bytes(assets["mp4"].read_bytes()[:-3000])
    _expect_error(tmp_path, cut_mp4, ckpt, "cut.mp4: (not a readable|truncated|corrupt)")

    faststart = tmp_path / "faststart.mp4"  # index first, so the cut file still opens
    with av.open(str(faststart), "w", options={"movflags": "+faststart"}) as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 128, 96, "yuv420p"
        for image in frames(40):
            c.mux(s.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        c.mux(s.encode())
    data = faststart.read_bytes()
    cut_fast = tmp_path / "cut-fast.mp4"
    cut_fast.write_bytes(data[: len(data) * 2 // 3])
    _expect_error(tmp_path, cut_fast, ckpt, r"cut-fast\.mp4: truncated .* 'mdat' box runs to byte")

    corrupt = bytearray(assets["mp4"].read_bytes())
    third = len(corrupt) // 3
    noise = np.random.default_rng(1).integers(0, 256, 3000, np.uint8)
    corrupt[third : third + 3000] = noise.tobytes()
    bad = tmp_path / "garbled.mp4"
    bad.write_bytes(bytes(corrupt))
    _expect_error(tmp_path, bad, ckpt, "garbled.mp4: .*corrupt")


def test_bad_checkpoints(assets: dict[str, Path], tmp_path: Path) -> None:
    video = assets["short"]
    _expect_error(tmp_path, video, tmp_path / "nowhere", "nowhere: checkpoint not found")
    other = make_checkpoint(tmp_path / "other")
    cfg = json.loads((other / "config.json").read_text())
    from dynapose.models.seed import spatial_sizes

    assert spatial_sizes(352)[-1] != spatial_sizes(SIZE)[-1]  # so the LSTM's input width differs
    cfg["model"]["config"]["input_size"] = 352  # weights were made for 193
    (other / "config.json").write_text(json.dumps(cfg))
    _expect_error(tmp_path, video, other, "model.safetensors: weight .* shape")
    cfg["model"]["name"] = "no-such-model"
    (other / "config.json").write_text(json.dumps(cfg))
    _expect_error(tmp_path, video, other, "unknown model")
    _expect_error(tmp_path, video, assets["root"], "not a checkpoint")


def test_bad_output_and_options(assets: dict[str, Path], tmp_path: Path) -> None:
    video, ckpt = assets["short"], assets["ckpt"]
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    _expect_error(tmp_path, video, ckpt, "a-file/out: cannot write output",
                  out=blocker / "out")
    if os.geteuid() != 0:  # root ignores directory permissions
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        _expect_error(tmp_path, video, ckpt, "cannot write output", out=locked / "out")
    existing = tmp_path / "exists"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    with pytest.raises(DynaPoseError, match="already exists"):
        predict_video(video, ckpt, existing)
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]
    _expect_error(tmp_path, video, ckpt, "stride", stride=9)
    _expect_error(tmp_path, video, ckpt, "unknown detector", detector="yolo")
    _expect_error(tmp_path, video, ckpt, "unknown visual", visuals=("hologram",))


def test_visual_failure_leaves_nothing(assets: dict[str, Path], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """An error while writing the last output removes everything written before it."""
    from dynapose.viz import viewer

    def broken(*args: object, **kwargs: object) -> str:
        raise DynaPoseError("simulated failure")

    monkeypatch.setattr(viewer, "viewer_html", broken)
    _expect_error(tmp_path, assets["short"], assets["ckpt"], "simulated failure")


# ------------------------------------------------------------------------- command line


def test_cli_predict(assets: dict[str, Path], tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli-out"
    result = runner.invoke(main, ["predict", str(assets["short"]), "--checkpoint",
                                  str(assets["ckpt"]), "--out", str(out), "--no-visuals",
                                  "--box", "0,0,64,64", "--stride", "2"])
    assert result.exit_code == 0, result.output
    assert "5 frames" in result.output and "crop: box" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["joints.csv", "joints.json", "joints.npz"]
    doc = json.loads((out / "joints.json").read_text())
    assert doc["windows"]["stride"] == 2 and doc["frames"][0]["box"] == [0.0, 0.0, 64.0, 64.0]

    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"RIFF....AVI garbage")
    result = runner.invoke(main, ["predict", str(bad), "--checkpoint", str(assets["ckpt"]),
                                  "--out", str(tmp_path / "never")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "bad.avi" in lines[0]
    assert not (tmp_path / "never").exists()


@pytest.mark.slow
def test_bench_predict_small(assets: dict[str, Path]) -> None:
    from dynapose.bench.predict import bench_predict

    result = bench_predict(assets["ckpt"], batch=2, seconds=0.2, video_frames=12,
                           video_size=96, backends=("torch",))
    assert result["model_torch"]["frames_per_s"] > 0
    assert result["end_to_end"]["frames_per_s"] > 0
    assert result["end_to_end_with_visuals"]["frames_per_s"] > 0


# ------------------------------------------------- MediaPipe's native log lines stay out of sight
#: Lines MediaPipe's and TensorFlow Lite's C++ write to file descriptor 2 (absl, TFLite).
NATIVE_LOG = re.compile(r"^(?:[IWE]\d{4} |INFO: Created TensorFlow|WARNING: All log messages)",
                        re.MULTILINE)


def test_native_log_holds_back_only_what_is_written_while_held(
        capfd: pytest.CaptureFixture[str]) -> None:
    import sys

    from dynapose.inference.mediapipe import NativeLog

    log = NativeLog(show=False)
    log.run(os.write, 2, b"W0000 native, first\n", keep=True)  # held on after the call
    os.write(2, b"I0000 native, between\n")
    log.release()
    print("ours, between calls", file=sys.stderr)
    log.run(os.write, 2, b"W0000 native, second\n")
    os.write(2, b"ours, after\n")
    assert capfd.readouterr().err == "ours, between calls\nours, after\n"
    assert log.text() == "W0000 native, first\nI0000 native, between\nW0000 native, second\n"

    def fails() -> None:
        os.write(2, b"E0000 why it failed\n")
        raise RuntimeError("graph failed")

    with pytest.raises(RuntimeError):
        log.run(fails)  # a failure writes out what was held back: its reason is in there
    assert capfd.readouterr().err.endswith("E0000 why it failed\n")
    log.close()
    shown = NativeLog(show=True)  # --debug: nothing held back
    shown.run(os.write, 2, b"W0000 shown\n")
    assert capfd.readouterr().err == "W0000 shown\n" and shown.text() == ""


@pytest.mark.slow
def test_predict_keeps_mediapipe_logs_out_of_the_terminal(tmp_path: Path) -> None:
    """The real detector in a real process: no native log lines on stderr unless --debug, and
    DynaPose's one-line error still gets there."""
    import subprocess
    import sys

    pytest.importorskip("mediapipe")
    skimage_data = pytest.importorskip("skimage.data")
    from dynapose.io.video import write_test_video

    img = skimage_data.astronaut()  # a person facing the camera
    person = write_test_video(tmp_path / "person.mp4", np.stack(
        [np.roll(img, (2 * i, 3 * i), axis=(0, 1)) for i in range(6)]), fps=10.0)
    nobody = make_video(tmp_path / "nobody.mp4", n=4)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[1] / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop("DYNAPOSE_DEBUG", None)

    def run(video: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        args = [sys.executable, "-m", "dynapose", "predict", str(video), "--no-visuals",
                "--out", str(tmp_path / f"{video.stem}-{len(extra)}"), *extra]
        return subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)

    done = run(person)
    assert done.returncode == 0 and "frames without a person" in done.stdout, done.stderr
    assert not NATIVE_LOG.search(done.stderr), done.stderr
    failed = run(nobody)
    assert failed.returncode == 2 and failed.stdout == ""
    assert failed.stderr.splitlines() == [
        f"error: {nobody}: no person found in any of the 4 frames by MediaPipe"]
    debug = run(nobody, "--debug")  # the same as `dynapose --debug predict ...`
    assert debug.returncode == 2 and NATIVE_LOG.search(debug.stderr), debug.stderr
    assert debug.stderr.splitlines()[-1].startswith(f"error: {nobody}: no person found")
