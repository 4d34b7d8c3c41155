"""Shared test helpers: tiny clip stores written through the real writer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

# Keep tests light on the 2-core machines they run on.
os.environ.setdefault("OMP_NUM_THREADS", "2")

SHARED = Path(__file__).resolve().parents[2] / "shared"


def make_store(
    path: Path,
    n: int = 12,
    size: int = 224,
    splits: tuple[str, ...] = ("train", "train", "val"),
    seed: int = 0,
    chunk_clips: int = 5,
) -> Path:
    """A store of `n` random clips whose labels depend on the frames (so a model can learn)."""
    from dynapose.data.store import ClipStoreWriter

    rng = np.random.default_rng(seed)
    base = rng.normal(0, 300, size=(17, 3)).astype(np.float32) + np.float32([0, 0, 4000])
    with ClipStoreWriter(path, height=size, width=size, chunk_clips=chunk_clips) as w:
        for i in range(n):
            frames = rng.integers(0, 256, size=(8, size, size, 3), dtype=np.uint8)
            joints = base + frames.mean(axis=(1, 2, 3))[:, None, None].astype(np.float32)
            w.add(frames, joints, subject=f"S{i % 2}", action=("walk", "run")[(i // 3) % 2],
                  camera="c1", start=8 * i, split=splits[i % len(splits)], source="test")
    return path


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Torch on one thread for the test (small lifter tests run faster so on 2 cores)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny_store(tmp_path: Path) -> Path:
    return make_store(tmp_path / "store")


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test when the shared data is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not present here: {path}")
    return path
