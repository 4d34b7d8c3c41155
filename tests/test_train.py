"""End-to-end training: real stores on disk, real processes (SIGKILL + resume, two-process DDP)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors import safe_open
from safetensors.torch import load_file

from conftest import make_store
from dynapose.cli import main
from dynapose.config import load_config
from dynapose.errors import DynaPoseError
from dynapose.io.checkpoint import load_checkpoint
from dynapose.training.harness import epoch_batches, shard
from dynapose.training.image import CSV_COLUMNS, train

pytestmark = pytest.mark.slow

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "dynapose", *args]


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run / "checkpoint" / "model.safetensors"))


def test_batches_are_a_pure_function_of_seed_and_epoch() -> None:
    idx = np.arange(10)
    a, b = epoch_batches(idx, 4, 0, 1), epoch_batches(idx, 4, 0, 1)
    assert [x.tolist() for x in a] == [x.tolist() for x in b]
    assert sorted(np.concatenate(a).tolist()) == list(range(10))
    assert [len(x) for x in a] == [4, 4, 2]
    assert epoch_batches(idx, 4, 0, 2)[0].tolist() != a[0].tolist()
    assert shard(np.arange(5), 1, 2).tolist() == [2, 3]


def test_train_then_evaluate(tmp_path: Path) -> None:
    store = make_store(tmp_path / "store", n=12)
    run = tmp_path / "run"
    config = load_config("quick", overrides={"batch_size": 4, "workers": 0, "threads": 1})
    result = train(store, run, config, progress=False)
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert set(CSV_COLUMNS) <= set(rows[0])
    assert all(float(rows[-1][c]) >= 0 for c in CSV_COLUMNS)
    for png in ("loss.png", "mpjpe.png", "pck3d.png"):
        assert (run / png).stat().st_size > 1000
    model, cfg = load_checkpoint(run)
    assert cfg["info"]["epoch"] == 2 and len(cfg["info"]["mean_pose"]) == 17
    out = model(torch.zeros(1, 8, 224, 224, 3, dtype=torch.uint8))
    assert out.shape == (1, 8, 17, 3)
    assert result["history"][-1]["epoch"] == 2

    res = CliRunner().invoke(main, ["evaluate", "--checkpoint", str(run), "--data", str(store)])
    assert res.exit_code == 0, res.output
    assert "mean pose" in res.output and "per subject" in res.output
    report = json.loads((run / "eval-store-val.json").read_text())
    assert report["clips"] == 4 and report["split"] == "val"
    assert set(report["per_subject"]) == {"S0", "S1"}
    assert set(report["per_action"]) == {"walk", "run"}
    assert report["baseline"]["mpjpe"] > 0 and 0 <= report["overall"]["pck3d"] <= 1
    assert report["per_joint"]["pelvis"]["mpjpe_p1"] == 0.0


def test_existing_run_and_bad_inputs(tmp_path: Path) -> None:
    store = make_store(tmp_path / "store", n=4, splits=("train",))
    config = load_config("quick", overrides={"epochs": 1, "batch_size": 4, "workers": 0})
    train(store, tmp_path / "run", config, progress=False)
    with pytest.raises(DynaPoseError, match="already holds a run"):
        train(store, tmp_path / "run", config, progress=False)
    with pytest.raises(DynaPoseError, match="nothing to resume"):
        train(store, tmp_path / "other", config, resume=True, progress=False)
    small = make_store(tmp_path / "small", n=2, size=32)
    with pytest.raises(DynaPoseError, match="expects 224x224"):
        train(small, tmp_path / "r2", config, progress=False)
    # A truncated checkpoint is refused with the file named.
    weights = tmp_path / "run" / "checkpoint" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    res = CliRunner().invoke(main, ["evaluate", "--checkpoint", str(tmp_path / "run"),
                                    "--data", str(store)])
    assert res.exit_code == 2 and "model.safetensors" in res.output
    res = CliRunner().invoke(main, ["evaluate", "--checkpoint", str(tmp_path / "none"),
                                    "--data", str(store)])
    assert res.exit_code == 2 and "checkpoint not found" in res.output


def _state_step(state: Path) -> tuple[int, int] | None:
    try:
        with safe_open(str(state), framework="pt") as f:
            meta = json.loads(f.metadata()["dynapose"])
        return meta["epoch"], meta["step"]
    except Exception:
        return None


def test_resume_after_sigkill_ends_with_identical_weights(tmp_path: Path) -> None:
    store = make_store(tmp_path / "store", n=10, splits=("train", "train", "train", "train",
                                                         "val"))
    args = ["train", "--data", str(store), "--preset", "quick", "--batch-size", "1",
            "--epochs", "2", "--workers", "1", "--threads", "1", "--checkpoint-every", "1",
            "--quiet"]
    full = tmp_path / "full"
    subprocess.run(_cmd(*args, "--out", str(full)), check=True, env=ENV, timeout=300)

    run = tmp_path / "killed"
    proc = subprocess.Popen(_cmd(*args, "--out", str(run)), env=ENV)
    killed_at = None
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        pos = _state_step(run / "state.safetensors")
        if pos is not None and pos[1] >= 3:  # mid-epoch: 8 steps per epoch
            proc.send_signal(signal.SIGKILL)
            killed_at = pos
            break
        time.sleep(0.01)
    proc.wait()
    assert killed_at is not None, "training finished before it could be killed"
    assert proc.returncode == -signal.SIGKILL
    subprocess.run(_cmd(*args, "--out", str(run), "--resume"), check=True, env=ENV, timeout=300)
    a, b = _weights(full), _weights(run)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    full_rows = (full / "metrics.csv").read_text()
    assert (run / "metrics.csv").read_text() == full_rows


def test_two_processes_stay_in_sync(tmp_path: Path) -> None:
    store = make_store(tmp_path / "store", n=12, splits=("train", "train", "val"))
    common = ["--data", str(store), "--preset", "quick", "--batch-size", "4", "--epochs", "1",
              "--workers", "0", "--threads", "1", "--quiet"]
    ddp = tmp_path / "ddp"
    done = subprocess.run(_cmd("train", *common, "--out", str(ddp), "--nproc", "2"), env=ENV,
                          timeout=300, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    info = json.loads((ddp / "checkpoint" / "config.json").read_text())["info"]
    assert info["world_size"] == 2
    sums = info["rank_checksums"]
    assert len(sums) == 2 and sums[0] == sums[1]
    single = tmp_path / "single"
    subprocess.run(_cmd("train", *common, "--out", str(single)), env=ENV, timeout=300,
                   check=True)
    # Two processes on half-batches average to the same gradient as one on the full batch.
    a, b = _weights(ddp), _weights(single)
    for key in a:
        assert torch.allclose(a[key], b[key], rtol=1e-3, atol=1e-4), key


EXIT_AFTER_COLLECTIVES = """
import torch
from torch import nn
from dynapose.training.image import _check_in_sync, distributed
with distributed() as d:
    model = nn.Linear(4, 4)
    nn.parallel.DistributedDataParallel(model)(torch.randn(2, 4)).sum().backward()
    d.all_sum(torch.ones(3, dtype=torch.float64).numpy())
    _check_in_sync(model, d)
