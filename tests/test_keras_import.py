"""Keras weights import: the report's fixture, both HDF5 layouts, bad files, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from dynapose.cli import main
from dynapose.errors import DynaPoseError
from dynapose.models.keras_import import load_keras_weights
from dynapose.training.keras_adam import KerasAdam

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "seed_keras"
needs_fixture = pytest.mark.skipif(
    not (FIXTURE / "model.weights.h5").is_file(),
    reason=f"Keras reference fixture not found at {FIXTURE}",
)
KERAS_FILES = ["model.weights.h5", "model_keras2.h5"]

CONV_SHAPES = [(7, 7, 3, 16), (3, 3, 16, 16), (3, 3, 16, 32), (3, 3, 32, 64), (3, 3, 64, 128)]


# --- an independent numpy version of the report's Keras model (Keras layouts, NHWC) ------------


def keras_weights(flat: int = 128, seed: int = 0) -> list[list[np.ndarray]]:
    """Random weights in Keras layouts: 5 convs, LSTM (kernel, recurrent, bias), 2 denses."""
    rng = np.random.default_rng(seed)
    layers = [
        [rng.normal(0, 0.5 / np.sqrt(np.prod(s[:3])), s), rng.normal(0, 0.05, s[-1])]
        for s in CONV_SHAPES
    ]
    layers.append(
        [rng.normal(0, 0.1, (flat, 512)), rng.normal(0, 0.05, (128, 512)), rng.normal(0, 0.1, 512)]
    )
    layers.append([rng.normal(0, 0.1, (128, 256)), rng.normal(0, 0.1, 256)])
    layers.append([rng.normal(0, 20.0, (256, 51)), rng.normal(0, 50.0, 51)])
    return [[a.astype(np.float32) for a in layer] for layer in layers]


def keras_forward(clips: np.ndarray, weights: list[list[np.ndarray]]) -> np.ndarray:
    """The Keras graph in float64 numpy: uint8 (B, T, H, W, 3) -> (B, T, 17, 3)."""
    b, t = clips.shape[:2]
    x = clips.reshape(b * t, *clips.shape[2:]).astype(np.float64) / 255.0

    def conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
        kh, kw = kernel.shape[:2]
        win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
        win = win[:, ::stride, ::stride]  # (N, oh, ow, C, kh, kw)
        y = np.tensordot(win, kernel.astype(np.float64), axes=([4, 5, 3], [0, 1, 2])) + bias
        return np.maximum(y, 0)

    def pool(x: np.ndarray) -> np.ndarray:
        n, h, w, c = x.shape
        x = x[:, : h // 2 * 2, : w // 2 * 2]
        return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))

    x = pool(conv(x, *weights[0], 2))
    for layer in weights[1:5]:
        x = conv(x, *layer, 2)
    feats = pool(x).reshape(b, t, -1)  # Keras Flatten: H, W, C order
    kernel, recurrent, bias = (a.astype(np.float64) for a in weights[5])
    h = np.zeros((b, 128))
    c = np.zeros((b, 128))
    seq = []
    for step in range(t):
        z = feats[:, step] @ kernel + h @ recurrent + bias
        i, f, g, o = np.split(z, 4, axis=1)
        i, f, o = (1 / (1 + np.exp(-v)) for v in (i, f, o))
        c = f * c + i * np.maximum(g, 0)
        h = o * np.maximum(c, 0)
        seq.append(h)
    y = np.maximum(np.stack(seq, 1) @ weights[6][0] + weights[6][1], 0)
    return (y @ weights[7][0] + weights[7][1]).reshape(b, t, 17, 3)


# --- writing the two layouts -------------------------------------------------------------------

KERAS3_GROUPS = [0, 2, 3, 4, 5, 8, 9]  # time_distributed_k holding weights, in model order


def write_keras3(path: Path, weights: list[list[np.ndarray]]) -> Path:
    with h5py.File(path, "w") as f:
        layers = f.create_group("layers")
        layers.create_group("lambda/vars")
        layers.create_group("reshape/vars")
        for k in range(10):
            name = "time_distributed" + (f"_{k}" if k else "")
            vars_group = layers.create_group(f"{name}/layer/vars")
            layers.create_group(f"{name}/vars")
            if k in KERAS3_GROUPS:
                for i, a in enumerate(weights[[0, 1, 2, 3, 4, 6, 7][KERAS3_GROUPS.index(k)]]):
                    vars_group.create_dataset(str(i), data=a)
        cell = layers.create_group("lstm/cell/vars")
        layers.create_group("lstm/vars")
        for i, a in enumerate(weights[5]):
            cell.create_dataset(str(i), data=a)
        f.create_group("optimizer/vars").create_dataset("0", data=np.int64(3))
        f.create_group("vars")
    return path


def write_keras2(path: Path, weights: list[list[np.ndarray]]) -> Path:
    td = ["time_distributed" + (f"_{k}" if k else "") for k in range(10)]
    order = ["lambda", *td[:8], "lstm", td[8], td[9], "reshape"]
    weighted = {td[0]: 0, td[2]: 1, td[3]: 2, td[4]: 3, td[5]: 4, "lstm": 5, td[8]: 6, td[9]: 7}
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([n.encode() for n in order])
        f.attrs["backend"] = b"tensorflow"
        for name in order:
            group = f.create_group(name)
            if name not in weighted:
                group.attrs["weight_names"] = np.array([], dtype="S1")
                continue
            arrays = weights[weighted[name]]
            if name == "lstm":
                names = [f"lstm/lstm_cell/{n}:0" for n in ("kernel", "recurrent_kernel", "bias")]
            else:
                names = [f"{name}/kernel:0", f"{name}/bias:0"]
            group.attrs["weight_names"] = np.array([n.encode() for n in names])
            for n, a in zip(names, arrays, strict=True):
                group.create_dataset(n, data=a)
    return path


def _clips(b: int, t: int, size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (b, t, size, size, 3), dtype=np.uint8)


# --- the report's fixture ----------------------------------------------------------------------


@needs_fixture
@pytest.mark.parametrize("name", KERAS_FILES)
def test_fixture_outputs_match_keras(name: str) -> None:
    model = load_keras_weights(FIXTURE / name)
    assert model.config == {"clip_len": 8, "input_size": 224}
    assert sum(p.numel() for p in model.parameters()) == 279_395
    inputs = torch.from_numpy(np.load(FIXTURE / "inputs.npy"))
    expected = np.load(FIXTURE / "outputs.npy")
    with torch.no_grad():
        out = model(inputs).numpy()
    assert np.abs(out - expected).max() <= 1e-4


@needs_fixture
@pytest.mark.parametrize("name", KERAS_FILES)
def test_fixture_three_adam_steps_match_keras(name: str) -> None:
    """The report's recipe: Keras Adam (lr 5e-3, betas 0.75/0.95, eps 1e-7), MSE over all."""
    model = load_keras_weights(FIXTURE / name).train()
    inputs = torch.from_numpy(np.load(FIXTURE / "inputs.npy"))
    labels = torch.from_numpy(np.load(FIXTURE / "train_labels.npy"))
    steps = json.loads((FIXTURE / "train_steps.json").read_text())
    optimizer = KerasAdam(model.parameters(), lr=5e-3, betas=(0.75, 0.95), eps=1e-7)
    losses = []
    for _ in range(3):
        optimizer.zero_grad()
        loss = torch.mean((model(inputs) - labels) ** 2)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    np.testing.assert_allclose(losses, steps["losses_before_each_step"], rtol=1e-5)
    with torch.no_grad():
        after = model(inputs).numpy()
    # measured: ~1e-4 (fast first stage) / 2.5e-5 (literal Keras order), outputs up to ~21
    assert np.abs(after - np.load(FIXTURE / "outputs_after_3_steps.npy")).max() <= 3e-4


