"""Image-model backends for inference: torch or ONNX Runtime, checked on the model's own input
shape when loaded; a seed model is split into a per-frame encoder and a temporal head so that
overlapping windows share each frame's CNN features.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dynapose.device import out_of_memory, resolve_device
from dynapose.errors import DynaPoseError
from dynapose.io.checkpoint import load_checkpoint, resolve_checkpoint
from dynapose.io.onnx import OnnxModel, export_onnx, model_geometry
from dynapose.skeleton import NUM_JOINTS


class _TorchRunner:
    """numpy in, numpy out, through `function` on `device` (a GPU's memory running out is a
    one-line error naming the batch)."""

    def __init__(self, function: Callable[[torch.Tensor], torch.Tensor],
                 device: torch.device) -> None:
        self.function = function
        self.device = device

    def __call__(self, array: np.ndarray) -> np.ndarray:
        with torch.inference_mode(), out_of_memory(self.device, "the model", len(array),
                                                   hint="--batch"):
            return self.function(torch.from_numpy(array).to(self.device)).cpu().numpy()


@dataclass
class LoadedModel:
    """A model ready for inference: `run` maps uint8 (B, T, N, N, 3) to float32 (B, T, 17, 3) mm.

    When the model splits into a per-frame encoder and a temporal head (the seed model: CNN, then
    LSTM and dense layers), `encode` maps frames uint8 (M, N, N, 3) to features (M, F) and `head`
    maps feature windows (B, T, F) to joints (B, T, 17, 3). Overlapping windows then share each
    frame's CNN features instead of recomputing them (stride 4: half the work), with the same
    result: the split is checked against the whole model when loading.
    """

    run: Callable[[np.ndarray], np.ndarray]
    clip_len: int
    input_size: int
    info: dict[str, Any]
    encode: Callable[[np.ndarray], np.ndarray] | None = None
    head: Callable[[np.ndarray], np.ndarray] | None = None


def load_model(
    checkpoint: str | os.PathLike[str],
    backend: str = "torch",
    onnx_path: str | os.PathLike[str] | None = None,
    device: str = "auto",
) -> LoadedModel:
    """Load `checkpoint` for inference with `backend` ("torch" or "onnx") and check it.

    The model must map uint8 (1, T, N, N, 3) to (1, T, 17, 3), T and N from its config. For
    "onnx", `onnx_path` is an ONNX file exported from this checkpoint (``dynapose export``);
    without one, the checkpoint is exported to a temporary file first. `device`: where the
    torch backend runs (:func:`dynapose.device.resolve_device`); ONNX Runtime runs on the CPU.
    """

    if backend not in ("torch", "onnx"):
        raise DynaPoseError(f"unknown backend {backend!r} (torch or onnx)")
    if backend == "onnx" and device not in ("auto", "cpu"):
        raise DynaPoseError(f"the onnx backend runs on the CPU: use --backend torch for "
                            f"--device {device}")
    where = resolve_device("cpu" if backend == "onnx" else device)
    if onnx_path is not None and backend != "onnx":
        raise DynaPoseError("an ONNX file is run by backend 'onnx', not 'torch'", onnx_path)
    model, config = load_checkpoint(checkpoint)
    model.to(where)
    folder = resolve_checkpoint(checkpoint)
    clip_len, size = model_geometry(config)
    info = {
        "name": config["model"]["name"],
        "config": config["model"].get("config", {}),
        "targets": config.get("info", {}).get("targets", "camera"),
        "checkpoint": str(folder),
        "backend": backend,
    }
    runner: Callable[[np.ndarray], np.ndarray] = _TorchRunner(model, where)
    _check_model(runner, clip_len, size, folder)
    if backend == "onnx":
        runner = _onnx_runner(checkpoint, config, onnx_path, clip_len, size)
        _check_model(runner, clip_len, size, Path(onnx_path) if onnx_path else folder)
        if onnx_path:
            info["onnx"] = str(onnx_path)
        return LoadedModel(run=runner, clip_len=clip_len, input_size=size, info=info)
    split = _split_model(model, clip_len, size, where)
    encode, head = split if split else (None, None)
    return LoadedModel(runner, clip_len, size, info, encode, head)


def _split_model(
    model: torch.nn.Module, clip_len: int, size: int, device: torch.device
) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]] | None:
    """(encode, head) for a model with per-frame ``features`` and ``forward_from_features``.

    Accepted only when encode-then-head reproduces the whole model's output on random clips
    (1e-4 relative); None otherwise.
    """
    features = getattr(model, "features", None)
    rest = getattr(model, "forward_from_features", None)
    if features is None or rest is None:
        return None
    encode, head = _TorchRunner(features, device), _TorchRunner(rest, device)
    probe = np.random.default_rng(0).integers(0, 256, (2, clip_len, size, size, 3), np.uint8)
    try:
        whole = _TorchRunner(model, device)(probe)
        feats = encode(probe.reshape(-1, size, size, 3))
        parts = head(np.ascontiguousarray(feats.reshape(2, clip_len, -1)))
    except Exception:  # not splittable after all: use whole windows
        return None
    if parts.shape != whole.shape or not np.allclose(parts, whole, rtol=1e-4, atol=1e-3):
        return None
    return encode, head


def _onnx_runner(
    checkpoint: str | os.PathLike[str],
    config: dict[str, Any],
    onnx_path: str | os.PathLike[str] | None,
    clip_len: int,
    size: int,
) -> Callable[[np.ndarray], np.ndarray]:

    if onnx_path is None:
        with tempfile.TemporaryDirectory(prefix="dynapose-onnx-") as tmp:
            path = Path(tmp) / "model.onnx"
            export_onnx(checkpoint, path, check=False)
            return OnnxModel(path)  # the session keeps the graph in memory
    onnx_model = OnnxModel(onnx_path)
    if onnx_model.geometry() != (clip_len, size):
        t, n = onnx_model.geometry()
        raise DynaPoseError(
            f"ONNX model takes {t} frames of {n}x{n}, the checkpoint's model {clip_len} of "
            f"{size}x{size}: export it again from this checkpoint",
            onnx_path,
        )
    stored = onnx_model.config.get("model")
    if stored is not None and stored != config["model"]:
        raise DynaPoseError(
            "ONNX model was exported from a checkpoint with another model config", onnx_path
        )
    return onnx_model


def _check_model(
    run: Callable[[np.ndarray], np.ndarray], clip_len: int, size: int, source: Path
) -> None:
    probe = np.zeros((1, clip_len, size, size, 3), dtype=np.uint8)
    try:
        out = np.asarray(run(probe))
    except Exception as exc:  # a model that cannot take its own declared input
        raise DynaPoseError(
            f"model cannot run on (1, {clip_len}, {size}, {size}, 3) uint8 clips "
            f"({' '.join(str(exc).split())[:160]})",
            source,
        ) from exc
    if out.shape != (1, clip_len, NUM_JOINTS, 3):
        raise DynaPoseError(
            f"model returns shape {out.shape}, not (1, {clip_len}, {NUM_JOINTS}, 3) joints",
            source,
        )
    if not np.isfinite(out).all():  # its joints would be written as valid otherwise
        raise DynaPoseError("model returns NaN or infinite joints", source)
