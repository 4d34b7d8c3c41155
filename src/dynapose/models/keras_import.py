"""Import the report's Keras weights (``model.save_weights``) into a :class:`SeedModel`, via h5py.

Two HDF5 layouts are read, no TensorFlow needed:

* Keras 3 ``.weights.h5``: ``layers/<layer>/[layer|cell/]vars/<i>`` datasets. Group names carry
  no order between classes, so layers are put in order by their ``time_distributed[_k]`` index;
  the one LSTM (``cell/vars``: kernel, recurrent kernel, bias) sits between convs and denses.
  Optimizer state (``optimizer/``) is ignored.
* Keras 2 ``.h5`` (TF 2.x ``save_weights('x.h5')``, or ``model.save('x.h5')`` whose weights are
  under ``model_weights/``): root attribute ``layer_names`` gives the order; each layer group's
  ``weight_names`` attribute names its datasets.

The weights must be the report's architecture (5 convolutions 16@7x7, 16, 32, 64, 128 @3x3, an
LSTM of 128 units, dense 256 and 51); anything else is refused with a one-line
:class:`~dynapose.errors.DynaPoseError` naming the file. Keras kernels are (kh, kw, in, out) for
convolutions and (in, out) for dense/LSTM; they are transposed to PyTorch layouts.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dynapose.errors import DynaPoseError
from dynapose.models.seed import CONVS, DENSE_UNITS, LSTM_UNITS, N_JOINTS, SeedModel, spatial_sizes

DEFAULT_INPUT_SIZE = 224


def load_keras_weights(
    path: str | os.PathLike[str], input_size: int | None = None, clip_len: int = 8
) -> SeedModel:
    """Build a :class:`SeedModel` holding the Keras weights in the HDF5 file `path`.

    `input_size` (frame side in pixels) is inferred when None: the Keras weights fix only the
    LSTM's input width, i.e. the spatial side at the flatten; 224 is taken when it fits (the
    report's size), else the smallest size that fits. The model is returned in eval mode.
    """
    path = Path(path)
    layers = _read_layers(path)
    arrays = _check_architecture(layers, path)
    flat = arrays["lstm"][0].shape[0]
    side2, rem = divmod(flat, CONVS[-1][0])
    side = round(side2**0.5)
    if rem or side * side != side2 or side < 1:
        raise DynaPoseError(
            f"LSTM input width {flat} is not side*side*{CONVS[-1][0]} for any side", path
        )
    if input_size is None:
        input_size = _infer_input_size(side, path)
    elif spatial_sizes(input_size)[-1] != side:
        raise DynaPoseError(
            f"weights are for a {side}x{side}x{CONVS[-1][0]} flatten, which input size "
            f"{input_size} does not give (it gives {spatial_sizes(input_size)[-1]})",
            path,
        )
    model = SeedModel(clip_len=clip_len, input_size=input_size)
    state = _to_state_dict(arrays)
    expected = model.state_dict()
    for key, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[key].shape):  # pragma: no cover  (checked above)
            raise DynaPoseError(f"weight {key} has shape {tuple(tensor.shape)}", path)
    model.load_state_dict(state)
    # Module.to(memory_format=...) is documented and works; torch's overloads omit it
    model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    model.eval()
    return model


def _infer_input_size(side: int, path: Path) -> int:
    if spatial_sizes(DEFAULT_INPUT_SIZE)[-1] == side:
        return DEFAULT_INPUT_SIZE
    size = 1
    while spatial_sizes(size)[-1] < side:
        size += 1
        if size > 100_000:  # pragma: no cover
            raise DynaPoseError(f"no input size gives a {side}x{side} flatten", path)
    return size


def _read_layers(path: Path) -> list[tuple[str, list[np.ndarray]]]:
    """The weighted layers of the file, in model order, as (name, [arrays])."""
    try:
        import h5py  # only for Keras files: h5py is slow to import
    except ImportError as exc:  # pragma: no cover
        raise DynaPoseError("h5py is required to read Keras weights", path) from exc
    if not path.is_file():
        raise DynaPoseError("Keras weights file not found", path)
    try:
        with h5py.File(path, "r") as f:
            if "layers" in f and isinstance(f["layers"], h5py.Group):
                return _read_keras3(f["layers"])
            root = f["model_weights"] if "model_weights" in f else f
            if "layer_names" in root.attrs:
                return _read_keras2(root)
    except DynaPoseError as exc:
        raise DynaPoseError(exc.problem, path) from exc
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise DynaPoseError(f"not a readable Keras HDF5 weights file ({exc})", path) from exc
    raise DynaPoseError(
        "no Keras weights found (neither a Keras 3 'layers' group nor a Keras 2 'layer_names')",
        path,
    )


def _decode(name: Any) -> str:
    return name.decode("utf-8") if isinstance(name, bytes) else str(name)


def _read_keras2(root: Any) -> list[tuple[str, list[np.ndarray]]]:
    layers = []
    for lname in (_decode(n) for n in root.attrs["layer_names"]):
        group = root[lname]
        names = [_decode(n) for n in group.attrs.get("weight_names", [])]
        if names:
            layers.append((lname, [np.asarray(group[n], dtype=np.float32) for n in names]))
    return layers


def _layer_order(name: str) -> tuple[int, int]:
    """Sort key for Keras 3 layer groups: (class block, index) with convs < LSTM < denses."""
    match = re.fullmatch(r"(.*?)(?:_(\d+))?", name)
    assert match is not None
    return (0, int(match.group(2) or 0)) if match.group(1) == "time_distributed" else (1, 0)


def _read_keras3(layers_group: Any) -> list[tuple[str, list[np.ndarray]]]:
    found = []
    for lname in layers_group:
        layer = layers_group[lname]
        for sub in ("vars", "layer/vars", "cell/vars"):
            if sub in layer and len(layer[sub]) > 0:
                vars_group = layer[sub]
                keys = sorted(vars_group, key=int)
                found.append((lname, [np.asarray(vars_group[k], dtype=np.float32) for k in keys]))
                break
    td = sorted((x for x in found if _layer_order(x[0])[0] == 0), key=lambda x: _layer_order(x[0]))
    other = [x for x in found if _layer_order(x[0])[0] != 0]
    # the LSTM goes after the convolutions (4-D kernels) and before the denses
    convs = [x for x in td if x[1][0].ndim == 4]
    rest = [x for x in td if x[1][0].ndim != 4]
    return convs + other + rest


def _check_architecture(
    layers: list[tuple[str, list[np.ndarray]]], path: Path
) -> dict[str, list[np.ndarray]]:
    """Verify the layer sequence conv x5, LSTM, dense x2 and every shape; return arrays by role."""
    n_expected = len(CONVS) + 3
    if len(layers) != n_expected:
        raise DynaPoseError(
            f"not the seed architecture: {len(layers)} weighted layers, expected {n_expected} "
            f"(5 conv, LSTM, 2 dense)",
            path,
        )
    out: dict[str, list[np.ndarray]] = {}
    in_ch = 3
    for i, (filters, k, _) in enumerate(CONVS):
        name, arrs = layers[i]
        _expect(path, name, arrs, [(k, k, in_ch, filters), (filters,)])
        out[f"conv{i}"] = arrs
        in_ch = filters
    name, arrs = layers[len(CONVS)]
    if len(arrs) != 3 or arrs[0].ndim != 2:
        raise DynaPoseError(f"layer {name} is not an LSTM (kernel, recurrent kernel, bias)", path)
    _expect(
        path,
        name,
        arrs,
        [(arrs[0].shape[0], 4 * LSTM_UNITS), (LSTM_UNITS, 4 * LSTM_UNITS), (4 * LSTM_UNITS,)],
    )
    out["lstm"] = arrs
    for j, (fin, fout) in enumerate(((LSTM_UNITS, DENSE_UNITS), (DENSE_UNITS, 3 * N_JOINTS))):
        name, arrs = layers[len(CONVS) + 1 + j]
        _expect(path, name, arrs, [(fin, fout), (fout,)])
        out[f"dense{j}"] = arrs
    for role, arrs in out.items():
        if not all(np.isfinite(a).all() for a in arrs):
            raise DynaPoseError(f"{role} weights contain NaN or infinity", path)
    return out


def _expect(path: Path, name: str, arrs: list[np.ndarray], shapes: list[tuple[int, ...]]) -> None:
    got = [tuple(a.shape) for a in arrs]
    if got != shapes:
        raise DynaPoseError(
            f"not the seed architecture: layer {name} has weight shapes {got}, expected {shapes}",
            path,
        )


def _to_state_dict(arrays: dict[str, list[np.ndarray]]) -> dict[str, torch.Tensor]:
    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))

    state: dict[str, torch.Tensor] = {}
    for i in range(len(CONVS)):
        kernel, bias = arrays[f"conv{i}"]
        state[f"convs.{i}.weight"] = t(
            kernel.transpose(3, 2, 0, 1)
        )  # (kh,kw,in,out)->(out,in,kh,kw)
        state[f"convs.{i}.bias"] = t(bias)
    kernel, recurrent, bias = arrays["lstm"]
    state["lstm.weight_ih"] = t(kernel.T)
    state["lstm.weight_hh"] = t(recurrent.T)
    state["lstm.bias"] = t(bias)
    for j in range(2):
        kernel, bias = arrays[f"dense{j}"]
        state[f"dense{j + 1}.weight"] = t(kernel.T)
        state[f"dense{j + 1}.bias"] = t(bias)
    state["pose_offset"] = torch.zeros(N_JOINTS, 3)  # Keras has neither: exactly its output
    state["pose_scale"] = torch.ones(())
    return state