@needs_fixture
def test_torch_adam_does_not_reproduce_keras() -> None:
    """Why KerasAdam exists: torch's eps placement drifts from Keras within 3 steps."""
    model = load_keras_weights(FIXTURE / "model.weights.h5").train()
    inputs = torch.from_numpy(np.load(FIXTURE / "inputs.npy"))
    labels = torch.from_numpy(np.load(FIXTURE / "train_labels.npy"))
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3, betas=(0.75, 0.95), eps=1e-7)
    for _ in range(3):
        optimizer.zero_grad()
        torch.mean((model(inputs) - labels) ** 2).backward()
        optimizer.step()
    with torch.no_grad():
        after = model(inputs).numpy()
    assert np.abs(after - np.load(FIXTURE / "outputs_after_3_steps.npy")).max() > 1e-2


# --- both layouts, independent reference, flatten order -----------------------------------------


@pytest.mark.parametrize("writer", [write_keras3, write_keras2])
def test_layouts_match_numpy_keras_reference(tmp_path: Path, writer) -> None:
    weights = keras_weights()
    model = load_keras_weights(writer(tmp_path / "w.h5", weights))
    assert model.config["input_size"] == 224
    clips = _clips(1, 3, 224)
    with torch.no_grad():
        out = model(torch.from_numpy(clips)).numpy()
    expected = keras_forward(clips, weights)
    assert np.abs(out - expected).max() <= 1e-4 * np.abs(expected).max()


