"""Device selection, precision and the CUDA code paths, exercised on a CPU-only machine.

What needs a real GPU is in test_gpu.py (skipped without CUDA). Here the CUDA branches of device
resolution run against a mocked ``torch.cuda``, autocast runs on the CPU, out-of-memory errors are
raised by hand inside the real loops, and whole runs go through ``--device cpu``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from conftest import make_store
from dynapose import device as dev
from dynapose.cli import main
from dynapose.config import (
    LiftConfig,
    TrainConfig,
    changed_settings,
    load_config,
    load_lift_config,
)
from dynapose.errors import DynaPoseError
from dynapose.training.harness import distributed

SPLIT = {"train_subjects": ["synth-0", "synth-1"], "val_subjects": ["synth-2"]}


@pytest.fixture
def no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine as a CPU-only one, even where torch sees a GPU."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def two_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch.cuda answering as on a machine with two GPUs (resolution only: nothing runs)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)


# -- resolution ----------------------------------------------------------------------------------
@pytest.mark.usefixtures("no_cuda")
def test_auto_falls_back_to_the_cpu_and_cuda_is_refused_in_one_line() -> None:
    assert dev.resolve_device("auto") == torch.device("cpu")
    assert dev.resolve_device(None) == torch.device("cpu")
    assert dev.resolve_device(" CPU ") == torch.device("cpu")
    for spec in ("cuda", "cuda:0", "cuda:7"):
        with pytest.raises(DynaPoseError, match="CUDA is not available") as err:
            dev.resolve_device(spec)
        message = str(err.value)
        assert "\n" not in message and "use --device cpu" in message and spec in message
    for spec in ("tpu", "cpu:1", "auto:0", "cuda:x", "gpu"):
        with pytest.raises(DynaPoseError, match="unknown device"):
            dev.resolve_device(spec)


@pytest.mark.usefixtures("two_gpus")
def test_the_cuda_branch_picks_and_checks_gpus() -> None:
    assert dev.resolve_device("auto") == torch.device("cuda", 0)
    assert dev.resolve_device("cuda") == torch.device("cuda", 0)
    assert dev.resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(DynaPoseError, match=r"no such GPU, this machine has 2 \(cuda:0 \.\. "):
        dev.resolve_device("cuda:7")
    assert dev.is_cuda(dev.resolve_device("auto")) and not dev.is_cuda("cpu")
    # data-parallel processes: each on the GPU of its LOCAL_RANK, over NCCL
    assert dev.rank_device("auto", 1, 2) == torch.device("cuda", 1)
    assert dev.rank_device("cuda", 0, 2) == torch.device("cuda", 0)
    assert dev.process_group_backend(dev.rank_device("cuda", 1, 2)) == "nccl"
    with pytest.raises(DynaPoseError, match="--nproc 2"):
        dev.rank_device("cuda", 2, 3)
    with pytest.raises(DynaPoseError, match="LOCAL_RANK"):
        dev.rank_device("cuda:1", 0, 2)
    assert dev.rank_device("cpu", 1, 2) == torch.device("cpu")
    # batches bound for a GPU: pinned memory and a pool of loader workers sized to the cores
    workers, pin = dev.loader_settings(torch.device("cuda", 0), -1)
    assert pin and 1 <= workers <= 4
    assert dev.loader_settings(torch.device("cuda", 0), 2) == (2, True)


@pytest.mark.usefixtures("no_cuda")
def test_cpu_processes_talk_over_gloo_and_load_in_one_worker() -> None:
    assert dev.rank_device("auto", 1, 2) == torch.device("cpu")
    assert dev.process_group_backend(torch.device("cpu")) == "gloo"
    assert dev.loader_settings(torch.device("cpu"), -1) == (1, False)
    assert dev.loader_settings(torch.device("cpu"), 0) == (0, False)
    with distributed("auto") as d:  # one process: no group, the resolved device
        assert d.world == 1 and d.device == torch.device("cpu")
        assert d.all_sum(np.array([1.0, 2.0])).tolist() == [1.0, 2.0]


def test_autocast_and_precision_checks_on_the_cpu() -> None:
    cpu = torch.device("cpu")
    a, b = torch.randn(4, 8), torch.randn(8, 3)
    with dev.autocast(cpu, "bf16"):
        assert (a @ b).dtype == torch.bfloat16
    with dev.autocast(cpu, "fp32"):
        assert (a @ b).dtype == torch.float32
    dev.check_precision("bf16", cpu)
    with pytest.raises(DynaPoseError, match="precision must be auto, fp32 or bf16"):
        dev.check_precision("fp16", cpu)


def test_auto_precision_is_bf16_only_where_the_cpu_computes_it(monkeypatch) -> None:
    """On a CPU without AVX512-BF16/AMX bfloat16 autocast is emulated (about 20x slower than
    float32 on an AVX2 EPYC): ``auto`` then trains in float32; bf16 and fp32 stay as asked."""
    cpu = torch.device("cpu")
    a, b = torch.randn(4, 8), torch.randn(8, 3)
    for native, expected in ((False, "fp32"), (True, "bf16")):
        monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda n=native: n)
        assert dev.resolve_precision("auto", cpu) == expected
        assert dev.resolve_precision("fp32", cpu) == "fp32"
        assert dev.resolve_precision("bf16", cpu) == "bf16"
        with dev.autocast(cpu, "auto"):
            assert (a @ b).dtype == (torch.bfloat16 if native else torch.float32)


def test_out_of_memory_becomes_one_line_naming_the_batch() -> None:
    with pytest.raises(DynaPoseError) as err, dev.out_of_memory(torch.device("cpu"),
                                                                "training the lifter", 4096):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB")
    message = str(err.value)
    assert "batch size 4096" in message and "smaller --batch-size" in message
    assert "another --device" in message and "\n" not in message
    with dev.out_of_memory(torch.device("cpu"), "x", 1):  # other errors pass through
        pass
    with pytest.raises(ValueError), dev.out_of_memory(torch.device("cpu"), "x", 1):
        raise ValueError("not memory")


# -- settings ------------------------------------------------------------------------------------
def test_settings_files_choose_the_device(tmp_path: Path) -> None:
    cfg = tmp_path / "gpu.yaml"
    cfg.write_text("device: cuda:1\nprecision: bf16\ncompile: true\n")
    config = load_config("quick", cfg)
    assert (config.device, config.precision, config.compile) == ("cuda:1", "bf16", True)
    assert load_config("quick", cfg, {"device": "cpu"}).device == "cpu"  # a flag wins
    assert load_config("quick").device == "auto" and load_config("quick").precision == "fp32"
    lift = load_lift_config("lift-quick", cfg)
    assert (lift.device, lift.precision, lift.compile) == ("cuda:1", "bf16", True)
    bad = tmp_path / "bad.yaml"
    bad.write_text("device: gpu\n")
    with pytest.raises(DynaPoseError, match=r"bad.yaml: device: unknown device 'gpu'"):
        load_config("quick", bad)
    with pytest.raises(DynaPoseError, match="unknown device"):
        load_lift_config("lift-quick", bad)
    bad.write_text("precision: fp16\n")
    with pytest.raises(DynaPoseError, match="precision must be auto, fp32 or bf16"):
        load_config("quick", bad)


def test_a_run_may_resume_elsewhere_but_not_with_another_recipe() -> None:
    saved = TrainConfig(device="cuda", compile=True, workers=3).to_dict()
    assert changed_settings(saved, TrainConfig(device="cpu")) == []
    assert changed_settings(saved, TrainConfig(lr=0.1)) == ["lr"]
    # a run saved before a setting existed resumes as if it held the default
    old = {k: v for k, v in LiftConfig().to_dict().items()
           if k not in ("device", "compile", "precision")}
    assert changed_settings(old, LiftConfig()) == []
    assert changed_settings(old, LiftConfig(precision="bf16")) == ["precision"]


# -- the CLI -------------------------------------------------------------------------------------
@pytest.mark.usefixtures("no_cuda")
def test_cli_refuses_impossible_devices_in_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    for args in (["train-lift", "--data", "synthetic:2:100", "--out", str(tmp_path / "a"),
                  "--preset", "lift-quick", "--device", "cuda"],
                 ["train", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "b"),
                  "--device", "cuda:7"],
                 ["bench", "lift", "--device", "cuda", "--seconds", "0.01"]):
        res = runner.invoke(main, args)
        assert res.exit_code == 2, res.output
        assert "error: --device cuda" in res.output and "CUDA is not available" in res.output
        assert len(res.output.strip().splitlines()) == 1
    res = runner.invoke(main, ["evaluate-lift", "--checkpoint", str(tmp_path), "--data",
                               str(tmp_path), "--device", "tpu"])
    assert res.exit_code == 2 and "error: --device: unknown device 'tpu'" in res.output
    assert not (tmp_path / "a").exists()  # nothing written


@pytest.mark.slow
def test_train_evaluate_and_predict_with_device_cpu(tmp_path: Path) -> None:
    from _predict_helpers import make_video

    store = make_store(tmp_path / "store", n=6)
    run = tmp_path / "run"
    runner = CliRunner()
    res = runner.invoke(main, ["train", "--data", str(store), "--out", str(run), "--preset",
                               "quick", "--epochs", "1", "--batch-size", "2", "--workers", "0",
                               "--threads", "1", "--device", "cpu", "--precision", "bf16",
                               "--quiet"])
    assert res.exit_code == 0, res.output
    info = json.loads((run / "checkpoint" / "config.json").read_text())["info"]
    assert info["train_config"]["device"] == "cpu"
    assert info["train_config"]["precision"] == "bf16"
    weights = load_file(str(run / "checkpoint" / "model.safetensors"))
    assert all(t.device.type == "cpu" and t.dtype != torch.bfloat16 for t in weights.values())
    res = runner.invoke(main, ["evaluate", "--checkpoint", str(run), "--data", str(store),
                               "--device", "cpu", "--workers", "0"])
    assert res.exit_code == 0, res.output
    assert json.loads((run / "eval-store-val.json").read_text())["clips"] == 2
    video = make_video(tmp_path / "clip.mp4", n=10, height=224, width=224)
    res = runner.invoke(main, ["predict", str(video), "--checkpoint", str(run), "--out",
                               str(tmp_path / "pred"), "--no-visuals", "--device", "cpu",
                               "--detector", "none"])
    assert res.exit_code == 0, res.output
    with np.load(tmp_path / "pred" / "joints.npz") as z:
        assert z["joints"].shape == (10, 17, 3) and np.isfinite(z["joints"]).all()


@pytest.mark.slow
@pytest.mark.usefixtures("no_cuda")  # auto means the CPU, even on a GPU machine
def test_train_lift_with_device_cpu_resumes_with_identical_weights(tmp_path: Path,
                                                                   one_thread: None) -> None:
    from dynapose.training.lift import train_lifter

    config = load_lift_config("lift-quick", overrides={
        **SPLIT, "threads": 1, "epochs": 1, "samples_per_epoch": 1536, "val_windows": 32,
        "checkpoint_every": 2, "device": "cpu", "precision": "bf16"})
    full = train_lifter("synthetic:4:100", tmp_path / "full", config, progress=False)
    assert full["device"] == "cpu" and full["samples_per_s"] > 0
    part = train_lifter("synthetic:4:100", tmp_path / "part", config, progress=False,
                        max_steps=3)
    assert not part["finished"]
    # resumed through the CLI with device auto (this machine: the CPU)
    res = CliRunner().invoke(main, ["train-lift", "--data", "synthetic:4:100", "--out",
                                    str(tmp_path / "part"), "--preset", "lift-quick",
                                    "--train-subjects", "synth-0,synth-1", "--val-subjects",
                                    "synth-2", "--threads", "1", "--epochs", "1",
                                    "--samples-per-epoch", "1536", "--device", "auto",
                                    "--precision", "bf16", "--resume", "--quiet",
                                    "--no-evaluate", "--config", str(_yaml(tmp_path))])
    assert res.exit_code == 0, res.output
    a = load_file(str(tmp_path / "full" / "checkpoint" / "model.safetensors"))
    b = load_file(str(tmp_path / "part" / "checkpoint" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    rows = [list(csv.DictReader((tmp_path / run / "metrics.csv").open()))
            for run in ("full", "part")]
    for row in (*rows[0], *rows[1]):
        del row["seconds"]  # wall time: the one column that may differ
    assert rows[0] == rows[1]


def _yaml(tmp_path: Path) -> Path:
    path = tmp_path / "resume.yaml"
    path.write_text("val_windows: 32\ncheckpoint_every: 2\n")
    return path


# -- out of memory inside the real loops -----------------------------------------------------------
def _out_of_memory(*args: object, **kwargs: object) -> None:
    raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 GiB")


@pytest.mark.usefixtures("no_cuda")
def test_loops_turn_out_of_memory_into_an_error_naming_the_batch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_thread: None) -> None:
    from dynapose.training import image, lift

    monkeypatch.setattr(lift, "queue_step", _out_of_memory)
    config = load_lift_config("lift-quick", overrides={**SPLIT, "threads": 1, "epochs": 1,
                                                        "samples_per_epoch": 512})
    with pytest.raises(DynaPoseError, match="training the lifter ran out of memory on cpu at "
                                            "batch size 256: use a smaller --batch-size"):
        lift.train_lifter("synthetic:3:100", tmp_path / "lift", config, progress=False)
    assert not (tmp_path / "lift" / "checkpoint").exists()
    assert not (tmp_path / "lift" / "state.safetensors").exists()

    monkeypatch.setattr(image, "train_step", _out_of_memory)
    store = make_store(tmp_path / "store", n=4)
    with pytest.raises(DynaPoseError, match="training seed ran out of memory on cpu at batch "
                                            "size 3"):
        image.train(store, tmp_path / "image", load_config("quick", overrides={
            "batch_size": 3, "workers": 0, "threads": 1}), progress=False)
    assert not (tmp_path / "image" / "checkpoint").exists()
