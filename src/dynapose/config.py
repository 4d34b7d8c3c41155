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

from dynapose.device import PRECISIONS, check_device_spec
from dynapose.errors import DynaPoseError
from dynapose.models import check_model_config
from dynapose.models.lifter import filter_widths_for
from dynapose.schema import check_mapping, check_value, describe, field_types
from dynapose.skeleton import TARGET_FRAMES

#: The models `train` trains (the lifter trains with `train-lift`).
IMAGE_MODELS = ("seed",)


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
    workers: int = -1  # data-loading processes per training process; -1: sized to the device
    threads: int = 0  # torch threads per process; 0 = cores / processes
    device: str = "auto"  # auto | cpu | cuda | cuda:N (auto: a GPU when there is one)
    precision: str = "fp32"  # fp32 | bf16: the forward/backward under bfloat16 autocast
    compile: bool = False  # torch.compile the model (see README: GPUs)
    checkpoint_every: int = 50  # optimizer steps between resumable snapshots (0: epoch ends only)
    train_split: str = "train"
    val_split: str = "val"
    preset: str = ""

    def validate(self, source: str | None = None,
                 origins: dict[str, str | None] | None = None) -> TrainConfig:
        """Raise DynaPoseError on values of the wrong type or impossible values; return self.

        The error names the file a value came from (`origins`: setting -> file, as
        :func:`load_config` records them), else `source`.
        """
        check_fields(self, source, origins)
        checks = [
            (self.epochs >= 1, "epochs must be >= 1", "epochs"),
            (self.batch_size >= 1, "batch_size must be >= 1", "batch_size"),
            (self.lr > 0, "lr must be > 0", "lr"),
            (0 <= self.beta1 < 1, "beta1 must be in [0, 1)", "beta1"),
            (0 <= self.beta2 < 1, "beta2 must be in [0, 1)", "beta2"),
            (self.eps > 0, "eps must be > 0", "eps"),
            (self.weight_decay >= 0, "weight_decay must be >= 0", "weight_decay"),
            (self.optimizer in ("keras-adam", "adam"),
             f"unknown optimizer {self.optimizer!r} (keras-adam or adam)", "optimizer"),
            (self.loss in ("mse", "mpjpe"), f"unknown loss {self.loss!r} (mse or mpjpe)", "loss"),
            (self.targets in TARGET_FRAMES,
             f"unknown targets {self.targets!r} ({' or '.join(TARGET_FRAMES)})", "targets"),
            (self.workers >= -1, "workers must be >= -1 (-1: sized to the device)", "workers"),
            (self.threads >= 0, "threads must be >= 0", "threads"),
            (self.checkpoint_every >= 0, "checkpoint_every must be >= 0", "checkpoint_every"),
            *device_checks(self.device, self.precision),
            (self.model in IMAGE_MODELS,
             f"model {self.model!r} is not an image model (train: {', '.join(IMAGE_MODELS)}; "
             "a lifter trains with train-lift)", "model"),
        ]
        check_settings(checks, source, origins)
        # The model's own settings: known keys, their types, values the model accepts.
        check_model_config(self.model, self.model_config, _origin("model_config", source,
                                                                  origins), "model_config.")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def preset_names() -> list[str]:
    """Names of the image-model training presets shipped with DynaPose (``lift-*`` are the
    lifter's: :func:`dynapose.config.lift_preset_names`)."""
    folder = resources.files("dynapose") / "configs"
    return sorted(p.name[:-5] for p in folder.iterdir()
                  if p.name.endswith(".yaml") and not p.name.startswith("lift-"))


