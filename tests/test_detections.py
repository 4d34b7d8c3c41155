"""A detector's 2D keypoints as the lifter's input: reading, lining up with the 3D, evaluating."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from dynapose.cli import main
from dynapose.data.detections import MPII16_TO_H36M, from_mpii16, load_detections
from dynapose.data.lift_motion import load_motion
from dynapose.data.pose_store import PoseStoreWriter
from dynapose.errors import DynaPoseError
from dynapose.evaluation.lifter import evaluate_lifter
from dynapose.io.checkpoint import save_checkpoint
from dynapose.models import build_model
from dynapose.skeleton import JOINT_NAMES

# MPII-16 index of each Human3.6M joint but the neck, written out by hand (the oracle).
_BY_NAME = {"pelvis": 6, "right_hip": 2, "right_knee": 1, "right_ankle": 0, "left_hip": 3,
            "left_knee": 4, "left_ankle": 5, "spine": 7, "thorax": 8, "head": 9,
            "left_shoulder": 13, "left_elbow": 14, "left_wrist": 15, "right_shoulder": 12,
            "right_elbow": 11, "right_wrist": 10}


def to_mpii16(h36m: np.ndarray) -> np.ndarray:
    """Human3.6M-order 2D (T, 17, 2) -> MPII-16 (T, 16, 2), as a detector's file holds it."""
    out = np.zeros((len(h36m), 16, 2))
    for name, index in _BY_NAME.items():
        out[:, index] = h36m[:, JOINT_NAMES.index(name)]
    return out


def _write(folder: Path, name: str, poses: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with h5py.File(folder / name, "w") as f:
        f["poses"] = poses
    return folder / name


def test_mpii16_mapping_and_the_estimated_neck() -> None:
    mpii = np.arange(16 * 2, dtype=np.float64).reshape(1, 16, 2)
    h36m = from_mpii16(mpii)
    for name, index in _BY_NAME.items():
        np.testing.assert_array_equal(h36m[0, JOINT_NAMES.index(name)], mpii[0, index])
    neck = JOINT_NAMES.index("neck")
    np.testing.assert_allclose(h36m[0, neck], (mpii[0, 8] + mpii[0, 9]) / 2)
    assert MPII16_TO_H36M.count(None) == 1
    assert to_mpii16(h36m)[0].tolist() == mpii[0].tolist()


def test_folder_layout_names_and_errors(tmp_path: Path) -> None:
    root = tmp_path / "dets"
    poses = np.random.default_rng(0).uniform(0, 1000, (30, 16, 2))
    _write(root / "S9" / "StackedHourglass", "Walking_1.54138969.h5", poses)
    _write(root / "S9" / "StackedHourglass", "Walking.55011271.h5", poses[:20])
    (root / "S9" / "MyPoses" / "3D_positions").mkdir(parents=True)  # not a detector: ignored
    dets = load_detections(root)
    assert dets.detector == "StackedHourglass"
    px, conf = dets.get("S9", "Walking 1", "54138969", 30)
    np.testing.assert_allclose(px, from_mpii16(poses))
    assert conf is None
    with pytest.raises(DynaPoseError, match="have 20 frames, the 3D sequence 25"):
        dets.get("S9", "Walking", "55011271", 25)
    with pytest.raises(DynaPoseError, match="no detections for S9 'Sitting'"):
        dets.get("S9", "Sitting", "54138969", 30)
    with pytest.raises(DynaPoseError, match="no detections for subject S11"):
        load_detections(root, ["S11"])
    bad = tmp_path / "bad"
    _write(bad / "S1" / "SH", "Walking.99.h5", poses)
    with pytest.raises(DynaPoseError, match="unknown camera '99'") as err:
        load_detections(bad)
    assert "Walking.99.h5" in str(err.value)
    wrong = tmp_path / "wrong"
    _write(wrong / "S1" / "SH", "Walking.54138969.h5", np.zeros((5, 17, 2)))
    with pytest.raises(DynaPoseError, match=r"\(T, 16, 2\) MPII-16"):
        load_detections(wrong)
    nan = tmp_path / "nan"
    holes = poses.copy()
    holes[7, 3] = np.nan
    _write(nan / "S1" / "SH", "Walking.54138969.h5", holes)
    with pytest.raises(DynaPoseError, match="frame 7 holds NaN"):
        load_detections(nan)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DynaPoseError, match="no <subject>/<detector>"):
        load_detections(tmp_path / "empty")
    with pytest.raises(DynaPoseError, match="3d-pose-baseline folder"):
        load_detections(tmp_path / "dets.txt")


