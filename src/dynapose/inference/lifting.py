"""Running a lifter: load it, lift a normalised 2D sequence to root-relative 3D (mm), lift a
keypoint file; the lifter shipped in the package.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from dynapose.camera import normalize_screen
from dynapose.data.keypoints import (
    fill_gaps,
    from_array,
    load_keypoint_array,
)
from dynapose.device import out_of_memory, resolve_device
from dynapose.errors import DynaPoseError
from dynapose.io.checkpoint import load_checkpoint, resolve_checkpoint
from dynapose.models.lifter import TemporalLifter, flip_keypoints
from dynapose.skeleton import flip_permutation


def default_lifter_path() -> Path:
    """The lifter shipped in the package: ``dynapose/weights/lifter-synth`` (a checkpoint folder:
    model.safetensors + config.json)."""
    return Path(__file__).resolve().parents[1] / "weights" / "lifter-synth"


def load_default_lifter() -> TemporalLifter:
    """The shipped lifter; DynaPoseError when this install has none."""

    path = default_lifter_path()
    if not (path / "model.safetensors").is_file() or not (path / "config.json").is_file():
        raise DynaPoseError("no default lifter in this install (model.safetensors + config.json "
                            "expected): pass a lifter checkpoint with --lifter PATH", path)
    return load_lifter(path)


def load_lifter(checkpoint: str | os.PathLike[str] | TemporalLifter,
                device: str | torch.device | None = None) -> TemporalLifter:
    """A lifter in eval mode from a run or checkpoint folder (or the model itself), moved to
    `device` (a spec of :func:`dynapose.device.resolve_device`; None: where it is)."""
    if isinstance(checkpoint, TemporalLifter):
        model = checkpoint.eval()
    else:
        loaded, config = load_checkpoint(checkpoint)
        if not isinstance(loaded, TemporalLifter):
            raise DynaPoseError(f"checkpoint holds model {config['model']['name']!r}, not a "
                                "lifter", resolve_checkpoint(checkpoint))
        model = loaded
    return model if device is None else model.to(resolve_device(device))


@torch.no_grad()
def lift_sequence(model: TemporalLifter, keypoints: np.ndarray | torch.Tensor,
                  confidences: np.ndarray | torch.Tensor | None = None,
                  flip_tta: bool = False) -> np.ndarray:
    """Normalised 2D (T, 17, 2) [+ confidences (T, 17)] -> (T, 17, 3) mm root-relative camera
    frame, every frame (edges padded). `flip_tta` averages with the mirrored input's mirrored
    prediction. Runs on the model's device."""
    model.eval()
    device = next(model.parameters()).device
    x = torch.as_tensor(np.asarray(keypoints, dtype=np.float32), device=device)[None]
    c = None if confidences is None else torch.as_tensor(
        np.asarray(confidences, dtype=np.float32), device=device)[None]
    with out_of_memory(device, f"lifting {x.shape[1]} frames", hint="sequence"):
        pred = model.forward_sequence(x, c)
        if flip_tta:
            perm = torch.as_tensor(flip_permutation(), device=device)
            cf = None if c is None else c[:, :, perm]
            pred = 0.5 * (pred + flip_keypoints(model.forward_sequence(flip_keypoints(x), cf)))
    return pred[0].double().cpu().numpy()


def read_keypoints(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """2D keypoints from a ``.npy`` array or an ``.npz`` with a ``keypoints`` entry, shaped
    (T, 17, 2) pixels or (T, 17, 3) with a confidence last. Returns (px float64 (T, 17, 2),
    confidences (T, 17) or None). A frame that is entirely NaN is a gap (no person; it stays
    NaN); wrong shapes, partly NaN frames and infinite values are refused. For the other formats
    (COCO JSON, VideoPose3D npz) see :func:`dynapose.data.keypoints.read_keypoints_file`."""

    array = load_keypoint_array(path)
    kp = from_array(array, path)
    return kp.pixels, (kp.confidence if array.shape[-1] == 3 else None)


def lift_file(checkpoint: str | os.PathLike[str] | TemporalLifter,
              keypoints: str | os.PathLike[str], width: int, height: int,
              flip_tta: bool = True) -> np.ndarray:
    """Lift a keypoint file (see :func:`read_keypoints`; pixels of a `width` x `height` image)
    -> (T, 17, 3) mm, root-relative camera frame. Gap frames (all NaN) are filled for the
    network's input (:func:`dynapose.data.keypoints.fill_gaps`) and come back NaN."""

    px, conf = read_keypoints(keypoints)
    found = ~np.isnan(px).all(axis=(1, 2))
    if not found.any():
        raise DynaPoseError("keypoints are NaN in every frame (no person anywhere)", keypoints)
    model = load_lifter(checkpoint)
    if not model.config["confidence"]:
        conf = None
    elif conf is not None:
        conf = fill_gaps(conf, found)
    out = lift_sequence(model, normalize_screen(fill_gaps(px, found), width, height), conf,
                        flip_tta=flip_tta)
    out[~found] = np.nan
    return out
