"""The seed model: architecture, Keras initialisers, the ReLU LSTM cell, the fast first stage."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dynapose.models import available_models, build_model
from dynapose.models.seed import (
    MIN_INPUT_SIZE,
    ReluLSTM,
    SeedModel,
    count_parameters,
    spatial_sizes,
)
from dynapose.training.keras_adam import KerasAdam


def _clips(b: int, t: int, size: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (b, t, size, size, 3), dtype=torch.uint8, generator=gen)


def _randomise(model: SeedModel, seed: int = 0) -> None:
    """Non-zero biases everywhere, so ReLU and max-pool interplay with them matters."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)


def test_report_architecture_at_224() -> None:
    model = SeedModel()
    assert count_parameters(model) == 279_395
    assert spatial_sizes(224) == [224, 109, 54, 26, 12, 5, 2, 1]
    assert model.config == {"clip_len": 8, "input_size": 224}
    assert model.flat_features == 128
    assert "seed" in available_models()
    assert isinstance(build_model("seed", clip_len=8, input_size=224), SeedModel)


def test_smallest_input_size() -> None:
    # 5 valid stride-2 convolutions and 2 pools: below 193 px a layer would have no output
    assert MIN_INPUT_SIZE == 193
    assert spatial_sizes(193)[-1] == 1 and min(spatial_sizes(192)) < 1
    SeedModel(input_size=193)
    with pytest.raises(ValueError, match="too small"):
        SeedModel(input_size=192)
    # a larger input flattens more than 1x1x128 into the LSTM
    assert SeedModel(input_size=321).flat_features == 2 * 2 * 128


def test_forward_shape_dtype_and_input_checks() -> None:
    model = SeedModel(clip_len=3, input_size=193).eval()
    with torch.no_grad():
        out = model(_clips(2, 3, 193))
    assert out.shape == (2, 3, 17, 3) and out.dtype == torch.float32
    with pytest.raises(ValueError, match="193x193"):
        model(_clips(1, 3, 200))
    with pytest.raises(ValueError, match="B, T, H, W, 3"):
        model(torch.zeros(3, 193, 193, 3, dtype=torch.uint8))


def test_keras_initialisers() -> None:
    torch.manual_seed(0)
    model = SeedModel()
    conv1 = model.convs[0].weight  # (16, 3, 7, 7): fan_in 147, fan_out 784
    limit = math.sqrt(6 / (147 + 784))
    assert conv1.abs().max() <= limit and conv1.abs().max() > 0.9 * limit
    assert abs(conv1.std().item() - limit / math.sqrt(3)) < 0.1 * limit
    dense2 = model.dense2.weight
    assert dense2.abs().max() <= math.sqrt(6 / (256 + 51))
    w_hh = model.lstm.weight_hh.detach()  # (512, 128): Keras' (128, 512) orthogonal kernel
    torch.testing.assert_close(w_hh.t() @ w_hh, torch.eye(128), atol=1e-5, rtol=0)
    bias = model.lstm.bias.detach()
    assert torch.equal(bias[128:256], torch.ones(128))  # unit_forget_bias
    assert torch.equal(torch.cat([bias[:128], bias[256:]]), torch.zeros(384))
    for conv in model.convs:
        assert torch.equal(conv.bias, torch.zeros_like(conv.bias))


