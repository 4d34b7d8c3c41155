from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import make_store
from dynapose.data.dataset import ClipDataset, batch_loader
from dynapose.data.store import ClipStore, ClipStoreWriter, partial_path
from dynapose.errors import DynaPoseError


def _clip(rng: np.random.Generator, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    return (rng.integers(0, 256, (8, size, size, 3), dtype=np.uint8),
            rng.normal(size=(8, 17, 3)).astype(np.float32))


def test_roundtrip_across_chunks(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    clips = [_clip(rng) for _ in range(7)]
    with ClipStoreWriter(tmp_path / "s", height=32, width=32, chunk_clips=3) as w:
        for i, (f, j) in enumerate(clips):
            w.add(f, j, subject="S1", action="walk", split="val" if i == 6 else "train", start=i)
    store = ClipStore(tmp_path / "s")
    assert len(store) == 7 and store.chunks == [3, 3, 1]
    for i, (f, j) in enumerate(clips):
        assert np.array_equal(store.read("frames", i), f)
        assert np.array_equal(store.read("joints3d", i), j)
    assert list(store.indices("val")) == [6]
    assert store.clip(4)["start"] == 4
    assert not partial_path(tmp_path / "s").exists()


def test_dataset_batches_match_store(tiny_store: Path) -> None:
    ds = ClipDataset(tiny_store)
    frames, joints, idx = next(iter(batch_loader(ds, [[3, 0, 7]], workers=1)))
    assert frames.shape == (3, 8, 224, 224, 3) and frames.dtype.is_floating_point is False
    assert idx.tolist() == [3, 0, 7]
    assert np.array_equal(frames[1].numpy(), ds.store.read("frames", 0))
    assert np.array_equal(joints[2].numpy(), ds.store.read("joints3d", 7))


def test_interrupted_write_is_refused_then_resumed(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    clips = [_clip(rng) for _ in range(5)]
    path = tmp_path / "s"
    with pytest.raises(KeyboardInterrupt), ClipStoreWriter(path, height=32, width=32,
                                                           chunk_clips=2) as w:
        for f, j in clips[:3]:
            w.add(f, j)
        raise KeyboardInterrupt
    assert not path.exists()
    with pytest.raises(DynaPoseError, match="incomplete"):
        ClipStore(path)
    with ClipStoreWriter(path, height=32, width=32, chunk_clips=2, resume=True) as w:
        assert w.num_committed == 2  # the third clip was never flushed
        for f, j in clips[w.num_committed :]:
            w.add(f, j)
    store = ClipStore(path)
    assert len(store) == 5
    assert all(np.array_equal(store.read("frames", i), clips[i][0]) for i in range(5))


def test_bad_clips_leave_nothing(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    f, j = _clip(rng)
    cases = [
        (f.astype(np.float32), j, "uint8"),
        (f[:, :16], j, "shape"),
        (f, np.full_like(j, np.nan), "NaN"),
        (f, j[:, :16], "shape"),
    ]
    for frames, joints, message in cases:
        path = tmp_path / "bad"
        with pytest.raises(DynaPoseError, match=message), ClipStoreWriter(path, height=32,
                                                                          width=32) as w:
            w.add(f, j)
            w.add(frames, joints)
        assert not path.exists() and not partial_path(path).exists()
    with pytest.raises(DynaPoseError, match="split"), ClipStoreWriter(
        tmp_path / "b2", height=32, width=32
    ) as w:
        w.add(f, j, split="holdout")
    with pytest.raises(DynaPoseError, match="empty"), ClipStoreWriter(tmp_path / "b3",
                                                                      height=32, width=32):
        pass


def test_truncated_and_missing_stores(tmp_path: Path) -> None:
    path = make_store(tmp_path / "s", n=4, size=32)
    with pytest.raises(DynaPoseError, match="not found"):
        ClipStore(tmp_path / "nope")
    chunk = path / "frames-00000.u8"
    chunk.write_bytes(chunk.read_bytes()[:-10])
    with pytest.raises(DynaPoseError, match="truncated") as info:
        ClipStore(path)
    assert "frames-00000.u8" in str(info.value)
    (path / "manifest.json").unlink()
    with pytest.raises(DynaPoseError, match="manifest"):
        ClipStore(path)


def test_existing_store_is_kept_unless_overwrite(tmp_path: Path) -> None:
    path = make_store(tmp_path / "s", n=3, size=32)
    before = json.loads((path / "manifest.json").read_text())
    with pytest.raises(DynaPoseError, match="already exists"):
        ClipStoreWriter(path, height=32, width=32)
    # A failing overwrite leaves the old store intact.
    with pytest.raises(DynaPoseError), ClipStoreWriter(path, height=32, width=32,
                                                       overwrite=True) as w:
        w.add(np.zeros((8, 32, 32, 3), np.uint8), np.full((8, 17, 3), np.inf, np.float32))
    assert json.loads((path / "manifest.json").read_text()) == before
    with ClipStoreWriter(path, height=32, width=32, overwrite=True) as w:
        w.add(np.zeros((8, 32, 32, 3), np.uint8), np.zeros((8, 17, 3), np.float32))
    assert len(ClipStore(path)) == 1


def test_impossible_geometry(tmp_path: Path) -> None:
    with pytest.raises(DynaPoseError, match="impossible"):
        ClipStoreWriter(tmp_path / "s", height=0, width=32)
