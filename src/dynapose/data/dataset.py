"""PyTorch access to a clip store: batches read straight from disk, in worker processes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from dynapose.data.store import ClipStore


class ClipDataset(Dataset):
    """Clips of a store as ``(frames uint8 (T,H,W,3), joints3d float32 (T,17,3) mm, index)``.

    Indexing by a list of clip indices (what the loader's batch sampler does) reads each clip
    straight into one preallocated batch array, so a batch costs one copy from the page cache.
    """

    def __init__(self, store: ClipStore | str | os.PathLike[str]) -> None:
        self.store = store if isinstance(store, ClipStore) else ClipStore(store)

    def __len__(self) -> int:
        return len(self.store)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        s = self.store
        return (torch.from_numpy(s.read("frames", index)),
                torch.from_numpy(s.read("joints3d", index)), int(index))

    def __getitems__(
        self, indices: Sequence[int]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        s = self.store
        n = len(indices)
        frames = torch.empty((n, *s.specs["frames"].tail), dtype=torch.uint8)
        joints = torch.empty((n, *s.specs["joints3d"].tail), dtype=torch.float32)
        frames_np, joints_np = frames.numpy(), joints.numpy()
        for row, index in enumerate(indices):
            s.read_into("frames", int(index), frames_np[row])
            s.read_into("joints3d", int(index), joints_np[row])
        return frames, joints, torch.as_tensor(np.asarray(indices, dtype=np.int64))


def _already_batched(batch: Any) -> Any:
    return batch


def batch_loader(
    dataset: ClipDataset, batches: Sequence[Sequence[int] | np.ndarray], workers: int = 1,
    pin_memory: bool = False,
) -> DataLoader:
    """A loader yielding ``(frames, joints3d, indices)`` for the given batches of clip indices
    (lists or 1-D integer arrays). `pin_memory`: batches in page-locked memory, for
    asynchronous copies to a GPU."""
    return DataLoader(
        dataset,
        batch_sampler=[list(b) for b in batches],  # type: ignore[arg-type]
        num_workers=workers,
        collate_fn=_already_batched,
        prefetch_factor=2 if workers > 0 else None,
        pin_memory=pin_memory,
    )
