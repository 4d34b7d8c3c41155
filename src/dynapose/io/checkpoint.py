"""Checkpoints: weights as safetensors plus a JSON config. Loading never runs code from the file.

A checkpoint is a folder holding ``model.safetensors`` and ``config.json``::

    {"format": "dynapose-checkpoint", "version": 1,
     "model": {"name": "seed", "config": {...}},   # rebuilds the model
     "info": {...}}                                  # free-form: epoch, metrics, mean pose, ...

Both files are written atomically. A run folder (from ``dynapose train``) holds its latest
checkpoint in ``RUN/checkpoint``; every loader accepts the run folder or the checkpoint folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from dynapose.errors import DynaPoseError
from dynapose.io.atomic import atomic_path, atomic_write_text
from dynapose.models import build_model, check_model_config
from dynapose.schema import check_mapping
from dynapose.skeleton import NUM_JOINTS, TARGET_FRAMES

FORMAT = "dynapose-checkpoint"
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
#: A checkpoint's config.json is a few kilobytes; anything far larger is not one.
MAX_CONFIG_BYTES = 16 * 1024 * 1024


def save_checkpoint(
    path: str | os.PathLike[str], model: nn.Module, info: dict[str, Any] | None = None
) -> Path:
    """Write `model` (and free-form JSON `info`) to the checkpoint folder `path`."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in _unwrap(model).state_dict().items()}
    with atomic_path(path / WEIGHTS) as tmp:
        save_file(state, str(tmp))
    config = {
        "format": FORMAT,
        "version": 1,
        "model": {"name": _unwrap(model).model_name, "config": _unwrap(model).config},
        "info": info or {},
    }
    atomic_write_text(path / CONFIG, json.dumps(config, indent=2) + "\n")
    return path


def resolve_checkpoint(path: str | os.PathLike[str]) -> Path:
    """The checkpoint folder for `path` (a checkpoint folder or a run folder holding one)."""
    path = Path(path)
    if not path.exists():
        raise DynaPoseError("checkpoint not found", path)
    if (path / CONFIG).is_file():
        return path
    if (path / "checkpoint" / CONFIG).is_file():
        return path / "checkpoint"
    if path.is_file() and path.name == CONFIG:
        return path.parent
    raise DynaPoseError(f"not a checkpoint: no {CONFIG} (nor checkpoint/{CONFIG}) here", path)


def read_checkpoint_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed, validated ``config.json`` of the checkpoint at `path`.

    Checked: the format, ``model.name`` (a known model), ``model.config`` (the model's own
    settings: keys, types, values, size; :func:`dynapose.models.check_model_config`) and the
    ``info`` entries DynaPose reads (``mean_pose`` (17, 3) mm, ``targets``).
    """
    folder = resolve_checkpoint(path)
    source = folder / CONFIG
    try:
        if source.stat().st_size > MAX_CONFIG_BYTES:
            raise DynaPoseError(f"checkpoint config is larger than {MAX_CONFIG_BYTES} bytes",
                                source)
        config = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DynaPoseError(f"unreadable checkpoint config ({exc})", source) from exc
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise DynaPoseError("not a DynaPose checkpoint config", source)
    model = config.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("name"), str):
        raise DynaPoseError("checkpoint config names no model", source)
    check_mapping(model, {"name": str, "config": dict[str, Any]}, source, "model",
                  prefix="model.")
    check_model_config(model["name"], model.get("config", {}), source, "model.config.")
    info = config.get("info", {})
    check_mapping(info, {"mean_pose": list[list[float]], "targets": str,
                         "lift_config": dict[str, Any]}, source, "info", known_only=False,
                  prefix="info.")
    pose = info.get("mean_pose")
    if pose is not None and (len(pose) != NUM_JOINTS or any(len(p) != 3 for p in pose)):
        raise DynaPoseError(f"info.mean_pose is not {NUM_JOINTS} rows of 3 numbers (mm)", source)
    if info.get("targets", "camera") not in TARGET_FRAMES:
        raise DynaPoseError(f"info.targets is {info['targets']!r}, expected one of "
                            f"{', '.join(TARGET_FRAMES)}", source)
    return config


def load_checkpoint(
    path: str | os.PathLike[str], map_location: str = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model saved at `path` and load its weights: (model in eval mode, config).

    Weights holding NaN or infinite values are refused (such a model predicts nothing)."""
    folder = resolve_checkpoint(path)
    config = read_checkpoint_config(folder)
    model = build_model(config["model"]["name"], **config["model"].get("config", {}))
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise DynaPoseError(f"checkpoint has no {WEIGHTS}", folder)
    try:
        state = load_file(str(weights), device=map_location)
    except (SafetensorError, OSError, ValueError) as exc:
        raise DynaPoseError(f"corrupt or truncated weights ({exc})", weights) from exc
    load_state_checked(model, state, weights)
    model.eval()
    return model, config


def load_state_checked(
    model: nn.Module, state: dict[str, torch.Tensor], source: str | os.PathLike[str]
) -> None:
    """Load `state` into `model`, with a one-line error naming `source` on any mismatch."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise DynaPoseError(
            f"weights do not fit model {getattr(model, 'model_name', type(model).__name__)}: "
            f"missing {missing[:3]}, unexpected {unexpected[:3]}",
            source,
        )
    for key, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise DynaPoseError(
                f"weight {key} has shape {tuple(tensor.shape)}, model expects "
                f"{tuple(expected[key].shape)}",
                source,
            )
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise DynaPoseError(f"weight {key} holds NaN or infinite values", source)
    model.load_state_dict(state)


def _unwrap(model: nn.Module) -> Any:
    """The bare model inside a DistributedDataParallel or compiled wrapper."""
    inner = getattr(model, "module", model)
    return getattr(inner, "_orig_mod", inner)