def test_flatten_order_with_2x2_spatial(tmp_path: Path) -> None:
    """At 321 px the flatten sees 2x2x128: features must follow Keras' (H, W, C) order."""
    weights = keras_weights(flat=512, seed=1)
    model = load_keras_weights(write_keras3(tmp_path / "w.weights.h5", weights))
    assert model.config["input_size"] == 321  # the smallest size giving a 2x2 flatten
    clips = _clips(1, 2, 321, seed=2)
    with torch.no_grad():
        out = model(torch.from_numpy(clips)).numpy()
    expected = keras_forward(clips, weights)
    assert np.abs(out - expected).max() <= 1e-4 * np.abs(expected).max()
    # the same weights read channel-major would differ
    permuted = [list(layer) for layer in weights]
    permuted[5][0] = weights[5][0].reshape(128, 2, 2, 512).transpose(1, 2, 0, 3).reshape(512, 512)
    assert np.abs(keras_forward(clips, permuted) - expected).max() > 1e-2 * np.abs(expected).max()


def test_explicit_input_size(tmp_path: Path) -> None:
    path = write_keras2(tmp_path / "w.h5", keras_weights())
    assert load_keras_weights(path, input_size=200).config["input_size"] == 200
    with pytest.raises(DynaPoseError, match="input size 321") as err:
        load_keras_weights(path, input_size=321)
    assert str(path) in str(err.value)


# --- bad files ----------------------------------------------------------------------------------


def _assert_refused(path: Path, match: str) -> None:
    with pytest.raises(DynaPoseError, match=match) as err:
        load_keras_weights(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_not_hdf5(tmp_path: Path) -> None:
    path = tmp_path / "weights.h5"
    path.write_text("these are not weights\n")
    _assert_refused(path, "not a readable Keras HDF5")


def test_missing_file(tmp_path: Path) -> None:
    _assert_refused(tmp_path / "nope.h5", "not found")


@pytest.mark.parametrize("writer", [write_keras3, write_keras2])
def test_truncated_file(tmp_path: Path, writer) -> None:
    path = writer(tmp_path / "w.h5", keras_weights())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _assert_refused(path, "not a readable Keras HDF5")


def test_wrong_kernel_shape(tmp_path: Path) -> None:
    weights = keras_weights()
    weights[1][0] = np.zeros((5, 5, 16, 16), np.float32)  # conv 2 with 5x5 kernels
    _assert_refused(write_keras3(tmp_path / "w.weights.h5", weights), "time_distributed_2")
    weights = keras_weights()
    weights[6] = [np.zeros((128, 64), np.float32), np.zeros(64, np.float32)]  # Dense 64
    _assert_refused(write_keras2(tmp_path / "w2.h5", weights), "not the seed architecture")


def test_wrong_layer_count(tmp_path: Path) -> None:
    path = write_keras3(tmp_path / "w.weights.h5", keras_weights())
    with h5py.File(path, "a") as f:  # an extra Dense layer
        extra = f.create_group("layers/time_distributed_10/layer/vars")
        extra.create_dataset("0", data=np.zeros((51, 51), np.float32))
        extra.create_dataset("1", data=np.zeros(51, np.float32))
    _assert_refused(path, "9 weighted layers")


def test_hdf5_without_keras_weights(tmp_path: Path) -> None:
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    _assert_refused(path, "no Keras weights found")


def test_non_finite_weights(tmp_path: Path) -> None:
    weights = keras_weights()
    weights[7][1][3] = np.nan
    _assert_refused(write_keras2(tmp_path / "w.h5", weights), "NaN")


# --- command line -------------------------------------------------------------------------------


def test_cli_import_keras(tmp_path: Path) -> None:
    from dynapose.io.checkpoint import load_checkpoint

    weights = keras_weights()
    source = write_keras3(tmp_path / "model.weights.h5", weights)
    runner = CliRunner()
    result = runner.invoke(main, ["import-keras", str(source), "-o", str(tmp_path / "ck")])
    assert result.exit_code == 0, result.output
    model, config = load_checkpoint(tmp_path / "ck")
    assert config["model"]["name"] == "seed"
    clips = _clips(1, 2, 224, seed=4)
    with torch.no_grad():
        out = model(torch.from_numpy(clips)).numpy()
    expected = keras_forward(clips, weights)
    assert np.abs(out - expected).max() <= 1e-4 * np.abs(expected).max()
    # an existing checkpoint is not replaced without --overwrite
    again = runner.invoke(main, ["import-keras", str(source), "-o", str(tmp_path / "ck")])
    assert again.exit_code == 2 and "already exists" in again.output
    forced = runner.invoke(
        main, ["import-keras", str(source), "-o", str(tmp_path / "ck"), "--overwrite"]
    )
    assert forced.exit_code == 0, forced.output


def test_cli_import_keras_bad_file_leaves_nothing(tmp_path: Path) -> None:
    weights = keras_weights()
    weights[0][0] = np.zeros((7, 7, 3, 8), np.float32)
    bad = write_keras2(tmp_path / "bad.h5", weights)
    result = CliRunner().invoke(main, ["import-keras", str(bad), "-o", str(tmp_path / "ck")])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and str(bad) in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.h5"]
