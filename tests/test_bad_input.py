"""Bad input, one class at a time: every case stops with one line, ``error: <file>: <problem>``,
exit status 2, nothing half-written, and no code from a crafted file run (docs/errors.md).

Each class of issue 16 has a test here; the readers' random corruption is tests/test_fuzz_readers.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file, save_file

from _predict_helpers import SIZE, make_checkpoint, make_video
from conftest import make_store
from dynapose.cli import main
from dynapose.cli.main import _Group
from dynapose.errors import DynaPoseError
from dynapose.io.atomic import atomic_dir, check_output
from dynapose.io.checkpoint import load_checkpoint, save_checkpoint
from dynapose.models import build_model

MARKER = "DYNAPOSE_PAYLOAD_RAN"


# ------------------------------------------------------------------------------- the harness


def run(args: Sequence[str], env: dict[str, str] | None = None) -> Any:
    """Invoke the CLI in-process; return click's result (stdout, stderr, exit_code)."""
    return CliRunner(env=env).invoke(main, [str(a) for a in args])


def assert_one_line_error(result: Any, *fragments: str) -> str:
    """Exit status 2, no traceback, and exactly one ``error:`` line holding `fragments`."""
    err = result.stderr
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output and "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return errors[0]


def hidden(folder: Path) -> list[str]:
    """Temporary or partial files left in `folder` (names starting with a dot)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small valid inputs every test corrupts a copy of."""
    root = tmp_path_factory.mktemp("bad")
    torch.manual_seed(0)
    lifter = build_model("lifter", filter_widths=[1, 1, 1], channels=8)
    x = np.zeros((2, 8, SIZE, SIZE, 3), np.uint8)
    np.save(root / "X.npy", x)
    np.save(root / "Y.npy", np.zeros((2, 8, 17, 3), np.float32))
    (root / "a_file").write_text("not a folder\n")
    world = np.random.default_rng(0).normal(0, 0.3, (30, 32, 3)) + np.array([0, 0, 1.0])
    np.savez(root / "motion.npz", positions_3d=np.array(
        {"S1": {"Walking": world.astype(np.float32)}}, dtype=object))
    return {
        "root": root,
        "store": make_store(root / "store", n=6, size=SIZE),
        "ckpt": make_checkpoint(root / "ckpt"),
        "lifter": save_checkpoint(root / "lifter", lifter),
        "video": make_video(root / "v.mp4", n=10),
        "X": root / "X.npy", "Y": root / "Y.npy",
        "a_file": root / "a_file",
        "motion": root / "motion.npz",
    }


def copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


