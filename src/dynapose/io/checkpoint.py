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
from dynapose.models import build_model

FORMAT = "dynapose-checkpoint"
WEIGHTS = "model.safetensors"
CONFIG = "config.json"


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
    """The parsed, validated ``config.json`` of the checkpoint at `path`."""
    folder = resolve_checkpoint(path)
    try:
        config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DynaPoseError(f"unreadable checkpoint config ({exc})", folder / CONFIG) from exc
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise DynaPoseError("not a DynaPose checkpoint config", folder / CONFIG)
    model = config.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("name"), str):
        raise DynaPoseError("checkpoint config names no model", folder / CONFIG)
    return config


def load_checkpoint(
    path: str | os.PathLike[str], map_location: str = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model saved at `path` and load its weights: (model in eval mode, config)."""
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
    model.load_state_dict(state)


def _unwrap(model: nn.Module) -> Any:
    """The bare model inside a DistributedDataParallel or compiled wrapper."""
    inner = getattr(model, "module", model)
    return getattr(inner, "_orig_mod", inner)
