from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from dynapose.cli import main
from dynapose.data.store import ClipStore, partial_path


def _arrays(tmp_path: Path, n: int = 10, size: int = 32) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 8, size, size, 3), dtype=np.uint8)
    y = rng.normal(0, 200, (n, 8, 17, 3))
    np.save(tmp_path / "X.npy", x)
    np.save(tmp_path / "Y.npy", y)
    return tmp_path / "X.npy", tmp_path / "Y.npy"


def test_import_arrays_roundtrip_with_validation_split(tmp_path: Path) -> None:
    x, y = _arrays(tmp_path)
    out = tmp_path / "store"
    result = CliRunner().invoke(main, ["import-arrays", str(x), str(y), "--out", str(out),
                                       "--val-fraction", "0.3"])
    assert result.exit_code == 0, result.output
    assert "7 train, 3 val" in result.output
    store = ClipStore(out)
    xs, ys = np.load(x), np.load(y)
    for i in range(10):
        assert np.array_equal(store.read("frames", i), xs[i])
        assert np.allclose(store.read("joints3d", i), ys[i].astype(np.float32))


@pytest.mark.parametrize(
    ("mutate", "message", "culprit"),
    [
        (lambda x, y: (x.astype(np.float32), y), "uint8", "X.npy"),
        (lambda x, y: (x[:, :, :16], y), "shape", "X.npy"),
        (lambda x, y: (x, y[:, :, :16]), "shape", "Y.npy"),
        (lambda x, y: (x, np.where(np.arange(y.size).reshape(y.shape) == 500, np.nan, y)),
         "NaN", "Y.npy"),
        (lambda x, y: (x, y[:-1]), "labels for", "Y.npy"),
    ],
)
def test_bad_arrays_give_one_line_errors(tmp_path: Path, mutate, message, culprit) -> None:
    x, y = _arrays(tmp_path)
    bx, by = mutate(np.load(x), np.load(y))
    np.save(x, bx)
    np.save(y, by)
    out = tmp_path / "store"
    result = CliRunner().invoke(main, ["import-arrays", str(x), str(y), "--out", str(out)])
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and message in line and culprit in line
    assert not out.exists() and not partial_path(out).exists()


def test_missing_and_non_npy_files(tmp_path: Path) -> None:
    x, y = _arrays(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["import-arrays", str(tmp_path / "nope.npy"), str(y), "-o",
                                  str(tmp_path / "s")])
    assert result.exit_code == 2 and "nope.npy: file not found" in result.output
    x.write_bytes(b"not numpy at all")
    result = runner.invoke(main, ["import-arrays", str(x), str(y), "-o", str(tmp_path / "s")])
    assert result.exit_code == 2 and "X.npy" in result.output
