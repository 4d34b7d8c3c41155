"""Training, evaluation and inference on a real CUDA GPU (skipped where there is none).

Run on a GPU machine by ``bash scripts/gpu_check.sh`` (with the benchmarks). What can be checked
without a GPU (device resolution, autocast, out-of-memory handling, ``--device cpu``) is in
test_device.py.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from conftest import make_store
from dynapose.config import load_config, load_lift_config
from dynapose.device import describe, resolve_device
from dynapose.errors import DynaPoseError

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="needs a CUDA GPU (torch.cuda.is_available() is False here): run "
           "`bash scripts/gpu_check.sh` on a machine with one")

CUDA = torch.device("cuda", 0)
SPLIT = {"train_subjects": ["synth-0", "synth-1"], "val_subjects": ["synth-2"]}
MOTION = "synthetic:4:120"


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run / "checkpoint" / "model.safetensors"))


def _same_weights(a: Path, b: Path) -> None:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key


def _rows(run: Path) -> list[dict[str, Any]]:
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    for row in rows:
        row.pop("seconds", None)  # wall time
    return rows


def test_devices_resolve_to_real_gpus() -> None:
    assert resolve_device("auto") == CUDA
    assert resolve_device("cuda:0") == CUDA
    n = torch.cuda.device_count()
    with pytest.raises(DynaPoseError, match=f"no such GPU, this machine has {n}"):
        resolve_device(f"cuda:{n}")
    info = describe(CUDA)
    assert info["memory_gib"] > 0 and info["name"]


def test_lift_batches_agree_between_cpu_and_gpu() -> None:
    """The same seed draws the same windows and augmentations on either device."""
    from dynapose.data.lift_motion import load_motion
    from dynapose.training.lift_batch import camera_tensors, make_batch, motion_tensor

    motion = load_motion(MOTION, ["synth-0", "synth-1"])
    config = load_lift_config("lift-h36m", overrides={**SPLIT, "posture_deg": 5.0,
                                                      "noise_px": 1.0, "jitter_mm": 10.0})
    out = {}
    for where in ("cpu", "cuda"):
        rng = np.random.default_rng(5)
        frame = rng.integers(0, motion.num_frames, 64)
        seq = np.searchsorted([s["start"] for s in motion.sequences], frame, side="right") - 1
        cam = np.array([motion.sequences[s]["cameras"][0] for s in seq])
        out[where] = make_batch(motion, camera_tensors(motion.cameras, where), frame, seq, cam,
                                config, rng, world=motion_tensor(motion, where))
    assert out["cuda"][0].device.type == "cuda"
    torch.testing.assert_close(out["cuda"][0].cpu(), out["cpu"][0], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(out["cuda"][1].cpu(), out["cpu"][1], atol=0.05, rtol=1e-4)


def test_lifter_forward_and_step_match_the_cpu() -> None:
    from dynapose.models.lifter import TemporalLifter
    from dynapose.training.lift import make_optimizer, train_step

    config = load_lift_config("lift-quick", overrides={"dropout": 0.0})
    torch.manual_seed(0)
    cpu = TemporalLifter(**config.model_config()).eval()
    gpu = TemporalLifter(**config.model_config()).eval()
    gpu.load_state_dict(cpu.state_dict())
    gpu.to(CUDA)
    with torch.no_grad():
        seq = torch.randn(2, 300, 17, 2) * 0.3
        torch.testing.assert_close(gpu.forward_sequence(seq.to(CUDA)).cpu(),
                                   cpu.forward_sequence(seq), atol=0.05, rtol=1e-4)
    x = torch.randn(32, 27, 17, 2) * 0.3
    y = torch.randn(32, 17, 3) * 200
    y[:, 0] = 0
    losses = [train_step(m, make_optimizer(m, config), x.to(d), y.to(d))
              for m, d in ((cpu, "cpu"), (gpu, CUDA))]
    assert losses[1] == pytest.approx(losses[0], rel=1e-4)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_lifter_training_on_the_gpu_resumes_bit_identically(tmp_path: Path,
                                                            precision: str) -> None:
    from dynapose.io.checkpoint import load_checkpoint
    from dynapose.training.lift import train_lifter

    config = load_lift_config("lift-quick", overrides={
        **SPLIT, "epochs": 2, "samples_per_epoch": 2560, "val_windows": 256,
        "checkpoint_every": 3, "device": "cuda", "precision": precision})
    full = train_lifter(MOTION, tmp_path / "full", config, progress=False)
    assert full["device"] == "cuda:0" and full["finished"]
    part = train_lifter(MOTION, tmp_path / "part", config, progress=False, max_steps=7)
    assert not part["finished"]
    train_lifter(MOTION, tmp_path / "part", config, progress=False, resume=True)
    _same_weights(tmp_path / "full", tmp_path / "part")
    assert _rows(tmp_path / "full") == _rows(tmp_path / "part")
    # checkpoints hold CPU tensors: they load anywhere
    assert all(t.device.type == "cpu" for t in _weights(tmp_path / "full").values())
    model, _ = load_checkpoint(tmp_path / "full")
    assert next(model.parameters()).device.type == "cpu"


class _Interrupted(Exception):
    pass


def test_image_training_on_the_gpu_resumes_bit_identically(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dynapose.training import image

    store = make_store(tmp_path / "store", n=9)
    # workers -1 (pinned memory, a pool of loaders) and 0 (in-process) must not change a bit
    config = load_config("quick", overrides={"batch_size": 2, "device": "cuda",
                                             "checkpoint_every": 1, "workers": -1})
    image.train(store, tmp_path / "full", config, progress=False)

    step = image.train_step
    calls = [0]

    def stop_at_fifth(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 5:  # mid-epoch 2 (3 batches per epoch)
            raise _Interrupted
        return step(*args, **kwargs)

    monkeypatch.setattr(image, "train_step", stop_at_fifth)
    config0 = load_config("quick", overrides={"batch_size": 2, "device": "cuda",
                                              "checkpoint_every": 1, "workers": 0})
    with pytest.raises(_Interrupted):
        image.train(store, tmp_path / "part", config0, progress=False)
    monkeypatch.setattr(image, "train_step", step)
    image.train(store, tmp_path / "part", config0, resume=True, progress=False)
    _same_weights(tmp_path / "full", tmp_path / "part")
    assert _rows(tmp_path / "full") == _rows(tmp_path / "part")

    bf16 = load_config("quick", overrides={"batch_size": 2, "device": "cuda", "epochs": 1,
                                           "precision": "bf16", "workers": 0})
    result = image.train(store, tmp_path / "bf16", bf16, progress=False)
    assert np.isfinite(result["history"][-1]["train_loss"])


def test_evaluate_and_predict_on_the_gpu_match_the_cpu(tmp_path: Path) -> None:
    from _predict_helpers import make_checkpoint, make_video
    from dynapose.evaluation.clips import evaluate
    from dynapose.inference.backends import load_model

    store = make_store(tmp_path / "store", n=6, size=193)
    ckpt = make_checkpoint(tmp_path / "ckpt")
    reports = [evaluate(ckpt, store, device=d, workers=0) for d in ("cpu", "cuda")]
    assert reports[1]["overall"]["mpjpe"] == pytest.approx(reports[0]["overall"]["mpjpe"],
                                                           rel=1e-2)
    clips = np.random.default_rng(0).integers(0, 256, (3, 8, 193, 193, 3), dtype=np.uint8)
    cpu, gpu = load_model(ckpt, device="cpu"), load_model(ckpt, device="cuda")
    assert gpu.encode is not None  # frames share their CNN features on the GPU too
    np.testing.assert_allclose(gpu.run(clips), cpu.run(clips), rtol=1e-2, atol=1.0)
    pytest.importorskip("av", reason="PyAV is needed to decode a video")
    from dynapose.inference.image_model import predict_video

    video = make_video(tmp_path / "clip.mp4", n=12, height=200, width=200)
    preds = [predict_video(video, ckpt, tmp_path / f"out-{d}", visuals=(), detector="none",
                           device=d) for d in ("cpu", "cuda")]
    np.testing.assert_allclose(preds[1].joints, preds[0].joints, rtol=1e-2, atol=1.0)


def test_lifting_on_the_gpu_matches_the_cpu(tmp_path: Path) -> None:
    from dynapose.inference.lifting import lift_sequence, load_lifter
    from dynapose.training.lift import train_lifter

    config = load_lift_config("lift-quick", overrides={
        **SPLIT, "epochs": 1, "samples_per_epoch": 512, "val_windows": 0, "device": "cuda"})
    run = train_lifter(MOTION, tmp_path / "run", config, progress=False)["run"]
    kp = np.random.default_rng(0).normal(0, 0.3, (150, 17, 2))
    on = [lift_sequence(load_lifter(run, d), kp, flip_tta=True) for d in ("cpu", "cuda")]
    np.testing.assert_allclose(on[1], on[0], atol=0.05)


def test_nccl_calls_of_the_harness_on_a_group_of_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The collectives, DDP wrapping and barrier the harness issues between GPU processes, on
    NCCL (a one-GPU machine can hold a group of one process only)."""
    import socket

    import torch.distributed as dist

    from dynapose.training.harness import Dist, _finish, _params_checksum, data_parallel

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(port))
    torch.cuda.set_device(CUDA)
    dist.init_process_group("nccl", rank=0, world_size=1)
    try:
        t = torch.arange(3, dtype=torch.float64, device=CUDA)  # as Dist.all_sum sends them
        _finish(dist.all_reduce(t, async_op=True))
        gathered = [torch.empty_like(t)]
        _finish(dist.all_gather(gathered, t, async_op=True))
        assert gathered[0].tolist() == [0.0, 1.0, 2.0]
        model = torch.nn.Linear(4, 3).to(CUDA)
        net = data_parallel(model, Dist(rank=0, world=2, device=CUDA))  # the wrapping of N > 1
        assert isinstance(net, torch.nn.parallel.DistributedDataParallel)
        net(torch.randn(5, 4, device=CUDA)).sum().backward()
        assert model.weight.grad is not None
        assert len(_params_checksum(model)) == 3
        _finish(dist.barrier(async_op=True, device_ids=[CUDA.index]))
    finally:
        dist.destroy_process_group()


def test_running_out_of_gpu_memory_is_one_line_and_leaves_no_checkpoint(tmp_path: Path) -> None:
    from dynapose.training.lift import train_lifter

    # 65,536 windows of 243 frames at 2,048 channels: ~43 GB per activation of the first layer
    config = load_lift_config("lift-quick", overrides={
        **SPLIT, "receptive_field": 243, "channels": 2048, "batch_size": 65536,
        "samples_per_epoch": 65536, "epochs": 1, "device": "cuda", "precision": "fp32"})
    with pytest.raises(DynaPoseError, match=r"ran out of memory on cuda:0 at batch size 65536"
                                            r".*use a smaller --batch-size") as err:
        train_lifter("synthetic:3:300", tmp_path / "run", config, progress=False)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "run" / "checkpoint").exists()
    assert not (tmp_path / "run" / "state.safetensors").exists()
    torch.cuda.empty_cache()
    assert torch.cuda.memory_allocated(CUDA) < 2 * 2**30  # the failed step's tensors are gone