class Replace:
    """Returned by a change to replace the whole JSON value (others change it in place)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def edit_json(path: Path, change: Callable[[Any], Any]) -> None:
    data = json.loads(path.read_text())
    new = change(data)
    path.write_text(json.dumps(new.value if isinstance(new, Replace) else data))


# ------------------------------------------ 1. an output path under a regular file, checked first


def _output_commands(kit: dict[str, Path]) -> dict[str, list[Any]]:
    bad = kit["a_file"] / "out"
    return {
        "import-arrays": ["import-arrays", kit["X"], kit["Y"], "--out", bad],
        "import-keras": ["import-keras", kit["X"], "--out", bad],
        "synth": ["synth", "--out", bad, "--clips", 2],
        "prepare": ["prepare", "h36m", kit["root"], "--out", bad],
        "train": ["train", "--data", kit["store"], "--out", bad, "--input-size", SIZE],
        "train-lift": ["train-lift", "--data", "synthetic:2:60", "--out", bad],
        "evaluate": ["evaluate", "--checkpoint", kit["ckpt"], "--data", kit["store"], "-o",
                     kit["a_file"] / "r.json"],
        "evaluate-lift": ["evaluate-lift", "--checkpoint", kit["lifter"], "--data",
                          kit["motion"], "-o", kit["a_file"] / "r.json"],
        "predict": ["predict", kit["video"], "--checkpoint", kit["ckpt"], "--out", bad],
        "export": ["export", "--checkpoint", kit["ckpt"], "--onnx", kit["a_file"] / "m.onnx"],
    }


@pytest.mark.parametrize("command", ["import-arrays", "import-keras", "synth", "prepare", "train",
                                     "train-lift", "evaluate", "evaluate-lift", "predict",
                                     "export"])
def test_output_under_a_regular_file_is_refused_before_any_work(kit: dict[str, Path],
                                                               command: str) -> None:
    result = run(_output_commands(kit)[command])
    assert_one_line_error(result, str(kit["a_file"]), "is not a folder")
    assert hidden(kit["root"]) == []


def test_check_output_kinds(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    (tmp_path / "d").mkdir()
    with pytest.raises(DynaPoseError, match="is a folder"):
        check_output(tmp_path / "d", folder=False, overwrite=True)
    with pytest.raises(DynaPoseError, match="is not a folder"):
        check_output(tmp_path / "f", folder=True, overwrite=True)
    with pytest.raises(DynaPoseError, match="already exists"):
        check_output(tmp_path / "f", folder=False)
    assert check_output(tmp_path / "new" / "deeper", folder=True) == tmp_path / "new" / "deeper"
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        with pytest.raises(DynaPoseError, match="not writable"):
            check_output(ro / "x", folder=False)


# ---------------------------------------------------- 2. model settings of the wrong value or type


def test_train_input_size_too_small(kit: dict[str, Path], tmp_path: Path) -> None:
    result = run(["train", "--data", kit["store"], "--out", tmp_path / "run", "--input-size", 64])
    assert_one_line_error(result, "input_size 64 is too small")
    assert not (tmp_path / "run").exists()


def test_train_yaml_naming_the_lifter(kit: dict[str, Path], tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: lifter\n")
    result = run(["train", "--data", kit["store"], "--out", tmp_path / "run", "--config", cfg])
    assert_one_line_error(result, str(cfg), "'lifter' is not an image model")


CHECKPOINT_CONFIGS: dict[str, tuple[str, Callable[[dict[str, Any]], Any], str]] = {
    "extra key": ("ckpt", lambda c: c["model"]["config"].update(extra=1), "unknown key"),
    "config is a list": ("ckpt", lambda c: c["model"].update(config=[224]), "expected a mapping"),
    "input_size string": ("ckpt", lambda c: c["model"]["config"].update(input_size="224"),
                          "model.config.input_size: expected an integer, found str"),
    "input_size 64": ("ckpt", lambda c: c["model"]["config"].update(input_size=64),
                      "too small"),
    "huge model": ("ckpt", lambda c: c["model"]["config"].update(input_size=100_000),
                   "parameters"),
    "unknown model": ("ckpt", lambda c: c["model"].update(name="resnet"), "unknown model"),
    "lifter channels x": ("lifter", lambda c: c["model"]["config"].update(channels="x"),
                          "channels: expected an integer"),
    "lifter even width": ("lifter", lambda c: c["model"]["config"].update(filter_widths=[3, 4]),
                          "odd"),
    "lifter 5 joints": ("lifter", lambda c: c["model"]["config"].update(num_joints=5),
                        "num_joints"),
    "mean pose ragged": ("ckpt", lambda c: c["info"].update(mean_pose=[[1, 2]]), "mean_pose"),
    "config.json a list": ("ckpt", lambda c: Replace([c]), "not a DynaPose checkpoint"),
}


@pytest.mark.parametrize("case", list(CHECKPOINT_CONFIGS))
def test_checkpoint_config_of_the_wrong_type_or_value(kit: dict[str, Path], tmp_path: Path,
                                                      case: str) -> None:
    which, change, message = CHECKPOINT_CONFIGS[case]
    ckpt = copy(kit[which], tmp_path / "ckpt")
    edit_json(ckpt / "config.json", change)
    with pytest.raises(DynaPoseError, match=message) as info:
        load_checkpoint(ckpt)
    assert str(ckpt / "config.json") in str(info.value)
    if which == "ckpt":  # and the command line says the same in one line
        out = tmp_path / "pred"
        result = run(["predict", kit["video"], "--checkpoint", ckpt, "--out", out])
        assert_one_line_error(result, str(ckpt / "config.json"))
        assert not out.exists() and hidden(tmp_path) == []


# ----------------------------------------------------------------- 3. YAML values of the wrong type


YAML_CASES = [
    ("train", "epochs: five\n", "epochs: expected an integer, found str 'five'"),
    ("train", 'batch_size: "4"\n', "batch_size: expected an integer, found str '4'"),
    ("train", "epochs: 1.5\n", "epochs: expected an integer, found float 1.5"),
    ("train", "model_config: abc\n", "model_config: expected a mapping, found str"),
    ("train", "lr: .inf\n", "lr: expected a number (finite), found float inf"),
    ("train", "lr: .nan\n", "lr: expected a number (finite)"),
    ("train", "normalize_targets: 1\n", "normalize_targets: expected true or false"),
    ("train", "model_config: {input_size: 64}\n", "too small"),
    ("train", "model_config: {foo: 1}\n", "unknown key(s) model_config.foo"),
    ("train", "model: nope\n", "'nope' is not an image model"),
    ("train", "- a list\n", "must hold a mapping"),
    ("train", "epochs: [\n", "invalid YAML"),
    ("train-lift", "lr: fast\n", "lr: expected a number, found str 'fast'"),
    ("train-lift", "train_subjects: S1\n", "train_subjects: expected a list of strings"),
    ("train-lift", "val_subjects: [1, 2]\n", "val_subjects: expected a list of strings"),
    ("train-lift", "frame_stride: 100000\n", "span more than"),
    ("train-lift", "channels: 100000000\n", "parameters"),
    ("train-lift", "receptive_field: 9\n", "receptive_field must be"),
    ("train-lift", "recombine: 1.5\n", "recombine must be in [0, 1]"),
    ("train-lift", "recombine: .nan\n", "recombine: expected a number (finite)"),
]


@pytest.mark.parametrize(("command", "text", "message"), YAML_CASES)
def test_settings_file_of_the_wrong_type(kit: dict[str, Path], tmp_path: Path, command: str,
                                         text: str, message: str) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    data = kit["store"] if command == "train" else "synthetic:2:60"
    out = tmp_path / "run"
    result = run([command, "--data", data, "--out", out, "--config", cfg])
    assert_one_line_error(result, str(cfg), message)
    assert not out.exists()


# -------------------------------------------------------------- 4. NaN and infinity reaching maths


def test_store_whose_labels_are_nan_is_refused_before_the_run_starts(kit: dict[str, Path],
                                                                     tmp_path: Path) -> None:
    store = copy(kit["store"], tmp_path / "store")
    chunk = store / "joints3d-00001.f32"
    values = np.fromfile(chunk, np.float32)
    values[100] = np.nan
    values.tofile(chunk)
    out = tmp_path / "run"
    result = run(["train", "--data", store, "--out", out, "--input-size", SIZE, "--quiet"])
    assert_one_line_error(result, str(chunk), "clip 5", "NaN")
    assert not out.exists()
    result = run(["evaluate", "--checkpoint", kit["ckpt"], "--data", store, "--split", "all",
                  "-o", tmp_path / "r.json"])
    assert_one_line_error(result, "NaN")
    assert not (tmp_path / "r.json").exists()


def test_diverging_training_stops_naming_the_step(kit: dict[str, Path], tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("lr: 1.0e+30\nbatch_size: 2\nepochs: 1\nworkers: 0\nthreads: 1\n")
    out = tmp_path / "run"
    result = run(["train", "--data", kit["store"], "--out", out, "--config", cfg,
                  "--input-size", SIZE, "--quiet"])
    assert_one_line_error(result, "training diverged", "epoch 1, step")
    assert not out.exists()  # nothing of the failed fresh run stays


def test_checkpoint_with_nan_weights_is_refused(kit: dict[str, Path], tmp_path: Path) -> None:
    ckpt = copy(kit["ckpt"], tmp_path / "ckpt")
    state = load_file(ckpt / "model.safetensors")
    state["dense2.bias"][3] = float("nan")
    save_file(state, ckpt / "model.safetensors")
    result = run(["evaluate", "--checkpoint", ckpt, "--data", kit["store"],
                  "-o", tmp_path / "r.json"])
    assert_one_line_error(result, "model.safetensors", "dense2.bias", "NaN")
    # 9. predict used to write all-NaN joints marked valid
    result = run(["predict", kit["video"], "--checkpoint", ckpt, "--out", tmp_path / "p"])
    assert_one_line_error(result, "dense2.bias")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_npz_with_nan_frames_in_evaluate_lift(kit: dict[str, Path], tmp_path: Path) -> None:
    world = np.zeros((30, 32, 3), np.float32)
    world[7] = np.nan
    npz = tmp_path / "nan.npz"
    np.savez(npz, positions_3d=np.array({"S1": {"Walking": world}}, dtype=object))
    result = run(["evaluate-lift", "--checkpoint", kit["lifter"], "--data", npz, "--subjects",
                  "S1", "-o", tmp_path / "r.json"])
    assert_one_line_error(result, str(npz), "NaN", "frame 7")
    assert not (tmp_path / "r.json").exists()


def test_lr_inf_on_the_command_line_and_in_python(kit: dict[str, Path], tmp_path: Path) -> None:
    result = run(["train", "--data", kit["store"], "--out", tmp_path / "r", "--lr", "inf"])
    assert result.exit_code == 2 and "not a finite number" in result.output
    from dynapose.config import TrainConfig

    with pytest.raises(DynaPoseError, match="lr: expected a number"):
        TrainConfig(lr=float("inf")).validate()


# --------------------------------------------------------------------- 5. store manifests that lie


MANIFESTS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "num_clips missing": (lambda m: m.pop("num_clips"), "lacks num_clips"),
    "num_clips a string": (lambda m: m.update(num_clips="6"), "num_clips: expected an integer"),
    "a list": (lambda m: Replace([m]), "not a clip store manifest"),
    "chunks of strings": (lambda m: m.update(chunks=["5", "1"]), "chunks: expected a list"),
    "chunks that do not add up": (lambda m: m.update(chunks=[5, 2]), "do not add up"),
    "height huge": (lambda m: m.update(height=10**12), "truncated or corrupt"),
    "joints2d a string": (lambda m: m.update(joints2d="no"), "joints2d: expected true or false"),
    "zero clips": (lambda m: m.update(num_clips=0, chunks=[]), ">= 1"),
    "uneven chunks": (lambda m: m.update(chunks=[1, 5]), "full chunks"),
}


@pytest.mark.parametrize("case", list(MANIFESTS))
def test_store_manifest_with_a_missing_or_wrong_field(kit: dict[str, Path], tmp_path: Path,
                                                      case: str) -> None:
    change, message = MANIFESTS[case]
    store = copy(kit["store"], tmp_path / "store")
    edit_json(store / "manifest.json", change)
    result = run(["train", "--data", store, "--out", tmp_path / "run", "--input-size", SIZE])
    assert_one_line_error(result, str(store), message)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m.update(split=["bogus"] * 6), "'bogus'"),
    (lambda m: m.update(subject=["S1"]), "not a list of 6 values"),
    (lambda m: Replace([1, 2]), "must be a mapping"),
    (lambda m: m.pop("split"), "no 'split' column"),
])
def test_store_metadata_that_lies(kit: dict[str, Path], tmp_path: Path, change: Any,
                                  message: str) -> None:
    from dynapose.data.store import ClipStore

    store = copy(kit["store"], tmp_path / "store")
    edit_json(store / "clips.json", change)
    with pytest.raises(DynaPoseError, match=message):
        ClipStore(store)


def test_pose_store_manifest_that_lies(tmp_path: Path) -> None:
    from dynapose.camera import Camera
    from dynapose.data.pose_store import PoseStore, PoseStoreWriter

    cam = Camera(R=np.eye(3), T=np.zeros(3), f=np.array([1000.0, 1000.0]),
                 c=np.array([500.0, 500.0]), k=np.zeros(3), p=np.zeros(2), width=1000,
                 height=1000, name="c0")
    with PoseStoreWriter(tmp_path / "poses") as w:
        w.add(np.ones((4, 17, 3)) + np.array([0, 0, 3000.0]), np.ones((4, 17, 2)), camera=cam,
              subject="S1", action="Walking", fps=50)
    store = tmp_path / "poses"
    assert PoseStore(store).joints3d(0).shape == (4, 17, 3)
    edit_json(store / "manifest.json", lambda m: m["sequences"][0].update(frames="4"))
    with pytest.raises(DynaPoseError, match=r"sequences\[0\].frames: expected an integer"):
        PoseStore(store)
    edit_json(store / "manifest.json", lambda m: m["sequences"][0].update(frames=4, R=[[1]]))
    with pytest.raises(DynaPoseError, match=r"sequences\[0\].R"):
        PoseStore(store)
    edit_json(store / "manifest.json", lambda m: m["sequences"][0].update(R=np.eye(3).tolist()))
    arr = np.load(store / "00000.joints3d.npy")
    arr[1, 2, 0] = np.inf
    np.save(store / "00000.joints3d.npy", arr)
    with pytest.raises(DynaPoseError, match="not all finite"):
        PoseStore(store).joints3d(0)


# ---------------------------------------------------------------------------- 6. keypoint files


def _npz_with_pickle(path: Path, key: str, payload: bytes, extra: dict[str, bytes] | None = None
                     ) -> Path:
    """An .npz whose `key` is a 0-d object array holding the raw pickle `payload`."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False,
                                               "shape": ()})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{key}.npy", buf.getvalue() + payload)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return path