def _store_and_detections(tmp_path: Path) -> tuple[Path, Path]:
    """A pose store of procedural motion and a detections folder holding its own 2D (what a
    perfect detector would give, MPII-16 without the neck)."""
    motion = load_motion("synthetic:2:90", ["synth-0"])
    store, dets = tmp_path / "poses", tmp_path / "dets"
    with PoseStoreWriter(store) as w:
        for s in motion.sequences:
            world = motion.world[s["start"]: s["start"] + s["frames"]].astype(np.float64)
            cam = motion.cameras[s["cameras"][0]]
            points = cam.world_to_camera(world)
            px = cam.project(points)
            w.add(points, px, camera=cam, subject="synth-0", action=s["action"], fps=50,
                  split="test")
            name = f"{s['action'].replace(' ', '_')}.{cam.name}.h5"
            _write(dets / "synth-0" / "Perfect", name, to_mpii16(px))
    return store, dets


def test_evaluation_on_detections_names_its_2d(tmp_path: Path) -> None:
    store, dets = _store_and_detections(tmp_path)
    model = build_model("lifter", filter_widths=[3, 3], channels=16)
    truth = evaluate_lifter(model, store, flip_tta=False, device="cpu")
    found = evaluate_lifter(model, store, flip_tta=False, device="cpu", detections=dets)
    assert truth["two_d"] == "ground-truth projection"
    assert found["two_d"].startswith("detections: Perfect")
    assert found["frames"] == truth["frames"] > 0
    # the fit to the 2D's rays trusts the 2D exactly: run on the projection, not on detections
    assert "overall" in truth["fitted"] and set(found["fitted"]) == {"skipped"}
    # the same 2D but for the estimated neck: close, not equal
    a, b = truth["overall"]["mpjpe_p1"], found["overall"]["mpjpe_p1"]
    assert a != b and abs(a - b) < 0.2 * a
    short = tmp_path / "short"
    for file in dets.rglob("*.h5"):
        with h5py.File(file) as f:
            poses = np.asarray(f["poses"])
        _write(short / "synth-0" / "Perfect", file.name, poses[:-3])
    ckpt = save_checkpoint(tmp_path / "ckpt", model)
    report = tmp_path / "report.json"
    res = CliRunner().invoke(main, ["evaluate-lift", "--checkpoint", str(ckpt), "--data",
                                    str(store), "--detections", str(short), "--out",
                                    str(report), "--device", "cpu"])
    assert res.exit_code == 2 and "frames, the 3D sequence 90" in res.output
    assert str(short) in res.output and not report.exists()
    res = CliRunner().invoke(main, ["evaluate-lift", "--checkpoint", str(ckpt), "--data",
                                    str(store), "--detections", str(dets), "--out",
                                    str(report), "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert "detections: Perfect" in report.read_text()
    assert res.output.startswith("2D: detections: Perfect") and "P1 fit" not in res.output
    assert "P1 rigid" in res.output


def test_videopose3d_npz_confidences_reach_a_lifter_that_takes_them(tmp_path: Path) -> None:
    """A third channel in a VideoPose3D npz is the detector's confidence: a lifter built with
    ``confidence: true`` is given it (1.0 is what it sees with ground-truth 2D)."""
    from dynapose.data.h36m_cameras import CAMERA_IDS
    from dynapose.data.pose_store import PoseStore

    store, _ = _store_and_detections(tmp_path)
    poses = PoseStore(store)

    def npz(name: str, confidence: float) -> Path:
        positions: dict[str, dict[str, list[np.ndarray]]] = {"synth-0": {}}
        for i, s in enumerate(poses.sequences):
            px = poses.joints2d(i).astype(np.float64)
            with_conf = np.concatenate([px, np.full((*px.shape[:2], 1), confidence)], axis=-1)
            cams = [np.zeros_like(with_conf) for _ in CAMERA_IDS]
            cams[CAMERA_IDS.index(s["camera"])] = with_conf
            positions["synth-0"][s["action"]] = cams
        path = tmp_path / f"data_2d_h36m_{name}.npz"
        np.savez_compressed(path, positions_2d=positions, metadata={"layout_name": "h36m"})
        return path

    model = build_model("lifter", filter_widths=[3, 3], channels=16, confidence=True)
    truth = evaluate_lifter(model, store, flip_tta=False, device="cpu")
    sure = evaluate_lifter(model, store, flip_tta=False, device="cpu",
                           detections=npz("sure", 1.0))
    unsure = evaluate_lifter(model, store, flip_tta=False, device="cpu",
                             detections=npz("unsure", 0.3))
    assert sure["two_d"].startswith("detections: sure")
    assert sure["overall"]["mpjpe_p1"] == pytest.approx(truth["overall"]["mpjpe_p1"], rel=1e-9)
    assert unsure["overall"]["mpjpe_p1"] != pytest.approx(sure["overall"]["mpjpe_p1"], rel=1e-6)


# -- training on detections ---------------------------------------------------------------

def _h36m_like(tmp_path: Path, perfect: bool = True) -> tuple[Path, Path]:
    """A data_3d_h36m-style npz of procedural motion for S1 and S5 (filmed by their Human3.6M
    cameras) and a 3d-pose-baseline folder of what a perfect detector finds in it."""
    from dynapose.data.h36m_cameras import CAMERA_IDS, camera
    from dynapose.skeleton import H36M_32_TO_17

    motion = load_motion("synthetic:4:60")
    positions: dict[str, dict[str, np.ndarray]] = {"S1": {}, "S5": {}}
    dets = tmp_path / "dets"
    for k, s in enumerate(motion.sequences):
        subject = "S1" if k < 3 else "S5"
        world = motion.world[s["start"]: s["start"] + s["frames"]].astype(np.float64)
        full = np.zeros((len(world), 32, 3))
        full[:, list(H36M_32_TO_17)] = world
        action = s["action"].title()
        positions[subject][action] = (full / 1000).astype(np.float32)
        for cam_id in CAMERA_IDS:
            cam = camera(subject, cam_id)
            px = cam.project(cam.world_to_camera(world))
            _write(dets / subject / "Perfect", f"{action.replace(' ', '_')}.{cam_id}.h5",
                   to_mpii16(px))
    npz = tmp_path / "data_3d_h36m.npz"
    np.savez(npz, positions_3d=np.array(positions, dtype=object))
    return npz, dets


def test_detection_batches_match_the_projection_a_perfect_detector_gives(tmp_path: Path) -> None:
    """Perfect detections give the projected batch's inputs (but for the estimated neck) and
    the same targets, mirrored alike: the 2D about the principal point, the 3D about x = 0."""
    from dynapose.config import load_lift_config
    from dynapose.training.lift_batch import camera_tensors, make_batch, sample_windows
    from dynapose.training.lift_detections import detected_inputs, training_batch

    npz, dets = _h36m_like(tmp_path)
    motion = load_motion(npz, ["S1", "S5"])
    detected = detected_inputs(motion, load_detections(dets, ["S1", "S5"]))
    cams = camera_tensors(motion.cameras)
    not_neck = [j for j in range(17) if JOINT_NAMES[j] != "neck"]
    for flip in (0.0, 1.0):
        config = load_lift_config("lift-quick", overrides={"receptive_field": 27, "flip": flip,
                                                           "train_subjects": ["S1", "S5"],
                                                           "val_subjects": []})
        frame, seq, cam = sample_windows(motion, 64, np.random.default_rng(1))
        projected, target = make_batch(motion, cams, frame, seq, cam, config,
                                       np.random.default_rng(2))
        found, found_target, conf = training_batch(motion, cams, frame, seq, cam, config,
                                                   np.random.default_rng(2), detected=detected,
                                                   share=1.0)
        assert conf is None and found.shape == projected.shape
        # within 0.002 of the normalised width (1 px): the lens's tangential term is not
        # mirror-symmetric
        np.testing.assert_allclose(found[:, :, not_neck], projected[:, :, not_neck], atol=2e-3)
        np.testing.assert_allclose(found_target, target, atol=1e-3)
        assert (found[:, :, JOINT_NAMES.index("neck")]
                - projected[:, :, JOINT_NAMES.index("neck")]).abs().max() > 1e-3


def test_projected_windows_can_carry_a_detectors_error(tmp_path: Path) -> None:
    """detection_errors: a projected window gets a detector's error (detected minus projected
    2D) over a window of the batch, mirrored with it. A detector that puts every joint 10 px
    right of the truth moves every projected joint 10 px right, or left where mirrored."""
    from dynapose.config import load_lift_config
    from dynapose.training.lift_batch import camera_tensors, make_batch, sample_windows
    from dynapose.training.lift_detections import detected_inputs, training_batch

    npz, dets = _h36m_like(tmp_path)
    shifted = tmp_path / "shifted"
    for file in dets.rglob("*.h5"):
        with h5py.File(file) as f:
            poses = np.asarray(f["poses"])
        rel = file.relative_to(dets)
        _write(shifted / rel.parent, rel.name, poses + np.array([10.0, 0.0]))
    motion = load_motion(npz, ["S1", "S5"])
    detected = detected_inputs(motion, load_detections(shifted, ["S1", "S5"]))
    cams = camera_tensors(motion.cameras)
    not_neck = [j for j in range(17) if JOINT_NAMES[j] != "neck"]
    frame, seq, cam = sample_windows(motion, 64, np.random.default_rng(1))
    for flip, sign in ((0.0, 1.0), (1.0, -1.0)):
        still = {"receptive_field": 27, "flip": flip, "yaw_deg": 0.0, "bone_scale": 0.0,
                 "body_scale": 0.0, "noise_px": 0.0, "train_subjects": ["S1", "S5"],
                 "val_subjects": []}
        plain = load_lift_config("lift-quick", overrides=still)
        noisy = load_lift_config("lift-quick", overrides={**still, "detection_errors": 1.0})
        projected, _ = make_batch(motion, cams, frame, seq, cam, plain,
                                  np.random.default_rng(2))
        for config, shift in ((plain, 0.0), (noisy, sign * 20 / 1000)):  # 10 px of 1000
            inputs, _, _ = training_batch(motion, cams, frame, seq, cam, config,
                                          np.random.default_rng(3), detected=detected,
                                          share=0.0)
            moved = (inputs - projected)[:, :, not_neck]
            np.testing.assert_allclose(moved[..., 0], shift, atol=1e-4)
            np.testing.assert_allclose(moved[..., 1], 0.0, atol=1e-4)
        # validation windows never carry it
        inputs, _, _ = training_batch(motion, cams, frame, seq, cam, noisy,
                                      np.random.default_rng(3), detected=detected, share=0.0,
                                      augment=False)
        clean, _ = make_batch(motion, cams, frame, seq, cam, noisy, np.random.default_rng(2),
                              augment=False)
        np.testing.assert_allclose(inputs, clean)


def test_train_lift_on_detections_end_to_end_and_its_bad_input(tmp_path: Path) -> None:
    npz, dets = _h36m_like(tmp_path)
    base = ["train-lift", "--data", str(npz), "--detections", str(dets), "--preset",
            "lift-quick", "--train-subjects", "S1", "--val-subjects", "S5", "--device", "cpu",
            "--quiet", "--samples-per-epoch", "512", "--epochs", "1"]
    run = tmp_path / "run"
    res = CliRunner().invoke(main, [*base, "--out", str(run), "--detection-share", "0.5"])
    assert res.exit_code == 0, res.output
    report = (run / "eval.json").read_text()
    assert "detections: Perfect" in report
    assert "Perfect" in (run / "checkpoint" / "config.json").read_text()
    assert str(dets) in (run / "run.json").read_text()

    # a run resumes on the 2D input it began with
    res = CliRunner().invoke(main, [*[a for a in base if a not in ("--detections", str(dets))],
                                    "--out", str(run), "--resume", "--detection-share", "0.5"])
    assert res.exit_code == 2 and "resume with --detections" in res.output, res.output

    def refused(detections: Path, match: str, *extra: str) -> None:
        out = tmp_path / f"out-{detections.name}"
        args = [a if a != str(dets) else str(detections) for a in base]
        res = CliRunner().invoke(main, [*args, *extra, "--out", str(out)])
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert res.exit_code == 2 and len(lines) == 1, res.output
        assert match in lines[0] and str(detections) in lines[0], lines[0]
        assert not out.exists()

    def variant(name: str, change: Any) -> Path:
        root = tmp_path / name
        for file in dets.rglob("*.h5"):
            with h5py.File(file) as f:
                poses = np.asarray(f["poses"])
            rel = file.relative_to(dets)
            result = change(rel, poses)
            if result is not None:
                _write(root / rel.parent, rel.name, result)
        return root

    refused(variant("short", lambda rel, p: p[:-2]), "frames, the 3D sequence 60")
    refused(variant("joints", lambda rel, p: np.zeros((len(p), 17, 2))), "MPII-16")
    with_nan = variant("nan", lambda rel, p: np.where(np.arange(len(p))[:, None, None] == 5,
                                                      np.nan, p))
    refused(with_nan, "frame 5 holds NaN")
    refused(variant("nos5", lambda rel, p: None if rel.parts[0] == "S5" else p),
            "no detections for subject S5")
    refused(variant("nowalk", lambda rel, p: None if rel.name.startswith("Walk") else p),
            "no detections for S1 'Walk 0'")
    renamed = variant("badcam", lambda rel, p: p)
    first = next(renamed.rglob("*.h5"))
    first.rename(first.with_name(first.name.split(".")[0] + ".12345678.h5"))
    refused(renamed, "unknown camera")


def _without(dets: Path, root: Path, *gone: str) -> Path:
    """A copy of the detections folder `dets` at `root` without the files named `gone`."""
    for file in dets.rglob("*.h5"):
        if file.name not in gone:
            with h5py.File(file) as f:
                poses = np.asarray(f["poses"])
            rel = file.relative_to(dets)
            _write(root / rel.parent, rel.name, poses)
    return root


def test_a_camera_without_detections_is_left_out_of_its_sequence(tmp_path: Path) -> None:
    """Human3.6M's public release has no Stacked-Hourglass file for S11 'Directions' camera
    54138969: such a camera is left out of that sequence (one line, counted in run.json and the
    report), the other cameras' detections still line up with their slots, and training runs."""
    from dynapose.config import load_lift_config
    from dynapose.training.lift_batch import camera_tensors, make_batch, sample_windows
    from dynapose.training.lift_detections import (
        detected_cameras,
        detected_inputs,
        training_batch,
    )

    npz, dets = _h36m_like(tmp_path)
    # the first camera of S1's 'Run 1' (later slots move up one) and one of S5's 'Squat 3'
    partial = _without(dets, tmp_path / "partial", "Run_1.54138969.h5", "Squat_3.58860488.h5")
    found = load_detections(partial, ["S1", "S5"])
    with pytest.raises(DynaPoseError, match="no detections for S1 'Run 1' camera 54138969"):
        found.get("S1", "Run 1", "54138969", 60)  # asked for by name, still an error
    motion, left_out = detected_cameras(load_motion(npz, ["S1", "S5"]), found)
    assert left_out == [("S1", "Run 1", "54138969"), ("S5", "Squat 3", "58860488")]
    assert [[motion.cameras[c].name for c in s["cameras"]] for s in motion.sequences
            if s["action"] == "Run 1"] == [["55011271", "58860488", "60457274"]]
    assert found.left_out("S1", "Run 1", "54138969") == (
        "detections: no file for S1 'Run 1' camera 54138969: that camera is left out of the "
        "sequence")
    # a perfect detector's windows still match the projection: slot k is the k-th camera kept
    detected = detected_inputs(motion, found)
    cams = camera_tensors(motion.cameras)
    config = load_lift_config("lift-quick", overrides={"receptive_field": 27, "flip": 0.0,
                                                       "train_subjects": ["S1", "S5"],
                                                       "val_subjects": []})
    frame, seq, cam = sample_windows(motion, 256, np.random.default_rng(1))
    assert not any(motion.sequences[q]["action"] == "Run 1" and motion.cameras[c].name ==
                   "54138969" for q, c in zip(seq, cam, strict=True))
    projected, _ = make_batch(motion, cams, frame, seq, cam, config, np.random.default_rng(2))
    inputs, _, _ = training_batch(motion, cams, frame, seq, cam, config, np.random.default_rng(2),
                                  detected=detected, share=1.0)
    not_neck = [j for j in range(17) if JOINT_NAMES[j] != "neck"]
    np.testing.assert_allclose(inputs[:, :, not_neck], projected[:, :, not_neck], atol=2e-3)

    run = tmp_path / "run"
    res = CliRunner().invoke(main, [
        "train-lift", "--data", str(npz), "--detections", str(partial), "--preset", "lift-quick",
        "--train-subjects", "S1", "--val-subjects", "S5", "--device", "cpu", "--quiet",
        "--samples-per-epoch", "512", "--epochs", "1", "--out", str(run)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    for subject, action, camera in left_out:
        assert lines.count(found.left_out(subject, action, camera)) == 1, res.output
    record = json.loads((run / "run.json").read_text())["detections_left_out"]
    assert record == {"count": 2, "sequence_cameras": ["S1 'Run 1' camera 54138969",
                                                       "S5 'Squat 3' camera 58860488"]}
    report = json.loads((run / "eval.json").read_text())
    assert report["detections_left_out"] == {"count": 1,
                                             "sequence_cameras": ["S5 'Squat 3' camera 58860488"]}
    assert report["sequences"] == 3  # S5's one sequence, by its three other cameras
    assert ("left out, no detections: 1 sequence-camera(s): S5 'Squat 3' camera 58860488"
            in lines)


def test_a_subject_or_sequence_without_detections_is_still_an_error(tmp_path: Path) -> None:
    npz, dets = _h36m_like(tmp_path)
    base = ["train-lift", "--data", str(npz), "--preset", "lift-quick", "--train-subjects", "S1",
            "--val-subjects", "S5", "--device", "cpu", "--quiet", "--samples-per-epoch", "512",
            "--epochs", "1"]
    squat = [f"Squat_3.{c}.h5" for c in ("54138969", "55011271", "58860488", "60457274")]
    walk = [f"Walk_0.{c}.h5" for c in ("54138969", "55011271", "58860488", "60457274")]
    for name, gone, match in (("nos5", squat, "no detections for subject S5"),
                              ("nowalk", walk, "no detections for S1 'Walk 0' from any camera")):
        folder = _without(dets, tmp_path / name, *gone)
        out = tmp_path / f"out-{name}"
        res = CliRunner().invoke(main, [*base, "--detections", str(folder), "--out", str(out)])
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert res.exit_code == 2 and len(lines) == 1, res.output
        assert match in lines[0] and str(folder) in lines[0], lines[0]
        assert not out.exists()
    # evaluation alike: a sequence with no detections at all is refused
    model = build_model("lifter", filter_widths=[3, 3], channels=16)
    with pytest.raises(DynaPoseError, match="no detections for S1 'Walk 0' from any camera"):
        evaluate_lifter(model, npz, ["S1"], flip_tta=False, device="cpu",
                        detections=tmp_path / "nowalk")


def test_detection_quality_benchmark_measures_the_detectors_distance(tmp_path: Path) -> None:
    """benchmarks/detection_quality.py: a perfect detector is 0 px from the projection on every
    detected joint; only the estimated neck/nose is off; moving one joint shows in its row."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "detection_quality", Path(__file__).parents[1] / "benchmarks" / "detection_quality.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    store, dets = _store_and_detections(tmp_path)
    rows = bench.sequence_errors(str(store), str(dets), ["synth-0"])
    assert rows and all(r[0] == "synth-0" for r in rows)
    errors = np.concatenate([r[2] for r in rows])
    heights = np.concatenate([r[3] for r in rows])
    neck = JOINT_NAMES.index("neck")
    assert np.delete(errors, neck, axis=1).max() < 1e-3 and errors[:, neck].mean() > 1
    assert bench.summary(errors, heights)["px"] < 1e-3
    for file in dets.rglob("*.h5"):  # the detector puts the right wrist 10 px to the right
        with h5py.File(file, "r+") as f:
            f["poses"][:, 10, 0] += 10.0
    rows = bench.sequence_errors(str(store), str(dets), ["synth-0"])
    wrist = np.concatenate([r[2] for r in rows])[:, JOINT_NAMES.index("right_wrist")]
    np.testing.assert_allclose(wrist, 10.0, atol=1e-3)
