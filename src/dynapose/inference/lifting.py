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
from dynapose.timeline import interpolate


def default_lifter_path() -> Path:
    """The lifter shipped in the package: ``dynapose/weights/lifter-cmu`` (a checkpoint folder:
    model.safetensors + config.json), trained on CMU motion capture and procedural motion (the
    ``lift-cmu`` preset; no Human3.6M poses)."""
    return Path(__file__).resolve().parents[1] / "weights" / "lifter-cmu"


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


#: The frame rate lifters learn at: every motion source DynaPose trains them on (Human3.6M, CMU
#: motion capture, procedural motion) is at 50 frames/s, so a window of R frames at stride s
#: always spans (R - 1) * s / 50 seconds.
LIFTER_FPS = 50.0


def lifter_grid(times: np.ndarray, fps: float = LIFTER_FPS) -> np.ndarray:
    """Evenly spaced times (s) at `fps` from the first of `times` to (about) the last."""
    t = np.asarray(times, dtype=np.float64)
    return t[0] + np.arange(round(float(t[-1] - t[0]) * fps) + 1) / fps


@torch.no_grad()
def lift_sequence(model: TemporalLifter, keypoints: np.ndarray | torch.Tensor,
                  confidences: np.ndarray | torch.Tensor | None = None,
                  flip_tta: bool = False, times: np.ndarray | None = None) -> np.ndarray:
    """Normalised 2D (T, 17, 2) [+ confidences (T, 17)] -> (T, 17, 3) mm root-relative camera
    frame, every frame (edges padded). `flip_tta` averages with the mirrored input's mirrored
    prediction. Runs on the model's device.

    `times`: each frame's time (s, from the video's timestamps). The 2D is then resampled to
    :data:`LIFTER_FPS` before lifting and the joints back to the frames' times, so the network
    sees motion at the speed it learned (a 25 fps video otherwise moves twice as fast per frame,
    and a variable frame rate unevenly); given at 50 fps already, it is lifted as it is.
    """
    if times is not None and len(times) == len(keypoints):
        grid = lifter_grid(times)
        if len(grid) != len(times) or not np.allclose(grid, times, atol=2e-3):
            kp = interpolate(np.asarray(keypoints), times, grid)
            conf = None if confidences is None else interpolate(np.asarray(confidences), times,
                                                                 grid)
            return interpolate(lift_sequence(model, kp, conf, flip_tta), grid, np.asarray(times))
    model.eval()
    device = next(model.parameters()).device
    x = torch.as_tensor(np.asarray(keypoints, dtype=np.float32), device=device)[None]
    c = None if confidences is None else torch.as_tensor(
        np.asarray(confidences, dtype=np.float32), device=device)[None]
    with out_of_memory(device, f"lifting {x.shape[1]} frames", hint="sequence"):
        pred = _in_chunks(model, x, c)
        if flip_tta:
            perm = torch.as_tensor(flip_permutation(), device=device)
            cf = None if c is None else c[:, :, perm]
            pred = 0.5 * (pred + flip_keypoints(_in_chunks(model, flip_keypoints(x), cf)))
    return pred[0].double().cpu().numpy()


#: Longest stretch of frames lifted in one pass of the network: a longer sequence is lifted in
#: pieces this long, each given the frames around it that its receptive field sees, so the
#: result is the same and the memory of the network's activations does not grow with the
#: video (a 10-minute video at 50 frames/s is 30,000 frames).
CHUNK_FRAMES = 8192


def _in_chunks(model: TemporalLifter, x: torch.Tensor, c: torch.Tensor | None,
               chunk: int = CHUNK_FRAMES) -> torch.Tensor:
    """``model.forward_sequence(x, c)`` (edges padded) computed `chunk` frames at a time."""
    frames = x.shape[1]
    if frames <= chunk:
        return model.forward_sequence(x, c)
    before, after = model.pad

    def padded(t: torch.Tensor) -> torch.Tensor:
        return torch.cat([t[:, :1].expand(-1, before, *t.shape[2:]), t,
                          t[:, -1:].expand(-1, after, *t.shape[2:])], dim=1)

    xp = padded(x)
    cp = None if c is None else padded(c)
    pieces = []
    for a in range(0, frames, chunk):
        b = min(frames, a + chunk)
        pieces.append(model.forward_sequence(
            xp[:, a : b + before + after], None if cp is None else cp[:, a : b + before + after],
            pad=False))
    return torch.cat(pieces, dim=1)


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
              flip_tta: bool = True, fps: float | None = None) -> np.ndarray:
    """Lift a keypoint file (see :func:`read_keypoints`; pixels of a `width` x `height` image)
    -> (T, 17, 3) mm, root-relative camera frame. Gap frames (all NaN) are filled for the
    network's input (:func:`dynapose.data.keypoints.fill_gaps`) and come back NaN. `fps`: the
    keypoints' frame rate, resampled as :func:`lift_sequence` does (None: lifted as given)."""

    px, conf = read_keypoints(keypoints)
    found = ~np.isnan(px).all(axis=(1, 2))
    if not found.any():
        raise DynaPoseError("keypoints are NaN in every frame (no person anywhere)", keypoints)
    model = load_lifter(checkpoint)
    if not model.config["confidence"]:
        conf = None
    elif conf is not None:
        conf = fill_gaps(conf, found)
    times = None if fps is None else np.arange(len(px)) / fps
    out = lift_sequence(model, normalize_screen(fill_gaps(px, found), width, height), conf,
                        flip_tta=flip_tta, times=times)
    out[~found] = np.nan
    return out