"""


def test_processes_exit_cleanly_right_after_their_last_collective(tmp_path: Path) -> None:
    """Regression: gloo's worker freed the last collective's tensors in an exiting interpreter,
    aborting a rank ("terminate called without an active exception") in about 1 run in 4."""
    script = tmp_path / "exit_after_collectives.py"
    script.write_text(EXIT_AFTER_COLLECTIVES)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(script)]
    for _ in range(6):
        done = subprocess.run(cmd, env=ENV, timeout=120, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[:2000]


def test_seed_recipe_reproduces_keras_training_steps() -> None:
    """The trainer's own step and optimizer, with the seed preset, follow Keras step by step."""
    from conftest import shared_path
    from dynapose.models.keras_import import load_keras_weights
    from dynapose.training.image import make_optimizer, train_step

    folder = shared_path("fixtures", "seed_keras")
    model = load_keras_weights(folder / "model.weights.h5")
    optimizer = make_optimizer(model.parameters(), load_config("seed"))
    frames = torch.from_numpy(np.load(folder / "inputs.npy"))
    labels = torch.from_numpy(np.load(folder / "train_labels.npy"))
    expected = json.loads((folder / "train_steps.json").read_text())["losses_before_each_step"]
    losses = [float(train_step(model, optimizer, frames, labels, "mse")[0]) for _ in range(3)]
    assert np.allclose(losses, expected, rtol=1e-5)
    with torch.no_grad():
        after = model.eval()(frames).numpy()
    assert np.abs(after - np.load(folder / "outputs_after_3_steps.npy")).max() < 1e-3


def test_root_targets_train_evaluate_and_predict_in_the_pelvis_frame(tmp_path: Path) -> None:
    """targets: root trains on pelvis-relative joints; evaluate and predict follow it."""
    from dynapose.evaluation.clips import evaluate
    from dynapose.inference.backends import load_model
    from dynapose.inference.image_model import image_prediction
    from dynapose.inference.prediction import ROOT_FRAME
    from dynapose.io.video import VideoInfo

    store = make_store(tmp_path / "store", n=6)
    run = tmp_path / "run"
    config = load_config("quick", overrides={"epochs": 1, "batch_size": 4, "workers": 0,
                                             "threads": 1, "targets": "root",
                                             "model_config": {"init": "he"}})
    train(store, run, config, progress=False)
    model, cfg = load_checkpoint(run)
    assert cfg["info"]["targets"] == "root" and cfg["model"]["config"]["init"] == "he"
    mean_pose = np.asarray(cfg["info"]["mean_pose"])
    assert np.allclose(mean_pose[0], 0.0) and np.abs(mean_pose[1:]).max() > 1.0
    report = evaluate(run, store, split="val")
    assert report["targets"] == "root"
    # the truth is pelvis-relative too: the mean pose's plain and protocol-1 errors coincide
    assert report["baseline"]["mpjpe"] == pytest.approx(report["baseline"]["mpjpe_p1"], rel=1e-5)
    assert report["per_joint"]["pelvis"]["mpjpe"] < 1000.0  # not ~4 m away as camera-frame truth

    loaded = load_model(run)
    assert loaded.info["targets"] == "root"
    joints = model(torch.zeros(1, 8, 224, 224, 3, dtype=torch.uint8))[0].detach().numpy()
    pred = image_prediction(joints, np.arange(8) / 25.0,
                            np.tile(np.float32([100, 50, 200, 200]), (8, 1)),
                            VideoInfo("v.mp4", 400, 300, 25.0, 8, 0.32, "h264", "mp4"),
                            loaded.info, "centre", stride=4)
    assert pred.header()["coordinate_frame"] == ROOT_FRAME
    uv = pred.keypoints_2d()
    assert np.isfinite(uv).all()  # placed in front of the camera for drawing
    assert np.allclose(uv[:, 0], [200.0, 150.0], atol=1e-3)  # the pelvis on the crop's axis


def test_unknown_targets_are_refused() -> None:
    with pytest.raises(DynaPoseError, match="unknown targets 'world'"):
        load_config("quick", overrides={"targets": "world"})
