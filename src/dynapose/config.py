"""Training configuration: presets (YAML files shipped in ``dynapose/configs``), user YAML files,
and command-line overrides, merged in that order into one validated :class:`TrainConfig`."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from dynapose.errors import DynaPoseError
from dynapose.skeleton import TARGET_FRAMES


@dataclass
class TrainConfig:
    """Everything a training run needs besides its data. Defaults are the report's recipe."""

    model: str = "seed"
    model_config: dict[str, Any] = field(default_factory=lambda: {"clip_len": 8, "input_size": 224})
    epochs: int = 5
    batch_size: int = 80  # global batch, split across processes when distributed
    optimizer: str = "keras-adam"  # Keras' Adam (the report's); "adam" is torch's variant
    lr: float = 5e-3
    beta1: float = 0.75
    beta2: float = 0.95
    eps: float = 1e-7
    weight_decay: float = 0.0
    loss: str = "mse"  # mean squared error over all elements (mm^2)
    normalize_targets: bool = True  # output in units of the targets' spread, from their mean
    targets: str = "camera"  # "camera" (the report's) or "root": pelvis-relative (skeleton.py)
    seed: int = 0
    workers: int = 1  # data-loading worker processes per training process
    threads: int = 0  # torch threads per process; 0 = cores / processes
    checkpoint_every: int = 50  # optimizer steps between resumable snapshots (0: epoch ends only)
    train_split: str = "train"
    val_split: str = "val"
    preset: str = ""

    def validate(self, source: str | None = None) -> TrainConfig:
        """Raise DynaPoseError on impossible values; return self."""
        checks = [
            (self.epochs >= 1, "epochs must be >= 1"),
            (self.batch_size >= 1, "batch_size must be >= 1"),
            (self.lr > 0, "lr must be > 0"),
            (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1, "betas must be in [0, 1)"),
            (self.eps > 0, "eps must be > 0"),
            (self.optimizer in ("keras-adam", "adam"),
             f"unknown optimizer {self.optimizer!r} (keras-adam or adam)"),
            (self.loss in ("mse", "mpjpe"), f"unknown loss {self.loss!r} (mse or mpjpe)"),
            (self.targets in TARGET_FRAMES,
             f"unknown targets {self.targets!r} ({' or '.join(TARGET_FRAMES)})"),
            (self.workers >= 0 and self.threads >= 0, "workers and threads must be >= 0"),
            (self.checkpoint_every >= 0, "checkpoint_every must be >= 0"),
        ]
        check_settings(checks, source)
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def preset_names() -> list[str]:
    """Names of the image-model training presets shipped with DynaPose (``lift-*`` are the
    lifter's: :func:`dynapose.lift_train.lift_preset_names`)."""
    folder = resources.files("dynapose") / "configs"
    return sorted(p.name[:-5] for p in folder.iterdir()
                  if p.name.endswith(".yaml") and not p.name.startswith("lift-"))


def read_settings(source: str | os.PathLike[str], text: str, cls: type) -> dict[str, Any]:
    """Parse YAML `text` into settings of the dataclass `cls`; unknown keys are refused."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise DynaPoseError(f"invalid YAML ({str(exc).splitlines()[0]})", source) from exc
    if not isinstance(data, dict):
        raise DynaPoseError("a config file must hold a mapping of settings", source)
    unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise DynaPoseError(f"unknown setting(s) {', '.join(unknown)}", source)
    return data


def read_preset(name: str, cls: type, known: list[str], kind: str = "") -> dict[str, Any]:
    """The settings of the shipped preset `name` (one of `known`), as a dict for `cls`."""
    resource = resources.files("dynapose") / "configs" / f"{name}.yaml"
    if name not in known or not resource.is_file():
        label = f"{kind} preset" if kind else "preset"
        raise DynaPoseError(f"unknown {label} {name!r} (known: {', '.join(known)})")
    return {**read_settings(f"preset {name}", resource.read_text(), cls), "preset": name}


def read_settings_file(path: str | os.PathLike[str], cls: type) -> dict[str, Any]:
    """The settings in the YAML file `path` for the dataclass `cls`."""
    path = Path(path)
    if not path.is_file():
        raise DynaPoseError("config file not found", path)
    return read_settings(path, path.read_text(), cls)


def check_settings(checks: list[tuple[bool, str]], source: str | None) -> None:
    """Raise DynaPoseError with the first problem whose condition is false."""
    for ok, problem in checks:
        if not ok:
            raise DynaPoseError(problem, source)


def load_config(
    preset: str | None = "seed",
    config_file: str | os.PathLike[str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> TrainConfig:
    """Merge a preset, an optional YAML file and explicit overrides (None values are ignored)."""
    values: dict[str, Any] = read_preset(preset, TrainConfig, preset_names()) if preset else {}
    if config_file is not None:
        file_values = read_settings_file(config_file, TrainConfig)
        model_config = {**values.get("model_config", {}), **file_values.pop("model_config", {})}
        values.update(file_values)
        values["model_config"] = model_config
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key == "model_config":
            values["model_config"] = {**values.get("model_config", {}), **value}
        else:
            values[key] = value
    try:
        config = TrainConfig(**values)
    except TypeError as exc:
        raise DynaPoseError(f"bad configuration ({exc})", config_file) from exc
    return config.validate(None if config_file is None else os.fspath(config_file))
