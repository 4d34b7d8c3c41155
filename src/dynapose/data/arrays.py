"""The report's arrays: X (N, 8, 224, 224, 3) uint8 clips and Y (N, 8, 17, 3) joints in mm.

:func:`import_arrays` converts them to a clip store through memory-mapping, a chunk at a time,
so arrays far larger than RAM convert in bounded memory. Everything is validated before the first
clip is written; a failure leaves no store behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dynapose.data.store import ClipStoreWriter
from dynapose.errors import DynaPoseError
from dynapose.io.npy import load_npy
from dynapose.skeleton import NUM_JOINTS


def _open_npy(path: Path) -> np.ndarray:
    """The array in `path`, memory-mapped; its header checked against the file's size."""
    return load_npy(path, mmap=True)


def validate_arrays(x_path: Path, y_path: Path, chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Open X and Y memory-mapped and check shapes, dtypes and finiteness (Y in chunks)."""
    x, y = _open_npy(x_path), _open_npy(y_path)
    if x.ndim != 5 or x.shape[-1] != 3 or x.shape[2] != x.shape[3]:
        raise DynaPoseError(f"clips must be (N, T, S, S, 3), got shape {x.shape}", x_path)
    if x.dtype != np.uint8:
        raise DynaPoseError(f"clips must be uint8, got {x.dtype}", x_path)
    if y.ndim != 4 or y.shape[1:] != (x.shape[1], NUM_JOINTS, 3):
        raise DynaPoseError(
            f"labels must be (N, {x.shape[1]}, {NUM_JOINTS}, 3), got shape {y.shape}", y_path
        )
    if not np.issubdtype(y.dtype, np.floating):
        raise DynaPoseError(f"labels must be floating point, got {y.dtype}", y_path)
    if len(x) != len(y):
        raise DynaPoseError(f"{len(y)} labels for {len(x)} clips in {x_path}", y_path)
    if len(x) == 0:
        raise DynaPoseError("no clips", x_path)
    for start in range(0, len(y), chunk):
        block = np.asarray(y[start : start + chunk])
        if not np.all(np.isfinite(block)):
            bad = start + int(np.flatnonzero(~np.isfinite(block).reshape(len(block), -1).all(1))[0])
            raise DynaPoseError(f"labels hold NaN or infinite values (clip {bad})", y_path)
    return x, y


def split_assignment(n: int, val_fraction: float, seed: int = 0) -> np.ndarray:
    """'train'/'val' for each of `n` clips: a seeded random `val_fraction` goes to validation."""
    if not 0.0 <= val_fraction < 1.0:
        raise DynaPoseError(f"validation fraction must be in [0, 1), got {val_fraction}")
    splits = np.full(n, "train", dtype=object)
    n_val = round(n * val_fraction)
    splits[np.random.default_rng(seed).permutation(n)[:n_val]] = "val"
    return splits


def import_arrays(
    x_path: str | os.PathLike[str],
    y_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    val_fraction: float = 0.0,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = True,
    block: int = 64,
) -> Path:
    """Convert the report's X/Y arrays to a clip store at `out`. Returns the store path."""
    x_path, y_path = Path(x_path), Path(y_path)
    x, y = validate_arrays(x_path, y_path)
    splits = split_assignment(len(x), val_fraction, seed)
    _, clip_len, size, _, _ = x.shape
    attrs = {"source": "arrays", "x": str(x_path.resolve()), "y": str(y_path.resolve())}
    n = len(x)
    del x, y
    with ClipStoreWriter(out, height=size, width=size, clip_len=clip_len, overwrite=overwrite,
                         attrs=attrs) as writer, tqdm(total=n, desc="import", unit="clip",
                                                      disable=not progress) as bar:
        for start in range(0, n, block):
            # A fresh mapping per block: pages read so far are unmapped with the old one, so
            # resident memory stays at one block however large the arrays are.
            xs = np.array(_open_npy(x_path)[start : start + block])
            ys = np.array(_open_npy(y_path)[start : start + block], dtype=np.float32)
            for i in range(len(xs)):
                writer.add(xs[i], ys[i], split=splits[start + i], source=x_path.name,
                           start=(start + i) * clip_len)
            bar.update(len(xs))
    return Path(out)
