"""The models: ``seed`` (the report's CNN + ReLU-LSTM, exact) and ``lifter`` (2D keypoints -> 3D,
a temporal convolution network); :func:`build_model` makes either from its name and config.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from dynapose.errors import DynaPoseError
from dynapose.models import lifter, seed  # noqa: F401  (importing them registers them)
from dynapose.models.registry import REGISTRY, register


def available_models() -> list[str]:
    """Names of the registered models."""
    return sorted(REGISTRY)


def build_model(name: str, **config: Any) -> nn.Module:
    """Instantiate the registered model `name` with its keyword configuration."""
    if name not in REGISTRY:
        raise DynaPoseError(f"unknown model {name!r} (known: {', '.join(sorted(REGISTRY))})")
    return REGISTRY[name](**config)


__all__ = ["available_models", "build_model", "register"]
