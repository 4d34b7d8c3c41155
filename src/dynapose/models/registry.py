"""The table of model classes by name; a class joins it with :func:`register`.

Every model maps uint8 clips (B, T, H, W, 3) (or 2D keypoints, for the lifter) to joints
(B, T, 17, 3) in mm, takes its configuration as keyword arguments and exposes it back as
``model.config`` (a JSON-serialisable dict), so a checkpoint rebuilds it from ``config.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from torch import nn

REGISTRY: dict[str, type[nn.Module]] = {}

M = TypeVar("M", bound=type[nn.Module])


def register(name: str) -> Callable[[M], M]:
    """Class decorator: make a model buildable by `name`."""

    def wrap(cls: M) -> M:
        REGISTRY[name] = cls
        cls.model_name = name  # type: ignore[attr-defined]
        return cls

    return wrap