class _Huge:
    def __reduce__(self) -> Any:
        return (np.ndarray, ((10**13,),))


class _HugeState:
    def __reduce__(self) -> Any:
        from numpy._core.multiarray import _reconstruct

        return (_reconstruct, (np.ndarray, (0,), b"b"),
                (1, (10**12,), np.dtype("f8"), False, b"\0" * 8))


class _Payload:
    def __reduce__(self) -> Any:
        return (os.system, (f"touch {MARKER}",))


class _Codec:
    def __reduce__(self) -> Any:
        import _codecs

        return (_codecs.encode, ("ab" * 10, "hex"))


def _saved(value: Any) -> bytes:
    buf = io.BytesIO()
    np.save(buf, value, allow_pickle=True)
    return buf.getvalue()


def _keypoint_files(root: Path) -> dict[str, tuple[Path, str]]:
    """Bad keypoint files, each with the words its error must hold."""
    files: dict[str, tuple[Path, str]] = {}
    strings = np.array({"S1": {"Walking": [np.full((5, 17, 2), "x")]}}, dtype=object)
    meta = np.array({"layout_name": "h36m"}, dtype=object)
    np.savez(root / "strings.npz", positions_2d=strings, metadata=meta)
    files["VideoPose3D string arrays"] = (root / "strings.npz", "arrays of numbers")
    files["pickle builds ndarray((10**13,))"] = (
        _npz_with_pickle(root / "huge.npz", "positions_2d", pickle.dumps(_Huge(), protocol=2),
                         {"metadata.npy": _saved(meta)}), "refused numpy.ndarray")
    files["pickle state claims 8 TB"] = (
        _npz_with_pickle(root / "state.npz", "positions_2d",
                         pickle.dumps(_HugeState(), protocol=2),
                         {"metadata.npy": _saved(meta)}), "does not match the data")
    files["pickle runs a command"] = (
        _npz_with_pickle(root / "payload.npz", "positions_2d",
                         pickle.dumps(_Payload(), protocol=2),
                         {"metadata.npy": _saved(meta)}), "not plain data")
    files["pickle doubles a string"] = (
        _npz_with_pickle(root / "codec.npz", "positions_2d", pickle.dumps(_Codec(), protocol=2),
                         {"metadata.npy": _saved(meta)}), "refused _codecs.encode")
    coco = [{"image_id": i, "category_id": 1, "keypoints": [1.0] * 51} for i in (0, 10**12)]
    (root / "far.json").write_text(json.dumps(coco))
    files["COCO ids 0 and 10**12"] = (root / "far.json", "more than")
    with open(root / "lies.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False,
                                                 "shape": (10**12, 17, 2)})
        f.write(b"\0" * 64)
    files[".npy header claims 272 TB"] = (root / "lies.npy", "truncated or corrupt")
    with zipfile.ZipFile(root / "lies.npz", "w") as z:
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                                   "shape": (10**12, 17, 2)})
        z.writestr("keypoints.npy", buf.getvalue() + b"\0" * 64)
    files[".npz member claims 272 TB"] = (root / "lies.npz", "truncated or corrupt")
    (root / "text.npy").write_text("0.5, 0.5\n")
    files["text file named .npy"] = (root / "text.npy", "not a .npy array")
    np.save(root / "object.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    files["object .npy"] = (root / "object.npy", "pickled (object) data")
    (root / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    files["JSON nested 100,000 deep"] = (root / "deep.json", "nested too deeply")
    coco_str = [{"image_id": [1], "category_id": 1, "keypoints": [1.0] * 51}]
    (root / "ids.json").write_text(json.dumps(coco_str))
    files["COCO image_id a list"] = (root / "ids.json", "expected an int or str")
    return files


KEYPOINT_CASES = ["VideoPose3D string arrays", "pickle builds ndarray((10**13,))",
                  "pickle state claims 8 TB", "pickle runs a command", "pickle doubles a string",
                  "COCO ids 0 and 10**12", ".npy header claims 272 TB",
                  ".npz member claims 272 TB", "text file named .npy", "object .npy",
                  "JSON nested 100,000 deep", "COCO image_id a list"]


@pytest.mark.parametrize("case", KEYPOINT_CASES)
def test_bad_keypoint_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    from dynapose.data.keypoints import read_keypoints_file

    monkeypatch.chdir(tmp_path)
    path, message = _keypoint_files(tmp_path)[case]
    with pytest.raises(DynaPoseError, match=re.escape(message)) as info:
        read_keypoints_file(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / MARKER).exists()


def test_bad_keypoints_through_predict(kit: dict[str, Path], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    files = _keypoint_files(tmp_path)
    for case in ("pickle runs a command", ".npy header claims 272 TB"):
        out = tmp_path / "out"
        result = run(["predict", kit["video"], "--lifter", kit["lifter"], "--keypoints",
                      files[case][0], "--out", out])
        assert_one_line_error(result, str(files[case][0]), files[case][1])
        assert not out.exists() and not (tmp_path / MARKER).exists()


def test_zip_entry_without_npy_suffix_is_read(tmp_path: Path) -> None:
    from dynapose.data.keypoints import read_keypoints_file

    positions = np.array({"S1": {"custom": [np.ones((5, 17, 2))]}}, dtype=object)
    meta = np.array({"layout_name": "h36m"}, dtype=object)
    with zipfile.ZipFile(tmp_path / "k.npz", "w") as z:
        z.writestr("positions_2d", _saved(positions))
        z.writestr("metadata", _saved(meta))
    kp = read_keypoints_file(tmp_path / "k.npz")
    assert kp.pixels.shape == (5, 17, 2) and kp.num_found == 5


# --------------------------------------------------------------------------------------- 7. BVH


@pytest.mark.parametrize(("frame_time", "message"), [
    ("1000000", "not a motion-capture rate"), ("1e-9", "not a motion-capture rate"),
    ("nan", "non-finite"), ("-1", "positive")])
def test_bvh_frame_time_out_of_range(tmp_path: Path, frame_time: str, message: str) -> None:
    from test_bvh import cmu_text, walking_frames

    bvh = tmp_path / "walk.bvh"
    bvh.write_text(cmu_text(walking_frames(12), frame_time=1 / 120).replace(
        f"Frame Time: {1 / 120}", f"Frame Time: {frame_time}"))
    out = tmp_path / "store"
    result = run(["synth", "--out", out, "--clips", 2, "--motions", bvh, "--quiet"])
    assert_one_line_error(result, str(bvh), message)
    assert not out.exists() and hidden(tmp_path) == []


def test_bvh_resampled_length_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dynapose.data.synthetic import synth
    from test_bvh import cmu_text, walking_frames

    bvh = tmp_path / "slow.bvh"
    bvh.write_text(cmu_text(walking_frames(12), frame_time=1.0))  # 12 s: 551 frames at 50 fps
    monkeypatch.setattr(synth, "MAX_MOTION_FRAMES", 500)
    with pytest.raises(DynaPoseError, match="more than 500"):
        synth.load_motions([bvh])


@pytest.mark.parametrize("data", ["synthetic:1000000000:1000000000", "synthetic:0:600",
                                  "synthetic:2:x", "postures:1000000000:1000000000",
                                  "postures:0:600", "postures:2:x", "postures:2:1",
                                  "postures:2:100:chair,sofa", "postures:2:100:",
                                  "postures:2:100:chair:x"])
def test_synthetic_motion_size_is_bounded(tmp_path: Path, data: str) -> None:
    out = tmp_path / "run"
    assert_one_line_error(run(["train-lift", "--data", data, "--out", out]), data)
    assert not out.exists()


# ------------------------------------------------------------- 8. every numeric option has a range


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            found += _commands(cmd, f"{prefix}{name} ")
        else:
            found.append((prefix + name, cmd))
    return found


def test_every_numeric_option_has_a_range() -> None:
    loose = []
    for name, cmd in _commands(main):
        for param in cmd.params:
            kind = param.type
            if isinstance(kind, (click.types.IntParamType, click.types.FloatParamType)) and not \
                    isinstance(kind, (click.IntRange, click.FloatRange)):
                loose.append(f"{name} {param.opts[0]}")
    assert loose == []


@pytest.mark.parametrize("args", [
    ["evaluate", "--checkpoint", "c", "--data", "d", "--batch-size", "0"],
    ["evaluate", "--checkpoint", "c", "--data", "d", "--workers", "-2"],
    ["predict", "v.mp4", "--stride", "0"], ["predict", "v.mp4", "--batch", "0"],
    ["train", "--data", "d", "--out", "o", "--epochs", "0"],
    ["train", "--data", "d", "--out", "o", "--beta1", "1"],
    ["train", "--data", "d", "--out", "o", "--lr", "0"],
    ["train", "--data", "d", "--out", "o", "--lr", "nan"],
    ["train-lift", "--data", "d", "--out", "o", "--channels", "0"],
    ["train-lift", "--data", "d", "--out", "o", "--recombine", "1.5"],
    ["train-lift", "--data", "d", "--out", "o", "--recombine", "nan"],
    ["import-arrays", "x", "y", "--out", "o", "--val-fraction", "1"],
    ["synth", "--out", "o", "--clips", "0"],
    ["evaluate-lift", "--checkpoint", "c", "--data", "d", "--noise-px", "-1"],
    ["prepare", "h36m", "root", "--out", "o", "--margin", "-0.1"],
])
def test_numeric_options_refused_at_the_boundary(args: list[str]) -> None:
    result = run(args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Invalid value" in result.output, result.output


# ------------------------------------------------------------------------- 9. silent acceptance


def test_box_outside_the_frame_is_refused(kit: dict[str, Path], tmp_path: Path) -> None:
    for box in ("1000,1000,50,50", "-500,0,100,100", "0,200,50,50"):
        out = tmp_path / "p"
        result = run(["predict", kit["video"], "--checkpoint", kit["ckpt"], "--box", box,
                      "--out", out])
        assert_one_line_error(result, "outside the 128x96 frame")
        assert not out.exists() and hidden(tmp_path) == []


# ------------------------------------------------------------------- 10. reports refuse replacing


def test_evaluate_refuses_to_replace_a_report_without_overwrite(kit: dict[str, Path],
                                                                tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    report.write_text("{}\n")
    args = ["evaluate", "--checkpoint", kit["ckpt"], "--data", kit["store"], "-o", report]
    assert_one_line_error(run(args), str(report), "already exists")
    assert report.read_text() == "{}\n"
    result = run([*args, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert json.loads(report.read_text())["clips"] == 2
    lift = ["evaluate-lift", "--checkpoint", kit["lifter"], "--data", kit["motion"],
            "--subjects", "S1", "-o", report]
    assert_one_line_error(run(lift), "already exists")


# ------------------------------------------------------------------------------------ 12. smaller


def test_stale_partial_folder_of_a_killed_writer_is_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f".out.{dead}.abcd1234.partial"
    stale.mkdir()
    (stale / "joints.npz").write_bytes(b"half")
    alive = tmp_path / f".out.{os.getppid()}.efgh5678.partial"  # a live writer's: kept
    alive.mkdir()
    with atomic_dir(tmp_path / "out") as tmp:
        (tmp / "x").write_text("1")
    assert not stale.exists() and alive.exists() and (tmp_path / "out" / "x").exists()


def test_kill_9_of_predict_leaves_nothing_after_the_next_run(kit: dict[str, Path],
                                                              tmp_path: Path) -> None:
    script = ("import os, sys; from dynapose.io.atomic import atomic_dir\n"
              "with atomic_dir(sys.argv[1]) as tmp:\n"
              "    (tmp / 'joints.npz').write_bytes(b'half'); os.kill(os.getpid(), 9)\n")
    out = tmp_path / "pose"
    subprocess.run([sys.executable, "-c", script, str(out)], env=_env(), check=False)
    assert len(hidden(tmp_path)) == 1 and not out.exists()
    result = run(["predict", kit["video"], "--checkpoint", kit["ckpt"], "--out", out,
                  "--no-visuals"])
    assert result.exit_code == 0, result.output
    assert hidden(tmp_path) == []


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


@click.group(cls=_Group)
@click.option("--debug", is_flag=True)
def _toy(debug: bool) -> None:
    """A group with the real error path, for failures no real input reaches."""


@_toy.command()
def warn_then_fail() -> None:
    np.log(np.array([-1.0]))  # numpy's RuntimeWarning: invalid value
    import warnings

    warnings.warn("something to know", UserWarning, stacklevel=1)
    raise DynaPoseError("a problem", "some/file")


@_toy.command()
def bug() -> None:
    raise KeyError("internal")


def test_warnings_are_one_line_and_numpy_float_warnings_are_not_shown() -> None:
    result = CliRunner().invoke(_toy, ["warn-then-fail"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["warning: something to know",
                                          "error: some/file: a problem"]


def test_a_bug_is_one_line_and_the_traceback_needs_debug() -> None:
    result = CliRunner().invoke(_toy, ["bug"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: internal error, please report it: KeyError: 'internal' (rerun with --debug or "
        "DYNAPOSE_DEBUG=1 for the traceback)"]
    for args, env in ((["--debug", "bug"], None), (["bug"], {"DYNAPOSE_DEBUG": "1"})):
        result = CliRunner(env=env).invoke(_toy, args)
        assert result.exit_code == 1 and "Traceback" in result.stderr
        assert result.stderr.splitlines()[-1].startswith("error: internal error")


def test_real_process_prints_no_traceback(kit: dict[str, Path], tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("epochs: five\n")
    args = [sys.executable, "-m", "dynapose", "train", "--data", str(kit["store"]), "--out",
            str(tmp_path / "r"), "--config", str(cfg)]
    proc = subprocess.run(args, capture_output=True, text=True, env=_env())
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"error: {cfg}: epochs: expected an integer, found str 'five'\n"
    proc = subprocess.run(args, capture_output=True, text=True, env=_env(DYNAPOSE_DEBUG="1"))
    assert proc.returncode == 2 and "Traceback" in proc.stderr


def test_text_file_as_x_npy(kit: dict[str, Path], tmp_path: Path) -> None:
    x = tmp_path / "X.npy"
    x.write_text("1 2 3\n")
    result = run(["import-arrays", x, kit["Y"], "--out", tmp_path / "s"])
    assert_one_line_error(result, str(x), "not a .npy array (it begins with '1 2 3")


def test_unknown_model_and_subject_list_errors_name_the_file(kit: dict[str, Path],
                                                             tmp_path: Path) -> None:
    from dynapose.config import load_config, load_lift_config

    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: resnet\n")
    with pytest.raises(DynaPoseError, match=str(cfg)):
        load_config("seed", cfg)
    cfg.write_text("train_subjects: S1\n")
    with pytest.raises(DynaPoseError, match=f"{cfg}: train_subjects"):
        load_lift_config("lift-quick", cfg)


def test_clips_json_column_order_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    script = ("import sys, numpy as np; from dynapose.data.store import ClipStoreWriter\n"
              "with ClipStoreWriter(sys.argv[1], height=4, width=4) as w:\n"
              "    for i in range(3):\n"
              "        w.add(np.zeros((8, 4, 4, 3), np.uint8), np.zeros((8, 17, 3)),\n"
              "              **{k: i for k in ('zeta', 'alpha', 'mid', 'beta', 'omega')})\n")
    texts = []
    for seed in ("1", "2", "3"):
        out = tmp_path / f"s{seed}"
        subprocess.run([sys.executable, "-c", script, str(out)], check=True,
                       env=_env(PYTHONHASHSEED=seed))
        texts.append((out / "clips.json").read_text())
    assert texts[0] == texts[1] == texts[2]
    assert list(json.loads(texts[0]))[-5:] == ["zeta", "alpha", "mid", "beta", "omega"]
