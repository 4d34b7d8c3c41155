"""Helpers for the predict/export/viewer tests: a real seed checkpoint and small real videos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

#: The seed model's smallest valid input side (its five strided convolutions need >= 193).
SIZE = 193


def make_checkpoint(path: Path, size: int = SIZE, seed: int = 0) -> Path:
    """A seed checkpoint (random weights) whose outputs look like joints: about 5 m ahead."""
    from dynapose.io.checkpoint import save_checkpoint
    from dynapose.models import build_model

    torch.manual_seed(seed)
    model = build_model("seed", input_size=size)
    with torch.no_grad():  # joints ~5 m in front of the camera, spread ~0.3 m, input-dependent
        pose = torch.randn(17, 3) * 300 + torch.tensor([0.0, 0.0, 5000.0])
        model.dense2.bias.copy_(pose.reshape(-1))
        model.dense2.weight.mul_(200.0)
    return save_checkpoint(path, model)


def frames(n: int = 20, height: int = 96, width: int = 128, seed: int = 0) -> np.ndarray:
    """(n, H, W, 3) uint8: a bright block moving across a noisy gradient (changes every frame)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx * 255 // width, yy * 255 // height, np.full_like(xx, 80)], -1)
    out = np.empty((n, height, width, 3), dtype=np.uint8)
    for i in range(n):
        img = base + rng.integers(0, 20, base.shape)
        x = (i * 5) % (width - 20)
        img[height // 4 : 3 * height // 4, x : x + 20] = (230, 200, 170)
        out[i] = np.clip(img, 0, 255)
    return out


def make_video(path: Path, n: int = 20, height: int = 96, width: int = 128, fps: float = 25.0,
               seed: int = 0) -> Path:
    """Encode `frames(...)` as a real video (codec by suffix, see dynapose.io.video)."""
    from dynapose.io.video import write_test_video

    return write_test_video(path, frames(n, height, width, seed), fps=fps)


def leftovers(folder: Path) -> list[str]:
    """Names of hidden temporary/partial files or folders left in `folder`."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