def read_settings(source: str | os.PathLike[str], text: str, cls: type) -> dict[str, Any]:
    """Parse YAML `text` into settings of the dataclass `cls`: unknown keys and values of the
    wrong type are refused, naming `source`, the key, the expected and the found type."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DynaPoseError(f"invalid YAML ({str(exc).splitlines()[0]})", source) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DynaPoseError(f"a config file must hold a mapping of settings, found "
                            f"{describe(data)}", source)
    fields = field_types(cls)
    unknown = sorted(str(k) for k in data if k not in fields)
    if unknown:
        raise DynaPoseError(f"unknown setting(s) {', '.join(unknown)}", source)
    check_mapping(data, fields, source, "settings")
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
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DynaPoseError(f"unreadable config file ({exc})", path) from exc
    return read_settings(path, text, cls)


def _origin(key: str, source: str | None, origins: dict[str, str | None] | None) -> str | None:
    return (origins or {}).get(key) or source


def check_fields(config: Any, source: str | None = None,
                 origins: dict[str, str | None] | None = None) -> None:
    """Check every field of the dataclass instance `config` against its declared type."""
    for key, tp in field_types(type(config)).items():
        check_value(key, getattr(config, key), tp, _origin(key, source, origins))


def device_checks(device: str, precision: str) -> list[tuple[bool, str, str]]:
    """The checks of the `device` and `precision` settings both schemas hold (the form only:
    whether the device exists is asked where the run happens)."""
    problem = check_device_spec(device)
    return [(problem is None, f"device: {problem}", "device"),
            (precision in PRECISIONS,
             f"precision must be auto, fp32 or bf16, got {precision!r}", "precision")]


#: Settings that say where and how a run computes, not what: a run may resume with them changed
#: (on another device, say; bit-identical weights then hold only up to that device's rounding).
PLACEMENT_SETTINGS = ("device", "compile", "workers", "threads")


def changed_settings(saved: dict[str, Any], config: TrainConfig | LiftConfig) -> list[str]:
    """The settings of `config` that differ from a run's `saved` ones, beside
    :data:`PLACEMENT_SETTINGS`; a setting the saved run predates counts as its default."""
    defaults = type(config)().to_dict()
    return sorted(k for k, v in config.to_dict().items() if k not in PLACEMENT_SETTINGS
                  and saved.get(k, defaults[k]) != v)


def check_settings(checks: list[tuple[bool, str, str]], source: str | None,
                   origins: dict[str, str | None] | None = None) -> None:
    """Raise DynaPoseError with the first problem whose condition is false, naming the file
    its setting (third item) came from."""
    for ok, problem, key in checks:
        if not ok:
            raise DynaPoseError(problem, _origin(key, source, origins))


def _layers(preset_values: dict[str, Any], preset: str | None, config_file: Any, cls: type,
            overrides: dict[str, Any] | None, nested: tuple[str, ...] = ()
            ) -> tuple[dict[str, Any], dict[str, str | None]]:
    """Merge preset, file and overrides: (values, {key: the file it came from}). Keys in
    `nested` hold mappings merged key by key."""
    layers: list[tuple[dict[str, Any], str | None]] = [
        (preset_values, f"preset {preset}" if preset else None)]
    if config_file is not None:
        layers.append((read_settings_file(config_file, cls), os.fspath(config_file)))
    layers.append(({k: v for k, v in (overrides or {}).items() if v is not None}, None))
    values: dict[str, Any] = {}
    origins: dict[str, str | None] = {}
    for layer, source in layers:
        for key, value in layer.items():
            if key in nested and isinstance(value, dict) and isinstance(values.get(key), dict):
                value = {**values[key], **value}
            values[key] = value
            origins[key] = source
    return values, origins


def _construct(cls: type, values: dict[str, Any], origins: dict[str, str | None]) -> Any:
    fields = field_types(cls)
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise DynaPoseError(f"unknown setting(s) {', '.join(unknown)}",
                            origins.get(unknown[0]))
    for key, value in values.items():
        check_value(key, value, fields[key], origins.get(key))
    return cls(**values)


def load_config(
    preset: str | None = "seed",
    config_file: str | os.PathLike[str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> TrainConfig:
    """Merge a preset, an optional YAML file and explicit overrides (None values are ignored).

    Every value is checked against :class:`TrainConfig`'s types, then its ranges, then
    ``model_config`` against the model's own settings; an error names the file the value
    came from."""
    preset_values = read_preset(preset, TrainConfig, preset_names()) if preset else {}
    values, origins = _layers(preset_values, preset, config_file, TrainConfig, overrides,
                              nested=("model_config",))
    config: TrainConfig = _construct(TrainConfig, values, origins)
    return config.validate(None, origins)


@dataclass
class LiftConfig:
    """Everything a lifter training run needs besides its data (presets: configs/lift-*.yaml)."""

    receptive_field: int = 27  # frames: 1, 27, 81 or 243
    frame_stride: int = 1  # the network sees every s-th frame: a window spans (R-1)*s+1 frames
    channels: int = 512
    dropout: float = 0.25
    causal: bool = False
    confidence: bool = False  # a third input value per joint (1.0 for ground-truth 2D)
    epochs: int = 10
    samples_per_epoch: int = 200_000  # random windows per epoch
    batch_size: int = 1024
    lr: float = 1e-3
    lr_end: float = 1e-5  # learning rate at the last step
    schedule: str = "exp"  # exp | cosine: decay from lr to lr_end over all steps
    warmup: float = 0.0  # share of all steps with a linear warm-up
    amsgrad: bool = True
    precision: str = "fp32"  # fp32 | bf16: the training forward/backward under bfloat16 autocast
    bn_momentum: float = 0.1  # BatchNorm momentum at the start ...
    bn_momentum_end: float = 0.01  # ... decayed exponentially to this (VideoPose3D: 0.001)
    train_subjects: list[str] = field(default_factory=lambda: ["S1", "S5", "S6", "S7"])
    val_subjects: list[str] = field(default_factory=lambda: ["S8"])
    flip: float = 0.5  # probability of mirroring a window
    yaw_deg: float = 0.0  # turn each window's person by up to +- this about the vertical axis
    noise_px: float = 0.0  # std of Gaussian noise added to the 2D input, pixels
    jitter_mm: float = 0.0  # std of the per-joint offset applied to the input's 3D only
    bone_scale: float = 0.0  # std of a per-window factor on each bone's length (left = right)
    body_scale: float = 0.0  # std of a per-window factor on every bone (the person's size)
    posture_deg: float = 0.0  # std (degrees, per axis) of a per-window turn of each body part
    user_views: float = 0.0  # share of windows filmed by a camera placed as users film
    # (dynapose.training.views: heights, distances, lenses, roll), not the dataset's own
    recombine: float = 0.0  # share of windows given body parts (legs, an arm, the head) of
    # another window, in the torso's frame (dynapose.training.body_parts.recombine_parts)
    detector_model: float = 0.0  # share of projected windows given a modelled detector's errors
    # (dynapose.training.detector_model); the rest keep the exact projection (+ noise_px)
    keep_feet_on_floor: bool = True  # after scaling, shift the body so its feet touch the floor
    detection_share: float = 1.0  # with detections: share of windows from them (rest: projected)
    detection_errors: float = 0.0  # with detections: share of projected windows given a detector's
    # error (another training window's detected minus projected 2D) on top of their projection
    val_windows: int = 4096  # fixed validation windows scored each epoch
    seed: int = 0
    threads: int = 0  # torch threads; 0 = all cores
    device: str = "auto"  # auto | cpu | cuda | cuda:N (auto: a GPU when there is one)
    compile: bool = False  # torch.compile the model (see README: GPUs)
    checkpoint_every: int = 100  # steps between resumable snapshots (0: epoch ends only)
    preset: str = ""

    def validate(self, source: str | None = None,
                 origins: dict[str, str | None] | None = None) -> LiftConfig:
        """Raise DynaPoseError on values of the wrong type or impossible values; return self
        (the error names the file the value came from, see :meth:`TrainConfig.validate`)."""
        check_fields(self, source, origins)
        augment = ("noise_px", "jitter_mm", "yaw_deg", "bone_scale", "body_scale", "posture_deg")
        both = sorted(set(self.train_subjects) & set(self.val_subjects))
        checks = [
            (self.receptive_field in (1, 27, 81, 243), "receptive_field must be 1, 27, 81 or 243",
             "receptive_field"),
            (self.frame_stride >= 1, "frame_stride must be >= 1", "frame_stride"),
            (self.channels >= 1, "channels must be >= 1", "channels"),
            (self.epochs >= 1, "epochs must be >= 1", "epochs"),
            (self.batch_size >= 1, "batch_size must be >= 1", "batch_size"),
            (self.samples_per_epoch >= self.batch_size, "samples_per_epoch must be >= batch_size",
             "samples_per_epoch"),
            (0 <= self.dropout < 1, "dropout must be in [0, 1)", "dropout"),
            (0 <= self.flip <= 1, "flip must be in [0, 1]", "flip"),
            (0 <= self.detection_share <= 1, "detection_share must be in [0, 1]",
             "detection_share"),
            (0 <= self.detection_errors <= 1, "detection_errors must be in [0, 1]",
             "detection_errors"),
            (0 <= self.user_views <= 1, "user_views must be in [0, 1]", "user_views"),
            (0 <= self.recombine <= 1, "recombine must be in [0, 1]", "recombine"),
            (0 <= self.detector_model <= 1, "detector_model must be in [0, 1]",
             "detector_model"),
            (self.lr > 0, "lr must be > 0", "lr"),
            (0 < self.lr_end <= self.lr, "need 0 < lr_end <= lr", "lr_end"),
            (0 < self.bn_momentum <= 1 and 0 < self.bn_momentum_end <= 1,
             "bn_momentum and bn_momentum_end must be in (0, 1]", "bn_momentum"),
            (self.schedule in ("exp", "cosine"), f"unknown schedule {self.schedule!r}",
             "schedule"),
            *device_checks(self.device, self.precision),
            (0 <= self.warmup < 1, "warmup must be in [0, 1)", "warmup"),
            *((getattr(self, k) >= 0, f"augmentations must be >= 0 ({k})", k) for k in augment),
            (self.threads >= 0, "threads must be >= 0", "threads"),
            (self.checkpoint_every >= 0, "checkpoint_every must be >= 0", "checkpoint_every"),
            (self.val_windows >= 0, "val_windows must be >= 0", "val_windows"),
            (bool(self.train_subjects), "train_subjects is empty", "train_subjects"),
            (not both, f"subjects {both} are in both train_subjects and val_subjects: "
             "validation would score the training data", "val_subjects"),
        ]
        check_settings(checks, source, origins)
        model_keys = ("receptive_field", "frame_stride", "channels", "dropout", "bn_momentum")
        files = [o for k in model_keys if (o := _origin(k, source, origins))]
        check_model_config("lifter", self.model_config(), next(
            (f for f in files if not f.startswith("preset ")), files[0] if files else None))
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def model_config(self) -> dict[str, Any]:
        return {"filter_widths": list(filter_widths_for(self.receptive_field)),
                "channels": self.channels, "dropout": self.dropout, "causal": self.causal,
                "confidence": self.confidence, "bn_momentum": self.bn_momentum,
                "frame_stride": self.frame_stride}


def lift_preset_names() -> list[str]:
    folder = resources.files("dynapose") / "configs"
    return sorted(p.name[:-5] for p in folder.iterdir()
                  if p.name.startswith("lift-") and p.name.endswith(".yaml"))


def load_lift_config(preset: str | None = "lift-h36m",
                     config_file: str | os.PathLike[str] | None = None,
                     overrides: dict[str, Any] | None = None) -> LiftConfig:
    """Merge a lift preset, an optional YAML file and overrides (None values ignored); checked
    as :func:`load_config` checks."""
    preset_values = (read_preset(preset, LiftConfig, lift_preset_names(), "lift")
                     if preset else {})
    values, origins = _layers(preset_values, preset, config_file, LiftConfig, overrides)
    config: LiftConfig = _construct(LiftConfig, values, origins)
    return config.validate(None, origins)
