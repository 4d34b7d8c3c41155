"""Model registry: every model maps uint8 clips (B, T, H, W, 3) to joints (B, T, 17, 3) in mm.

A model class registers itself with :func:`register`; it must accept its configuration as keyword
arguments and expose it back as ``model.config`` (a JSON-serialisable dict), so a checkpoint can
rebuild it from ``config.json`` alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

from dynapose.errors import DynaPoseError

_REGISTRY: dict[str, type[nn.Module]] = {}

M = TypeVar("M", bound=type[nn.Module])


def register(name: str) -> Callable[[M], M]:
    """Class decorator: make a model buildable by `name`."""

    def wrap(cls: M) -> M:
        _REGISTRY[name] = cls
        cls.model_name = name  # type: ignore[attr-defined]
        return cls

    return wrap


def available_models() -> list[str]:
    """Names of the registered models."""
    _import_all()
    return sorted(_REGISTRY)


def build_model(name: str, **config: Any) -> nn.Module:
    """Instantiate the registered model `name` with its keyword configuration."""
    _import_all()
    if name not in _REGISTRY:
        raise DynaPoseError(f"unknown model {name!r} (known: {', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name](**config)


def _import_all() -> None:
    from dynapose.models import lifter, seed  # noqa: F401  (they register themselves)
