"""Export a checkpoint to ONNX, and run exported models with onnxruntime.

The ONNX graph takes ``clips``: uint8 (B, T, N, N, 3) (B dynamic; T and N fixed by the
checkpoint) and returns ``joints``: float32 (B, T, 17, 3), millimetres, camera frame — the same
contract as the torch model. The checkpoint's model config travels in the file's metadata
(``dynapose.model``), so :func:`load_onnx` can check it fits the clips it will be given.

Needs the optional extra ``pip install dynapose[onnx]`` (onnx, onnxruntime).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dynapose.errors import DynaPoseError
from dynapose.io.atomic import atomic_path
from dynapose.io.checkpoint import load_checkpoint, resolve_checkpoint

OPSET = 17
INPUT_NAME = "clips"
OUTPUT_NAME = "joints"
METADATA_KEY = "dynapose.model"


def _require(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError as exc:
        raise DynaPoseError(
            f"{module} is not installed: pip install 'dynapose[onnx]' (onnx, onnxruntime)"
        ) from exc


def model_geometry(config: dict[str, Any]) -> tuple[int, int]:
    """(clip length T, input side N) of a checkpoint config's model."""
    model_cfg = config.get("model", {}).get("config", {})
    return int(model_cfg.get("clip_len", 8)), int(model_cfg.get("input_size", 224))


def export_onnx(
    checkpoint: str | os.PathLike[str], path: str | os.PathLike[str], check: bool = True
) -> dict[str, Any]:
    """Export the model of `checkpoint` (run or checkpoint folder) to the ONNX file `path`.

    Uses torch's TorchScript-based exporter (``dynamo=False``, opset 17) with a dynamic batch
    axis. With `check`, runs onnxruntime and torch on the same random clips and raises unless
    they agree within rtol 1e-4 and atol 1e-4 mm. The file is written atomically. Returns a
    summary: path, input shape, max absolute and relative difference.
    """
    _require("onnx")
    model, config = load_checkpoint(checkpoint)
    clip_len, size = model_geometry(config)
    if hasattr(model, "fast"):
        setattr(model, "fast", False)  # noqa: B010  (the literal layer order: plain ONNX ops)
    example = torch.randint(0, 256, (2, clip_len, size, size, 3), dtype=torch.uint8)
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    model,
                    (example,),
                    str(tmp),
                    dynamo=False,
                    input_names=[INPUT_NAME],
                    output_names=[OUTPUT_NAME],
                    dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                    opset_version=OPSET,
                )
            _add_metadata(tmp, config, resolve_checkpoint(checkpoint))
            summary: dict[str, Any] = {"path": str(path), "input": [-1, clip_len, size, size, 3]}
            if check:
                summary.update(compare_onnx(model, tmp, clip_len, size))
    except OSError as exc:
        raise DynaPoseError(f"cannot write ONNX file ({exc.strerror or exc})", path) from exc
    return summary


def _add_metadata(path: Path, config: dict[str, Any], source: Path) -> None:
    onnx = _require("onnx")
    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key = METADATA_KEY
    entry.value = json.dumps({"model": config["model"], "checkpoint": str(source)})
    proto.producer_name = "dynapose"
    onnx.save(proto, str(path))


def compare_onnx(
    model: torch.nn.Module, onnx_path: str | os.PathLike[str], clip_len: int, size: int,
    batch: int = 3, seed: int = 0,
) -> dict[str, float]:
    """Run torch and onnxruntime on the same random uint8 clips; raise if they differ.

    Tolerance: |onnx - torch| <= 1e-4 + 1e-4 * |torch| elementwise (mm). Returns the max
    absolute difference (mm) and the max difference relative to max(1, |torch|).
    """
    session = OnnxModel(onnx_path)
    rng = np.random.default_rng(seed)
    clips = rng.integers(0, 256, (batch, clip_len, size, size, 3), dtype=np.uint8)
    with torch.inference_mode():
        ref = model(torch.from_numpy(clips)).numpy()
    out = session(clips)
    diff = np.abs(out - ref)
    result = {
        "max_abs_diff_mm": float(diff.max()),
        "max_rel_diff": float((diff / np.maximum(1.0, np.abs(ref))).max()),
    }
    if not np.allclose(out, ref, rtol=1e-4, atol=1e-4):
        raise DynaPoseError(
            f"onnxruntime output differs from torch by up to {result['max_abs_diff_mm']:.3g} mm",
            onnx_path,
        )
    return result


class OnnxModel:
    """An exported model run by onnxruntime: uint8 (B, T, N, N, 3) -> float32 (B, T, 17, 3) mm.

    `config` is the checkpoint config stored in the file (``{"model": {...}}``), or {} for an ONNX
    file that DynaPose did not write.
    """

    def __init__(self, path: str | os.PathLike[str], threads: int = 0) -> None:
        ort = _require("onnxruntime")
        self.path = Path(path)
        if not self.path.is_file():
            raise DynaPoseError("ONNX file not found", self.path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                str(self.path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise DynaPoseError(f"not a loadable ONNX model ({_one_line(exc)})", self.path) from exc
        meta = self.session.get_modelmeta().custom_metadata_map
        try:
            self.config: dict[str, Any] = json.loads(meta.get(METADATA_KEY, "{}"))
        except json.JSONDecodeError:
            self.config = {}
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or inputs[0].type != "tensor(uint8)" or len(inputs[0].shape) != 5:
            raise DynaPoseError("ONNX model does not take uint8 clips (B, T, H, W, 3)", self.path)
        self.input_name = inputs[0].name
        self.input_shape = inputs[0].shape

    def geometry(self) -> tuple[int, int]:
        """(clip length T, input side N) the graph was exported for."""
        _, t, h, _, _ = self.input_shape
        return int(t), int(h)

    def __call__(self, clips: np.ndarray) -> np.ndarray:
        """uint8 (B, T, N, N, 3) -> float32 (B, T, 17, 3) mm."""
        out = self.session.run(None, {self.input_name: np.ascontiguousarray(clips)})[0]
        return np.asarray(out, dtype=np.float32)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]
