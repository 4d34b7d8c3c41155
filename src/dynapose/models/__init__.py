"""The models: ``seed`` (the report's CNN + ReLU-LSTM, exact) and ``lifter`` (2D keypoints -> 3D,
a temporal convolution network); :func:`build_model` makes either from its name and config.

:func:`check_model_config` checks a configuration read from a file (a checkpoint's
``config.json``, a training YAML's ``model_config``) against the model's constructor: known keys,
values of the annotated types, and a size bound checked on torch's "meta" device (no memory) so
that a crafted file cannot ask for terabytes of weights.
"""

from __future__ import annotations

import inspect
import os
import typing
from typing import Any

import torch
from torch import nn

from dynapose.errors import DynaPoseError
from dynapose.models import lifter, seed  # noqa: F401  (importing them registers them)
from dynapose.models.registry import REGISTRY, register
from dynapose.schema import check_mapping

#: Largest model any configuration may ask for (parameters and buffers; 4 bytes each). The
#: shipped models hold 0.3 M (seed, 224 px) and 2-17 M (lifters).
MAX_PARAMETERS = 200_000_000


def available_models() -> list[str]:
    """Names of the registered models."""
    return sorted(REGISTRY)


def config_schema(name: str) -> dict[str, Any]:
    """{keyword: annotation} of the registered model `name`'s constructor."""
    init = REGISTRY[name].__init__
    hints = typing.get_type_hints(init)
    return {p: hints.get(p, Any) for p in inspect.signature(init).parameters if p != "self"}


def check_model_config(name: Any, config: Any, source: str | os.PathLike[str] | None = None,
                       prefix: str = "") -> None:
    """Raise DynaPoseError (naming `source`) unless `config` builds model `name`: a known model,
    a mapping of its constructor's keywords with values of their types, values it accepts, and
    at most :data:`MAX_PARAMETERS` parameters. `prefix` names the config's place in the file
    (e.g. "model.config.")."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise DynaPoseError(f"unknown model {name!r} (known: {', '.join(sorted(REGISTRY))})",
                            source)
    what = f"{prefix.rstrip('.') or 'config'} of model {name}"
    check_mapping(config, config_schema(name), source, what, prefix=prefix)
    try:
        with torch.device("meta"):  # shapes only: no memory, so a huge size is caught here
            probe = REGISTRY[name](**config)
    except (ValueError, TypeError) as exc:
        raise DynaPoseError(f"{what}: {exc}", source) from exc
    size = sum(t.numel() for t in (*probe.parameters(), *probe.buffers()))
    if size > MAX_PARAMETERS:
        raise DynaPoseError(f"{what} asks for {size:,} parameters (more than "
                            f"{MAX_PARAMETERS:,})", source)


def build_model(name: str, **config: Any) -> nn.Module:
    """Instantiate the registered model `name` with its keyword configuration."""
    if name not in REGISTRY:
        raise DynaPoseError(f"unknown model {name!r} (known: {', '.join(sorted(REGISTRY))})")
    return REGISTRY[name](**config)


def build_checked(name: Any, config: Any, source: str | os.PathLike[str] | None = None,
                  prefix: str = "") -> nn.Module:
    """:func:`check_model_config`, then :func:`build_model`: a one-line error naming `source`
    for any configuration the model cannot be built from."""
    check_model_config(name, config, source, prefix)
    return build_model(name, **config)


__all__ = ["MAX_PARAMETERS", "available_models", "build_checked", "build_model",
           "check_model_config", "config_schema", "register"]
