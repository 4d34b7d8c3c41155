"""ONNX export: onnxruntime matches torch; predict --backend onnx uses it; bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from _predict_helpers import SIZE, make_checkpoint, make_video

pytest.importorskip("onnx", reason="optional extra dynapose[onnx] not installed")
pytest.importorskip("onnxruntime", reason="optional extra dynapose[onnx] not installed")

from dynapose.cli import main
from dynapose.errors import DynaPoseError
from dynapose.inference.image_model import predict_video
from dynapose.io.checkpoint import load_checkpoint
from dynapose.io.onnx import OnnxModel, export_onnx


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("export")
    ckpt = make_checkpoint(root / "ckpt")
    summary = export_onnx(ckpt, root / "model.onnx")
    return {"root": root, "ckpt": ckpt, "onnx": Path(summary["path"]),
            "video": make_video(root / "clip.mp4", n=12)}


def test_onnx_matches_torch(exported: dict[str, Path]) -> None:
    model, config = load_checkpoint(exported["ckpt"])
    onnx_model = OnnxModel(exported["onnx"])
    assert onnx_model.geometry() == (8, SIZE)
    assert onnx_model.config["model"] == config["model"]
    rng = np.random.default_rng(5)
    for batch in (1, 4):  # the batch axis is dynamic
        clips = rng.integers(0, 256, (batch, 8, SIZE, SIZE, 3), dtype=np.uint8)
        with torch.inference_mode():
            ref = model(torch.from_numpy(clips)).numpy()
        out = onnx_model(clips)
        assert out.shape == (batch, 8, 17, 3) and out.dtype == np.float32
        assert np.abs(ref).max() > 1000  # realistic magnitudes (mm), so the check means something
        assert np.allclose(out, ref, rtol=1e-4, atol=1e-4)
        assert np.abs(out - ref).max() < 1e-2


def test_predict_with_onnx_backend(exported: dict[str, Path], tmp_path: Path) -> None:
    ref = predict_video(exported["video"], exported["ckpt"])
    got = predict_video(exported["video"], exported["ckpt"], tmp_path / "o", backend="onnx",
                        onnx_path=exported["onnx"], visuals=())
    assert got.model["backend"] == "onnx"
    assert np.allclose(got.joints, ref.joints, rtol=1e-4, atol=1e-3)
    doc = json.loads((tmp_path / "o" / "joints.json").read_text())
    assert doc["model"]["backend"] == "onnx"
    # without a file, the checkpoint is exported on the fly
    fly = predict_video(exported["video"], exported["ckpt"], backend="onnx")
    assert np.allclose(fly.joints, ref.joints, rtol=1e-4, atol=1e-3)


def test_onnx_of_another_checkpoint_is_refused(exported: dict[str, Path], tmp_path: Path) -> None:
    other = make_checkpoint(tmp_path / "other", size=224)
    with pytest.raises(DynaPoseError, match=r"model\.onnx: ONNX model takes 8 frames of 193x193"):
        predict_video(exported["video"], other, tmp_path / "o", backend="onnx",
                      onnx_path=exported["onnx"])
    assert not (tmp_path / "o").exists()
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x08\x01garbage")
    with pytest.raises(DynaPoseError, match=r"junk\.onnx: not a loadable ONNX model"):
        predict_video(exported["video"], exported["ckpt"], backend="onnx", onnx_path=junk)


def test_export_errors_leave_nothing(exported: dict[str, Path], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DynaPoseError, match="cannot write ONNX file"):
        export_onnx(exported["ckpt"], blocker / "m.onnx")
    with pytest.raises(DynaPoseError, match="checkpoint not found"):
        export_onnx(tmp_path / "none", tmp_path / "m.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_cli_export(exported: dict[str, Path], tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "m.onnx"
    result = runner.invoke(main, ["export", "--checkpoint", str(exported["ckpt"]),
                                  "--onnx", str(target)])
    assert result.exit_code == 0, result.output
    assert target.is_file() and "max |diff|" in result.output
    result = runner.invoke(main, ["predict", str(exported["video"]), "--checkpoint",
                                  str(exported["ckpt"]), "--backend", "onnx", "--onnx",
                                  str(target), "--no-visuals", "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert "backend: onnx" in result.output