def test_relu_lstm_matches_keras_equations() -> None:
    torch.manual_seed(1)
    lstm = ReluLSTM(5, 4)
    with torch.no_grad():
        lstm.bias.uniform_(-0.5, 0.5)
    x = torch.randn(2, 6, 5)
    got = lstm(x).detach().numpy()
    kernel = lstm.weight_ih.detach().numpy().T.astype(np.float64)  # Keras (in, 4H), gates i f c o
    recurrent = lstm.weight_hh.detach().numpy().T.astype(np.float64)
    bias = lstm.bias.detach().numpy().astype(np.float64)

    def sigmoid(v: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-v))

    h = np.zeros((2, 4))
    c = np.zeros((2, 4))
    for t in range(6):
        z = x[:, t].numpy().astype(np.float64) @ kernel + h @ recurrent + bias
        i, f, g, o = np.split(z, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.maximum(g, 0)
        h = sigmoid(o) * np.maximum(c, 0)
        np.testing.assert_allclose(got[:, t], h, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("size", [193, 203, 369])
def test_fast_stem_equals_literal_keras_order(size: int) -> None:
    """Pool-before-bias, chunked, uint8-recomputing first stage == conv+bias, ReLU, max-pool.

    203 has an odd conv-1 output (pool floors it); 369 stores the argmax as int32.
    """
    torch.manual_seed(2)
    fast = SeedModel(clip_len=3, input_size=size)
    _randomise(fast)
    fast.chunk = 4  # 6 images: a full chunk and a partial one
    slow = SeedModel(clip_len=3, input_size=size, fast=False)
    slow.load_state_dict(fast.state_dict())
    clips = _clips(2, 3, size, seed=3)
    target = torch.randn(2, 3, 17, 3)
    outs, grads = [], []
    for model in (fast, slow):
        model.zero_grad()
        out = model(clips)
        ((out - target) ** 2).mean().backward()
        outs.append(out.detach())
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-5, atol=1e-5)
    with torch.no_grad():  # the inference path (no argmax kept) gives the same numbers
        torch.testing.assert_close(fast(clips), outs[0], rtol=1e-6, atol=1e-6)
    for name in grads[1]:
        scale = grads[1][name].abs().max().item() + 1e-12
        diff = (grads[0][name] - grads[1][name]).abs().max().item()
        assert diff <= 1e-4 * scale, (name, diff, scale)
    assert grads[0]["convs.0.weight"].abs().max() > 0  # the first conv does learn


def test_pose_offset_is_added_and_zero_by_default() -> None:
    model = SeedModel(clip_len=2, input_size=193).eval()
    assert torch.equal(model.pose_offset, torch.zeros(17, 3))
    assert "pose_offset" not in dict(model.named_parameters())
    clips = _clips(1, 2, 193)
    with torch.no_grad():
        before = model(clips)
        offset = torch.arange(51, dtype=torch.float32).view(17, 3)
        model.pose_offset.copy_(offset)
        torch.testing.assert_close(model(clips), before + offset)


def test_checkpoint_config_rebuilds_model(tmp_path) -> None:
    from dynapose.io.checkpoint import load_checkpoint, save_checkpoint

    torch.manual_seed(3)
    model = SeedModel(clip_len=2, input_size=193).eval()
    _randomise(model)
    save_checkpoint(tmp_path / "ck", model)
    loaded, config = load_checkpoint(tmp_path / "ck")
    assert config["model"] == {"name": "seed", "config": {"clip_len": 2, "input_size": 193}}
    clips = _clips(1, 2, 193)
    with torch.no_grad():
        torch.testing.assert_close(loaded(clips), model(clips), rtol=0, atol=0)


def test_keras_adam_update_rule() -> None:
    """Keras: p -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps), eps outside the correction."""
    lr, b1, b2, eps = 5e-3, 0.75, 0.95, 1e-7
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3e-7], dtype=torch.float64))
    opt = KerasAdam([p], lr=lr, betas=(b1, b2), eps=eps)
    grads = [torch.tensor([0.5, -1.0, 1e-7]), torch.tensor([0.25, 2.0, -3e-7])]
    m = np.zeros(3)
    v = np.zeros(3)
    expect = np.array([1.0, -2.0, 3e-7])
    for t, g in enumerate(grads, start=1):
        p.grad = g.to(torch.float64)
        opt.step()
        gn = g.numpy().astype(np.float64)
        m = m + (gn - m) * (1 - b1)
        v = v + (gn * gn - v) * (1 - b2)
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        expect = expect - alpha * m / (np.sqrt(v) + eps)
        np.testing.assert_allclose(p.detach().numpy(), expect, rtol=1e-6, atol=1e-12)
    # torch's Adam puts eps inside the bias correction: a different step for tiny gradients
    q = torch.nn.Parameter(torch.tensor([3e-7], dtype=torch.float64))
    torch_adam = torch.optim.Adam([q], lr=lr, betas=(b1, b2), eps=eps)
    q.grad = torch.tensor([1e-7], dtype=torch.float64)
    torch_adam.step()
    keras_first = 3e-7 - lr * math.sqrt(1 - b2) / (1 - b1) * (1e-7 * (1 - b1)) / (
        math.sqrt(1e-14 * (1 - b2)) + eps
    )
    assert abs(q.item() - keras_first) > 1e-4
    # state round-trips like torch's Adam
    state = opt.state_dict()
    opt2 = KerasAdam([torch.nn.Parameter(p.detach().clone())])
    opt2.load_state_dict(state)
    assert int(opt2.state_dict()["state"][0]["step"]) == 2


def test_bench_train_in_process() -> None:
    from dynapose.bench.training import bench_train

    report = bench_train(batch=1, size=193, steps=2, warmup=1, threads=1, fresh_process=False)
    assert report["params"] == 279_395 and report["threads"] == 1
    assert report["clips_per_s"] == pytest.approx(1000 / report["step_ms"], rel=0.01)
    assert report["cpu_ms_per_step"] > 0 and report["peak_rss_mb"] > 50


@pytest.mark.slow
def test_bench_train_cli_json() -> None:
    """The benchmark runs (tiny settings, a fresh process: its peak memory is its own, not the
    test run's) and reports what it measured."""
    import json
    import subprocess
    import sys

    args = ["bench", "train", "--batch", "1", "--size", "193", "--steps", "2", "--warmup", "1"]
    result = subprocess.run([sys.executable, "-m", "dynapose", *args, "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["batch"] == 1 and report["size"] == 193 and report["steps"] == 2
    assert report["params"] == 279_395
    assert report["clips_per_s"] > 0 and report["step_ms"] > 0
    assert report["step_ms_min"] <= report["step_ms"] <= report["step_ms_max"]
    assert 50 < report["peak_rss_mb"] < 4000


def test_he_init_keeps_the_image_signal_that_keras_init_loses() -> None:
    """init='he': CNN features vary between clips ~20x more than with Keras' glorot init."""
    images = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (6, 224, 224, 3),
                                                                 dtype=np.uint8))
    spread = {}
    for init in ("keras", "he"):
        torch.manual_seed(0)
        model = SeedModel(init=init)
        with torch.no_grad():
            spread[init] = float(model.features(images).std(0).mean())
    assert spread["he"] > 5 * spread["keras"]
    assert SeedModel(init="he").config["init"] == "he" and "init" not in SeedModel().config
    with pytest.raises(ValueError, match="init must be"):
        SeedModel(init="xavier")
